/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stream.h: the dataplane's state of one stream (one relay socket).
 *
 * One struct per stream id, in one array allocated at start
 * (dp_ctx.streams, max_streams entries). Each entry is written only by
 * the worker that owns its id (rtpb_stream_owner()): by dp_ctl.c when a
 * c2d message arrives and by the fast path when packets latch. Control
 * gives all streams of a session (both legs, RTP and RTCP) the same
 * owner, so a worker relaying a packet may also write the other leg's
 * stream (next-hop cache) and the same leg's RTCP stream (handover,
 * DESIGN.md §4.6) without locks. Counters live in shared memory
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
	DP_LATCH_LEARNING,   /**< learning: the first packet in the window latches */
	DP_LATCH_LATCHED,    /**< peer learnt from packets or signalling */
};

/*
 * Dataplane-owned bits of dp_stream.flags, above the RTPB_STREAM_F_* bits
 * control sets (dp_ctl keeps them across STREAM_UPDATE).
 */
#define DP_STREAM_F_SEQ_VALID (1u << 16) /**< seq holds the peer's highest RTP seq */
#define DP_STREAM_F_MUX_SEEN (1u << 17)  /**< the peer sent RTCP on this RTP port (RFC 5761) */
#define DP_STREAM_F_CTL_MASK 0xffffu     /**< bits that come from control */

/** One stream. Addresses in network byte order, other fields host order. */
struct dp_stream {
	/* cache line 0: what every packet reads */
	struct rtpb_addr local;     /**< relay socket (20 B) */
	struct rtpb_addr peer;      /**< where we send and whom we accept; family NONE if none */
	uint32_t out_stream_id;     /**< other leg's stream or RTPB_STREAM_NONE */
	uint32_t flags;             /**< RTPB_STREAM_F_* | DP_STREAM_F_* */
	uint8_t state;              /**< enum dp_latch_state */
	uint8_t addr_idx;           /**< index of local in the relay addresses */
	uint16_t nh_idx;            /**< neighbour slot cached for peer */
	uint32_t ssrc;              /**< SSRC of the peer's RTP (RTCP: sender SSRC), 0 if unknown */
	uint16_t seq;               /**< highest RTP sequence number from peer (RFC 3550 A.1 max_seq) */
	uint16_t candidate_count;   /**< consecutive packets from candidate, packets */
	uint32_t rtcp_stream_id;    /**< RTP stream: its RTCP stream, or RTPB_STREAM_NONE */
	/* cache line 1: signalling and probation */
	struct rtpb_addr signalled; /**< peer from SDP; family NONE if unknown */
	struct rtpb_addr candidate; /**< source trying to take over; family NONE if none */
	uint64_t window_end_ns;     /**< end of the learning window, ns */
	uint64_t cookie;            /**< control's handle, echoed in events */
	uint32_t candidate_ssrc;    /**< SSRC of the candidate's last RTP/RTCP, 0 if none */
	uint16_t candidate_seq;     /**< sequence number of the candidate's last RTP */
	uint16_t reserved;
} __rte_cache_aligned;

static_assert(sizeof(struct dp_stream) == 128, "dp_stream is two cache lines");

#endif /* DP_STREAM_H */
