/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_recorder.h: recording wired to the sessions (rtpproxy R, Rs, C to a
 * file, Cs, N, -a; docs/RECORDING.md): recording ids, the writer
 * (ctl_rec.h) and the drain of the workers' mirror rings.
 *
 * Runs in control's main loop, which alone calls these functions: the
 * command handlers start and stop recordings through ctl_recorder_cmd(),
 * the session table calls ctl_recorder_session() when a session is
 * created (-a) or destroyed (D, X, timeout), and the loop calls
 * ctl_recorder_poll() every turn (at most CTL_RECORDER_POLL_ELEMS ring
 * elements per worker and turn, so command replies stay fast). A stop
 * takes effect at the next poll, after the rings were drained: the reply
 * of the command that stopped it left after the dataplane applied the
 * stream update (ctl_dp_sync()), so no copy of the recording is behind.
 */
#ifndef CTL_RECORDER_H
#define CTL_RECORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_rec.h"
#include "ctl_session.h"

struct rte_ring;
struct ctl_recorder;

/** Ring elements drained per worker and loop turn (4 bursts). */
#define CTL_RECORDER_POLL_ELEMS 2048

/** ctl_recorder_cmd() flag: stop (N) instead of start. */
#define CTL_RECORDER_STOP (1u << 8)

/**
 * Create the recorder.
 * @param conf the writer's configuration (-r, -S, -P, -R); copied.
 * @param all  -a: record both parties of every session from its creation.
 * @return NULL with errno set (ctl_rec_create()).
 */
struct ctl_recorder *ctl_recorder_create(const struct ctl_rec_conf *conf, bool all);

/** Stop everything (files closed and moved), free. NULL is fine. */
void ctl_recorder_destroy(struct ctl_recorder *rr);

/**
 * Start (R, Rs, C, Cs) or stop (N; flags CTL_RECORDER_STOP) recording
 * the party whose packets leg li of s receives (li 1: the from-tag
 * party, ".o"). A ctl_cmd_exec.h ctl_exec_rec_fn.
 * @param name  C's file name, or NULL (R).
 * @param flags CTL_REC_SINGLE (s modifier), CTL_RECORDER_STOP.
 * @return 0; -ENOENT (stop: that party does not record); -EALREADY
 *         (start: it records already); ctl_rec_start()'s errors.
 */
int ctl_recorder_cmd(void *rr, struct ctl_sessions *t, struct ctl_session *s,
		     int li, const char *name, unsigned int flags);

/** The session table's hook (ctl_session_rec_fn; arg is the recorder). */
void ctl_recorder_session(struct ctl_sessions *t, struct ctl_session *s,
			  bool created, void *arg);

/**
 * Drain the mirror rings (rings[w] NULL: skipped), then apply the stops
 * asked since the last call; flush the files about once a second.
 * @param now_ns CLOCK_MONOTONIC ns.
 * @return ring elements taken.
 */
unsigned long ctl_recorder_poll(struct ctl_recorder *rr, struct rte_ring *const rings[],
				unsigned int n, uint64_t now_ns);

/** The writer's counters. */
void ctl_recorder_stats(const struct ctl_recorder *rr, struct ctl_rec_stats *st);

#endif /* CTL_RECORDER_H */
