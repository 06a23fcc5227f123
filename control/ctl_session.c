/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_session.c: the session table, see ctl_session.h. It holds the
 * DESIRED state of every session: find, create, update (U/L), delete.
 * A U/L builds the desired state of both legs in a local copy, has new
 * sockets allocated (ctl_alloc.c) and opened (ctl_reconcile.c) from it,
 * and commits the copy only if all of that succeeded; otherwise it
 * releases the copy's new sockets, in one place. Everything the
 * dataplane and the prefilter are told goes through ctl_reconcile.c.
 *
 * Indexes (GLib): by_call maps a call-id to a GPtrArray of its sessions
 * in creation order (rtpproxy's hash bucket walk finds the oldest match
 * first); by_serial maps the serial in each stream's cookie back to its
 * session for dataplane events.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd.h"
#include "ctl_hash.h"
#include "ctl_journal.h"
#include "ctl_log.h"
#include "ctl_session_pvt.h"

/* Time only moves forward here (a caller's older clock is ignored). */
void
ctl_session_clock(struct ctl_sessions *t, uint64_t now_ns)
{
	if (now_ns > t->now_ns)
		t->now_ns = now_ns;
}

int
ctl_session_err_set(struct ctl_session_err *err, int rc, const char *fmt, ...)
{
	va_list ap;
	const char *why;

	if (err == NULL)
		return rc;
	err->rc = rc;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(err->why, sizeof(err->why), fmt, ap);
		va_end(ap);
		return rc;
	}
	switch (rc) {
	case -ENOTCONN: why = "dataplane not attached"; break;
	case -ENOBUFS: why = "dataplane ring full"; break;
	case -ENOSPC: why = "no free port pair or stream id"; break;
	case -ENOENT: why = "relay address not served by the dataplane"; break;
	case -ENOMEM: why = "out of memory"; break;
	case -EAFNOSUPPORT: why = "no relay address of the family"; break;
	default: why = "dataplane refused the stream"; break;
	}
	snprintf(err->why, sizeof(err->why), "%s", why);
	return rc;
}

/* "ADDR:PORT", "[ADDR]:PORT" for IPv6, "none" without an address. */
const char *
ctl_session_addr_str(const struct rtpb_addr *a, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->family == RTPB_AF_INET)
		inet_ntop(AF_INET, a->ip, ip, sizeof(ip));
	else if (a->family == RTPB_AF_INET6)
		inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
	else {
		snprintf(buf, n, "none");
		return buf;
	}
	snprintf(buf, n, a->family == RTPB_AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
		 ntohs(a->port));
	return buf;
}

/*
 * Both legs have ports now: the session is complete (nsess_complete),
 * and its TTL limit goes from -W to -T (rtpproxy reset_with(max_ttl),
 * which also ends an "S ttl=" set before).
 */
static void
session_check_complete(struct ctl_sessions *t, struct ctl_session *s)
{
	if (s->leg[0].sock.port != 0 && s->leg[1].sock.port != 0 && !s->complete) {
		s->complete = true;
		s->ttl_ns = 0;
		t->c.completed++;
	}
}

void
ctl_session_free(struct ctl_session *s)
{
	for (int li = 0; li < 2; li++) {
		free(s->leg[li].codecs);
		free(s->leg[li].dtmf_tag);
	}
	free(s->call_id);
	free(s->from_tag);
	free(s->notify_tag);
	free(s->notify_name);
	free(s);
}

/* Packets received on a stream so far, all dataplanes. */
static uint64_t
stream_pkts_in(const struct ctl_sessions *t, const struct ctl_stream *st)
{
	struct rtpb_stream_stats c;

	ctl_rec_stream_counts(t, st, &c);
	return c.pkts_in;
}

/* RTP analysis of an RTP stream (current dataplane) into out; zeros if
 * it has none there. */
static void
session_rtpa(const struct ctl_sessions *t, const struct ctl_stream *st,
	     struct rtpb_rtpa *out)
{
	memset(out, 0, sizeof(*out));
	if (st->in_dp)
		ctl_dp_stream_rtpa(t->cfg.dp, st->id, out);
}

/* One histogram observation: the first bucket whose bound is >= v. */
static void
quality_observe(uint64_t *bucket, const double *bounds, double v)
{
	int i = 0;

	while (i < CTL_QUALITY_NBUCKETS && v > bounds[i])
		i++;
	bucket[i]++;
}

/*
 * Per-call quality at session end (issue 18 item 1): the rtpa_* totals
 * of G (rtpproxy adds them per stream at its end, src/rtpp_stream.c),
 * the histograms of ctl_metrics.c (each direction that carried RTP), and
 * one log line with both directions: what the relay saw of each phone's
 * media (packets, lost, duplicates, reordered, jitter) and what the other
 * phone's RTCP receiver reports said of it (fraction lost, cumulative
 * lost, jitter).
 */
static void
session_quality(struct ctl_sessions *t, const struct ctl_session *s)
{
	static const double lb[] = CTL_QUALITY_LOSS_BOUNDS;
	static const double jb[] = CTL_QUALITY_JITTER_BOUNDS;
	struct rtpb_rtpa a[2];
	uint64_t lost[2];
	double jms[2], rrj[2];

	for (int li = 0; li < 2; li++) {
		session_rtpa(t, &s->leg[li].sock.rtp, &a[li]);
		lost[li] = rtpb_rtpa_nlost(&a[li]);
		jms[li] = rtpb_rtpa_ms(&a[li], a[li].jitter);
		rrj[li] = a[li].clock_rate != 0 ?
			  a[li].rr.jitter * 1000.0 / a[li].clock_rate : 0.0;
		t->c.rtpa_nsent += a[li].nsent;
		t->c.rtpa_nrcvd += a[li].nrcvd;
		t->c.rtpa_ndups += a[li].ndups;
		t->c.rtpa_nlost += lost[li];
		t->c.rtpa_perrs += a[li].perrs;
		if (a[li].nsent > 0) {
			double ratio = (double)lost[li] / (double)a[li].nsent;

			quality_observe(t->c.q_loss_bucket, lb, ratio);
			quality_observe(t->c.q_jitter_bucket, jb, jms[li] / 1000.0);
			t->c.q_loss_sum += ratio;
			t->c.q_jitter_sum += jms[li] / 1000.0;
			t->c.q_count++;
		}
	}
	/* formatted once, into the line itself, and only when logged (the
	 * floats cost: this was two snprintf()s and a copy per call even at
	 * WARN) */
	if (!ctl_log_enabled(CTL_LOG_INFO))
		return;
#define LEG_FMT(n) "leg" #n ": pkts=%llu lost=%llu dups=%u reordered=%u " \
		   "jitter_ms=%.3f rr=%u rr_fraction_lost=%.4f rr_cum_lost=%d " \
		   "rr_jitter_ms=%.3f"
#define LEG_ARGS(n) (unsigned long long)a[n].nrcvd, (unsigned long long)lost[n], \
		    a[n].ndups, a[n].nreordered, jms[n], a[n].rr.nrr,            \
		    a[n].rr.fraction_lost / 256.0, a[n].rr.cum_lost, rrj[n]
	ctl_log_call(CTL_LOG_INFO, s->call_id, "quality: " LEG_FMT(0) "; " LEG_FMT(1),
		     LEG_ARGS(0), LEG_ARGS(1));
#undef LEG_FMT
#undef LEG_ARGS
}

/*
 * rtpproxy's end-of-session counters: nsess_nortp (no RTP either way),
 * nsess_owrtp (RTP one way only), the same for RTCP, total_duration.
 */
static void
session_account(struct ctl_sessions *t, const struct ctl_session *s)
{
	uint64_t rtp[2], rtcp[2];

	session_quality(t, s);

	for (int li = 0; li < 2; li++) {
		rtp[li] = stream_pkts_in(t, &s->leg[li].sock.rtp);
		rtcp[li] = stream_pkts_in(t, &s->leg[li].sock.rtcp);
	}
	if (rtp[0] == 0 && rtp[1] == 0)
		t->c.nortp++;
	else if (rtp[0] == 0 || rtp[1] == 0)
		t->c.owrtp++;
	if (rtcp[0] == 0 && rtcp[1] == 0)
		t->c.nortcp++;
	else if (rtcp[0] == 0 || rtcp[1] == 0)
		t->c.owrtcp++;
	if (t->now_ns > s->created_ns)
		t->c.total_duration += (double)(t->now_ns - s->created_ns) /
				       (double)CTL_NS_PER_S;
}

void
ctl_session_set_record(struct ctl_sessions *t, struct ctl_session *s,
		       int li, uint32_t rec_id, bool rtcp)
{
	s->leg[li].rec_id = rec_id;
	s->leg[li].rec_rtcp = rec_id != 0 && rtcp;
	if (ctl_rec_leg(t, s, s->leg, li) != 0)
		ctl_rec_pending(t, s);
}

void
ctl_session_set_hold(struct ctl_sessions *t, struct ctl_session *s, int li,
		     bool on)
{
	s->leg[li].held = on;
	if (ctl_rec_leg(t, s, s->leg, li) != 0)
		ctl_rec_pending(t, s);
}

/* Unlink s from the indexes and queues, release its legs, free it. */
void
ctl_session_destroy(struct ctl_sessions *t, struct ctl_session *s)
{
	GPtrArray *arr = g_hash_table_lookup(t->by_call, s->call_id);

	session_account(t, s);
	if (t->cfg.on_rec != NULL)
		t->cfg.on_rec(t, s, false, t->cfg.rec_arg);
	/* forks first: a fork into this session's sockets ("&& C") stops
	 * while they are still known */
	ctl_fork_release(t, s, 0);
	ctl_fork_release(t, s, 1);
	ctl_rec_leg_release(t, s, 0);
	ctl_rec_leg_release(t, s, 1);
	if (s->pending)
		g_queue_remove(&t->pending, s);
	if (arr != NULL) {
		g_ptr_array_remove(arr, s);
		if (arr->len == 0)
			g_hash_table_remove(t->by_call, s->call_id);
	}
	g_hash_table_remove(t->by_serial, &s->serial);
	t->c.destroyed++;
	ctl_sjournal_drop(t, s);
	ctl_session_free(s);
}

struct ctl_sessions *
ctl_sessions_create(const struct ctl_sessions_cfg *cfg)
{
	struct ctl_sessions *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->cfg = *cfg;
	if (cfg->addrs != NULL)
		t->addrs = *cfg->addrs;
	else
		ctl_addrs_from_relays(&t->addrs,
				      cfg->ports != NULL ? cfg->relay_ip : 0,
				      cfg->ports6 != NULL ? cfg->relay6 : NULL);
	t->cfg.addrs = NULL; /* the copy is t->addrs */
	if (t->cfg.setup_ttl_ns == 0)
		t->cfg.setup_ttl_ns = t->cfg.ttl_ns;
	/* keyed: Call-IDs come from the network (ctl_hash.h) */
	t->by_call = g_hash_table_new_full(ctl_hash_str, g_str_equal, g_free,
					   (GDestroyNotify)g_ptr_array_unref);
	t->by_serial = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_queue_init(&t->pending);
	g_queue_init(&t->graves);
	g_queue_init(&t->orphans);
	t->jdeferred = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	t->orphan_pairs = g_hash_table_new(g_direct_hash, g_direct_equal);
	return t;
}

void
ctl_sessions_abandon(struct ctl_sessions *t)
{
	if (t == NULL)
		return;
	t->abandon = true;
	t->cfg.pf = NULL; /* the entries stay */
	ctl_sessions_destroy(t);
}

void
ctl_sessions_destroy(struct ctl_sessions *t)
{
	if (t == NULL)
		return;
	ctl_sessions_delete_all(t);
	ctl_replay_orphans_expire(t, UINT64_MAX);
	ctl_sessions_flush(t);
	ctl_rec_graves_drop(t, true);
	ctl_replay_orphans_drop(t, true);
	g_hash_table_destroy(t->orphan_pairs);
	g_array_free(t->jdeferred, TRUE);
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

int
ctl_sessions_find_rec(struct ctl_sessions *t, const char *call_id,
		      const char *from_tag, const char *to_tag,
		      struct ctl_session **sp)
{
	GPtrArray *arr = g_hash_table_lookup(t->by_call, call_id);

	for (guint i = 0; arr != NULL && i < arr->len; i++) {
		struct ctl_session *s = arr->pdata[i];
		int rval = ctl_cmd_tag_cmp(s->from_tag, from_tag, NULL) != 0 ? 0 :
			   to_tag != NULL && ctl_cmd_tag_cmp(s->from_tag, to_tag, NULL) != 0 ?
			   1 : -1;

		if (rval >= 0) {
			*sp = s;
			return rval;
		}
	}
	return -1;
}

/* Index a new session. */
void
ctl_session_link(struct ctl_sessions *t, struct ctl_session *s)
{
	GPtrArray *arr = g_hash_table_lookup(t->by_call, s->call_id);

	if (arr == NULL) {
		arr = g_ptr_array_new();
		g_hash_table_insert(t->by_call, g_strdup(s->call_id), arr);
	}
	g_ptr_array_add(arr, s);
	g_hash_table_insert(t->by_serial, &s->serial, s);
}

struct ctl_session *
ctl_session_new(struct ctl_sessions *t, const char *call_id,
		const char *from_tag, bool weak,
		const struct ctl_leg_addr la[2], uint64_t now_ns)
{
	struct ctl_session *s = calloc(1, sizeof(*s));

	ctl_session_clock(t, now_ns);
	if (s == NULL)
		return NULL;
	s->call_id = strdup(call_id);
	s->from_tag = strdup(from_tag);
	if (s->call_id == NULL || s->from_tag == NULL) {
		ctl_session_free(s);
		return NULL;
	}
	s->leg[0].ptime = s->leg[1].ptime = -1;
	/* rtpproxy rtpp_session_ctor(): weak creation sets weak[0] */
	if (weak)
		s->leg[0].weak = true;
	else
		s->strong = true;
	s->created_ns = s->last_ns = now_ns;
	s->notify_target = -1;
	s->jslot = -1;
	/* the relay addresses the command chose (rtpproxy lia[0], lia[1]),
	 * kept for leg 1 until it opens */
	for (int li = 0; li < 2 && la != NULL; li++) {
		if (la[li].pinned && la[li].laddr >= 0 &&
		    (uint32_t)la[li].laddr < t->addrs.n) {
			s->leg[li].sock.laddr = (uint8_t)la[li].laddr;
			s->leg[li].pinned = true;
		}
	}
	return s;
}

/*
 * A new session (ctl_session_new(), serial 0) gets its serial and owner
 * before its first socket: round robin over the workers that run,
 * unless the NIC steers (then leg 0's port decides, ctl_alloc.c).
 */
static int
draft_owner(struct ctl_sessions *t, struct ctl_session *s,
	    struct ctl_session_err *err)
{
	uint32_t n = ctl_dp_ready(t->cfg.dp) ? ctl_dp_n_workers(t->cfg.dp) : 0;

	if (n == 0)
		return ctl_session_err_set(err, -ENOTCONN, NULL);
	s->serial = ++t->next_serial;
	s->owner = ctl_alloc_owner(t, n);
	s->owner_open = true;
	return 0;
}

/* A new session's sockets are told: it joins the table. */
static void
draft_link(struct ctl_sessions *t, struct ctl_session *s)
{
	ctl_session_link(t, s);
	t->c.created++;
	ctl_log_call(CTL_LOG_INFO, s->call_id,
		     "new session, tag %s, leg 0 on %s %s port %u, worker %u",
		     s->from_tag, ctl_alloc_family_name(s->leg[0].sock.family),
		     t->addrs.a[s->leg[0].sock.laddr].text, s->leg[0].sock.port,
		     s->owner);
	if (t->cfg.on_rec != NULL)
		t->cfg.on_rec(t, s, true, t->cfg.rec_arg);
}

/* The signal's remote, on hold and flags onto leg l (no push). */
static void
leg_apply(struct ctl_leg *l, const struct ctl_leg_signal *sig)
{
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
}

void
ctl_session_mark(struct ctl_session *s, int sidx, bool weak, bool is_update)
{
	if (weak)
		s->leg[sidx].weak = true;
	else if (is_update)
		s->strong = true;
}

/* Log a leg's new socket: opened, or moved from old. */
static void
log_resocket(struct ctl_sessions *t, const struct ctl_session *s, int li,
	     const struct ctl_sock *old)
{
	const struct ctl_leg *l = &s->leg[li];
	char ra[CTL_ADDR_STRLEN];

	if (old->port == 0) {
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d on %s %s port %u, tag %s", li,
			     ctl_alloc_family_name(l->sock.family),
			     t->addrs.a[l->sock.laddr].text, l->sock.port,
			     s->from_tag);
		return;
	}
	if (old->family == l->sock.family) {
		/* rtpproxy 'n' (or a new relay address chosen with it) */
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d: new port requested, releasing %u/%u, "
			     "replacing with %s %u/%u", li, old->port,
			     old->port + 1, t->addrs.a[l->sock.laddr].text,
			     l->sock.port, l->sock.port + 1);
		return;
	}
	t->c.family_moves++;
	ctl_log_call(CTL_LOG_INFO, s->call_id,
		     "leg %d moved from %s port %u to %s port %u: its party "
		     "signals %s", li, ctl_alloc_family_name(old->family),
		     old->port, ctl_alloc_family_name(l->sock.family),
		     l->sock.port,
		     ctl_session_addr_str(&l->remote, ra, sizeof(ra)));
}

/*
 * The desired socket of leg sidx in next: its port is in the reply, so
 * it may get a new socket: opened in its party's family (else the
 * command's), a new one asked for ('n'), or moved to the family its
 * party signalled since (an answer, see .h). rtpproxy: a leg being
 * (re)opened takes the address the command chose ('l'/'r', or both of
 * E/I with 'n'). *opened: it got one (next[sidx].sock is new).
 */
static int
want_sidx(struct ctl_sessions *t, struct ctl_session *s,
	  struct ctl_leg next[2], const struct ctl_session_req *req,
	  bool *opened, struct ctl_session_err *err)
{
	struct ctl_leg *sl = &next[req->sidx];
	const struct ctl_leg_addr *la = &req->la;
	int addr, rc;

	if (sl->sock.port == 0 || req->new_port) {
		bool chosen = la->pinned && la->laddr >= 0 &&
			      (uint32_t)la->laddr < t->addrs.n;

		addr = chosen ? la->laddr
			      : ctl_alloc_leg_addr(t, sl, sl->sock.port != 0
							? sl->sock.family
							: req->sig.family);
		rc = addr < 0 ? ctl_alloc_no_family(req->sig.family, err)
			      : ctl_alloc_sock(t, s, addr, !chosen && !sl->pinned,
					       &sl->sock, err);
		if (rc == 0 && chosen)
			sl->pinned = true;
	} else if (sl->has_remote &&
		   (addr = ctl_alloc_move_family(t, sl, &sl->remote)) >= 0) {
		rc = ctl_alloc_sock(t, s, addr, true, &sl->sock, err);
	} else {
		return 0;
	}
	*opened = rc == 0;
	return rc;
}

/*
 * The desired state of leg pidx in next: what sig signals, and, for an
 * offer (U) in another family, a new socket (the answer's L returns its
 * new port to its party). *opened: it got one.
 */
static int
want_pidx(struct ctl_sessions *t, struct ctl_session *s,
	  struct ctl_leg next[2], const struct ctl_session_req *req,
	  bool *opened, struct ctl_session_err *err)
{
	struct ctl_leg *pl = &next[!req->sidx];
	const struct ctl_leg_signal *sig = &req->sig;
	int addr, rc = 0;

	if (req->is_update && sig->has_remote &&
	    (addr = ctl_alloc_move_family(t, pl, &sig->remote)) >= 0) {
		rc = ctl_alloc_sock(t, s, addr, true, &pl->sock, err);
		*opened = rc == 0;
	}
	if (rc != 0)
		return rc;
	leg_apply(pl, sig);
	/* a new learning window for the signalled leg, even with nothing
	 * changed (a new socket gets its ADD anyway) */
	pl->sock.rtp.resignal = pl->sock.rtp.in_dp;
	pl->sock.rtcp.resignal = pl->sock.rtcp.in_dp;
	return 0;
}

int
ctl_session_update(struct ctl_sessions *t, struct ctl_session *s,
		   const struct ctl_session_req *req, uint64_t now_ns,
		   struct ctl_session_err *err)
{
	const struct ctl_leg_signal *sig = &req->sig;
	int sidx = req->sidx, pidx = !sidx, rc;
	/* the desired state, built here and committed only on success */
	struct ctl_leg next[2] = {s->leg[0], s->leg[1]};
	struct ctl_sock old[2];
	bool open[2] = {false, false}, repointed = true;
	bool was_asymmetric = s->leg[pidx].asymmetric, draft = s->serial == 0;
	char *codecs = NULL;

	ctl_session_clock(t, now_ns);
	rc = draft ? draft_owner(t, s, err) : 0;
	if (rc == 0 && sig->codecs != NULL) {
		codecs = strndup(sig->codecs, sig->codecs_len);
		if (codecs == NULL)
			rc = ctl_session_err_set(err, -ENOMEM, NULL);
	}
	if (rc == 0)
		rc = want_sidx(t, s, next, req, &open[sidx], err);
	if (rc == 0)
		rc = want_pidx(t, s, next, req, &open[pidx], err);
	/* the dataplane, then the prefilter, get the new sockets */
	if (rc == 0)
		rc = ctl_rec_open(t, s, next, open, err);
	if (rc != 0) {
		/* nothing committed: free what the copy holds new */
		for (int li = 1; li >= 0; li--)
			if (open[li])
				ctl_rec_sock_release(t, s, li, &next[li].sock,
						     true);
		free(codecs);
		if (draft)
			ctl_session_free(s);
		return rc;
	}
	/* commit */
	old[0] = s->leg[0].sock;
	old[1] = s->leg[1].sock;
	free(s->leg[pidx].codecs);
	next[pidx].codecs = codecs;
	s->leg[0] = next[0];
	s->leg[1] = next[1];
	if (draft)
		draft_link(t, s);
	/* the rest: one UPDATE per changed stream (out ids, signalled) */
	for (int li = 0; li < 2; li++) {
		if (!open[li] && ctl_rec_leg(t, s, s->leg, li) != 0) {
			ctl_rec_pending(t, s);
			repointed = false;
		}
	}
	s->last_ns = now_ns;
	if (!open[pidx]) /* a new socket's entries have no peer anyway */
		ctl_rec_pf_asymmetric(t, s, pidx, was_asymmetric);
	ctl_session_mark(s, sidx, req->weak, req->is_update);
	session_check_complete(t, s);
	for (int li = 0; li < 2; li++) {
		if (!open[li])
			continue;
		if (!draft) /* else "new session" said it */
			log_resocket(t, s, li, &old[li]);
		/* nothing may point at the old streams when they go: if the
		 * re-pointing UPDATE waits, so do the DELs */
		if (old[li].port != 0)
			ctl_rec_sock_release(t, s, li, &old[li], repointed);
	}
	if (!req->is_update && sig->has_remote && s->leg[pidx].sock.port != 0 &&
	    s->leg[pidx].remote.family != s->leg[pidx].sock.family) {
		const struct ctl_leg *pl = &s->leg[pidx];
		char ra[CTL_ADDR_STRLEN];

		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d: answer signals %s on its %s port %u, "
			     "given out already: peer learnt from packets "
			     "until the next offer", pidx,
			     ctl_session_addr_str(&pl->remote, ra, sizeof(ra)),
			     ctl_alloc_family_name(pl->sock.family),
			     pl->sock.port);
	}
	ctl_sjournal_put(t, s);
	return 0;
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
			ctl_sjournal_put(t, s);
			continue;
		}
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "deleting session %u on ports %u/%u", medianum,
			     s->leg[0].sock.port, s->leg[1].sock.port);
		ctl_session_destroy(t, s);
		if (cmpr != 2)
			break;
	}
	g_ptr_array_unref(snap);
	return ndeleted;
}

/* Every live session, as a new array (callers may destroy them). */
GPtrArray *
ctl_sessions_all(struct ctl_sessions *t)
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
	GPtrArray *all = ctl_sessions_all(t);

	for (guint i = 0; i < all->len; i++)
		ctl_session_destroy(t, all->pdata[i]);
	g_ptr_array_unref(all);
}

int
ctl_session_set_notify(struct ctl_sessions *t, struct ctl_session *s,
		       int target, const char *tag)
{
	char *copy = NULL;

	if (target >= 0) {
		copy = strdup(tag != NULL ? tag : "");
		if (copy == NULL)
			return -ENOMEM;
	}
	free(s->notify_tag);
	s->notify_tag = copy;
	s->notify_target = target >= 0 ? target : -1;
	ctl_sjournal_put(t, s);
	return 0;
}

void
ctl_sessions_now(struct ctl_sessions *t, uint64_t now_ns)
{
	ctl_session_clock(t, now_ns);
}

void
ctl_sessions_counters(const struct ctl_sessions *t,
		      struct ctl_sessions_counters *c)
{
	GHashTableIter it;
	gpointer v;

	*c = t->c;
	c->active = g_hash_table_size(t->by_serial);
	if (t->cfg.journal != NULL) {
		c->journal_slots_used = ctl_journal_used(t->cfg.journal);
		c->journal_slots_free = ctl_journal_slots(t->cfg.journal) -
					c->journal_slots_used;
	}
	c->streams = 0;
	c->legs = 0;
	g_hash_table_iter_init(&it, t->by_serial);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct ctl_session *s = v;

		for (int li = 0; li < 2; li++) {
			const struct ctl_stream *sts[2] = {&s->leg[li].sock.rtp,
							   &s->leg[li].sock.rtcp};

			/* rtpproxy "active streams": its RTP stream
			 * objects, two per session from the start */
			c->streams++;
			if (s->leg[li].sock.port != 0)
				c->legs++;
			for (int k = 0; k < 2; k++) {
				struct rtpb_stream_stats sc;

				ctl_rec_stream_counts(t, sts[k], &sc);
				c->pkts_in += sc.pkts_in;
				c->pkts_relayed += sc.pkts_relayed;
				c->pkts_dropped += sc.pkts_dropped;
			}
		}
	}
}

void
ctl_session_query(const struct ctl_sessions *t, const struct ctl_session *s,
		  int idx, uint64_t now_ns, struct ctl_session_query *q)
{
	struct rtpb_stream_stats a, o;
	uint64_t last = ctl_ttl_last(t, s);
	uint64_t idle = now_ns > last ? now_ns - last : 0;
	uint64_t ttl = ctl_session_ttl_ns(t, s);

	memset(q, 0, sizeof(*q));
	/* seconds left, rounded up: a fresh session shows the full TTL */
	q->ttl_s = idle >= ttl ? 0
			       : (int64_t)((ttl - idle + CTL_NS_PER_S - 1) / CTL_NS_PER_S);
	/* all dataplane generations: never back across a restart */
	ctl_rec_stream_counts(t, &s->leg[idx].sock.rtp, &a);
	ctl_rec_stream_counts(t, &s->leg[!idx].sock.rtp, &o);
	session_rtpa(t, &s->leg[idx].sock.rtp, &q->rtpa);
	q->npkts_ina = a.pkts_in;
	q->npkts_ino = o.pkts_in;
	q->nrelayed = a.pkts_relayed + o.pkts_relayed;
	q->ndropped = a.pkts_dropped + o.pkts_dropped;
}

struct ctl_session *
ctl_sessions_by_serial(struct ctl_sessions *t, uint64_t serial)
{
	return g_hash_table_lookup(t->by_serial, &serial);
}

struct ctl_dp *
ctl_sessions_dp(const struct ctl_sessions *t)
{
	return t->cfg.dp;
}

const struct ctl_addrs *
ctl_sessions_addrs(const struct ctl_sessions *t)
{
	return &t->addrs;
}

int
ctl_sessions_dp_sync(struct ctl_sessions *t)
{
	int rc;

	if (t->cfg.dp == NULL || !ctl_dp_ready(t->cfg.dp))
		return -ENOTCONN;
	rc = ctl_dp_sync(t->cfg.dp, CTL_DP_SYNC_NS);
	if (rc == -ETIMEDOUT)
		ctl_log(CTL_LOG_WARN, "dataplane applied no stream message in %llu ms "
			"(stalled?); replying anyway (%llu such waits)",
			(unsigned long long)(CTL_DP_SYNC_NS / 1000000),
			(unsigned long long)ctl_dp_sync_timeouts(t->cfg.dp));
	return rc;
}

unsigned
ctl_sessions_count(const struct ctl_sessions *t)
{
	return g_hash_table_size(t->by_serial);
}
