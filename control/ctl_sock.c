/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_sock.c: control listeners and connections, see ctl_sock.h.
 *
 * One table of entries (listeners first, then accepted connections) and
 * a pollfd array rebuilt from it before each poll(). Replies to stream
 * connections are written once, non-blocking: they are at most ~1 KiB
 * and a client that does not read them loses them (then the connection
 * is closed). Each command is handed to the executor with its sender's
 * address (udp: the datagram's source, tcp: the peer; NULL for unix) and
 * the listener's own address when it is not a wildcard, for rtpproxy's
 * %%CC_SELF%% notify targets. Control's thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_addrs.h"
#include "ctl_log.h"
#include "ctl_sock.h"

#define DGRAM_BURST 64 /* datagrams read per socket per poll round */
#define DGRAM_BATCH 64 /* datagrams per recvmmsg()/sendmmsg(): one wait
			* for the dataplane for a SIP proxy's 64 in flight */
#define OUT_MAX (CTL_CMD_BUFLEN + CTL_REPLY_MAX + 2) /* cookie + reply */

enum ent_kind {
	ENT_FREE = 0,
	ENT_LISTEN_DGRAM,
	ENT_LISTEN_UNIX,  /* one-shot connections */
	ENT_LISTEN_CUNIX, /* continuous connections */
	ENT_LISTEN_TCP,   /* continuous connections */
	ENT_CONN_ONESHOT,
	ENT_CONN_CONT,
};

struct ent {
	enum ent_kind kind;
	int fd;
	uint64_t t_ns;   /* connections: accepted or last read */
	uint8_t who[17]; /* continuous: the client (peer_of()) */
	char *buf;       /* continuous: partial line, CTL_CMD_BUFLEN + 1 */
	size_t blen;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* unlink */
	struct sockaddr_storage peer;  /* tcp connections: the client */
	struct sockaddr_storage local; /* inet: own address, if specific */
	bool has_peer;
	bool has_local;
};

struct ctl_socks {
	struct ent ent[CTL_SOCK_MAX_LISTEN + CTL_SOCK_MAX_CONN];
	struct pollfd pfd[CTL_SOCK_MAX_LISTEN + CTL_SOCK_MAX_CONN];
	int map[CTL_SOCK_MAX_LISTEN + CTL_SOCK_MAX_CONN]; /* pfd -> ent */
	char in[CTL_CMD_BUFLEN + 2];
	char out[OUT_MAX];
	/* one batch of datagrams: read with one recvmmsg(), answered with
	 * one sendmmsg() after one wait for the dataplane */
	char bin[DGRAM_BATCH][CTL_CMD_BUFLEN + 2];
	char bout[DGRAM_BATCH][OUT_MAX];
	struct sockaddr_storage bfrom[DGRAM_BATCH];
	struct iovec biov[DGRAM_BATCH];
	struct mmsghdr bmsg[DGRAM_BATCH];
	uint64_t cont_idle_ns; /* ctl_socks_set_limits() */
	unsigned per_peer;
	struct ctl_socks_counters c;
	struct ctl_log_limit log_refused, log_evicted;
};

#define NENT (CTL_SOCK_MAX_LISTEN + CTL_SOCK_MAX_CONN)

bool
ctl_sock_is_datagram(enum ctl_sock_kind kind)
{
	return kind == CTL_SOCK_UDP || kind == CTL_SOCK_UDP6;
}

static bool
is_inet_stream(enum ctl_sock_kind kind)
{
	return kind == CTL_SOCK_TCP || kind == CTL_SOCK_TCP6;
}

const char *
ctl_sock_kind_name(enum ctl_sock_kind kind)
{
	switch (kind) {
	case CTL_SOCK_UDP: return "udp";
	case CTL_SOCK_UDP6: return "udp6";
	case CTL_SOCK_UNIX: return "unix";
	case CTL_SOCK_CUNIX: return "cunix";
	case CTL_SOCK_TCP: return "tcp";
	case CTL_SOCK_TCP6: return "tcp6";
	default: return "?";
	}
}

/* Resolve host (or "*") for binding; port in host order. */
static int
resolve_bind(const char *host, uint16_t port, int af,
	     struct ctl_sock_spec *spec)
{
	struct addrinfo hints = {.ai_family = af, .ai_socktype = SOCK_DGRAM,
				 .ai_flags = AI_PASSIVE};
	struct addrinfo *res;
	char pstr[8];

	snprintf(pstr, sizeof(pstr), "%u", port);
	if (getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, pstr, &hints,
			&res) != 0)
		return -1;
	memcpy(&spec->addr, res->ai_addr, res->ai_addrlen);
	spec->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* udp:HOST[:PORT] and udp6:HOST[:PORT] | udp6:[HOST][:PORT], tcp as udp */
static int
parse_inet(const char *rest, int af, struct ctl_sock_spec *spec, char *err,
	   size_t errsz)
{
	char host[256];
	const char *ps = NULL;
	uint16_t port = CTL_SOCK_DEFAULT_PORT;
	struct in6_addr tmp6;

	if (strlen(rest) >= sizeof(host) || *rest == '\0')
		goto bad;
	if (*rest == '[') {
		const char *rb = strchr(rest, ']');

		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			goto bad;
		memcpy(host, rest + 1, (size_t)(rb - rest - 1));
		host[rb - rest - 1] = '\0';
		ps = rb[1] == ':' ? rb + 2 : NULL;
	} else if (af == AF_INET6 && inet_pton(AF_INET6, rest, &tmp6) == 1) {
		strcpy(host, rest);
	} else {
		const char *colon = strrchr(rest, ':');

		strcpy(host, rest);
		if (colon != NULL) {
			host[colon - rest] = '\0';
			ps = colon + 1;
		}
	}
	/* a listener needs a port: 1..65535 */
	if (ps != NULL && (ctl_addrs_parse_port(ps, &port) != 0 || port == 0)) {
		snprintf(err, errsz, "invalid port in '%s'", rest);
		return -EINVAL;
	}
	if (resolve_bind(host, port, af, spec) != 0) {
		snprintf(err, errsz, "cannot resolve '%s' as an IPv%c address",
			 host, af == AF_INET ? '4' : '6');
		return -EINVAL;
	}
	return 0;
bad:
	snprintf(err, errsz, "invalid address '%s'", rest);
	return -EINVAL;
}

static int
parse_path(const char *path, struct ctl_sock_spec *spec, char *err,
	   size_t errsz)
{
	char cwd[PATH_MAX];
	int n;

	if (*path == '\0') {
		snprintf(err, errsz, "empty unix socket path");
		return -EINVAL;
	}
	/* absolute, so it can be unlinked after chdir("/") */
	if (*path != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
		n = snprintf(spec->path, sizeof(spec->path), "%s/%s", cwd, path);
	else
		n = snprintf(spec->path, sizeof(spec->path), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(spec->path)) {
		snprintf(err, errsz, "unix socket path too long: '%s'", path);
		return -EINVAL;
	}
	return 0;
}

int
ctl_sock_parse(const char *s, struct ctl_sock_spec *spec, char *err,
	       size_t errsz)
{
	memset(spec, 0, sizeof(*spec));
	spec->mode = spec->uid = spec->gid = -1;
	if (strncmp(s, "udp:", 4) == 0) {
		spec->kind = CTL_SOCK_UDP;
		return parse_inet(s + 4, AF_INET, spec, err, errsz);
	}
	if (strncmp(s, "udp6:", 5) == 0) {
		spec->kind = CTL_SOCK_UDP6;
		return parse_inet(s + 5, AF_INET6, spec, err, errsz);
	}
	if (strncmp(s, "tcp:", 4) == 0) {
		spec->kind = CTL_SOCK_TCP;
		return parse_inet(s + 4, AF_INET, spec, err, errsz);
	}
	if (strncmp(s, "tcp6:", 5) == 0) {
		spec->kind = CTL_SOCK_TCP6;
		return parse_inet(s + 5, AF_INET6, spec, err, errsz);
	}
	if (strncmp(s, "unix:", 5) == 0 || s[0] == '/') {
		spec->kind = CTL_SOCK_UNIX;
		return parse_path(s[0] == '/' ? s : s + 5, spec, err, errsz);
	}
	if (strncmp(s, "cunix:", 6) == 0) {
		spec->kind = CTL_SOCK_CUNIX;
		return parse_path(s + 6, spec, err, errsz);
	}
	if (strncmp(s, "stdio", 5) == 0 || strncmp(s, "systemd:", 8) == 0 ||
	    strncmp(s, "fd:", 3) == 0) {
		snprintf(err, errsz, "control socket '%s': kind not supported "
			 "(udp:, udp6:, tcp:, tcp6:, unix:, cunix: are)", s);
		return -ENOTSUP;
	}
	snprintf(err, errsz, "invalid control socket '%s'", s);
	return -EINVAL;
}

struct ctl_socks *
ctl_socks_create(void)
{
	struct ctl_socks *ss = calloc(1, sizeof(*ss));

	if (ss == NULL)
		return NULL;
	for (int i = 0; i < NENT; i++)
		ss->ent[i].fd = -1;
	ss->cont_idle_ns = CTL_SOCK_CONT_IDLE_NS;
	ss->per_peer = CTL_SOCK_PER_PEER;
	return ss;
}

void
ctl_socks_set_limits(struct ctl_socks *ss, uint64_t idle_ns, unsigned per_peer)
{
	if (idle_ns != 0)
		ss->cont_idle_ns = idle_ns;
	if (per_peer != 0)
		ss->per_peer = per_peer;
}

void
ctl_socks_counters(const struct ctl_socks *ss, struct ctl_socks_counters *c)
{
	*c = ss->c;
}

static struct ent *
ent_new(struct ctl_socks *ss, int first, int last)
{
	for (int i = first; i < last; i++)
		if (ss->ent[i].kind == ENT_FREE)
			return &ss->ent[i];
	return NULL;
}

static void
ent_close(struct ent *e)
{
	if (e->fd >= 0)
		close(e->fd);
	free(e->buf);
	memset(e, 0, sizeof(*e));
	e->fd = -1;
}

static int
listen_dgram(const struct ctl_sock_spec *spec)
{
	int fd = socket(spec->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
					      SOCK_CLOEXEC, 0);
	/* rtpproxy asks for 16 KiB, which holds ~25 datagrams: a SIP proxy
	 * with more worker processes than that, each with one command in
	 * flight, loses commands to it (and waits for its retransmission
	 * timer). Ask for 1 MiB; the kernel caps it at net.core.rmem_max. */
	int rcvbuf = 1024 * 1024;
	int on = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (spec->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (const struct sockaddr *)&spec->addr, spec->addrlen) != 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static int
listen_unix(const struct ctl_sock_spec *spec)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	memcpy(sun.sun_path, spec->path, sizeof(sun.sun_path));
	unlink(spec->path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    (spec->mode >= 0 && chmod(spec->path, (mode_t)spec->mode) != 0) ||
	    (spec->uid >= 0 &&
	     chown(spec->path, (uid_t)spec->uid, (gid_t)spec->gid) != 0) ||
	    listen(fd, 64) != 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static int
listen_tcp(const struct ctl_sock_spec *spec)
{
	int fd = socket(spec->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
					      SOCK_CLOEXEC, 0);
	int on = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (spec->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (const struct sockaddr *)&spec->addr, spec->addrlen) != 0 ||
	    listen(fd, 64) != 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* The listener's own address, unless a wildcard (then has_local false). */
static void
ent_local(struct ent *e)
{
	socklen_t len = sizeof(e->local);
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	e->has_local = false;
	if (getsockname(e->fd, (struct sockaddr *)&e->local, &len) != 0)
		return;
	if (e->local.ss_family == AF_INET) {
		const struct sockaddr_in *l4 = (struct sockaddr_in *)&e->local;

		e->has_local = l4->sin_addr.s_addr != htonl(INADDR_ANY);
	} else if (e->local.ss_family == AF_INET6) {
		const struct sockaddr_in6 *l6 = (struct sockaddr_in6 *)&e->local;

		e->has_local = memcmp(&l6->sin6_addr, &any6, sizeof(any6)) != 0;
	}
}

int
ctl_socks_listen(struct ctl_socks *ss, const struct ctl_sock_spec *spec)
{
	struct ent *e = ent_new(ss, 0, CTL_SOCK_MAX_LISTEN);
	int fd;

	if (e == NULL)
		return -ENOSPC;
	fd = ctl_sock_is_datagram(spec->kind) ? listen_dgram(spec)
	     : is_inet_stream(spec->kind)     ? listen_tcp(spec)
					      : listen_unix(spec);
	if (fd < 0)
		return fd;
	e->fd = fd;
	if (ctl_sock_is_datagram(spec->kind)) {
		e->kind = ENT_LISTEN_DGRAM;
		ent_local(e);
	} else if (is_inet_stream(spec->kind)) {
		e->kind = ENT_LISTEN_TCP;
		ent_local(e);
	} else {
		e->kind = spec->kind == CTL_SOCK_UNIX ? ENT_LISTEN_UNIX
						      : ENT_LISTEN_CUNIX;
		memcpy(e->path, spec->path, sizeof(e->path));
	}
	return 0;
}

/* Send the k replies set up in ss->bmsg[0..k-1]; what the socket does not
 * take now (full buffer) is lost, as with sendto(). */
static void
send_batch(struct ctl_socks *ss, struct ent *e, unsigned int k)
{
	unsigned int done = 0;

	while (done < k) {
		int r = sendmmsg(e->fd, ss->bmsg + done, k - done, 0);

		if (r <= 0) {
			ctl_log(CTL_LOG_WARN, "%u control replies not sent: %s",
				k - done, strerror(r < 0 ? errno : EAGAIN));
			return;
		}
		done += (unsigned int)r;
	}
}

/*
 * Read and answer up to DGRAM_BURST datagrams, DGRAM_BATCH at a time: one
 * recvmmsg(), every command executed with its stream messages pushed, one
 * wait for the dataplane to apply them all (ctl_exec_batch_end()), one
 * sendmmsg(). Kamailio and OpenSIPS keep one command in flight per
 * worker process, so with many workers the socket holds many.
 */
static int
serve_dgram(struct ctl_socks *ss, struct ent *e, struct ctl_exec *ex)
{
	const struct sockaddr *local =
		e->has_local ? (struct sockaddr *)&e->local : NULL;
	int total = 0;

	while (total < DGRAM_BURST) {
		unsigned int k = 0, i;
		int n;

		for (i = 0; i < DGRAM_BATCH; i++) {
			ss->biov[i] = (struct iovec){.iov_base = ss->bin[i],
						     .iov_len = CTL_CMD_BUFLEN + 1};
			ss->bmsg[i].msg_hdr = (struct msghdr){
				.msg_name = &ss->bfrom[i],
				.msg_namelen = sizeof(ss->bfrom[i]),
				.msg_iov = &ss->biov[i], .msg_iovlen = 1};
		}
		/* MSG_TRUNC: the real size, so an oversized command is E5 */
		n = recvmmsg(e->fd, ss->bmsg, DGRAM_BATCH, MSG_TRUNC, NULL);
		if (n <= 0)
			break;
		ctl_exec_batch_begin(ex);
		for (i = 0; i < (unsigned int)n; i++) {
			size_t len = ss->bmsg[i].msg_len, olen;

			if (len > CTL_CMD_BUFLEN + 1)
				len = CTL_CMD_BUFLEN + 1;
			olen = ctl_exec_text_from(ex, ss->bin[i], len, true,
						  (struct sockaddr *)&ss->bfrom[i], local,
						  ctl_now_ns(), ss->bout[k],
						  sizeof(ss->bout[k]));
			if (olen == 0)
				continue;
			/* reuse slot k for the reply to datagram i (k <= i) */
			ss->biov[k] = (struct iovec){.iov_base = ss->bout[k], .iov_len = olen};
			ss->bmsg[k].msg_hdr = (struct msghdr){
				.msg_name = &ss->bfrom[i],
				.msg_namelen = ss->bmsg[i].msg_hdr.msg_namelen,
				.msg_iov = &ss->biov[k], .msg_iovlen = 1};
			k++;
		}
		ctl_exec_batch_end(ex);
		send_batch(ss, e, k);
		total += n;
		if (n < DGRAM_BATCH)
			break;
	}
	return total;
}

/* Who the client of a new connection fd is: tcp its IP address, unix
 * its uid (SO_PEERCRED), as 17 bytes (family, then the address). */
static void
peer_of(int fd, const struct sockaddr_storage *peer, uint8_t who[17])
{
	memset(who, 0, 17);
	if (peer->ss_family == AF_INET) {
		who[0] = AF_INET;
		memcpy(who + 1, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	} else if (peer->ss_family == AF_INET6) {
		who[0] = AF_INET6;
		memcpy(who + 1, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	} else {
		struct ucred cr;
		socklen_t len = sizeof(cr);

		who[0] = AF_UNIX;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0)
			memcpy(who + 1, &cr.uid, sizeof(cr.uid));
	}
}

/* Continuous connections of client who. */
static unsigned
peer_conns(const struct ctl_socks *ss, const uint8_t who[17])
{
	unsigned n = 0;

	for (int i = CTL_SOCK_MAX_LISTEN; i < NENT; i++)
		if (ss->ent[i].kind == ENT_CONN_CONT &&
		    memcmp(ss->ent[i].who, who, 17) == 0)
			n++;
	return n;
}

/* All slots taken: close the connection silent the longest, if for a
 * second at least, and return its slot; else NULL. */
static struct ent *
ent_evict(struct ctl_socks *ss, uint64_t now_ns)
{
	struct ent *old = NULL;
	uint64_t n;

	for (int i = CTL_SOCK_MAX_LISTEN; i < NENT; i++) {
		struct ent *e = &ss->ent[i];

		if ((e->kind == ENT_CONN_CONT || e->kind == ENT_CONN_ONESHOT) &&
		    (old == NULL || e->t_ns < old->t_ns))
			old = e;
	}
	if (old == NULL || now_ns - old->t_ns < 1000000000ull)
		return NULL;
	ss->c.evicted++;
	if (ctl_log_limit(&ss->log_evicted, now_ns, &n))
		ctl_log(CTL_LOG_WARN, "control connections: all %d taken, the "
			"longest silent closed for a new one (%llu such since "
			"the last line, %llu in all)", CTL_SOCK_MAX_CONN,
			(unsigned long long)n, (unsigned long long)ss->c.evicted);
	ent_close(old);
	return old;
}

/* Refuse a new connection: count, log once a second at most, close. */
static void
conn_refuse(struct ctl_socks *ss, int fd, uint64_t now_ns, const char *why)
{
	uint64_t n;

	ss->c.refused++;
	if (ctl_log_limit(&ss->log_refused, now_ns, &n))
		ctl_log(CTL_LOG_WARN, "control connection refused: %s (%llu "
			"refused since the last line, %llu in all)", why,
			(unsigned long long)n, (unsigned long long)ss->c.refused);
	close(fd);
}

static void
serve_accept(struct ctl_socks *ss, struct ent *l)
{
	for (int k = 0; k < CTL_SOCK_MAX_CONN; k++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		uint64_t now = ctl_now_ns();
		bool cont = l->kind != ENT_LISTEN_UNIX;
		uint8_t who[17];
		struct ent *c;

		if (fd < 0)
			return;
		peer_of(fd, &peer, who);
		if (cont && peer_conns(ss, who) >= ss->per_peer) {
			conn_refuse(ss, fd, now, "per-peer limit (--conn-per-peer)");
			continue;
		}
		c = ent_new(ss, CTL_SOCK_MAX_LISTEN, NENT);
		if (c == NULL)
			c = ent_evict(ss, now);
		if (c == NULL) {
			conn_refuse(ss, fd, now, "all connection slots busy");
			continue;
		}
		c->fd = fd;
		c->t_ns = now;
		memcpy(c->who, who, sizeof(c->who));
		c->kind = cont ? ENT_CONN_CONT : ENT_CONN_ONESHOT;
		if (l->kind == ENT_LISTEN_TCP) {
			int on = 1;

			/* replies go out at once, not after the client's
			 * delayed ACK of the previous one (Nagle) */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
			c->peer = peer;
			c->has_peer = true;
			c->local = l->local;
			c->has_local = l->has_local;
		}
		if (c->kind == ENT_CONN_CONT) {
			c->buf = malloc(CTL_CMD_BUFLEN + 1);
			if (c->buf == NULL)
				ent_close(c);
		}
	}
}

/* Answer one stream command; false if the connection broke. */
static bool
answer_stream(struct ctl_socks *ss, struct ent *c, const char *cmd,
	      size_t len, struct ctl_exec *ex)
{
	size_t olen = ctl_exec_text_from(
		ex, cmd, len, false,
		c->has_peer ? (struct sockaddr *)&c->peer : NULL,
		c->has_local ? (struct sockaddr *)&c->local : NULL,
		ctl_now_ns(), ss->out, sizeof(ss->out));

	return olen == 0 || write(c->fd, ss->out, olen) == (ssize_t)olen;
}

/* unix: one read, one command, one reply, close (rtpproxy umode 0). */
static int
serve_oneshot(struct ctl_socks *ss, struct ent *c, struct ctl_exec *ex)
{
	ssize_t len = read(c->fd, ss->in, CTL_CMD_BUFLEN + 1);

	if (len < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (len > 0)
		answer_stream(ss, c, ss->in, (size_t)len, ex);
	ent_close(c);
	return len > 0 ? 1 : 0;
}

/*
 * cunix, tcp, tcp6: '\n'-terminated commands (rtpproxy
 * rtpp_command_stream_get()); a line over 8 KiB is E5 and closes.
 */
static int
serve_cont(struct ctl_socks *ss, struct ent *c, struct ctl_exec *ex)
{
	ssize_t len = read(c->fd, c->buf + c->blen, CTL_CMD_BUFLEN + 1 - c->blen);
	int n = 0;
	char *nl;

	if (len < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (len <= 0) {
		/* EOF: rtpproxy runs no unterminated last command */
		if (c->blen > 0)
			ctl_log(CTL_LOG_WARN, "control connection closed with "
				"%zu bytes of an unterminated command, dropped",
				c->blen);
		ent_close(c);
		return 0;
	}
	c->blen += (size_t)len;
	c->t_ns = ctl_now_ns(); /* not silent: the idle limit restarts */
	while ((nl = memchr(c->buf, '\n', c->blen)) != NULL) {
		size_t l = (size_t)(nl - c->buf);

		n++;
		if (!answer_stream(ss, c, c->buf, l, ex)) {
			ent_close(c);
			return n;
		}
		memmove(c->buf, nl + 1, c->blen - l - 1);
		c->blen -= l + 1;
	}
	if (c->blen > CTL_CMD_BUFLEN) {
		answer_stream(ss, c, c->buf, c->blen, ex); /* E5: too long */
		ent_close(c);
		n++;
	}
	return n;
}

int
ctl_socks_run(struct ctl_socks *ss, struct ctl_exec *ex, uint64_t timeout_ns,
	      uint64_t *idle_ns)
{
	const struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000ull),
				    .tv_nsec = (long)(timeout_ns % 1000000000ull)};
	int np = 0, rc, n = 0;
	uint64_t t0;

	for (int i = 0; i < NENT; i++) {
		if (ss->ent[i].kind == ENT_FREE)
			continue;
		ss->pfd[np] = (struct pollfd){.fd = ss->ent[i].fd,
					      .events = POLLIN};
		ss->map[np++] = i;
	}
	ctl_log_flush();
	t0 = ctl_now_ns();
	rc = ppoll(ss->pfd, (nfds_t)np, &ts, NULL);
	*idle_ns = ctl_now_ns() - t0;
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	for (int k = 0; k < np && rc > 0; k++) {
		struct ent *e = &ss->ent[ss->map[k]];

		if (ss->pfd[k].revents == 0)
			continue;
		rc--;
		switch (e->kind) {
		case ENT_LISTEN_DGRAM: n += serve_dgram(ss, e, ex); break;
		case ENT_LISTEN_UNIX:
		case ENT_LISTEN_CUNIX:
		case ENT_LISTEN_TCP: serve_accept(ss, e); break;
		case ENT_CONN_ONESHOT: n += serve_oneshot(ss, e, ex); break;
		case ENT_CONN_CONT: n += serve_cont(ss, e, ex); break;
		default: break;
		}
	}
	return n;
}

int
ctl_socks_local(const struct ctl_socks *ss, int i, struct sockaddr_storage *a,
		socklen_t *len)
{
	int k = -1;

	for (int j = 0; j < CTL_SOCK_MAX_LISTEN; j++) {
		const struct ent *e = &ss->ent[j];

		if (e->kind == ENT_FREE || ++k != i)
			continue;
		if (e->kind != ENT_LISTEN_DGRAM && e->kind != ENT_LISTEN_TCP)
			return -ENOENT;
		*len = sizeof(*a);
		if (getsockname(e->fd, (struct sockaddr *)a, len) != 0)
			return -errno;
		return 0;
	}
	return -ENOENT;
}

void
ctl_socks_tick(struct ctl_socks *ss, uint64_t now_ns)
{
	for (int i = CTL_SOCK_MAX_LISTEN; i < NENT; i++) {
		struct ent *e = &ss->ent[i];

		if (e->kind == ENT_CONN_ONESHOT &&
		    now_ns - e->t_ns > CTL_SOCK_IDLE_NS)
			ent_close(e);
		else if (e->kind == ENT_CONN_CONT &&
			 now_ns - e->t_ns > ss->cont_idle_ns) {
			ss->c.idle_closed++;
			ent_close(e);
		}
	}
}

void
ctl_socks_destroy(struct ctl_socks *ss)
{
	if (ss == NULL)
		return;
	for (int i = 0; i < NENT; i++) {
		struct ent *e = &ss->ent[i];

		if (e->kind == ENT_FREE)
			continue;
		if (e->path[0] != '\0')
			unlink(e->path);
		ent_close(e);
	}
	free(ss);
}
