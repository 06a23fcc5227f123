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
 * with a push refused by a full ring, and "graves", relay sockets whose
 * DEL was refused: their ids and ports stay taken until the DEL goes
 * through. Address families and when a leg changes family, and the
 * prefilter's entries: see ctl_session.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd.h"
#include "ctl_hash.h"
#include "ctl_log.h"
#include "ctl_session.h"

#define CTL_NS_PER_S 1000000000ULL
/* "[" INET6_ADDRSTRLEN "]:65535", or "none" */
#define ADDR_STRLEN (INET6_ADDRSTRLEN + 8)
/* Free pairs looked at for one whose RTP port the NIC steers to the
 * session's worker: 1 in n_workers is, so 256 miss with 16 workers once
 * in ~15 million (ctl_session.h). */
#define CTL_STEER_TRIES 256

/* A relay socket whose streams' DELs were refused: retried by
 * ctl_sessions_flush. */
struct grave {
	uint32_t id[2];              /* RTP, RTCP stream ids */
	bool waiting[2];             /* DEL still to be pushed */
	struct rtpb_addr local[2];   /* as added */
	uint16_t port;               /* pair freed once both DELs went */
	uint8_t laddr;               /* its relay address: addr_pool() */
};

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

/* A leg's relay socket, kept aside while the leg gets another one. */
struct sock {
	uint16_t port; /* 0: the leg had none */
	uint8_t family;
	uint8_t laddr; /* its relay address (index in the table) */
	bool in_pf;    /* the prefilter has its entries */
	struct ctl_stream rtp;
	struct ctl_stream rtcp;
};

struct ctl_sessions {
	struct ctl_sessions_cfg cfg;
	GHashTable *by_call;   /* char *call_id -> GPtrArray of sessions */
	GHashTable *by_serial; /* uint64_t *serial -> struct ctl_session */
	GQueue pending;        /* sessions with a refused ADD/UPDATE */
	GQueue graves;         /* struct grave *, refused DELs */
	GQueue orphans;        /* struct orphan *, ctl_sessions_replay() */
	GHashTable *orphan_pairs; /* laddr << 16 | RTP port -> orphans on it */
	bool abandon;          /* ctl_sessions_abandon(): push no DEL */
	uint64_t next_serial;
	uint32_t rr;           /* round robin owner choice */
	struct ctl_sessions_counters c; /* pkts_*: deleted streams only */
	struct ctl_addrs addrs; /* the relay addresses (a copy) */
	uint64_t now_ns;       /* the latest time any call was given */
	bool detached;         /* lost the dataplane: no aging (see .h) */
	uint64_t lost_ns;      /* when (ctl_dp_poll_ns()) */
	uint64_t pps_t_ns;     /* pps_in: time and packets of the last tick */
	uint64_t pps_pkts;
	char why[160];         /* ctl_sessions_why(), "" if none */
};

/* Time only moves forward here (a caller's older clock is ignored). */
static void
clock_seen(struct ctl_sessions *t, uint64_t now_ns)
{
	if (now_ns > t->now_ns)
		t->now_ns = now_ns;
}

static const char *
family_name(uint8_t family)
{
	switch (family) {
	case RTPB_AF_INET: return "IPv4";
	case RTPB_AF_INET6: return "IPv6";
	default: return "unknown family";
	}
}

static struct ctl_ports *
family_pool(const struct ctl_sessions *t, uint8_t family)
{
	return family == RTPB_AF_INET6 ? t->cfg.ports6 : t->cfg.ports;
}

/* The pool relay address laddr takes its port pairs from: its own, else
 * its family's (ctl_sessions_cfg); NULL if none. */
static struct ctl_ports *
addr_pool(const struct ctl_sessions *t, int laddr)
{
	if (laddr < 0 || (uint32_t)laddr >= t->addrs.n)
		return NULL;
	if (t->cfg.addr_ports[laddr] != NULL)
		return t->cfg.addr_ports[laddr];
	return family_pool(t, ctl_addrs_family(&t->addrs, laddr));
}

/* A relay address and a pool of that family? */
static bool
family_ok(const struct ctl_sessions *t, uint8_t family)
{
	return addr_pool(t, ctl_addrs_default(&t->addrs, family)) != NULL;
}

/* Relay address laddr (index in the table) with port (host order). */
static void
relay_addr(const struct ctl_sessions *t, uint8_t laddr, uint16_t port,
	   struct rtpb_addr *a)
{
	*a = t->addrs.a[laddr].ip;
	a->port = htons(port);
}

/* "ADDR:PORT", "[ADDR]:PORT" for IPv6, "none" without an address. */
static const char *
addr_str(const struct rtpb_addr *a, char *buf, size_t n)
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

/* The address alone, for messages about relay addresses. */
static const char *
host_str(const struct rtpb_addr *a, char *buf, size_t n)
{
	if (inet_ntop(a->family == RTPB_AF_INET6 ? AF_INET6 : AF_INET, a->ip,
		      buf, (socklen_t)n) == NULL)
		snprintf(buf, n, "?");
	return buf;
}

/*
 * The relay address leg l's socket should be on: the one the command
 * chose (pinned: E/I, l, r), else the default address of its remote's
 * family (the party that uses it), else of want (the command's family,
 * as rtpproxy), if configured.
 * @return the index, or -1 if want is not configured.
 */
static int
leg_addr(const struct ctl_sessions *t, const struct ctl_leg *l, uint8_t want)
{
	if (l->pinned)
		return l->laddr;
	if (l->has_remote && family_ok(t, l->remote.family))
		return ctl_addrs_default(&t->addrs, l->remote.family);
	return family_ok(t, want) ? ctl_addrs_default(&t->addrs, want) : -1;
}

/* No relay address of family: t->why. @return -EAFNOSUPPORT. */
static int
no_family(struct ctl_sessions *t, uint8_t family)
{
	snprintf(t->why, sizeof(t->why), "no %s relay address",
		 family_name(family));
	return -EAFNOSUPPORT;
}

/*
 * Relay address laddr is usable: configured with a pool, and served by
 * the attached dataplane (its addrs[]). Sets t->why on -ENOENT and
 * -EAFNOSUPPORT.
 * @return 0, -EAFNOSUPPORT, -ENOENT or -ENOTCONN.
 */
static int
relay_check(struct ctl_sessions *t, int laddr)
{
	struct rtpb_addr a;
	char buf[INET6_ADDRSTRLEN];
	int rc;

	if (laddr < 0 || (uint32_t)laddr >= t->addrs.n)
		return no_family(t, RTPB_AF_NONE);
	if (addr_pool(t, laddr) == NULL)
		return no_family(t, ctl_addrs_family(&t->addrs, laddr));
	relay_addr(t, (uint8_t)laddr, 0, &a);
	rc = ctl_dp_addr_index(t->cfg.dp, &a);
	if (rc == -ENOENT)
		snprintf(t->why, sizeof(t->why),
			 "relay address %s not served by the dataplane",
			 host_str(&a, buf, sizeof(buf)));
	return rc < 0 ? rc : 0;
}

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

/* The prefilter entry of a relay socket: RTP at port, RTCP at port + 1. */
static void
pf_local(const struct ctl_sessions *t, uint8_t laddr, uint16_t port, bool rtcp,
	 struct rtpb_addr *a)
{
	relay_addr(t, laddr, (uint16_t)(port + (rtcp ? 1 : 0)), a);
}

/*
 * Give leg li's socket its two prefilter entries (RTP, RTCP), without a
 * peer: UDP to it passes to the dataplane. Called once the dataplane
 * took the socket's ADDs. Sets t->why on failure.
 * @return 0 (also without a prefilter), or -EIO (no entry left).
 */
static int
pf_leg_add(struct ctl_sessions *t, struct ctl_session *s, int li)
{
	struct ctl_leg *l = &s->leg[li];
	struct rtpb_addr a[2];
	int rc;

	if (t->cfg.pf == NULL || l->in_pf || l->port == 0)
		return 0;
	pf_local(t, l->laddr, l->port, false, &a[0]);
	pf_local(t, l->laddr, l->port, true, &a[1]);
	rc = ctl_pf_sock_add(t->cfg.pf, &a[0], NULL);
	if (rc == 0) {
		rc = ctl_pf_sock_add(t->cfg.pf, &a[1], NULL);
		if (rc != 0)
			ctl_pf_sock_del(t->cfg.pf, &a[0]);
	}
	if (rc != 0) {
		snprintf(t->why, sizeof(t->why),
			 "prefilter: pf_socks entry of %s port %u refused: %s",
			 family_name(l->family), l->port, strerror(-rc));
		return -EIO;
	}
	l->in_pf = true;
	return 0;
}

/* Delete the prefilter entries of socket k (leg li of s), if it has them. */
static void
pf_sock_del(struct ctl_sessions *t, const struct ctl_session *s, int li,
	    struct sock *k)
{
	if (t->cfg.pf == NULL || !k->in_pf)
		return;
	for (int rtcp = 0; rtcp < 2; rtcp++) {
		struct rtpb_addr a;
		int rc;

		pf_local(t, k->laddr, k->port, rtcp, &a);
		rc = ctl_pf_sock_del(t->cfg.pf, &a);
		if (rc != 0)
			ctl_log_call(CTL_LOG_WARN, s->call_id,
				     "leg %d: prefilter entry of %s port %u: "
				     "%s", li, family_name(k->family),
				     (unsigned)(k->port + rtcp), strerror(-rc));
	}
	k->in_pf = false;
}

/*
 * Set the latched peer of the prefilter entry of leg li's stream (RTP
 * or RTCP) and its SSRC (host order, 0 unknown); peer NULL or family
 * NONE clears it. Failures are logged.
 */
static void
pf_stream_latch(struct ctl_sessions *t, const struct ctl_session *s, int li,
		bool rtcp, const struct rtpb_addr *peer, uint32_t ssrc)
{
	const struct ctl_leg *l = &s->leg[li];
	struct rtpb_addr a;
	int rc;

	if (t->cfg.pf == NULL || !l->in_pf)
		return;
	pf_local(t, l->laddr, l->port, rtcp, &a);
	rc = ctl_pf_sock_latch(t->cfg.pf, &a, peer, ssrc);
	if (rc != 0)
		ctl_log_call(CTL_LOG_WARN, s->call_id,
			     "leg %d: prefilter entry of %s port %u: latch: %s",
			     li, family_name(l->family),
			     (unsigned)(l->port + (rtcp ? 1 : 0)),
			     strerror(-rc));
}

/* Leg li turned asymmetric ('A'): its entries lose their peer (§4.7). */
static void
pf_leg_asymmetric(struct ctl_sessions *t, const struct ctl_session *s, int li,
		  bool was_asymmetric)
{
	if (was_asymmetric || !s->leg[li].asymmetric)
		return;
	pf_stream_latch(t, s, li, false, NULL, 0);
	pf_stream_latch(t, s, li, true, NULL, 0);
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
	/* the RTCP stream follows an RTP handover (DESIGN.md §4.6); an RTCP
	 * proof or revert moves the RTP stream too (§4.9) */
	m->pair_stream_id = rtcp ? (l->rtp.has_id ? l->rtp.id : RTPB_STREAM_NONE) :
				   (l->rtcp.has_id ? l->rtcp.id : RTPB_STREAM_NONE);
	m->learn_ms = t->cfg.learn_ms;
	relay_addr(t, l->laddr, (uint16_t)(l->port + (rtcp ? 1 : 0)),
		   &m->local);
	/* a socket cannot send to the other family: a remote of another
	 * family (an answer that changed it) is learnt from packets */
	if (l->has_remote && l->remote.family == l->family) {
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
	if (st->in_dp && !st->resignal && stream_msg_eq(&m, &st->sent))
		return 0;
	m.hdr.type = st->in_dp ? RTPB_MSG_STREAM_UPDATE : RTPB_MSG_STREAM_ADD;
	/* an ADD into a restarted dataplane restores the latched peer */
	if (!st->in_dp && !s->leg[li].asymmetric) {
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
	st->sent = m;
	st->in_dp = true;
	st->resignal = false;
	return 0;
}

/* Ids for both streams of leg li, before any ADD, so that each ADD
 * carries the right out_stream_id and pair_stream_id. */
static int
leg_ids(struct ctl_sessions *t, struct ctl_session *s, int li)
{
	int rc = stream_id(t, s, &s->leg[li].rtp);

	return rc != 0 ? rc : stream_id(t, s, &s->leg[li].rtcp);
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
		rc = leg_ids(t, s, li);
	}
	for (int li = 0; li < 2 && rc == 0; li++)
		rc = leg_sync(t, s, li);
	return rc;
}

/*
 * DEL one stream and give its id back. With count, the stream's counters
 * are added to the totals first (I reports deleted streams too); without,
 * they were taken already (ctl_sessions_detach()). A detached dataplane
 * has no streams left, so -ENOTCONN counts as done.
 * @return 0, or -ENOBUFS (ring full: the id stays taken).
 */
static int
dp_del(struct ctl_sessions *t, uint32_t id, const struct rtpb_addr *local,
       bool count)
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
		wait = dp_del(t, st->id, &st->sent.local, true) != 0;
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
static void
sock_release(struct ctl_sessions *t, const struct ctl_session *s, int li,
	     struct sock *k, bool try_del)
{
	bool w0, w1;

	/* the prefilter first: no packet for it reaches the dataplane once
	 * the DELs go, whenever that is */
	pf_sock_del(t, s, li, k);
	/* earlier dataplanes' counts join the deleted streams' totals (the
	 * current one's are added by dp_del()) */
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
			     family_name(k->family), k->port);
	} else {
		ctl_ports_free(addr_pool(t, k->laddr), k->port);
	}
}

static void
sock_save(const struct ctl_leg *l, struct sock *k)
{
	k->port = l->port;
	k->family = l->family;
	k->laddr = l->laddr;
	k->in_pf = l->in_pf;
	k->rtp = l->rtp;
	k->rtcp = l->rtcp;
}

static void
sock_restore(struct ctl_leg *l, const struct sock *k)
{
	l->port = k->port;
	l->family = k->family;
	l->laddr = k->laddr;
	l->in_pf = k->in_pf;
	l->rtp = k->rtp;
	l->rtcp = k->rtcp;
}

/* Close leg li: DEL its streams, free ids and port (or bury them). */
static void
leg_release(struct ctl_sessions *t, struct ctl_session *s, int li)
{
	struct ctl_leg *l = &s->leg[li];
	struct sock k;

	if (l->port == 0)
		return;
	sock_save(l, &k);
	sock_release(t, s, li, &k, true);
	memset(&l->rtp, 0, sizeof(l->rtp));
	memset(&l->rtcp, 0, sizeof(l->rtcp));
	l->port = 0;
	l->in_pf = false;
}

/* The worker the NIC steers laddr:port (host order) to, or -1 (no
 * steering known). */
static int
port_worker(const struct ctl_sessions *t, int laddr, uint16_t port)
{
	struct rtpb_addr a;

	relay_addr(t, (uint8_t)laddr, port, &a);
	return ctl_dp_port_worker(t->cfg.dp, &a);
}

struct steer_want {
	const struct ctl_sessions *t;
	int laddr;
	int worker;       /* steer_ok(): this one */
	uint32_t stalled; /* steer_healthy(): none of these (a bit each) */
};

static bool
steer_ok(uint16_t port, void *arg)
{
	const struct steer_want *w = arg;

	return port_worker(w->t, w->laddr, port) == w->worker;
}

static bool
steer_healthy(uint16_t port, void *arg)
{
	const struct steer_want *w = arg;
	int k = port_worker(w->t, w->laddr, port);

	return k >= 0 && !(w->stalled & (1u << k));
}

/* Round robin over the workers, passing over stalled ones
 * (ctl_dp_workers_stalled()) unless all are. */
static uint32_t
owner_next(struct ctl_sessions *t, uint32_t n)
{
	uint32_t stalled = ctl_dp_workers_stalled(t->cfg.dp, NULL);

	for (uint32_t k = 0; k < n; k++) {
		uint32_t w = t->rr++ % n;

		if (!(stalled & (1u << w)))
			return w;
	}
	return t->rr++ % n;
}

/*
 * Take a free pair of relay address laddr for session s. With NIC
 * steering: the session's first pair decides its owner; later ones are
 * pairs the NIC steers to that owner (ctl_session.h).
 * @return 0, or -ENOSPC (laddr's pool is empty).
 */
static int
addr_take(struct ctl_sessions *t, struct ctl_session *s, int laddr,
	  uint16_t *port)
{
	struct ctl_ports *pool = addr_pool(t, laddr);
	struct steer_want want = {.t = t, .laddr = laddr,
				  .worker = (int)s->owner,
				  .stalled = ctl_dp_workers_stalled(t->cfg.dp, NULL)};
	int rc, w;

	if (s->owner_open) {
		/* a new session goes to a worker that runs, if the NIC
		 * steers a free pair to one */
		rc = -ENOENT;
		if (want.stalled != 0 && port_worker(t, laddr, 0) >= 0)
			rc = ctl_ports_alloc_if(pool, steer_healthy, &want,
						CTL_STEER_TRIES, port);
		if (rc == -ENOENT)
			rc = ctl_ports_alloc(pool, port);
		if (rc == 0 && (w = port_worker(t, laddr, *port)) >= 0)
			s->owner = (uint32_t)w;
		if (rc == 0)
			s->owner_open = false;
		return rc;
	}
	if (port_worker(t, laddr, 0) < 0)
		return ctl_ports_alloc(pool, port);
	rc = ctl_ports_alloc_if(pool, steer_ok, &want, CTL_STEER_TRIES, port);
	if (rc == -ENOENT) {
		t->c.steer_misses++;
		rc = ctl_ports_alloc(pool, port);
	}
	return rc;
}

/*
 * --port-spill: a free pair on another address of laddr's family, in -l
 * order after laddr, for a leg whose address the command did not choose.
 * Addresses with the family's shared pool are skipped (their pairs are
 * the ones that just ran out), as is an address the dataplane does not
 * serve. @return the address (port set), or -1.
 */
static int
spill_pair(struct ctl_sessions *t, struct ctl_session *s, int laddr,
	   uint16_t *port)
{
	uint8_t family = ctl_addrs_family(&t->addrs, laddr);
	char why[sizeof(t->why)];

	memcpy(why, t->why, sizeof(why));
	for (uint32_t k = 1; k < t->addrs.n; k++) {
		int a = (int)((uint32_t)laddr + k) % (int)t->addrs.n;

		if (ctl_addrs_family(&t->addrs, a) != family ||
		    t->cfg.addr_ports[a] == NULL || relay_check(t, a) != 0 ||
		    addr_take(t, s, a, port) != 0)
			continue;
		memcpy(t->why, why, sizeof(why));
		return a;
	}
	memcpy(t->why, why, sizeof(why));
	return -1;
}

/*
 * Give leg li a new port on relay address laddr, with no streams yet;
 * its socket so far (maybe none) is saved in old. Nothing is pushed.
 * With spill (the command did not choose laddr) and
 * ctl_sessions_cfg.spill, a full laddr lends the leg to another address
 * of its family (spill_pair()).
 * @return 0, or -ENOTCONN, -ENOENT, -EAFNOSUPPORT (relay_check()),
 *         -ENOSPC (the address's pool is empty).
 */
static int
leg_resocket(struct ctl_sessions *t, struct ctl_session *s, int li,
	     int laddr, bool spill, struct sock *old)
{
	struct ctl_leg *l = &s->leg[li];
	uint16_t port;
	uint8_t family;
	int rc = relay_check(t, laddr), a;

	if (rc != 0)
		return rc;
	family = ctl_addrs_family(&t->addrs, laddr);
	rc = addr_take(t, s, laddr, &port);
	if (rc == -ENOSPC && spill && t->cfg.spill &&
	    (a = spill_pair(t, s, laddr, &port)) >= 0) {
		t->c.port_spills++;
		laddr = a;
		rc = 0;
	}
	if (rc != 0) {
		snprintf(t->why, sizeof(t->why), "no free %s port pair on %s",
			 family_name(family), t->addrs.a[laddr].text);
		return rc;
	}
	sock_save(l, old);
	l->port = port;
	l->family = family;
	l->laddr = (uint8_t)laddr;
	l->in_pf = false;
	memset(&l->rtp, 0, sizeof(l->rtp));
	memset(&l->rtcp, 0, sizeof(l->rtcp));
	return 0;
}

/*
 * Both legs have ports now: the session is complete (nsess_complete),
 * and its TTL limit goes from -W to -T (rtpproxy reset_with(max_ttl),
 * which also ends an "S ttl=" set before).
 */
static void
session_check_complete(struct ctl_sessions *t, struct ctl_session *s)
{
	if (s->leg[0].port != 0 && s->leg[1].port != 0 && !s->complete) {
		s->complete = true;
		s->ttl_ns = 0;
		t->c.completed++;
	}
}

/*
 * Open leg li on relay address laddr: a port pair and both streams; undone on
 * failure. With sync_other, the other leg's streams get their new
 * out_stream_id now; without, the caller syncs that leg.
 */
static int
leg_open(struct ctl_sessions *t, struct ctl_session *s, int li, int laddr,
	 bool sync_other)
{
	struct ctl_leg *l = &s->leg[li];
	struct sock old;
	int rc;

	if (l->port != 0)
		return 0;
	if (!ctl_dp_ready(t->cfg.dp))
		return -ENOTCONN;
	rc = leg_resocket(t, s, li, laddr, !l->pinned, &old);
	if (rc != 0)
		return rc;
	rc = leg_ids(t, s, li);
	if (rc == 0)
		rc = stream_sync(t, s, li, false);
	if (rc == 0)
		rc = stream_sync(t, s, li, true);
	if (rc == 0)
		rc = pf_leg_add(t, s, li);
	if (rc != 0) {
		leg_release(t, s, li);
		return rc;
	}
	/* the other leg now has somewhere to send: new out_stream_id */
	if (sync_other && leg_sync(t, s, !li) != 0)
		mark_pending(t, s);
	session_check_complete(t, s);
	return 0;
}

static void
session_free(struct ctl_session *s)
{
	for (int li = 0; li < 2; li++)
		free(s->leg[li].codecs);
	free(s->call_id);
	free(s->from_tag);
	free(s->notify_tag);
	free(s);
}

/*
 * A stream's packet counters as Q, I and G report them: what earlier
 * dataplanes counted (st->past) plus the current one's, if it holds the
 * stream; last_rx_ns the current one's only (0 if none).
 */
static void
stream_counts(const struct ctl_sessions *t, const struct ctl_stream *st,
	      struct rtpb_stream_stats *out)
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

/* Packets received on a stream so far, all dataplanes. */
static uint64_t
stream_pkts_in(const struct ctl_sessions *t, const struct ctl_stream *st)
{
	struct rtpb_stream_stats c;

	stream_counts(t, st, &c);
	return c.pkts_in;
}

/*
 * rtpproxy's end-of-session counters: nsess_nortp (no RTP either way),
 * nsess_owrtp (RTP one way only), the same for RTCP, total_duration.
 */
static void
session_account(struct ctl_sessions *t, const struct ctl_session *s)
{
	uint64_t rtp[2], rtcp[2];

	for (int li = 0; li < 2; li++) {
		rtp[li] = stream_pkts_in(t, &s->leg[li].rtp);
		rtcp[li] = stream_pkts_in(t, &s->leg[li].rtcp);
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

/* Unlink s from the indexes and queues, release its legs, free it. */
static void
session_destroy(struct ctl_sessions *t, struct ctl_session *s)
{
	GPtrArray *arr = g_hash_table_lookup(t->by_call, s->call_id);

	session_account(t, s);
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
	ctl_ports_free(addr_pool(t, o->laddr), o->pair);
}

/* Forget every orphan without a DEL (the dataplane is new: they are
 * gone with the old one), their pairs back to their pools. pf_del:
 * delete their prefilter entries too; a replay leaves them, as the
 * streams the dataplane still holds are adopted again and keep their
 * latched peer, and ctl_sessions_pf_reconcile() removes the others. */
static void
orphans_drop(struct ctl_sessions *t, bool pf_del)
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
static void
orphans_expire(struct ctl_sessions *t, uint64_t now_ns)
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
		if (dp_del(t, o->id, &o->local, true) != 0) {
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
	pool = o->laddr >= 0 && !doomed ? addr_pool(t, o->laddr) : NULL;
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
	struct grave *g;

	if (t == NULL)
		return;
	ctl_sessions_delete_all(t);
	orphans_expire(t, UINT64_MAX);
	ctl_sessions_flush(t);
	while ((g = g_queue_pop_head(&t->graves)) != NULL) {
		ctl_log(CTL_LOG_WARN, "port %u: DEL never went through", g->port);
		g_free(g);
	}
	orphans_drop(t, true);
	g_hash_table_destroy(t->orphan_pairs);
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
		   const char *from_tag, bool weak, uint8_t family,
		   const struct ctl_leg_addr la[2], uint64_t now_ns,
		   struct ctl_session **sp)
{
	uint32_t n = ctl_dp_ready(t->cfg.dp) ? ctl_dp_n_workers(t->cfg.dp) : 0;
	struct ctl_session *s;
	int rc, laddr;

	t->why[0] = '\0';
	clock_seen(t, now_ns);
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
	/* round robin over the workers that run, unless the NIC steers:
	 * then leg 0's port decides */
	s->owner = owner_next(t, n);
	s->owner_open = true;
	s->leg[0].ptime = s->leg[1].ptime = -1;
	/* rtpproxy rtpp_session_ctor(): weak creation sets weak[0] */
	if (weak)
		s->leg[0].weak = true;
	else
		s->strong = true;
	s->created_ns = s->last_ns = now_ns;
	s->notify_target = -1;
	/* the relay addresses the command chose (rtpproxy lia[0], lia[1]),
	 * kept for leg 1 until it opens */
	for (int li = 0; li < 2 && la != NULL; li++) {
		if (la[li].pinned && la[li].laddr >= 0 &&
		    (uint32_t)la[li].laddr < t->addrs.n) {
			s->leg[li].laddr = (uint8_t)la[li].laddr;
			s->leg[li].pinned = true;
		}
	}
	/* leg 0 faces the answerer, not known yet: the command's family;
	 * leg 1 has no port, so there is nothing to sync */
	laddr = leg_addr(t, &s->leg[0], family);
	rc = laddr < 0 ? no_family(t, family) : leg_open(t, s, 0, laddr, false);
	if (rc != 0) {
		session_free(s);
		return rc;
	}
	session_link(t, s);
	t->c.created++;
	ctl_log_call(CTL_LOG_INFO, s->call_id,
		     "new session, tag %s, leg 0 on %s %s port %u, worker %u",
		     s->from_tag, family_name(s->leg[0].family),
		     t->addrs.a[s->leg[0].laddr].text, s->leg[0].port,
		     s->owner);
	*sp = s;
	return 0;
}

int
ctl_session_leg_open(struct ctl_sessions *t, struct ctl_session *s, int idx,
		     uint8_t family)
{
	struct ctl_leg *l = &s->leg[idx];
	int laddr, rc;

	t->why[0] = '\0';
	if (l->port != 0)
		return 0;
	laddr = leg_addr(t, l, family);
	if (laddr < 0)
		return no_family(t, family);
	rc = leg_open(t, s, idx, laddr, true);
	if (rc == 0)
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d on %s port %u, tag %s", idx,
			     family_name(l->family), l->port, s->from_tag);
	return rc;
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

int
ctl_session_signal(struct ctl_sessions *t, struct ctl_session *s, int pidx,
		   const struct ctl_leg_signal *sig, uint64_t now_ns)
{
	struct ctl_leg *l = &s->leg[pidx];
	bool was_asymmetric = l->asymmetric;
	char *codecs = NULL;

	clock_seen(t, now_ns);
	if (sig->codecs != NULL) {
		codecs = strndup(sig->codecs, sig->codecs_len);
		if (codecs == NULL)
			return -ENOMEM;
	}
	leg_apply(l, sig);
	free(l->codecs);
	l->codecs = codecs;
	s->last_ns = now_ns;
	/* a new learning window for the leg, even with nothing changed */
	l->rtp.resignal = l->rtp.in_dp;
	l->rtcp.resignal = l->rtcp.in_dp;
	if (leg_sync(t, s, pidx) != 0)
		mark_pending(t, s);
	pf_leg_asymmetric(t, s, pidx, was_asymmetric);
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

/*
 * The relay address leg l must move to now, or -1: a leg with a port,
 * on an address the command did not choose, whose party signals
 * (remote) another, configured family: that family's default address.
 */
static int
move_family(const struct ctl_sessions *t, const struct ctl_leg *l,
	    const struct rtpb_addr *remote)
{
	if (l->port == 0 || l->pinned || remote->family == l->family ||
	    !family_ok(t, remote->family))
		return -1;
	return ctl_addrs_default(&t->addrs, remote->family);
}

/* Log a leg's new socket: opened, or moved from old. */
static void
log_resocket(struct ctl_sessions *t, const struct ctl_session *s, int li,
	     const struct sock *old)
{
	const struct ctl_leg *l = &s->leg[li];
	char ra[ADDR_STRLEN];

	if (old->port == 0) {
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d on %s %s port %u, tag %s", li,
			     family_name(l->family), t->addrs.a[l->laddr].text,
			     l->port, s->from_tag);
		return;
	}
	if (old->family == l->family) {
		/* rtpproxy 'n' (or a new relay address chosen with it) */
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d: new port requested, releasing %u/%u, "
			     "replacing with %s %u/%u", li, old->port,
			     old->port + 1, t->addrs.a[l->laddr].text, l->port,
			     l->port + 1);
		return;
	}
	t->c.family_moves++;
	ctl_log_call(CTL_LOG_INFO, s->call_id,
		     "leg %d moved from %s port %u to %s port %u: its party "
		     "signals %s", li, family_name(old->family), old->port,
		     family_name(l->family), l->port,
		     addr_str(&l->remote, ra, sizeof(ra)));
}

int
ctl_session_update(struct ctl_sessions *t, struct ctl_session *s, int sidx,
		   const struct ctl_leg_signal *sig, bool weak, bool is_update,
		   const struct ctl_leg_addr *la, bool new_port,
		   uint64_t now_ns)
{
	int pidx = !sidx, rc = 0, addr;
	struct ctl_leg *sl = &s->leg[sidx], *pl = &s->leg[pidx];
	struct ctl_leg saved = *pl; /* the signal's fields, for a rollback */
	uint8_t saved_laddr = sl->laddr;
	bool saved_pinned = sl->pinned;
	struct sock old[2] = {{0}, {0}};
	bool re[2] = {false, false}, repointed = true;
	char *codecs = NULL;

	t->why[0] = '\0';
	clock_seen(t, now_ns);
	if (sig->codecs != NULL) {
		codecs = strndup(sig->codecs, sig->codecs_len);
		if (codecs == NULL)
			return -ENOMEM;
	}
	/* leg sidx: its port is in the reply, so it may get a new socket:
	 * opened in its party's family (else the command's), a new one
	 * asked for ('n'), or moved to the family its party signalled
	 * since (an answer, see .h). rtpproxy: a leg being (re)opened takes
	 * the address the command chose ('l'/'r', or both of E/I with 'n');
	 * the leg's socket so far is saved first, on its own address. */
	if (sl->port == 0 || new_port) {
		bool chosen = la != NULL && la->pinned && la->laddr >= 0 &&
			      (uint32_t)la->laddr < t->addrs.n;

		addr = chosen ? la->laddr
			      : leg_addr(t, sl, sl->port != 0 ? sl->family
							      : sig->family);
		if (addr < 0)
			rc = no_family(t, sig->family);
		else if (!ctl_dp_ready(t->cfg.dp))
			rc = -ENOTCONN;
		else
			rc = leg_resocket(t, s, sidx, addr,
					  !chosen && !sl->pinned, &old[sidx]);
		re[sidx] = rc == 0;
		if (rc == 0 && chosen)
			sl->pinned = true;
	} else if (sl->has_remote &&
		   (addr = move_family(t, sl, &sl->remote)) >= 0) {
		rc = leg_resocket(t, s, sidx, addr, true, &old[sidx]);
		re[sidx] = rc == 0;
	}
	/* leg pidx: an offer (U) in another family moves it; the answer's
	 * L returns its new port to its party */
	if (rc == 0 && is_update && sig->has_remote &&
	    (addr = move_family(t, pl, &sig->remote)) >= 0) {
		rc = leg_resocket(t, s, pidx, addr, true, &old[pidx]);
		re[pidx] = rc == 0;
	}
	if (rc != 0)
		goto undo;
	leg_apply(pl, sig);
	/* a new learning window for the signalled leg, even with nothing
	 * changed (a new socket gets its ADD anyway) */
	pl->rtp.resignal = pl->rtp.in_dp;
	pl->rtcp.resignal = pl->rtcp.in_dp;
	/* new sockets: ids of both first, then their ADDs */
	for (int li = 0; li < 2 && rc == 0; li++)
		if (re[li])
			rc = leg_ids(t, s, li);
	for (int li = 0; li < 2 && rc == 0; li++) {
		if (!re[li])
			continue;
		rc = stream_sync(t, s, li, false);
		if (rc == 0)
			rc = stream_sync(t, s, li, true);
	}
	/* the dataplane has them: open the prefilter in front */
	for (int li = 0; li < 2 && rc == 0; li++)
		if (re[li])
			rc = pf_leg_add(t, s, li);
	if (rc != 0)
		goto undo;
	/* the rest: one UPDATE per changed stream (out ids, signalled) */
	for (int li = 0; li < 2; li++) {
		if (!re[li] && leg_sync(t, s, li) != 0) {
			mark_pending(t, s);
			repointed = false;
		}
	}
	free(pl->codecs);
	pl->codecs = codecs;
	s->last_ns = now_ns;
	if (!re[pidx]) /* a new socket's entries have no peer anyway */
		pf_leg_asymmetric(t, s, pidx, saved.asymmetric);
	ctl_session_mark(s, sidx, weak, is_update);
	session_check_complete(t, s);
	for (int li = 0; li < 2; li++) {
		if (!re[li])
			continue;
		log_resocket(t, s, li, &old[li]);
		/* nothing may point at the old streams when they go: if the
		 * re-pointing UPDATE waits, so do the DELs */
		if (old[li].port != 0)
			sock_release(t, s, li, &old[li], repointed);
	}
	if (!is_update && sig->has_remote && pl->port != 0 &&
	    pl->remote.family != pl->family) {
		char ra[ADDR_STRLEN];

		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "leg %d: answer signals %s on its %s port %u, "
			     "given out already: peer learnt from packets "
			     "until the next offer", pidx,
			     addr_str(&pl->remote, ra, sizeof(ra)),
			     family_name(pl->family), pl->port);
	}
	return 0;
undo:
	for (int li = 1; li >= 0; li--) {
		if (!re[li])
			continue;
		leg_release(t, s, li);
		sock_restore(&s->leg[li], &old[li]);
	}
	pl->remote = saved.remote;
	pl->has_remote = saved.has_remote;
	pl->onhold = saved.onhold;
	pl->asymmetric = saved.asymmetric;
	pl->ptime = saved.ptime;
	sl->laddr = saved_laddr;
	sl->pinned = saved_pinned;
	free(codecs);
	return rc;
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

/* Newest activity: last U/L, or the newest packet on any stream. While
 * control has no dataplane, the time since it lost it counts as
 * activity (no session ages then, see ctl_session.h). */
static uint64_t
session_last(const struct ctl_sessions *t, const struct ctl_session *s)
{
	uint64_t last = s->last_ns;

	if (t->detached && t->now_ns > t->lost_ns)
		last += t->now_ns - t->lost_ns;

	for (int li = 0; li < 2; li++) {
		const struct ctl_stream *sts[2] = {&s->leg[li].rtp,
						   &s->leg[li].rtcp};

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
	clock_seen(t, now_ns);
	s->ttl_ns = (uint64_t)ttl_s * CTL_NS_PER_S;
	s->last_ns = now_ns;
	ctl_log_call(CTL_LOG_INFO, s->call_id, "session ttl set to %u s, tag %s",
		     ttl_s, s->from_tag);
}

int
ctl_session_set_notify(struct ctl_sessions *t, struct ctl_session *s,
		       int target, const char *tag)
{
	char *copy = NULL;

	(void)t;
	if (target >= 0) {
		copy = strdup(tag != NULL ? tag : "");
		if (copy == NULL)
			return -ENOMEM;
	}
	free(s->notify_tag);
	s->notify_tag = copy;
	s->notify_target = target >= 0 ? target : -1;
	return 0;
}

void
ctl_sessions_now(struct ctl_sessions *t, uint64_t now_ns)
{
	clock_seen(t, now_ns);
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

	clock_seen(t, now_ns);
	if (!ctl_dp_ready(t->cfg.dp)) {
		/* no dataplane: no aging, no timeout notification (the media
		 * may flow again as soon as one is back) */
		pps_update(t, now_ns);
		return 0;
	}
	all = all_sessions(t);
	for (guint i = 0; i < all->len; i++) {
		struct ctl_session *s = all->pdata[i];
		uint64_t last = session_last(t, s);

		if (now_ns <= last || now_ns - last <= ctl_session_ttl_ns(t, s))
			continue;
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "session timeout, tag %s, ports %u/%u%s",
			     s->from_tag, s->leg[0].port, s->leg[1].port,
			     s->complete ? "" : " (setup, -W)");
		t->c.timeouts++;
		/* rtpproxy rtpp_proc_ttl: the notify tag on the target */
		if (s->notify_target >= 0 && t->cfg.on_timeout != NULL)
			t->cfg.on_timeout(s->notify_target, s->notify_tag,
					  s->call_id, t->cfg.timeout_arg);
		session_destroy(t, s);
		n++;
	}
	g_ptr_array_unref(all);
	orphans_expire(t, now_ns);
	ctl_sessions_flush(t);
	pps_update(t, now_ns);
	return n;
}

/* Retry the DELs of one grave; true when it is done (then freed). */
static bool
grave_retry(struct ctl_sessions *t, struct grave *g)
{
	for (int k = 0; k < 2; k++) {
		if (!g->waiting[k])
			continue;
		if (dp_del(t, g->id[k], &g->local[k], true) != 0)
			return false;
		g->waiting[k] = false;
	}
	ctl_ports_free(addr_pool(t, g->laddr), g->port);
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
		rc = session_sync(t, s);
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
			stream_keep_past(t, &s->leg[li].rtp, &s->last_ns);
			stream_keep_past(t, &s->leg[li].rtcp, &s->last_ns);
		}
	}
	/* deferred DELs: their streams' counts join the deleted ones' */
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
		if (relay_check(t, (int)i) == -ENOENT)
			ctl_log(CTL_LOG_WARN, "%s: sessions on it are refused "
				"(E72/E71) until the dataplane serves it",
				t->why);
	}
	t->why[0] = '\0';
}

void
ctl_sessions_replay(struct ctl_sessions *t)
{
	uint32_t n = ctl_dp_n_workers(t->cfg.dp);
	GPtrArray *all = all_sessions(t);
	struct grave *g;
	struct ctl_session *s;

	const struct ctl_dp_found *found;
	size_t n_found = ctl_dp_found_streams(t->cfg.dp, &found), n_own = 0;

	/* the ids and deferred DELs belong to the dataplane as it was; the
	 * streams it still holds are in found */
	while ((g = g_queue_pop_head(&t->graves)) != NULL) {
		ctl_ports_free(addr_pool(t, g->laddr), g->port);
		g_free(g);
	}
	orphans_drop(t, false);
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
		/* ring full: deleted by the next tick; its counters went to
		 * its stream's past when control lost this dataplane */
		if (dp_del(t, found[i].id, &found[i].ident.local, false) != 0)
			orphan_adopt(t, &found[i], true);
	}
	while ((s = g_queue_pop_head(&t->pending)) != NULL)
		s->pending = false;
	for (guint i = 0; i < all->len; i++) {
		s = all->pdata[i];
		for (int li = 0; li < 2; li++) {
			struct ctl_leg *l = &s->leg[li];
			struct ctl_stream rtp = l->rtp, rtcp = l->rtcp;

			/* new ids; what earlier dataplanes counted and the
			 * latched peers stay: the ADDs restore the peers
			 * (§4.9), and the prefilter keeps them meanwhile */
			memset(&l->rtp, 0, sizeof(l->rtp));
			memset(&l->rtcp, 0, sizeof(l->rtcp));
			l->rtp.past = rtp.past;
			l->rtcp.past = rtcp.past;
			l->rtp.latched = rtp.latched;
			l->rtp.latched_ssrc = rtp.latched_ssrc;
			l->rtcp.latched = rtcp.latched;
			l->rtcp.latched_ssrc = rtcp.latched_ssrc;
			pf_stream_latch(t, s, li, false, &rtp.latched, rtp.latched_ssrc);
			pf_stream_latch(t, s, li, true, &rtcp.latched, rtcp.latched_ssrc);
		}
		if (n == 0)
			continue;
		/* the new dataplane's steering decides, or round robin */
		s->owner = t->rr++ % n;
		for (int li = 0; li < 2; li++) {
			int w = s->leg[li].port != 0 ?
				port_worker(t, s->leg[li].laddr, s->leg[li].port) : -1;

			if (w >= 0) {
				s->owner = (uint32_t)w;
				break;
			}
		}
		if (session_sync(t, s) != 0)
			mark_pending(t, s);
	}
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

void
ctl_sessions_latch(struct ctl_sessions *t, const struct rtpb_msg_ev_latch *ev)
{
	uint64_t serial = ev->cookie >> 2;
	int li = (int)((ev->cookie >> 1) & 1);
	bool rtcp = ev->cookie & 1;
	struct ctl_session *s = g_hash_table_lookup(t->by_serial, &serial);
	struct ctl_stream *st;
	const char *kind;
	char pa[ADDR_STRLEN], oa[ADDR_STRLEN];

	if (s == NULL)
		return;
	st = rtcp ? &s->leg[li].rtcp : &s->leg[li].rtp;
	if (!st->has_id || st->id != ev->stream_id)
		return; /* deleted, re-created or moved since */
	st->latched = ev->peer;
	st->latched_ssrc = ev->ssrc;
	/* the prefilter budgets other sources from now on (§5); an
	 * asymmetric leg has no peer there (§4.7) */
	if (!s->leg[li].asymmetric)
		pf_stream_latch(t, s, li, rtcp, &ev->peer, ev->ssrc);
	kind = rtcp ? "RTCP " : "";
	addr_str(&ev->peer, pa, sizeof(pa));
	addr_str(&ev->old, oa, sizeof(oa));
	s->latches++;
	t->c.latches++;
	switch (ev->reason) {
	case RTPB_LATCH_REVERT:
		s->reverts++;
		t->c.reverts++;
		if (ev->refused.family != RTPB_AF_NONE) {
			char ra[ADDR_STRLEN];

			addr_str(&ev->refused, ra, sizeof(ra));
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

/* ctl_pf_reconcile() judge: is local one of the relay sockets in keep? */
static bool
pf_keep(const struct rtpb_addr *local, void *arg)
{
	struct rtpb_addr k;

	memset(&k, 0, sizeof(k));
	k.family = local->family;
	k.port = local->port;
	memcpy(k.ip, local->ip, sizeof(k.ip));
	return g_hash_table_contains(arg, &k);
}

static guint
addr_hash(gconstpointer p)
{
	return rtpb_addr_hash(p);
}

static gboolean
addr_equal(gconstpointer a, gconstpointer b)
{
	return rtpb_addr_eq(a, b);
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
	keep = g_hash_table_new_full(addr_hash, addr_equal, g_free, NULL);
	for (GList *o = t->orphans.head; o != NULL; o = o->next) {
		const struct orphan *x = o->data;

		if (x->in_pf)
			g_hash_table_add(keep, g_memdup2(&x->local, sizeof(x->local)));
	}
	g_hash_table_iter_init(&it, t->by_serial);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct ctl_session *s = v;

		for (int li = 0; li < 2; li++) {
			const struct ctl_leg *l = &s->leg[li];

			if (!l->in_pf)
				continue;
			for (int rtcp = 0; rtcp < 2; rtcp++) {
				struct rtpb_addr *a;

				a = g_new0(struct rtpb_addr, 1);
				pf_local(t, l->laddr, l->port, rtcp, a);
				g_hash_table_add(keep, a);
			}
		}
	}
	n = ctl_pf_reconcile(t->cfg.pf, pf_keep, keep);
	g_hash_table_destroy(keep);
	return n;
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
	c->legs = 0;
	g_hash_table_iter_init(&it, t->by_serial);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct ctl_session *s = v;

		for (int li = 0; li < 2; li++) {
			const struct ctl_stream *sts[2] = {&s->leg[li].rtp,
							   &s->leg[li].rtcp};

			/* rtpproxy "active streams": its RTP stream
			 * objects, two per session from the start */
			c->streams++;
			if (s->leg[li].port != 0)
				c->legs++;
			for (int k = 0; k < 2; k++) {
				struct rtpb_stream_stats sc;

				stream_counts(t, sts[k], &sc);
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
	uint64_t last = session_last(t, s);
	uint64_t idle = now_ns > last ? now_ns - last : 0;
	uint64_t ttl = ctl_session_ttl_ns(t, s);

	memset(q, 0, sizeof(*q));
	/* seconds left, rounded up: a fresh session shows the full TTL */
	q->ttl_s = idle >= ttl ? 0
			       : (int64_t)((ttl - idle + CTL_NS_PER_S - 1) / CTL_NS_PER_S);
	/* all dataplane generations: never back across a restart */
	stream_counts(t, &s->leg[idx].rtp, &a);
	stream_counts(t, &s->leg[!idx].rtp, &o);
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

const char *
ctl_sessions_why(const struct ctl_sessions *t)
{
	return t->why[0] != '\0' ? t->why : NULL;
}
