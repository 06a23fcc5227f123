/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_metrics.h: control's Prometheus endpoint (--metrics ADDR:PORT,
 * issue 18 item 2): http://ADDR:PORT/metrics in the text exposition
 * format 0.0.4, served by libmicrohttpd.
 *
 * Threads: control's state (sessions, executor, the dataplane's mapping)
 * belongs to its single main thread; libmicrohttpd serves from a thread
 * of its own. So the HTTP thread never reads that state: once per tick
 * (1 s) the main thread renders the whole exposition text into a new
 * buffer (ctl_metrics_update()) and swaps it in under a mutex; the HTTP
 * handler copies the latest buffer under the same mutex. A scrape is
 * at most one tick old, the lock is held for a pointer swap or a copy of
 * a few KB, nothing the main thread owns is shared, and a slow or
 * hostile client costs the main loop nothing. The handler never logs
 * (ctl_log is the main thread's).
 *
 * The listening socket is opened by ctl_metrics_open() with the other
 * sockets, before daemon() (an error still reaches the terminal); the
 * HTTP thread is started by ctl_metrics_start() after daemon() (fork
 * keeps no threads) and after the change of user.
 *
 * The metric names are listed in deploy/README.md ("Metrics").
 */
#ifndef CTL_METRICS_H
#define CTL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

struct ctl_dp;
struct ctl_exec;
struct ctl_sessions;
struct ctl_metrics;

/** The address --metrics names. */
struct ctl_metrics_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[80]; /**< "127.0.0.1:9476", "[::1]:9476" for logs */
};

/**
 * Parse --metrics ADDR:PORT: an IPv4 literal, an IPv6 literal in
 * brackets, or "localhost" (127.0.0.1); PORT 1..65535.
 * @return 0, or -EINVAL with the reason in err.
 */
int ctl_metrics_parse_addr(const char *s, struct ctl_metrics_addr *out,
			   char *err, size_t errsz);

/**
 * Bind and listen on a (no thread yet).
 * @return the endpoint, or NULL with errno set and the failing call
 *         named in err ("bind 127.0.0.1:9476: Address already in use").
 */
struct ctl_metrics *ctl_metrics_open(const struct ctl_metrics_addr *a,
				     char *err, size_t errsz);

/** The TCP port m listens on (the kernel's pick if a's port was 0). */
uint16_t ctl_metrics_port(const struct ctl_metrics *m);

/**
 * Start serving (libmicrohttpd's thread). Until the first
 * ctl_metrics_update(), /metrics answers 503.
 * @return 0, or -errno.
 */
int ctl_metrics_start(struct ctl_metrics *m);

/**
 * Render the exposition text from the main thread's state and publish
 * it; called once per tick. The G counters come from
 * ctl_exec_stats_read() (their names and types are in that table), the
 * dataplane's from its shared memory (ctl_dp_totals(),
 * ctl_dp_lcore_stats()). No-op if m is NULL.
 */
void ctl_metrics_update(struct ctl_metrics *m, struct ctl_exec *ex,
			const struct ctl_sessions *sess,
			const struct ctl_dp *dp);

/** Stop the thread, close the socket, free (NULL is fine). */
void ctl_metrics_close(struct ctl_metrics *m);

#endif /* CTL_METRICS_H */
