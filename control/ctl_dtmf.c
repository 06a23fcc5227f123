/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_dtmf.c: DTMF catching, control's half (rtpproxy's catch_dtmf
 * module, modules/catch_dtmf/rtpp_catch_dtmf.c; docs/DTMF.md), see
 * ctl_session.h. "&& M3:1" flags a leg's RTP stream with
 * RTPB_STREAM_F_DTMF; the dataplane's worker finds the events' ends
 * (dataplane/dp_dtmf.h) and sends RTPB_MSG_EV_DTMF; this file turns one
 * into rtpproxy's notification line, which ctl_notify.c writes to the
 * target (the one the session's U armed when the sub-command ran).
 * Control's thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_session_pvt.h"

int
ctl_session_set_dtmf(struct ctl_sessions *t, struct ctl_session *s, int li,
		     int target, const char *tag, uint8_t pt, bool hide)
{
	struct ctl_leg *l = &s->leg[li];

	/* rtpproxy: a stream registered already keeps its tag and target */
	if (!l->dtmf) {
		char *copy = strdup(tag);

		if (copy == NULL)
			return -ENOMEM;
		free(l->dtmf_tag);
		l->dtmf_tag = copy;
		l->dtmf_target = target;
		l->dtmf = true;
	}
	l->dtmf_pt = pt;
	l->dtmf_hide = hide;
	if (ctl_rec_leg(t, s, s->leg, li) != 0)
		ctl_rec_pending(t, s);
	return 0;
}

int
ctl_sessions_dtmf(struct ctl_sessions *t, const struct rtpb_msg_ev_dtmf *ev,
		  int *target, char *buf, size_t bufsz)
{
	/* rtpproxy's dtmf_events[]: codes 0..16 (RFC 4733 §3.2), 16 is
	 * flash, written as a space */
	static const char digits[] = "0123456789*#ABCD ";
	struct ctl_session *s = ctl_sessions_by_serial(t, ev->cookie >> 2);
	int li = (int)(ev->cookie >> 1) & 1, n;
	const struct ctl_leg *l;

	if (s == NULL || (ev->cookie & 1) != 0 || ev->event >= sizeof(digits) - 1)
		return -ENOENT;
	l = &s->leg[li];
	if (!l->dtmf || !l->sock.rtp.has_id || l->sock.rtp.id != ev->stream_id)
		return -ENOENT;
	/* side: 0 for the caller (rtpproxy RTPP_SSIDE_CALLER, its stream[1],
	 * the from-tag party: leg 1 here), 1 for the callee */
	n = snprintf(buf, bufsz, "%s %c %u %u %d", l->dtmf_tag, digits[ev->event],
		     (unsigned)ev->volume, (unsigned)ev->duration, li == 1 ? 0 : 1);
	if (n < 0 || (size_t)n >= bufsz)
		return -ENOSPC;
	*target = l->dtmf_target;
	return 0;
}
