/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_notify.h: timeout notifications on the wire (rtpproxy -n,
 * src/rtpp_notify.c): when a session armed by a U with a notify tag
 * times out, "<tag>\n" is written on a SOCK_STREAM connection to its
 * target (ctl_tnotify.h), nothing else: the tag URL-decoded, as the U
 * gave it. OpenSIPS' rtpproxy module reads one such line per dialog to
 * end ("T<dialog id>").
 *
 * One connection per target, opened when a first message is queued and
 * kept open (rtpproxy: lazily connected, kept). Nothing here blocks the
 * main loop: sockets are non-blocking, connect() completes in a later
 * ctl_notify_run(), partial writes continue there. A failed connect or
 * write closes the connection and retries after a back-off (1 s,
 * doubling up to CTL_NOTIFY_BACKOFF_MAX_NS); messages wait in a
 * per-target queue of at most CTL_NOTIFY_QUEUE_MAX bytes (rtpproxy drops
 * the message when its connect fails; here it waits for the reconnect,
 * and only what does not fit in the queue is dropped, logged). A peer
 * that closed its end is noticed before writing, so a message is not
 * written into a dead connection.
 *
 * Control's thread only; time is a parameter.
 */
#ifndef CTL_NOTIFY_H
#define CTL_NOTIFY_H

#include <stdint.h>

#include "ctl_tnotify.h"

#define CTL_NOTIFY_QUEUE_MAX (256 * 1024) /**< bytes waiting per target */
#define CTL_NOTIFY_BACKOFF_NS 1000000000ULL /**< first retry after 1 s */
#define CTL_NOTIFY_BACKOFF_MAX_NS (30ULL * 1000000000ULL)

struct ctl_notify;

/**
 * A sender for the targets of ts (not owned; its targets may grow).
 * @return NULL on ENOMEM.
 */
struct ctl_notify *ctl_notify_create(const struct ctl_tnotify *ts);

/** Close every connection, drop what waits, free (NULL is fine). */
void ctl_notify_destroy(struct ctl_notify *n);

/**
 * Queue "<tag>\n" for target (a ctl_tnotify index) and try to send it
 * now (never blocking).
 * @return 0 (queued or sent), -EINVAL (no such target), -ENOBUFS (queue
 *         full: dropped, logged).
 */
int ctl_notify_send(struct ctl_notify *n, int target, const char *tag,
		    uint64_t now_ns);

/**
 * Make progress: finish connects, write what waits, reconnect after the
 * back-off. Call every loop iteration (cheap when nothing waits).
 */
void ctl_notify_run(struct ctl_notify *n, uint64_t now_ns);

/** Bytes waiting for target (for tests and logs). */
size_t ctl_notify_pending(const struct ctl_notify *n, int target);

/** ctl_session_timeout_fn for ctl_sessions_cfg.on_timeout (arg: n). */
void ctl_notify_on_timeout(int target, const char *tag, const char *call_id,
			   void *arg);

#endif /* CTL_NOTIFY_H */
