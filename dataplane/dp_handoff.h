/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_handoff.h: the hand-off stage. With several workers, RSS may put a
 * packet on another worker's queue than the one that owns its relay
 * socket; only the owner may touch the stream (single writer), so the
 * packet is passed to it on its handoff ring (MP/SC, mbufs) and relayed
 * there. The owner is that of the stream the flow table (dp_flow.h) holds
 * for the socket, rtpb_stream_owner() of its id: one lookup serves the
 * flow and the hand-off, and the owner looks the packet up again. A
 * packet handed off on a stale entry (the port changed owner meanwhile)
 * is not passed on again: the owner drops it as no_stream.
 *
 * A burst collects its hand-offs per owner (dp_handoff_take()) and sends
 * them in one ring operation per owner (dp_handoff_flush()), not one
 * compare-and-swap per packet. Static inline: it runs per packet.
 */
#ifndef DP_HANDOFF_H
#define DP_HANDOFF_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "rtpb_shm.h"
#include "dp_ctx.h"

/** One burst's hand-offs, per owner worker. On the worker's stack. */
struct dp_handoff {
	uint32_t owners; /**< bit w: n[w] and pkts[w] are in use */
	uint16_t n[RTPB_MAX_WORKERS];
	struct rte_mbuf *pkts[RTPB_MAX_WORKERS][DP_BURST];
};

/** Start a burst: no hand-offs. */
static inline void
dp_handoff_init(struct dp_handoff *h)
{
	h->owners = 0;
}

/**
 * Keep m, a packet of stream id (the flow table's entry for its relay
 * socket), for the worker owning id if that is not w. A packet handed off
 * already (handed_off) that w does not own is dropped as
 * RTPB_DROP_NO_STREAM in w's counters (its entry changed owner since the
 * other worker read it: no second hand-off).
 * @return 1 if m was taken (dp_handoff_flush() sends it) or dropped,
 *         0 if w owns id (always with one worker).
 */
static inline int
dp_handoff_take(struct dp_handoff *h, struct dp_worker *w, int handed_off,
		uint32_t id, struct rte_mbuf *m)
{
	uint32_t owner;

	if (dp_ctx.n_workers <= 1)
		return 0;
	owner = dp_ctx_owner(id);
	if (likely(owner == w->idx))
		return 0;
	if (unlikely(handed_off)) {
		dp_drop(w->stats, m, RTPB_DROP_NO_STREAM);
		return 1;
	}
	if (!(h->owners & (1u << owner))) {
		h->owners |= 1u << owner;
		h->n[owner] = 0;
	}
	h->pkts[owner][h->n[owner]++] = m;
	return 1;
}

/**
 * Send the burst's hand-offs: one enqueue per owner. What a full ring
 * does not take is dropped, counted as RTPB_DROP_RING_FULL in w's
 * counters; what it takes in handoff_out.
 */
static inline void
dp_handoff_flush(struct dp_handoff *h, struct dp_worker *w)
{
	while (h->owners != 0) {
		uint32_t o = (uint32_t)rte_bsf32(h->owners);
		unsigned int done, j;

		h->owners &= h->owners - 1;
		done = rte_ring_mp_enqueue_burst(dp_ctx.workers[o].handoff,
						 (void **)h->pkts[o], h->n[o], NULL);
		w->stats->handoff_out += done;
		for (j = done; j < h->n[o]; j++)
			dp_drop(w->stats, h->pkts[o][j], RTPB_DROP_RING_FULL);
	}
}

#endif /* DP_HANDOFF_H */
