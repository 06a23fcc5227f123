/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_ttl.c: session timeouts (rtpproxy -T, -W, "S ttl=";
 * src/rtpp_proc_ttl.c) and the 1 s housekeeping tick, see ctl_session.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_log.h"
#include "ctl_session_pvt.h"

/* Newest activity: last U/L, or the newest packet on any stream. While
 * control has no dataplane, the time since it lost it counts as
 * activity (no session ages then, see ctl_session.h). */
uint64_t
ctl_ttl_last(const struct ctl_sessions *t, const struct ctl_session *s)
{
	uint64_t last = s->last_ns;

	if (t->detached && t->now_ns > t->lost_ns)
		last += t->now_ns - t->lost_ns;

	for (int li = 0; li < 2; li++) {
		const struct ctl_stream *sts[2] = {&s->leg[li].sock.rtp,
						   &s->leg[li].sock.rtcp};

		for (int k = 0; k < 2; k++) {
			struct rtpb_stream_stats buf;
			const struct rtpb_stream_stats *ss;

			if (!sts[k]->in_dp)
				continue;
			ss = ctl_dp_stream_stats(t->cfg.dp, sts[k]->id, &buf);
			if (ss != NULL && ss->last_rx_ns > last)
				last = ss->last_rx_ns;
		}
	}
	return last;
}

uint64_t
ctl_session_ttl_ns(const struct ctl_sessions *t, const struct ctl_session *s)
{
	if (s->ttl_ns != 0)
		return s->ttl_ns;
	return s->complete ? t->cfg.ttl_ns : t->cfg.setup_ttl_ns;
}

void
ctl_session_set_ttl(struct ctl_sessions *t, struct ctl_session *s,
		    uint32_t ttl_s, uint64_t now_ns)
{
	ctl_session_clock(t, now_ns);
	s->ttl_ns = (uint64_t)ttl_s * CTL_NS_PER_S;
	s->last_ns = now_ns;
	ctl_sjournal_put(t, s);
	ctl_log_call(CTL_LOG_INFO, s->call_id, "session ttl set to %u s, tag %s",
		     ttl_s, s->from_tag);
}

/* pps_in (rtpproxy's derived G counter): packets in per second between
 * the last two ticks. */
static void
pps_update(struct ctl_sessions *t, uint64_t now_ns)
{
	struct ctl_sessions_counters c;

	ctl_sessions_counters(t, &c);
	if (t->pps_t_ns != 0 && now_ns > t->pps_t_ns && c.pkts_in >= t->pps_pkts)
		t->c.pps_in = (double)(c.pkts_in - t->pps_pkts) * CTL_NS_PER_S /
			      (double)(now_ns - t->pps_t_ns);
	t->pps_t_ns = now_ns;
	t->pps_pkts = c.pkts_in;
}

unsigned
ctl_sessions_tick(struct ctl_sessions *t, uint64_t now_ns)
{
	GPtrArray *all;
	unsigned n = 0;

	ctl_session_clock(t, now_ns);
	if (!ctl_dp_ready(t->cfg.dp)) {
		/* no dataplane: no aging, no timeout notification (the media
		 * may flow again as soon as one is back) */
		pps_update(t, now_ns);
		return 0;
	}
	all = ctl_sessions_all(t);
	for (guint i = 0; i < all->len; i++) {
		struct ctl_session *s = all->pdata[i];
		uint64_t last = ctl_ttl_last(t, s);

		if (now_ns <= last || now_ns - last <= ctl_session_ttl_ns(t, s))
			continue;
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "session timeout, tag %s, ports %u/%u%s",
			     s->from_tag, s->leg[0].sock.port, s->leg[1].sock.port,
			     s->complete ? "" : " (setup, -W)");
		t->c.timeouts++;
		/* rtpproxy rtpp_proc_ttl: the notify tag on the target */
		if (s->notify_target >= 0 && t->cfg.on_timeout != NULL)
			t->cfg.on_timeout(s->notify_target, s->notify_tag,
					  s->call_id, t->cfg.timeout_arg);
		ctl_session_destroy(t, s);
		n++;
	}
	g_ptr_array_unref(all);
	ctl_replay_orphans_expire(t, now_ns);
	ctl_sessions_flush(t);
	pps_update(t, now_ns);
	return n;
}
