/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_sock.h: control sockets (rtpproxy -s), and serving them.
 *
 * Kinds (rtpproxy src/rtpp_controlfd.c):
 *  - udp:HOST[:PORT], udp6:HOST[:PORT] / udp6:[HOST]:PORT: one command
 *    per datagram, cookie first, reply to the sender from the same
 *    socket; default port 22222, HOST "*" = all addresses.
 *  - tcp:HOST[:PORT], tcp6:HOST[:PORT] / tcp6:[HOST]:PORT: stream,
 *    many '\n'-terminated commands per connection, no cookie (rtpproxy
 *    RTPC_TCP4/RTPC_TCP6, continuous like cunix:).
 *  - unix:/path (or a bare /path): stream, one read, one command, one
 *    reply, then close (Kamailio's unix: mode).
 *  - cunix:/path: stream, many '\n'-terminated commands per connection.
 * On the continuous kinds (tcp, tcp6, cunix) a line is a command once
 * its '\n' arrived; what is left unterminated at EOF is dropped, as
 * rtpproxy does; a line longer than 8 KiB is E5 and ends the connection.
 * All sockets are non-blocking and served from control's single poll()
 * loop; a one-shot connection silent for CTL_SOCK_IDLE_NS is closed.
 *
 * Exhaustion (DESIGN.md §8, issue 16): a continuous connection silent
 * for the idle limit (CTL_SOCK_CONT_IDLE_NS by default) is closed; one
 * client (tcp: its IP address, cunix: its uid) holds at most the per-peer
 * limit of continuous connections (CTL_SOCK_PER_PEER); when all
 * CTL_SOCK_MAX_CONN slots are taken, a new connection closes the one
 * silent the longest if it has been silent for a second, else it is
 * refused. Refused and evicted connections are counted and logged once
 * a second at most.
 */
#ifndef CTL_SOCK_H
#define CTL_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "ctl_cmd_exec.h"

#define CTL_SOCK_DEFAULT_PORT 22222 /**< rtpproxy CPORT */
#define CTL_SOCK_MAX_LISTEN 16      /**< -s given at most this often */
#define CTL_SOCK_MAX_CONN 256       /**< open stream connections */
#define CTL_SOCK_IDLE_NS (10ULL * 1000000000ULL) /**< one-shot timeout */
/** Default silence after which a continuous connection is closed. */
#define CTL_SOCK_CONT_IDLE_NS (60ULL * 1000000000ULL)
/** Default continuous connections per client. */
#define CTL_SOCK_PER_PEER 64

/** Control socket kinds. */
enum ctl_sock_kind {
	CTL_SOCK_UDP,   /**< udp: (IPv4 datagram, cookie) */
	CTL_SOCK_UDP6,  /**< udp6: (IPv6 datagram, cookie) */
	CTL_SOCK_UNIX,  /**< unix: one command per connection */
	CTL_SOCK_CUNIX, /**< cunix: continuous, line per command */
	CTL_SOCK_TCP,   /**< tcp: (IPv4 stream, continuous) */
	CTL_SOCK_TCP6,  /**< tcp6: (IPv6 stream, continuous) */
};

/** A parsed -s argument. */
struct ctl_sock_spec {
	enum ctl_sock_kind kind;
	struct sockaddr_storage addr; /**< udp/udp6/tcp/tcp6: bind address */
	socklen_t addrlen;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /**< unix */
	int mode;   /**< unix, cunix: chmod after bind (rtpproxy -w), -1 none */
	int uid;    /**< unix, cunix: chown after bind (rtpproxy -u), -1 none */
	int gid;    /**< as uid */
};

/** CLOCK_MONOTONIC in ns. */
static inline uint64_t
ctl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/**
 * Parse an rtpproxy -s argument.
 * @param err out: a message for the user on failure.
 * @return 0, or -EINVAL (bad form), -ENOTSUP (a kind not supported:
 *         stdio:, stdioc:, systemd:, fd:).
 */
int ctl_sock_parse(const char *s, struct ctl_sock_spec *spec, char *err,
		   size_t errsz);

/** "udp", "udp6", "unix", "cunix", "tcp", "tcp6". */
const char *ctl_sock_kind_name(enum ctl_sock_kind kind);

/** True for the datagram kinds (rtpproxy RTPP_CTRL_ISDG()). */
bool ctl_sock_is_datagram(enum ctl_sock_kind kind);

struct ctl_socks;

/** An empty set of listeners. @return NULL on ENOMEM. */
struct ctl_socks *ctl_socks_create(void);

/**
 * Limits of stream connections (see the top): idle_ns the silence after
 * which a continuous connection is closed, per_peer the continuous
 * connections one client may hold; 0 keeps a default.
 */
void ctl_socks_set_limits(struct ctl_socks *ss, uint64_t idle_ns,
			  unsigned per_peer);

/** Stream connections refused (per-peer limit, or all slots busy) and
 *  closed to make room (the longest silent), since creation. */
struct ctl_socks_counters {
	uint64_t refused;
	uint64_t evicted;
	uint64_t idle_closed; /**< continuous ones closed for silence */
};

/** Copy the counters. */
void ctl_socks_counters(const struct ctl_socks *ss,
			struct ctl_socks_counters *c);

/**
 * Open a listener (a unix path is unlinked first, as rtpproxy does).
 * @return 0, or -errno of the failing socket/bind/listen/chmod/chown (or
 *         -ENOSPC after CTL_SOCK_MAX_LISTEN listeners).
 */
int ctl_socks_listen(struct ctl_socks *ss, const struct ctl_sock_spec *spec);

/**
 * The address listener i (0-based, in ctl_socks_listen() order) is
 * bound to: the kernel's choice of an ephemeral port included (tests
 * bind port 0). @return 0, or -ENOENT (no such inet listener).
 */
int ctl_socks_local(const struct ctl_socks *ss, int i,
		    struct sockaddr_storage *a, socklen_t *len);

/**
 * Wait up to timeout_ns (ppoll(): ns resolution, within the thread's
 * timer slack, 50 us by default) for commands and answer every one that
 * came, through ex.
 * @param idle_ns out: ns spent waiting in ppoll() (for the load figure).
 * @return commands handled, or -errno if ppoll() failed (not EINTR).
 */
int ctl_socks_run(struct ctl_socks *ss, struct ctl_exec *ex, uint64_t timeout_ns,
		  uint64_t *idle_ns);

/** Close one-shot connections idle for CTL_SOCK_IDLE_NS, continuous
 *  ones silent for the idle limit (ctl_socks_set_limits()). */
void ctl_socks_tick(struct ctl_socks *ss, uint64_t now_ns);

/** Close everything, unlink unix paths, free (NULL is fine). */
void ctl_socks_destroy(struct ctl_socks *ss);

#endif /* CTL_SOCK_H */
