/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb_prod.h: the producer end of the control ring (include/rtpb_msg.h,
 * include/rtpb_shm.h), for whoever plays control's part: control itself
 * (control/ctl_dp.c) and the benchmark generator (tools/rtpb-gen,
 * gen_shm.c, which installs streams straight into a dataplane).
 *
 * Owns: mapping the dataplane's shared memory file and checking it is a
 * ready dataplane of this contract; RTPB_MSG_HELLO to every worker and
 * the EV_HELLO answers; stream ids, partitioned by owner worker
 * (rtpb_stream_owner()), minus the ids the dataplane already holds; pushing
 * STREAM_ADD/UPDATE/DEL on the owner's c2d ring; counting what was
 * pushed per worker against the dataplane's c2d_done[].
 *
 * Not here: when to attach or give up, logging, waiting policies (the
 * caller's). The c2d rings are single-producer: one struct rtpb_prod per
 * dataplane at a time, used from one thread. Nothing blocks.
 * Library prefix: rtpb_prod_ (lib/, a static library; its .c uses DPDK's
 * inline rte_ring functions on the rings inside the mapping, no EAL).
 */
#ifndef RTPB_PROD_H
#define RTPB_PROD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rtpb_addr.h"
#include "rtpb_msg.h"
#include "rtpb_shm.h"

/**
 * The producer's state. Zero-initialise it; the fields are read-only for
 * callers (rtpb_prod_*() write them).
 */
struct rtpb_prod {
	char link[PATH_MAX];   /**< RTPB_SHM_LINK_FMT of the file prefix */
	struct rtpb_shm_hdr *h; /**< the mapping; NULL when not mapped */
	size_t size;           /**< bytes mapped */
	dev_t dev;             /**< the file's device and inode: a new */
	ino_t ino;             /**< file under link is a new dataplane */
	uint32_t seq;          /**< hdr.seq of the next message */
	uint32_t hello_ok;     /**< bit per worker that accepted HELLO */
	/** Messages enqueued to each c2d ring, on the scale of the
	 *  dataplane's c2d_done[] (baseline taken by rtpb_prod_hello()). */
	uint64_t pushed[RTPB_MAX_WORKERS];
	uint64_t ring_full;    /**< enqueues that found a ring full */
	uint32_t *free_ids[RTPB_MAX_WORKERS]; /**< stacks, low ids on top */
	uint32_t n_free[RTPB_MAX_WORKERS];
};

/**
 * Map the shared memory of the dataplane of DPDK --file-prefix
 * file_prefix and check it: magic, RTPB_MSG_VERSION, message and header
 * sizes, worker count, state RTPB_SHM_READY and its pid alive.
 * @param why out: what failed, for a log line (may be NULL).
 * @return 0; -errno of open() or mmap() (-ENOENT: not running), -EAGAIN
 *         (file still being created), -EPROTO (another contract
 *         version), -ESRCH (not ready or gone).
 */
int rtpb_prod_map(struct rtpb_prod *p, const char *file_prefix, char *why,
		  size_t whysz);

/** Unmap and free the id stacks; p is then as zero-initialised (but link). */
void rtpb_prod_unmap(struct rtpb_prod *p);

/**
 * Called by rtpb_prod_ids_init() for each stream the dataplane holds
 * already (rtpb_shm_stream_ident()). @return 0, or -errno to stop.
 */
typedef int(rtpb_prod_found_fn)(uint32_t id, const struct rtpb_stream_ident *ident,
				void *arg);

/**
 * Fill the free id stacks of a mapped dataplane: every id below
 * max_streams except those live in the dataplane, which go to found
 * (may be NULL) instead; rtpb_prod_id_alloc() hands out low ids first.
 * @return 0, -ENOMEM, or what found returned.
 */
int rtpb_prod_ids_init(struct rtpb_prod *p, rtpb_prod_found_fn *found, void *arg);

/**
 * A free stream id owned by worker owner (< n_workers).
 * @return 0 and *id, or -ENOSPC if that worker's ids are exhausted.
 */
int rtpb_prod_id_alloc(struct rtpb_prod *p, uint32_t owner, uint32_t *id);

/** Give a stream id back (after its RTPB_MSG_STREAM_DEL was pushed). */
void rtpb_prod_id_free(struct rtpb_prod *p, uint32_t id);

/**
 * Drop the events an earlier producer left on the d2c ring, take the
 * baseline of pushed[] and push RTPB_MSG_HELLO (RTPB_MSG_VERSION, the
 * per-type size table, pid) to every worker; hello_ok starts at 0.
 * @return 0, or -ENOBUFS if a c2d ring is full.
 */
int rtpb_prod_hello(struct rtpb_prod *p, pid_t pid);

/** True when every worker answered HELLO with status 0. */
bool rtpb_prod_hello_done(const struct rtpb_prod *p);

/**
 * Take up to max events from the d2c ring into ev. EV_HELLO answers with
 * status 0 also set the worker's bit in hello_ok.
 * @return the number taken.
 */
unsigned int rtpb_prod_events(struct rtpb_prod *p, struct rtpb_msg *ev,
			      unsigned int max);

/**
 * Index of relay address a (port ignored) in the dataplane's addrs[].
 * @return the index, or -ENOENT.
 */
int rtpb_prod_addr_index(const struct rtpb_prod *p, const struct rtpb_addr *a);

/**
 * Push RTPB_MSG_STREAM_ADD or _UPDATE on the ring of the owner of
 * s->stream_id: s->hdr.type must be set, the header's len and seq are
 * filled here. (The worker a packet reaches finds the owner from the
 * stream id in the flow table, dataplane/dp_flow.h, and hands it off.)
 * @return 0, -EINVAL (id out of range), -ENOENT (s->local is not a relay
 *         address), -ENOBUFS (the ring is full; counted in ring_full).
 */
int rtpb_prod_stream_push(struct rtpb_prod *p, const struct rtpb_msg_stream *s);

/**
 * Push RTPB_MSG_STREAM_DEL for stream id on relay socket local.
 * @return 0, -EINVAL, -ENOBUFS as rtpb_prod_stream_push().
 */
int rtpb_prod_stream_del(struct rtpb_prod *p, uint32_t id,
			 const struct rtpb_addr *local);

/**
 * Push RTPB_MSG_STREAM_FORK on the ring of the owner of f->stream_id:
 * the header is filled here.
 * @return 0, -EINVAL (id out of range), -ENOENT (f->local is not a relay
 *         address), -ENOBUFS (the ring is full; counted in ring_full).
 */
int rtpb_prod_fork_push(struct rtpb_prod *p, const struct rtpb_msg_stream_fork *f);

/**
 * The workers that have not applied everything pushed to them yet (their
 * c2d_done[] is below pushed[]), a bit each; 0 when all are done.
 */
uint32_t rtpb_prod_pending(const struct rtpb_prod *p);

#endif /* RTPB_PROD_H */
