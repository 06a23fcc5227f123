/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_latch.c: latching, handover probation, liveness and proof (see
 * dp_latch.h and DESIGN.md §4). Pure functions of their arguments.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_hash_crc.h>

#include "rtpb_msg.h"
#include "rtpb_pf_rules.h"
#include "dp_latch.h"

/* ns constants in ticks (dp_stream_tick()). */
#define TICKS(ns) ((uint32_t)((ns) >> DP_STREAM_TICK_SHIFT))

/* RTCP packet types (RFC 3550 §12.1) and the SDES CNAME item (§6.5.1). */
#define RTCP_SDES 202
#define SDES_END 0
#define SDES_CNAME 1
#define RTCP_MAX_PACKETS 8 /* packets of a compound read */
#define SDES_MAX_ITEMS 16  /* items of a chunk read */

/* rte_hash_crc() of len bytes (at most 255) at p, which may lie at any
 * offset: rte_hash_crc() loads 8, 4 and 2 bytes through pointers of
 * those types, so it is given an aligned copy (a misaligned load is
 * undefined behaviour; fuzz_pkt's UBSan found it on a CNAME at an odd
 * offset). Off the peer's path: a CNAME, another source's address. */
static uint32_t
latch_crc(const void *p, uint32_t len, uint32_t seed)
{
	uint64_t buf[32];

	memcpy(buf, p, len);
	return rte_hash_crc(buf, len, seed);
}

static inline uint32_t
be32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return rte_be_to_cpu_32(v);
}

/* The CNAME item of one SDES packet's chunk for ssrc (RFC 3550 6.5):
 * chunks of an SSRC then items (type, length, text) ended by a zero
 * byte and padded to 32 bits. [q, end) is the packet's chunk area. */
static uint32_t
sdes_cname(const uint8_t *p, uint32_t q, uint32_t end, uint32_t chunks,
	   uint32_t ssrc, uint32_t seed)
{
	uint32_t c, i, csrc, ilen;
	uint32_t start = q - 4; /* the packet's first byte: padding is relative to it */

	for (c = 0; c < chunks && q + 4 <= end; c++) {
		csrc = be32_at(p + q);
		q += 4;
		for (i = 0; i < SDES_MAX_ITEMS; i++) {
			if (q >= end)
				return 0;
			if (p[q] == SDES_END) {
				q++;
				q = start + RTE_ALIGN_CEIL(q - start, 4);
				break;
			}
			if (q + 2 > end)
				return 0;
			ilen = p[q + 1];
			if (q + 2 + ilen > end)
				return 0;
			if (p[q] == SDES_CNAME && csrc == ssrc) {
				uint32_t h;

				if (ilen == 0)
					return 0;
				h = latch_crc(p + q + 2, ilen, seed);
				return h != 0 ? h : 1;
			}
			q += 2 + ilen;
		}
		if (i == SDES_MAX_ITEMS)
			return 0;
	}
	return 0;
}

uint32_t
dp_latch_rtcp_cname(const uint8_t *p, uint16_t len, uint32_t seed)
{
	uint32_t off = 0, plen, sender = 0, n;
	uint32_t h;

	for (n = 0; n < RTCP_MAX_PACKETS && off + 8 <= len; n++) {
		if ((p[off] & 0xc0) != 0x80)
			return 0;
		plen = ((uint32_t)p[off + 2] << 8 | p[off + 3]) * 4 + 4;
		if (off + plen > len)
			return 0; /* truncated */
		if (n == 0)
			sender = be32_at(p + off + 4);
		if (p[off + 1] == RTCP_SDES) {
			h = sdes_cname(p, off + 4, off + plen, p[off] & 0x1f,
				       sender, seed);
			if (h != 0)
				return h;
		}
		off += plen;
	}
	return 0;
}

/* RFC 3550 A.1: seq continues max_seq (up to MAX_DROPOUT ahead, or up to
 * MAX_MISORDER behind). */
static inline int
latch_seq_in_window(uint16_t seq, uint16_t max_seq)
{
	uint16_t ahead = (uint16_t)(seq - max_seq);

	return ahead < DP_LATCH_MAX_DROPOUT ||
	       ahead > (uint16_t)(65536 - DP_LATCH_MAX_MISORDER);
}

static inline void
latch_candidate_reset(struct dp_stream *s)
{
	memset(&s->candidate, 0, sizeof(s->candidate));
	s->candidate_count = 0;
	s->candidate_ssrc = 0;
	s->candidate_seq = 0;
}

/* The stream that holds the leg's RTCP timing and CNAME: an RTCP stream
 * itself, an RTP stream with rtcp-mux, else the RTP stream's pair. */
static inline const struct dp_stream *
latch_rtcp_of_leg(const struct dp_stream *s, const struct dp_stream *pair)
{
	if ((s->flags & (RTPB_STREAM_F_RTCP | DP_STREAM_F_MUX_SEEN)) || pair == NULL)
		return s;
	return pair;
}

/* The peer's RTCP arrived within about two of its RTCP intervals. */
static inline int
latch_rtcp_alive(const struct dp_stream *r, uint32_t now)
{
	uint32_t lim;

	if (r->rtcp_tick == 0)
		return 0;
	lim = r->rtcp_ivl != 0 ? 2 * r->rtcp_ivl + r->rtcp_ivl / 4 :
				 TICKS(DP_LATCH_RTCP_UNKNOWN_NS);
	return now - r->rtcp_tick <= lim;
}

/* The peer's last RTP, ticks (0: none). On an rtcp-mux stream the last
 * accepted packet may be RTCP: then it is the one before it. */
static inline uint32_t
latch_last_rtp(const struct dp_stream *s)
{
	uint32_t last = dp_stream_tick(s->pkts.last_rx_ns);

	if (s->pkts.last_rx_ns == 0)
		return 0;
	if ((s->flags & DP_STREAM_F_MUX_SEEN) && last == s->rtcp_tick)
		return s->rtp_tick;
	return last;
}

/* The peer is known to be alive: its RTCP is on time, or it sent
 * anything within DP_LATCH_RECENT_NS. */
static inline int
latch_peer_alive(const struct dp_stream *s, const struct dp_stream *pair,
		 uint64_t now_ns)
{
	if (s->peer.family == RTPB_AF_NONE)
		return 0;
	if (s->pkts.last_rx_ns != 0 && now_ns - s->pkts.last_rx_ns < DP_LATCH_RECENT_NS)
		return 1;
	return latch_rtcp_alive(latch_rtcp_of_leg(s, pair), dp_stream_tick(now_ns));
}

/* The peer's RTCP (cold: about once per RTCP interval): its interval, as
 * a moving average of arrivals, and the leg's CNAME. */
static void __rte_noinline
latch_peer_rtcp(struct dp_stream *s, const struct dp_latch_cfg *cfg,
		const struct dp_latch_pkt *pkt, uint64_t now_ns)
{
	uint32_t now = dp_stream_tick(now_ns), d, last;

	if ((s->flags & DP_STREAM_F_MUX_SEEN) && s->pkts.last_rx_ns != 0) {
		/* rtcp-mux: remember the last RTP before this RTCP */
		last = dp_stream_tick(s->pkts.last_rx_ns);
		if (last != s->rtcp_tick)
			s->rtp_tick = last;
	}
	if (s->rtcp_tick != 0) {
		d = now - s->rtcp_tick;
		if (d > TICKS(30000 * 1000000ull))
			d = TICKS(30000 * 1000000ull);
		if (d >= TICKS(DP_LATCH_RTCP_MIN_IVL_NS))
			s->rtcp_ivl = s->rtcp_ivl != 0 ? (3 * s->rtcp_ivl + d) / 4 : d;
	}
	s->rtcp_tick = now != 0 ? now : 1;
	if (s->cname == 0)
		s->cname = dp_latch_rtcp_cname(pkt->p, pkt->len, cfg->seed);
}

/* Remember what the peer sends: its SSRC and highest sequence number
 * (RFC 3550 A.1 max_seq), whether it multiplexes RTCP (RFC 5761), and
 * its RTCP's timing and CNAME. */
static inline void
latch_track_peer(struct dp_stream *s, const struct dp_latch_cfg *cfg,
		 const struct dp_latch_pkt *pkt, uint64_t now_ns)
{
	if (likely(pkt->kind == DP_LATCH_PKT_RTP)) {
		if (likely((s->flags & DP_STREAM_F_SEQ_VALID) && pkt->ssrc == s->ssrc)) {
			/* older packets (misordered, duplicates) keep max_seq */
			if ((uint16_t)(s->seq - pkt->seq) >= DP_LATCH_MAX_MISORDER ||
			    s->seq == pkt->seq)
				s->seq = pkt->seq;
			return;
		}
		if (s->flags & RTPB_STREAM_F_RTCP)
			return;
		s->ssrc = pkt->ssrc;
		s->seq = pkt->seq;
		s->flags |= DP_STREAM_F_SEQ_VALID;
	} else if (pkt->kind == DP_LATCH_PKT_RTCP) {
		if (!(s->flags & RTPB_STREAM_F_RTCP))
			s->flags |= DP_STREAM_F_MUX_SEEN;
		if (s->ssrc == 0)
			s->ssrc = pkt->ssrc;
		latch_peer_rtcp(s, cfg, pkt, now_ns);
	}
}

/* A keyed hash of a source, never 0 (dp_stream.refused). */
static inline uint32_t
latch_src_hash(const struct rtpb_addr *a, uint32_t seed)
{
	uint32_t h = latch_crc(a, sizeof(*a), seed);

	return h != 0 ? h : 1;
}

static inline int
latch_refused(const struct dp_stream *s, uint32_t h)
{
	for (unsigned int i = 0; i < DP_STREAM_REFUSED; i++)
		if (s->refused[i] == h)
			return 1;
	return 0;
}

/* Refuse a source for the rest of the call (the oldest refusal makes
 * room when all slots are taken); the signalled address never is. */
static void
latch_refuse(struct dp_stream *s, const struct dp_latch_cfg *cfg,
	     const struct rtpb_addr *a, struct rtpb_addr *out)
{
	uint32_t h;

	memset(out, 0, sizeof(*out));
	if (a->family == RTPB_AF_NONE || rtpb_addr_eq(a, &s->signalled))
		return;
	h = latch_src_hash(a, cfg->seed);
	*out = *a;
	if (latch_refused(s, h))
		return;
	s->refused[s->refused_next] = h;
	s->refused_next = (uint8_t)((s->refused_next + 1) % DP_STREAM_REFUSED);
}

/* The peer won by a mid-call handover (a proof or a count). */
static inline int
latch_won_by_handover(const struct dp_stream *s)
{
	return s->won_by == RTPB_LATCH_SSRC || s->won_by == RTPB_LATCH_PROBATION ||
	       s->won_by == RTPB_LATCH_CNAME || s->won_by == RTPB_LATCH_RTCP_FOLLOW;
}

/* No previous peer to win back, and no proof of the current one's. */
static inline void
latch_forget_prev(struct dp_stream *s)
{
	memset(&s->prev, 0, sizeof(s->prev));
	s->prev_ssrc = 0;
	s->flags &= ~(DP_STREAM_F_PREV_SEQ | DP_STREAM_F_WON_SSRC | DP_STREAM_F_PROVEN);
}

/* The peer is about to change to another source: remember it as prev. */
static inline void
latch_keep_prev(struct dp_stream *s, uint32_t now)
{
	s->prev = s->peer;
	s->prev_ssrc = s->ssrc;
	s->prev_seq = s->seq;
	s->flags &= ~(DP_STREAM_F_PREV_SEQ | DP_STREAM_F_WON_SSRC | DP_STREAM_F_PROVEN);
	if (s->flags & DP_STREAM_F_SEQ_VALID)
		s->flags |= DP_STREAM_F_PREV_SEQ;
	s->handover_tick = now;
}

static enum dp_latch_verdict
latch_to(struct dp_stream *s, const struct dp_latch_cfg *cfg,
	 const struct rtpb_addr *src, const struct dp_latch_pkt *pkt,
	 uint32_t why, uint32_t dropped, uint64_t now_ns, struct dp_latch_ev *ev)
{
	ev->old = s->peer;
	ev->reason = why;
	ev->dropped = dropped;
	/* The signalled address displacing a peer that won by a handover
	 * (a proof or a count: what an attacker does) does not keep it as
	 * the previous peer, so it cannot win back by "showing life"; one
	 * that latched in a window or by signalling stays revertable (a NAT
	 * in front of the phone, §4.2 with a spoofed signalled address). */
	if (s->peer.family != RTPB_AF_NONE &&
	    (why != RTPB_LATCH_SIGNALLED || !latch_won_by_handover(s)))
		latch_keep_prev(s, dp_stream_tick(now_ns));
	else
		latch_forget_prev(s);
	if (why == RTPB_LATCH_SSRC && pkt->kind == DP_LATCH_PKT_RTP) {
		s->flags |= DP_STREAM_F_WON_SSRC;
		s->handover_seq = pkt->seq;
	}
	if (why == RTPB_LATCH_CNAME)
		s->flags |= DP_STREAM_F_PROVEN;
	s->peer = *src;
	s->won_by = (uint8_t)why;
	s->state = DP_LATCH_LATCHED;
	s->flags &= ~DP_STREAM_F_SEQ_VALID;
	if (pkt->kind == DP_LATCH_PKT_RTP && (s->flags & RTPB_STREAM_F_RTCP))
		s->ssrc = 0; /* RTP on an RTCP port says nothing of RTCP */
	else
		s->ssrc = pkt->ssrc;
	latch_track_peer(s, cfg, pkt, now_ns);
	latch_candidate_reset(s);
	return DP_LATCH_NEW_PEER;
}

/* Swap back to the previous peer; the current one is refused. */
static void
latch_back(struct dp_stream *s, const struct dp_latch_cfg *cfg, uint32_t now,
	   struct rtpb_addr *old, struct rtpb_addr *refused)
{
	*old = s->peer;
	latch_refuse(s, cfg, &s->peer, refused);
	s->peer = s->prev;
	s->ssrc = s->prev_ssrc;
	s->seq = s->prev_seq;
	s->flags &= ~DP_STREAM_F_SEQ_VALID;
	if (s->flags & DP_STREAM_F_PREV_SEQ)
		s->flags |= DP_STREAM_F_SEQ_VALID;
	latch_forget_prev(s);
	s->state = DP_LATCH_LATCHED;
	s->won_by = RTPB_LATCH_REVERT;
	s->handover_tick = now;
	latch_candidate_reset(s);
}

/* §4.9 revert: the previous peer showed life; it wins back, and so does
 * the leg's other stream if it had moved to the same host. */
static enum dp_latch_verdict
latch_revert(struct dp_stream *s, struct dp_stream *pair,
	     const struct dp_latch_cfg *cfg, const struct rtpb_addr *src,
	     const struct dp_latch_pkt *pkt, uint64_t now_ns,
	     struct dp_latch_ev *ev)
{
	uint32_t now = dp_stream_tick(now_ns);

	ev->reason = RTPB_LATCH_REVERT;
	ev->dropped = 0;
	latch_back(s, cfg, now, &ev->old, &ev->refused);
	latch_track_peer(s, cfg, pkt, now_ns);
	if (pair == NULL || rtpb_addr_host_eq(&pair->peer, src))
		return DP_LATCH_NEW_PEER;
	if (pair->prev.family != RTPB_AF_NONE && rtpb_addr_host_eq(&pair->prev, src)) {
		latch_back(pair, cfg, now, &ev->pair_old, &ev->pair_refused);
		ev->pair_moved = 1;
	} else if (pair->won_by == RTPB_LATCH_RTCP_FOLLOW &&
		   rtpb_addr_host_eq(&pair->peer, &ev->old)) {
		/* the RTCP stream had followed the loser, from no peer: back
		 * to the signalled address (or none), the loser refused */
		ev->pair_old = pair->peer;
		latch_refuse(pair, cfg, &pair->peer, &ev->pair_refused);
		pair->peer = pair->signalled;
		pair->won_by = RTPB_LATCH_REVERT;
		pair->ssrc = 0;
		latch_candidate_reset(pair);
		ev->pair_moved = 1;
	}
	return DP_LATCH_NEW_PEER;
}

/* Does a packet from the previous peer show that it is alive (§4.9)?
 * RTP continuing its own SSRC and sequence, or RTCP with its SSRC; not a
 * straggler of the old path (sent before the move, arriving just after
 * it, older than the packet that won). */
static int
latch_prev_alive(const struct dp_stream *s, const struct dp_latch_pkt *pkt,
		 uint32_t now)
{
	uint16_t ahead;

	if (pkt->kind == DP_LATCH_PKT_OTHER || s->prev_ssrc == 0 ||
	    pkt->ssrc != s->prev_ssrc)
		return 0;
	if (pkt->kind == DP_LATCH_PKT_RTP && (s->flags & DP_STREAM_F_PREV_SEQ)) {
		ahead = (uint16_t)(pkt->seq - s->prev_seq);
		if (ahead == 0 || ahead >= DP_LATCH_MAX_DROPOUT)
			return 0;
		/* the sequence the current peer won with, or beyond: two
		 * senders of one SSRC, not a straggler */
		if ((s->flags & DP_STREAM_F_WON_SSRC) &&
		    (uint16_t)(pkt->seq - s->handover_seq) < DP_LATCH_MAX_DROPOUT)
			return 1;
	}
	return now - s->handover_tick >= TICKS(DP_LATCH_STRAGGLER_NS);
}

/* The software twin of the prefilter's budget (rtpb_pf_rules.h). */
static inline int
latch_budget_ok(struct dp_stream *s, const struct dp_latch_cfg *cfg,
		uint64_t now_ns)
{
	uint32_t now = (uint32_t)(now_ns >> 10);
	uint64_t elapsed = s->tb_last == 0 ? UINT64_MAX :
			   (uint64_t)(uint32_t)(now - s->tb_last) << 10;

	s->tb_last = now != 0 ? now : 1;
	return rtpb_pf_budget_take(elapsed, &s->tb_tokens, cfg->budget_pps,
				   cfg->budget_burst);
}

static inline enum dp_latch_verdict
latch_drop(struct dp_latch_ev *ev, enum rtpb_drop why)
{
	ev->drop = (uint8_t)why;
	return DP_LATCH_DROP;
}

/* One RTP packet of a candidate: proofs first, then counting at media
 * pace, unless the peer is alive and silent. */
static enum dp_latch_verdict
latch_candidate_rtp(struct dp_stream *s, const struct dp_stream *pair,
		    const struct dp_latch_cfg *cfg, const struct rtpb_addr *src,
		    const struct dp_latch_pkt *pkt, int run, uint64_t now_ns,
		    struct dp_latch_ev *ev)
{
	uint32_t now = dp_stream_tick(now_ns), dt, dts;
	uint16_t ds;

	/* proof: the latched SSRC, its sequence continued (RFC 3550 A.1) */
	if ((s->flags & DP_STREAM_F_SEQ_VALID) && pkt->ssrc == s->ssrc &&
	    latch_seq_in_window(pkt->seq, s->seq)) {
		s->candidate_count = run ? s->candidate_count + 1 : 1;
		s->candidate = *src;
		s->candidate_ssrc = pkt->ssrc;
		s->candidate_seq = pkt->seq;
		s->cand_last_tick = now;
		if (s->candidate_count >= cfg->probation_ssrc)
			return latch_to(s, cfg, src, pkt, RTPB_LATCH_SSRC,
					s->candidate_count - 1u, now_ns, ev);
		return latch_drop(ev, RTPB_DROP_NOT_PEER);
	}
	/* proof: the leg's RTCP stream moved to this host on its CNAME */
	if (pair != NULL && (pair->flags & DP_STREAM_F_PROVEN) && !cfg->strict_source &&
	    rtpb_addr_host_eq(&pair->peer, src))
		return latch_to(s, cfg, src, pkt, RTPB_LATCH_CNAME,
				run ? s->candidate_count : 0u, now_ns, ev);
	/* by count: consecutive packets of one stream at media pace */
	if (run) {
		dt = now - s->cand_last_tick;
		ds = (uint16_t)(pkt->seq - s->candidate_seq);
		dts = pkt->ts - s->cand_ts;
		if (dt < TICKS(DP_LATCH_PACE_MIN_NS))
			return latch_drop(ev, RTPB_DROP_PACE);
		/* the timestamp advances at most at 90 kHz (x2 for jitter) */
		if (ds == 0 || ds >= DP_LATCH_MAX_DROPOUT || (int32_t)dts <= 0 ||
		    dts > (dt + 1) * 200u)
			run = 0;
	}
	if (run) {
		s->candidate_count++;
	} else {
		s->candidate = *src;
		s->candidate_count = 1;
		s->cand_start_tick = now;
	}
	s->candidate_ssrc = pkt->ssrc;
	s->candidate_seq = pkt->seq;
	s->cand_ts = pkt->ts;
	s->cand_last_tick = now;
	if (s->candidate_count == UINT16_MAX)
		s->candidate_count--;
	if (cfg->strict_source || cfg->cname_only)
		return latch_drop(ev, RTPB_DROP_NOT_PEER);
	/* liveness: the peer's RTCP is on time and its RTP had stopped for
	 * a while when this candidate began: a silence (DTX, hold), not a
	 * move. Never by count then. */
	if (latch_rtcp_alive(latch_rtcp_of_leg(s, pair), now) &&
	    (int32_t)(s->cand_start_tick - latch_last_rtp(s)) > (int32_t)TICKS(DP_LATCH_GAP_NS))
		return latch_drop(ev, RTPB_DROP_PEER_ALIVE);
	if (s->candidate_count >= cfg->probation_rtp)
		return latch_to(s, cfg, src, pkt, RTPB_LATCH_PROBATION,
				s->candidate_count - 1u, now_ns, ev);
	return latch_drop(ev, RTPB_DROP_NOT_PEER);
}

/* One RTCP packet of a candidate: the leg's CNAME proves it at once; the
 * stream's sender SSRC wins after cfg->probation_rtcp packets. */
static enum dp_latch_verdict
latch_candidate_rtcp(struct dp_stream *s, const struct dp_stream *pair,
		     const struct dp_latch_cfg *cfg, const struct rtpb_addr *src,
		     const struct dp_latch_pkt *pkt, int run, uint64_t now_ns,
		     struct dp_latch_ev *ev)
{
	const struct dp_stream *r = latch_rtcp_of_leg(s, pair);
	int ok;

	if (r->cname != 0 && !cfg->strict_source &&
	    dp_latch_rtcp_cname(pkt->p, pkt->len, cfg->seed) == r->cname)
		return latch_to(s, cfg, src, pkt, RTPB_LATCH_CNAME,
				run ? s->candidate_count : 0u, now_ns, ev);
	if (s->ssrc != 0)
		ok = pkt->ssrc == s->ssrc;
	else
		/* an RTCP stream that never had RTCP: from the host its RTP
		 * stream is latched to */
		ok = !cfg->strict_source && (s->flags & RTPB_STREAM_F_RTCP) &&
		     pair != NULL && rtpb_addr_host_eq(&pair->peer, src);
	if (!ok)
		return latch_drop(ev, RTPB_DROP_NOT_PEER);
	s->candidate_count = run ? s->candidate_count + 1 : 1;
	if (!run)
		s->cand_start_tick = dp_stream_tick(now_ns);
	s->candidate = *src;
	s->candidate_ssrc = pkt->ssrc;
	s->cand_last_tick = dp_stream_tick(now_ns);
	if (s->candidate_count >= cfg->probation_rtcp)
		return latch_to(s, cfg, src, pkt, RTPB_LATCH_PROBATION,
				s->candidate_count - 1u, now_ns, ev);
	return latch_drop(ev, RTPB_DROP_NOT_PEER);
}

/* Everything but a packet from the peer (cold). */
static enum dp_latch_verdict __rte_noinline
latch_other(struct dp_stream *s, struct dp_stream *pair,
	    const struct dp_latch_cfg *cfg, const struct rtpb_addr *src,
	    const struct dp_latch_pkt *pkt, uint64_t now_ns,
	    struct dp_latch_ev *ev)
{
	uint32_t now = dp_stream_tick(now_ns);
	int alive, run;

	/* §4.2: the signalled address is authoritative. STUN and DTLS are
	 * forwarded but never latch by themselves (RFC 7983 classes). If
	 * it was the peer before the current one, it is winning back (§4.9:
	 * the current one is refused); otherwise the peer it displaces is
	 * not kept as a previous peer, so that it cannot win back by
	 * "showing life": it needs a proof like any candidate. */
	if (s->signalled.family != RTPB_AF_NONE &&
	    rtpb_addr_eq(src, &s->signalled)) {
		if (pkt->kind == DP_LATCH_PKT_OTHER)
			return DP_LATCH_ACCEPT;
		if (s->prev.family != RTPB_AF_NONE && rtpb_addr_eq(src, &s->prev))
			return latch_revert(s, pair, cfg, src, pkt, now_ns, ev);
		return latch_to(s, cfg, src, pkt, RTPB_LATCH_SIGNALLED, 0, now_ns, ev);
	}
	alive = latch_peer_alive(s, pair, now_ns);
	/* §4.3: first packet inside the learning window, while no peer is
	 * known alive (a third host gets nothing from a live leg's window) */
	if (s->state == DP_LATCH_LEARNING && !alive &&
	    (int32_t)(s->window_end - now) > 0) {
		if (pkt->kind == DP_LATCH_PKT_OTHER)
			return DP_LATCH_ACCEPT;
		return latch_to(s, cfg, src, pkt, RTPB_LATCH_LEARN, 0, now_ns, ev);
	}
	if (s->peer.family == RTPB_AF_NONE || pkt->kind == DP_LATCH_PKT_OTHER)
		return latch_drop(ev, RTPB_DROP_NOT_PEER);
	/* §4.9: a source that lost a revert, while the phone is alive */
	if (alive && latch_refused(s, latch_src_hash(src, cfg->seed)))
		return latch_drop(ev, RTPB_DROP_REFUSED);
	/* §4.9: the previous peer wins back when it shows life */
	if (s->prev.family != RTPB_AF_NONE && rtpb_addr_eq(src, &s->prev)) {
		if (latch_prev_alive(s, pkt, now))
			return latch_revert(s, pair, cfg, src, pkt, now_ns, ev);
		return latch_drop(ev, RTPB_DROP_NOT_PEER);
	}
	/* the prefilter's budget, in software; the peer's SSRC passes (a
	 * moving phone), as in XDP */
	if ((s->ssrc == 0 || pkt->ssrc != s->ssrc) && !latch_budget_ok(s, cfg, now_ns))
		return latch_drop(ev, RTPB_DROP_BUDGET);
	/* §4.4: consecutive packets of one candidate; a packet from the
	 * peer since the candidate's last one restarts the run */
	run = s->candidate_count > 0 && rtpb_addr_eq(src, &s->candidate) &&
	      pkt->ssrc == s->candidate_ssrc &&
	      !(s->pkts.last_rx_ns != 0 &&
		(int32_t)(dp_stream_tick(s->pkts.last_rx_ns) - s->cand_last_tick) >= 0);
	if (pkt->kind == DP_LATCH_PKT_RTP)
		return latch_candidate_rtp(s, pair, cfg, src, pkt, run, now_ns, ev);
	return latch_candidate_rtcp(s, pair, cfg, src, pkt, run, now_ns, ev);
}

enum dp_latch_verdict
dp_latch_rx(struct dp_stream *streams, uint32_t max_streams, uint32_t id,
	    const struct dp_latch_cfg *cfg, const struct rtpb_addr *src,
	    const struct dp_latch_pkt *pkt, uint64_t now_ns,
	    struct dp_latch_ev *ev)
{
	struct dp_stream *s = &streams[id], *pair;
	enum dp_latch_verdict v;

	/* §4.1: from the peer, the common case: line 0 only. */
	if (likely(s->peer.family != RTPB_AF_NONE && rtpb_addr_eq(src, &s->peer) &&
		   !(s->flags & RTPB_STREAM_F_ASYMMETRIC))) {
		if (unlikely(s->state != DP_LATCH_LATCHED))
			s->state = DP_LATCH_LATCHED;
		latch_track_peer(s, cfg, pkt, now_ns);
		s->pkts.last_rx_ns = now_ns;
		return DP_LATCH_ACCEPT;
	}
	memset(ev, 0, sizeof(*ev));
	/* the leg's other stream: read only off the peer's path (line 1) */
	pair = s->pair_stream_id < max_streams ? &streams[s->pair_stream_id] : NULL;
	/* §4.7: asymmetric streams never latch; accept the signalled host. */
	if (unlikely(s->flags & RTPB_STREAM_F_ASYMMETRIC))
		v = rtpb_addr_host_eq(src, &s->signalled) ? DP_LATCH_ACCEPT :
			latch_drop(ev, RTPB_DROP_NOT_PEER);
	else
		v = latch_other(s, pair, cfg, src, pkt, now_ns, ev);
	if (v != DP_LATCH_DROP)
		s->pkts.last_rx_ns = now_ns;
	return v;
}

int
dp_latch_signal(struct dp_stream *s, const struct rtpb_addr *signalled,
		uint64_t learn_ns, uint64_t now_ns)
{
	int changed = s->state != DP_LATCH_FREE &&
		      signalled->family != RTPB_AF_NONE &&
		      !rtpb_addr_eq(signalled, &s->peer);

	s->signalled = *signalled;
	s->window_end = dp_stream_tick(now_ns + learn_ns);
	latch_candidate_reset(s);
	if (s->flags & RTPB_STREAM_F_ASYMMETRIC) {
		s->peer = *signalled;
		s->state = signalled->family != RTPB_AF_NONE ? DP_LATCH_LATCHED :
							       DP_LATCH_LEARNING;
		return changed;
	}
	/* §4.8: a re-offer with a new address takes it at once (the
	 * signalling is the authority: no previous peer to revert to); any
	 * signalling event opens a learning window. */
	if (changed) {
		s->peer = *signalled;
		s->won_by = RTPB_LATCH_REOFFER;
		latch_forget_prev(s);
	}
	s->state = DP_LATCH_LEARNING;
	return changed;
}

void
dp_latch_restore(struct dp_stream *s, const struct rtpb_addr *peer,
		 uint32_t ssrc, uint64_t now_ns)
{
	if (peer->family == RTPB_AF_NONE || (s->flags & RTPB_STREAM_F_ASYMMETRIC))
		return;
	s->peer = *peer;
	s->won_by = RTPB_LATCH_REPLAY;
	s->ssrc = ssrc;
	s->state = DP_LATCH_LATCHED;
	/* alive as of now: the phone was sending before the restart */
	s->pkts.last_rx_ns = now_ns;
}

int
dp_latch_rtcp_follow(struct dp_stream *rtcp, const struct dp_stream *rtp,
		     uint64_t now_ns)
{
	uint16_t port;

	if ((rtp->flags & DP_STREAM_F_MUX_SEEN) ||
	    (rtcp->flags & RTPB_STREAM_F_ASYMMETRIC) ||
	    rtcp->state == DP_LATCH_FREE || rtp->peer.family == RTPB_AF_NONE)
		return 0;
	/* RTCP already comes from the new host: keep it. */
	if (rtpb_addr_host_eq(&rtcp->peer, &rtp->peer))
		return 0;
	port = rte_be_to_cpu_16(rtp->peer.port);
	if (!rtpb_addr_host_eq(&rtcp->candidate, &rtp->peer) && port == UINT16_MAX)
		return 0;
	if (rtcp->peer.family != RTPB_AF_NONE)
		latch_keep_prev(rtcp, dp_stream_tick(now_ns));
	if (rtpb_addr_host_eq(&rtcp->candidate, &rtp->peer)) {
		/* RTCP from the new host was in probation: take its port. */
		rtcp->peer = rtcp->candidate;
	} else {
		rtcp->peer = rtp->peer;
		rtcp->peer.port = rte_cpu_to_be_16((uint16_t)(port + 1));
	}
	rtcp->won_by = RTPB_LATCH_RTCP_FOLLOW;
	rtcp->ssrc = 0; /* learnt from the new host's first RTCP */
	rtcp->flags &= ~DP_STREAM_F_SEQ_VALID;
	rtcp->state = DP_LATCH_LATCHED;
	latch_candidate_reset(rtcp);
	return 1;
}
