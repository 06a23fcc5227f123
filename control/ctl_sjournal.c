/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_sjournal.c: the session table's journal writer (DESIGN.md §2,
 * issue 16 item 2). Each live session owns one slot of cfg.journal
 * (ctl_journal.h) holding its ctl_durable record, rewritten whenever its
 * durable state changes (U/L, latch event, S ttl=, notify armed, a D that
 * leaves it alive, a dataplane attached or lost) and freed when it ends
 * (D, X, timeout). Never per packet. A session whose record does not fit
 * a slot (a huge call-id) is not journalled: counted and logged once.
 * ctl_sessions_abandon() (--keep-on-exit) leaves the slots for the next
 * control.
 */
#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <xxhash.h>

#include "ctl_durable.h"
#include "ctl_journal.h"
#include "ctl_log.h"
#include "ctl_session_pvt.h"

/* Call-id bytes a log line shows. */
#define CTL_DURABLE_LOG_ID 256

/* A socket address as a durable address (family NONE: not IP). */
static void
sa_to_addr(const struct sockaddr *sa, struct rtpb_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		a->family = RTPB_AF_INET;
		a->port = in->sin_port;
		memcpy(a->ip, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		a->family = RTPB_AF_INET6;
		a->port = in6->sin6_port;
		memcpy(a->ip, &in6->sin6_addr, 16);
	}
}

int
ctl_session_set_notify_origin(struct ctl_sessions *t, struct ctl_session *s,
			      const char *name, const struct sockaddr *src,
			      const struct sockaddr *local)
{
	char *copy = strdup(name != NULL ? name : "");

	if (copy == NULL)
		return -ENOMEM;
	free(s->notify_name);
	s->notify_name = copy;
	sa_to_addr(src, &s->notify_src);
	sa_to_addr(local, &s->notify_local);
	ctl_sjournal_put(t, s);
	return 0;
}

/* s is not journalled: counted and logged once per session. */
static void
skip(struct ctl_sessions *t, struct ctl_session *s, const char *why)
{
	if (s->jskip)
		return;
	s->jskip = true;
	t->c.journal_skipped++;
	ctl_log_call(CTL_LOG_WARN, s->call_id, "%s: the session will not "
		     "survive a control restart", why);
}

/* s's durable record into rec (CTL_JOURNAL_PAYLOAD bytes): its length,
 * or -E2BIG. */
static int
session_record(const struct ctl_sessions *t, const struct ctl_session *s,
	       uint8_t *rec)
{
	struct ctl_durable d;

	ctl_durable_from_session(s, &d);
	/* the ids of a lost dataplane are void, and its counts are in the
	 * past already: a next control must not keep those streams in place
	 * nor count them again (ctl_replay.c) */
	for (int li = 0; t->detached && !s->jrestored && li < 2; li++)
		d.leg[li].st[0].has_id = d.leg[li].st[1].has_id = false;
	if (s->notify_target >= 0 && s->notify_name != NULL) {
		d.notify_name.p = s->notify_name;
		d.notify_name.len = (uint16_t)strnlen(s->notify_name, 256);
		d.notify_src = s->notify_src;
		d.notify_local = s->notify_local;
	} else {
		d.flags &= (uint8_t)~CTL_DURABLE_F_NOTIFY;
	}
	return ctl_durable_write(&d, rec, CTL_JOURNAL_PAYLOAD);
}

/* Tell the store (if any) s's record. */
static void
store_put(struct ctl_sessions *t, const struct ctl_session *s,
	  const uint8_t *rec, int n)
{
	if (t->store.put != NULL && n > 0)
		t->store.put(s->serial, rec, (size_t)n,
			     ctl_session_ttl_ns(t, s), t->store.arg);
}

void
ctl_sjournal_put(struct ctl_sessions *t, struct ctl_session *s)
{
	uint8_t rec[CTL_JOURNAL_PAYLOAD];
	uint64_t h;
	int n, slot;

	if ((t->cfg.journal == NULL && t->store.put == NULL) || s->serial == 0)
		return;
	n = session_record(t, s, rec);
	if (n < 0) {
		t->c.journal_write_errors++;
		skip(t, s, "session too large for the journal");
		ctl_sjournal_drop(t, s);
		return;
	}
	store_put(t, s, rec, n);
	if (t->cfg.journal == NULL)
		return;
	if (s->jslot < 0) {
		slot = ctl_journal_alloc(t->cfg.journal);
		if (slot < 0) {
			t->c.journal_write_errors++;
			skip(t, s, "journal full");
			return;
		}
		s->jslot = slot;
		s->jhash = 0;
	}
	/* the slot holds this very record already (a U without notify on a
	 * session without one, a latch to the peer it had): no rewrite. A
	 * slot write touches a page of its own per session, the costliest
	 * part of a put; the hash of a record in cache is not. */
	h = XXH64(rec, (size_t)n, 0);
	if (h != 0 && h == s->jhash && (uint32_t)n == s->jlen)
		return;
	if (ctl_journal_put(t->cfg.journal, (uint32_t)s->jslot, rec,
			    (size_t)n) == 0) {
		t->c.journal_writes++;
		s->jhash = h;
		s->jlen = (uint32_t)n;
	} else {
		t->c.journal_write_errors++;
		s->jhash = 0;
	}
}

void
ctl_sjournal_put_later(struct ctl_sessions *t, struct ctl_session *s)
{
	if (!t->jdefer_on || s->serial == 0) {
		ctl_sjournal_put(t, s);
		return;
	}
	if (s->jdirty)
		return;
	s->jdirty = true;
	g_array_append_val(t->jdeferred, s->serial);
}

void
ctl_sessions_journal_defer(struct ctl_sessions *t, bool on)
{
	t->jdefer_on = on;
	if (on)
		return;
	/* by serial: a session ended since is not found (its slot went
	 * with it); serials are never reused */
	for (guint i = 0; i < t->jdeferred->len; i++) {
		uint64_t serial = g_array_index(t->jdeferred, uint64_t, i);
		struct ctl_session *s = g_hash_table_lookup(t->by_serial, &serial);

		if (s != NULL && s->jdirty) {
			s->jdirty = false;
			ctl_sjournal_put(t, s);
		}
	}
	g_array_set_size(t->jdeferred, 0);
}

void
ctl_sjournal_drop(struct ctl_sessions *t, struct ctl_session *s)
{
	/* --keep-on-exit: the next control keeps the session, and its key */
	if (t->store.del != NULL && !t->abandon && s->serial != 0)
		t->store.del(s->serial, t->store.arg);
	if (s->jslot < 0 || t->cfg.journal == NULL)
		return;
	/* --keep-on-exit: the next control reads it back */
	if (!t->abandon)
		ctl_journal_free(t->cfg.journal, (uint32_t)s->jslot);
	s->jslot = -1;
	s->jhash = 0;
}

void
ctl_sjournal_put_all(struct ctl_sessions *t)
{
	GHashTableIter it;
	gpointer v;

	if (t->cfg.journal == NULL && t->store.put == NULL)
		return;
	g_hash_table_iter_init(&it, t->by_serial);
	while (g_hash_table_iter_next(&it, NULL, &v))
		ctl_sjournal_put(t, v);
}

/* A journalled leg's socket back: its address still configured in its
 * family, its pair taken back from its pool. */
static int
leg_restore(struct ctl_sessions *t, const struct ctl_durable_leg *dl,
	    struct ctl_leg *l, const char **why)
{
	struct ctl_ports *pool;

	l->pinned = dl->flags & CTL_DURABLE_LEG_PINNED;
	l->has_remote = dl->flags & CTL_DURABLE_LEG_HAS_REMOTE;
	l->onhold = dl->flags & CTL_DURABLE_LEG_ONHOLD;
	l->asymmetric = dl->flags & CTL_DURABLE_LEG_ASYMMETRIC;
	l->weak = dl->flags & CTL_DURABLE_LEG_WEAK;
	l->ptime = dl->ptime;
	l->remote = dl->remote;
	if (dl->codecs.len > 0 &&
	    (l->codecs = strndup(dl->codecs.p, dl->codecs.len)) == NULL) {
		*why = "out of memory";
		return -ENOMEM;
	}
	l->sock.laddr = dl->laddr;
	if (dl->port == 0)
		return 0;
	if (dl->laddr >= t->addrs.n ||
	    t->addrs.a[dl->laddr].ip.family != dl->family) {
		*why = "relay address no longer configured";
		return -ENOENT;
	}
	pool = ctl_alloc_pool(t, dl->laddr);
	if (pool == NULL || ctl_ports_take(pool, dl->port) != 0) {
		*why = "port out of the configured range or in use";
		return -ERANGE;
	}
	l->sock.port = dl->port;
	l->sock.family = dl->family;
	/* the prefilter's entries outlive control (DESIGN.md §5): the
	 * replay's reconcile keeps them, a release deletes them */
	l->sock.in_pf = t->cfg.pf != NULL;
	for (int k = 0; k < 2; k++) {
		const struct ctl_durable_stream *ds = &dl->st[k];
		struct ctl_stream *st = k ? &l->sock.rtcp : &l->sock.rtp;

		st->latched = ds->latched;
		st->latched_ssrc = ds->latched_ssrc;
		/* the earlier control's id: the replay keeps the stream in
		 * place if the dataplane holds it (ctl_rec_keep()) */
		st->id = ds->has_id ? ds->id : RTPB_STREAM_NONE;
		st->past.pkts_in = ds->pkts_in;
		st->past.pkts_relayed = ds->pkts_relayed;
		st->past.pkts_dropped = ds->pkts_dropped;
	}
	return 0;
}

/* Give back what leg_restore() took. */
static void
leg_unrestore(struct ctl_sessions *t, struct ctl_leg *l)
{
	if (l->sock.port != 0)
		ctl_ports_free(ctl_alloc_pool(t, l->sock.laddr), l->sock.port);
	l->sock.port = 0;
}

/* A session from its record, linked, holding slot (-1: none); NULL (why
 * set, *rc its -errno). foreign: another control's record (Redis): a
 * serial live here is replaced by a new one, and no prefilter entry of
 * it is assumed to exist. */
static struct ctl_session *
session_restore(struct ctl_sessions *t, const struct ctl_durable *d,
		int32_t slot, bool foreign, const char **why, int *rc)
{
	struct ctl_session *s = calloc(1, sizeof(*s));
	int li;

	*why = "out of memory";
	*rc = -ENOMEM;
	if (s == NULL)
		return NULL;
	s->notify_target = -1;
	s->jslot = -1;
	s->call_id = strndup(d->call_id.p, d->call_id.len);
	s->from_tag = strndup(d->from_tag.p, d->from_tag.len);
	if (s->call_id == NULL || s->from_tag == NULL)
		goto fail;
	s->serial = d->serial;
	if (g_hash_table_lookup(t->by_serial, &d->serial) != NULL) {
		if (!foreign) {
			*why = "serial already in use";
			*rc = -EEXIST;
			goto fail;
		}
		s->serial = ++t->next_serial;
	}
	for (li = 0; li < 2; li++) {
		*rc = leg_restore(t, &d->leg[li], &s->leg[li], why);
		if (*rc != 0)
			goto fail_legs;
		if (foreign)
			s->leg[li].sock.in_pf = false;
	}
	s->owner = d->owner;
	s->strong = d->flags & CTL_DURABLE_F_STRONG;
	s->complete = d->flags & CTL_DURABLE_F_COMPLETE;
	s->created_ns = d->created_ns;
	s->last_ns = d->last_ns;
	s->ttl_ns = d->ttl_ns;
	if ((d->flags & CTL_DURABLE_F_NOTIFY) && t->cfg.notify_resolve != NULL) {
		char name[257];
		int target;

		snprintf(name, sizeof(name), "%.*s", (int)d->notify_name.len,
			 d->notify_name.p);
		target = t->cfg.notify_resolve(name, &d->notify_src,
					       &d->notify_local,
					       t->cfg.notify_resolve_arg);
		s->notify_name = strdup(name);
		s->notify_tag = strndup(d->notify_tag.p != NULL ?
					d->notify_tag.p : "",
					d->notify_tag.len);
		s->notify_src = d->notify_src;
		s->notify_local = d->notify_local;
		if (s->notify_name == NULL || s->notify_tag == NULL) {
			*why = "out of memory";
			*rc = -ENOMEM;
			goto fail_legs;
		}
		s->notify_target = target;
		if (target < 0)
			ctl_log_call(CTL_LOG_WARN, s->call_id, "journal: notify "
				     "target %s no longer permitted: no "
				     "timeout notification", name);
	}
	s->jslot = slot;
	s->jrestored = !foreign;
	ctl_session_link(t, s);
	if (s->serial > t->next_serial)
		t->next_serial = s->serial;
	return s;
fail_legs:
	for (li = 0; li < 2; li++)
		leg_unrestore(t, &s->leg[li]);
fail:
	ctl_session_free(s);
	return NULL;
}

struct load_ctx {
	struct ctl_sessions *t;
	uint32_t restored;
	uint32_t dropped;
};

/* ctl_journal_load() callback: restore the record's session, or drop
 * the record with a log line naming its call-id. */
static int
journal_restore_rec(uint32_t slot, const void *rec, size_t len, void *arg)
{
	struct load_ctx *x = arg;
	struct ctl_durable d;
	char id[CTL_DURABLE_LOG_ID];
	const char *why;
	int rc;

	if (ctl_durable_parse(rec, len, &d) != 0) {
		ctl_log(CTL_LOG_WARN, "journal: slot %u: unreadable record "
			"dropped", slot);
		x->dropped++;
		return 1;
	}
	if (session_restore(x->t, &d, (int32_t)slot, false, &why, &rc) != NULL) {
		x->restored++;
		return 0;
	}
	snprintf(id, sizeof(id), "%.*s", (int)d.call_id.len, d.call_id.p);
	ctl_log_call(CTL_LOG_WARN, id, "journal: session not restored (ports "
		     "%u/%u): %s", d.leg[0].port, d.leg[1].port, why);
	x->dropped++;
	return 1;
}

uint32_t
ctl_sessions_journal_load(struct ctl_sessions *t, uint64_t now_ns)
{
	struct load_ctx x = {.t = t};
	uint32_t bad = 0;

	if (t->cfg.journal == NULL)
		return 0;
	ctl_journal_load(t->cfg.journal, journal_restore_rec, &x, &bad);
	if (x.restored > 0) {
		/* no dataplane yet: nothing ages until one attaches, and the
		 * replay matches or adds their streams */
		t->detached = true;
		t->lost_ns = now_ns;
		t->c.created += x.restored;
	}
	t->c.journal_restored += x.restored;
	t->c.journal_dropped += x.dropped + bad;
	if (x.restored > 0 || x.dropped > 0 || bad > 0)
		ctl_log(CTL_LOG_INFO, "journal: %u sessions of an earlier "
			"control restored, %u records dropped, %u torn or "
			"corrupt slots", x.restored, x.dropped, bad);
	return x.restored;
}

void
ctl_sessions_set_store(struct ctl_sessions *t,
		       const struct ctl_session_store *st)
{
	if (st == NULL) {
		memset(&t->store, 0, sizeof(t->store));
		return;
	}
	t->store = *st;
	ctl_sessions_store_all(t);
}

void
ctl_sessions_store_all(struct ctl_sessions *t)
{
	uint8_t rec[CTL_JOURNAL_PAYLOAD];
	GHashTableIter it;
	gpointer v;

	if (t->store.put == NULL)
		return;
	g_hash_table_iter_init(&it, t->by_serial);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct ctl_session *s = v;

		store_put(t, s, rec, s->serial != 0 ? session_record(t, s, rec) : -1);
	}
}

/* A live session with d's call-id and from-tag? */
static bool
session_present(struct ctl_sessions *t, const struct ctl_durable *d)
{
	char *id = strndup(d->call_id.p, d->call_id.len);
	GPtrArray *arr = id != NULL ? g_hash_table_lookup(t->by_call, id) : NULL;
	bool found = false;

	for (guint i = 0; arr != NULL && i < arr->len && !found; i++) {
		const struct ctl_session *s = arr->pdata[i];

		found = strlen(s->from_tag) == d->from_tag.len &&
			memcmp(s->from_tag, d->from_tag.p, d->from_tag.len) == 0;
	}
	free(id);
	return found;
}

/* A foreign session restored while a dataplane is attached: owner, ids,
 * ADDs (with the latched peers), prefilter entries and their peers now;
 * a refused push is retried from the pending queue. */
static void
session_install(struct ctl_sessions *t, struct ctl_session *s)
{
	uint32_t n = ctl_dp_n_workers(t->cfg.dp);
	bool open[2] = {s->leg[0].sock.port != 0, s->leg[1].sock.port != 0};
	struct ctl_session_err err;

	if (n == 0) {
		ctl_rec_pending(t, s);
		return;
	}
	ctl_replay_pick_owner(t, s, n);
	if (ctl_rec_open(t, s, s->leg, open, &err) != 0) {
		ctl_log_call(CTL_LOG_WARN, s->call_id, "restore: %s, retried",
			     err.why);
		ctl_rec_pending(t, s);
		return;
	}
	for (int li = 0; li < 2; li++) {
		const struct ctl_sock *k = &s->leg[li].sock;

		ctl_rec_pf_latch(t, s, li, false, &k->rtp.latched,
				 k->rtp.latched_ssrc);
		ctl_rec_pf_latch(t, s, li, true, &k->rtcp.latched,
				 k->rtcp.latched_ssrc);
	}
}

int
ctl_sessions_restore_durable(struct ctl_sessions *t, const void *rec,
			     size_t len, uint64_t now_ns, char *why,
			     size_t whysz)
{
	struct ctl_durable d;
	struct ctl_session *s;
	const char *w;
	uint64_t age;
	int rc = ctl_durable_parse(rec, len, &d);

	if (rc != 0) {
		snprintf(why, whysz, "unreadable record (%s)", strerror(-rc));
		return rc;
	}
	if (session_present(t, &d)) {
		snprintf(why, whysz, "call-id and from-tag already live here");
		return -EEXIST;
	}
	s = session_restore(t, &d, -1, true, &w, &rc);
	if (s == NULL) {
		snprintf(why, whysz, "%s", w);
		return rc;
	}
	/* another machine's CLOCK_MONOTONIC: its age kept, active now */
	age = d.last_ns > d.created_ns ? d.last_ns - d.created_ns : 0;
	s->last_ns = now_ns;
	s->created_ns = now_ns > age ? now_ns - age : 0;
	ctl_session_clock(t, now_ns);
	t->c.created++;
	if (ctl_dp_ready(t->cfg.dp) && !t->detached) {
		session_install(t, s);
	} else if (!t->detached) {
		/* no dataplane yet: nothing ages until one attaches, and its
		 * replay pushes the streams (as after a journal load) */
		t->detached = true;
		t->lost_ns = now_ns;
	}
	ctl_sjournal_put(t, s);
	return 0;
}
