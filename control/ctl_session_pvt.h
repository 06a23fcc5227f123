/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_session_pvt.h: what the session modules share, and nothing outside
 * them includes. One module per concept, all on control's thread:
 *  - ctl_session.c   the table: find, create, update, delete (the
 *                    DESIRED state of each session and leg);
 *  - ctl_alloc.c     relay addresses, port pairs, owner worker, NIC
 *                    steering, --port-spill: a new socket for a leg;
 *  - ctl_reconcile.c desired against TOLD: ADD/UPDATE/DEL pushes and
 *                    prefilter entries, retries (pending), graves;
 *  - ctl_replay.c    a dataplane attaching (replay, adoption of an
 *                    earlier control's streams, orphans) or lost;
 *  - ctl_latch.c     the dataplane's latch events;
 *  - ctl_ttl.c       timeouts (-T, -W, "S ttl=") and the 1 s tick.
 */
#ifndef CTL_SESSION_PVT_H
#define CTL_SESSION_PVT_H

#include <glib.h>
#include <stdarg.h>

#include "ctl_session.h"

#define CTL_NS_PER_S 1000000000ULL
/* "[" INET6_ADDRSTRLEN "]:65535", or "none" */
#define CTL_ADDR_STRLEN (INET6_ADDRSTRLEN + 8)

struct ctl_sessions {
	struct ctl_sessions_cfg cfg;
	GHashTable *by_call;   /* char *call_id -> GPtrArray of sessions */
	GHashTable *by_serial; /* uint64_t *serial -> struct ctl_session */
	GQueue pending;        /* sessions with a refused ADD/UPDATE */
	/* ctl_sjournal.c: serials (uint64_t) of sessions whose latch events
	 * wait for one journal put at ctl_sessions_journal_defer(t, false) */
	GArray *jdeferred;
	bool jdefer_on;
	GQueue graves;         /* ctl_reconcile.c: relay sockets whose DEL
				  was refused */
	GQueue orphans;        /* ctl_replay.c: an earlier control's streams */
	GHashTable *orphan_pairs; /* laddr << 16 | RTP port -> orphans on it */
	bool abandon;          /* ctl_sessions_abandon(): push no DEL */
	uint64_t next_serial;
	uint32_t rr;           /* round robin owner choice */
	struct ctl_sessions_counters c; /* pkts_*: deleted streams only */
	struct ctl_addrs addrs; /* the relay addresses (a copy) */
	uint64_t now_ns;       /* the latest time any call was given */
	bool detached;         /* lost the dataplane: no aging (see .h) */
	uint64_t lost_ns;      /* when (ctl_dp_poll_ns()) */
	uint64_t pps_t_ns;     /* pps_in: time and packets of the last tick */
	uint64_t pps_pkts;
	struct ctl_session_store store; /* ctl_sjournal.c; put NULL: none */
};

/* ctl_session.c */

/** Time only moves forward (a caller's older clock is ignored). */
void ctl_session_clock(struct ctl_sessions *t, uint64_t now_ns);
/** "ADDR:PORT", "[ADDR]:PORT" for IPv6, "none" without an address. */
const char *ctl_session_addr_str(const struct rtpb_addr *a, char *buf,
				 size_t n);
/** Free s and its strings (not linked, no socket). */
void ctl_session_free(struct ctl_session *s);
/** Index s (by call-id, by serial). */
void ctl_session_link(struct ctl_sessions *t, struct ctl_session *s);
/** Unlink s, release its sockets (DELs), count it, free it. */
void ctl_session_destroy(struct ctl_sessions *t, struct ctl_session *s);
/** Every live session, as a new array (callers may destroy them). */
GPtrArray *ctl_sessions_all(struct ctl_sessions *t);
/** Fill err: rc, and why (printf format), or rc's meaning if fmt NULL.
 *  err may be NULL. @return rc. */
int ctl_session_err_set(struct ctl_session_err *err, int rc,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ctl_fork.c */

/** Give leg li's fork port pair back (the session ends: its streams'
 *  DELs end the dataplane's fork). */
void ctl_fork_release(struct ctl_sessions *t, struct ctl_session *s, int li);
/** Reconcile the fork of stream (leg li, rtcp) of the desired legs:
 *  RTPB_MSG_STREAM_FORK if it differs from what the dataplane was told.
 *  @return 0, or -ENOBUFS/-ENOTCONN/-ENOENT from the push. */
int ctl_fork_sync(struct ctl_sessions *t, struct ctl_leg legs[2], int li,
		  bool rtcp);

/* ctl_alloc.c */

/** "IPv4", "IPv6". */
const char *ctl_alloc_family_name(uint8_t family);
/** The pool relay address laddr takes its pairs from, or NULL. */
struct ctl_ports *ctl_alloc_pool(const struct ctl_sessions *t, int laddr);
/** A relay address and a pool of family? */
bool ctl_alloc_family_ok(const struct ctl_sessions *t, uint8_t family);
/** Relay address laddr with port (host order). */
void ctl_alloc_relay_addr(const struct ctl_sessions *t, uint8_t laddr,
			  uint16_t port, struct rtpb_addr *a);
/** The relay address leg l's socket should be on, or -1. */
int ctl_alloc_leg_addr(const struct ctl_sessions *t, const struct ctl_leg *l,
		       uint8_t want);
/** -EAFNOSUPPORT with its reason. */
int ctl_alloc_no_family(uint8_t family, struct ctl_session_err *err);
/** Relay address laddr is usable: 0, -EAFNOSUPPORT, -ENOENT, -ENOTCONN. */
int ctl_alloc_check(const struct ctl_sessions *t, int laddr,
		    struct ctl_session_err *err);
/** The worker the NIC steers laddr:port to, or -1. */
int ctl_alloc_port_worker(const struct ctl_sessions *t, int laddr,
			  uint16_t port);
/** Round robin over the workers that run. */
uint32_t ctl_alloc_owner(struct ctl_sessions *t, uint32_t n);
/** A new socket (port pair, nothing told yet) into k, for session s. */
int ctl_alloc_sock(struct ctl_sessions *t, struct ctl_session *s, int laddr,
		   bool spill, struct ctl_sock *k, struct ctl_session_err *err);
/** The address leg l must move to for its party's remote, or -1. */
int ctl_alloc_move_family(const struct ctl_sessions *t,
			  const struct ctl_leg *l,
			  const struct rtpb_addr *remote);

/* ctl_reconcile.c: legs is s->leg, or a copy being built (update) */

/** Put s on the retry queue (a refused ADD/UPDATE). */
void ctl_rec_pending(struct ctl_sessions *t, struct ctl_session *s);
/** The prefilter entry (and stream local) of a socket: RTP at port,
 *  RTCP at port + 1. */
void ctl_rec_pf_local(const struct ctl_sessions *t, uint8_t laddr,
		      uint16_t port, bool rtcp, struct rtpb_addr *a);
/** The latched peer (NULL: none) of leg li's entry in the prefilter. */
void ctl_rec_pf_latch(struct ctl_sessions *t, const struct ctl_session *s,
		      int li, bool rtcp, const struct rtpb_addr *peer,
		      uint32_t ssrc);
/** Leg li turned asymmetric: its entries lose their peer (§4.7). */
void ctl_rec_pf_asymmetric(struct ctl_sessions *t,
			   const struct ctl_session *s, int li,
			   bool was_asymmetric);
/** Open the new sockets of legs (open[li]): ids, ADDs, prefilter.
 *  legs and open have 2 elements each (pointers, not [2]: gcc 12's
 *  -Wstringop-overflow mixes the two sizes up under -fsanitize). */
int ctl_rec_open(struct ctl_sessions *t, struct ctl_session *s,
		 struct ctl_leg *legs, const bool *open,
		 struct ctl_session_err *err);
/** Push what changed of leg li (ADD/UPDATE); -errno if refused. */
int ctl_rec_leg(struct ctl_sessions *t, struct ctl_session *s,
		struct ctl_leg legs[2], int li);
/** Everything of s: ids first, then each stream's ADD/UPDATE. */
int ctl_rec_session(struct ctl_sessions *t, struct ctl_session *s);
/** Keep the streams of restored session s marked kept (in_dp without
 *  an id) as the dataplane holds them; forget the others' journalled
 *  ids. @return streams kept. */
uint32_t ctl_rec_keep(struct ctl_sessions *t, struct ctl_session *s);
/** DEL one stream, its id freed; 0, or -ENOBUFS (ring full). */
int ctl_rec_del(struct ctl_sessions *t, uint32_t id,
		const struct rtpb_addr *local, bool count);
/** Release socket k of leg li: prefilter entries, DELs, ids, port;
 *  or a grave until its DELs go. */
void ctl_rec_sock_release(struct ctl_sessions *t, const struct ctl_session *s,
			  int li, struct ctl_sock *k, bool try_del);
/** Release leg li's socket; the leg keeps its address. */
void ctl_rec_leg_release(struct ctl_sessions *t, struct ctl_session *s,
			 int li);
/** A stream's counters, all dataplanes (past + current). */
void ctl_rec_stream_counts(const struct ctl_sessions *t,
			   const struct ctl_stream *st,
			   struct rtpb_stream_stats *out);
/** Forget the graves (a new dataplane); warn: log each. */
void ctl_rec_graves_drop(struct ctl_sessions *t, bool warn);
/** The lost dataplane's counts of the graves' streams into the totals. */
void ctl_rec_graves_detach(struct ctl_sessions *t);

/* ctl_replay.c */

/** Forget every orphan (pf_del: and its prefilter entry). */
void ctl_replay_orphans_drop(struct ctl_sessions *t, bool pf_del);
/** Delete the orphans idle for -T at now_ns (UINT64_MAX: all). */
void ctl_replay_orphans_expire(struct ctl_sessions *t, uint64_t now_ns);
/** s's owner among n workers: the worker the NIC steers its first port
 *  to, else round robin. */
void ctl_replay_pick_owner(struct ctl_sessions *t, struct ctl_session *s,
			   uint32_t n);

/* ctl_sjournal.c: the journal (cfg.journal; nothing when NULL) */

/** Write s's durable record to its slot (taking one if it has none). */
void ctl_sjournal_put(struct ctl_sessions *t, struct ctl_session *s);
/** Free s's slot (kept when the table is abandoned: --keep-on-exit). */
void ctl_sjournal_drop(struct ctl_sessions *t, struct ctl_session *s);
/* ctl_sjournal_put() now, or once at the end of the
 * ctl_sessions_journal_defer() bracket around the dataplane's events. */
void ctl_sjournal_put_later(struct ctl_sessions *t, struct ctl_session *s);
/** Rewrite every live session's record (new ids, counters moved). */
void ctl_sjournal_put_all(struct ctl_sessions *t);

/* ctl_ttl.c */

/** Newest activity of s (last U/L, newest packet). */
uint64_t ctl_ttl_last(const struct ctl_sessions *t,
		      const struct ctl_session *s);

#endif /* CTL_SESSION_PVT_H */
