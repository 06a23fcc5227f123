/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stats.h: the dataplane's counters in DPDK telemetry.
 */
#ifndef DP_STATS_H
#define DP_STATS_H

#include "rtpb_shm.h"

/**
 * Sum the counters of every lcore (workers and main) into *sum.
 */
void dp_stats_sum(struct rtpb_lcore_stats *sum);

/**
 * Register the telemetry commands /rtpbypass/stats (sums, drops by
 * reason), /rtpbypass/lcore,<idx> and /rtpbypass/neigh.
 * @return 0, or a negative errno from rte_telemetry_register_cmd().
 */
int dp_stats_telemetry_init(void);

#endif /* DP_STATS_H */
