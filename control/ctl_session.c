/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_session.c: the session table and its dataplane mirror, see
 * ctl_session.h. Read-write by control's thread only; the dataplane sees
 * sessions only as the stream messages pushed from here.
 *
 * Indexes (GLib): by_call maps a call-id to a GPtrArray of its sessions
 * in creation order (rtpproxy's hash bucket walk finds the oldest match
 * first); by_serial maps the serial in each stream's cookie back to its
 * session for dataplane events. Two queues hold deferred work: sessions
 * with a push refused by a full ring, and "graves", legs whose DEL was
 * refused: their ids and ports stay taken until the DEL goes through.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd.h"
#include "ctl_log.h"
#include "ctl_session.h"

#define NS_PER_S 1000000000ULL

/* A leg whose streams' DELs were refused: retried by ctl_sessions_flush. */
struct grave {
	uint32_t id[2];              /* RTP, RTCP stream ids */
	bool waiting[2];             /* DEL still to be pushed */
	struct rtpb_addr local[2];   /* as added */
	uint16_t port;               /* pair freed once both DELs went */
};

struct ctl_sessions {
	struct ctl_sessions_cfg cfg;
	GHashTable *by_call;   /* char *call_id -> GPtrArray of sessions */
	GHashTable *by_serial; /* uint64_t *serial -> struct ctl_session */
	GQueue pending;        /* sessions with a refused ADD/UPDATE */
	GQueue graves;         /* struct grave *, refused DELs */
	uint64_t next_serial;
	uint32_t rr;           /* round robin owner choice */
	struct ctl_sessions_counters c; /* pkts_*: deleted streams only */
};

static struct ctl_stream *
leg_stream(struct ctl_leg *l, bool rtcp)
{
	return rtcp ? &l->rtcp : &l->rtp;
}

static void
mark_pending(struct ctl_sessions *t, struct ctl_session *s)
{
	if (s->pending)
		return;
	s->pending = true;
	g_queue_push_tail(&t->pending, s);
}

/*
 * The message stream (leg li, rtcp) should have in the dataplane now.
 * The cookie carries serial, leg and kind so events lead back here.
 */
static void
stream_want(const struct ctl_sessions *t, const struct ctl_session *s, int li,
	    bool rtcp, struct rtpb_msg_stream *m)
{
	const struct ctl_leg *l = &s->leg[li], *o = &s->leg[!li];
	const struct ctl_stream *st = rtcp ? &l->rtcp : &l->rtp;
	const struct ctl_stream *ost = rtcp ? &o->rtcp : &o->rtp;

	memset(m, 0, sizeof(*m));
	m->stream_id = st->id;
	m->out_stream_id =
		(o->port != 0 && ost->has_id) ? ost->id : RTPB_STREAM_NONE;
	m->flags = (l->asymmetric ? RTPB_STREAM_F_ASYMMETRIC : 0) |
		   (rtcp ? RTPB_STREAM_F_RTCP : 0);
	/* the RTCP stream follows an RTP handover (DESIGN.md §4.6) */
	m->rtcp_stream_id = (!rtcp && l->rtcp.has_id) ? l->rtcp.id : RTPB_STREAM_NONE;
	m->learn_ms = t->cfg.learn_ms;
	rtpb_addr_set_v4(&m->local, t->cfg.relay_ip,
			 htons((uint16_t)(l->port + (rtcp ? 1 : 0))));
	if (l->has_remote) {
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
}

/* Same content, header (len, seq) aside. */
static bool
stream_msg_eq(const struct rtpb_msg_stream *a, const struct rtpb_msg_stream *b)
{
	size_t h = sizeof(a->hdr);

	return memcmp((const char *)a + h, (const char *)b + h,
		      sizeof(*a) - h) == 0;
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

/* Push ADD (new) or UPDATE (changed) for one stream; 0 if nothing to do. */
static int
stream_sync(struct ctl_sessions *t, struct ctl_session *s, int li, bool rtcp)
{
	struct ctl_stream *st = leg_stream(&s->leg[li], rtcp);
	struct rtpb_msg_stream m;
	int rc = stream_id(t, s, st);

	if (rc != 0)
		return rc;
	stream_want(t, s, li, rtcp, &m);
	if (st->in_dp && stream_msg_eq(&m, &st->sent))
		return 0;
	m.hdr.type = st->in_dp ? RTPB_MSG_STREAM_UPDATE : RTPB_MSG_STREAM_ADD;
	rc = ctl_dp_stream_push(t->cfg.dp, &m);
	if (rc != 0) {
		t->c.push_fail++;
		return rc;
	}
	st->sent = m;
	st->in_dp = true;
	return 0;
}

/* Both streams of a leg that has a port. */
static int
leg_sync(struct ctl_sessions *t, struct ctl_session *s, int li)
{
	int rc;

	if (s->leg[li].port == 0)
		return 0;
	rc = stream_sync(t, s, li, false);
	return rc != 0 ? rc : stream_sync(t, s, li, true);
}

/* Everything of a session: ids first, so ADDs carry the right out ids. */
static int
session_sync(struct ctl_sessions *t, struct ctl_session *s)
{
	int rc = 0;

	for (int li = 0; li < 2 && rc == 0; li++) {
		if (s->leg[li].port == 0)
			continue;
		rc = stream_id(t, s, &s->leg[li].rtp);
		if (rc == 0)
			rc = stream_id(t, s, &s->leg[li].rtcp);
	}
	for (int li = 0; li < 2 && rc == 0; li++)
		rc = leg_sync(t, s, li);
	return rc;
}

/*
 * DEL one stream and give its id back. The stream's counters are added
 * to the totals first (I reports deleted streams too). A detached
 * dataplane has no streams left, so -ENOTCONN counts as done.
 * @return 0, or -ENOBUFS (ring full: the id stays taken).
 */
static int
dp_del(struct ctl_sessions *t, uint32_t id, const struct rtpb_addr *local)
{
	const struct rtpb_stream_stats *ss = ctl_dp_stream_stats(t->cfg.dp, id);
	uint64_t in = ss != NULL ? ss->pkts_in : 0;
	uint64_t rel = ss != NULL ? ss->pkts_relayed : 0;
	int rc = ctl_dp_stream_del(t->cfg.dp, id, local);

	if (rc == -ENOBUFS) {
		t->c.push_fail++;
		return rc;
	}
	if (rc != 0 && rc != -ENOTCONN)
		ctl_log(CTL_LOG_WARN, "stream %u DEL: %s", id, strerror(-rc));
	t->c.pkts_in += in;
	t->c.pkts_relayed += rel;
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
		wait = dp_del(t, st->id, &st->sent.local) != 0;
	else
		ctl_dp_stream_id_free(t->cfg.dp, st->id);
	if (!wait)
		st->has_id = st->in_dp = false;
	return wait;
}

/* Close leg li: DEL its streams, free ids and port (or bury them). */
static void
leg_release(struct ctl_sessions *t, struct ctl_session *s, int li)
{
	struct ctl_leg *l = &s->leg[li];
	bool w0, w1;

	if (l->port == 0)
		return;
	w0 = stream_release(t, &l->rtp);
	w1 = stream_release(t, &l->rtcp);
	if (w0 || w1) {
		struct grave *g = g_new0(struct grave, 1);

		g->id[0] = l->rtp.id;
		g->id[1] = l->rtcp.id;
		g->waiting[0] = w0;
		g->waiting[1] = w1;
		g->local[0] = l->rtp.sent.local;
		g->local[1] = l->rtcp.sent.local;
		g->port = l->port;
		g_queue_push_tail(&t->graves, g);
		ctl_log_call(CTL_LOG_WARN, s->call_id,
			     "leg %d: ring full, DEL of port %u deferred", li,
			     l->port);
	} else {
		ctl_ports_free(t->cfg.ports, l->port);
	}
	memset(&l->rtp, 0, sizeof(l->rtp));
	memset(&l->rtcp, 0, sizeof(l->rtcp));
	l->port = 0;
}

/*
 * Open leg li: a port pair and both streams; undone on failure. With
 * sync_other, the other leg's streams get their new out_stream_id now;
 * without, the caller syncs that leg (after changing it anyway).
 */
static int
leg_open(struct ctl_sessions *t, struct ctl_session *s, int li,
	 bool sync_other)
{
	struct ctl_leg *l = &s->leg[li];
	int rc;

	if (l->port != 0)
		return 0;
	if (!ctl_dp_ready(t->cfg.dp))
		return -ENOTCONN;
	rc = ctl_ports_alloc(t->cfg.ports, &l->port);
	if (rc != 0)
		return rc;
	rc = stream_sync(t, s, li, false);
	if (rc == 0)
		rc = stream_sync(t, s, li, true);
	if (rc != 0) {
		leg_release(t, s, li);
		return rc;
	}
	/* the other leg now has somewhere to send: new out_stream_id */
	if (sync_other && leg_sync(t, s, !li) != 0)
		mark_pending(t, s);
	if (s->leg[!li].port != 0 && !s->complete) {
		s->complete = true;
		t->c.completed++;
	}
	return 0;
}

static void
session_free(struct ctl_session *s)
{
	for (int li = 0; li < 2; li++)
		free(s->leg[li].codecs);
	free(s->call_id);
	free(s->from_tag);
	free(s);
}

/* Unlink s from the indexes and queues, release its legs, free it. */
static void
session_destroy(struct ctl_sessions *t, struct ctl_session *s)
{
	GPtrArray *arr = g_hash_table_lookup(t->by_call, s->call_id);

	leg_release(t, s, 0);
	leg_release(t, s, 1);
	if (s->pending)
		g_queue_remove(&t->pending, s);
	if (arr != NULL) {
		g_ptr_array_remove(arr, s);
		if (arr->len == 0)
			g_hash_table_remove(t->by_call, s->call_id);
	}
	g_hash_table_remove(t->by_serial, &s->serial);
	t->c.destroyed++;
	session_free(s);
}

struct ctl_sessions *
ctl_sessions_create(const struct ctl_sessions_cfg *cfg)
{
	struct ctl_sessions *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->cfg = *cfg;
	t->by_call = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   (GDestroyNotify)g_ptr_array_unref);
	t->by_serial = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_queue_init(&t->pending);
	g_queue_init(&t->graves);
	return t;
}

void
ctl_sessions_destroy(struct ctl_sessions *t)
{
	struct grave *g;

	if (t == NULL)
		return;
	ctl_sessions_delete_all(t);
	ctl_sessions_flush(t);
	while ((g = g_queue_pop_head(&t->graves)) != NULL) {
		ctl_log(CTL_LOG_WARN, "port %u: DEL never went through", g->port);
		g_free(g);
	}
	g_hash_table_destroy(t->by_call);
	g_hash_table_destroy(t->by_serial);
	free(t);
}

/* rtpproxy rtpp_session_ematch() for one session. */
static int
session_match(const struct ctl_session *s, const char *from_tag,
	      const char *to_tag)
{
	const char *cp1, *cp2;

	if (strcmp(s->from_tag, from_tag) == 0)
		return 0;
	if (to_tag == NULL)
		return -1;
	switch (ctl_cmd_tag_cmp(s->from_tag, to_tag, NULL)) {
	case 1:
		return 1;
	case 2:
		/* to_tag without medianum: the from_tag must carry the same */
		cp1 = strrchr(s->from_tag, ';');
		cp2 = strrchr(from_tag, ';');
		if (cp2 != NULL && strcmp(cp1, cp2) == 0)
			return 1;
		return -1;
	default:
		return -1;
	}
}

int
ctl_sessions_find(struct ctl_sessions *t, const char *call_id,
		  const char *from_tag, const char *to_tag,
		  struct ctl_session **sp)
{
	GPtrArray *arr = g_hash_table_lookup(t->by_call, call_id);

	if (arr == NULL)
		return -1;
	for (guint i = 0; i < arr->len; i++) {
		int rval = session_match(arr->pdata[i], from_tag, to_tag);

		if (rval >= 0) {
			*sp = arr->pdata[i];
			return rval;
		}
	}
	return -1;
}

/* Index a new session. */
static void
session_link(struct ctl_sessions *t, struct ctl_session *s)
{
	GPtrArray *arr = g_hash_table_lookup(t->by_call, s->call_id);

	if (arr == NULL) {
		arr = g_ptr_array_new();
		g_hash_table_insert(t->by_call, g_strdup(s->call_id), arr);
	}
	g_ptr_array_add(arr, s);
	g_hash_table_insert(t->by_serial, &s->serial, s);
}

int
ctl_session_create(struct ctl_sessions *t, const char *call_id,
		   const char *from_tag, bool weak, uint64_t now_ns,
		   struct ctl_session **sp)
{
	uint32_t n = ctl_dp_ready(t->cfg.dp) ? ctl_dp_n_workers(t->cfg.dp) : 0;
	struct ctl_session *s;
	int rc;

	if (n == 0)
		return -ENOTCONN;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->call_id = strdup(call_id);
	s->from_tag = strdup(from_tag);
	if (s->call_id == NULL || s->from_tag == NULL) {
		session_free(s);
		return -ENOMEM;
	}
	s->serial = ++t->next_serial;
	s->owner = t->rr++ % n;
	s->leg[0].ptime = s->leg[1].ptime = -1;
	/* rtpproxy rtpp_session_ctor(): weak creation sets weak[0] */
	if (weak)
		s->leg[0].weak = true;
	else
		s->strong = true;
	s->created_ns = s->last_ns = now_ns;
	rc = leg_open(t, s, 0, false); /* leg 1 has no port: nothing to sync */
	if (rc != 0) {
		session_free(s);
		return rc;
	}
	session_link(t, s);
	t->c.created++;
	ctl_log_call(CTL_LOG_INFO, s->call_id,
		     "new session, tag %s, leg 0 on port %u, worker %u",
		     s->from_tag, s->leg[0].port, s->owner);
	*sp = s;
	return 0;
}

/* leg_open() plus its log line. */
static int
leg_open_log(struct ctl_sessions *t, struct ctl_session *s, int idx,
	     bool sync_other)
{
	bool had = s->leg[idx].port != 0;
	int rc = leg_open(t, s, idx, sync_other);

	if (rc == 0 && !had)
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d on port %u, tag %s", idx,
			     s->leg[idx].port, s->from_tag);
	return rc;
}

int
ctl_session_leg_open(struct ctl_sessions *t, struct ctl_session *s, int idx)
{
	return leg_open_log(t, s, idx, true);
}

int
ctl_session_signal(struct ctl_sessions *t, struct ctl_session *s, int pidx,
		   const struct ctl_leg_signal *sig, uint64_t now_ns)
{
	struct ctl_leg *l = &s->leg[pidx];
	char *codecs = NULL;

	if (sig->codecs != NULL) {
		codecs = strndup(sig->codecs, sig->codecs_len);
		if (codecs == NULL)
			return -ENOMEM;
	}
	if (sig->has_remote) {
		l->remote = sig->remote;
		l->has_remote = true;
		l->onhold = false;
	} else if (sig->onhold) {
		/* brief/DESIGN: on hold = no signalled address */
		l->has_remote = false;
		l->onhold = true;
	}
	l->asymmetric = sig->asymmetric;
	l->ptime = sig->ptime;
	free(l->codecs);
	l->codecs = codecs;
	s->last_ns = now_ns;
	if (leg_sync(t, s, pidx) != 0)
		mark_pending(t, s);
	return 0;
}

void
ctl_session_mark(struct ctl_session *s, int sidx, bool weak, bool is_update)
{
	if (weak)
		s->leg[sidx].weak = true;
	else if (is_update)
		s->strong = true;
}

int
ctl_session_update(struct ctl_sessions *t, struct ctl_session *s, int sidx,
		   const struct ctl_leg_signal *sig, bool weak, bool is_update,
		   uint64_t now_ns)
{
	/* the signal below syncs leg !sidx, new out ids included: one
	 * UPDATE per stream instead of two */
	int rc = leg_open_log(t, s, sidx, false);

	if (rc != 0)
		return rc;
	ctl_session_mark(s, sidx, weak, is_update);
	return ctl_session_signal(t, s, !sidx, sig, now_ns);
}

int
ctl_sessions_delete(struct ctl_sessions *t, const char *call_id,
		    const char *from_tag, const char *to_tag, bool weak)
{
	GPtrArray *arr = g_hash_table_lookup(t->by_call, call_id);
	GPtrArray *snap;
	int ndeleted = 0;

	if (arr == NULL)
		return 0;
	/* destroying a session edits arr: walk a copy */
	snap = g_ptr_array_copy(arr, NULL, NULL);
	for (guint i = 0; i < snap->len; i++) {
		struct ctl_session *s = snap->pdata[i];
		unsigned medianum = 0;
		int cmpr, idx;

		if ((cmpr = ctl_cmd_tag_cmp(s->from_tag, from_tag, &medianum)) != 0)
			idx = 1;
		else if (to_tag != NULL &&
			 (cmpr = ctl_cmd_tag_cmp(s->from_tag, to_tag,
						 &medianum)) != 0)
			idx = 0;
		else
			continue;
		if (weak)
			s->leg[idx].weak = false;
		else
			s->strong = false;
		ndeleted++;
		if (s->strong || s->leg[0].weak || s->leg[1].weak) {
			ctl_log_call(CTL_LOG_INFO, s->call_id,
				     "delete: medianum=%u: flag removed, session "
				     "continues (strong=%d, weak=%d/%d)",
				     medianum, s->strong, s->leg[0].weak,
				     s->leg[1].weak);
			continue;
		}
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "deleting session %u on ports %u/%u", medianum,
			     s->leg[0].port, s->leg[1].port);
		session_destroy(t, s);
		if (cmpr != 2)
			break;
	}
	g_ptr_array_unref(snap);
	return ndeleted;
}

/* Every live session, as a new array (callers may destroy them). */
static GPtrArray *
all_sessions(struct ctl_sessions *t)
{
	GPtrArray *all = g_ptr_array_sized_new(g_hash_table_size(t->by_serial));
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, t->by_serial);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(all, v);
	return all;
}

void
ctl_sessions_delete_all(struct ctl_sessions *t)
{
	GPtrArray *all = all_sessions(t);

	for (guint i = 0; i < all->len; i++)
		session_destroy(t, all->pdata[i]);
	g_ptr_array_unref(all);
}

/* Newest activity: last U/L, or the newest packet on any stream. */
static uint64_t
session_last(const struct ctl_sessions *t, const struct ctl_session *s)
{
	uint64_t last = s->last_ns;

	for (int li = 0; li < 2; li++) {
		const struct ctl_stream *sts[2] = {&s->leg[li].rtp,
						   &s->leg[li].rtcp};

		for (int k = 0; k < 2; k++) {
			const struct rtpb_stream_stats *ss;

			if (!sts[k]->in_dp)
				continue;
			ss = ctl_dp_stream_stats(t->cfg.dp, sts[k]->id);
			if (ss != NULL && ss->last_rx_ns > last)
				last = ss->last_rx_ns;
		}
	}
	return last;
}

unsigned
ctl_sessions_tick(struct ctl_sessions *t, uint64_t now_ns)
{
	GPtrArray *all = all_sessions(t);
	unsigned n = 0;

	for (guint i = 0; i < all->len; i++) {
		struct ctl_session *s = all->pdata[i];
		uint64_t last = session_last(t, s);

		if (now_ns <= last || now_ns - last <= t->cfg.ttl_ns)
			continue;
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "session timeout, tag %s, ports %u/%u",
			     s->from_tag, s->leg[0].port, s->leg[1].port);
		t->c.timeouts++;
		session_destroy(t, s);
		n++;
	}
	g_ptr_array_unref(all);
	ctl_sessions_flush(t);
	return n;
}

/* Retry the DELs of one grave; true when it is done (then freed). */
static bool
grave_retry(struct ctl_sessions *t, struct grave *g)
{
	for (int k = 0; k < 2; k++) {
		if (!g->waiting[k])
			continue;
		if (dp_del(t, g->id[k], &g->local[k]) != 0)
			return false;
		g->waiting[k] = false;
	}
	ctl_ports_free(t->cfg.ports, g->port);
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
	while ((g = g_queue_peek_head(&t->graves)) != NULL) {
		if (!grave_retry(t, g))
			return;
		g_queue_pop_head(&t->graves);
	}
	while ((s = g_queue_peek_head(&t->pending)) != NULL) {
		if (session_sync(t, s) != 0)
			return;
		g_queue_pop_head(&t->pending);
		s->pending = false;
	}
}

static void
sessions_on_replay(struct ctl_dp *dp, void *arg)
{
	(void)dp;
	ctl_sessions_replay(arg);
}

static void
sessions_on_latch(const struct rtpb_msg_ev_latch *ev, void *arg)
{
	ctl_sessions_latch(arg, ev);
}

void
ctl_sessions_bind_dp(struct ctl_sessions *t)
{
	ctl_dp_set_callbacks(t->cfg.dp, sessions_on_replay, sessions_on_latch, t);
}

void
ctl_sessions_replay(struct ctl_sessions *t)
{
	uint32_t n = ctl_dp_n_workers(t->cfg.dp);
	GPtrArray *all = all_sessions(t);
	struct grave *g;
	struct ctl_session *s;

	/* the old dataplane and all its streams are gone: ids and the
	 * deferred DELs belong to it, ports can be reused */
	while ((g = g_queue_pop_head(&t->graves)) != NULL) {
		ctl_ports_free(t->cfg.ports, g->port);
		g_free(g);
	}
	while ((s = g_queue_pop_head(&t->pending)) != NULL)
		s->pending = false;
	for (guint i = 0; i < all->len; i++) {
		s = all->pdata[i];
		for (int li = 0; li < 2; li++) {
			memset(&s->leg[li].rtp, 0, sizeof(s->leg[li].rtp));
			memset(&s->leg[li].rtcp, 0, sizeof(s->leg[li].rtcp));
		}
		if (n == 0)
			continue;
		s->owner = t->rr++ % n;
		if (session_sync(t, s) != 0)
			mark_pending(t, s);
	}
	ctl_log(CTL_LOG_INFO, "dataplane attached: %u sessions replayed%s",
		all->len, t->pending.length ? ", some pushes pending" : "");
	g_ptr_array_unref(all);
}

void
ctl_sessions_latch(struct ctl_sessions *t, const struct rtpb_msg_ev_latch *ev)
{
	uint64_t serial = ev->cookie >> 2;
	int li = (int)((ev->cookie >> 1) & 1);
	bool rtcp = ev->cookie & 1;
	struct ctl_session *s = g_hash_table_lookup(t->by_serial, &serial);
	const struct ctl_stream *st;
	char addr[INET6_ADDRSTRLEN] = "?";

	if (s == NULL)
		return;
	st = rtcp ? &s->leg[li].rtcp : &s->leg[li].rtp;
	if (!st->has_id || st->id != ev->stream_id)
		return;
	if (ev->peer.family == RTPB_AF_INET)
		inet_ntop(AF_INET, ev->peer.ip, addr, sizeof(addr));
	else if (ev->peer.family == RTPB_AF_INET6)
		inet_ntop(AF_INET6, ev->peer.ip, addr, sizeof(addr));
	ctl_log_call(CTL_LOG_INFO, s->call_id, "leg %d %sstream latched to %s%s%s:%u",
		     li, rtcp ? "RTCP " : "",
		     ev->peer.family == RTPB_AF_INET6 ? "[" : "", addr,
		     ev->peer.family == RTPB_AF_INET6 ? "]" : "",
		     ntohs(ev->peer.port));
	s->latches++;
	t->c.latches++;
}

void
ctl_sessions_counters(const struct ctl_sessions *t,
		      struct ctl_sessions_counters *c)
{
	GHashTableIter it;
	gpointer v;

	*c = t->c;
	c->active = g_hash_table_size(t->by_serial);
	c->streams = 0;
	g_hash_table_iter_init(&it, t->by_serial);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct ctl_session *s = v;

		for (int li = 0; li < 2; li++) {
			const struct ctl_stream *sts[2] = {&s->leg[li].rtp,
							   &s->leg[li].rtcp};

			if (s->leg[li].port != 0)
				c->streams++;
			for (int k = 0; k < 2; k++) {
				const struct rtpb_stream_stats *ss;

				if (!sts[k]->in_dp)
					continue;
				ss = ctl_dp_stream_stats(t->cfg.dp, sts[k]->id);
				if (ss == NULL)
					continue;
				c->pkts_in += ss->pkts_in;
				c->pkts_relayed += ss->pkts_relayed;
			}
		}
	}
}

/* Counters of a leg's RTP stream, or NULL. */
static const struct rtpb_stream_stats *
rtp_stats(const struct ctl_sessions *t, const struct ctl_leg *l)
{
	return l->rtp.in_dp ? ctl_dp_stream_stats(t->cfg.dp, l->rtp.id) : NULL;
}

void
ctl_session_query(const struct ctl_sessions *t, const struct ctl_session *s,
		  int idx, uint64_t now_ns, struct ctl_session_query *q)
{
	const struct rtpb_stream_stats *a = rtp_stats(t, &s->leg[idx]);
	const struct rtpb_stream_stats *o = rtp_stats(t, &s->leg[!idx]);
	uint64_t last = session_last(t, s);
	uint64_t idle = now_ns > last ? now_ns - last : 0;

	memset(q, 0, sizeof(*q));
	/* seconds left, rounded up: a fresh session shows the full TTL */
	q->ttl_s = idle >= t->cfg.ttl_ns
			   ? 0
			   : (int64_t)((t->cfg.ttl_ns - idle + NS_PER_S - 1) /
				       NS_PER_S);
	if (a != NULL) {
		q->npkts_ina = a->pkts_in;
		q->nrelayed += a->pkts_relayed;
		q->ndropped += a->pkts_dropped;
	}
	if (o != NULL) {
		q->npkts_ino = o->pkts_in;
		q->nrelayed += o->pkts_relayed;
		q->ndropped += o->pkts_dropped;
	}
}

unsigned
ctl_sessions_count(const struct ctl_sessions *t)
{
	return g_hash_table_size(t->by_serial);
}
