/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_steer.c: destination-only RSS and its description for control (see
 * dp_steer.h). Setup path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "dp_steer.h"

/* The kernel's ETH_RSS_HASH_TOP (ETH_RSS_HASH_TOP_BIT 0, include/linux/
 * ethtool.h; not in the uapi header): the Toeplitz function. */
#define DP_RSS_HASH_TOP (1u << 0)

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

int
dp_steer_from_kernel(uint64_t udp4_fields, uint32_t hfunc, const uint32_t *indir,
		     uint32_t indir_size, const uint8_t *key, uint32_t key_size,
		     uint32_t start_queue, uint16_t nq, struct rtpb_steer *st,
		     const char **why)
{
	uint32_t i;

	memset(st, 0, sizeof(*st));
	*why = NULL;
	if (udp4_fields != (RXH_IP_DST | RXH_L4_B_2_3))
		*why = "IPv4 UDP is not hashed on the destination only (ethtool -N IFACE "
		       "rx-flow-hash udp4 dn)";
	else if (hfunc != 0 && hfunc != DP_RSS_HASH_TOP)
		*why = "the RSS function is not Toeplitz (ethtool -X IFACE hfunc toeplitz)";
	else if (indir_size == 0 || indir_size > RTPB_STEER_RETA_MAX)
		*why = "no indirection table of a size the shared memory holds";
	else if (key_size < 24 || key_size > RTPB_STEER_KEY_MAX)
		*why = "an RSS key of an unknown size";
	else if (nq == 0)
		*why = "no queue";
	for (i = 0; *why == NULL && i < indir_size; i++)
		if (indir[i] < start_queue || indir[i] - start_queue >= nq)
			*why = "the indirection table names queues the AF_XDP sockets are not "
			       "bound to (ethtool -X IFACE equal N, or start_queue/queue_count)";
	if (*why != NULL)
		return -EINVAL;
	for (i = 0; i < indir_size; i++)
		st->reta[i] = (uint8_t)(indir[i] - start_queue);
	memcpy(st->key, key, key_size);
	st->key_len = key_size;
	st->reta_size = indir_size;
	st->mode = RTPB_STEER_RSS_DST;
	return 0;
}

/* One SIOCETHTOOL request on iface. @return 0 or -errno. */
static int
steer_ethtool(int fd, const char *iface, void *cmd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr) == 0 ? 0 : -errno;
}

int
dp_steer_af_xdp(const char *iface, uint32_t start_queue, uint16_t nq,
		struct rtpb_steer *st, const char **why)
{
	struct ethtool_rxnfc fh = {.cmd = ETHTOOL_GRXFH, .flow_type = UDP_V4_FLOW};
	struct ethtool_rxfh sz = {.cmd = ETHTOOL_GRSSH}, *rx = NULL;
	int fd, r;

	memset(st, 0, sizeof(*st));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		*why = "socket() for SIOCETHTOOL";
		return -errno;
	}
	r = steer_ethtool(fd, iface, &fh);
	if (r != 0) {
		*why = "ETHTOOL_GRXFH (the UDP flow hash fields)";
		goto out;
	}
	r = steer_ethtool(fd, iface, &sz);
	if (r != 0) {
		*why = "ETHTOOL_GRSSH (the indirection table and key)";
		goto out;
	}
	if (sz.indir_size > RTPB_STEER_RETA_MAX || sz.key_size > RTPB_STEER_KEY_MAX) {
		*why = "an indirection table or key larger than the shared memory holds";
		r = -EINVAL;
		goto out;
	}
	rx = calloc(1, sizeof(*rx) + sz.indir_size * sizeof(uint32_t) + sz.key_size);
	if (rx == NULL) {
		*why = "memory for the indirection table";
		r = -ENOMEM;
		goto out;
	}
	rx->cmd = ETHTOOL_GRSSH;
	rx->indir_size = sz.indir_size;
	rx->key_size = sz.key_size;
	r = steer_ethtool(fd, iface, rx);
	if (r != 0) {
		*why = "ETHTOOL_GRSSH (the indirection table and key)";
		goto out;
	}
	r = dp_steer_from_kernel(fh.data, rx->hfunc, rx->rss_config, rx->indir_size,
				 (const uint8_t *)(rx->rss_config + rx->indir_size),
				 rx->key_size, start_queue, nq, st, why);
out:
	free(rx);
	close(fd);
	return r;
}
