/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_latch.c: latching and handover probation (see dp_latch.h and
 * DESIGN.md §4). Pure functions of their arguments.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>

#include "rtpb_msg.h"
#include "dp_latch.h"

void
dp_latch_parse(const uint8_t *p, uint16_t len, struct dp_latch_pkt *out)
{
	uint32_t v;
	uint16_t seq;
	uint8_t pt;

	out->kind = DP_LATCH_PKT_OTHER;
	out->seq = 0;
	out->ssrc = 0;
	/* RFC 3550 §5.1: version 2 in the two top bits. */
	if (len < 8 || (p[0] & 0xc0) != 0x80)
		return;
	pt = p[1] & 0x7f;
	if (pt >= 64 && pt <= 95) {
		/* RFC 5761 §4: RTCP (SR 200 .. 223 with the marker bit). RTCP
		 * packets carry the sender's SSRC at bytes 4-7 (RFC 3550 §6.4). */
		memcpy(&v, p + 4, 4);
		out->kind = DP_LATCH_PKT_RTCP;
		out->ssrc = rte_be_to_cpu_32(v);
		return;
	}
	if (len < 12)
		return;
	memcpy(&seq, p + 2, 2);
	memcpy(&v, p + 8, 4);
	out->kind = DP_LATCH_PKT_RTP;
	out->seq = rte_be_to_cpu_16(seq);
	out->ssrc = rte_be_to_cpu_32(v);
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

/* Remember what the peer sends: its SSRC and highest sequence number
 * (RFC 3550 A.1 max_seq), and whether it multiplexes RTCP (RFC 5761). */
static inline void
latch_track_peer(struct dp_stream *s, const struct dp_latch_pkt *pkt)
{
	if (pkt->kind == DP_LATCH_PKT_RTP) {
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
	}
}

static inline enum dp_latch_verdict
latch_to(struct dp_stream *s, const struct rtpb_addr *src,
	 const struct dp_latch_pkt *pkt, uint32_t why, uint32_t dropped,
	 struct dp_latch_ev *ev)
{
	ev->old = s->peer;
	ev->reason = why;
	ev->dropped = dropped;
	s->peer = *src;
	s->state = DP_LATCH_LATCHED;
	s->flags &= ~DP_STREAM_F_SEQ_VALID;
	if (pkt->kind == DP_LATCH_PKT_RTP && (s->flags & RTPB_STREAM_F_RTCP))
		s->ssrc = 0; /* RTP on an RTCP port says nothing of RTCP */
	else
		s->ssrc = pkt->ssrc;
	latch_track_peer(s, pkt);
	latch_candidate_reset(s);
	return DP_LATCH_NEW_PEER;
}

/* §4.4: count one more packet from src as a candidate; 1 if it won. */
static inline int
latch_probation(struct dp_stream *s, const struct dp_latch_cfg *cfg,
		const struct rtpb_addr *src, const struct dp_latch_pkt *pkt,
		uint32_t *why)
{
	uint32_t threshold;
	int same = rtpb_addr_eq(src, &s->candidate) &&
		   pkt->ssrc == s->candidate_ssrc && s->candidate_count > 0;

	if (pkt->kind == DP_LATCH_PKT_RTP) {
		/* Consecutive packets of one candidate: same SSRC, sequence
		 * numbers moving forward (a blind sprayer with random SSRC or
		 * sequence numbers never adds up). */
		if (same && (uint16_t)(pkt->seq - s->candidate_seq) != 0 &&
		    (uint16_t)(pkt->seq - s->candidate_seq) < DP_LATCH_MAX_DROPOUT)
			s->candidate_count++;
		else
			s->candidate_count = 1;
		if ((s->flags & DP_STREAM_F_SEQ_VALID) && pkt->ssrc == s->ssrc &&
		    latch_seq_in_window(pkt->seq, s->seq)) {
			threshold = cfg->probation_ssrc;
			*why = RTPB_LATCH_SSRC;
		} else if (cfg->strict_source) {
			threshold = UINT32_MAX;
		} else {
			threshold = cfg->probation_rtp;
			*why = RTPB_LATCH_PROBATION;
		}
	} else {
		/* RTCP: its sender SSRC must be the stream's when known. */
		if (s->ssrc != 0 && pkt->ssrc != s->ssrc)
			return 0;
		s->candidate_count = same ? s->candidate_count + 1 : 1;
		threshold = (cfg->strict_source && s->ssrc == 0) ? UINT32_MAX :
								  cfg->probation_rtcp;
		*why = RTPB_LATCH_PROBATION;
	}
	s->candidate = *src;
	s->candidate_ssrc = pkt->ssrc;
	s->candidate_seq = pkt->seq;
	if (s->candidate_count == UINT16_MAX)
		s->candidate_count--;
	return s->candidate_count >= threshold;
}

enum dp_latch_verdict
dp_latch_rx(struct dp_stream *s, const struct dp_latch_cfg *cfg,
	    const struct rtpb_addr *src, const struct dp_latch_pkt *pkt,
	    uint64_t now_ns, struct dp_latch_ev *ev)
{
	uint32_t why = RTPB_LATCH_PROBATION;

	/* §4.7: asymmetric streams never latch; accept the signalled host. */
	if (unlikely(s->flags & RTPB_STREAM_F_ASYMMETRIC)) {
		if (rtpb_addr_host_eq(src, &s->signalled))
			return DP_LATCH_ACCEPT;
		return DP_LATCH_DROP;
	}
	/* §4.1: from the peer. */
	if (likely(s->peer.family != RTPB_AF_NONE && rtpb_addr_eq(src, &s->peer))) {
		if (unlikely(s->state != DP_LATCH_LATCHED))
			s->state = DP_LATCH_LATCHED;
		s->candidate_count = 0;
		latch_track_peer(s, pkt);
		return DP_LATCH_ACCEPT;
	}
	/* §4.2: the signalled address is authoritative. STUN and DTLS are
	 * forwarded but never latch by themselves (RFC 7983 classes). */
	if (s->signalled.family != RTPB_AF_NONE &&
	    rtpb_addr_eq(src, &s->signalled)) {
		if (pkt->kind == DP_LATCH_PKT_OTHER)
			return DP_LATCH_ACCEPT;
		return latch_to(s, src, pkt, RTPB_LATCH_SIGNALLED, 0, ev);
	}
	/* §4.3: first packet inside the learning window. */
	if (s->state == DP_LATCH_LEARNING &&
	    (int32_t)(s->window_end - dp_stream_tick(now_ns)) > 0) {
		if (pkt->kind == DP_LATCH_PKT_OTHER)
			return DP_LATCH_ACCEPT;
		return latch_to(s, src, pkt, RTPB_LATCH_LEARN, 0, ev);
	}
	/* §4.4-5: another source is a candidate, dropped until it wins. */
	if (s->peer.family != RTPB_AF_NONE && pkt->kind != DP_LATCH_PKT_OTHER &&
	    latch_probation(s, cfg, src, pkt, &why))
		return latch_to(s, src, pkt, why, s->candidate_count - 1u, ev);
	return DP_LATCH_DROP;
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
	/* §4.8: a re-offer with a new address takes it at once; any
	 * signalling event opens a learning window. */
	if (changed)
		s->peer = *signalled;
	s->state = DP_LATCH_LEARNING;
	return changed;
}

int
dp_latch_rtcp_follow(struct dp_stream *rtcp, const struct dp_stream *rtp)
{
	uint16_t port;

	if ((rtp->flags & DP_STREAM_F_MUX_SEEN) ||
	    (rtcp->flags & RTPB_STREAM_F_ASYMMETRIC) ||
	    rtcp->state == DP_LATCH_FREE || rtp->peer.family == RTPB_AF_NONE)
		return 0;
	/* RTCP already comes from the new host: keep it. */
	if (rtpb_addr_host_eq(&rtcp->peer, &rtp->peer))
		return 0;
	if (rtpb_addr_host_eq(&rtcp->candidate, &rtp->peer)) {
		/* RTCP from the new host was in probation: take its port. */
		rtcp->peer = rtcp->candidate;
	} else {
		port = rte_be_to_cpu_16(rtp->peer.port);
		if (port == UINT16_MAX)
			return 0;
		rtcp->peer = rtp->peer;
		rtcp->peer.port = rte_cpu_to_be_16((uint16_t)(port + 1));
	}
	rtcp->state = DP_LATCH_LATCHED;
	latch_candidate_reset(rtcp);
	return 1;
}
