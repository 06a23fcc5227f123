/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_steer.c: destination-only RSS and its description for control (see
 * dp_steer.h). Setup path.
 */
#include <errno.h>
#include <string.h>

#include "dp_steer.h"

const uint8_t dp_steer_key[RTPB_STEER_KEY_MAX] = RTPB_STEER_KEY_INIT;

/* The key length a PMD takes: its own size, 40 if it does not say. */
static uint8_t
steer_key_len(const struct rte_eth_dev_info *info)
{
	return info->hash_key_size != 0 ? info->hash_key_size : 40;
}

enum rtpb_steer_mode
dp_steer_rss_conf(const struct rte_eth_dev_info *info, uint16_t nq,
		  struct rte_eth_rss_conf *rss, const char **why)
{
	const uint64_t dst = RTE_ETH_RSS_L3_DST_ONLY | RTE_ETH_RSS_L4_DST_ONLY;
	uint64_t have = info->flow_type_rss_offloads;

	memset(rss, 0, sizeof(*rss));
	*why = NULL;
	rss->rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & have;
	if (nq < 2)
		*why = "one queue";
	else if (!(have & RTE_ETH_RSS_NONFRAG_IPV4_UDP))
		*why = "no RSS on IPv4 UDP";
	else if ((have & dst) != dst)
		*why = "no destination-only RSS (RTE_ETH_RSS_L3_DST_ONLY, _L4_DST_ONLY)";
	else if (info->reta_size == 0 || info->reta_size > RTPB_STEER_RETA_MAX)
		*why = "no RETA of a size the shared memory holds";
	else if (steer_key_len(info) < 24 || steer_key_len(info) > RTPB_STEER_KEY_MAX)
		*why = "an RSS key of an unknown size";
	if (*why != NULL)
		return RTPB_STEER_NONE;
	rss->rss_hf = ((RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_NONFRAG_IPV6_UDP) & have) | dst;
	rss->rss_key = (uint8_t *)(uintptr_t)dp_steer_key;
	rss->rss_key_len = steer_key_len(info);
	return RTPB_STEER_RSS_DST;
}

int
dp_steer_publish(uint16_t port, const struct rte_eth_dev_info *info, uint16_t nq,
		 struct rtpb_steer *st)
{
	struct rte_eth_rss_reta_entry64 reta[RTPB_STEER_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t size = info->reta_size, i;
	int r;

	memset(st, 0, sizeof(*st));
	if (size == 0 || size > RTPB_STEER_RETA_MAX || nq == 0)
		return -EINVAL;
	memset(reta, 0, sizeof(reta));
	for (i = 0; i < size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = i % nq;
	}
	r = rte_eth_dev_rss_reta_update(port, reta, size);
	if (r != 0)
		return r;
	st->key_len = steer_key_len(info);
	memcpy(st->key, dp_steer_key, sizeof(st->key));
	st->reta_size = size;
	for (i = 0; i < size; i++)
		st->reta[i] = (uint8_t)(i % nq);
	st->mode = RTPB_STEER_RSS_DST;
	return 0;
}
