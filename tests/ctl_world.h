/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_world.h: control's protocol path against the fakes, and the script
 * language that drives it; shared by the golden test
 * (tests/test_ctl_cmd_parse.c) and the fuzzer (tests/fuzz/fuzz_ctl.c).
 *
 * A world is what control runs a command against: the relay addresses
 * of a configuration, the port pools, the session table, the executor,
 * the -n targets, the fake dataplane (tests/fake_ctl_dp.c) and the fake
 * prefilter (tests/fake_ctl_pf.c), a clock and the sender's address.
 * Commands go through ctl_exec_text_from(), as off a socket.
 *
 * Directives (a script line after '!'; tokens split at blanks):
 *   time S          clock to S seconds (never backwards)
 *   wait S          clock forward S seconds, then the 1 s tick
 *   tick            the 1 s housekeeping: TTL expiry, reply cache expiry
 *   dp attach       the dataplane is back as it was (no replay)
 *   dp detach       it goes away (pushes give -ENOTCONN)
 *   dp restart [N]  a new dataplane with N (1..4, default 2) workers is
 *                   attached and the sessions replayed (control's attach)
 *   dp ringfull|ringok  pushes refused / accepted again (then the
 *                   retries run, as control's loop does)
 *   dp budget N     N more pushes taken, then the ring is full
 *   dp clear        forget the messages pushed to the fake dataplane
 *   dp msgs         output them, one line each: "dp ADD|UPDATE ID LOCAL
 *                   peer SIGNALLED|none out ID|- [asym] [rtcp] [rec ..]
 *                   [tos N] [dtmf PT [hide]] [only]", "dp DEL ID LOCAL"
 *                   or "dp FORK ID LOCAL -> TARGET" / "dp FORK ID off"
 *                   (IPv6 in brackets); then forget them
 *   dp addrs A..    the relay addresses the fake dataplane serves
 *   config inet4|inet6|dual|bridge|labels [pf] [notify] [W=S] [aforce]
 *                   start over (every session deleted, counters zero) as
 *                   started with -l 192.0.2.1, -6 2001:db8::1, or both;
 *                   bridge: -l 192.0.2.1/198.51.100.100 -A
 *                   10.1.1.1/203.0.113.100 (internal/external); labels:
 *                   -l 192.0.2.1 -l pub@192.0.2.2=203.0.113.2
 *                   -l lab2@192.0.2.3 -6 2001:db8::1; the fake dataplane
 *                   serves every configured address; pf: the fake
 *                   prefilter, emptied; notify: -n unix:/tmp/rtpb-n.sock
 *                   -n tcp:127.0.0.1:9 -n tcp:%%CC_SELF%%:9 (no I/O);
 *                   W=S: -W S; aforce: --force_asymmetric; norc: -R
 *   pf stat NAME N  the fake prefilter's counter of verdict NAME is N
 *   pf failadd N    its N-th next entry add fails (-ENOSPC), 0: none
 *   pf failstats on|off  its counter reads fail (-EIO)
 *   pf dump         output its socket entries, sorted, "pf ADDR:PORT[
 *                   latched PEER:PORT]" each ("pf none": no entry)
 *   latch ID PEER [REASON [OLD [DROPPED]]]  a latch event of stream ID
 *                   (reason LEARN by default; PEER as ADDR:PORT or
 *                   [ADDR6]:PORT), with the cookie of its last ADD/UPDATE
 *   dtmf ID E V D   a DTMF event (code E, volume V, duration D) of
 *                   stream ID, with the cookie of its last ADD/UPDATE;
 *                   outputs "notify TARGET LINE" (the catch_dtmf line
 *                   control sends) or "notify none"
 *   rx ID N         stream ID received and relayed N packets now
 *   src ADDR|none   later commands come from ADDR (IPv4 or IPv6, for
 *                   tcp:%%CC_SELF%% notify targets), or a unix socket
 *   drain on|off    SIGHUP draining
 *   load X          the load "Il" shows
 *   play            the player's turn (a world with "config ... play") at
 *                   the clock: every packet due goes onto the fake
 *                   workers' play rings, which are then emptied, one line
 *                   each: "play wW stream ID len N pt PT[ m] at B" (m:
 *                   the marker bit; B: its first payload byte, which
 *                   tells where in the prompt it starts: the prompt's
 *                   byte i is i % 251); "play none" if none
 */
#ifndef RTPB_TEST_CTL_WORLD_H
#define RTPB_TEST_CTL_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <glib.h>

#include "ctl_addrs.h"
#include "ctl_cmd_exec.h"
#include "ctl_journal.h"
#include "ctl_ports.h"
#include "ctl_player.h"
#include "ctl_recorder.h"
#include "ctl_session.h"
#include "ctl_tnotify.h"

#define CTL_WORLD_NS 1000000000ULL
/** the clock a world starts at: 1000 s */
#define CTL_WORLD_T0 (1000 * CTL_WORLD_NS)
/** the port pools' range (seeded 1 for IPv4, 2 for IPv6: reproducible) */
#define CTL_WORLD_PORT_LO 23820
#define CTL_WORLD_PORT_HI 23840
#define CTL_WORLD_WORKERS 2

/** What "!config" asks for. */
struct ctl_world_cfg {
	char kind[8];     /**< inet4 inet6 dual bridge labels */
	bool pf;          /**< the fake prefilter */
	bool notify;      /**< the three -n targets, timeouts notified */
	bool aforce;      /**< --force_asymmetric */
	long setup_ttl_s; /**< -W; 0: -T */
	bool rec;         /**< -r (and -P with rec_pcap): a recorder writing
			       into a new temporary directory */
	bool rec_pcap;    /**< -P */
	bool no_rtcp;     /**< -R ("norc"): forks copy RTP only */
	bool play;        /**< --prompt-dir: a new temporary directory with
			       moh.0 and moh.8, 480 bytes each (3 packets of
			       20 ms; byte i is i % 251), and a player */
};

/** Everything a script runs against. */
struct ctl_world {
	struct ctl_ports *ports;
	struct ctl_ports *ports6;
	struct ctl_addrs addrs;
	struct ctl_tnotify *tnotify;
	struct ctl_sessions *sess;
	struct ctl_exec *ex;
	/** "config ... rec": -r into rec_dir (built with CTL_WORLD_REC: the
	 *  golden test links the recorder, the fuzzer does not) */
	struct ctl_recorder *rec;
	char rec_dir[64];         /**< its temporary directory, "" none */
	/** "config ... play" (built with CTL_WORLD_REC too): the player, its
	 *  prompt directory and the fake workers' play rings */
	struct ctl_player *play;
	char play_dir[64];
	struct rte_ring *play_rings[CTL_WORLD_WORKERS];
	bool attached;      /**< the fake dataplane is attached */
	uint32_t max_streams; /**< of the fake dataplane */
	uint64_t now;       /**< ns */
	struct sockaddr_storage src; /**< "!src"; ss_family 0: unix socket */
	GString *out;       /**< what directives output ("dp msgs", ...) */
	/** a timeout notification (set before ctl_world_start()) */
	ctl_session_timeout_fn *on_timeout;
	void *timeout_arg;
	/** the session journal the table writes (set before
	 *  ctl_world_start(); NULL: none) */
	struct ctl_journal *journal;
	/** how a restored session's notify target is found again (as
	 *  control's journal_notify()); NULL: not at all */
	ctl_session_notify_resolve_fn *notify_resolve;
	/** "!config" closes the world with this (the fuzzer settles the
	 *  fakes and checks nothing is left); NULL: ctl_world_close() */
	void (*close)(struct ctl_world *w);
};

/**
 * Reset the fakes (max_streams stream ids, CTL_WORLD_WORKERS workers),
 * create the port pools and open w as c asks; the clock at CTL_WORLD_T0.
 * @return 0, or -1 with err set.
 */
int ctl_world_start(struct ctl_world *w, uint32_t max_streams,
		    const struct ctl_world_cfg *c, char *err, size_t errsz);

/** Close w (ctl_world_close()) and free the port pools. */
void ctl_world_stop(struct ctl_world *w);

/**
 * Open a session table and an executor as c asks; the fake dataplane
 * serves every relay address. @return 0, or -1 with err set.
 */
int ctl_world_open(struct ctl_world *w, const struct ctl_world_cfg *c,
		   char *err, size_t errsz);

/** Destroy the executor, the session table and the -n targets. */
void ctl_world_close(struct ctl_world *w);

/** One command as off a socket; the reply (wire form) in out. */
size_t ctl_world_command(struct ctl_world *w, const char *in, size_t len,
			 bool datagram, char *out, size_t outsz);

/**
 * Run one directive (the line after '!', NUL-terminated).
 * @return 0, or -1 if it is unknown or its arguments are bad (nothing
 *         done then; a test fails, the fuzzer goes on).
 */
int ctl_world_directive(struct ctl_world *w, const char *line);

/** "ADDR:PORT" or "[ADDR6]:PORT" into a (port in network order). */
bool ctl_world_parse_peer(const char *s, struct rtpb_addr *a);

#endif /* RTPB_TEST_CTL_WORLD_H */
