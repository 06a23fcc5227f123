/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_reconcile.c: the one place that turns the desired state of the
 * sessions (ctl_session.h: legs, sockets, signalled peers, flags) into
 * what the dataplane and the prefilter are told. Each stream's wanted
 * message is computed from the desired state and compared with the last
 * one the ring took (struct ctl_stream.sent): ADD if it has none, UPDATE
 * if it differs, nothing else; a released socket gets its DELs and loses
 * its prefilter entries. It owns the retries: sessions with a refused
 * ADD/UPDATE wait on t->pending, relay sockets with a refused DEL on
 * t->graves (their ids and ports stay taken until the DEL goes), both
 * retried by ctl_sessions_flush(). A replay (ctl_replay.c) is the same
 * reconciliation from an empty told state, or, for the streams kept in
 * place after a control restart, from the told state the journal gives
 * (ctl_rec_keep()).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_log.h"
#include "ctl_session_pvt.h"

/* A relay socket whose streams' DELs were refused: retried by
 * ctl_sessions_flush. */
struct grave {
	uint32_t id[2];              /* RTP, RTCP stream ids */
	bool waiting[2];             /* DEL still to be pushed */
	struct rtpb_addr local[2];   /* as added */
	uint16_t port;               /* pair freed once both DELs went */
	uint8_t laddr;               /* its relay address: ctl_alloc_pool() */
};

static struct ctl_stream *
leg_stream(struct ctl_leg *l, bool rtcp)
{
	return rtcp ? &l->sock.rtcp : &l->sock.rtp;
}

void
ctl_rec_pending(struct ctl_sessions *t, struct ctl_session *s)
{
	if (s->pending)
		return;
	s->pending = true;
	g_queue_push_tail(&t->pending, s);
}

/* The prefilter entry of a relay socket: RTP at port, RTCP at port + 1. */
void
ctl_rec_pf_local(const struct ctl_sessions *t, uint8_t laddr, uint16_t port,
		 bool rtcp, struct rtpb_addr *a)
{
	ctl_alloc_relay_addr(t, laddr, (uint16_t)(port + (rtcp ? 1 : 0)), a);
}

/*
 * Give leg li's socket its two prefilter entries (RTP, RTCP), without a
 * peer: UDP to it passes to the dataplane. Called once the dataplane
 * took the socket's ADDs.
 * @return 0 (also without a prefilter), or -EIO (no entry left, err
 *         filled).
 */
static int
pf_leg_add(struct ctl_sessions *t, struct ctl_leg *l,
	   struct ctl_session_err *err)
{
	struct rtpb_addr a[2];
	int rc;

	if (t->cfg.pf == NULL || l->sock.in_pf || l->sock.port == 0)
		return 0;
	ctl_rec_pf_local(t, l->sock.laddr, l->sock.port, false, &a[0]);
	ctl_rec_pf_local(t, l->sock.laddr, l->sock.port, true, &a[1]);
	rc = ctl_pf_sock_add(t->cfg.pf, &a[0], NULL);
	if (rc == 0) {
		rc = ctl_pf_sock_add(t->cfg.pf, &a[1], NULL);
		if (rc != 0)
			ctl_pf_sock_del(t->cfg.pf, &a[0]);
	}
	if (rc != 0)
		return ctl_session_err_set(err, -EIO, "prefilter: pf_socks entry "
					   "of %s port %u refused: %s",
					   ctl_alloc_family_name(l->sock.family),
					   l->sock.port, strerror(-rc));
	l->sock.in_pf = true;
	return 0;
}

/* Delete the prefilter entries of socket k (leg li of s), if it has them. */
static void
pf_sock_del(struct ctl_sessions *t, const struct ctl_session *s, int li,
	    struct ctl_sock *k)
{
	if (t->cfg.pf == NULL || !k->in_pf)
		return;
	for (int rtcp = 0; rtcp < 2; rtcp++) {
		struct rtpb_addr a;
		int rc;

		ctl_rec_pf_local(t, k->laddr, k->port, rtcp, &a);
		rc = ctl_pf_sock_del(t->cfg.pf, &a);
		if (rc != 0)
			ctl_log_call(CTL_LOG_WARN, s->call_id,
				     "leg %d: prefilter entry of %s port %u: "
				     "%s", li, ctl_alloc_family_name(k->family),
				     (unsigned)(k->port + rtcp), strerror(-rc));
	}
	k->in_pf = false;
}

/*
 * Set the latched peer of the prefilter entry of leg li's stream (RTP
 * or RTCP) and its SSRC (host order, 0 unknown); peer NULL or family
 * NONE clears it. Failures are logged.
 */
void
ctl_rec_pf_latch(struct ctl_sessions *t, const struct ctl_session *s, int li,
		 bool rtcp, const struct rtpb_addr *peer, uint32_t ssrc)
{
	const struct ctl_leg *l = &s->leg[li];
	struct rtpb_addr a;
	int rc;

	if (t->cfg.pf == NULL || !l->sock.in_pf)
		return;
	ctl_rec_pf_local(t, l->sock.laddr, l->sock.port, rtcp, &a);
	rc = ctl_pf_sock_latch(t->cfg.pf, &a, peer, ssrc);
	if (rc != 0)
		ctl_log_call(CTL_LOG_WARN, s->call_id,
			     "leg %d: prefilter entry of %s port %u: latch: %s",
			     li, ctl_alloc_family_name(l->sock.family),
			     (unsigned)(l->sock.port + (rtcp ? 1 : 0)),
			     strerror(-rc));
}

/* Leg li turned asymmetric ('A'): its entries lose their peer (§4.7). */
void
ctl_rec_pf_asymmetric(struct ctl_sessions *t, const struct ctl_session *s,
		      int li, bool was_asymmetric)
{
	if (was_asymmetric || !s->leg[li].asymmetric)
		return;
	ctl_rec_pf_latch(t, s, li, false, NULL, 0);
	ctl_rec_pf_latch(t, s, li, true, NULL, 0);
}

/*
 * The message stream (leg li, rtcp) of the desired legs should have in
 * the dataplane now. The cookie carries serial, leg and kind so events
 * lead back here.
 */
static void
stream_want(const struct ctl_sessions *t, const struct ctl_session *s,
	    const struct ctl_leg legs[2], int li, bool rtcp,
	    struct rtpb_msg_stream *m)
{
	const struct ctl_leg *l = &legs[li];
	const struct ctl_sock *o = &legs[!li].sock;
	const struct ctl_stream *st = rtcp ? &l->sock.rtcp : &l->sock.rtp;
	const struct ctl_stream *ost = rtcp ? &o->rtcp : &o->rtp;
	const struct ctl_stream *pair;

	memset(m, 0, sizeof(*m));
	m->stream_id = st->id;
	m->out_stream_id =
		(o->port != 0 && ost->has_id) ? ost->id : RTPB_STREAM_NONE;
	m->flags = (l->asymmetric ? RTPB_STREAM_F_ASYMMETRIC : 0) |
		   (rtcp ? RTPB_STREAM_F_RTCP : 0);
	/* the RTCP stream follows an RTP handover (DESIGN.md §4.6); an RTCP
	 * proof or revert moves the RTP stream too (§4.9) */
	pair = rtcp ? &l->sock.rtp : &l->sock.rtcp;
	m->pair_stream_id = pair->has_id ? pair->id : RTPB_STREAM_NONE;
	m->learn_ms = t->cfg.learn_ms;
	ctl_rec_pf_local(t, l->sock.laddr, l->sock.port, rtcp, &m->local);
	/* a socket cannot send to the other family: a remote of another
	 * family (an answer that changed it) is learnt from packets */
	if (l->has_remote && l->remote.family == l->sock.family) {
		m->signalled = l->remote;
		if (rtcp) {
			/* RTCP peer: signalled RTP port + 1 (RFC 3550 §11) */
			uint16_t p = (uint16_t)(ntohs(l->remote.port) + 1);

			m->signalled.port = htons(p);
			if (p == 0)
				memset(&m->signalled, 0, sizeof(m->signalled));
		}
	}
	m->cookie = s->serial << 2 | (uint64_t)li << 1 | (rtcp ? 1 : 0);
	/* recording: leg 1 receives the from-tag party's packets (".o") */
	if (l->rec_id != 0 && (!rtcp || l->rec_rtcp)) {
		m->flags |= RTPB_STREAM_F_RECORD | (li == 1 ? RTPB_STREAM_F_REC_ORIG : 0);
		m->rec_id = l->rec_id;
	}
	/* "&& S tos=" for both streams; DTMF catching on RTP (docs/DTMF.md) */
	if (l->has_tos) {
		m->flags |= RTPB_STREAM_F_TOS;
		m->tos = l->tos;
	}
	if (l->dtmf && !rtcp) {
		m->flags |= RTPB_STREAM_F_DTMF;
		m->dtmf_pt = (uint8_t)(l->dtmf_pt | (l->dtmf_hide ? RTPB_DTMF_PT_HIDE : 0));
	}
	/* playback: the other party's RTP to a party a prompt plays to */
	if (l->held && !rtcp)
		m->flags |= RTPB_STREAM_F_HOLD;
}

/* Same content, header (len, seq) aside. */
static bool
stream_msg_eq(const struct rtpb_msg_stream *a, const struct rtpb_msg_stream *b)
{
	size_t h = sizeof(a->hdr);

	return memcmp((const char *)a + h, (const char *)b + h,
		      sizeof(*a) - h) == 0;
}

/* a and b differ in their recording, hold, TOS or DTMF catching only
 * (R, N, P, S, "&& S tos=", "&& M3:1"). */
static bool
stream_msg_rec_only(const struct rtpb_msg_stream *a, const struct rtpb_msg_stream *b)
{
	const uint32_t only = RTPB_STREAM_F_RECORD | RTPB_STREAM_F_REC_ORIG |
			      RTPB_STREAM_F_HOLD | RTPB_STREAM_F_TOS |
			      RTPB_STREAM_F_DTMF;
	struct rtpb_msg_stream x = *a;

	x.flags = (x.flags & ~only) | (b->flags & only);
	x.rec_id = b->rec_id;
	x.tos = b->tos;
	x.dtmf_pt = b->dtmf_pt;
	return stream_msg_eq(&x, b);
}

/* Allocate the stream's id from the session's owner if it has none. */
static int
stream_id(struct ctl_sessions *t, struct ctl_session *s, struct ctl_stream *st)
{
	int rc;

	if (st->has_id)
		return 0;
	rc = ctl_dp_stream_id_alloc(t->cfg.dp, s->owner, &st->id);
	if (rc != 0)
		return rc;
	st->has_id = true;
	st->in_dp = false;
	return 0;
}

/*
 * The reconciliation of one stream: desired (stream_want()) against told
 * (st->sent). Push ADD (never told) or UPDATE (changed, or re-signalled);
 * 0 if nothing to do.
 */
static int
stream_sync(struct ctl_sessions *t, struct ctl_session *s,
	    struct ctl_leg legs[2], int li, bool rtcp)
{
	struct ctl_stream *st = leg_stream(&legs[li], rtcp);
	struct rtpb_msg_stream m;
	bool rec_only;
	int rc = stream_id(t, s, st);

	if (rc != 0)
		return rc;
	stream_want(t, s, legs, li, rtcp, &m);
	if (st->in_dp && !st->resignal && stream_msg_eq(&m, &st->sent))
		return 0;
	m.hdr.type = st->in_dp ? RTPB_MSG_STREAM_UPDATE : RTPB_MSG_STREAM_ADD;
	/* R, N: the dataplane keeps the latch and its window */
	rec_only = st->in_dp && !st->resignal && stream_msg_rec_only(&m, &st->sent);
	if (rec_only)
		m.flags |= RTPB_STREAM_F_REC_ONLY;
	/* an ADD into a restarted dataplane restores the latched peer */
	if (!st->in_dp && !legs[li].asymmetric) {
		m.peer = st->latched;
		m.peer_ssrc = st->latched_ssrc;
	}
	rc = ctl_dp_stream_push(t->cfg.dp, &m);
	if (rc != 0) {
		t->c.push_fail++;
		return rc;
	}
	memset(&m.peer, 0, sizeof(m.peer));
	m.peer_ssrc = 0;
	m.flags &= ~RTPB_STREAM_F_REC_ONLY;
	if (m.hdr.type == RTPB_MSG_STREAM_ADD) { /* an ADD ends any fork */
		memset(&st->fork_told, 0, sizeof(st->fork_told));
		st->fork_told_port = 0;
	}
	st->sent = m;
	st->in_dp = true;
	st->resignal = false;
	return 0;
}

/*
 * A session restored from the journal at a dataplane's attach
 * (ctl_replay.c): its streams marked kept (in_dp, no id yet: found in the
 * dataplane with the journal's id, relay socket and cookie) stay in the
 * dataplane as they are, latch and counters included. Their told state
 * is what the journal says the earlier control told (stream_want() with
 * the journalled ids of all four streams); the other streams lose their
 * journalled ids, so ctl_rec_session() adds them with new ones and
 * UPDATEs a kept stream only if its wanted message changed (a new out or
 * pair id, a desired state the dataplane was never told).
 * @return the streams kept.
 */
uint32_t
ctl_rec_keep(struct ctl_sessions *t, struct ctl_session *s)
{
	uint32_t n = 0;
	int li, rtcp;

	for (li = 0; li < 2; li++)
		for (rtcp = 0; rtcp < 2; rtcp++) {
			struct ctl_stream *st = leg_stream(&s->leg[li], rtcp);

			st->has_id = s->leg[li].sock.port != 0 &&
				     st->id != RTPB_STREAM_NONE;
		}
	for (li = 0; li < 2; li++)
		for (rtcp = 0; rtcp < 2; rtcp++) {
			struct ctl_stream *st = leg_stream(&s->leg[li], rtcp);

			if (!st->in_dp)
				continue;
			stream_want(t, s, s->leg, li, rtcp, &st->sent);
			st->sent.hdr.type = RTPB_MSG_STREAM_ADD;
			n++;
		}
	for (li = 0; li < 2; li++)
		for (rtcp = 0; rtcp < 2; rtcp++) {
			struct ctl_stream *st = leg_stream(&s->leg[li], rtcp);

			if (!st->in_dp)
				st->has_id = false;
		}
	return n;
}

/* Ids for both streams of leg li, before any ADD, so that each ADD
 * carries the right out_stream_id and pair_stream_id. */
static int
leg_ids(struct ctl_sessions *t, struct ctl_session *s, struct ctl_leg *l)
{
	int rc;

	if (l->sock.port == 0)
		return 0;
	rc = stream_id(t, s, &l->sock.rtp);
	return rc != 0 ? rc : stream_id(t, s, &l->sock.rtcp);
}

/* Both streams of a leg that has a port. */
int
ctl_rec_leg(struct ctl_sessions *t, struct ctl_session *s,
	    struct ctl_leg legs[2], int li)
{
	int rc;

	if (legs[li].sock.port == 0)
		return 0;
	/* each stream, then its fork (ctl_fork.c) */
	rc = stream_sync(t, s, legs, li, false);
	rc = rc != 0 ? rc : ctl_fork_sync(t, legs, li, false);
	rc = rc != 0 ? rc : stream_sync(t, s, legs, li, true);
	return rc != 0 ? rc : ctl_fork_sync(t, legs, li, true);
}

/* Everything of a session: ids first, so ADDs carry the right out ids. */
int
ctl_rec_session(struct ctl_sessions *t, struct ctl_session *s)
{
	int rc = 0;

	for (int li = 0; li < 2 && rc == 0; li++)
		rc = leg_ids(t, s, &s->leg[li]);
	for (int li = 0; li < 2 && rc == 0; li++)
		rc = ctl_rec_leg(t, s, s->leg, li);
	return rc;
}

/*
 * Tell the dataplane, then the prefilter, about the new sockets of the
 * desired legs (open[li]): ids of both first, then their ADDs (each
 * carries the right out_stream_id and pair_stream_id), then the
 * prefilter entries in front. On failure the caller releases what legs
 * hold (ctl_rec_sock_release()).
 * @return 0, or -ENOSPC (no stream id), -ENOBUFS (ring full), -EIO (the
 *         prefilter refused), -ENOTCONN, with err filled.
 */
int
ctl_rec_open(struct ctl_sessions *t, struct ctl_session *s,
	     struct ctl_leg *legs, const bool *open,
	     struct ctl_session_err *err)
{
	int rc = 0;

	for (int li = 0; li < 2 && rc == 0; li++)
		if (open[li])
			rc = leg_ids(t, s, &legs[li]);
	for (int li = 0; li < 2 && rc == 0; li++)
		if (open[li])
			rc = ctl_rec_leg(t, s, legs, li);
	if (rc != 0)
		return ctl_session_err_set(err, rc, NULL);
	for (int li = 0; li < 2 && rc == 0; li++)
		if (open[li])
			rc = pf_leg_add(t, &legs[li], err);
	return rc;
}

/*
 * DEL one stream and give its id back. With count, the stream's counters
 * are added to the totals first (I reports deleted streams too); without,
 * they were taken already (ctl_sessions_detach()). A detached dataplane
 * has no streams left, so -ENOTCONN counts as done.
 * @return 0, or -ENOBUFS (ring full: the id stays taken).
 */
int
ctl_rec_del(struct ctl_sessions *t, uint32_t id,
	    const struct rtpb_addr *local, bool count)
{
	struct rtpb_stream_stats buf;
	const struct rtpb_stream_stats *ss =
		count ? ctl_dp_stream_stats(t->cfg.dp, id, &buf) : NULL;
	uint64_t in = ss != NULL ? ss->pkts_in : 0;
	uint64_t rel = ss != NULL ? ss->pkts_relayed : 0;
	uint64_t drop = ss != NULL ? ss->pkts_dropped : 0;
	int rc = t->abandon ? 0 : ctl_dp_stream_del(t->cfg.dp, id, local);

	if (rc == -ENOBUFS) {
		t->c.push_fail++;
		return rc;
	}
	if (rc != 0 && rc != -ENOTCONN)
		ctl_log(CTL_LOG_WARN, "stream %u DEL: %s", id, strerror(-rc));
	t->c.pkts_in += in;
	t->c.pkts_relayed += rel;
	t->c.pkts_dropped += drop;
	ctl_dp_stream_id_free(t->cfg.dp, id);
	return 0;
}

/* Remove one stream from the dataplane; true if its DEL must wait. */
static bool
stream_release(struct ctl_sessions *t, struct ctl_stream *st)
{
	bool wait = false;

	if (!st->has_id)
		return false;
	if (st->in_dp)
		wait = ctl_rec_del(t, st->id, &st->sent.local, true) != 0;
	else
		ctl_dp_stream_id_free(t->cfg.dp, st->id);
	if (!wait)
		st->has_id = st->in_dp = false;
	return wait;
}

/* Add what earlier dataplanes counted on st to the deleted streams'
 * totals, and forget it. */
static void
past_retire(struct ctl_sessions *t, struct ctl_stream *st)
{
	t->c.pkts_in += st->past.pkts_in;
	t->c.pkts_relayed += st->past.pkts_relayed;
	t->c.pkts_dropped += st->past.pkts_dropped;
	memset(&st->past, 0, sizeof(st->past));
}

/*
 * Release a relay socket of leg li: DEL its streams, free their ids and
 * its port, or bury them until the DELs go through. try_del false buries
 * at once (the DELs must wait for an UPDATE that is itself waiting).
 */
void
ctl_rec_sock_release(struct ctl_sessions *t, const struct ctl_session *s,
		     int li, struct ctl_sock *k, bool try_del)
{
	bool w0, w1;

	/* the prefilter first: no packet for it reaches the dataplane once
	 * the DELs go, whenever that is */
	pf_sock_del(t, s, li, k);
	/* earlier dataplanes' counts join the deleted streams' totals (the
	 * current one's are added by ctl_rec_del()) */
	past_retire(t, &k->rtp);
	past_retire(t, &k->rtcp);
	if (try_del) {
		w0 = stream_release(t, &k->rtp);
		w1 = stream_release(t, &k->rtcp);
	} else {
		w0 = k->rtp.has_id && k->rtp.in_dp;
		w1 = k->rtcp.has_id && k->rtcp.in_dp;
		if (k->rtp.has_id && !w0)
			ctl_dp_stream_id_free(t->cfg.dp, k->rtp.id);
		if (k->rtcp.has_id && !w1)
			ctl_dp_stream_id_free(t->cfg.dp, k->rtcp.id);
	}
	if (w0 || w1) {
		struct grave *g = g_new0(struct grave, 1);

		g->id[0] = k->rtp.id;
		g->id[1] = k->rtcp.id;
		g->waiting[0] = w0;
		g->waiting[1] = w1;
		g->local[0] = k->rtp.sent.local;
		g->local[1] = k->rtcp.sent.local;
		g->port = k->port;
		g->laddr = k->laddr;
		g_queue_push_tail(&t->graves, g);
		ctl_log_call(CTL_LOG_WARN, s->call_id,
			     "leg %d: ring full, DEL of %s port %u deferred", li,
			     ctl_alloc_family_name(k->family), k->port);
	} else {
		ctl_ports_free(ctl_alloc_pool(t, k->laddr), k->port);
	}
}

/* Close leg li: DEL its streams, free ids and port (or bury them). */
void
ctl_rec_leg_release(struct ctl_sessions *t, struct ctl_session *s, int li)
{
	struct ctl_sock *k = &s->leg[li].sock;

	if (k->port == 0)
		return;
	ctl_rec_sock_release(t, s, li, k, true);
	/* family and laddr stay: a pinned leg keeps its address */
	memset(&k->rtp, 0, sizeof(k->rtp));
	memset(&k->rtcp, 0, sizeof(k->rtcp));
	k->port = 0;
	k->in_pf = false;
}

/*
 * A stream's packet counters as Q, I and G report them: what earlier
 * dataplanes counted (st->past) plus the current one's, if it holds the
 * stream; last_rx_ns the current one's only (0 if none).
 */
void
ctl_rec_stream_counts(const struct ctl_sessions *t,
		      const struct ctl_stream *st, struct rtpb_stream_stats *out)
{
	struct rtpb_stream_stats buf;
	const struct rtpb_stream_stats *ss = NULL;

	memset(out, 0, sizeof(*out));
	if (st->in_dp)
		ss = ctl_dp_stream_stats(t->cfg.dp, st->id, &buf);
	if (ss != NULL)
		*out = *ss;
	out->pkts_in += st->past.pkts_in;
	out->pkts_relayed += st->past.pkts_relayed;
	out->pkts_dropped += st->past.pkts_dropped;
}

/* Retry the DELs of one grave; true when it is done (then freed). */
static bool
grave_retry(struct ctl_sessions *t, struct grave *g)
{
	for (int k = 0; k < 2; k++) {
		if (!g->waiting[k])
			continue;
		if (ctl_rec_del(t, g->id[k], &g->local[k], true) != 0)
			return false;
		g->waiting[k] = false;
	}
	ctl_ports_free(ctl_alloc_pool(t, g->laddr), g->port);
	g_free(g);
	return true;
}

void
ctl_sessions_flush(struct ctl_sessions *t)
{
	struct grave *g;
	struct ctl_session *s;

	if (!ctl_dp_ready(t->cfg.dp))
		return; /* replay will push everything after re-attach */
	/* UPDATEs first: a leg moved to another family may have its old
	 * streams here, still the out_stream_id of the other leg until
	 * that leg's UPDATE goes through (ids are not reused before their
	 * DEL, so the order is free otherwise) */
	for (guint n = t->pending.length; n > 0; n--) {
		int rc;

		s = g_queue_peek_head(&t->pending);
		rc = ctl_rec_session(t, s);
		if (rc == -ENOBUFS)
			return; /* ring full: later ones would fail too */
		g_queue_pop_head(&t->pending);
		if (rc == 0)
			s->pending = false;
		else /* e.g. its relay address is not served (yet): next time */
			g_queue_push_tail(&t->pending, s);
	}
	while ((g = g_queue_peek_head(&t->graves)) != NULL) {
		if (!grave_retry(t, g))
			return;
		g_queue_pop_head(&t->graves);
	}
}

void
ctl_rec_graves_drop(struct ctl_sessions *t, bool warn)
{
	struct grave *g;

	while ((g = g_queue_pop_head(&t->graves)) != NULL) {
		if (warn)
			ctl_log(CTL_LOG_WARN, "port %u: DEL never went through",
				g->port);
		else
			ctl_ports_free(ctl_alloc_pool(t, g->laddr), g->port);
		g_free(g);
	}
}

void
ctl_rec_graves_detach(struct ctl_sessions *t)
{
	for (GList *l = t->graves.head; l != NULL; l = l->next) {
		struct grave *g = l->data;

		for (int k = 0; k < 2; k++) {
			struct rtpb_stream_stats buf;
			const struct rtpb_stream_stats *ss;

			if (!g->waiting[k])
				continue;
			ss = ctl_dp_stream_stats(t->cfg.dp, g->id[k], &buf);
			if (ss == NULL)
				continue;
			t->c.pkts_in += ss->pkts_in;
			t->c.pkts_relayed += ss->pkts_relayed;
			t->c.pkts_dropped += ss->pkts_dropped;
		}
	}
}
