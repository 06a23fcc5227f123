/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_loop.h: the traffic loop. One lcore sends and receives: each
 * iteration receives one burst from every RX queue (ARP answered, RTP
 * stamps read into the per-direction counters and histograms), then, per
 * TX queue, sends what the pacing allows, at most one burst (32 frames):
 * the queue's legs (a leg always on the same queue, as RSS keeps a flow)
 * in a fixed round-robin order, so at the natural rate every leg sends
 * one frame per ptime, and an RTCP compound after every rtcp_every RTP
 * frames of a leg (phases spread over the legs). Frames the port refuses
 * are kept, restamped and offered again. No allocation but mbufs, no
 * syscall, no lock on this path; one progress line per second.
 */
#ifndef GEN_LOOP_H
#define GEN_LOOP_H

#include <stdbool.h>

#include "gen_run.h"

/** Set by the signal handler: stop sending, drain, report. */
extern volatile bool gen_quit;

/**
 * Resolve the relay's MAC: an ARP request for r->relay_ip every 200 ms,
 * receiving (and answering ARP) in between.
 * @return 0, or -ETIMEDOUT after timeout_s seconds.
 */
int gen_loop_resolve(struct gen_run *r, double timeout_s);

/**
 * Send for cfg->duration_s seconds (or until gen_quit), then receive for
 * cfg->drain_ms more; fills r's counters and samples.
 * @return 0, or -ENOMEM (no memory for the samples).
 */
int gen_loop_run(struct gen_run *r);

#endif /* GEN_LOOP_H */
