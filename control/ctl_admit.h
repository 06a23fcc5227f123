/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_admit.h: admission control of new sessions (DESIGN.md §8, issue 16
 * item 4), so that no client exhausts the port pools.
 *
 * Two limits, each off when 0:
 * - --max-sessions N: a U that would create session N + 1 is refused
 *   (rtpengine's --max-sessions);
 * - --max-new-rate R[/B]: new sessions per second per client address,
 *   a token bucket of depth B (default R) per source IP (the port is
 *   ignored: a SIP proxy's processes share its address); commands from
 *   unix sockets share one bucket.
 * Both answer E98, rtpproxy's ECODE_OVERLOAD (rtpp_command_ecodes.h).
 * Commands on existing sessions are never refused here.
 *
 * The bucket table is keyed with ctl_hash (sources come from the
 * network) and bounded (CTL_ADMIT_MAX_SOURCES): a full bucket is the
 * same as no bucket, so ctl_admit_tick() forgets those; when the table
 * is still full, new sources share one overflow bucket.
 *
 * Refusals are counted and logged at most once per second per limit,
 * with the number refused since the last line. Control's thread only;
 * time is a parameter (CLOCK_MONOTONIC ns).
 */
#ifndef CTL_ADMIT_H
#define CTL_ADMIT_H

#include <stdint.h>
#include <sys/socket.h>

/** Sources with a bucket at most (then they share an overflow one). */
#define CTL_ADMIT_MAX_SOURCES 65536

/** Configuration; 0 turns a limit off. */
struct ctl_admit_cfg {
	uint32_t max_sessions; /**< live sessions at most */
	uint32_t rate;         /**< new sessions per second per source */
	uint32_t burst;        /**< bucket depth, sessions; 0: rate */
};

/** Counters (G nadmit_*, I). */
struct ctl_admit_counters {
	uint64_t refused_max;  /**< U refused: --max-sessions reached */
	uint64_t refused_rate; /**< U refused: the source's bucket was empty */
	uint64_t sources;      /**< sources with a bucket now */
};

struct ctl_admit;

/** @return the limiter, or NULL on ENOMEM. */
struct ctl_admit *ctl_admit_create(const struct ctl_admit_cfg *cfg);

/** Free (NULL is fine). */
void ctl_admit_destroy(struct ctl_admit *a);

/**
 * May src create a session now, with active sessions live? Takes a
 * token from src's bucket when it may.
 * @param src the command's sender (AF_INET, AF_INET6); NULL or another
 *            family (unix sockets): the local bucket.
 * @return 0, -EUSERS (--max-sessions reached) or -EAGAIN (src over its
 *         rate); refusals are counted and logged (rate-limited).
 */
int ctl_admit_session(struct ctl_admit *a, unsigned active,
		      const struct sockaddr *src, uint64_t now_ns);

/** 1 s housekeeping: forget buckets that refilled (nothing to remember). */
void ctl_admit_tick(struct ctl_admit *a, uint64_t now_ns);

/** Copy the counters (zeros for NULL). */
void ctl_admit_counters(const struct ctl_admit *a, struct ctl_admit_counters *c);

#endif /* CTL_ADMIT_H */
