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

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_reciprocal.h>
#include <rte_vect.h>
#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "rtpb_addr.h"
#include "rtpb_shm.h"
#include "dp_latch.h"
#include "dp_neigh.h"
#include "dp_dtmf.h"
#include "dp_flow.h"
#include "dp_stream.h"

#define DP_BURST 32

/** State of one worker lcore. */
struct dp_worker {
	uint32_t idx;        /**< worker index, 0..n_workers-1 */
	unsigned int lcore;  /**< EAL lcore id */
	uint16_t queue;      /**< RX and TX queue on the port */
	struct rte_ring *c2d;            /**< from control (shared memory) */
	struct rte_ring *mirror;         /**< copies of recorded packets, to control (SP/SC, shared memory) */
	struct rte_ring *play;           /**< played packets, from control (SP/SC, shared memory; dp_play.h) */
	struct rte_ring *handoff;        /**< mbufs from other workers, MP/SC */
	struct rtpb_lcore_stats *stats;  /**< in shared memory */
	uint32_t ev_seq;                 /**< d2c sequence numbers */
	uint64_t c2d_done;               /**< c2d messages applied (shm->c2d_done) */
} __rte_cache_aligned;

/**
 * One relay address, dp_ctx.addrs[addr_idx]. addr_idx is the same index
 * everywhere: rtpb_shm_hdr.addrs[]/prefixlen[], the flow table
 * (dp_flow.h), dp_stream.addr_idx. Network byte order.
 */
struct dp_addr {
	uint8_t family;     /**< RTPB_AF_INET or RTPB_AF_INET6 */
	uint8_t prefixlen;  /**< on-link prefix length, bits */
	uint16_t reserved;
	uint32_t ip4;       /**< IPv4 address (family INET), else 0 */
	uint32_t mask4;     /**< IPv4 netmask (family INET), else 0 */
	uint8_t ip6[16];    /**< IPv6 address (family INET6), else zero */
	uint8_t mask6[16];  /**< IPv6 prefix mask (family INET6), else zero */
	struct rtpb_addr sock; /**< the address as a socket address, port 0 */
};

/** The process-wide context. */
struct dp_ctx {
	uint16_t port_id;             /**< RX, slow path TX (ARP/NDP) */
	uint16_t tx_port_id;          /**< TX of relayed packets (--tx-port; = port_id) */
	uint16_t mtu;                 /**< the port's MTU, IP bytes, set at port start;
				       *   packets bridged to IPv6 must fit it */
	struct rte_ether_addr mac;    /**< the port's MAC */
	uint32_t n_workers;
	/** n_workers as a divisor (rte_reciprocal_value()): a stream's
	 *  owner per packet without a division (dp_ctx_owner()) */
	struct rte_reciprocal owner_div;
	uint32_t max_streams;
	/** (relay address, port) -> stream (dp_flow.h): created by the main
	 *  lcore; entries written by the streams' owners, read by all */
	struct dp_flow flow;
	/* Relay addresses: one list of both families, indexed by addr_idx,
	 * and per-family copies for the fast lookups by destination. */
	uint32_t n_addrs;
	struct dp_addr addrs[RTPB_MAX_ADDRS];
	uint32_t n_addr4;
	/** the IPv4 ones, network order (unused slots 0: compared all at once) */
	uint32_t addr4_ip[RTPB_MAX_ADDRS] __rte_aligned(16);
	uint8_t addr4_idx[RTPB_MAX_ADDRS];     /**< their addr_idx */
	uint32_t n_addr6;
	uint8_t addr6_ip[RTPB_MAX_ADDRS][16];  /**< the IPv6 ones */
	uint8_t addr6_idx[RTPB_MAX_ADDRS];     /**< their addr_idx */
	uint32_t gateway;             /**< IPv4 default gateway, 0 if none */
	uint8_t gateway6[16];         /**< IPv6 default gateway, :: if none */
	bool gateway6_set;            /**< gateway6 was given */
	struct dp_latch_cfg latch;    /**< probation thresholds */
	_Atomic int32_t ctl_pid;      /**< pid in control's last HELLO (workers write) */
	struct dp_stream *streams;    /**< [max_streams], see dp_stream.h */
	/** [max_streams]: the last RFC 4733 events of each stream (dp_dtmf.h),
	 *  cold state apart from dp_stream: read and written only by the
	 *  owner worker, for streams with RTPB_STREAM_F_DTMF whose packet
	 *  has the DTMF payload type; reset by the stream's ADD. */
	struct dp_dtmf_hist *dtmf;
	struct rtpb_shm_hdr *shm;     /**< the shared memory */
	struct rte_mempool *pool;
	struct dp_neigh *neigh;       /**< written by the main lcore */
	struct rte_ring *sp_rx;       /**< ARP/NDP frames, workers -> main (MP/SC) */
	/** Next hops to resolve, workers and dp_ctl -> main (MP/SC); elements
	 * are struct rtpb_addr (family and IP, port 0), either family. */
	struct rte_ring *nh_req;
	struct rte_ring *sp_tx;       /**< frames, main -> worker 0 (SP/SC) */
	struct rte_ring *d2c;         /**< events to control (MP/SC) */
	uint64_t tsc_base;            /**< TSC at ns_base */
	uint64_t ns_base;             /**< CLOCK_MONOTONIC ns at start */
	uint64_t ns_mult;             /**< ns per TSC cycle, 32.32 fixed point */
	/** CLOCK_REALTIME minus CLOCK_MONOTONIC at start, ns: dp_now_ns() +
	 *  this is UNIX time (the recordings' arrival stamps). */
	uint64_t rt_off_ns;
	struct dp_worker workers[RTPB_MAX_WORKERS];
	/** at start, workers hold RX this long at most for control's replay
	 *  (--replay-wait, dp_worker_main()); 0: no wait */
	uint64_t replay_wait_ns;
};

extern struct dp_ctx dp_ctx;
extern atomic_bool dp_quit;

/**
 * Drop m for reason why (not RTPB_DROP_NONE): count it in the lcore's
 * counters st and free it. Any lcore, its own st.
 */
static inline void
dp_drop(struct rtpb_lcore_stats *st, struct rte_mbuf *m, enum rtpb_drop why)
{
	st->drops[why]++;
	rte_pktmbuf_free(m);
}

/**
 * Set dp_ctx.n_workers and its divisor (setup, before the workers run).
 * @param n worker lcores, 1..RTPB_MAX_WORKERS.
 */
static inline void
dp_ctx_set_workers(uint32_t n)
{
	dp_ctx.n_workers = n;
	dp_ctx.owner_div = rte_reciprocal_value(n);
}

/**
 * The worker owning stream id: rtpb_stream_owner(id, dp_ctx.n_workers)
 * (id % n_workers) with a multiply and a shift instead of a division.
 */
static inline uint32_t
dp_ctx_owner(uint32_t id)
{
	return id - rte_reciprocal_divide(id, dp_ctx.owner_div) * dp_ctx.n_workers;
}

/** CLOCK_MONOTONIC ns of TSC value tsc (no syscall; dp_now_ns() reads it). */
static inline uint64_t
dp_tsc_ns(uint64_t tsc)
{
	uint64_t d = tsc - dp_ctx.tsc_base;

	return dp_ctx.ns_base + (uint64_t)(((unsigned __int128)d * dp_ctx.ns_mult) >> 32);
}

/** CLOCK_MONOTONIC-compatible ns from the TSC (no syscall). */
static inline uint64_t
dp_now_ns(void)
{
	return dp_tsc_ns(rte_rdtsc());
}

/**
 * addr_idx of the relay IPv4 address ip (network byte order). Compares
 * all RTPB_MAX_ADDRS slots at once (SSE2 on x86): no loop, so no branch
 * mispredicted when consecutive packets go to different addresses.
 * @return 0..n_addrs-1, or -1 if ip is not a relay address.
 */
static inline int
dp_addr_index(uint32_t ip)
{
#if defined(RTE_ARCH_X86)
	const __m128i k = _mm_set1_epi32((int)ip);
	const __m128i *a = (const __m128i *)dp_ctx.addr4_ip;
	uint32_t hit;

	RTE_BUILD_BUG_ON(RTPB_MAX_ADDRS != 16);
	hit = (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(k, a[0]))) |
	      (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(k, a[1]))) << 4 |
	      (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(k, a[2]))) << 8 |
	      (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(k, a[3]))) << 12;
	hit &= (1u << dp_ctx.n_addr4) - 1u;
	return hit != 0 ? dp_ctx.addr4_idx[rte_bsf32(hit)] : -1;
#else
	uint32_t i;

	for (i = 0; i < dp_ctx.n_addr4; i++)
		if (dp_ctx.addr4_ip[i] == ip)
			return dp_ctx.addr4_idx[i];
	return -1;
#endif
}

/**
 * addr_idx of the relay IPv6 address ip (16 bytes, network byte order).
 * @return 0..n_addrs-1, or -1 if ip is not a relay address.
 */
static inline int
dp_addr6_index(const uint8_t *ip)
{
	uint32_t i;

	for (i = 0; i < dp_ctx.n_addr6; i++)
		if (memcmp(dp_ctx.addr6_ip[i], ip, 16) == 0)
			return dp_ctx.addr6_idx[i];
	return -1;
}

/**
 * addr_idx of the relay address a (family and IP; the port is ignored).
 * @return 0..n_addrs-1, or -1 if a is not a relay address.
 */
static inline int
dp_addr_find(const struct rtpb_addr *a)
{
	if (a->family == RTPB_AF_INET)
		return dp_addr_index(rtpb_addr_v4(a));
	if (a->family == RTPB_AF_INET6)
		return dp_addr6_index(a->ip);
	return -1;
}

/**
 * Append a relay address to dp_ctx (setup only, before the workers run):
 * a gets the next addr_idx (n_addrs), in dp_ctx.addrs and in its family's
 * lookup table. Used by dp_main.c's --addr and by tests.
 * @param a         family INET or INET6 and the IP; the port is ignored.
 * @param prefixlen on-link prefix length, bits (<= 32 or <= 128).
 * @return the new addr_idx, or -EINVAL (bad family or prefix length),
 *         -EEXIST (already a relay address), -ENOSPC (RTPB_MAX_ADDRS).
 */
static inline int
dp_addr_add(const struct rtpb_addr *a, unsigned int prefixlen)
{
	uint32_t i = dp_ctx.n_addrs, b;
	struct dp_addr *d = &dp_ctx.addrs[i];
	uint8_t *mask;

	if ((a->family != RTPB_AF_INET && a->family != RTPB_AF_INET6) ||
	    prefixlen > (a->family == RTPB_AF_INET ? 32u : 128u))
		return -EINVAL;
	if (dp_addr_find(a) >= 0)
		return -EEXIST;
	if (i >= RTPB_MAX_ADDRS)
		return -ENOSPC;
	memset(d, 0, sizeof(*d));
	d->family = a->family;
	d->prefixlen = (uint8_t)prefixlen;
	mask = a->family == RTPB_AF_INET ? (uint8_t *)&d->mask4 : d->mask6;
	for (b = 0; b < prefixlen; b++)
		mask[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	if (a->family == RTPB_AF_INET) {
		d->ip4 = rtpb_addr_v4(a);
		rtpb_addr_set_v4(&d->sock, d->ip4, 0);
		dp_ctx.addr4_ip[dp_ctx.n_addr4] = d->ip4;
		dp_ctx.addr4_idx[dp_ctx.n_addr4++] = (uint8_t)i;
	} else {
		memcpy(d->ip6, a->ip, 16);
		d->sock.family = RTPB_AF_INET6;
		memcpy(d->sock.ip, a->ip, 16);
		memcpy(dp_ctx.addr6_ip[dp_ctx.n_addr6], a->ip, 16);
		dp_ctx.addr6_idx[dp_ctx.n_addr6++] = (uint8_t)i;
	}
	dp_ctx.n_addrs++;
	return (int)i;
}

/**
 * Whether IPv4 ip (network byte order) is on-link for the IPv4 relay
 * address addr_idx (inside its prefix).
 */
static inline bool
dp_addr_onlink4(uint32_t addr_idx, uint32_t ip)
{
	const struct dp_addr *a = &dp_ctx.addrs[addr_idx];

	return ((ip ^ a->ip4) & a->mask4) == 0;
}

/**
 * Whether IPv6 ip (16 bytes) is on-link for the IPv6 relay address
 * addr_idx: inside its prefix, or link-local (fe80::/10, RFC 4291 §2.5.6,
 * always on-link).
 */
static inline bool
dp_addr_onlink6(uint32_t addr_idx, const uint8_t *ip)
{
	const struct dp_addr *a = &dp_ctx.addrs[addr_idx];
	uint64_t x[2], y[2], m[2];

	if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
		return true;
	memcpy(x, ip, 16);
	memcpy(y, a->ip6, 16);
	memcpy(m, a->mask6, 16);
	return (((x[0] ^ y[0]) & m[0]) | ((x[1] ^ y[1]) & m[1])) == 0;
}

/**
 * Whether IPv4 ip (network byte order) may be a neighbour: a host of an
 * IPv4 relay address's link (inside its prefix, not the subnet's
 * broadcast address), and not a relay address. What ARP learns
 * (dp_arp.c) and what the neighbour file restores (dp_nkeep.c) obey it:
 * a next hop can be nothing else, and anything else squats cache slots.
 */
static inline bool
dp_addr_neigh_ok4(uint32_t ip)
{
	uint32_t i;

	if (ip == 0 || dp_addr_index(ip) >= 0)
		return false;
	for (i = 0; i < dp_ctx.n_addr4; i++) {
		const struct dp_addr *a = &dp_ctx.addrs[dp_ctx.addr4_idx[i]];

		if (dp_addr_onlink4(dp_ctx.addr4_idx[i], ip) && (ip | a->mask4) != UINT32_MAX)
			return true;
	}
	return false;
}

/**
 * Whether IPv6 ip (16 bytes, network byte order) may be a neighbour:
 * on-link for an IPv6 relay address (its prefix, or link-local), not
 * multicast (ff00::/8), not unspecified, and not a relay address. Used by
 * NDP learning (dp_nd.c) and the neighbour file's restore (dp_nkeep.c).
 */
static inline bool
dp_addr_neigh_ok6(const uint8_t *ip)
{
	static const uint8_t unspec[16];
	uint32_t i;

	if (ip[0] == 0xff || memcmp(ip, unspec, 16) == 0 || dp_addr6_index(ip) >= 0)
		return false;
	for (i = 0; i < dp_ctx.n_addr6; i++)
		if (dp_addr_onlink6(dp_ctx.addr6_idx[i], ip))
			return true;
	return false;
}

#endif /* DP_CTX_H */
