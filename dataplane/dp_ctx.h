/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_ctx.h: the dataplane's process-wide state and per-worker state.
 *
 * dp_ctx is filled by the main lcore during setup (dp_main.c) and is
 * read-only afterwards, except for what each field's comment names.
 * struct dp_worker is one per worker lcore, written by that lcore only.
 */
#ifndef DP_CTX_H
#define DP_CTX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "rtpb_addr.h"
#include "rtpb_shm.h"
#include "dp_latch.h"
#include "dp_neigh.h"
#include "dp_stream.h"

#define DP_BURST 32
#define DP_CTL_EVERY 16 /**< loops between two drains of the c2d ring */

/** State of one worker lcore. */
struct dp_worker {
	uint32_t idx;        /**< worker index, 0..n_workers-1 */
	unsigned int lcore;  /**< EAL lcore id */
	uint16_t queue;      /**< RX and TX queue on the port */
	struct rte_hash *flow;           /**< streams owned by this worker */
	struct rte_ring *c2d;            /**< from control (shared memory) */
	struct rte_ring *handoff;        /**< mbufs from other workers, MP/SC */
	struct rtpb_lcore_stats *stats;  /**< in shared memory */
	uint32_t ev_seq;                 /**< d2c sequence numbers */
} __rte_cache_aligned;

/** The process-wide context. */
struct dp_ctx {
	uint16_t port_id;
	struct rte_ether_addr mac;    /**< the port's MAC */
	uint32_t n_workers;
	uint32_t max_streams;
	uint32_t n_addrs;
	uint32_t addr_ip[RTPB_MAX_ADDRS];   /**< relay IPv4s, network order */
	uint32_t addr_mask[RTPB_MAX_ADDRS]; /**< their netmasks, network order */
	uint32_t gateway;             /**< IPv4 default gateway, 0 if none */
	struct dp_latch_cfg latch;    /**< probation thresholds */
	struct dp_stream *streams;    /**< [max_streams], see dp_stream.h */
	struct rtpb_shm_hdr *shm;     /**< the shared memory */
	struct rte_mempool *pool;
	struct dp_neigh *neigh;       /**< written by the main lcore */
	struct rte_ring *sp_rx;       /**< ARP frames, workers -> main (MP/SC) */
	struct rte_ring *nh_req;      /**< next hops to resolve (MP/SC, uint32) */
	struct rte_ring *sp_tx;       /**< frames, main -> worker 0 (SP/SC) */
	struct rte_ring *d2c;         /**< events to control (MP/SC) */
	uint64_t tsc_base;            /**< TSC at ns_base */
	uint64_t ns_base;             /**< CLOCK_MONOTONIC ns at start */
	uint64_t ns_mult;             /**< ns per TSC cycle, 32.32 fixed point */
	struct dp_worker workers[RTPB_MAX_WORKERS];
};

extern struct dp_ctx dp_ctx;
extern atomic_bool dp_quit;

/** CLOCK_MONOTONIC-compatible ns from the TSC (no syscall). */
static inline uint64_t
dp_now_ns(void)
{
	uint64_t d = rte_rdtsc() - dp_ctx.tsc_base;

	return dp_ctx.ns_base + (uint64_t)(((unsigned __int128)d * dp_ctx.ns_mult) >> 32);
}

/**
 * Index of the relay address ip (network byte order).
 * @return 0..n_addrs-1, or -1 if ip is not a relay address.
 */
static inline int
dp_addr_index(uint32_t ip)
{
	uint32_t i;

	for (i = 0; i < dp_ctx.n_addrs; i++)
		if (dp_ctx.addr_ip[i] == ip)
			return (int)i;
	return -1;
}

#endif /* DP_CTX_H */
