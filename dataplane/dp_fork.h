/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_fork.h: the fork stage (rtpproxy 'C callid udp:host:port', remote
 * recording; docs/FORKING.md).
 *
 * A stream with RTPB_STREAM_F_FORK (set by RTPB_MSG_STREAM_FORK, dp_ctl.c)
 * sends a copy of each packet it relays to its fork target: the worker
 * copies the received frame into a new mbuf of the pool before the relayed
 * packet is rewritten, and rewrites the copy as the relay rewrites (same
 * UDP payload, new IP/UDP headers, checksums, MACs), from the fork's relay
 * socket (fork_addr_idx, fork_port: a port control took from its pool, on
 * which no stream listens) to fork_target, through its own next hop
 * (dp_nexthop.h, the neighbour slot cached in the stream). The copies of
 * one burst leave in one rte_eth_tx_burst() on the worker's queue.
 *
 * A copy that cannot be made (no mbuf, next hop not resolved yet, too big
 * for the MTU after bridging, TX full) is freed and counted in fork_drops;
 * the relayed packet never suffers from it. A stream that does not fork
 * pays one test of its flags, which line 0 already holds.
 *
 * Owner worker only (the stream's fields, its lcore counters).
 */
#ifndef DP_FORK_H
#define DP_FORK_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "rtpb_shm.h"
#include "dp_ctx.h"
#include "dp_nexthop.h"
#include "dp_parse.h"
#include "dp_rewrite.h"
#include "dp_stream.h"

/**
 * Make the fork copy of frame m (parsed into pm, not rewritten yet) of
 * forking stream s (RTPB_STREAM_F_FORK): a new mbuf from dp_ctx.pool,
 * rewritten to go from s's fork socket to its fork target.
 * @param out where the copy is stored when one is made.
 * @return 1 if *out holds a copy, 0 if none was made (counted in
 *         w->stats->fork_drops).
 */
static inline uint16_t
dp_fork_copy(struct dp_worker *w, struct dp_stream *s, const struct rte_mbuf *m,
	     const struct dp_pkt_meta *pm, struct rte_mbuf **out)
{
	struct rte_ether_addr mac;
	struct rtpb_addr from;
	struct rte_mbuf *c;

	if (unlikely(dp_nexthop_mac_at(s->fork_addr_idx, &s->fork_nh_idx,
				       &s->fork_target, &mac) != RTPB_DROP_NONE))
		goto drop;
	c = rte_pktmbuf_copy(m, dp_ctx.pool, 0, UINT32_MAX);
	if (unlikely(c == NULL))
		goto drop;
	from = dp_ctx.addrs[s->fork_addr_idx].sock;
	from.port = s->fork_port;
	if (unlikely(dp_rewrite_udp(c, pm, &from, &s->fork_target, &dp_ctx.mac, &mac,
				    dp_ctx.mtu) != RTPB_DROP_NONE)) {
		rte_pktmbuf_free(c);
		goto drop;
	}
	*out = c;
	return 1;
drop:
	w->stats->fork_drops++;
	return 0;
}

/**
 * Send the n fork copies of a burst on w's TX queue; what the queue did
 * not take is freed and counted in fork_drops.
 */
static inline void
dp_fork_flush(struct dp_worker *w, struct rte_mbuf **c, uint16_t n)
{
	uint64_t bytes[DP_BURST];
	uint16_t i, sent;

	for (i = 0; i < n; i++)
		bytes[i] = rte_pktmbuf_pkt_len(c[i]);
	sent = rte_eth_tx_burst(dp_ctx.tx_port_id, w->queue, c, n);
	w->stats->fork_copies += sent;
	w->stats->tx_pkts += sent;
	for (i = 0; i < sent; i++)
		w->stats->tx_bytes += bytes[i];
	for (i = sent; i < n; i++)
		rte_pktmbuf_free(c[i]);
	w->stats->fork_drops += (uint64_t)(n - sent);
}

#endif /* DP_FORK_H */
