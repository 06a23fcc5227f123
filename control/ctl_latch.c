/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_latch.c: the dataplane's latch events (DESIGN.md §4): counted per
 * session and in the totals, one log line each, and the latched peer
 * kept (a replay restores it) and given to the prefilter (§5).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_log.h"
#include "ctl_session_pvt.h"

void
ctl_sessions_latch(struct ctl_sessions *t, const struct rtpb_msg_ev_latch *ev)
{
	uint64_t serial = ev->cookie >> 2;
	int li = (int)((ev->cookie >> 1) & 1);
	bool rtcp = ev->cookie & 1;
	struct ctl_session *s = g_hash_table_lookup(t->by_serial, &serial);
	struct ctl_stream *st;
	const char *kind;
	char pa[CTL_ADDR_STRLEN], oa[CTL_ADDR_STRLEN];

	if (s == NULL)
		return;
	st = rtcp ? &s->leg[li].sock.rtcp : &s->leg[li].sock.rtp;
	if (!st->has_id || st->id != ev->stream_id)
		return; /* deleted, re-created or moved since */
	st->latched = ev->peer;
	st->latched_ssrc = ev->ssrc;
	ctl_sjournal_put_later(t, s);
	/* the prefilter budgets other sources from now on (§5); an
	 * asymmetric leg has no peer there (§4.7) */
	if (!s->leg[li].asymmetric)
		ctl_rec_pf_latch(t, s, li, rtcp, &ev->peer, ev->ssrc);
	kind = rtcp ? "RTCP " : "";
	ctl_session_addr_str(&ev->peer, pa, sizeof(pa));
	ctl_session_addr_str(&ev->old, oa, sizeof(oa));
	s->latches++;
	t->c.latches++;
	switch (ev->reason) {
	case RTPB_LATCH_REVERT:
		s->reverts++;
		t->c.reverts++;
		if (ev->refused.family != RTPB_AF_NONE) {
			char ra[CTL_ADDR_STRLEN];

			ctl_session_addr_str(&ev->refused, ra, sizeof(ra));
			ctl_log_call(CTL_LOG_WARN, s->call_id,
				     "leg %d %sstream: %s showed life and won "
				     "back from %s; %s refused for the rest of "
				     "the call", li, kind, pa, oa, ra);
		} else {
			ctl_log_call(CTL_LOG_INFO, s->call_id,
				     "leg %d %sstream: %s showed life and won "
				     "back from %s (signalled, not refused)",
				     li, kind, pa, oa);
		}
		return;
	case RTPB_LATCH_CNAME:
		s->handovers++;
		t->c.handovers++;
		t->c.handover_dropped += ev->dropped;
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d %shandover from %s to %s (RTCP CNAME "
			     "proof, SSRC 0x%08x), %llu packets dropped in "
			     "probation", li, kind, oa, pa, ev->ssrc,
			     (unsigned long long)ev->dropped);
		return;
	case RTPB_LATCH_SSRC:
	case RTPB_LATCH_PROBATION:
		s->handovers++;
		t->c.handovers++;
		t->c.handover_dropped += ev->dropped;
		if (ev->reason == RTPB_LATCH_SSRC)
			ctl_log_call(CTL_LOG_INFO, s->call_id,
				     "leg %d %shandover from %s to %s (same "
				     "SSRC), %llu packets dropped in probation",
				     li, kind, oa, pa,
				     (unsigned long long)ev->dropped);
		else
			ctl_log_call(CTL_LOG_INFO, s->call_id,
				     "leg %d %shandover from %s to %s (new SSRC "
				     "0x%08x), %llu packets dropped in probation",
				     li, kind, oa, pa, ev->ssrc,
				     (unsigned long long)ev->dropped);
		return;
	case RTPB_LATCH_RTCP_FOLLOW:
		s->rtcp_follows++;
		t->c.rtcp_follows++;
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d RTCP follows RTP to %s (was %s)", li, pa,
			     oa);
		return;
	case RTPB_LATCH_REOFFER:
		s->reoffers++;
		t->c.reoffers++;
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d %sstream re-offer: peer %s (was %s)", li,
			     kind, pa, oa);
		return;
	default:
		break;
	}
	if (ev->old.family == RTPB_AF_NONE)
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d %sstream latched to %s", li, kind, pa);
	else if (ev->reason == RTPB_LATCH_SIGNALLED)
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d %sstream back to signalled %s (was %s)", li,
			     kind, pa, oa);
	else
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d %sstream re-latched to %s (was %s)", li,
			     kind, pa, oa);
}
