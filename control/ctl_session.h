/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_session.h: control's session table, the authority on every call.
 *
 * A session (rtpproxy struct rtpp_session) is keyed by call-id plus the
 * from_tag of the U that created it (the offerer's tag, medianum suffix
 * ";N" included). It has two legs, leg[0] and leg[1] (rtpproxy
 * stream[0]/stream[1]): leg i has relay port P_i (even, lazily allocated:
 * U opens the leg it answers with, L the other), receives on P_i from its
 * remote and sends to it. A packet received on leg i is relayed out of
 * leg !i's socket to leg !i's remote. Each leg with a port has two
 * dataplane streams: RTP on (relay, P_i) and RTCP on (relay, P_i + 1).
 *
 * Relay addresses (ctl_addrs.h): a leg's socket is on one of the
 * configured addresses (leg.laddr). When the command chose it (pinned:
 * the bridge sides 'I'/'E', or 'l'/'r'), the leg keeps it; otherwise it
 * is the default address of the family the rules below pick. There is
 * one port pool per family (rtpproxy: one port table per family) over
 * the same range, so a port number is used at most once per family.
 *
 * Address families (DESIGN.md §4.8, issue 3). A leg's
 * relay socket is in the family of that leg's own signalled address (its
 * remote: the party that sends to P_i and receives from it), so a call
 * whose parties are in different families is bridged, the dataplane
 * relaying between families. A leg opened before its party's address is
 * known (leg 0 on the creating U: the answerer is not known yet) takes
 * the family of the command, as rtpproxy does (its '6' modifier picks the
 * relay address of the reply). With one family configured, a command of
 * the other family is refused with E36 by the parser, as rtpproxy does
 * (rpcpv1_ul.c: no local address of the requested family); should a
 * leg's remote ever be of an unconfigured family, the command's family
 * (configured, the parser saw to it) is used.
 *
 * A leg changes family (new port from the other pool, ADDs of new streams,
 * the other leg re-pointed with UPDATEs, DELs of the old streams, old
 * port freed, in that order so that no stream ever points at a deleted
 * one) only when its new port can reach its party:
 * - a U (an offer) signals a new family for leg pidx: its port goes to
 *   that party in the reply of the answer's L (sidx there);
 * - any U/L returns the port of a leg whose remote is of another family
 *   than its socket (sidx): the reply carries the new port.
 * A pinned leg never changes family by itself.
 * An L (an answer) signalling a new family for a leg whose port was
 * already given to that party (in the offer) does not move it: the party
 * could not learn a new port before its next offer/answer. Until then
 * the dataplane gets no signalled peer for that leg (its socket cannot
 * send to the other family) and latches on the party's first packet.
 * A move needs the dataplane attached and serving the new family's
 * address; otherwise the command fails (E71) and the leg keeps its
 * socket and its previous signalled address.
 *
 * The dataplane (ctl_reconcile.c, the one module that tells it anything;
 * replays in ctl_replay.c): every stream gets its id from the session's owner
 * worker and is pushed as
 * RTPB_MSG_STREAM_ADD, then RTPB_MSG_STREAM_UPDATE whenever the wanted
 * message (signalled peer, flags, out_stream_id) differs from the last
 * one the ring took. A push refused by a full ring is retried from
 * ctl_sessions_flush(); a stream whose DEL was refused keeps its id and
 * port until a retry succeeds, so neither is reused while the dataplane
 * may still hold the stream. After the dataplane (re)attaches,
 * ctl_sessions_replay() pushes every live session again.
 *
 * The owner (ctl_alloc.c): when the dataplane's NIC steers relay sockets to queues by
 * destination (rtpb_steer.h), the worker leg 0's RTP port reaches, and
 * every later port of the session is one that reaches it too (up to
 * CTL_STEER_TRIES free pairs looked at; else any, counted in
 * steer_misses, whose packets the dataplane hands off); otherwise round
 * robin at creation. A new session is not given to a worker control
 * sees stalled (ctl_dp_workers_stalled()) while another runs: round
 * robin passes over it, and with steering leg 0 takes a pair steered to
 * a running worker if one of CTL_STEER_TRIES free pairs is.
 *
 * The prefilter (DESIGN.md §5; ctl_reconcile.c), when cfg.pf is set: each leg's
 * relay socket has two pf_socks entries, RTP (P) and RTCP (P + 1), added
 * unlatched right after the dataplane took the socket's ADDs (a refused
 * add fails the command like a refused ADD) and deleted just before its
 * DELs are pushed (D, X, timeout, a family move's old socket), even when
 * those DELs must wait: the front closes before the back, and opens
 * after it. A latch event of a symmetric leg's stream sets the entry's
 * peer (ctl_pf_sock_latch()), so other sources are budgeted from then
 * on; asymmetric legs ('A') never have a peer there (they accept their
 * signalled host on any port, and the prefilter compares ports), and a
 * leg turning asymmetric loses it. A new dataplane (replay) has latched
 * nothing yet, so every entry loses its peer too. The entries outlive
 * control's dataplane handle, not control: ctl_sessions_destroy()
 * deletes them.
 *
 * Timeouts (ctl_ttl.c; rtpproxy -T, -W; src/rtpp_proc_ttl.c): a session idle
 * (no U/L, no packet accepted on any of its streams) for longer than its
 * limit is destroyed on the 1 s tick: -W (setup_ttl_ns) until both legs
 * have ports, then -T (ttl_ns); an "&& S ttl=N" sub-command sets N until
 * the session completes. A session a U armed with a notify target gets
 * cfg.on_timeout() called just before (rtpproxy writes its tag there).
 *
 * Dataplane restarts (ctl_replay.c; DESIGN.md §2, issue 16): time without a dataplane
 * is not time without media. When control loses a dataplane, its
 * streams' last packet times and counters are read one last time
 * (ctl_sessions_detach()): the times into each session's last activity,
 * the counters into struct ctl_stream_past. Until a dataplane is back no
 * session times out (and no notification goes; Q's ttl stands still),
 * and the replay pushes every session's TTL clock forward by the time
 * without one.
 *
 * Control's thread only. Time is always a parameter (CLOCK_MONOTONIC ns).
 */
#ifndef CTL_SESSION_H
#define CTL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_addrs.h"
#include "ctl_dp.h"
#include "ctl_fork.h"
#include "ctl_pf.h"
#include "ctl_ports.h"
#include "rtpb_msg.h"

/** rtpproxy UPDATE_WINDOW: learning window after a signalling event. */
#define CTL_LEARN_MS 10000

/**
 * What earlier dataplane generations counted on a stream, packets: the
 * counters of a dataplane are read one last time when control loses it
 * (ctl_sessions_detach()) and added here, so Q, I and G report this plus
 * what the current dataplane counts, and never go back across a
 * dataplane restart.
 */
struct ctl_stream_past {
	uint64_t pkts_in;
	uint64_t pkts_relayed;
	uint64_t pkts_dropped;
};

/*
 * Desired and told. Each leg's DESIRED state is what the sessions say:
 * its relay socket (ctl_sock's port, family, laddr), its signalled peer
 * and flags (struct ctl_leg). What the dataplane and the prefilter were
 * TOLD about it is kept apart, in each socket's ctl_stream records and
 * in_pf; ctl_reconcile.c alone turns the difference into ring messages
 * and map updates. Fields marked "durable" are the state a control
 * restart must get back (plain values, no pointers, fixed size); the
 * others are rebuilt from the dataplane (ids, what was sent) or are
 * counters.
 */

/** What the dataplane was told of one stream (RTP or RTCP) of a socket. */
struct ctl_stream {
	uint32_t id;      /**< stream id, valid if has_id; in a session
			       restored from the journal and not replayed
			       yet, the earlier control's (RTPB_STREAM_NONE:
			       none), matched at attach (ctl_rec_keep()) */
	bool has_id;      /**< id allocated from the current dataplane */
	bool in_dp;       /**< an ADD was accepted by the ring */
	struct rtpb_msg_stream sent; /**< the last ADD/UPDATE accepted (peer aside) */
	struct ctl_stream_past past; /**< earlier dataplanes' counters (durable) */
	/** The peer the dataplane last reported this stream latched to
	 *  (family NONE if none) and its SSRC (host order): a replay into a
	 *  restarted dataplane starts the stream latched to it, so a third
	 *  host in the replay's learning window reaches nobody (§4.9).
	 *  Durable. */
	struct rtpb_addr latched;
	uint32_t latched_ssrc;
	/** A U/L signalled this stream's leg since its last push: an UPDATE
	 *  goes out even if nothing changed, so the dataplane opens a new
	 *  learning window (rtpproxy re-learns after every update). */
	bool resignal;
	/** Told: the fork the dataplane was last told (RTPB_MSG_STREAM_FORK
	 *  accepted by the ring): its target (family NONE: not forking) and
	 *  its socket's port (network order). An ADD clears it. */
	struct rtpb_addr fork_told;
	uint16_t fork_told_port;
};

/** A leg's relay socket: RTP on port, RTCP on port + 1. */
struct ctl_sock {
	uint16_t port;      /**< RTP relay port, host order; 0 = none (durable) */
	uint8_t family;     /**< enum rtpb_af of the socket (durable) */
	uint8_t laddr;      /**< its relay address: index in the table (durable) */
	bool in_pf;         /**< told: the prefilter has its two entries */
	struct ctl_stream rtp;  /**< told: its RTP stream */
	struct ctl_stream rtcp; /**< told: its RTCP stream */
};

/** One leg (rtpproxy stream[i] of both the RTP and the RTCP pipe). */
struct ctl_leg {
	struct ctl_sock sock; /**< its relay socket (sock.port 0: none yet) */
	bool pinned;        /**< sock.laddr chosen by a command (E/I, l, r);
				 set before the leg has a port (durable) */
	bool has_remote;    /**< remote is the signalled peer (durable) */
	bool onhold;        /**< signalled 0.0.0.0 (durable) */
	bool asymmetric;    /**< 'A': never latch (durable) */
	bool weak;          /**< rtpproxy weak[i] flag ('W') (durable) */
	int ptime;          /**< 'Z' ms, -1 none (stored, not applied; durable) */
	char *codecs;       /**< 'c' list, owned, NULL none (stored; a journal
				 writes the string) */
	struct rtpb_addr remote; /**< RTP peer, network byte order (durable) */
	/** Recording id of the party whose packets this leg's socket
	 *  receives (leg 1: the from-tag party, ".o"; leg 0: ".a"), 0 none
	 *  (ctl_recorder.h; not durable: a new control starts none). */
	uint32_t rec_id;
	bool rec_rtcp;      /**< its RTCP stream records too (not -R) */
	/* "&& S tos=", "&& M3:1" (docs/DTMF.md; not durable, as rec_id) */
	bool has_tos;       /**< its socket's packets leave with tos */
	uint8_t tos;        /**< IPv4 TOS / IPv6 traffic class byte */
	bool dtmf;          /**< catch_dtmf: report this party's events */
	uint8_t dtmf_pt;    /**< their payload type, 0..127 */
	bool dtmf_hide;     /**< 'h': drop them instead of relaying */
	int dtmf_target;    /**< ctl_tnotify index the reports go to */
	char *dtmf_tag;     /**< URL-decoded tag, owned */
	/** Forking (rtpproxy 'C udp:host:port', ctl_fork.h): the same
	 *  party's packets copied to a remote target; port 0 none (not
	 *  durable: a control restart ends it). */
	struct ctl_fork fork;
	/** "&& C": the session leg that forks into this leg's socket (its
	 *  fork stops when this session ends). Not durable. */
	struct ctl_fork_tap tap;
	/** Playback (ctl_player.h): what this leg's RTP socket receives is
	 *  dropped (RTPB_STREAM_F_HOLD), a prompt plays to the other party
	 *  (not durable: a new control plays nothing). */
	bool held;
};

/**
 * One session. Read-only outside the session modules. Durable: call_id,
 * from_tag, notify_tag (strings a journal writes), serial, owner,
 * strong, complete, created_ns, last_ns, ttl_ns, notify_target, and
 * each leg's durable fields; the rest is bookkeeping (pending) or
 * counters.
 */
struct ctl_session {
	char *call_id;   /**< owned */
	char *from_tag;  /**< creating U's from_tag, owned */
	uint64_t serial; /**< unique, never reused; stream cookies hold it;
			      0 until it joins the table (ctl_session_new()) */
	uint32_t owner;  /**< worker owning all its streams */
	bool owner_open; /**< the first port decides the owner (steering) */
	bool strong;     /**< rtpproxy strong flag */
	bool complete;   /**< both legs have ports */
	bool pending;    /**< on the retry queue */
	uint64_t created_ns;
	uint64_t last_ns; /**< last U/L on it (or packet, up to the loss of a
			       dataplane), pushed forward by the time
			       control had none */
	uint64_t ttl_ns;  /**< "S ttl=" limit until complete, 0: -W/-T */
	int notify_target; /**< ctl_tnotify index armed by U, -1 none */
	char *notify_tag;  /**< its URL-decoded tag, owned */
	uint32_t latches; /**< latch events seen for its streams (all reasons) */
	uint32_t handovers;    /**< of which RTPB_LATCH_SSRC / _PROBATION */
	uint32_t rtcp_follows; /**< of which RTPB_LATCH_RTCP_FOLLOW */
	uint32_t reverts;      /**< of which RTPB_LATCH_REVERT (a source refused) */
	uint32_t reoffers;     /**< of which RTPB_LATCH_REOFFER */
	struct ctl_leg leg[2];
	/* the journal (ctl_sjournal.c) */
	int32_t jslot;     /**< its slot in cfg.journal, -1 none */
	uint32_t jlen;     /**< bytes of the record last written to jslot */
	uint64_t jhash;    /**< XXH64 of that record; 0: none written here */
	bool jskip;        /**< not journalled (too large, journal full) */
	bool jdirty;       /**< its put waits in ctl_sessions_journal_defer() */
	char *notify_name; /**< the U's notify socket name, owned (durable) */
	struct rtpb_addr notify_src;   /**< the U's source (%%CC_SELF%%) */
	struct rtpb_addr notify_local; /**< control socket's own address */
	bool jrestored;    /**< rebuilt from the journal, not replayed yet */
};

struct ctl_sessions;

/** The recorder's hook (struct ctl_sessions_cfg.on_rec). */
typedef void(ctl_session_rec_fn)(struct ctl_sessions *t, struct ctl_session *s,
				 bool created, void *arg);

/**
 * Called when a session armed with a notify target times out, before it
 * is destroyed (rtpproxy's timeout notification).
 * @param target the ctl_tnotify index; tag the URL-decoded notify tag.
 */
typedef void(ctl_session_timeout_fn)(int target, const char *tag,
				     const char *call_id, void *arg);

/**
 * Resolve a journalled notify target again (ctl_tnotify_lookup() with
 * the U's source and the control socket's address; family NONE: none).
 * @return the target index, or -1.
 */
typedef int(ctl_session_notify_resolve_fn)(const char *name,
					   const struct rtpb_addr *src,
					   const struct rtpb_addr *local,
					   void *arg);

/**
 * Configuration of the table; dp and the pools stay owned by the caller.
 * A family is configured when one of its addresses and its pool are
 * given. The addresses are addrs (copied) or, when NULL, relay_ip and
 * relay6 (ctl_addrs_from_relays(): IPv4 first).
 *
 * Pools: addr_ports[i] is relay address i's own pool (its port pairs are
 * used on that address only); an address without one takes its pairs
 * from its family's pool (ports, ports6), which its family's other
 * addresses without one share (rtpproxy: one port table per family).
 */
struct ctl_sessions_cfg {
	struct ctl_dp *dp;
	struct ctl_ports *ports;  /**< the pool of relay_ip; NULL: no IPv4 */
	uint32_t relay_ip;        /**< IPv4 relay address (-l), network order;
				       0: no IPv4 */
	struct ctl_ports *ports6; /**< the pool of relay6; NULL: no IPv6 */
	uint8_t relay6[16];       /**< IPv6 relay address (-6), network order */
	const struct ctl_addrs *addrs; /**< the relay addresses; NULL: above */
	/** Pool of each relay address (index in addrs); NULL: the family's. */
	struct ctl_ports *addr_ports[CTL_ADDRS_MAX];
	/** --port-spill: a leg whose address the command did not choose,
	 *  and whose family's default address has no free pair, takes a
	 *  pair of the family's next address (in -l order) that has one;
	 *  its reply carries that address (Kamailio's rtpproxy module puts
	 *  it in the SDP). false: E71, as rtpproxy. */
	bool spill;
	uint64_t ttl_ns;         /**< rtpproxy -T, ns */
	uint64_t setup_ttl_ns;   /**< rtpproxy -W, ns; 0: ttl_ns */
	ctl_session_timeout_fn *on_timeout; /**< NULL: none */
	void *timeout_arg;
	/** Called when a session joins the table (created) and before one
	 *  is destroyed (D, X, timeout): the recorder's start (-a) and stop
	 *  (ctl_recorder.h). NULL: none. */
	ctl_session_rec_fn *on_rec;
	void *rec_arg;
	uint32_t learn_ms;       /**< learning window, CTL_LEARN_MS */
	struct ctl_pf *pf;       /**< the prefilter's maps; NULL: none */
	/** The session journal (--journal, ctl_journal.h), owned by the
	 *  caller: each live session's durable record (ctl_durable.h) is
	 *  kept in a slot of it. NULL: none. */
	struct ctl_journal *journal;
	/** Restored sessions' notify targets; NULL: a restored session
	 *  has none. */
	ctl_session_notify_resolve_fn *notify_resolve;
	void *notify_resolve_arg;
};

/** Buckets of the per-call quality histograms (upper bounds, base units):
 *  loss ratio and jitter seconds. */
#define CTL_QUALITY_NBUCKETS 8
#define CTL_QUALITY_LOSS_BOUNDS {0.0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2}
#define CTL_QUALITY_JITTER_BOUNDS {0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2}

/** Counters for I, G and Q; packets from the dataplane's stream stats. */
struct ctl_sessions_counters {
	uint64_t created;    /**< nsess_created */
	uint64_t destroyed;  /**< nsess_destroyed */
	uint64_t timeouts;   /**< nsess_timeout */
	uint64_t completed;  /**< nsess_complete */
	uint64_t active;     /**< live sessions */
	uint64_t streams;    /**< RTP streams as rtpproxy counts them ("active
				  streams"): two per session */
	uint64_t legs;       /**< legs with a port (relay sockets) */
	uint64_t pkts_in;    /**< received, live + deleted RTP/RTCP streams */
	uint64_t pkts_relayed; /**< relayed, live + deleted streams */
	uint64_t latches;    /**< latch events (all reasons) */
	uint64_t handovers;  /**< of which handovers (SSRC, PROBATION) */
	uint64_t handover_dropped; /**< packets dropped in their probation */
	uint64_t rtcp_follows; /**< of which RTCP following its RTP stream */
	uint64_t reverts;      /**< of which a previous peer winning back (§4.9) */
	uint64_t reoffers;   /**< of which re-offers taken by the dataplane */
	uint64_t family_moves; /**< legs moved to a socket of another family */
	uint64_t steer_misses; /**< ports taken that the NIC steers to another
				    worker than their session's (see top) */
	uint64_t adopted;      /**< streams found in the dataplane at attach
				    that belong to no session here (an
				    earlier control's): kept relaying until
				    idle for -T, then deleted */
	uint64_t orphans;      /**< of which still kept */
	uint64_t port_spills;  /**< legs opened on another address of their
				    family: the default had no free pair
				    (ctl_sessions_cfg.spill) */
	uint64_t push_fail;  /**< ADD/UPDATE/DEL refused (ring full etc.) */
	uint64_t nortp;      /**< nsess_nortp: ended with no RTP either way */
	uint64_t owrtp;      /**< nsess_owrtp: ended with RTP one way only */
	uint64_t nortcp;     /**< nsess_nortcp */
	uint64_t owrtcp;     /**< nsess_owrtcp */
	uint64_t pkts_dropped; /**< npkts_discard, live + deleted streams */
	uint64_t journal_writes;  /**< session records written to the journal */
	uint64_t journal_skipped; /**< sessions not journalled (record too
				       large for a slot, or no free slot) */
	/* the journal, more (issue 16 item 4; slots are 0 without one) */
	uint64_t journal_write_errors; /**< record writes that failed (too
					    large, journal full, refused) */
	uint64_t journal_restored; /**< sessions restored at start */
	uint64_t journal_dropped;  /**< records dropped at start (unreadable,
					not restorable, torn or corrupt) */
	uint64_t journal_slots_used; /**< slots taken now (gauge) */
	uint64_t journal_slots_free; /**< slots free now (gauge) */
	uint64_t streams_kept; /**< streams of restored sessions kept in the
				    dataplane at attach, in place (no DEL/ADD:
				    no packet lost) */
	/** G rtpa_*: RTP analysis of the RTP streams of ended sessions,
	 *  added at session end (rtpproxy adds at stream end), packets */
	uint64_t rtpa_nsent, rtpa_nrcvd, rtpa_ndups, rtpa_nlost, rtpa_perrs;
	/** Per-call quality at session end, per direction with packets
	 *  (ctl_metrics.c's histograms): counts per bucket of
	 *  CTL_QUALITY_LOSS_BOUNDS / CTL_QUALITY_JITTER_BOUNDS (+Inf last),
	 *  the sums (ratio, seconds) and the number of directions. */
	uint64_t q_loss_bucket[CTL_QUALITY_NBUCKETS + 1];
	uint64_t q_jitter_bucket[CTL_QUALITY_NBUCKETS + 1];
	double q_loss_sum, q_jitter_sum;
	uint64_t q_count;
	double total_duration; /**< seconds, sessions ended */
	double pps_in;       /**< packets in per second, last tick */
};

/** rtpproxy Q values of one session seen from leg idx. */
struct ctl_session_query {
	int64_t ttl_s;          /**< seconds left before timeout */
	uint64_t npkts_ina;     /**< received on leg idx (RTP) */
	uint64_t npkts_ino;     /**< received on the other leg (RTP) */
	uint64_t nrelayed;      /**< relayed, both RTP streams */
	uint64_t ndropped;      /**< dropped, both RTP streams */
	/** RTP analysis of leg idx's RTP stream (rtpa_*, Q's names), of the
	 *  current dataplane; all zero if it has none */
	struct rtpb_rtpa rtpa;
};

struct ctl_sessions;

/** @return the table, or NULL on ENOMEM. */
struct ctl_sessions *ctl_sessions_create(const struct ctl_sessions_cfg *cfg);

/**
 * Delete every session (DEL pushed, best effort), free all.
 * NULL is fine.
 */
void ctl_sessions_destroy(struct ctl_sessions *t);

/**
 * Free all, leaving every stream in the dataplane and every prefilter
 * entry as they are, for the next control to keep (--keep-on-exit,
 * ctl_sessions_replay()). NULL is fine.
 */
void ctl_sessions_abandon(struct ctl_sessions *t);

/**
 * rtpproxy handle_record()'s match (R, C, N): the first session of
 * call_id whose from_tag is from_tag (rval 0) or to_tag (rval 1), with or
 * without a ";<medianum>" suffix (compare_session_tags(): Kamailio's
 * start_recording() sends the tags without it). rtpproxy records every
 * session that matches; this finds the first.
 * @return 0 or 1 with *sp set, or -1 if none matches.
 */
int ctl_sessions_find_rec(struct ctl_sessions *t, const char *call_id,
			  const char *from_tag, const char *to_tag,
			  struct ctl_session **sp);

/**
 * Record (rec_id != 0) or stop recording (0) the party whose packets leg
 * li's socket receives: its RTP stream, and its RTCP stream if rtcp. The
 * dataplane is told at once (an UPDATE that changes nothing else), or on
 * the retry queue if its ring is full.
 */
void ctl_session_set_record(struct ctl_sessions *t, struct ctl_session *s,
			    int li, uint32_t rec_id, bool rtcp);

/**
 * Hold (on) or release what leg li's RTP socket receives (playback: a
 * prompt plays to the other party, docs/PLAYBACK.md): its RTP stream
 * drops it, RTCP flows. Told at once like ctl_session_set_record().
 */
void ctl_session_set_hold(struct ctl_sessions *t, struct ctl_session *s,
			  int li, bool on);

/**
 * rtpproxy find_stream()/rtpp_session_ematch(): the first session of
 * call_id whose from_tag equals from_tag (rval 0), or equals to_tag
 * (rval 1), or is to_tag + ";N" while from_tag ends with the same ";N"
 * (rval 1).
 * @param to_tag may be NULL.
 * @return 0 or 1 with *sp set, or -1 if none matches.
 */
int ctl_sessions_find(struct ctl_sessions *t, const char *call_id,
		      const char *from_tag, const char *to_tag,
		      struct ctl_session **sp);

/** A relay address a command chose for a leg. */
struct ctl_leg_addr {
	int laddr;   /**< index in the table, -1: none */
	bool pinned; /**< chosen (E/I, l, r): the leg keeps it */
};

/**
 * Why a session operation failed, returned by the operation itself: rc
 * (-errno) picks the command's E-code, why is the reason for its log
 * line (e.g. "relay address 2001:db8::1 not served by the dataplane", or
 * the errno's meaning). A caller's local; see ctl_session_err_set().
 */
struct ctl_session_err {
	int rc;
	char why[160];
};

/**
 * A new session (rtpproxy U on a missing session), not in the table yet
 * and with no socket: ctl_session_update() opens its leg 0 and links it
 * into the table, or frees it if that fails.
 * @param weak   create with weak[0] instead of strong ('W').
 * @param la     the addresses chosen for leg 0 and leg 1 (rtpproxy
 *               lia[0], lia[1]), or NULL: those legs are pinned to them.
 * @return the session, or NULL (ENOMEM).
 */
struct ctl_session *ctl_session_new(struct ctl_sessions *t,
				    const char *call_id, const char *from_tag,
				    bool weak, const struct ctl_leg_addr la[2],
				    uint64_t now_ns);

/** What a U/L signals for the leg facing its sender (pidx). */
struct ctl_leg_signal {
	uint8_t family;           /**< the command's enum rtpb_af ('6':
				       RTPB_AF_INET6, else RTPB_AF_INET) */
	bool has_remote;          /**< remote is valid */
	bool onhold;              /**< the sender signalled 0.0.0.0 */
	struct rtpb_addr remote;  /**< RTP remote, network byte order */
	bool asymmetric;          /**< 'A' */
	int ptime;                /**< 'Z', -1 none */
	const char *codecs;       /**< 'c', not NUL-terminated, or NULL */
	size_t codecs_len;
};

/**
 * rtpproxy's strong/weak flags on U: weak sets leg[sidx].weak, else a
 * U sets strong. (Creation already set them.)
 */
void ctl_session_mark(struct ctl_session *s, int sidx, bool weak,
		      bool is_update);

/** A U/L on an existing session, as ctl_session_update() takes it. */
struct ctl_session_req {
	int sidx;                   /**< the leg whose port the reply returns */
	bool is_update;             /**< U (an offer), else L (an answer) */
	bool weak;                  /**< 'W' */
	bool new_port;              /**< 'n' (20150330): a new port for sidx */
	struct ctl_leg_addr la;     /**< the address chosen for leg sidx */
	struct ctl_leg_signal sig;  /**< what it signals for leg !sidx */
};

/**
 * U/L on a session (rtpproxy rtpp_command_ul_handle()), found or new
 * (ctl_session_new(): its leg 0 faces the answerer, not known yet, so
 * its socket takes the command's family, sig.family, as rtpproxy's '6'
 * does). The desired state of both legs is built first, in a local
 * copy: leg sidx gets a port if it has none, a new one if new_port, or
 * moves to the family of its remote if that differs (its port is in the
 * reply); a leg being opened or re-opened takes la's address when
 * pinned (rtpproxy: 'l'/'r', or both E/I with 'n'); sig applies to leg
 * !sidx, and, for a U (an offer), moves leg !sidx to the family of its
 * new remote (see the top of this file). New sockets are allocated and
 * added (ADDs, prefilter entries) from the copy; only when all of that
 * succeeded is the copy committed, the rest reconciled (one UPDATE per
 * changed stream) and the moved legs' old sockets released (one DEL per
 * stream). Sets the strong/weak flag (ctl_session_mark()), restarts the
 * session timer. A leg's remote replaces its signalled peer (none
 * keeps the old one, on hold clears it); the leg keeps its socket even
 * if the remote is of another family (the dataplane then gets no
 * signalled peer), unless the rules above move it. The signalled leg's
 * streams open a new learning window (RTPB_LATCH_REOFFER).
 * @return 0; or, with err filled: -ENOTCONN (dataplane not attached),
 *         -ENOSPC (no port pair or stream id), -ENOBUFS (ring full),
 *         -ENOENT (relay address unknown to the dataplane),
 *         -EAFNOSUPPORT (no relay address of that family; the parser
 *         answers E36 first), -EIO (the prefilter's map refused the
 *         socket's entries), -ENOMEM. The session is then unchanged; a
 *         new one is freed.
 */
int ctl_session_update(struct ctl_sessions *t, struct ctl_session *s,
		       const struct ctl_session_req *req, uint64_t now_ns,
		       struct ctl_session_err *err);

/** The TTL limit of s now: its "S ttl=", else -W until complete, -T. */
uint64_t ctl_session_ttl_ns(const struct ctl_sessions *t,
			    const struct ctl_session *s);

/**
 * rtpproxy "&& S ttl=N" (20251015): the session's limit is N seconds,
 * and its timer restarts, until it completes (then -T).
 */
void ctl_session_set_ttl(struct ctl_sessions *t, struct ctl_session *s,
			 uint32_t ttl_s, uint64_t now_ns);

/**
 * rtpproxy "&& S[r] tos=N" (20251015, rpcpv1_ul_subc_set.c): the packets
 * leg li's socket sends (RTP and RTCP, to leg li's party) leave with TOS
 * / traffic class tos (ctl_tos.c). The dataplane is told at once, or on
 * the retry queue if its ring is full.
 */
void ctl_session_set_tos(struct ctl_sessions *t, struct ctl_session *s,
			 int li, uint8_t tos);

/**
 * rtpproxy catch_dtmf ("&& M3:1 tag [pt [h]]", ctl_dtmf.c): report the
 * RFC 4733 events leg li's socket receives (from leg li's party) with
 * payload type pt to notify target `target' with `tag' (copied), and
 * drop them if hide. A leg that catches already keeps its tag and target
 * and takes pt and hide (as the module's second registration does).
 * @return 0, or -ENOMEM (then unchanged).
 */
int ctl_session_set_dtmf(struct ctl_sessions *t, struct ctl_session *s,
			 int li, int target, const char *tag, uint8_t pt,
			 bool hide);

/**
 * The report of a DTMF event from the dataplane (RTPB_MSG_EV_DTMF), in
 * rtpproxy's catch_dtmf format: "<tag> <digit> <volume> <duration>
 * <side>" (digit one of "0123456789*#ABCD " by event code, side 0 for
 * the from-tag party's events, 1 for the other's), without the newline
 * ctl_notify_send() adds.
 * @param target out: the notify target.
 * @return 0, or -ENOENT (the stream's session, leg or catching is gone:
 *         nothing to send), -ENOSPC (buf too small).
 */
int ctl_sessions_dtmf(struct ctl_sessions *t, const struct rtpb_msg_ev_dtmf *ev,
		      int *target, char *buf, size_t bufsz);

/**
 * Arm (target >= 0, tag copied) or disarm (target -1) the timeout
 * notification of s (rtpproxy: every U sets or clears it).
 * @return 0, or -ENOMEM (then unchanged).
 */
int ctl_session_set_notify(struct ctl_sessions *t, struct ctl_session *s,
			   int target, const char *tag);

/**
 * Remember what armed s's notify target (the U's notify socket name, its
 * source and the control socket's address, as ctl_tnotify_lookup() took
 * them), so a restarted control resolves it again (%%CC_SELF%%). Call
 * after ctl_session_set_notify() with a target >= 0; src, local may be
 * NULL.
 * @return 0, or -ENOMEM (then unchanged).
 */
struct sockaddr;
int ctl_session_set_notify_origin(struct ctl_sessions *t,
				  struct ctl_session *s, const char *name,
				  const struct sockaddr *src,
				  const struct sockaddr *local);

/**
 * The time of the command being run, for what has no time parameter
 * (D's and X's total_duration). Never goes back.
 */
void ctl_sessions_now(struct ctl_sessions *t, uint64_t now_ns);

/**
 * rtpproxy D (rpcpv1_delete.c): every session of call_id whose from_tag
 * equals or prefix-matches (";N") from_tag (idx 1) or to_tag (idx 0)
 * loses its strong flag (weak: weak[idx]); it is destroyed when no flag
 * remains. An exact match stops the search.
 * @return how many sessions matched (0: the caller replies E50).
 */
int ctl_sessions_delete(struct ctl_sessions *t, const char *call_id,
			const char *from_tag, const char *to_tag, bool weak);

/** rtpproxy X: destroy every session. */
void ctl_sessions_delete_all(struct ctl_sessions *t);

/**
 * The 1 s housekeeping: destroy sessions idle for longer than their
 * limit (ctl_session_ttl_ns(); idle since the last U/L or the newest
 * last_rx_ns of their streams), logging "[call-id] session timeout" and
 * calling cfg.on_timeout for an armed one; then ctl_sessions_flush(),
 * and pps_in.
 * @return sessions timed out.
 */
unsigned ctl_sessions_tick(struct ctl_sessions *t, uint64_t now_ns);

/**
 * Retry refused pushes: sessions whose ADD/UPDATE is pending first (a
 * moved leg's old streams stay the other leg's out_stream_id until its
 * UPDATE went), then DELs (then their ids and ports are freed). Cheap
 * when nothing waits; stops when the ring is full (a session refused for
 * another reason, e.g. a relay address not served, waits at the tail).
 * Call every loop.
 */
void ctl_sessions_flush(struct ctl_sessions *t);

/**
 * The ctl_dp replay callback body, after every attach. The streams the
 * dataplane already holds (ctl_dp_found_streams()) are either this
 * table's from before (their cookie names a live session: DEL, the
 * replay adds them again) or an earlier control's (DESIGN.md §2: calls
 * survive a control restart): those are adopted, their ids and port
 * pairs kept out of use and their prefilter entries restored, until they
 * have received nothing for -T (ctl_sessions_tick() then deletes them);
 * the SIP proxy's commands do not reach them (no call-id), a re-offer
 * makes a new session. Then re-pick owners, re-allocate ids and push
 * every live session's streams (failures are retried). Warns about a
 * configured relay address the dataplane does not serve.
 */
void ctl_sessions_replay(struct ctl_sessions *t);

/**
 * Bracket around the dataplane's events (ctl_dp_poll()): between on and
 * off, the journal put of a latch event waits, and each session whose
 * streams latched is written once at off, whatever the number of its
 * events (a call's RTP and RTCP latch together). Off writes before
 * anything else runs: a crash loses what it would have lost a few
 * microseconds earlier, no more. Outside the bracket, latch events are
 * written at once.
 */
void ctl_sessions_journal_defer(struct ctl_sessions *t, bool on);

/**
 * The ctl_dp latch callback body: one INFO line per event, counted per
 * session and in the totals, by ev->reason (enum rtpb_latch_reason):
 * - first latch (no old peer): "[call-id] leg N [RTCP ]stream latched to
 *   ADDR:PORT";
 * - handover (SSRC, PROBATION): "[call-id] leg N handover from OLD:PORT
 *   to NEW:PORT (same SSRC|new SSRC 0x%08x), D packets dropped in
 *   probation" ("leg N RTCP handover" for an RTCP stream);
 * - RTCP_FOLLOW: "[call-id] leg N RTCP follows RTP to NEW:PORT (was
 *   OLD:PORT)";
 * - REOFFER: "[call-id] leg N [RTCP ]stream re-offer: peer NEW:PORT (was
 *   OLD:PORT)";
 * - LEARN/SIGNALLED with an old peer: "... stream re-latched to NEW:PORT
 *   (was OLD:PORT)" / "... stream back to signalled NEW:PORT (was
 *   OLD:PORT)".
 * IPv6 addresses are written in brackets, "none" for no address.
 * With a prefilter, the stream's pf_socks entry gets ev->peer as its
 * latched peer, whatever the reason (not for an asymmetric leg).
 * Events of streams that no longer exist (or were re-created or moved
 * since) are ignored.
 */
void ctl_sessions_latch(struct ctl_sessions *t,
			const struct rtpb_msg_ev_latch *ev);

/**
 * The ctl_dp detach callback body: the dataplane is gone but its shared
 * memory still mapped. Every stream's counters go to its past (Q, I, G
 * stay monotonic), every session's last activity takes its streams'
 * last packet, and no session ages until a dataplane is attached again
 * (see the top of this file).
 */
void ctl_sessions_detach(struct ctl_sessions *t);

/**
 * Install ctl_sessions_replay(), ctl_sessions_latch() and
 * ctl_sessions_detach() as the ctl_dp callbacks of t's dataplane handle
 * (t->cfg.dp).
 */
void ctl_sessions_bind_dp(struct ctl_sessions *t);

/**
 * Delete every prefilter socket entry that no live session or kept
 * stream (an earlier control's, still in the dataplane) holds, e.g. what
 * a control that crashed left in the pinned map for streams gone since
 * (ctl_pf_reconcile() with the session table as the judge). Run by
 * ctl_sessions_replay(). Nothing without a prefilter.
 * @return the number of entries deleted.
 */
uint32_t ctl_sessions_pf_reconcile(struct ctl_sessions *t);

/**
 * Rebuild the sessions an earlier control journalled (cfg.journal),
 * before any command: call-ids, tags, legs (their port pairs taken back
 * from the pools), flags, notify targets (cfg.notify_resolve), timers
 * (the stored CLOCK_MONOTONIC times), earlier counters and latched
 * peers. A record whose session cannot be restored (relay address no
 * longer configured, port out of range or taken) is dropped with a log
 * line naming the call-id. Until the dataplane attaches no session ages;
 * the replay then takes over their streams (ctl_sessions_replay()).
 * Nothing without a journal.
 * @param now_ns CLOCK_MONOTONIC.
 * @return the sessions restored.
 */
uint32_t ctl_sessions_journal_load(struct ctl_sessions *t, uint64_t now_ns);

/**
 * A shared store of the sessions' durable records besides the journal
 * (ctl_redis.h): told of every record the journal writer builds (same
 * hook points: U, L, latch event, S ttl=, notify armed, a dataplane
 * attached or lost; never per packet) and of every session's end.
 * Callbacks run on control's thread, must not block, and copy what
 * they keep.
 */
struct ctl_session_store {
	/** Session serial's record changed: rec, len bytes of ctl_durable
	 *  record; ttl_ns its TTL limit now (ctl_session_ttl_ns()). */
	void (*put)(uint64_t serial, const void *rec, size_t len,
		    uint64_t ttl_ns, void *arg);
	/** Session serial ended (D, X, timeout, destroy). Not called when
	 *  the table is abandoned (--keep-on-exit: the next control keeps
	 *  the sessions). */
	void (*del)(uint64_t serial, void *arg);
	void *arg;
};

/**
 * Install (st copied) or remove (NULL) t's store. Installing calls
 * st->put for every live session.
 */
void ctl_sessions_set_store(struct ctl_sessions *t,
			    const struct ctl_session_store *st);

/** Call the store's put for every live session (a resync). */
void ctl_sessions_store_all(struct ctl_sessions *t);

/**
 * Restore one session from a ctl_durable record written by another
 * control (Redis, a standby taking over, DESIGN.md §7), the journal
 * restore's way (ctl_sessions_journal_load()): call-id, tags, legs with
 * their relay ports taken back from the pools, flags, signalled and
 * latched peers and SSRCs, notify target, earlier counters. The
 * record's CLOCK_MONOTONIC times are another machine's: the session's
 * last activity becomes now_ns (its age is kept). Its serial is kept
 * unless one is live here (then a new one). It is journalled and told
 * to the store. With a dataplane attached its streams are pushed at once
 * (ADDs carrying the latched peers; ring full: retried) and its
 * prefilter entries added; without one, the next replay pushes them.
 * @param why out: the reason on failure, for a log line.
 * @return 0; -EINVAL (unreadable record), -ENOTSUP (other version),
 *         -EEXIST (a live session has its call-id and from-tag),
 *         -ENOENT (relay address not configured here), -ERANGE (port
 *         out of range or in use), -ENOMEM.
 */
int ctl_sessions_restore_durable(struct ctl_sessions *t, const void *rec,
				 size_t len, uint64_t now_ns, char *why,
				 size_t whysz);

/** Fill c (packet sums read from the dataplane's stream stats). */
void ctl_sessions_counters(const struct ctl_sessions *t,
			   struct ctl_sessions_counters *c);

/** rtpproxy Q values of s from leg idx (handle_query()). */
void ctl_session_query(const struct ctl_sessions *t,
		       const struct ctl_session *s, int idx, uint64_t now_ns,
		       struct ctl_session_query *q);

/** The live session of serial, or NULL (it was destroyed). */
struct ctl_session *ctl_sessions_by_serial(struct ctl_sessions *t,
					   uint64_t serial);

/** The dataplane handle the sessions use (cfg.dp). */
struct ctl_dp *ctl_sessions_dp(const struct ctl_sessions *t);

/** The relay address table the sessions use (read-only). */
const struct ctl_addrs *ctl_sessions_addrs(const struct ctl_sessions *t);

/** Number of live sessions. */
unsigned ctl_sessions_count(const struct ctl_sessions *t);

/** How long a command waits for the dataplane to apply its messages, ns. */
#define CTL_DP_SYNC_NS (20ull * 1000000ull)

/**
 * Wait, at most CTL_DP_SYNC_NS, until the dataplane has applied every
 * stream message pushed so far (ctl_dp_sync()): called after a command
 * and before its reply, so a U/L's streams are in place when the SIP
 * answer reaches the phones (rtpproxy binds before it replies).
 * @return 0, -ENOTCONN (no dataplane: nothing to wait for) or
 *         -ETIMEDOUT (logged; the reply goes out anyway).
 */
int ctl_sessions_dp_sync(struct ctl_sessions *t);

#endif /* CTL_SESSION_H */
