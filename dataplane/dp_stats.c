/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stats.c: telemetry over the per-lcore counters in shared memory.
 * Runs in DPDK's telemetry thread; reads counters written by the lcores
 * (64-bit loads, a moment old at worst).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_telemetry.h>

#include "dp_ctx.h"
#include "dp_stats.h"

static const char *const drop_names[] = {
#define DROP_NAME(e, n, d) n,
	RTPB_FOREACH_DROP(DROP_NAME)
#undef DROP_NAME
};

void
dp_stats_sum(struct rtpb_lcore_stats *sum)
{
	uint32_t i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i <= dp_ctx.n_workers; i++)
		rtpb_lcore_stats_add(sum, rtpb_shm_lcore_stats(dp_ctx.shm, i));
}

static void
stats_to_dict(struct rte_tel_data *d, const struct rtpb_lcore_stats *s)
{
	int i;

#define STAT(f) rte_tel_data_add_dict_u64(d, #f, s->f)
	STAT(rx_pkts); STAT(rx_bytes); STAT(tx_pkts); STAT(tx_bytes);
	STAT(relayed); STAT(handoff_out); STAT(slowpath_out);
	STAT(arp_replies); STAT(arp_requests); STAT(ctl_msgs);
	STAT(ctl_errors); STAT(events_lost); STAT(latches);
	STAT(busy_cycles); STAT(total_cycles);
#undef STAT
	for (i = 0; i < RTPB_DROP__COUNT; i++) {
		char name[64];

		snprintf(name, sizeof(name), "drop_%s", drop_names[i]);
		rte_tel_data_add_dict_u64(d, name, s->drops[i]);
	}
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rtpb_lcore_stats sum;

	(void)cmd;
	(void)params;
	if (dp_ctx.shm == NULL)
		return -EAGAIN;
	dp_stats_sum(&sum);
	rte_tel_data_start_dict(d);
	stats_to_dict(d, &sum);
	rte_tel_data_add_dict_u64(d, "n_workers", dp_ctx.n_workers);
	return 0;
}

static int
tel_lcore(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned long idx;
	char *end;

	(void)cmd;
	if (dp_ctx.shm == NULL || params == NULL)
		return -EINVAL;
	idx = strtoul(params, &end, 10);
	if (*end != '\0' || idx > dp_ctx.n_workers)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	stats_to_dict(d, rtpb_shm_lcore_stats(dp_ctx.shm, (uint32_t)idx));
	return 0;
}

static int
tel_neigh(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint32_t i, n = 0;

	(void)cmd;
	(void)params;
	if (dp_ctx.neigh == NULL)
		return -EAGAIN;
	rte_tel_data_start_dict(d);
	for (i = 0; i < DP_NEIGH_SIZE && n < 64; i++) {
		const struct dp_neigh_entry *e = &dp_ctx.neigh->e[i];
		uint32_t ip = atomic_load(&e->ip);
		uint64_t mac = atomic_load(&e->mac);
		uint8_t *b = (uint8_t *)&ip, *mb = (uint8_t *)&mac;
		char k[32], v[32];

		if (ip == 0)
			continue;
		snprintf(k, sizeof(k), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		if (mac & DP_NEIGH_VALID)
			snprintf(v, sizeof(v), "%02x:%02x:%02x:%02x:%02x:%02x",
				 mb[0], mb[1], mb[2], mb[3], mb[4], mb[5]);
		else
			snprintf(v, sizeof(v), "incomplete");
		rte_tel_data_add_dict_string(d, k, v);
		n++;
	}
	return 0;
}

int
dp_stats_telemetry_init(void)
{
	int r;

	r = rte_telemetry_register_cmd("/rtpbypass/stats", tel_stats,
		"Counters summed over lcores, drops by reason. No parameters");
	if (r == 0)
		r = rte_telemetry_register_cmd("/rtpbypass/lcore", tel_lcore,
			"Counters of one lcore. Parameters: int lcore index (workers, then main)");
	if (r == 0)
		r = rte_telemetry_register_cmd("/rtpbypass/neigh", tel_neigh,
			"Neighbour cache (first 64). No parameters");
	return r;
}
