/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_worker.c: the fast path. One loop per worker lcore; each burst goes
 * through the stages in this order (dp_worker_burst()):
 *
 *   rx -> parse -> filter -> flow -> handoff -> latch (-> mirror) ->
 *   nexthop -> (fork ->) rewrite -> tx
 *
 * rx: rte_eth_rx_burst() (or the handoff ring); parse: dp_parse.h;
 * filter: dp_filter.h (to a relay address, source rules; an HA standby
 * drops here, dp_ha.h); flow: dp_flow.h (one load of the direct-indexed
 * table gives the stream); handoff: dp_handoff.h (to the worker that owns
 * the stream); latch: dp_latch.h (is the source the
 * peer?); nexthop: dp_nexthop.h (the MAC toward the other leg's peer);
 * rewrite: dp_rewrite.h; tx: rte_eth_tx_burst(). Played packets (P)
 * come from control's play ring and leave by dp_play.h, every
 * DP_PLAY_EVERY loops. ARP and NDP leave after
 * parse, for the main lcore (dp_arp.c, dp_nd.c), whose replies worker 0
 * sends (dp_slowtx.h).
 *
 * Rules: no allocation, no syscall, no lock, no log here. Every mbuf
 * received is sent, passed to another lcore through a ring, or freed
 * with its drop reason counted. Counters are per lcore and per stream
 * (in shared memory, single writer each).
 */
#include <stdatomic.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "rtpb_msg.h"
#include "dp_ctl.h"
#include "dp_dtmf.h"
#include "dp_filter.h"
#include "dp_flow.h"
#include "dp_fork.h"
#include "dp_ha.h"
#include "dp_handoff.h"
#include "dp_lat.h"
#include "dp_latch.h"
#include "dp_mirror.h"
#include "dp_nd.h"
#include "dp_nexthop.h"
#include "dp_parse.h"
#include "dp_play.h"
#include "dp_rewrite.h"
#include "dp_rtpa_stage.h"
#include "dp_slowtx.h"
#include "dp_worker.h"

/* A packet of stream id counted in, not relayed: relayed = in - dropped
 * (rtpb_shm_stream_read()). */
static inline void
worker_stream_drop(uint32_t id, uint16_t payload_len)
{
	struct rtpb_stream_ctrs *c = rtpb_shm_stream_ctrs(dp_ctx.shm, id);

	c->pkts_dropped++;
	c->bytes_dropped += payload_len;
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
	dp_nexthop_prefetch(s, &s->peer);
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
	dp_nexthop_prefetch(pair, &pair->peer);
}

/* Recording (docs/RECORDING.md): copy a packet stream s accepted, as
 * received, into this worker's mirror ring. Only streams with
 * RTPB_STREAM_F_RECORD come here; a full ring drops the copy, never the
 * packet. */
static void
worker_mirror(struct dp_worker *w, const struct dp_stream *s,
	      const struct dp_pkt_meta *pm, const struct dp_latch_pkt *lp,
	      const uint8_t *payload, uint64_t now_ns)
{
	struct rtpb_mirror_rec h = {
		.ts_ns = now_ns + dp_ctx.rt_off_ns,
		.rec_id = s->rec_id,
		.orig_len = pm->payload_len,
		.dir = (s->flags & RTPB_STREAM_F_REC_ORIG) ? RTPB_MIRROR_DIR_O :
							      RTPB_MIRROR_DIR_A,
		/* under rtcp-mux the RTP stream's RTCP is RTCP (RFC 5761) */
		.kind = lp->kind == DP_LATCH_PKT_RTCP ? RTPB_MIRROR_RTCP : RTPB_MIRROR_RTP,
		.worker = (uint8_t)w->idx,
		.src = pm->src,
		.dst = pm->dst,
	};

	if (likely(dp_mirror_copy(w->mirror, &h, payload) == 0))
		w->stats->mirror_copies++;
	else
		w->stats->mirror_drops++;
}

/* DTMF catching (dp_dtmf.h, docs/DTMF.md): an RFC 4733 packet of a
 * stream with RTPB_STREAM_F_DTMF; an event's end goes to control once.
 * Returns RTPB_DROP_DTMF_HIDDEN if the stream hides its events ('h'). */
static enum rtpb_drop
worker_dtmf(struct dp_worker *w, uint32_t id, struct dp_stream *s,
	    const struct dp_latch_pkt *lp)
{
	struct dp_dtmf_report rep;
	struct rtpb_msg ev;

	if (dp_dtmf_rx(&dp_ctx.dtmf[id], lp->p, lp->len, &rep)) {
		dp_ctl_event_init(w, &ev, RTPB_MSG_EV_DTMF);
		ev.ev_dtmf.stream_id = id;
		ev.ev_dtmf.worker = w->idx;
		ev.ev_dtmf.cookie = s->cookie;
		ev.ev_dtmf.ts = rep.ts;
		ev.ev_dtmf.duration = rep.duration;
		ev.ev_dtmf.event = rep.event;
		ev.ev_dtmf.volume = rep.volume;
		dp_ctl_event(w->stats, &ev);
	}
	return (s->dtmf_pt & RTPB_DTMF_PT_HIDE) ? RTPB_DROP_DTMF_HIDDEN : RTPB_DROP_NONE;
}

/* The latch stage for one UDP packet of stream id (is_peer: its source
 * is the stream's peer, compared once by the caller): count it in, check
 * it may be media (RFC 7983 class), run the latch, and find where it
 * goes: the other leg's stream (*out) and its peer (*dst).
 * Returns RTPB_DROP_NONE, or why the packet is dropped. */
static inline enum rtpb_drop
worker_latch(struct dp_worker *w, struct rte_mbuf *m,
	     const struct dp_pkt_meta *pm, uint32_t id, int is_peer, uint64_t now_ns,
	     struct dp_stream **out, const struct rtpb_addr **dst)
{
	struct dp_stream *s = &dp_ctx.streams[id], *o;
	const uint8_t *payload = rte_pktmbuf_mtod_offset(m, const uint8_t *,
		pm->l4_off + sizeof(struct rte_udp_hdr));
	struct dp_latch_pkt lp;
	struct dp_latch_ev lev;

	s->pkts.pkts_in++;
	s->pkts.bytes_in += pm->payload_len;
	if (unlikely(pm->payload_len == 0 || !dp_parse_media_class_ok(payload[0])))
		return RTPB_DROP_BAD_CLASS;

	/* The header decides something only when the source is not the
	 * latched peer (it may latch or count in probation): check its
	 * checksum then, if the PMD did not (dp_parse.h). */
	if (unlikely(pm->l3_unverified) && !is_peer && !dp_parse_l3_csum_ok(m, pm))
		return RTPB_DROP_BAD_CSUM;
	dp_latch_parse(payload, pm->payload_len, &lp);
	switch (dp_latch_rx_inline(dp_ctx.streams, dp_ctx.max_streams, id, &dp_ctx.latch,
				   &pm->src, is_peer, &lp, now_ns, &lev)) {
	case DP_LATCH_ACCEPT:
		break;
	case DP_LATCH_NEW_PEER:
		worker_latched(w, id, s, &lev, now_ns);
		break;
	default:
		rtpb_shm_stream_ctrs(dp_ctx.shm, id)->drop_not_peer++;
		return (enum rtpb_drop)lev.drop;
	}
	/* from the peer: RTP analysis (dp_rtpa_stage.h) */
	dp_rtpa_stage(id, s, &lp, now_ns);
	/* DTMF catching: flags and dtmf_pt are in line 0, already loaded */
	if (unlikely(s->flags & RTPB_STREAM_F_DTMF) && lp.kind == DP_LATCH_PKT_RTP &&
	    (payload[1] & 0x7f) == (s->dtmf_pt & 0x7f) &&
	    worker_dtmf(w, id, s, &lp) != RTPB_DROP_NONE)
		return RTPB_DROP_DTMF_HIDDEN;
	/* a prompt plays to the other party (P): its media waits (line 0) */
	if (unlikely(s->flags & RTPB_STREAM_F_HOLD))
		return RTPB_DROP_HELD;

	if (unlikely(s->out_stream_id >= dp_ctx.max_streams))
		return RTPB_DROP_NO_PEER;
	o = &dp_ctx.streams[s->out_stream_id];
	if (unlikely(o->state == DP_LATCH_FREE || (*dst = dp_latch_dest(o)) == NULL))
		return RTPB_DROP_NO_PEER;
	/* Bridging rebuilds the IP header: the old one must be right. */
	if (unlikely((*dst)->family != pm->dst.family) && !dp_parse_l3_csum_ok(m, pm))
		return RTPB_DROP_BAD_CSUM;
	/* accepted for relaying: a recorded stream copies it (its flags are
	 * in line 0, already loaded: nothing more for the others) */
	if (unlikely(s->flags & RTPB_STREAM_F_RECORD))
		worker_mirror(w, s, pm, &lp, payload, now_ns);
	*out = o;
	return RTPB_DROP_NONE;
}

/* ARP and NDP go to the main lcore (sp_rx); other hosts' NDP (the port
 * is in all-multicast mode) stays here. */
static inline void
worker_slowpath_rx(struct dp_worker *w, struct rte_mbuf *m,
		   const struct dp_pkt_meta *pm)
{
	if (pm->kind == DP_PKT_ND && !dp_nd_for_relay(pm->dst.ip))
		dp_drop(w->stats, m, RTPB_DROP_ND_OTHER);
	else if (rte_ring_mp_enqueue(dp_ctx.sp_rx, m) != 0)
		dp_drop(w->stats, m, RTPB_DROP_RING_FULL);
	else
		w->stats->slowpath_out++;
}

/* Prefetch stream id and its other leg out (the flow entry gives both
 * ids, so with a million streams the two DRAM loads go out together
 * rather than one after the other); by the time the latch reaches the
 * packet its lines are in. Line 0 of each: state, peer, counters; and
 * line 1 of the stream, its RTP analysis. */
static inline void
worker_prefetch_streams(uint32_t id, uint32_t out)
{
	rte_prefetch0(&dp_ctx.streams[id]);
	rte_prefetch0(&dp_ctx.streams[id].rtpa); /* line 1, the pair of line 0 */
	if (likely(out < dp_ctx.max_streams))
		rte_prefetch0(&dp_ctx.streams[out]);
}

void
dp_worker_burst(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n,
		int handed_off, uint64_t now_ns)
{
	struct dp_pkt_meta meta[DP_BURST];
	uint32_t slots[DP_BURST], ids[DP_BURST], tx_ids[DP_BURST];
	uint16_t kidx[DP_BURST], tx_len[DP_BURST];
	struct rte_mbuf *tx[DP_BURST], *fork[DP_BURST];
	struct dp_handoff ho;
	uint16_t i, j, nk = 0, nf = 0, ntx = 0, nfork = 0, sent;
	uint32_t rx_bytes, tx_bytes = 0;
	enum rtpb_drop r;
	int a = 0;
	/* HA standby: relay nothing (dp_ha.h); one load per burst */
	const bool silent = dp_ha_silent();

	/* parse; RX counters of frames from the port (a handed-off frame
	 * was counted by the worker that received it) */
	rx_bytes = dp_parse_burst(pkts, n, meta);
	if (!handed_off) {
		w->stats->rx_pkts += n;
		w->stats->rx_bytes += rx_bytes;
	}
	for (i = 0; i < n; i++) {
		const struct dp_pkt_meta *pm = &meta[i];

		if (unlikely(pm->kind == DP_PKT_ARP || pm->kind == DP_PKT_ND)) {
			worker_slowpath_rx(w, pkts[i], pm);
			continue;
		}
		/* filter */
		r = likely(pm->kind == DP_PKT_UDP) ? dp_filter_udp(pm, &a) :
						     (enum rtpb_drop)pm->drop;
		/* a standby counts what the source rules drop, as before the
		 * flow lookup took them over (dp_filter.h) */
		if (unlikely(silent) && r == RTPB_DROP_NONE)
			r = dp_filter_bogon(&pm->src) ? RTPB_DROP_BOGON : RTPB_DROP_STANDBY;
		if (unlikely(r != RTPB_DROP_NONE)) {
			dp_drop(w->stats, pkts[i], r);
			continue;
		}
		/* the flow entry's line, loaded in the next loop */
		slots[nk] = dp_flow_slot((uint32_t)a, pm->dst.port);
		dp_flow_prefetch(&dp_ctx.flow, slots[nk]);
		kidx[nk++] = i;
	}

	/* flow, handoff: one lookup tells the stream and its owner */
	dp_handoff_init(&ho);
	for (j = 0; j < nk; j++) {
		uint32_t id, out;

		i = kidx[j];
		id = dp_flow_get(&dp_ctx.flow, slots[j], &out);
		if (unlikely(id == RTPB_STREAM_NONE)) {
			/* the source rules first, as the prefilter has them */
			dp_drop(w->stats, pkts[i], dp_filter_bogon(&meta[i].src) ?
				RTPB_DROP_BOGON : RTPB_DROP_NO_STREAM);
			continue;
		}
		if (dp_handoff_take(&ho, w, handed_off, id, pkts[i]))
			continue;
		worker_prefetch_streams(id, out);
		ids[nf] = id;
		kidx[nf++] = i;
	}
	dp_handoff_flush(&ho, w);

	for (j = 0; j < nf; j++) {
		struct dp_stream *o = NULL;
		const struct rtpb_addr *dst = NULL;
		struct rte_ether_addr mac;
		struct rtpb_addr from;

		const struct dp_stream *s = &dp_ctx.streams[ids[j]];
		int is_peer;

		i = kidx[j];
		/* filter by source, unless it is the (vetted) peer */
		is_peer = rtpb_addr_eq(&meta[i].src, &s->peer);
		if (unlikely(dp_filter_src(s, &meta[i].src, is_peer))) {
			dp_drop(w->stats, pkts[i], RTPB_DROP_BOGON);
			continue;
		}
		/* latch, nexthop, rewrite */
		r = worker_latch(w, pkts[i], &meta[i], ids[j], is_peer, now_ns, &o, &dst);
		if (likely(r == RTPB_DROP_NONE))
			r = dp_nexthop_mac(o, dst, &mac);
		if (likely(r == RTPB_DROP_NONE)) {
			/* fork (dp_fork.h): a copy of the packet before its
			 * rewrite; line 0's flags, already loaded, say if */
			if (unlikely(dp_ctx.streams[ids[j]].flags & RTPB_STREAM_F_FORK))
				nfork += dp_fork_copy(w, &dp_ctx.streams[ids[j]], pkts[i],
						      &meta[i], &fork[nfork]);
			from = dp_ctx.addrs[o->addr_idx].sock;
			from.port = o->local_port;
			r = dp_rewrite_udp(pkts[i], &meta[i], &from, dst, &dp_ctx.mac,
					   &mac, dp_ctx.mtu);
			/* "&& S tos=": o's flags are in line 0, already loaded */
			if (unlikely(o->flags & RTPB_STREAM_F_TOS) && r == RTPB_DROP_NONE)
				dp_rewrite_tos(pkts[i], meta[i].l3_off, dst->family, o->tos);
		}
		if (unlikely(r != RTPB_DROP_NONE)) {
			worker_stream_drop(ids[j], meta[i].payload_len);
			dp_drop(w->stats, pkts[i], r);
			continue;
		}
		tx_ids[ntx] = ids[j];
		tx_len[ntx] = meta[i].payload_len;
		tx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
		tx[ntx++] = pkts[i];
	}

	if (unlikely(nfork > 0))
		dp_fork_flush(w, fork, nfork);
	/* tx */
	if (ntx == 0)
		return;
	sent = rte_eth_tx_burst(dp_ctx.tx_port_id, w->queue, tx, ntx);
	w->stats->relayed += sent;
	w->stats->tx_pkts += sent;
	for (i = sent; i < ntx; i++) {
		tx_bytes -= rte_pktmbuf_pkt_len(tx[i]);
		worker_stream_drop(tx_ids[i], tx_len[i]);
		dp_drop(w->stats, tx[i], RTPB_DROP_TX_FULL);
	}
	w->stats->tx_bytes += tx_bytes;
}

/*
 * A (re)started dataplane: apply control's messages (HELLO, the replay)
 * and send worker 0's slow-path frames (the ARP/NDP requests for the
 * replayed peers' next hops), but leave RX alone until control says its
 * replay is pushed (rtpb_shm_hdr.replayed) or dp_ctx.replay_wait_ns has
 * passed. What arrives meanwhile waits in the RX ring and then finds its
 * stream, instead of being dropped as no_stream (DESIGN.md §2). Before
 * the loop only; not on the per-packet path.
 */
static void
worker_wait_replay(struct dp_worker *w)
{
	uint64_t start = dp_now_ns(), now_ns = start, loops = 0;

	while (!atomic_load_explicit(&dp_quit, memory_order_relaxed) &&
	       now_ns - start < dp_ctx.replay_wait_ns &&
	       !atomic_load_explicit(&dp_ctx.shm->replayed, memory_order_acquire)) {
		atomic_store_explicit(&dp_ctx.shm->beat[w->idx].loops, loops++,
				      memory_order_relaxed);
		while (dp_ctl_drain(w, now_ns) > 0)
			;
		if (w->idx == 0)
			dp_slowtx_send(w);
		rte_delay_us_sleep(100);
		now_ns = dp_now_ns();
	}
	/* what control pushed before setting replayed (acquire above) */
	while (dp_ctl_drain(w, dp_now_ns()) > 0)
		;
}

int
dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct rte_mbuf *pkts[DP_BURST];
	struct dp_lat lat;
	uint64_t loops = 0, t0, t1, now_ns, lat_t;
	uint16_t n;
	unsigned int nh;

	dp_lat_init(&lat, rte_get_tsc_hz());
	if (dp_ctx.replay_wait_ns != 0)
		worker_wait_replay(w);
	/* One TSC read per loop: the end of a loop is the start of the
	 * next, and now_ns is derived from it. */
	t0 = rte_rdtsc();
	while (!atomic_load_explicit(&dp_quit, memory_order_relaxed)) {
		now_ns = dp_tsc_ns(t0);
		/* heartbeat (rtpb_shm.h): its own line, a plain store */
		atomic_store_explicit(&dp_ctx.shm->beat[w->idx].loops, loops,
				      memory_order_relaxed);
		/* Control waits for its messages to be applied before it
		 * answers U/L (the phones send at once): look every loop; an
		 * empty ring costs two loads of lines nobody else writes. */
		if (unlikely(!rte_ring_empty(w->c2d)))
			dp_ctl_drain(w, now_ns);
		/* playback: what control's player made due (dp_play.h) */
		if ((loops & (DP_PLAY_EVERY - 1)) == 0)
			dp_play_drain(w);
		if ((loops++ & (DP_SLOWTX_EVERY - 1)) == 0 && w->idx == 0)
			dp_slowtx_send(w);
		n = rte_eth_rx_burst(dp_ctx.port_id, w->queue, pkts, DP_BURST);
		if (n > 0) {
			lat_t = dp_lat_begin(&lat, w->stats); /* dp_lat.h */
			dp_worker_burst(w, pkts, n, 0, now_ns);
			dp_lat_end(&lat, w->stats, lat_t);
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
		t0 = t1;
	}
	return 0;
}
