/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_fork.c: forking to a remote address, see ctl_fork.h. The target's
 * parse, the fork's port pair, and its reconciliation (what each stream
 * tells the dataplane, called by ctl_reconcile.c after the stream's own
 * ADD/UPDATE).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl_addrs.h"
#include "ctl_log.h"
#include "ctl_session_pvt.h"

bool
ctl_fork_is_remote(const char *spec)
{
	return strncmp(spec, "udp:", 4) == 0 || strncmp(spec, "udp6:", 5) == 0;
}

/* Unspecified address (0.0.0.0, ::): never a target. */
static bool
addr_unspecified(const struct rtpb_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == RTPB_AF_INET ? 4 : 16) == 0;
}

int
ctl_fork_parse_target(const char *spec, bool rtcp, struct rtpb_addr *target,
		      char *why, size_t whysz)
{
	bool v6 = strncmp(spec, "udp6:", 5) == 0;
	const char *host = spec + (v6 ? 5 : 4), *colon = strrchr(host, ':');
	uint8_t fam = v6 ? RTPB_AF_INET6 : RTPB_AF_INET;
	size_t n;
	uint16_t port;
	struct rtpb_addr other;

	if (!ctl_fork_is_remote(spec) || colon == NULL) {
		snprintf(why, whysz, "remote target must be udp:host:port");
		return -EINVAL;
	}
	n = (size_t)(colon - host);
	if (ctl_addrs_parse_ip(host, n, fam, target) != 0) {
		/* the other family's address: say so */
		if (ctl_addrs_parse_ip(host, n, v6 ? RTPB_AF_INET : RTPB_AF_INET6,
				       &other) == 0) {
			snprintf(why, whysz, "%s target is not an %s address",
				 v6 ? "udp6:" : "udp:", v6 ? "IPv6" : "IPv4");
			return -EAFNOSUPPORT;
		}
		snprintf(why, whysz, "remote target host is not a numeric "
			 "address");
		return -EINVAL;
	}
	if (addr_unspecified(target)) {
		snprintf(why, whysz, "remote target host is unspecified");
		return -EINVAL;
	}
	/* rtpproxy ropen_remote_ctor_pa(): the RTCP target is port + 1 */
	if (ctl_addrs_parse_port(colon + 1, &port) != 0 || port == 0 ||
	    (rtcp && port == 65535)) {
		snprintf(why, whysz, "invalid port in the remote recording "
			 "target specification");
		return -EINVAL;
	}
	target->port = htons(port);
	return 0;
}

/* The relay address a fork of leg l to a target of family fam goes
 * from: the leg's own if of that family, else the family's default. */
static int
fork_laddr(const struct ctl_sessions *t, const struct ctl_leg *l, uint8_t fam)
{
	if ((l->sock.port != 0 || l->pinned) &&
	    ctl_addrs_family(&t->addrs, l->sock.laddr) == fam)
		return l->sock.laddr;
	return ctl_addrs_default(&t->addrs, fam);
}

int
ctl_session_set_fork(struct ctl_sessions *t, struct ctl_session *s, int li,
		     const struct rtpb_addr *target, bool rtcp,
		     struct ctl_session_err *err)
{
	struct ctl_leg *l = &s->leg[li];
	struct ctl_ports *pool;
	uint16_t port;
	int laddr, rc;

	if (l->fork.port != 0)
		return ctl_session_err_set(err, -EALREADY, "the party forks already");
	if (ctl_addrs_find_ip(&t->addrs, target) >= 0)
		return ctl_session_err_set(err, -EINVAL, "remote target is one of "
					   "the relay's own addresses");
	laddr = fork_laddr(t, l, target->family);
	if (laddr < 0)
		return ctl_alloc_no_family(target->family, err);
	rc = ctl_alloc_check(t, laddr, err);
	if (rc != 0)
		return rc;
	pool = ctl_alloc_pool(t, laddr);
	if (ctl_ports_alloc(pool, &port) != 0)
		return ctl_session_err_set(err, -ENOSPC, "no free %s port pair "
					   "for the fork",
					   ctl_alloc_family_name(target->family));
	l->fork = (struct ctl_fork){.port = port, .laddr = (uint8_t)laddr,
				    .rtcp = rtcp, .target = *target};
	if (ctl_rec_leg(t, s, s->leg, li) != 0)
		ctl_rec_pending(t, s);
	return 0;
}

/* Give the fork's port pair back (not a borrowed one: another
 * session's socket). */
static void
fork_port_free(struct ctl_sessions *t, struct ctl_fork *f)
{
	if (f->port == 0)
		return;
	if (!f->borrowed)
		ctl_ports_free(ctl_alloc_pool(t, f->laddr), f->port);
	memset(f, 0, sizeof(*f));
}

/* The peer of leg l to send copies to: its signalled address, else the
 * one its RTP stream latched to; false if neither is known. */
static bool
leg_peer(const struct ctl_leg *l, struct rtpb_addr *a)
{
	if (l->has_remote && !l->onhold && l->remote.family == l->sock.family)
		*a = l->remote;
	else if (l->sock.rtp.latched.family == l->sock.family)
		*a = l->sock.rtp.latched;
	else
		return false;
	return true;
}

int
ctl_session_fork_into(struct ctl_sessions *t, struct ctl_session *src,
		      int sidx, struct ctl_session *tgt, int in_leg,
		      struct ctl_session_err *err)
{
	struct rtpb_addr peer[2];
	int sl[2] = {sidx, !sidx}, tl[2] = {in_leg, !in_leg};

	if (src == tgt)
		return ctl_session_err_set(err, -EINVAL, "a session cannot fork "
					   "into itself");
	for (int j = 0; j < 2; j++) {
		if (src->leg[sl[j]].fork.port != 0)
			return ctl_session_err_set(err, -EALREADY, "leg %d of the "
						   "forked session forks already",
						   sl[j]);
		if (tgt->leg[tl[j]].sock.port == 0 || !leg_peer(&tgt->leg[tl[j]], &peer[j]))
			return ctl_session_err_set(err, -EINVAL, "leg %d has no socket "
						   "or no known peer", tl[j]);
	}
	for (int j = 0; j < 2; j++) {
		const struct ctl_sock *k = &tgt->leg[tl[j]].sock;

		src->leg[sl[j]].fork = (struct ctl_fork){
			.port = k->port, .laddr = k->laddr, .rtcp = true,
			.target = peer[j], .borrowed = true};
		tgt->leg[tl[j]].tap = (struct ctl_fork_tap){
			.serial = src->serial, .leg = (uint8_t)sl[j]};
		if (ctl_rec_leg(t, src, src->leg, sl[j]) != 0)
			ctl_rec_pending(t, src);
	}
	return 0;
}

int
ctl_session_clear_fork(struct ctl_sessions *t, struct ctl_session *s, int li)
{
	struct ctl_leg *l = &s->leg[li];

	if (l->fork.port == 0)
		return -ENOENT;
	/* the pair is free at once: until the dataplane takes the stop
	 * (retried if the ring is full), copies may still leave from it */
	fork_port_free(t, &l->fork);
	if (ctl_rec_leg(t, s, s->leg, li) != 0)
		ctl_rec_pending(t, s);
	return 0;
}

void
ctl_fork_release(struct ctl_sessions *t, struct ctl_session *s, int li)
{
	const struct ctl_leg *l = &s->leg[li];
	struct ctl_session *src;

	/* "&& C" into this leg: the forking session stops sending from its
	 * socket, before the socket's port can be reused */
	src = l->tap.serial != 0 ? ctl_sessions_by_serial(t, l->tap.serial) : NULL;
	if (src != NULL && src->leg[l->tap.leg].fork.borrowed &&
	    src->leg[l->tap.leg].fork.port == l->sock.port &&
	    src->leg[l->tap.leg].fork.laddr == l->sock.laddr)
		ctl_session_clear_fork(t, src, l->tap.leg);
	fork_port_free(t, &s->leg[li].fork);
}

int
ctl_fork_sync(struct ctl_sessions *t, struct ctl_leg legs[2], int li, bool rtcp)
{
	struct ctl_leg *l = &legs[li];
	struct ctl_stream *st = rtcp ? &l->sock.rtcp : &l->sock.rtp;
	bool want = l->fork.port != 0 && (!rtcp || l->fork.rtcp);
	struct rtpb_msg_stream_fork m;
	int rc;

	if (!st->in_dp)
		return 0; /* its ADD tells nothing; after it, this */
	memset(&m, 0, sizeof(m));
	m.stream_id = st->id;
	m.cookie = st->sent.cookie;
	if (want) {
		m.flags = RTPB_FORK_F_ON;
		ctl_alloc_relay_addr(t, l->fork.laddr,
				     (uint16_t)(l->fork.port + (rtcp ? 1 : 0)), &m.local);
		m.target = l->fork.target;
		if (rtcp)
			m.target.port = htons((uint16_t)(ntohs(m.target.port) + 1));
		if (rtpb_addr_eq(&st->fork_told, &m.target) &&
		    st->fork_told_port == m.local.port)
			return 0;
	} else {
		if (st->fork_told.family == RTPB_AF_NONE)
			return 0;
		m.local = st->sent.local; /* any relay socket: the stream's */
	}
	rc = ctl_dp_fork_push(t->cfg.dp, &m);
	if (rc != 0) {
		t->c.push_fail++;
		return rc;
	}
	st->fork_told = m.target; /* zero (family NONE) when stopped */
	st->fork_told_port = want ? m.local.port : 0;
	return 0;
}
