/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_tnotify.h: the permitted timeout-notification targets, rtpproxy's
 * -n (src/rtpp_tnotify_set.c): which notify_socket a U may name, and
 * where that leads. No I/O: ctl_notify.h does the connecting and writing.
 *
 * Target forms (each -n, up to CTL_TNOTIFY_MAX, 2 of them wildcards):
 *  - "unix:/path", or a bare "/path" (taken as "unix:/path");
 *  - "tcp:HOST:PORT" (IPv4, as rtpproxy);
 *  - "tcp:%%CC_SELF%%:PORT": connect back to the IP that sent the U
 *    (127.0.0.1 when it came over a unix or IPv6 socket), one concrete
 *    target per such IP, made on first use (20150617).
 * A U's notify_socket matches a target whose -n string it equals; the
 * legacy form without "unix:" matches a unix target too. Unmatched: the
 * U still succeeds, with no notification armed (rtpproxy logs "invalid
 * socket name").
 *
 * Control's thread only.
 */
#ifndef CTL_TNOTIFY_H
#define CTL_TNOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CTL_TNOTIFY_MAX 64 /**< RTPP_TNOTIFY_TARGETS_MAX */
#define CTL_TNOTIFY_WILD_MAX 2 /**< RTPP_TNOTIFY_WILDCARDS_MAX */
#define CTL_TNOTIFY_CC_SELF "%%CC_SELF%%"

/** One concrete target: where to connect. */
struct ctl_tnotify_target {
	char name[256]; /**< the -n string ("unix:" prefixed),
					   "" for a %%CC_SELF%% target */
	struct sockaddr_storage remote; /**< AF_UNIX or AF_INET */
	socklen_t remote_len;
	struct sockaddr_storage local; /**< bind first (the control socket's
					    address, %%CC_SELF%%), if
					    local_len > 0 */
	socklen_t local_len;
};

struct ctl_tnotify;

/** An empty set (notifications disabled). @return NULL on ENOMEM. */
struct ctl_tnotify *ctl_tnotify_create(void);

/** Free (NULL is fine). */
void ctl_tnotify_destroy(struct ctl_tnotify *ts);

/**
 * Permit one -n target.
 * @param err out: what is wrong with spec.
 * @return 0, or -EINVAL (bad form, unresolvable host, bad port), -ENOSPC
 *         (more than CTL_TNOTIFY_MAX targets or CTL_TNOTIFY_WILD_MAX
 *         wildcards).
 */
int ctl_tnotify_add(struct ctl_tnotify *ts, const char *spec, char *err,
		    size_t errsz);

/** rtpproxy isenabled(): was any -n given? NULL is "no". */
bool ctl_tnotify_enabled(const struct ctl_tnotify *ts);

/**
 * The target a U's notify_socket names (rtpproxy lookup()).
 * @param src   where the U came from (NULL: unix socket), for
 *              %%CC_SELF%%.
 * @param local the control socket's own address (NULL if unknown or a
 *              wildcard), bound by %%CC_SELF%% connections.
 * @return the target index (stable for the life of the set), or -1 if
 *         the name is not permitted (or no room for a new %%CC_SELF%%
 *         target).
 */
int ctl_tnotify_lookup(struct ctl_tnotify *ts, const char *name,
		       const struct sockaddr *src,
		       const struct sockaddr *local);

/** Number of concrete targets (indexes 0..n-1). */
uint32_t ctl_tnotify_count(const struct ctl_tnotify *ts);

/** Target idx, or NULL if out of range. */
const struct ctl_tnotify_target *ctl_tnotify_get(const struct ctl_tnotify *ts,
						 int idx);

/**
 * "unix:/path" or "tcp:1.2.3.4:5" of target idx, for logs (the -n
 * string, or the address a %%CC_SELF%% target was made for).
 */
const char *ctl_tnotify_describe(const struct ctl_tnotify *ts, int idx,
				 char *buf, size_t bufsz);

#endif /* CTL_TNOTIFY_H */
