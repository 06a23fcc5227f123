/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_rtpa_stage.h: the RTP analysis stage of the fast path (issue 17
 * item 4, issue 18 item 1; docs/RTPA.md, wiring): run by the latch stage
 * (dp_worker.c) on every packet the latch accepted from a stream's
 * latched peer.
 *
 * State: struct dp_rtpa (dp_rtpa.h, 128 bytes, two cache lines) in a
 * table of its own in the shared mapping, indexed by stream id
 * (dp_rtpa_tab, laid out by dp_shm.c), rather than in struct dp_stream:
 * the analysis touches both of its lines for every RTP packet from the
 * peer, the stream record's cold lines 1-3 are not touched on that path,
 * so a separate table costs the same two lines per packet as growing
 * the record to 384 bytes would, keeps the record at four lines (the
 * cold lines of 1M streams stay 256 MB, not 384 MB) and lets control
 * read struct rtpb_rtpa by stride (rtpb_shm.h: off_stream_rtpa) without
 * knowing dp_stream. The flow stage prefetches both lines with line 0.
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
#include <rte_prefetch.h>

#include "dp_latch.h"
#include "dp_rtpa.h"
#include "dp_stream.h"

/** The RTP analysis of stream id is dp_rtpa_tab[id] (< max_streams); set by dp_shm_create(). */
extern struct dp_rtpa *dp_rtpa_tab;

/** The rare cases of dp_rtpa_stage(): RTCP (receiver reports), a packet
 * from the peer on an RTP stream that is not RTP (rtpa_perrs). */
void dp_rtpa_stage_slow(uint32_t id, const struct dp_stream *s,
			const struct dp_latch_pkt *lp);

/** Prefetch stream id's analysis record (both lines). */
static inline void
dp_rtpa_prefetch(uint32_t id)
{
	rte_prefetch0(&dp_rtpa_tab[id]);
	rte_prefetch0((const char *)&dp_rtpa_tab[id] + 64);
}

/**
 * Account a packet of stream id (record s) that the latch accepted from
 * the latched peer: RTP on an RTP stream goes to dp_rtpa_rx(); the rest
 * to dp_rtpa_stage_slow().
 * @param lp      the packet's header fields (dp_latch_parse()).
 * @param now_ns  arrival, CLOCK_MONOTONIC ns (the burst's).
 */
static inline void
dp_rtpa_stage(uint32_t id, const struct dp_stream *s,
	      const struct dp_latch_pkt *lp, uint64_t now_ns)
{
	if (likely(lp->kind == DP_LATCH_PKT_RTP && !(s->flags & RTPB_STREAM_F_RTCP))) {
		dp_rtpa_rx(&dp_rtpa_tab[id], lp->ssrc, lp->seq, lp->ts,
			   lp->p[1] & 0x7f, now_ns);
		return;
	}
	dp_rtpa_stage_slow(id, s, lp);
}

#endif /* DP_RTPA_STAGE_H */
