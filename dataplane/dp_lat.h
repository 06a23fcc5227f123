/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_lat.h: the latency a burst spends inside a worker (issue 19), from
 * the TSC read right after rte_eth_rx_burst() returned packets to the TSC
 * read right after the burst's rte_eth_tx_burst() returned (its first
 * packet in, its last packet out), sampled every DP_LAT_EVERY-th loop
 * that received packets and counted in the worker's lcore counters
 * (include/rtpb_shm.h: lat_samples, the buckets of RTPB_FOREACH_LAT_BUCKET
 * and lat_ge_128us, lat_max_ns, lat_sum_ns). Telemetry (/rtpbypass/lcore) and
 * control's Prometheus histogram rtpbypass_worker_latency_seconds read
 * them; tools/bench.py turns them into p50/p99/p99.9 estimates.
 *
 * The end stamp is taken when dp_worker_burst() has returned: after the
 * TX burst it only counts the bytes sent and frees what the queue did
 * not take, so the sample includes that tail (tens of ns). A sampled
 * burst that sent nothing (all dropped, or all handed to other workers)
 * is not counted: it has no TX burst to time.
 *
 * Who writes what: a struct dp_lat is a worker's local variable (the
 * loop counter and the TSC-to-ns factor); the counters are the worker's
 * own (single writer).
 *
 * Cost: per loop that received packets an increment and one predicted
 * branch, and a second predicted branch after the burst; per sample
 * (1 in DP_LAT_EVERY) two rdtsc, a 64x64->128 multiply and a walk of at
 * most 11 bucket bounds: ~60 cycles, i.e. ~1 cycle per loop on average.
 */
#ifndef DP_LAT_H
#define DP_LAT_H

#include <errno.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>

#include "rtpb_shm.h"

/** Loops that received packets per latency sample (a power of two). */
#define DP_LAT_EVERY 64
_Static_assert((DP_LAT_EVERY & (DP_LAT_EVERY - 1)) == 0,
	       "DP_LAT_EVERY must be a power of two");

/** Fixed-point shift of struct dp_lat's mult (ns = cycles * mult >> 32). */
#define DP_LAT_SHIFT 32

/** A worker's latency sampler (a local of dp_worker_main()). */
struct dp_lat {
	uint64_t mult;     /**< ns per TSC cycle, << DP_LAT_SHIFT, rounded up */
	uint64_t rx_loops; /**< loops that received packets so far */
	uint64_t tx_pkts;  /**< stats->tx_pkts when the sampled burst began */
};

/**
 * Set up a sampler for a TSC of tsc_hz (rte_get_tsc_hz()): the ns factor
 * is computed here, once, so a sample costs a multiply and a shift, no
 * division. mult is rounded up, so a whole number of ns is exact
 * (a 3 GHz TSC: 1500 cycles give 500 ns, not 499).
 * @return 0, or -EINVAL if tsc_hz is 0.
 */
static inline int
dp_lat_init(struct dp_lat *l, uint64_t tsc_hz)
{
	const uint64_t one_s = 1000000000ull << DP_LAT_SHIFT; /* < 2^62 */

	l->rx_loops = 0;
	l->tx_pkts = 0;
	if (tsc_hz == 0) {
		l->mult = 0;
		return -EINVAL;
	}
	l->mult = (one_s + tsc_hz - 1) / tsc_hz;
	return 0;
}

/** TSC cycles to ns, at l's rate (no division; exact below 2^64 ns). */
static inline uint64_t
dp_lat_ns(const struct dp_lat *l, uint64_t cycles)
{
	return (uint64_t)(((unsigned __int128)cycles * l->mult) >> DP_LAT_SHIFT);
}

/**
 * Count one sample of ns in st: lat_samples, its bucket (the first whose
 * bound is above ns, else lat_ge_128us) and lat_max_ns.
 */
static inline void
dp_lat_count(struct rtpb_lcore_stats *st, uint64_t ns)
{
	st->lat_samples++;
	st->lat_sum_ns += ns;
	if (ns > st->lat_max_ns)
		st->lat_max_ns = ns;
#define DP_LAT_BUCKET(f, bound_ns)                                             \
	if (ns < (bound_ns)) {                                                 \
		st->f++;                                                       \
		return;                                                        \
	}
	RTPB_FOREACH_LAT_BUCKET(DP_LAT_BUCKET)
#undef DP_LAT_BUCKET
	st->lat_ge_128us++;
}

/**
 * Right after rte_eth_rx_burst() returned packets: is this loop a sample?
 * @return the TSC now if it is (every DP_LAT_EVERY-th call), else 0 (the
 *   cost then: an increment and one branch).
 */
static inline uint64_t
dp_lat_begin(struct dp_lat *l, const struct rtpb_lcore_stats *st)
{
	if (likely((++l->rx_loops & (DP_LAT_EVERY - 1)) != 0))
		return 0;
	l->tx_pkts = st->tx_pkts;
	return rte_rdtsc();
}

/**
 * A sampled burst's end, the TSC t_tx read after its TX burst: count
 * t_tx - t_rx (t_rx from dp_lat_begin()) if the burst sent anything
 * (st->tx_pkts moved since dp_lat_begin()).
 */
static inline void
dp_lat_record(struct dp_lat *l, struct rtpb_lcore_stats *st, uint64_t t_rx,
	      uint64_t t_tx)
{
	if (st->tx_pkts == l->tx_pkts)
		return;
	dp_lat_count(st, dp_lat_ns(l, t_tx - t_rx));
}

/**
 * After the burst of a loop whose dp_lat_begin() returned t_rx: if t_rx
 * is not 0 (a sample), read the TSC and record the sample.
 */
static inline void
dp_lat_end(struct dp_lat *l, struct rtpb_lcore_stats *st, uint64_t t_rx)
{
	if (likely(t_rx == 0))
		return;
	dp_lat_record(l, st, t_rx, rte_rdtsc());
}

#endif /* DP_LAT_H */
