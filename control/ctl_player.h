/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_player.h: playback wired to the sessions (rtpproxy P, P0, S;
 * docs/PLAYBACK.md): the players of live sessions, the hold of the other
 * party's media while one plays, and the pacer's turn in control's loop.
 *
 * A player plays one prompt (ctl_play.h) into leg li of a session: its
 * packets leave from that leg's RTP relay socket to the leg's peer (the
 * party the command named). The players are a set of their own keyed by
 * session serial and leg; a player whose session is gone (D, X, timeout)
 * is destroyed at the next poll. While a player exists, the other leg's
 * RTP stream holds what it receives (ctl_session_set_hold(): what the
 * other party sends to the played party is dropped, counted as drop
 * reason held; RTCP flows), as rtpproxy's drop_packets processor does;
 * the end of the prompt, S, P0 and a new P release it.
 *
 * Runs in control's main loop, which alone calls these functions: the
 * P and S handlers call ctl_player_start()/ctl_player_stop(), the loop
 * calls ctl_player_poll() every turn and sleeps no longer than the time
 * it returns. A player starts at once when its leg has a peer
 * (signalled or latched), else at the first poll after it has one
 * (rtpproxy starts a player when its stream becomes active).
 */
#ifndef CTL_PLAYER_H
#define CTL_PLAYER_H

#include <stdint.h>

#include "ctl_play.h"
#include "ctl_session.h"

struct rte_ring;
struct ctl_player;

/** Counters (G, metrics). */
struct ctl_player_counters {
	uint64_t created;    /**< nplrs_created: players created (P) */
	uint64_t destroyed;  /**< nplrs_destroyed: ended (EOF, S, P0, P, session end) */
	uint64_t pkts;       /**< npkts_played: packets handed to a play ring */
	uint64_t ring_full;  /**< packets lost: no dataplane, no stream, ring full */
	uint64_t active;     /**< players now */
};

/**
 * Create the players' set over prompt directory dir (owned from now on,
 * closed by ctl_player_destroy()).
 * @return NULL on ENOMEM (dir closed).
 */
struct ctl_player *ctl_player_create(struct ctl_play_dir *dir);

/** Free every player (no hold released: control is going away). NULL is fine. */
void ctl_player_destroy(struct ctl_player *pr);

/**
 * P: play prompt name into leg li of s (rtpproxy handle_play()): the
 * leg's player, if any, stops first; count 0 (P0) only stops. Else the
 * file of the first payload type of codecs that has one
 * (ctl_play_select()), at ptime_ms (<= 0: 20 ms), count times (< 0:
 * forever), and the other leg held.
 * @return 0; ctl_play_select()'s or ctl_play_create()'s -errno (the
 *         handler answers E60).
 */
int ctl_player_start(struct ctl_player *pr, struct ctl_sessions *t,
		     struct ctl_session *s, int li, const char *name,
		     const char *codecs, int ptime_ms, int count, uint64_t now_ns);

/**
 * S: stop leg li's player, release the other leg.
 * @return 0, or -ENOENT if the leg plays nothing.
 */
int ctl_player_stop(struct ctl_player *pr, struct ctl_sessions *t,
		    struct ctl_session *s, int li);

/**
 * The pacer's turn: every packet due at now_ns onto the play ring of the
 * worker that owns its stream (rings[w], n workers; NULL: lost and
 * counted), players of ended sessions destroyed, finished ones destroyed
 * and their holds released.
 * @return when the next packet is due (CLOCK_MONOTONIC ns), UINT64_MAX
 *         if no player is started.
 */
uint64_t ctl_player_poll(struct ctl_player *pr, struct ctl_sessions *t,
			 struct rte_ring *const rings[], unsigned int n,
			 uint64_t now_ns);

/**
 * The P and S handlers' entry (a ctl_cmd_exec.h ctl_exec_play_fn; arg is
 * the player): count 0 (P0, S) ctl_player_stop(), else
 * ctl_player_start().
 */
int ctl_player_cmd(void *arg, struct ctl_sessions *t, struct ctl_session *s,
		   int li, const char *name, const char *codecs, int ptime_ms,
		   int count, uint64_t now_ns);

/** The counters, kept up to date (G reads them through this pointer). */
const struct ctl_player_counters *ctl_player_ctrs(const struct ctl_player *pr);

#endif /* CTL_PLAYER_H */
