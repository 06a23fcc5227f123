/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stream.h: the dataplane's state of one stream (one relay socket).
 *
 * One record per stream id, in the shared mapping (rtpb_shm.h:
 * off_streams, stream_size), so that control reads the per-packet
 * counters where the worker writes them. Each record is written only by
 * the worker that owns its id (rtpb_stream_owner()): by dp_ctl.c when a
 * c2d message arrives and by the fast path when packets arrive. Control
 * gives all streams of a session (both legs, RTP and RTCP) the same
 * owner, so a worker relaying a packet may also write the other leg's
 * stream (next-hop cache) and the same leg's RTCP stream (handover,
 * DESIGN.md §4.6) without locks.
 *
 * Memory per stream (issue 6 asks for at most 128 bytes):
 *   128  this record: line 0 everything a relayed packet reads and
 *        writes (peer, other leg, SSRC/sequence, per-packet counters),
 *        line 1 signalling and probation (read when a source is not the
 *        peer, or on a latch);
 *    32  struct rtpb_stream_ctrs (drops, latches; rtpb_shm.h);
 *  ~ 40  the flow table entry (rte_hash: bucket slot, extendable bucket
 *        slot, 16-byte key slot, free-slot ring), per worker table.
 * A relayed packet touches line 0 of its stream and line 0 of the other
 * leg's.
 */
#ifndef DP_STREAM_H
#define DP_STREAM_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "rtpb_addr.h"
#include "rtpb_shm.h"

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
#define DP_STREAM_F_SEQ_VALID (1u << 8) /**< seq holds the peer's highest RTP seq */
#define DP_STREAM_F_MUX_SEEN (1u << 9)  /**< the peer sent RTCP on this RTP port (RFC 5761) */
#define DP_STREAM_F_CTL_MASK 0xffu      /**< bits that come from control */

/** Unit of dp_stream.window_end: 2^20 ns (1.05 ms); 32 bits wrap in 52 days. */
#define DP_STREAM_TICK_SHIFT 20

/** now_ns in dp_stream.window_end's unit. */
static inline uint32_t
dp_stream_tick(uint64_t now_ns)
{
	return (uint32_t)(now_ns >> DP_STREAM_TICK_SHIFT);
}

/** One stream. Addresses and ports in network byte order, other fields host order. */
struct dp_stream {
	/* cache line 0: what every packet reads */
	struct rtpb_addr peer;      /**< where we send and whom we accept; family NONE if none */
	uint32_t out_stream_id;     /**< other leg's stream or RTPB_STREAM_NONE */
	uint16_t flags;             /**< RTPB_STREAM_F_* | DP_STREAM_F_* */
	uint8_t state;              /**< enum dp_latch_state */
	uint8_t addr_idx;           /**< relay address: index in dp_ctx.addrs */
	uint16_t local_port;        /**< relay port, network byte order */
	uint16_t nh_idx;            /**< neighbour slot cached for peer */
	uint32_t ssrc;              /**< SSRC of the peer's RTP (RTCP: sender SSRC), 0 if unknown */
	uint16_t seq;               /**< highest RTP sequence number from peer (RFC 3550 A.1 max_seq) */
	uint16_t candidate_count;   /**< consecutive packets from candidate, packets */
	struct rtpb_stream_pkts pkts; /**< per-packet counters, read by control */
	/* cache line 1: signalling and probation */
	struct rtpb_addr signalled; /**< peer from SDP; family NONE if unknown */
	struct rtpb_addr candidate; /**< source trying to take over; family NONE if none */
	uint64_t cookie;            /**< control's handle, echoed in events */
	uint32_t rtcp_stream_id;    /**< RTP stream: its RTCP stream, or RTPB_STREAM_NONE */
	uint32_t window_end;        /**< end of the learning window, dp_stream_tick() units */
	uint32_t candidate_ssrc;    /**< SSRC of the candidate's last RTP/RTCP, 0 if none */
	uint16_t candidate_seq;     /**< sequence number of the candidate's last RTP */
	uint16_t reserved;
} __rte_cache_aligned;

static_assert(sizeof(struct dp_stream) == 128, "dp_stream is two cache lines");
static_assert(offsetof(struct dp_stream, pkts) + sizeof(struct rtpb_stream_pkts) <= 64,
	      "the per-packet counters are in line 0");
static_assert(offsetof(struct dp_stream, signalled) == 64, "line 1 starts with signalling");

#endif /* DP_STREAM_H */
