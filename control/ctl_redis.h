/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_redis.h: control's session state in Redis (--redis, DESIGN.md §7,
 * issue 21 item 2), so that a standby relay can take over a dead relay's
 * calls (ctl_redis_restore()). Off by default: without --redis the relay
 * runs alone on its journal (ctl_journal.h), as before.
 *
 * What is written: each live session's ctl_durable record (ctl_durable.h,
 * the journal's very record, not a second serialisation), written when
 * the session's durable state changes (the journal's hook points: U, L,
 * a latch event, S ttl=, notify armed, a dataplane attached or lost),
 * deleted when it ends (D, X, timeout). Never per packet. Key layout
 * (docs/REDIS.md), with PREFIX = --redis-key-prefix (default "rtpb") and
 * RELAY = --redis-relay-id (default: the host name):
 *   PREFIX:RELAY:s:SERIAL  string, the session's ctl_durable record,
 *                          SERIAL in decimal; EX = the session's TTL
 *                          limit + CTL_REDIS_TTL_MARGIN_S, refreshed
 *                          while the session lives;
 *   PREFIX:RELAY:idx       set of the SERIALs written (the index);
 *   PREFIX:RELAY:meta      hash: version, host, pid, resyncs, the time
 *                          of the last resync (Unix seconds).
 *
 * Never blocking command replies: writes go through a hiredis
 * asynchronous context that control's loop drives (ctl_redis_run(): a
 * poll() with no wait on its socket, then hiredis' read and write
 * handlers). A change only marks its session dirty, keeping the newest
 * record: several changes before the next write are one write
 * (coalesced: only the latest state matters). At most queue_max sessions
 * wait; beyond, or while Redis is down, a change is dropped (counted)
 * and Redis is re-synchronised from the live table as soon as it can
 * take it. A lost connection is retried with backoff (100 ms doubling
 * to 5 s); on every (re)connection the whole state is written again
 * (a resync): the index is read, keys of sessions no longer live are
 * deleted, every live session is written, so Redis holds exactly the
 * live sessions. An error reply is counted and logged (the next change
 * of that session, or the next resync, writes it again).
 *
 * Control's thread only. Time is a parameter (CLOCK_MONOTONIC ns).
 */
#ifndef CTL_REDIS_H
#define CTL_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_sessions;
struct ctl_redis;

/** Default key prefix (--redis-key-prefix). */
#define CTL_REDIS_PREFIX_DEFAULT "rtpb"
/** Seconds a session key outlives the session's TTL limit. */
#define CTL_REDIS_TTL_MARGIN_S 30u
/** Default bound on sessions waiting to be written (queue_max). */
#define CTL_REDIS_QUEUE_MAX 16384u
/** Default bound on ctl_redis_restore(), ms. */
#define CTL_REDIS_RESTORE_TIMEOUT_MS 2000u
/** Longest relay id and key prefix, bytes. */
#define CTL_REDIS_ID_MAX 64u

/** Where Redis is: "HOST:PORT[/DB]", "[IPV6]:PORT[/DB]", "unix:PATH". */
struct ctl_redis_addr {
	char host[256]; /**< name or literal; the socket path if unix */
	uint16_t port;  /**< 0 for a unix socket */
	bool unix_sock;
	uint32_t db;    /**< SELECTed after connecting when non-zero */
	char text[280]; /**< as given, for logs */
};

/** Configuration (strings copied by ctl_redis_create()). */
struct ctl_redis_cfg {
	struct ctl_redis_addr addr;
	const char *prefix;   /**< NULL: CTL_REDIS_PREFIX_DEFAULT */
	const char *relay_id; /**< NULL: gethostname() */
	uint32_t queue_max;   /**< 0: CTL_REDIS_QUEUE_MAX */
};

/** Counters (I, G, metrics, rtpb-ctl). */
struct ctl_redis_counters {
	uint64_t writes;     /**< session records written (SET) */
	uint64_t deletes;    /**< session keys deleted (DEL) */
	uint64_t refreshes;  /**< key TTLs refreshed (EXPIRE) */
	uint64_t drops;      /**< changes not written: queue full or Redis
				  down (a resync follows) */
	uint64_t errors;     /**< error replies and failed connections */
	uint64_t resyncs;    /**< full rewrites done (every connection) */
	uint64_t connects;   /**< connections established */
	uint32_t pending;    /**< sessions waiting to be written now */
	uint32_t inflight;   /**< commands sent, reply not yet read */
	bool connected;      /**< connected and resynchronised */
};

/**
 * Parse --redis: "HOST:PORT", "HOST:PORT/DB", "[IPV6]:PORT[/DB]" or
 * "unix:PATH". HOST may be a name (resolved at each connection).
 * @return 0, or -EINVAL with the reason in err.
 */
int ctl_redis_parse_addr(const char *s, struct ctl_redis_addr *out,
			 char *err, size_t errsz);

/**
 * Check a relay id or key prefix: 1..CTL_REDIS_ID_MAX bytes of
 * [A-Za-z0-9._-]. @return true if usable.
 */
bool ctl_redis_id_ok(const char *id);

/**
 * A Redis writer for the session table t: installs itself as t's durable
 * store (ctl_sessions_set_store()) and starts connecting (non-blocking;
 * nothing waits for Redis). t must outlive it.
 * @return the writer, or NULL with errno set and the reason in err.
 */
struct ctl_redis *ctl_redis_create(const struct ctl_redis_cfg *cfg,
				   struct ctl_sessions *t, char *err,
				   size_t errsz);

/**
 * Drive the connection, from control's loop, every iteration: reconnect
 * when due, read replies, send what waits (a resync first if one is
 * needed, then the dirty sessions, then TTL refreshes that are due).
 * Never waits (poll() with a zero timeout).
 * @param now_ns CLOCK_MONOTONIC.
 */
void ctl_redis_run(struct ctl_redis *r, uint64_t now_ns);

/**
 * Flush what waits for at most flush_ms (0: not at all), then
 * disconnect and free. Keys stay in Redis. It does not touch the table:
 * call it after ctl_sessions_destroy() (whose deletes it then flushes)
 * or ctl_sessions_abandon(), or after ctl_sessions_set_store(t, NULL).
 * NULL is fine.
 */
void ctl_redis_close(struct ctl_redis *r, uint32_t flush_ms);

/** Fill c. */
void ctl_redis_counters(const struct ctl_redis *r,
			struct ctl_redis_counters *c);

/** This relay's id (the RELAY of its keys). */
const char *ctl_redis_relay_id(const struct ctl_redis *r);

/** ctl_redis_restore() flags. */
/** Delete the source relay's keys and index once its sessions are
 *  restored (they are written under this relay's id from then on); no
 *  effect when the source is this relay's own id. */
#define CTL_REDIS_RESTORE_TAKE 0x1u

/** What ctl_redis_restore() did. */
struct ctl_redis_restore_stats {
	uint32_t found;     /**< SERIALs in the source's index */
	uint32_t restored;  /**< sessions now in the table */
	uint32_t dropped;   /**< records unreadable, expired, or whose
			       session could not be restored (logged with
			       its call-id: port taken, address not
			       configured...) */
	uint32_t present;   /**< call-id and from-tag already live here:
			       skipped */
	uint64_t elapsed_ns;
};

/**
 * Take over relay_id's sessions (a standby on failover, DESIGN.md §7):
 * read every session record of relay_id from Redis over a blocking
 * connection of its own (r's address, prefix and db), bounded by
 * timeout_ms in all, and restore each into t as the journal restore does
 * (ctl_sessions_restore_durable(): call-ids, tags, legs with their relay
 * ports taken back, signalled and latched peers, SSRCs, notify targets,
 * flags, earlier counters; timers restart at now_ns). Then hand them to
 * the install path: with a dataplane attached their streams are pushed
 * at once, each ADD carrying its latched peer, so media flows to the
 * same peers with no re-INVITE; without one the replay pushes them when
 * a dataplane attaches. Restored sessions are journalled and written to
 * Redis under this relay's id. Synchronous: the loop waits (once, at
 * takeover). relay_id may be this relay's own (a restart with no
 * journal).
 * @param r      the writer (its address and prefix); must not be NULL.
 * @param flags  CTL_REDIS_RESTORE_*.
 * @param st     out, may be NULL.
 * @return the number of sessions restored (>= 0), or -ETIMEDOUT (the
 *         bound was reached: what was restored by then stays, st says
 *         how many), -ECONNREFUSED / -EIO (Redis unreachable or an
 *         error reply; nothing restored), -EINVAL (bad relay_id).
 */
int ctl_redis_restore(struct ctl_redis *r, struct ctl_sessions *t,
		      const char *relay_id, uint32_t timeout_ms,
		      unsigned flags, uint64_t now_ns,
		      struct ctl_redis_restore_stats *st);

#endif /* CTL_REDIS_H */
