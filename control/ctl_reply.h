/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_reply.h: building replies, and the datagram reply cache.
 *
 * A reply body is formatted into a struct ctl_reply (rtpproxy's 1 KiB
 * reply buffer, src/rtpp_command_reply.c), then put on the wire as
 * "<cookie> <body>" on datagram sockets, or as the body alone.
 *
 * The cache (rtpproxy src/rtpp_command_rcache.c) keeps every datagram
 * reply under its cookie for CTL_RCACHE_TTL_NS: a retransmitted command
 * (same cookie) gets the cached reply and is not executed again, which
 * is what makes Kamailio's 1 s x 5 retransmissions safe for U and D.
 */
#ifndef CTL_REPLY_H
#define CTL_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_REPLY_MAX 1024 /**< body bytes, as rtpproxy's buf.r[1024] */
/** Cache lifetime: rtpproxy's rtpp_cmd_rcache_ctor(..., 32.0 + 3.0). */
#define CTL_RCACHE_TTL_NS (35ULL * 1000000000ULL)
/** Cache entries kept at most; beyond this new replies are not cached. */
#define CTL_RCACHE_MAX 262144

/** One reply body being built. */
struct ctl_reply {
	char buf[CTL_REPLY_MAX];
	size_t len;   /**< bytes in buf, without a terminating NUL */
	bool error;   /**< the reply is an error (counts as ncmds_errs) */
	int ecode;    /**< the E code when error */
};

/** Empty r. */
void ctl_reply_reset(struct ctl_reply *r);

/** Body "<n>\n" (rtpproxy reply_number()); replaces anything before. */
void ctl_reply_number(struct ctl_reply *r, long n);

/** Body "E<ecode>\n" (reply_error()); replaces anything before. */
void ctl_reply_error(struct ctl_reply *r, int ecode);

/**
 * Body of a U/L reply (rtpproxy ul_reply_port()): "<port>\n" when addr
 * is NULL (wildcard relay address or unknown session with port 0),
 * otherwise "<port> <addr>\n", with " 6" before the newline for IPv6.
 * @param port host byte order.
 * @param addr the relay address as text, or NULL.
 */
void ctl_reply_port(struct ctl_reply *r, uint16_t port, const char *addr,
		    bool ipv6);

/**
 * Append formatted text to the body.
 * @return 0, or -ENOSPC if it would not fit (the body is then cut back
 *         to what it was before the call).
 */
int ctl_reply_appendf(struct ctl_reply *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * Wire form: "<cookie> <body>" when cookie is not NULL, else the body.
 * @return bytes written to out (at most outsz; cut if out is too small).
 */
size_t ctl_reply_wire(const struct ctl_reply *r, const char *cookie,
		      char *out, size_t outsz);

struct ctl_rcache;

/** Create an empty cache. @return NULL on ENOMEM. */
struct ctl_rcache *ctl_rcache_create(void);

/** Free the cache and every entry (NULL is fine). */
void ctl_rcache_destroy(struct ctl_rcache *rc);

/**
 * The wire reply cached under cookie.
 * @param len out: its length.
 * @return the bytes (owned by the cache, valid until the next
 *         insert/expire), or NULL if cookie is not cached.
 */
const char *ctl_rcache_lookup(struct ctl_rcache *rc, const char *cookie,
			      size_t *len);

/**
 * Cache the wire reply wire[0..len) under cookie (both copied).
 * @param now_ns CLOCK_MONOTONIC ns.
 * @return 0, -EEXIST if cookie is cached already, -ENOSPC when the
 *         cache holds CTL_RCACHE_MAX entries.
 */
int ctl_rcache_insert(struct ctl_rcache *rc, const char *cookie,
		      const char *wire, size_t len, uint64_t now_ns);

/** Drop entries older than CTL_RCACHE_TTL_NS. @return how many. */
unsigned ctl_rcache_expire(struct ctl_rcache *rc, uint64_t now_ns);

#endif /* CTL_REPLY_H */
