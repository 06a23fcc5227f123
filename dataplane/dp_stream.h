/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stream.h: the dataplane's state of one stream (one relay socket).
 *
 * One record per stream id, in the shared mapping (rtpb_shm.h:
 * off_streams, stream_stride), so that control reads the per-packet
 * counters (the contract's struct rtpb_stream_pkts, published as a table
 * by stride: off_stream_counters) where the worker writes them, and the
 * stream's key and cookie (off_stream_keys, off_stream_cookies); control
 * knows nothing else of this struct. Each record is written only by
 * the worker that owns its id (rtpb_stream_owner()): by dp_ctl.c when a
 * c2d message arrives and by the fast path when packets arrive. Control
 * gives all streams of a session (both legs, RTP and RTCP) the same
 * owner, so a worker relaying a packet may also write the other leg's
 * stream (next-hop cache) and the same leg's RTCP stream (handover,
 * DESIGN.md §4.6) without locks.
 *
 * Memory per stream: 384 bytes of record + 32 of struct rtpb_stream_ctrs
 * (rtpb_shm.h) + the flow table entry. The record's six cache lines,
 * three 128-byte pairs (the CPU's adjacent-line prefetch fetches a line
 * with the other of its pair):
 *   line 0  everything a relayed packet from the peer reads and writes
 *           (peer, other leg, SSRC/sequence, per-packet counters);
 *   line 1  RTP analysis, what every RTP packet from the peer writes
 *           (struct rtpb_rtpa_hot, include/rtpb_rtpa.h): the pair of
 *           line 0, so it comes in with it (issue 19);
 *   line 2  signalling and probation: read when a source is not the peer;
 *   line 3  liveness, proof and revert (DESIGN.md §4.9): the peer's RTCP
 *           timing and CNAME, the previous peer after a handover, the
 *           candidate's pace; written by the peer's RTCP (about once per
 *           RTCP interval) and by other sources' packets;
 *   line 4  sources refused after a revert and the budget for other
 *           sources (the XDP prefilter's token bucket, in software);
 *           recording and forking;
 *   line 5  RTP analysis, what only its rare paths write (struct
 *           rtpb_rtpa_cold).
 * A relayed packet from the peer touches lines 0 and 1 of its stream
 * (one 128-byte pair) and line 0 of the other leg's; lines 2-5 are cold.
 */
#ifndef DP_STREAM_H
#define DP_STREAM_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "rtpb_addr.h"
#include "rtpb_msg.h"
#include "rtpb_rtpa.h"
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
#define DP_STREAM_F_SEQ_VALID (1u << 9) /**< seq holds the peer's highest RTP seq */
#define DP_STREAM_F_MUX_SEEN (1u << 10) /**< the peer sent RTCP on this RTP port (RFC 5761) */
#define DP_STREAM_F_PROVEN (1u << 11)   /**< the peer won by CNAME proof (§4.9) */
#define DP_STREAM_F_PREV_SEQ (1u << 12) /**< prev_seq holds the previous peer's highest seq */
#define DP_STREAM_F_WON_SSRC (1u << 13) /**< the peer won by continuing the SSRC: handover_seq is valid */
/** The signalled address or the replayed peer fails the source rules
 *  (dp_filter_bogon(): a relay address, say): packets from the peer are
 *  checked too (dp_filter_src()). Set and cleared by dp_ctl.c on ADD and
 *  UPDATE; a peer latched from packets passed the rules on arrival. */
#define DP_STREAM_F_PEER_UNVETTED (1u << 14)
/** Bits that come from control's ADD/UPDATE. RTPB_STREAM_F_FORK (bit 8)
 *  is control's too but set only by RTPB_MSG_STREAM_FORK: outside the
 *  mask, an ADD starts without it and an UPDATE keeps it. */
#define DP_STREAM_F_CTL_MASK 0xffu
/** The bits an RTPB_MSG_STREAM_UPDATE with REC_ONLY sets: recording,
 *  and the hold of playback (P); and DP_STREAM_F_FEAT_MASK below. */
#define DP_STREAM_F_REC_MASK (RTPB_STREAM_F_RECORD | RTPB_STREAM_F_REC_ORIG | \
			      RTPB_STREAM_F_HOLD)
/** The TOS and DTMF bits, which a REC_ONLY UPDATE sets too. */
#define DP_STREAM_F_FEAT_MASK (RTPB_STREAM_F_TOS | RTPB_STREAM_F_DTMF)

/** Sources a stream refuses after reverts (hashes in dp_stream.refused). */
#define DP_STREAM_REFUSED 4

/** Unit of dp_stream's *_tick fields: 2^20 ns (1.05 ms); 32 bits wrap in 52 days. */
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
	union {
		/** the contract's view of the three below, read by control
		 *  (rtpb_shm.h: off_stream_keys) */
		struct rtpb_stream_key key;
		struct {
			uint8_t state;       /**< enum dp_latch_state */
			uint8_t addr_idx;    /**< relay address: index in dp_ctx.addrs */
			uint16_t local_port; /**< relay port, network byte order */
		};
	};
	uint16_t nh_idx;            /**< neighbour slot cached for peer */
	uint32_t ssrc;              /**< SSRC of the peer's RTP (RTCP: sender SSRC), 0 if unknown */
	uint16_t seq;               /**< highest RTP sequence number from peer (RFC 3550 A.1 max_seq) */
	/** TOS / traffic class of the packets this socket sends
	 *  (RTPB_STREAM_F_TOS; docs/DTMF.md "S tos=") */
	uint8_t tos;
	/** payload type of RFC 4733 events (RTPB_STREAM_F_DTMF), |
	 *  RTPB_DTMF_PT_HIDE */
	uint8_t dtmf_pt;
	struct rtpb_stream_pkts pkts; /**< per-packet counters, read by control */
	/* cache line 1: RTP analysis, per packet (dp_rtpa.h) */
	struct rtpb_rtpa_hot rtpa;
	/* cache line 2: signalling and probation */
	struct rtpb_addr signalled; /**< peer from SDP; family NONE if unknown */
	struct rtpb_addr candidate; /**< source trying to take over; family NONE if none */
	uint64_t cookie;            /**< control's handle, echoed in events */
	/** The same leg's other stream (same owner): for an RTP stream its
	 *  RTCP stream, for an RTCP stream its RTP stream; RTPB_STREAM_NONE. */
	uint32_t pair_stream_id;
	uint32_t window_end;        /**< end of the learning window, ticks */
	uint32_t candidate_ssrc;    /**< SSRC of the candidate's last RTP/RTCP, 0 if none */
	uint16_t candidate_seq;     /**< sequence number of the candidate's last counted RTP */
	uint16_t candidate_count;   /**< packets of the candidate's run, packets */
	/* cache line 3: liveness, proof, revert (DESIGN.md §4.9) */
	struct rtpb_addr prev;      /**< peer before the last handover; family NONE if none */
	uint32_t prev_ssrc;         /**< its SSRC (RTCP: sender SSRC) */
	uint16_t prev_seq;          /**< its highest RTP sequence number (DP_STREAM_F_PREV_SEQ) */
	uint16_t handover_seq;      /**< sequence number of the packet that won (DP_STREAM_F_WON_SSRC) */
	uint32_t handover_tick;     /**< when the current peer won, ticks */
	uint32_t cand_start_tick;   /**< when the candidate's run began, ticks */
	uint32_t cand_last_tick;    /**< the candidate's last counted packet, ticks */
	uint32_t cand_ts;           /**< its RTP timestamp */
	uint32_t rtcp_tick;         /**< the peer's last RTCP on this stream, ticks; 0 none */
	uint32_t rtcp_ivl;          /**< the peer's observed RTCP interval (moving average), ticks; 0 unknown */
	uint32_t rtp_tick;          /**< rtcp-mux: the peer's last RTP before its last RTCP, ticks */
	uint32_t cname;             /**< keyed hash of the peer's RTCP CNAME (RFC 3550 6.5.1); 0 unknown */
	uint8_t won_by;             /**< how the peer became the peer: enum rtpb_latch_reason */
	uint8_t reserved2[3];
	/* cache line 4: refusals and the budget for other sources */
	uint32_t refused[DP_STREAM_REFUSED]; /**< keyed hashes of refused sources; 0 free */
	uint32_t tb_last;           /**< budget: last refill, units of 1024 ns */
	uint32_t tb_tokens;         /**< budget: tokens left, 1/1000 packets */
	uint8_t refused_next;       /**< next slot of refused[] to fill */
	uint8_t reserved3[3];
	/** Recording id of the copies (read only when flags has
	 *  RTPB_STREAM_F_RECORD, which line 0 holds: streams that do not
	 *  record never load this line for it). */
	uint32_t rec_id;
	/* Forking (dp_fork.h; read only when flags has RTPB_STREAM_F_FORK,
	 * set by RTPB_MSG_STREAM_FORK): copies go from the relay socket
	 * (fork_addr_idx, fork_port) to fork_target, through the neighbour
	 * slot cached in fork_nh_idx. */
	struct rtpb_addr fork_target; /**< network byte order */
	uint16_t fork_port;           /**< fork socket's port, network byte order */
	uint16_t fork_nh_idx;         /**< neighbour slot cached for fork_target */
	uint8_t fork_addr_idx;        /**< fork socket's relay address (dp_ctx.addrs) */
	uint8_t reserved4[7];
	/* cache line 5: RTP analysis, rare paths (dp_rtpa.h) */
	struct rtpb_rtpa_cold rtpa_cold;
} __rte_aligned(128);

static_assert(sizeof(struct dp_stream) == 384, "dp_stream is six cache lines, three pairs");
static_assert(offsetof(struct dp_stream, pkts) + sizeof(struct rtpb_stream_pkts) <= 64,
	      "the per-packet counters are in line 0");
/* Line 0 as a relayed packet reads it, pinned field by field (pahole). */
static_assert(offsetof(struct dp_stream, peer) == 0 &&
	      offsetof(struct dp_stream, out_stream_id) == 20 &&
	      offsetof(struct dp_stream, flags) == 24 &&
	      offsetof(struct dp_stream, state) == 26 &&
	      offsetof(struct dp_stream, addr_idx) == 27 &&
	      offsetof(struct dp_stream, local_port) == 28 &&
	      offsetof(struct dp_stream, nh_idx) == 30 &&
	      offsetof(struct dp_stream, ssrc) == 32 &&
	      offsetof(struct dp_stream, seq) == 36 &&
	      offsetof(struct dp_stream, tos) == 38 &&
	      offsetof(struct dp_stream, dtmf_pt) == 39 &&
	      offsetof(struct dp_stream, pkts) == 40,
	      "line 0 layout");
static_assert(offsetof(struct dp_stream, key) == offsetof(struct dp_stream, state) &&
	      offsetof(struct dp_stream, state) - offsetof(struct dp_stream, key) ==
	      offsetof(struct rtpb_stream_key, state) &&
	      offsetof(struct dp_stream, addr_idx) - offsetof(struct dp_stream, key) ==
	      offsetof(struct rtpb_stream_key, addr_idx) &&
	      offsetof(struct dp_stream, local_port) - offsetof(struct dp_stream, key) ==
	      offsetof(struct rtpb_stream_key, local_port),
	      "struct rtpb_stream_key overlays state, addr_idx, local_port");
static_assert(offsetof(struct dp_stream, rtpa) == 64, "line 1 is the RTP analysis' hot line");
static_assert(offsetof(struct dp_stream, signalled) == 128, "line 2 starts with signalling");
static_assert(offsetof(struct dp_stream, prev) == 192, "line 3 starts with the previous peer");
static_assert(offsetof(struct dp_stream, refused) == 256, "line 4 starts with the refusals");
static_assert(offsetof(struct dp_stream, rtpa_cold) == 320, "line 5 is the RTP analysis' cold line");
static_assert(RTPB_STREAM_F_FORK > DP_STREAM_F_CTL_MASK &&
	      RTPB_STREAM_F_FORK < DP_STREAM_F_SEQ_VALID, "the fork bit is its own");

#endif /* DP_STREAM_H */
