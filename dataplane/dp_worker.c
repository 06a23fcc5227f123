/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_worker.c: the fast path. One loop per worker lcore: RX burst ->
 * parse -> flow lookup (bulk) -> latch -> rewrite -> TX burst.
 *
 * Rules: no allocation, no syscall, no lock, no log here. Every mbuf
 * received is sent, passed to another lcore through a ring, or freed
 * with its drop reason counted. Counters are per lcore and per stream
 * (in shared memory, single writer each).
 */
#include <stdatomic.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "rtpb_msg.h"
#include "rtpb_pf_rules.h"
#include "dp_ctl.h"
#include "dp_flow.h"
#include "dp_latch.h"
#include "dp_nd.h"
#include "dp_parse.h"
#include "dp_rewrite.h"
#include "dp_worker.h"

static inline void
worker_drop(struct dp_worker *w, struct rte_mbuf *m, enum rtpb_drop why)
{
	w->stats->drops[why]++;
	rte_pktmbuf_free(m);
}

/* A packet of stream id counted in, not relayed: relayed = in - dropped
 * (rtpb_shm_stream_read()). */
static inline void
worker_stream_drop(uint32_t id, uint16_t payload_len)
{
	struct rtpb_stream_ctrs *c = rtpb_shm_stream_ctrs(dp_ctx.shm, id);

	c->pkts_dropped++;
	c->bytes_dropped += payload_len;
}

/* A source no peer can have: the rules of the XDP prefilter (bogon
 * ranges, a relay address, port 0), shared with it. */
static inline int
worker_bogon(const struct rtpb_addr *src)
{
	if (unlikely(src->port == 0))
		return 1;
	if (likely(src->family == RTPB_AF_INET))
		return rtpb_pf_bogon4(src->ip) || dp_addr_index(rtpb_addr_v4(src)) >= 0;
	return rtpb_pf_bogon6(src->ip) || dp_addr6_index(src->ip) >= 0;
}

/* Next-hop MAC toward dst from stream o's relay address, either family:
 * dst itself if on-link for that address's prefix, else the gateway of
 * the family. Caches the neighbour slot (of the family's table) in o.
 * Returns 0, or the drop reason; unresolved next hops are sent to the
 * main lcore on nh_req (struct rtpb_addr) and the packet is dropped. */
static inline int
worker_nexthop(struct dp_stream *o, const struct rtpb_addr *dst,
	       struct rte_ether_addr *mac)
{
	struct rtpb_addr req;
	const uint8_t *nh6;
	uint32_t nh;
	int slot;

	if (unlikely(dst->family != dp_ctx.addrs[o->addr_idx].family))
		return RTPB_DROP_FAMILY;
	if (likely(dst->family == RTPB_AF_INET)) {
		nh = rtpb_addr_v4(dst);
		if (!dp_addr_onlink4(o->addr_idx, nh))
			nh = dp_ctx.gateway;
		if (unlikely(nh == 0))
			return RTPB_DROP_NO_ROUTE;
		if (likely(dp_neigh_mac(dp_ctx.neigh, o->nh_idx, nh, mac)))
			return 0;
		slot = dp_neigh_find(dp_ctx.neigh, nh);
		if (slot >= 0 && dp_neigh_mac(dp_ctx.neigh, slot, nh, mac)) {
			o->nh_idx = (uint16_t)slot;
			return 0;
		}
		rtpb_addr_set_v4(&req, nh, 0);
	} else {
		nh6 = dst->ip;
		if (!dp_addr_onlink6(o->addr_idx, nh6)) {
			if (unlikely(!dp_ctx.gateway6_set))
				return RTPB_DROP_NO_ROUTE;
			nh6 = dp_ctx.gateway6;
		}
		if (likely(dp_neigh6_mac(dp_ctx.neigh, o->nh_idx, nh6, mac)))
			return 0;
		slot = dp_neigh6_find(dp_ctx.neigh, nh6);
		if (slot >= 0 && dp_neigh6_mac(dp_ctx.neigh, slot, nh6, mac)) {
			o->nh_idx = (uint16_t)slot;
			return 0;
		}
		memset(&req, 0, sizeof(req));
		req.family = RTPB_AF_INET6;
		memcpy(req.ip, nh6, 16);
	}
	/* Ask the main lcore to resolve it; the packet is not queued. */
	rte_ring_mp_enqueue_elem(dp_ctx.nh_req, &req, sizeof(req));
	return RTPB_DROP_NEIGH_PENDING;
}

/* Stream id latched (s->peer is new): tell control; on an RTP handover
 * move the leg's RTCP stream along (DESIGN.md §4.6), and report the
 * leg's other stream when a proof or a revert moved it too (§4.9). The
 * pair has the same owner (one session, one worker), so this lcore may
 * write it. */
static void
worker_latched(struct dp_worker *w, uint32_t id, struct dp_stream *s,
	       const struct dp_latch_ev *lev, uint64_t now_ns)
{
	struct dp_stream *pair = s->pair_stream_id < dp_ctx.max_streams ?
		&dp_ctx.streams[s->pair_stream_id] : NULL;
	struct dp_latch_ev rev;

	dp_ctl_latch_event(w, id, s, lev);
	/* the return stream goes there next: resolve its next hop now */
	dp_ctl_prefetch_nexthop(s, &s->peer);
	if (pair == NULL)
		return;
	memset(&rev, 0, sizeof(rev));
	if (lev->pair_moved) {
		rev.reason = RTPB_LATCH_REVERT;
		rev.old = lev->pair_old;
		rev.refused = lev->pair_refused;
	} else if ((lev->reason == RTPB_LATCH_SSRC || lev->reason == RTPB_LATCH_PROBATION ||
		    lev->reason == RTPB_LATCH_CNAME) && !(s->flags & RTPB_STREAM_F_RTCP)) {
		rev.reason = RTPB_LATCH_RTCP_FOLLOW;
		rev.old = pair->peer;
		if (!dp_latch_rtcp_follow(pair, s, now_ns))
			return;
	} else {
		return;
	}
	dp_ctl_latch_event(w, s->pair_stream_id, pair, &rev);
	dp_ctl_prefetch_nexthop(pair, &pair->peer);
}

/* Relay one UDP packet of stream id. Returns 0 and fills tx, or a drop
 * reason. */
static inline int
worker_relay(struct dp_worker *w, struct rte_mbuf *m,
	     const struct dp_pkt_meta *pm, uint32_t id, uint64_t now_ns)
{
	struct dp_stream *s = &dp_ctx.streams[id], *o;
	const uint8_t *payload = rte_pktmbuf_mtod_offset(m, const uint8_t *,
		pm->l4_off + sizeof(struct rte_udp_hdr));
	const struct rtpb_addr *dst;
	struct rtpb_addr from;
	struct dp_latch_pkt lp;
	struct dp_latch_ev lev;
	struct rte_ether_addr mac;
	int r;

	s->pkts.pkts_in++;
	s->pkts.bytes_in += pm->payload_len;
	if (unlikely(pm->payload_len == 0 || !dp_parse_media_class_ok(payload[0])))
		return RTPB_DROP_BAD_CLASS;

	/* The header decides something only when the source is not the
	 * latched peer (it may latch or count in probation): check its
	 * checksum then, if the PMD did not (dp_parse.h). */
	if (unlikely(pm->l3_unverified) && !rtpb_addr_eq(&pm->src, &s->peer) &&
	    !dp_parse_l3_csum_ok(m, pm))
		return RTPB_DROP_BAD_CSUM;
	dp_latch_parse(payload, pm->payload_len, &lp);
	switch (dp_latch_rx(dp_ctx.streams, dp_ctx.max_streams, id, &dp_ctx.latch,
			    &pm->src, &lp, now_ns, &lev)) {
	case DP_LATCH_ACCEPT:
		break;
	case DP_LATCH_NEW_PEER:
		worker_latched(w, id, s, &lev, now_ns);
		break;
	default:
		rtpb_shm_stream_ctrs(dp_ctx.shm, id)->drop_not_peer++;
		/* 0 is RTPB_DROP_TRUNCATED, which a caller reads as "relay it":
		 * never let a drop verdict come back as 0 */
		return lev.drop != 0 ? lev.drop : RTPB_DROP_NOT_PEER;
	}

	if (unlikely(s->out_stream_id >= dp_ctx.max_streams))
		return RTPB_DROP_NO_PEER;
	o = &dp_ctx.streams[s->out_stream_id];
	if (unlikely(o->state == DP_LATCH_FREE || (dst = dp_latch_dest(o)) == NULL))
		return RTPB_DROP_NO_PEER;
	/* Bridging rebuilds the IP header: the old one must be right. */
	if (unlikely(dst->family != pm->dst.family) && !dp_parse_l3_csum_ok(m, pm))
		return RTPB_DROP_BAD_CSUM;
	r = worker_nexthop(o, dst, &mac);
	if (unlikely(r != 0))
		return r;
	from = dp_ctx.addrs[o->addr_idx].sock;
	from.port = o->local_port;
	return dp_rewrite_udp(m, pm, &from, dst, &dp_ctx.mac, &mac, dp_ctx.mtu);
}

void
dp_worker_burst(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n,
		int handed_off, uint64_t now_ns)
{
	struct dp_pkt_meta meta[DP_BURST];
	struct dp_flow_key keys[DP_BURST];
	const void *keyp[DP_BURST];
	uint32_t ids[DP_BURST], outs[DP_BURST], tx_ids[DP_BURST];
	uint16_t kidx[DP_BURST], tx_len[DP_BURST];
	struct rte_mbuf *tx[DP_BURST];
	struct rte_mbuf *ho[RTPB_MAX_WORKERS][DP_BURST];
	uint16_t n_ho[RTPB_MAX_WORKERS] = {0};
	uint32_t ho_owners = 0;
	uint16_t i, j, nk = 0, ntx = 0, sent;
	uint64_t hits;
	int a, r;

	dp_parse_burst(pkts, n, meta);
	for (i = 0; i < n; i++) {
		struct dp_pkt_meta *pm = &meta[i];

		if (unlikely(pm->kind == DP_PKT_ARP || pm->kind == DP_PKT_ND)) {
			/* Other hosts' NDP (all-multicast mode) stays here. */
			if (pm->kind == DP_PKT_ND && !dp_nd_for_relay(pm->dst.ip))
				worker_drop(w, pkts[i], RTPB_DROP_ND_OTHER);
			else if (rte_ring_mp_enqueue(dp_ctx.sp_rx, pkts[i]) != 0)
				worker_drop(w, pkts[i], RTPB_DROP_RING_FULL);
			else
				w->stats->slowpath_out++;
			continue;
		}
		if (unlikely(pm->kind != DP_PKT_UDP)) {
			worker_drop(w, pkts[i], pm->drop);
			continue;
		}
		a = likely(pm->dst.family == RTPB_AF_INET) ?
			dp_addr_index(rtpb_addr_v4(&pm->dst)) : dp_addr6_index(pm->dst.ip);
		if (unlikely(a < 0)) {
			worker_drop(w, pkts[i], RTPB_DROP_NOT_LOCAL);
			continue;
		}
		/* The prefilter's source rules, in software for NICs with no
		 * XDP program in front (DESIGN.md §5, rtpb_pf_rules.h). */
		if (unlikely(worker_bogon(&pm->src))) {
			worker_drop(w, pkts[i], RTPB_DROP_BOGON);
			continue;
		}
		if (dp_ctx.n_workers > 1 && !handed_off) {
			uint8_t owner = *rtpb_shm_port_owner(dp_ctx.shm, (uint32_t)a,
				rte_be_to_cpu_16(pm->dst.port));

			if (owner != w->idx && owner < dp_ctx.n_workers) {
				if (n_ho[owner]++ == 0)
					ho_owners |= 1u << owner;
				ho[owner][n_ho[owner] - 1] = pkts[i];
				continue;
			}
		}
		dp_flow_key_set(&keys[nk], (uint32_t)a, pm->dst.port);
		keyp[nk] = &keys[nk];
		kidx[nk++] = i;
	}

	/* Hand-offs go out in one burst per owner (one ring operation, not
	 * one compare-and-swap per packet). */
	while (ho_owners != 0) {
		uint32_t o = (uint32_t)rte_bsf32(ho_owners);
		unsigned int done;

		ho_owners &= ho_owners - 1;
		done = rte_ring_mp_enqueue_burst(dp_ctx.workers[o].handoff,
						 (void **)ho[o], n_ho[o], NULL);
		w->stats->handoff_out += done;
		for (j = (uint16_t)done; j < n_ho[o]; j++)
			worker_drop(w, ho[o][j], RTPB_DROP_RING_FULL);
	}

	hits = dp_flow_lookup_burst(w->flow, keyp, nk, ids, outs);
	/* Prefetch the whole burst's streams and the other legs' (with a
	 * million streams each is a DRAM access): the flow table gives both
	 * ids, so the two loads go out together rather than one after the
	 * other; by the time the loop below reaches a packet its lines are
	 * in. Line 0 of each: state, peer, counters. */
	for (j = 0; j < nk; j++) {
		if (!(hits & (1ull << j)))
			continue;
		rte_prefetch0(&dp_ctx.streams[ids[j]]);
		if (likely(outs[j] < dp_ctx.max_streams))
			rte_prefetch0(&dp_ctx.streams[outs[j]]);
	}
	for (j = 0; j < nk; j++) {
		i = kidx[j];
		if (unlikely(!(hits & (1ull << j)))) {
			worker_drop(w, pkts[i], RTPB_DROP_NO_STREAM);
			continue;
		}
		r = worker_relay(w, pkts[i], &meta[i], ids[j], now_ns);
		if (unlikely(r != 0)) {
			worker_stream_drop(ids[j], meta[i].payload_len);
			worker_drop(w, pkts[i], (enum rtpb_drop)r);
			continue;
		}
		tx_ids[ntx] = ids[j];
		tx_len[ntx] = meta[i].payload_len;
		tx[ntx++] = pkts[i];
	}
	if (ntx == 0)
		return;
	sent = rte_eth_tx_burst(dp_ctx.tx_port_id, w->queue, tx, ntx);
	w->stats->relayed += sent;
	w->stats->tx_pkts += sent;
	for (i = 0; i < sent; i++)
		w->stats->tx_bytes += rte_pktmbuf_pkt_len(tx[i]);
	for (i = sent; i < ntx; i++) {
		worker_stream_drop(tx_ids[i], tx_len[i]);
		worker_drop(w, tx[i], RTPB_DROP_TX_FULL);
	}
}

/* Worker 0 also sends the frames the main lcore built (ARP, NDP). */
static void
worker_slowpath_tx(struct dp_worker *w)
{
	struct rte_mbuf *m[DP_BURST];
	unsigned int n, sent, i;

	n = rte_ring_sc_dequeue_burst(dp_ctx.sp_tx, (void **)m, DP_BURST, NULL);
	if (n == 0)
		return;
	sent = rte_eth_tx_burst(dp_ctx.port_id, w->queue, m, (uint16_t)n);
	w->stats->tx_pkts += sent;
	for (i = sent; i < n; i++)
		worker_drop(w, m[i], RTPB_DROP_TX_FULL);
}

int
dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct rte_mbuf *pkts[DP_BURST];
	uint64_t loops = 0, t0, t1, now_ns;
	uint16_t n, i;
	unsigned int nh;

	while (!atomic_load_explicit(&dp_quit, memory_order_relaxed)) {
		t0 = rte_rdtsc();
		now_ns = dp_now_ns();
		/* heartbeat (rtpb_shm.h): its own line, a plain store */
		atomic_store_explicit(&dp_ctx.shm->beat[w->idx].loops, loops,
				      memory_order_relaxed);
		/* Control waits for its messages to be applied before it
		 * answers U/L (the phones send at once): look every loop; an
		 * empty ring costs two loads of lines nobody else writes. */
		if (unlikely(!rte_ring_empty(w->c2d)))
			dp_ctl_drain(w, now_ns);
		if ((loops++ & (DP_CTL_EVERY - 1)) == 0 && w->idx == 0)
			worker_slowpath_tx(w);
		n = rte_eth_rx_burst(dp_ctx.port_id, w->queue, pkts, DP_BURST);
		if (n > 0) {
			w->stats->rx_pkts += n;
			for (i = 0; i < n; i++)
				w->stats->rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
			dp_worker_burst(w, pkts, n, 0, now_ns);
		}
		nh = 0;
		if (w->handoff != NULL) {
			nh = rte_ring_sc_dequeue_burst(w->handoff, (void **)pkts,
						       DP_BURST, NULL);
			if (nh > 0)
				dp_worker_burst(w, pkts, (uint16_t)nh, 1, now_ns);
		}
		t1 = rte_rdtsc();
		w->stats->total_cycles += t1 - t0;
		if (n > 0 || nh > 0)
			w->stats->busy_cycles += t1 - t0;
	}
	return 0;
}
