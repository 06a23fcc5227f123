/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_slowtx.h: slow-path transmission. The main lcore builds frames (ARP
 * requests and replies, Neighbor Solicitations and Advertisements) but
 * owns no TX queue; it queues them on dp_ctx.sp_tx (SP/SC ring, mbufs)
 * and worker 0 sends them on its queue of the RX port, every
 * DP_SLOWTX_EVERY loops. A few frames per millisecond at most.
 */
#ifndef DP_SLOWTX_H
#define DP_SLOWTX_H

#include <errno.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "rtpb_shm.h"
#include "dp_ctx.h"

/** Worker loops between two sends of the slow-path queue (worker 0);
 * a power of two. */
#define DP_SLOWTX_EVERY 16

/**
 * Queue a frame the main lcore built (ARP, NDP) for worker 0 to send.
 * Main lcore only. Consumes m.
 * @return 0, or -ENOBUFS: the ring is full, m freed and counted as
 *         RTPB_DROP_RING_FULL in the main lcore's counters.
 */
static inline int
dp_slowtx_queue(struct rte_mbuf *m)
{
	if (rte_ring_enqueue(dp_ctx.sp_tx, m) != 0) {
		dp_drop(rtpb_shm_lcore_stats(dp_ctx.shm, dp_ctx.n_workers), m,
			RTPB_DROP_RING_FULL);
		return -ENOBUFS;
	}
	return 0;
}

/**
 * Send up to one burst of queued slow-path frames on w's TX queue of the
 * RX port (worker 0). Counted in tx_pkts; what the queue does not take
 * is dropped as RTPB_DROP_TX_FULL.
 */
static inline void
dp_slowtx_send(struct dp_worker *w)
{
	struct rte_mbuf *m[DP_BURST];
	unsigned int n, sent, i;

	n = rte_ring_sc_dequeue_burst(dp_ctx.sp_tx, (void **)m, DP_BURST, NULL);
	if (n == 0)
		return;
	sent = rte_eth_tx_burst(dp_ctx.port_id, w->queue, m, (uint16_t)n);
	w->stats->tx_pkts += sent;
	for (i = sent; i < n; i++)
		dp_drop(w->stats, m[i], RTPB_DROP_TX_FULL);
}

#endif /* DP_SLOWTX_H */
