/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_dp.h: control's side of the control/dataplane contract.
 *
 * Owns the mapping of the dataplane's shared memory (include/rtpb_shm.h),
 * attaching when the dataplane appears, noticing when it restarts (the
 * generation changes or its pid is gone) and re-attaching, the producer
 * side of the c2d rings, the consumer side of the d2c ring, and the
 * allocation of stream ids (partitioned by owner worker). The ring
 * mechanics are lib/rtpb_prod.h's (shared with tools/rtpb-gen); this is
 * control's policy around them.
 *
 * Everything here is called from control's single thread; nothing blocks.
 */
#ifndef CTL_DP_H
#define CTL_DP_H

#include <stdbool.h>
#include <stdint.h>

#include "rtpb_addr.h"
#include "rtpb_msg.h"
#include "rtpb_shm.h"

struct ctl_dp;

/**
 * Called after every (re-)attach to a dataplane, once HELLO was sent:
 * the session layer must re-allocate stream ids and push every live
 * session again (control is the authority on sessions).
 */
typedef void(ctl_dp_replay_fn)(struct ctl_dp *dp, void *arg);

/**
 * Called for each RTPB_MSG_EV_LATCH event drained from the d2c ring.
 */
typedef void(ctl_dp_latch_fn)(const struct rtpb_msg_ev_latch *ev, void *arg);

/**
 * Create the handle for the dataplane of DPDK --file-prefix file_prefix.
 * Does not attach yet (ctl_dp_poll() does).
 * @return the handle, or NULL with errno set (ENOMEM).
 */
struct ctl_dp *ctl_dp_create(const char *file_prefix);

/** Detach and free. */
void ctl_dp_destroy(struct ctl_dp *dp);

/**
 * Called when control loses the dataplane it was ready with (it died,
 * is stopping or was replaced), just before its shared memory is
 * unmapped: ctl_dp_stream_stats() still reads that dataplane's last
 * counters during the call.
 */
typedef void(ctl_dp_detach_fn)(struct ctl_dp *dp, void *arg);

/** Set the callbacks (detach may be NULL); arg is passed back. */
void ctl_dp_set_callbacks(struct ctl_dp *dp, ctl_dp_replay_fn *replay,
			  ctl_dp_latch_fn *latch, ctl_dp_detach_fn *detach,
			  void *arg);

/** Called for each RTPB_MSG_EV_DTMF event drained (docs/DTMF.md). */
typedef void(ctl_dp_dtmf_fn)(const struct rtpb_msg_ev_dtmf *ev, void *arg);

/** Set the DTMF event callback (NULL: such events are ignored). */
void ctl_dp_set_dtmf_cb(struct ctl_dp *dp, ctl_dp_dtmf_fn *fn, void *arg);

/**
 * Housekeeping, call every few ms: attach if not attached (logging once
 * per state change, "dataplane 'X' not running, retrying"), detect a dead
 * or restarted dataplane (then detach, re-attach and call replay), and
 * drain the d2c ring into the latch callback.
 * @param now_ns CLOCK_MONOTONIC ns.
 */
void ctl_dp_poll(struct ctl_dp *dp, uint64_t now_ns);

/**
 * The now_ns of the ctl_dp_poll() call running (or that ran last): the
 * time of a replay or detach callback. 0 before the first poll.
 */
uint64_t ctl_dp_poll_ns(const struct ctl_dp *dp);

/** True while attached to a running dataplane that accepted HELLO. */
bool ctl_dp_ready(const struct ctl_dp *dp);

/** Number of worker lcores of the attached dataplane (0 if none). */
uint32_t ctl_dp_n_workers(const struct ctl_dp *dp);

struct rte_ring;
/** Worker w's mirror ring (rtpb_mirror.h; control's recorder is its
 *  consumer), or NULL when detached or w is not a worker. */
struct rte_ring *ctl_dp_mirror_ring(const struct ctl_dp *dp, uint32_t w);
/** Worker w's play ring (rtpb_play.h; control's player is its
 *  producer), or NULL when detached or w is not a worker. */
struct rte_ring *ctl_dp_play_ring(const struct ctl_dp *dp, uint32_t w);

/**
 * Index of relay address a (port ignored) in the dataplane's address list.
 * @return the index, or -ENOENT if the dataplane does not own a, or
 *         -ENOTCONN if not attached.
 */
int ctl_dp_addr_index(const struct ctl_dp *dp, const struct rtpb_addr *a);

/** A stream the dataplane held when control attached. */
struct ctl_dp_found {
	uint32_t id;                    /**< its stream id */
	struct rtpb_stream_ident ident; /**< relay socket and cookie */
};

/**
 * The streams the dataplane held when control attached
 * (rtpb_shm_stream_ident()): an earlier control's, or this one's before
 * it lost the dataplane for a while. Their ids are kept out of
 * ctl_dp_stream_id_alloc(); the session table deletes or adopts them in
 * its replay and gives the ids back with ctl_dp_stream_id_free().
 * @return how many; *list is valid until the next attach.
 */
size_t ctl_dp_found_streams(const struct ctl_dp *dp, const struct ctl_dp_found **list);

/**
 * The worker the NIC delivers packets to relay socket local to, by the
 * steering the dataplane published (rtpb_steer.h).
 * @return the worker (< n_workers), or -1 if not attached or the
 *         steering is unknown (then any worker will do: control spreads
 *         sessions round robin and the dataplane hands packets off).
 */
int ctl_dp_port_worker(const struct ctl_dp *dp, const struct rtpb_addr *local);

/**
 * Allocate a stream id owned by worker owner (< n_workers).
 * @return 0 and *id, -ENOSPC if that worker's ids are exhausted,
 *         -ENOTCONN if not attached.
 */
int ctl_dp_stream_id_alloc(struct ctl_dp *dp, uint32_t owner, uint32_t *id);

/** Give a stream id back (after its RTPB_MSG_STREAM_DEL was sent). */
void ctl_dp_stream_id_free(struct ctl_dp *dp, uint32_t id);

/**
 * Push RTPB_MSG_STREAM_ADD or RTPB_MSG_STREAM_UPDATE: m->hdr.type must be
 * set; the header's len and seq are filled here.
 * @return 0, -ENOTCONN if not attached, -ENOBUFS if the owner's ring is
 *         full (counted; the caller answers with an error code),
 *         -ENOENT if m->local is not a relay address.
 */
int ctl_dp_stream_push(struct ctl_dp *dp, struct rtpb_msg_stream *m);

/**
 * Wait until the dataplane has applied every message pushed so far
 * (its c2d_done[] counters reach what was enqueued): spinning for
 * ~20 us, then napping (8 us doubling to 128 us), for at most
 * timeout_ns. Called before answering a command that added
 * or changed streams, so the phones' first packets, sent as soon as the
 * SIP answer arrives, find their streams (rtpproxy binds its sockets
 * before it replies). Blocks control's loop for that long at most.
 * @return 0, -ENOTCONN (not attached), or -ETIMEDOUT (the dataplane is
 *         stalled or gone; counted in ctl_dp_sync_timeouts()).
 */
int ctl_dp_sync(struct ctl_dp *dp, uint64_t timeout_ns);

/** Number of ctl_dp_sync() calls that timed out. */
uint64_t ctl_dp_sync_timeouts(const struct ctl_dp *dp);

/**
 * Worker health (issue 16): ctl_dp_poll() looks at every worker's
 * heartbeat (rtpb_shm.h) every 100 ms; a worker that has not looped for
 * RTPB_WORKER_STALL_NS is stalled: logged once, counted, and
 * ctl_dp_sync() no longer waits for it until it loops again.
 * @param stalls out (may be NULL): stalls seen since control started.
 * @return the workers stalled now, a bit each (0 when detached).
 */
uint32_t ctl_dp_workers_stalled(const struct ctl_dp *dp, uint64_t *stalls);

/**
 * Push RTPB_MSG_STREAM_FORK (start or stop forking a stream, ctl_fork.h).
 * @return 0, -ENOTCONN, -ENOENT (f->local not served), -ENOBUFS as
 *         ctl_dp_stream_push().
 */
int ctl_dp_fork_push(struct ctl_dp *dp, const struct rtpb_msg_stream_fork *f);

/**
 * Push RTPB_MSG_STREAM_DEL for stream id on relay socket local.
 * @return 0, -ENOTCONN, -ENOBUFS as ctl_dp_stream_push().
 */
int ctl_dp_stream_del(struct ctl_dp *dp, uint32_t id,
		      const struct rtpb_addr *local);

/**
 * Counters of stream id, read from shared memory into buf (may be a
 * moment old; rtpb_shm_stream_read()).
 * @return buf, or NULL if not attached or id out of range.
 */
const struct rtpb_stream_stats *ctl_dp_stream_stats(const struct ctl_dp *dp,
						    uint32_t id,
						    struct rtpb_stream_stats *buf);

/**
 * RTP analysis counters of stream id (include/rtpb_rtpa.h), copied from
 * shared memory into buf (may be a packet old; rtpb_shm_stream_rtpa()).
 * @return buf, or NULL if not attached or id out of range.
 */
const struct rtpb_rtpa *ctl_dp_stream_rtpa(const struct ctl_dp *dp, uint32_t id,
					   struct rtpb_rtpa *buf);

/**
 * Sums over all lcores of the attached dataplane (zeros when detached):
 * rx and tx in packets, relayed packets, drops[] per enum rtpb_drop.
 */
void ctl_dp_totals(const struct ctl_dp *dp, struct rtpb_lcore_stats *sum);

/**
 * Counters of lcore idx of the attached dataplane (workers
 * 0..n_workers-1, the main lcore at n_workers), copied into buf.
 * @return 0, -ENOTCONN if not attached, -ERANGE if idx > n_workers.
 */
int ctl_dp_lcore_stats(const struct ctl_dp *dp, uint32_t idx,
		       struct rtpb_lcore_stats *buf);

/**
 * HA (issue 21, dataplane/dp_ha.h): who owns the relay addresses. Writes
 * state into the attached dataplane's shared memory now (active: and
 * asks it to announce the addresses: gratuitous ARP, unsolicited NA),
 * and into every dataplane attached later, after its replay is pushed.
 * Until the first call control leaves the dataplane's own start state
 * (--standby or not) alone: a relay without --ha behaves as before.
 */
void ctl_dp_set_ha(struct ctl_dp *dp, enum rtpb_ha_state state);

#endif /* CTL_DP_H */
