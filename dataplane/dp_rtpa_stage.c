/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_rtpa_stage.c: the rare paths of the RTP analysis stage
 * (dp_rtpa_stage.h): RTCP receiver reports, non-RTP from the peer.
 */
#include "dp_ctx.h"
#include "dp_rtpa_stage.h"

void
dp_rtpa_stage_slow(uint32_t id, const struct dp_stream *s,
		   const struct dp_latch_pkt *lp)
{
	uint32_t rtp_id, a_id;
	struct dp_stream *a;

	if (lp->kind == DP_LATCH_PKT_OTHER) {
		/* version 2 but no RTP/RTCP header (too short): rtpproxy's
		 * rtp_packet_parse() failure; STUN and DTLS are not errors */
		if (!(s->flags & RTPB_STREAM_F_RTCP) && lp->len > 0 &&
		    (lp->p[0] & 0xc0) == 0x80)
			dp_rtpa_perr(&dp_ctx.streams[id].rtpa_cold);
		return;
	}
	if (lp->kind != DP_LATCH_PKT_RTCP)
		return; /* RTP on an RTCP stream: no analysis (rtpproxy) */
	/* The reporter is leg B's phone (its RTCP stream, or its RTP stream
	 * with rtcp-mux); its report blocks are about leg A's media, whose
	 * RTP stream is where B's RTP stream relays to. */
	rtp_id = (s->flags & RTPB_STREAM_F_RTCP) ? s->pair_stream_id : id;
	if (rtp_id >= dp_ctx.max_streams)
		return;
	a_id = dp_ctx.streams[rtp_id].out_stream_id;
	if (a_id >= dp_ctx.max_streams || dp_ctx.streams[a_id].state == DP_LATCH_FREE)
		return;
	a = &dp_ctx.streams[a_id];
	if (a->rtpa.nrcvd == 0)
		return; /* no SSRC known yet */
	dp_rtpa_rtcp_rr(lp->p, lp->len, a->rtpa.ssrc, &a->rtpa_cold.rr);
}
