/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_flow.h: the flow table, (relay address, relay port) -> stream id.
 *
 * Direct-indexed (DESIGN.md section 3): the relay allocates its own
 * ports, so (relay address index, UDP port) is a dense key. The table is
 * one array of DP_FLOW_PORTS entries per relay address, in one hugepage
 * allocation (rte_malloc_socket()); entry (addr_idx << 16 | host-order
 * port) is the stream of that socket. A lookup is one load: no hash, no
 * bucket, no key compare, no collision. Host-order ports keep a leg's RTP
 * (even) and RTCP (odd) entries in the same cache line.
 *
 * Entry size: 8 bytes, the stream id and the id of the other leg's
 * stream (its out_stream_id), as rte_hash's data word was before. With
 * both ids in the entry the fast path prefetches both streams' lines in
 * one stage of the burst, right after the entry loads; with 4-byte
 * entries (stream id only) the other leg's line could be requested only
 * once the stream's own line has arrived (a dependent DRAM access per
 * packet at a million streams: a third stage of latency per burst).
 * The price is 512 KiB per relay address instead of 256 KiB (8 MiB for
 * the 16 addresses RTPB_MAX_ADDRS allows). Once both legs' hot state sits
 * in one block (issue 19's hot/cold split), the other leg is at a fixed
 * offset and 4-byte entries become the better choice.
 *
 * Memory: DP_FLOW_BYTES_PER_ADDR = 65 536 x 8 B = 512 KiB per relay
 * address, whatever the number of streams.
 *
 * Concurrency: every worker reads any entry (relaxed atomic loads: it
 * needs the id only to find the stream's owner, rtpb_stream_owner(), and
 * the owner looks the packet up again itself; a stale read costs at most
 * one hand-off to the old owner, which then drops the packet as
 * no_stream). Each entry is written only by the worker that owns the
 * stream it holds, from dp_ctl.c between bursts, with single aligned
 * atomic stores; a port moving between streams of two owners (control
 * reuses it for another session) is written by both, so deletes and
 * updates are compare-and-swaps that leave an entry holding another
 * stream alone.
 *
 * Cost: one load per packet, prefetched a burst ahead (dp_flow_prefetch()).
 */
#ifndef DP_FLOW_H
#define DP_FLOW_H

#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_prefetch.h>

#include "rtpb_msg.h"
#include "rtpb_shm.h"

/** Ports per relay address: entries per address. */
#define DP_FLOW_PORTS 65536u
/** An entry of no stream (both ids RTPB_STREAM_NONE). */
#define DP_FLOW_EMPTY UINT64_MAX
/** Bytes of table per relay address (512 KiB). */
#define DP_FLOW_BYTES_PER_ADDR ((uint64_t)DP_FLOW_PORTS * sizeof(uint64_t))

/**
 * The flow table. Filled by dp_flow_create() before the workers run;
 * the entries (tab[]) are written as the file header says.
 */
struct dp_flow {
	/** n_addrs x DP_FLOW_PORTS entries: (out_id << 32 | stream id),
	 *  DP_FLOW_EMPTY if none; hugepage memory, owned by the table. */
	uint64_t *tab;
	uint32_t n_addrs; /**< relay addresses covered: 0..n_addrs-1 */
};

/**
 * Index of relay socket (addr_idx, port) in dp_flow.tab.
 * @param addr_idx index in dp_ctx.addrs (< dp_flow.n_addrs).
 * @param port     UDP port, network byte order.
 */
static inline uint32_t
dp_flow_slot(uint32_t addr_idx, uint16_t port)
{
	return addr_idx << 16 | rte_be_to_cpu_16(port);
}

/**
 * Allocate the table for n_addrs relay addresses (1..RTPB_MAX_ADDRS) on
 * NUMA socket, all entries empty. Setup only.
 * @return 0, or -EINVAL (n_addrs), -ENOMEM (no hugepage memory).
 */
int dp_flow_create(struct dp_flow *f, uint32_t n_addrs, int socket);

/** Free the table's memory (NULL tab: nothing). Setup/teardown only. */
void dp_flow_free(struct dp_flow *f);

/**
 * Map relay socket (addr_idx, port in network order) to stream_id, with
 * the id of the stream its packets are relayed to (out_id,
 * RTPB_STREAM_NONE if none) beside it, so one lookup lets the fast path
 * prefetch both streams at once (the stream's own out_stream_id stays
 * authoritative: a stale out_id costs a useless prefetch, not a misrouted
 * packet). Replaces what the entry held, whoever owned it (the newest ADD
 * is control's latest word on the port). Owner worker of stream_id only.
 * @return 0, or -EINVAL (addr_idx out of range, stream_id NONE).
 */
int dp_flow_add(struct dp_flow *f, uint32_t addr_idx, uint16_t port,
		uint32_t stream_id, uint32_t out_id);

/**
 * Change the out_id of relay socket (addr_idx, port), if its entry still
 * holds stream_id. Owner worker of stream_id only.
 * @return 0, or -ENOENT if the entry holds another stream or none,
 *         -EINVAL.
 */
int dp_flow_set_out(struct dp_flow *f, uint32_t addr_idx, uint16_t port,
		    uint32_t stream_id, uint32_t out_id);

/**
 * Empty the entry of relay socket (addr_idx, port) if it holds stream_id
 * (an entry another stream took since is left alone). Owner worker of
 * stream_id only.
 * @return 0, or -ENOENT if the entry holds another stream or none,
 *         -EINVAL.
 */
int dp_flow_del(struct dp_flow *f, uint32_t addr_idx, uint16_t port,
		uint32_t stream_id);

/** Prefetch the entry of slot (dp_flow_slot()), a stage ahead of its load. */
static inline void
dp_flow_prefetch(const struct dp_flow *f, uint32_t slot)
{
	rte_prefetch0(&f->tab[slot]);
}

/**
 * The entry of slot (dp_flow_slot(), addr_idx < n_addrs): one relaxed
 * atomic load. Any lcore.
 * @param out set to the entry's out_id (RTPB_STREAM_NONE if none).
 * @return the stream id, or RTPB_STREAM_NONE if no stream holds the socket.
 */
static inline uint32_t
dp_flow_get(const struct dp_flow *f, uint32_t slot, uint32_t *out)
{
	uint64_t e = __atomic_load_n(&f->tab[slot], __ATOMIC_RELAXED);

	*out = (uint32_t)(e >> 32);
	return (uint32_t)e;
}

#endif /* DP_FLOW_H */
