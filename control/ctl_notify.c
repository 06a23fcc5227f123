/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_notify.c: timeout notifications on the wire, see ctl_notify.h.
 *
 * Per target: a non-blocking SOCK_STREAM socket (-1 when closed), a
 * queue of whole messages ("<tag>\n" each) and how much of the head one
 * went out on the current connection. A message leaves the queue once
 * all its bytes were written; after a failure the head is written again
 * whole on the next connection (a receiver never sees a line spliced
 * from two attempts on one connection).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl_log.h"
#include "ctl_notify.h"

struct conn {
	int fd; /* -1: closed */
	bool connecting; /* connect() in progress */
	uint64_t retry_ns; /* no connect attempt before this */
	uint64_t backoff_ns; /* the next failure waits this long */
	bool warned; /* the failure streak was logged */
	GQueue q; /* GBytes *, whole messages */
	size_t qbytes; /* bytes queued */
	size_t head_sent; /* bytes of the head written on this fd */
};

struct ctl_notify {
	const struct ctl_tnotify *ts;
	struct conn c[CTL_TNOTIFY_MAX];
	uint64_t now_ns; /* of the last call given a time */
};

struct ctl_notify *
ctl_notify_create(const struct ctl_tnotify *ts)
{
	struct ctl_notify *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->ts = ts;
	for (int i = 0; i < CTL_TNOTIFY_MAX; i++) {
		n->c[i].fd = -1;
		n->c[i].backoff_ns = CTL_NOTIFY_BACKOFF_NS;
		g_queue_init(&n->c[i].q);
	}
	return n;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->connecting = false;
	c->head_sent = 0;
}

void
ctl_notify_destroy(struct ctl_notify *n)
{
	if (n == NULL)
		return;
	for (int i = 0; i < CTL_TNOTIFY_MAX; i++) {
		struct conn *c = &n->c[i];
		GBytes *b;

		if (c->qbytes > 0)
			ctl_log(CTL_LOG_WARN,
				"notify target %d: %zu bytes of "
				"timeout notifications never sent",
				i, c->qbytes);
		while ((b = g_queue_pop_head(&c->q)) != NULL)
			g_bytes_unref(b);
		conn_close(c);
	}
	free(n);
}

/* A failed connect or write: close, retry after the back-off. */
static void
conn_fail(struct ctl_notify *n, int i, const char *what, int err)
{
	struct conn *c = &n->c[i];
	char name[300];

	if (!c->warned)
		ctl_log(CTL_LOG_WARN,
			"timeout notification socket %s: %s: %s; "
			"%u waiting, retrying every %llu s at most",
			ctl_tnotify_describe(n->ts, i, name, sizeof(name)),
			what, strerror(err), g_queue_get_length(&c->q),
			CTL_NOTIFY_BACKOFF_MAX_NS / 1000000000ULL);
	c->warned = true;
	conn_close(c);
	c->retry_ns = n->now_ns + c->backoff_ns;
	c->backoff_ns *= 2;
	if (c->backoff_ns > CTL_NOTIFY_BACKOFF_MAX_NS)
		c->backoff_ns = CTL_NOTIFY_BACKOFF_MAX_NS;
}

/* Connected: a back-off starts over. */
static void
conn_up(struct ctl_notify *n, int i)
{
	struct conn *c = &n->c[i];
	char name[300];

	c->connecting = false;
	c->backoff_ns = CTL_NOTIFY_BACKOFF_NS;
	if (c->warned)
		ctl_log(CTL_LOG_INFO,
			"timeout notification socket %s: "
			"connected",
			ctl_tnotify_describe(n->ts, i, name, sizeof(name)));
	c->warned = false;
}

/* Start a non-blocking connect to target i. */
static void
conn_open(struct ctl_notify *n, int i)
{
	const struct ctl_tnotify_target *t = ctl_tnotify_get(n->ts, i);
	struct conn *c = &n->c[i];
	int fd;

	fd = socket(t->remote.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		conn_fail(n, i, "socket", errno);
		return;
	}
	c->fd = fd;
	if (t->local_len > 0 &&
	    bind(fd, (const struct sockaddr *)&t->local, t->local_len) != 0) {
		conn_fail(n, i, "bind", errno);
		return;
	}
	if (connect(fd, (const struct sockaddr *)&t->remote, t->remote_len) ==
	    0) {
		conn_up(n, i);
		return;
	}
	if (errno == EINPROGRESS) {
		c->connecting = true;
		return;
	}
	/* unix: ENOENT, ECONNREFUSED, EAGAIN (backlog full) */
	conn_fail(n, i, "connect", errno);
}

/* A connect in progress: done, failed, or still going (false). */
static bool
conn_check_connect(struct ctl_notify *n, int i)
{
	struct conn *c = &n->c[i];
	struct pollfd p = { .fd = c->fd, .events = POLLOUT };
	int err = 0;
	socklen_t elen = sizeof(err);

	if (poll(&p, 1, 0) <= 0)
		return false;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
		err = errno;
	if (err != 0) {
		conn_fail(n, i, "connect", err);
		return false;
	}
	conn_up(n, i);
	return true;
}

/*
 * Did the peer close its end (or send something: read and ignored)?
 * Checked before writing, so no message goes into a dead connection.
 */
static bool
conn_peer_gone(struct conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN | POLLRDHUP };
	char junk[512];

	for (int k = 0; k < 16; k++) {
		ssize_t r;

		if (poll(&p, 1, 0) <= 0)
			return false;
		if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
			return true;
		r = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (r == 0)
			return true;
		if (r < 0)
			return errno != EAGAIN && errno != EINTR;
	}
	return false;
}

/* Write what waits on a connected socket. */
static void
conn_write(struct ctl_notify *n, int i)
{
	struct conn *c = &n->c[i];
	GBytes *b;

	if (conn_peer_gone(c)) {
		/* not a failure of the target: reconnect at once */
		conn_close(c);
		c->retry_ns = n->now_ns;
		return;
	}
	while ((b = g_queue_peek_head(&c->q)) != NULL) {
		gsize len;
		const char *p = g_bytes_get_data(b, &len);
		ssize_t w = send(c->fd, p + c->head_sent, len - c->head_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR)
				conn_fail(n, i, "send", errno);
			return;
		}
		c->head_sent += (size_t)w;
		if (c->head_sent < len)
			return;
		g_queue_pop_head(&c->q);
		c->qbytes -= len;
		c->head_sent = 0;
		g_bytes_unref(b);
	}
}

/* Progress for target i. */
static void
conn_run(struct ctl_notify *n, int i)
{
	struct conn *c = &n->c[i];

	if (c->qbytes == 0)
		return;
	if (c->fd < 0) {
		if (n->now_ns < c->retry_ns)
			return;
		conn_open(n, i);
		if (c->fd < 0)
			return;
	}
	if (c->connecting && !conn_check_connect(n, i))
		return;
	conn_write(n, i);
}

int
ctl_notify_send(struct ctl_notify *n, int target, const char *tag,
		uint64_t now_ns)
{
	struct conn *c;
	char name[300];
	size_t len;
	char *msg;

	if (now_ns > n->now_ns)
		n->now_ns = now_ns;
	if (ctl_tnotify_get(n->ts, target) == NULL)
		return -EINVAL;
	c = &n->c[target];
	len = strlen(tag) + 1;
	if (c->qbytes + len > CTL_NOTIFY_QUEUE_MAX) {
		ctl_log(CTL_LOG_ERR,
			"timeout notification socket %s: %zu bytes "
			"waiting, notification dropped",
			ctl_tnotify_describe(n->ts, target, name, sizeof(name)),
			c->qbytes);
		return -ENOBUFS;
	}
	msg = g_malloc(len);
	memcpy(msg, tag, len - 1);
	msg[len - 1] = '\n';
	g_queue_push_tail(&c->q, g_bytes_new_take(msg, len));
	c->qbytes += len;
	conn_run(n, target);
	return 0;
}

void
ctl_notify_run(struct ctl_notify *n, uint64_t now_ns)
{
	uint32_t nt = ctl_tnotify_count(n->ts);

	if (now_ns > n->now_ns)
		n->now_ns = now_ns;
	for (uint32_t i = 0; i < nt && i < CTL_TNOTIFY_MAX; i++)
		conn_run(n, (int)i);
}

size_t
ctl_notify_pending(const struct ctl_notify *n, int target)
{
	if (target < 0 || target >= CTL_TNOTIFY_MAX)
		return 0;
	return n->c[target].qbytes;
}

void
ctl_notify_on_timeout(int target, const char *tag, const char *call_id,
		      void *arg)
{
	struct ctl_notify *n = arg;
	char name[300];

	ctl_log_call(CTL_LOG_INFO, call_id, "timeout notification to %s",
		     ctl_tnotify_describe(n->ts, target, name, sizeof(name)));
	ctl_notify_send(n, target, tag, n->now_ns);
}
