/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_handoff.h: the hand-off stage. With several workers, RSS may put a
 * packet on another worker's queue than the one that owns its relay
 * socket; only the owner may touch the stream (single writer), so the
 * packet is passed to it on its handoff ring (MP/SC, mbufs) and relayed
 * there. The owner of each (relay address, port) is control's port-owner
 * table in shared memory (rtpb_shm_port_owner()), written before the
 * stream is added.
 *
 * A burst collects its hand-offs per owner (dp_handoff_take()) and sends
 * them in one ring operation per owner (dp_handoff_flush()), not one
 * compare-and-swap per packet. Static inline: it runs per packet.
 */
#ifndef DP_HANDOFF_H
#define DP_HANDOFF_H

#include <stdint.h>

#include <rte_byteorder.h>
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
 * Keep m for its owner worker if that is not w: the owner of relay
 * socket (addr_idx, port in network order). Not for packets that were
 * handed off already (handed_off: they are at their owner), nor with one
 * worker.
 * @return 1 if m was taken (dp_handoff_flush() sends it), 0 if w owns it.
 */
static inline int
dp_handoff_take(struct dp_handoff *h, const struct dp_worker *w, int handed_off,
		uint32_t addr_idx, uint16_t port, struct rte_mbuf *m)
{
	uint8_t owner;

	if (dp_ctx.n_workers <= 1 || handed_off)
		return 0;
	owner = *rtpb_shm_port_owner(dp_ctx.shm, addr_idx, rte_be_to_cpu_16(port));
	if (owner == w->idx || owner >= dp_ctx.n_workers)
		return 0;
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
