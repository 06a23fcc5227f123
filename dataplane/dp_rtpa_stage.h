/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_rtpa_stage.h: the RTP analysis stage of the fast path (issue 17
 * item 4, issue 18 item 1; docs/RTPA.md, wiring): run by the latch stage
 * (dp_worker.c) on every packet the latch accepted from a stream's
 * latched peer.
 *
 * State: lines 1 (struct rtpb_rtpa_hot, every RTP packet) and 5 (struct
 * rtpb_rtpa_cold, the rare paths) of the stream's record (dp_stream.h).
 * Line 1 is the pair of line 0, which the packet reads anyway: the CPU
 * fetches the two together, and the flow stage prefetches both
 * (issue 19: the separate table of issue 18 cost two far lines per
 * packet, ~23 cycles at 250 000 sessions). Control reads both records by
 * stride (rtpb_shm.h: off_stream_rtpa_hot, off_stream_rtpa_cold).
 *
 * Writers: the stream's owner worker only (same as the record). RTCP
 * receiver reports from leg B's phone are about the media leg A's phone
 * sends: they update A's RTP stream's record, which the same worker owns
 * (one session, one owner).
 */
#ifndef DP_RTPA_STAGE_H
#define DP_RTPA_STAGE_H

#include <stdint.h>

#include <rte_branch_prediction.h>

#include "dp_latch.h"
#include "dp_rtpa.h"
#include "dp_stream.h"

/** The rare cases of dp_rtpa_stage(): RTCP (receiver reports), a packet
 * from the peer on an RTP stream that is not RTP (rtpa_perrs). */
void dp_rtpa_stage_slow(uint32_t id, const struct dp_stream *s,
			const struct dp_latch_pkt *lp);

/**
 * Account a packet of stream id (record s) that the latch accepted from
 * the latched peer: RTP on an RTP stream goes to dp_rtpa_rx(); the rest
 * to dp_rtpa_stage_slow().
 * @param lp      the packet's header fields (dp_latch_parse()).
 * @param now_ns  arrival, CLOCK_MONOTONIC ns (the burst's).
 */
static inline void
dp_rtpa_stage(uint32_t id, struct dp_stream *s,
	      const struct dp_latch_pkt *lp, uint64_t now_ns)
{
	if (likely(lp->kind == DP_LATCH_PKT_RTP && !(s->flags & RTPB_STREAM_F_RTCP))) {
		dp_rtpa_rx(&s->rtpa, &s->rtpa_cold, lp->ssrc, lp->seq, lp->ts,
			   lp->p[1] & 0x7f, now_ns);
		return;
	}
	dp_rtpa_stage_slow(id, s, lp);
}

#endif /* DP_RTPA_STAGE_H */
