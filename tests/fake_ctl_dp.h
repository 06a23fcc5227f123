/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fake_ctl_dp.h: controls of the in-memory ctl_dp.h implementation used
 * by control's unit tests (fake_ctl_dp.c). One fake dataplane per test
 * process; ctl_dp_create() returns it.
 */
#ifndef FAKE_CTL_DP_H
#define FAKE_CTL_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_dp.h"

/** Start over: attached, n_workers workers, max_streams ids, relay ip
 *  (network order) the only relay address, no messages, no ids taken. */
void fake_dp_reset(uint32_t n_workers, uint32_t max_streams, uint32_t relay);

/** Relay addresses the fake serves (its addrs[]): set the list (port
 *  ignored; n <= RTPB_MAX_ADDRS), or add one. Reset keeps only relay. */
void fake_dp_set_addrs(const struct rtpb_addr *addrs, size_t n);
void fake_dp_add_addr(const struct rtpb_addr *a);

/** Attach again to the same dataplane (a control restart, or a lost
 *  and found dataplane), which holds exactly the streams f (ids taken,
 *  live; ctl_dp_found_streams() gives them): every other id is free
 *  again, and the replay callback runs. */
void fake_dp_reattach(const struct ctl_dp_found *f, size_t n);

/** The NIC steering the fake publishes (rtpb_steer.h); reset: none. */
void fake_dp_set_steer(const struct rtpb_steer *st);

/** Deliver a latch event as the dataplane sends it (reason, old peer,
 *  SSRC, packets dropped in probation) to the latch callback. */
void fake_dp_latch_ev(const struct rtpb_msg_ev_latch *ev);

/** HA: the last state ctl_dp_set_ha() gave (-1: never called), and
 *  how many times it was set active (each one an announcement). */
int fake_dp_ha_state(void);
uint32_t fake_dp_ha_announces(void);

/** The handle (what ctl_dp_create() returned, created if needed). */
struct ctl_dp *fake_dp_handle(void);

/** Attached or not: detached, pushes give -ENOTCONN, ready() false;
 *  detaching runs the detach callback first (counters still readable). */
void fake_dp_set_attached(bool on);

/** The time ctl_dp_poll_ns() gives (detach and replay callbacks). */
void fake_dp_set_clock(uint64_t now_ns);

/** The workers ctl_dp_workers_stalled() reports stalled, a bit each
 *  (reset does not clear it). */
void fake_dp_set_stalled(uint32_t mask);

/** Ring full: pushes give -ENOBUFS. */
void fake_dp_set_ring_full(bool on);

/** Accept n more pushes, then behave as ring full (-1: no limit). */
void fake_dp_set_push_budget(int n);

/** Messages pushed so far (ADD, UPDATE, DEL), in order. */
size_t fake_dp_nmsgs(void);
const struct rtpb_msg *fake_dp_msg(size_t i);
void fake_dp_clear_msgs(void);

/** Counters of stream id, writable by tests. */
struct rtpb_stream_stats *fake_dp_stats(uint32_t id);
/** The RTP analysis counters control reads for stream id (zeroed by ADD). */
struct rtpb_rtpa *fake_dp_rtpa(uint32_t id);

/** Stream ids currently allocated; misuse (double free, push with a
 *  free id, wrong owner) counted in fake_dp_errors(). */
uint32_t fake_dp_ids_in_use(void);
uint32_t fake_dp_errors(void);

/** ctl_dp_sync() calls so far, and stream messages pushed since the last
 *  one (0: every reply sent so far left after its streams were synced). */
uint32_t fake_dp_syncs(void);
uint32_t fake_dp_unsynced(void);

/** The streams the fake dataplane holds (ADDed and not DELeted). */
uint32_t fake_dp_live_streams(void);

/** A new dataplane generation: the detach callback runs if attached,
 *  then ids, streams and stats reset, attached, and the replay callback
 *  runs (as ctl_dp_poll() would). */
void fake_dp_restart(uint32_t n_workers);

/** Deliver a latch event to the latch callback. */
void fake_dp_latch(uint32_t id, uint64_t cookie, const struct rtpb_addr *peer);

/** The last message for stream id of type (-1 any), or NULL. */
const struct rtpb_msg_stream *fake_dp_last_stream_msg(uint32_t id, int type);

#endif /* FAKE_CTL_DP_H */
