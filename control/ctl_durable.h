/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_durable.h: a session's durable state as a versioned byte record
 * (DESIGN.md §2, issue 16 item 2), what control's journal (ctl_journal.h)
 * keeps per session, and what a later shared store (Redis, issue 21)
 * can keep as well: pure functions, no I/O, no allocation.
 *
 * struct ctl_durable is a flat view of what ctl_session.h marks durable
 * (plus what a restarted control needs to re-resolve a notify target:
 * its -n name and the addresses of the U that armed it, ctl_tnotify.h).
 * Strings are (pointer, length) pairs: into the session when
 * serializing, into the record when parsed (the record must outlive the
 * view). ctl_durable_from_session() fills one from a live session.
 *
 * Record format, version CTL_DURABLE_VERSION; integers little-endian,
 * whatever the host (a Redis peer may be another machine):
 *   magic "RBDS" (4), version u16, record length u16 (the whole record),
 *   serial u64, owner u32, flags u8 (CTL_DURABLE_F_*),
 *   created_ns u64, last_ns u64, ttl_ns u64,
 *   strings: call_id, from_tag, to_tag, notify_tag, notify_name, each
 *     u16 length + bytes (no NUL inside; call_id and from_tag non-empty),
 *   notify_src, notify_local: address (below),
 *   two legs, each: port u16, family u8, laddr u8, flags u8
 *     (CTL_DURABLE_LEG_*), ptime i32, remote: address, codecs: string,
 *     two streams (RTP, RTCP), each: id u32, has_id u8, cookie u64,
 *     latched: address, latched_ssrc u32, pkts_in u64, pkts_relayed u64,
 *     pkts_dropped u64.
 *   address: family u8 (enum rtpb_af), port u16 (host order value),
 *     16 bytes ip (network order; IPv4 in the first 4, the rest zero).
 * A record is refused (-EINVAL, never a crash) when anything is out of
 * range, truncated or has bytes left over; a newer version is -ENOTSUP.
 */
#ifndef CTL_DURABLE_H
#define CTL_DURABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtpb_addr.h"

struct ctl_session;

/** Record format version written by ctl_durable_write(). */
#define CTL_DURABLE_VERSION 1
/** The record's first 4 bytes. */
#define CTL_DURABLE_MAGIC "RBDS"
/** Largest record (the u16 length field). */
#define CTL_DURABLE_MAX 65535u

/** Session flags. */
#define CTL_DURABLE_F_STRONG   0x01u
#define CTL_DURABLE_F_COMPLETE 0x02u
#define CTL_DURABLE_F_NOTIFY   0x04u /**< a notify target is armed */
#define CTL_DURABLE_F_ALL      0x07u

/** Leg flags. */
#define CTL_DURABLE_LEG_PINNED     0x01u
#define CTL_DURABLE_LEG_HAS_REMOTE 0x02u
#define CTL_DURABLE_LEG_ONHOLD     0x04u
#define CTL_DURABLE_LEG_ASYMMETRIC 0x08u
#define CTL_DURABLE_LEG_WEAK       0x10u
#define CTL_DURABLE_LEG_ALL        0x1fu

/** A string of the view: len bytes at p, not NUL-terminated. */
struct ctl_durable_str {
	const char *p; /**< NULL only when len is 0 */
	uint16_t len;
};

/** One dataplane stream of a leg, as the dataplane knows it. */
struct ctl_durable_stream {
	uint32_t id;           /**< stream id, valid if has_id */
	bool has_id;
	uint64_t cookie;       /**< the dataplane's cookie: the session serial */
	struct rtpb_addr latched; /**< last latched peer (family NONE: none) */
	uint32_t latched_ssrc; /**< its SSRC, host order */
	uint64_t pkts_in;      /**< earlier dataplanes' counters (ctl_stream_past) */
	uint64_t pkts_relayed;
	uint64_t pkts_dropped;
};

/** One leg. */
struct ctl_durable_leg {
	uint16_t port;    /**< RTP relay port, host order; 0: none */
	uint8_t family;   /**< enum rtpb_af of the socket */
	uint8_t laddr;    /**< relay address index (< CTL_ADDRS_MAX) */
	uint8_t flags;    /**< CTL_DURABLE_LEG_* */
	int32_t ptime;    /**< ms, -1 none */
	struct rtpb_addr remote; /**< signalled peer, network order */
	struct ctl_durable_str codecs;
	struct ctl_durable_stream st[2]; /**< RTP, RTCP */
};

/** A session's durable state. */
struct ctl_durable {
	uint64_t serial;
	uint32_t owner;
	uint8_t flags;            /**< CTL_DURABLE_F_* */
	uint64_t created_ns;      /**< CLOCK_MONOTONIC */
	uint64_t last_ns;
	uint64_t ttl_ns;          /**< "S ttl=", 0 none */
	struct ctl_durable_str call_id;
	struct ctl_durable_str from_tag;
	struct ctl_durable_str to_tag;      /**< may be empty */
	struct ctl_durable_str notify_tag;  /**< URL-decoded; may be empty */
	struct ctl_durable_str notify_name; /**< the U's notify socket name */
	struct rtpb_addr notify_src;   /**< the U's source (%%CC_SELF%%) */
	struct rtpb_addr notify_local; /**< the control socket's address */
	struct ctl_durable_leg leg[2];
};

/**
 * The record size d needs, bytes (what ctl_durable_write() writes),
 * or 0 if a string is longer than 65535 or the total exceeds
 * CTL_DURABLE_MAX.
 */
size_t ctl_durable_size(const struct ctl_durable *d);

/**
 * Serialize d into buf.
 * @return the record's length, or -E2BIG if it does not fit in bufsz
 *         (or in CTL_DURABLE_MAX); nothing useful is in buf then.
 */
int ctl_durable_write(const struct ctl_durable *d, void *buf, size_t bufsz);

/**
 * Parse a record; d's strings point into buf (keep it).
 * @return 0, -EINVAL (truncated, corrupt, out of range, trailing bytes),
 *         or -ENOTSUP (another version). d is undefined on error.
 */
int ctl_durable_parse(const void *buf, size_t len, struct ctl_durable *d);

/**
 * Fill d from a live session (strings point into s; no notify name or
 * addresses: the caller sets them, ctl_sessions keeps them apart).
 */
void ctl_durable_from_session(const struct ctl_session *s,
			      struct ctl_durable *d);

#endif /* CTL_DURABLE_H */
