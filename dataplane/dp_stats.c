/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stats.c: telemetry over the per-lcore counters in shared memory.
 * Runs in DPDK's telemetry thread; reads counters written by the lcores
 * (64-bit loads, a moment old at worst).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_telemetry.h>

#include "dp_ctx.h"
#include "dp_stats.h"

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
	unsigned int i;

#define STAT(f, descr) rte_tel_data_add_dict_u64(d, #f, s->f);
	RTPB_FOREACH_LCORE_CTR(STAT)
#undef STAT
	for (i = RTPB_DROP_NONE + 1; i < RTPB_DROP__COUNT; i++) {
		char name[64];

		snprintf(name, sizeof(name), "drop_%s", rtpb_drop_name(i));
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
	/* dp_health.c: stalls seen, and workers stalled now */
	rte_tel_data_add_dict_u64(d, "worker_stalls",
				  atomic_load(&dp_ctx.shm->worker_stalls));
	rte_tel_data_add_dict_u64(d, "workers_stalled", (uint64_t)__builtin_popcount(
		atomic_load(&dp_ctx.shm->workers_stalled)));
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

/* One neighbour as "IP MAC" (or "IP incomplete") into array a. Telemetry
 * dict keys allow only [A-Za-z0-9_/], so addresses are values. */
static void
neigh_to_array(struct rte_tel_data *a, int af, const void *ip,
	       const struct dp_neigh_state *st)
{
	struct rte_ether_addr mac;
	char k[INET6_ADDRSTRLEN], v[RTE_ETHER_ADDR_FMT_SIZE], line[96];

	inet_ntop(af, ip, k, sizeof(k));
	if (dp_neigh_state_mac(st, &mac))
		rte_ether_format_addr(v, sizeof(v), &mac);
	else
		snprintf(v, sizeof(v), "incomplete");
	snprintf(line, sizeof(line), "%s %s", k, v);
	rte_tel_data_add_array_string(a, line);
}

/* The first DP_TEL_NEIGH_MAX entries of each family (a telemetry reply
 * is bounded). */
#define DP_TEL_NEIGH_MAX 64

/* /rtpbypass/neigh: {"ipv4": ["IP MAC", ...], "ipv6": [...]}. */
static int
tel_neigh(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *v4, *v6;
	uint32_t i, n;

	(void)cmd;
	(void)params;
	if (dp_ctx.neigh == NULL)
		return -EAGAIN;
	v4 = rte_tel_data_alloc();
	v6 = rte_tel_data_alloc();
	if (v4 == NULL || v6 == NULL) {
		rte_tel_data_free(v4);
		rte_tel_data_free(v6);
		return -ENOMEM;
	}
	rte_tel_data_start_array(v4, RTE_TEL_STRING_VAL);
	rte_tel_data_start_array(v6, RTE_TEL_STRING_VAL);
	for (i = 0, n = 0; i < DP_NEIGH_SIZE && n < DP_TEL_NEIGH_MAX; i++) {
		const struct dp_neigh_entry *e = &dp_ctx.neigh->e[i];
		uint32_t ip = atomic_load_explicit(&e->ip, memory_order_acquire);

		if (ip == 0 || ip == DP_NEIGH_GONE)
			continue;
		neigh_to_array(v4, AF_INET, &ip, &e->st);
		n++;
	}
	for (i = 0, n = 0; i < DP_NEIGH6_SIZE && n < DP_TEL_NEIGH_MAX; i++) {
		const struct dp_neigh6_entry *e = &dp_ctx.neigh->e6[i];

		if (!(atomic_load_explicit(&e->gen, memory_order_acquire) & 1))
			continue;
		neigh_to_array(v6, AF_INET6, e->ip, &e->st);
		n++;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_container(d, "ipv4", v4, 0);
	rte_tel_data_add_dict_container(d, "ipv6", v6, 0);
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
			"Neighbour caches, first 64 per family: ipv4/ipv6 lists of 'IP MAC' "
			"(or 'IP incomplete'). No parameters");
	return r;
}
