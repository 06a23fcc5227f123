/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stream.h: the dataplane's state of one stream (one relay socket).
 *
 * One struct per stream id, in one array allocated at start
 * (dp_ctx.streams, max_streams entries). Each entry is written only by
 * the worker that owns its id (rtpb_stream_owner()): by dp_ctl.c when a
 * c2d message arrives and by the fast path when packets latch. Nobody
 * else reads it, so there are no locks. Counters live in shared memory
 * (struct rtpb_stream_stats) so control can read them.
 *
 * Size: 128 bytes per stream (two cache lines), plus 64 bytes of shared
 * counters and the flow table entry (~48 bytes).
 */
#ifndef DP_STREAM_H
#define DP_STREAM_H

#include <assert.h>
#include <stdint.h>

#include <rte_common.h>

#include "rtpb_addr.h"

/** Latch states. */
enum dp_latch_state {
	DP_LATCH_FREE = 0,   /**< no stream on this id */
	DP_LATCH_LEARNING,   /**< no peer yet: the first packet latches */
	DP_LATCH_LATCHED,    /**< peer learnt from packets or signalling */
};

/** One stream. Addresses in network byte order. */
struct dp_stream {
	/* cache line 0: what every packet reads */
	struct rtpb_addr local;     /**< relay socket (20 B) */
	struct rtpb_addr peer;      /**< latched peer; family NONE if none */
	uint32_t out_stream_id;     /**< other leg's stream or RTPB_STREAM_NONE */
	uint32_t flags;             /**< RTPB_STREAM_F_* */
	uint8_t state;              /**< enum dp_latch_state */
	uint8_t addr_idx;           /**< index of local in the relay addresses */
	uint16_t nh_idx;            /**< neighbour slot cached for peer */
	uint32_t ssrc;              /**< SSRC of the latched source, host order */
	uint64_t window_end_ns;     /**< end of the learning window, ns */
	/* cache line 1: signalling and bookkeeping */
	struct rtpb_addr signalled; /**< peer from SDP; family NONE if unknown */
	uint32_t candidate_count;   /**< packets from candidate (probation) */
	struct rtpb_addr candidate; /**< source trying to take over */
	uint64_t cookie;            /**< control's handle, echoed in events */
	uint64_t dropped_since_latch; /**< candidate packets dropped, packets */
} __rte_cache_aligned;

static_assert(sizeof(struct dp_stream) == 128, "dp_stream is two cache lines");

#endif /* DP_STREAM_H */
