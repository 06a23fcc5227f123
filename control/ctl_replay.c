/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_replay.c: a dataplane attaching or lost (DESIGN.md §2). After an
 * attach the told state is empty: the streams the dataplane already
 * holds are either this table's from before (deleted, added again) or an
 * earlier control's (orphans: adopted, kept until idle for -T); then
 * every session is reconciled from scratch. When the dataplane is lost,
 * its counters are kept (Q, I, G never go back) and no session ages.
 * The prefilter's stale entries are reconciled here too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_log.h"
#include "ctl_session_pvt.h"

/* A stream of an earlier control found in the dataplane at attach, kept
 * until idle (ctl_sessions_replay()). */
struct orphan {
	uint32_t id;
	struct rtpb_addr local; /* relay socket, as found */
	int laddr;              /* its relay address here, -1 if none */
	uint16_t pair;          /* RTP port of its pair (host order) */
	bool in_pf;             /* its prefilter entry was added */
	bool doomed;            /* delete at once (its port is a session's) */
	uint64_t since_ns;      /* adopted at */
};

/* The key of a port pair in orphan_pairs. */
static gpointer
orphan_pair_key(int laddr, uint16_t pair)
{
	return GUINT_TO_POINTER((guint)laddr << 16 | pair);
}

/* One orphan fewer on its pair: the pair goes back to its pool with the
 * last one. */
static void
orphan_pair_put(struct ctl_sessions *t, const struct orphan *o)
{
	gpointer k = orphan_pair_key(o->laddr, o->pair);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(t->orphan_pairs, k));

	if (o->laddr < 0 || o->doomed || n == 0)
		return;
	if (n > 1) {
		g_hash_table_insert(t->orphan_pairs, k, GUINT_TO_POINTER(n - 1));
		return;
	}
	g_hash_table_remove(t->orphan_pairs, k);
	ctl_ports_free(ctl_alloc_pool(t, o->laddr), o->pair);
}

/* Forget every orphan without a DEL (the dataplane is new: they are
 * gone with the old one), their pairs back to their pools. pf_del:
 * delete their prefilter entries too; a replay leaves them, as the
 * streams the dataplane still holds are adopted again and keep their
 * latched peer, and ctl_sessions_pf_reconcile() removes the others. */
void
ctl_replay_orphans_drop(struct ctl_sessions *t, bool pf_del)
{
	struct orphan *o;

	while ((o = g_queue_pop_head(&t->orphans)) != NULL) {
		if (pf_del && o->in_pf && t->cfg.pf != NULL)
			ctl_pf_sock_del(t->cfg.pf, &o->local);
		orphan_pair_put(t, o);
		g_free(o);
	}
	t->c.orphans = 0;
}

/* Delete the orphans idle for -T at now_ns (all of them with UINT64_MAX;
 * doomed ones at once): DEL, prefilter entry, id, pair. A refused DEL
 * (ring full) is retried on the next call. */
void
ctl_replay_orphans_expire(struct ctl_sessions *t, uint64_t now_ns)
{
	for (guint n = t->orphans.length; n > 0; n--) {
		struct orphan *o = g_queue_pop_head(&t->orphans);
		struct rtpb_stream_stats buf;
		const struct rtpb_stream_stats *ss;
		uint64_t last = o->since_ns;

		if (o->since_ns == 0 && now_ns != UINT64_MAX)
			o->since_ns = last = now_ns; /* adopted before any clock */
		ss = ctl_dp_stream_stats(t->cfg.dp, o->id, &buf);
		if (ss != NULL && ss->last_rx_ns > last)
			last = ss->last_rx_ns;
		if (!o->doomed && now_ns != UINT64_MAX &&
		    (now_ns <= last || now_ns - last <= t->cfg.ttl_ns)) {
			g_queue_push_tail(&t->orphans, o);
			continue;
		}
		if (ctl_rec_del(t, o->id, &o->local, true) != 0) {
			g_queue_push_tail(&t->orphans, o);
			continue;
		}
		if (o->in_pf && t->cfg.pf != NULL)
			ctl_pf_sock_del(t->cfg.pf, &o->local);
		orphan_pair_put(t, o);
		t->c.orphans--;
		g_free(o);
	}
}

/*
 * A stream the dataplane held at attach with no live session here:
 * keep it (ctl_sessions_replay()), unless its port pair belongs to a
 * session, or doomed (a session's own stream whose DEL the ring
 * refused): then delete it on the next tick.
 */
static void
orphan_adopt(struct ctl_sessions *t, const struct ctl_dp_found *f, bool doomed)
{
	struct orphan *o = g_new0(struct orphan, 1);
	struct ctl_ports *pool;
	gpointer k;
	guint n;

	o->id = f->id;
	o->local = f->ident.local;
	o->laddr = ctl_addrs_find_ip(&t->addrs, &o->local);
	o->pair = (uint16_t)(ntohs(o->local.port) & ~1u);
	o->since_ns = t->now_ns;
	o->doomed = doomed;
	pool = o->laddr >= 0 && !doomed ? ctl_alloc_pool(t, o->laddr) : NULL;
	if (pool != NULL) {
		k = orphan_pair_key(o->laddr, o->pair);
		n = GPOINTER_TO_UINT(g_hash_table_lookup(t->orphan_pairs, k));
		if (n > 0) {
			g_hash_table_insert(t->orphan_pairs, k, GUINT_TO_POINTER(n + 1));
		} else {
			int rc = ctl_ports_take(pool, o->pair);

			if (rc == 0)
				g_hash_table_insert(t->orphan_pairs, k, GUINT_TO_POINTER(1));
			else if (rc == -EBUSY)
				o->doomed = true; /* a session's pair now */
		}
	}
	if (!o->doomed && t->cfg.pf != NULL &&
	    ctl_pf_sock_keep(t->cfg.pf, &o->local) == 0)
		o->in_pf = true;
	t->c.adopted++;
	t->c.orphans++;
	g_queue_push_tail(&t->orphans, o);
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

static void
sessions_on_detach(struct ctl_dp *dp, void *arg)
{
	(void)dp;
	ctl_sessions_detach(arg);
}

void
ctl_sessions_bind_dp(struct ctl_sessions *t)
{
	ctl_dp_set_callbacks(t->cfg.dp, sessions_on_replay, sessions_on_latch,
			     sessions_on_detach, t);
}

/* The lost dataplane's last counters of st into its past; its last
 * packet time into *last. */
static void
stream_keep_past(struct ctl_sessions *t, struct ctl_stream *st,
		 uint64_t *last)
{
	struct rtpb_stream_stats buf;
	const struct rtpb_stream_stats *ss;

	if (!st->in_dp)
		return;
	ss = ctl_dp_stream_stats(t->cfg.dp, st->id, &buf);
	if (ss == NULL)
		return;
	st->past.pkts_in += ss->pkts_in;
	st->past.pkts_relayed += ss->pkts_relayed;
	st->past.pkts_dropped += ss->pkts_dropped;
	if (ss->last_rx_ns > *last)
		*last = ss->last_rx_ns;
}

void
ctl_sessions_detach(struct ctl_sessions *t)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, t->by_serial);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct ctl_session *s = v;

		for (int li = 0; li < 2; li++) {
			stream_keep_past(t, &s->leg[li].sock.rtp, &s->last_ns);
			stream_keep_past(t, &s->leg[li].sock.rtcp, &s->last_ns);
		}
	}
	/* deferred DELs: their streams' counts join the deleted ones' */
	ctl_rec_graves_detach(t);
	ctl_sjournal_put_all(t); /* the counters moved to the past */
	t->detached = true;
	t->lost_ns = ctl_dp_poll_ns(t->cfg.dp);
	ctl_log(CTL_LOG_WARN, "dataplane lost: %u sessions kept, none ages until "
		"one is back (their counters go on from what it counted)",
		g_hash_table_size(t->by_serial));
}

/* A dataplane again after control lost one: push every session's TTL
 * clock forward by the time without (ctl_session.h). */
static void
sessions_resume(struct ctl_sessions *t, GPtrArray *all)
{
	uint64_t now = ctl_dp_poll_ns(t->cfg.dp);
	uint64_t gap = now > t->lost_ns ? now - t->lost_ns : 0;

	if (!t->detached)
		return;
	t->detached = false;
	for (guint i = 0; i < all->len; i++)
		((struct ctl_session *)all->pdata[i])->last_ns += gap;
	if (all->len > 0)
		ctl_log(CTL_LOG_INFO, "dataplane back after %llu ms without: "
			"the %u sessions' timers pushed forward as much",
			(unsigned long long)(gap / 1000000), all->len);
}

/* After an attach: say so if a configured relay address is not one the
 * dataplane serves (every U/L on it will be refused). */
static void
relay_warn(struct ctl_sessions *t)
{
	for (uint32_t i = 0; i < t->addrs.n; i++) {
		struct ctl_session_err err;

		if (ctl_alloc_check(t, (int)i, &err) == -ENOENT)
			ctl_log(CTL_LOG_WARN, "%s: sessions on it are refused "
				"(E72/E71) until the dataplane serves it",
				err.why);
	}
}

/* Keep only the durable part of a stream: what earlier dataplanes
 * counted and its latched peer. */
static void
stream_forget(struct ctl_stream *st)
{
	*st = (struct ctl_stream){
		.past = st->past,
		.latched = st->latched,
		.latched_ssrc = st->latched_ssrc,
	};
}

/* A stream of a session restored from the journal (ctl_sjournal.c),
 * found in the dataplane that outlived both controls: what it counted
 * goes to the stream's past before the replay deletes and adds it
 * again, so Q stays monotonic across the control restart. */
static void
journal_found(struct ctl_sessions *t, const struct ctl_dp_found *f)
{
	uint64_t serial = f->ident.cookie >> 2;
	struct ctl_session *s = g_hash_table_lookup(t->by_serial, &serial);
	struct ctl_leg *l;
	struct ctl_stream *st;
	struct rtpb_stream_stats buf;
	const struct rtpb_stream_stats *ss;

	if (s == NULL || !s->jrestored)
		return;
	l = &s->leg[(f->ident.cookie >> 1) & 1];
	st = (f->ident.cookie & 1) ? &l->sock.rtcp : &l->sock.rtp;
	if (l->sock.port == 0 ||
	    (ss = ctl_dp_stream_stats(t->cfg.dp, f->id, &buf)) == NULL)
		return;
	st->past.pkts_in += ss->pkts_in;
	st->past.pkts_relayed += ss->pkts_relayed;
	st->past.pkts_dropped += ss->pkts_dropped;
	if (ss->last_rx_ns > s->last_ns)
		s->last_ns = ss->last_rx_ns;
}

void
ctl_replay_pick_owner(struct ctl_sessions *t, struct ctl_session *s,
		      uint32_t n)
{
	s->owner = t->rr++ % n;
	for (int li = 0; li < 2; li++) {
		const struct ctl_sock *k = &s->leg[li].sock;
		int w = k->port != 0 ?
			ctl_alloc_port_worker(t, k->laddr, k->port) : -1;

		if (w >= 0) {
			s->owner = (uint32_t)w;
			return;
		}
	}
}

void
ctl_sessions_replay(struct ctl_sessions *t)
{
	uint32_t n = ctl_dp_n_workers(t->cfg.dp);
	GPtrArray *all = ctl_sessions_all(t);
	struct ctl_session *s;

	const struct ctl_dp_found *found;
	size_t n_found = ctl_dp_found_streams(t->cfg.dp, &found), n_own = 0;

	/* the ids and deferred DELs belong to the dataplane as it was; the
	 * streams it still holds are in found */
	ctl_rec_graves_drop(t, false);
	ctl_replay_orphans_drop(t, false);
	sessions_resume(t, all);
	relay_warn(t);
	/* the dataplane's streams: this table's from before are deleted
	 * (the sessions are added again below), others adopted */
	for (size_t i = 0; i < n_found; i++) {
		uint64_t serial = found[i].ident.cookie >> 2;

		if (g_hash_table_lookup(t->by_serial, &serial) == NULL) {
			orphan_adopt(t, &found[i], false);
			continue;
		}
		n_own++;
		journal_found(t, &found[i]);
		/* ring full: deleted by the next tick; its counters went to
		 * its stream's past when control lost this dataplane */
		if (ctl_rec_del(t, found[i].id, &found[i].ident.local, false) != 0)
			orphan_adopt(t, &found[i], true);
	}
	while ((s = g_queue_pop_head(&t->pending)) != NULL)
		s->pending = false;
	for (guint i = 0; i < all->len; i++) {
		s = all->pdata[i];
		s->jrestored = false;
		for (int li = 0; li < 2; li++) {
			struct ctl_sock *k = &s->leg[li].sock;

			/* the new dataplane was told nothing: new ids; what
			 * earlier dataplanes counted and the latched peers
			 * stay: the ADDs restore the peers (§4.9), and the
			 * prefilter keeps them meanwhile */
			stream_forget(&k->rtp);
			stream_forget(&k->rtcp);
			ctl_rec_pf_latch(t, s, li, false, &k->rtp.latched,
					 k->rtp.latched_ssrc);
			ctl_rec_pf_latch(t, s, li, true, &k->rtcp.latched,
					 k->rtcp.latched_ssrc);
		}
		if (n == 0)
			continue;
		/* the new dataplane's steering decides, or round robin */
		ctl_replay_pick_owner(t, s, n);
		if (ctl_rec_session(t, s) != 0)
			ctl_rec_pending(t, s);
	}
	ctl_sjournal_put_all(t); /* new ids and owners */
	ctl_log(CTL_LOG_INFO, "dataplane attached: %u sessions replayed%s",
		all->len, t->pending.length ? ", some pushes pending" : "");
	if (t->cfg.pf != NULL) {
		/* what no session or kept stream holds: an earlier control's
		 * entries of streams the dataplane no longer has */
		uint32_t stale = ctl_sessions_pf_reconcile(t);

		if (stale > 0)
			ctl_log(CTL_LOG_INFO, "prefilter: %u stale socket entries removed",
				stale);
	}
	if (n_found > 0)
		ctl_log(CTL_LOG_INFO, "dataplane held %zu streams: %zu of sessions here "
			"(added again), %u of an earlier control kept until idle for "
			"%llu s", n_found, n_own, t->orphans.length,
			(unsigned long long)(t->cfg.ttl_ns / CTL_NS_PER_S));
	g_ptr_array_unref(all);
}

/* A relay socket as a key of the keep set: its family, port and
 * address only (the rest zeroed), so equal sockets are equal bytes. */
static GBytes *
pf_key(const struct rtpb_addr *local)
{
	struct rtpb_addr k;

	memset(&k, 0, sizeof(k));
	k.family = local->family;
	k.port = local->port;
	memcpy(k.ip, local->ip, sizeof(k.ip));
	return g_bytes_new(&k, sizeof(k));
}

/* ctl_pf_reconcile() judge: is local one of the relay sockets in keep? */
static bool
pf_keep(const struct rtpb_addr *local, void *arg)
{
	GBytes *k = pf_key(local);
	bool keep = g_hash_table_contains(arg, k);

	g_bytes_unref(k);
	return keep;
}

uint32_t
ctl_sessions_pf_reconcile(struct ctl_sessions *t)
{
	GHashTable *keep;
	GHashTableIter it;
	gpointer v;
	uint32_t n;

	if (t->cfg.pf == NULL)
		return 0;
	/* the sockets of live sessions, in one set: the map may hold
	 * RTPB_PF_MAX_SOCKS entries */
	keep = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
				     (GDestroyNotify)g_bytes_unref, NULL);
	for (GList *o = t->orphans.head; o != NULL; o = o->next) {
		const struct orphan *x = o->data;

		if (x->in_pf)
			g_hash_table_add(keep, pf_key(&x->local));
	}
	g_hash_table_iter_init(&it, t->by_serial);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct ctl_session *s = v;

		for (int li = 0; li < 2; li++) {
			const struct ctl_leg *l = &s->leg[li];

			if (!l->sock.in_pf)
				continue;
			for (int rtcp = 0; rtcp < 2; rtcp++) {
				struct rtpb_addr a;

				ctl_rec_pf_local(t, l->sock.laddr, l->sock.port,
						 rtcp, &a);
				g_hash_table_add(keep, pf_key(&a));
			}
		}
	}
	n = ctl_pf_reconcile(t->cfg.pf, pf_keep, keep);
	g_hash_table_destroy(keep);
	return n;
}
