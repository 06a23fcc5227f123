/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_shm.h: install the calls' streams straight into a running
 * dataplane, through the control/dataplane contract (include/rtpb_msg.h,
 * include/rtpb_shm.h), for benchmarks of more sessions than control
 * serves today (one IPv4 relay address: 16 128 sessions at most).
 *
 * This is NOT how the relay is driven: control is the authority on
 * sessions (DESIGN.md §2). Here the generator plays control's part for
 * a benchmark: it maps the shared memory, sends RTPB_MSG_HELLO to every
 * worker, then one RTPB_MSG_STREAM_ADD per stream (4 per call: RTP and
 * RTCP of both legs), as control's ctl_session.c would for the same
 * calls, and waits until the workers applied them. No control process
 * may be attached to that dataplane (the c2d rings are single-producer);
 * the streams live until the dataplane stops (nothing expires them).
 */
#ifndef GEN_SHM_H
#define GEN_SHM_H

#include <stddef.h>
#include <stdint.h>

#include "gen_calls.h"

/** What an install did. */
struct gen_shm_stats {
	uint64_t streams; /**< STREAM_ADD messages applied */
	uint64_t ring_full; /**< enqueue attempts that found a ring full */
	double seconds; /**< wall time, s */
};

/**
 * Install every ok call of legs[0 .. 2 * n_calls) into the dataplane
 * of DPDK file prefix file_prefix.
 * @param learn_ms learning window of each stream, ms (control's 10 000).
 * @param err      out: what failed.
 * @return 0, or -errno (err says what).
 */
int gen_shm_install(const char *file_prefix, const struct gen_leg *legs,
		    uint32_t n_calls, uint32_t learn_ms,
		    struct gen_shm_stats *st, char *err, size_t errsz);

#endif /* GEN_SHM_H */
