/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_alloc.c: a new relay socket for a leg (ctl_session_pvt.h): which
 * relay address (the command's choice, else its family's default), a
 * free port pair of its pool, the session's owner worker from NIC
 * steering or round robin, --port-spill. Failures are returned with
 * their reason (struct ctl_session_err); nothing here pushes anything:
 * the socket goes into a desired state the caller commits or drops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_log.h"
#include "ctl_session_pvt.h"

/* Free pairs looked at for one whose RTP port the NIC steers to the
 * session's worker: 1 in n_workers is, so 256 miss with 16 workers once
 * in ~15 million (ctl_session.h). */
#define CTL_STEER_TRIES 256

const char *
ctl_alloc_family_name(uint8_t family)
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
struct ctl_ports *
ctl_alloc_pool(const struct ctl_sessions *t, int laddr)
{
	if (laddr < 0 || (uint32_t)laddr >= t->addrs.n)
		return NULL;
	if (t->cfg.addr_ports[laddr] != NULL)
		return t->cfg.addr_ports[laddr];
	return family_pool(t, ctl_addrs_family(&t->addrs, laddr));
}

/* A relay address and a pool of that family? */
bool
ctl_alloc_family_ok(const struct ctl_sessions *t, uint8_t family)
{
	return ctl_alloc_pool(t, ctl_addrs_default(&t->addrs, family)) != NULL;
}

/* Relay address laddr (index in the table) with port (host order). */
void
ctl_alloc_relay_addr(const struct ctl_sessions *t, uint8_t laddr, uint16_t port,
	   struct rtpb_addr *a)
{
	*a = t->addrs.a[laddr].ip;
	a->port = htons(port);
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
int
ctl_alloc_leg_addr(const struct ctl_sessions *t, const struct ctl_leg *l, uint8_t want)
{
	if (l->pinned)
		return l->sock.laddr;
	if (l->has_remote && ctl_alloc_family_ok(t, l->remote.family))
		return ctl_addrs_default(&t->addrs, l->remote.family);
	return ctl_alloc_family_ok(t, want) ? ctl_addrs_default(&t->addrs, want) : -1;
}

/* No relay address of family. @return -EAFNOSUPPORT. */
int
ctl_alloc_no_family(uint8_t family, struct ctl_session_err *err)
{
	return ctl_session_err_set(err, -EAFNOSUPPORT, "no %s relay address",
				   ctl_alloc_family_name(family));
}

/*
 * Relay address laddr is usable: configured with a pool, and served by
 * the attached dataplane (its addrs[]). err (may be NULL) gets the
 * reason.
 * @return 0, -EAFNOSUPPORT, -ENOENT or -ENOTCONN.
 */
int
ctl_alloc_check(const struct ctl_sessions *t, int laddr,
		struct ctl_session_err *err)
{
	struct rtpb_addr a;
	char buf[INET6_ADDRSTRLEN];
	int rc;

	if (laddr < 0 || (uint32_t)laddr >= t->addrs.n)
		return ctl_alloc_no_family(RTPB_AF_NONE, err);
	if (ctl_alloc_pool(t, laddr) == NULL)
		return ctl_alloc_no_family(ctl_addrs_family(&t->addrs, laddr), err);
	ctl_alloc_relay_addr(t, (uint8_t)laddr, 0, &a);
	rc = ctl_dp_addr_index(t->cfg.dp, &a);
	if (rc == -ENOENT)
		return ctl_session_err_set(err, rc,
					   "relay address %s not served by the "
					   "dataplane",
					   host_str(&a, buf, sizeof(buf)));
	return rc < 0 ? ctl_session_err_set(err, rc, NULL) : 0;
}

/* The worker the NIC steers laddr:port (host order) to, or -1 (no
 * steering known). */
int
ctl_alloc_port_worker(const struct ctl_sessions *t, int laddr, uint16_t port)
{
	struct rtpb_addr a;

	ctl_alloc_relay_addr(t, (uint8_t)laddr, port, &a);
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

	return ctl_alloc_port_worker(w->t, w->laddr, port) == w->worker;
}

static bool
steer_healthy(uint16_t port, void *arg)
{
	const struct steer_want *w = arg;
	int k = ctl_alloc_port_worker(w->t, w->laddr, port);

	return k >= 0 && !(w->stalled & (1u << k));
}

/* Round robin over the workers, passing over stalled ones
 * (ctl_dp_workers_stalled()) unless all are. */
uint32_t
ctl_alloc_owner(struct ctl_sessions *t, uint32_t n)
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
	struct ctl_ports *pool = ctl_alloc_pool(t, laddr);
	struct steer_want want = {.t = t, .laddr = laddr,
				  .worker = (int)s->owner,
				  .stalled = ctl_dp_workers_stalled(t->cfg.dp, NULL)};
	int rc, w;

	if (s->owner_open) {
		/* a new session goes to a worker that runs, if the NIC
		 * steers a free pair to one */
		rc = -ENOENT;
		if (want.stalled != 0 && ctl_alloc_port_worker(t, laddr, 0) >= 0)
			rc = ctl_ports_alloc_if(pool, steer_healthy, &want,
						CTL_STEER_TRIES, port);
		if (rc == -ENOENT)
			rc = ctl_ports_alloc(pool, port);
		if (rc == 0 && (w = ctl_alloc_port_worker(t, laddr, *port)) >= 0)
			s->owner = (uint32_t)w;
		if (rc == 0)
			s->owner_open = false;
		return rc;
	}
	if (ctl_alloc_port_worker(t, laddr, 0) < 0)
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

	for (uint32_t k = 1; k < t->addrs.n; k++) {
		int a = (int)((uint32_t)laddr + k) % (int)t->addrs.n;

		if (ctl_addrs_family(&t->addrs, a) == family &&
		    t->cfg.addr_ports[a] != NULL &&
		    ctl_alloc_check(t, a, NULL) == 0 &&
		    addr_take(t, s, a, port) == 0)
			return a;
	}
	return -1;
}

/*
 * A new socket for a leg of s on relay address laddr, into k (a desired
 * state the caller commits or releases with ctl_rec_sock_release()):
 * a port pair, nothing told yet. With spill (the command did not choose
 * laddr) and ctl_sessions_cfg.spill, a full laddr lends the leg to
 * another address of its family (spill_pair()).
 * @return 0, or -ENOTCONN, -ENOENT, -EAFNOSUPPORT (ctl_alloc_check()),
 *         -ENOSPC (the address's pool is empty), with err filled.
 */
int
ctl_alloc_sock(struct ctl_sessions *t, struct ctl_session *s, int laddr,
	       bool spill, struct ctl_sock *k, struct ctl_session_err *err)
{
	uint16_t port;
	uint8_t family;
	int rc, a;

	if (!ctl_dp_ready(t->cfg.dp))
		return ctl_session_err_set(err, -ENOTCONN, NULL);
	rc = ctl_alloc_check(t, laddr, err);
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
	if (rc != 0)
		return ctl_session_err_set(err, rc, "no free %s port pair on %s",
					   ctl_alloc_family_name(family),
					   t->addrs.a[laddr].text);
	*k = (struct ctl_sock){
		.port = port,
		.family = family,
		.laddr = (uint8_t)laddr,
	};
	return 0;
}

/*
 * The relay address leg l must move to now, or -1: a leg with a port,
 * on an address the command did not choose, whose party signals
 * (remote) another, configured family: that family's default address.
 */
int
ctl_alloc_move_family(const struct ctl_sessions *t, const struct ctl_leg *l,
	    const struct rtpb_addr *remote)
{
	if (l->sock.port == 0 || l->pinned || remote->family == l->sock.family ||
	    !ctl_alloc_family_ok(t, remote->family))
		return -1;
	return ctl_addrs_default(&t->addrs, remote->family);
}
