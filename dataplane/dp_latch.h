/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_latch.h: latching and handover probation (DESIGN.md §4), a pure
 * function of (stream state, packet source, RTP/RTCP header fields, now).
 *
 * It touches nothing but the stream it is given: no DPDK state, no
 * clock, no I/O, so tests drive it with time as a parameter. It runs per
 * packet on the stream's owner worker (one writer per stream), between
 * the flow lookup and the rewrite.
 *
 * Summary of the rules (numbers are DESIGN.md §4 steps):
 *  1. From the peer: accept; the candidate's count restarts.
 *  2. From exactly the signalled address: latch to it at once.
 *  3. In the learning window of an unlatched stream (or one re-offered):
 *     the first RTP/RTCP packet latches its source; STUN and DTLS are
 *     forwarded but never latch (RFC 7983 classes).
 *  4. Another source is the candidate; per-candidate consecutive counting
 *     (a packet from the peer, or from another source, restarts it). It
 *     wins at cfg->probation_ssrc packets if RTP continuing the latched
 *     SSRC and sequence (RFC 3550 A.1), cfg->probation_rtp for RTP with
 *     another SSRC (never with cfg->strict_source), cfg->probation_rtcp
 *     for RTCP whose sender SSRC matches the stream's when known.
 *  5. Candidate packets are dropped until the candidate wins; the winning
 *     packet is forwarded.
 *  7. Asymmetric streams never latch: they accept the signalled host on
 *     any port.
 *  8. A re-offer takes the new signalled address at once and opens a new
 *     learning window.
 * Step 6 (RTCP follows an RTP handover) is dp_latch_rtcp_follow().
 *
 * Cost: two address compares and a branch on the common path
 * (packet from the peer).
 */
#ifndef DP_LATCH_H
#define DP_LATCH_H

#include <stdint.h>

#include "rtpb_msg.h"
#include "dp_stream.h"

/** RFC 3550 A.1 sequence window. */
#define DP_LATCH_MAX_DROPOUT 3000
#define DP_LATCH_MAX_MISORDER 100

/** Probation thresholds (dataplane options), packets. */
struct dp_latch_cfg {
	uint16_t probation_rtp;  /**< --probation-rtp: RTP with a new SSRC (10) */
	uint16_t probation_rtcp; /**< --probation-rtcp: RTCP (2) */
	uint16_t probation_ssrc; /**< --probation-ssrc: RTP continuing SSRC and seq (1) */
	uint8_t strict_source;   /**< --strict-source: a new SSRC never wins */
};

/** The defaults: DESIGN.md §4.4. */
#define DP_LATCH_CFG_DEFAULT { .probation_rtp = 10, .probation_rtcp = 2, \
			       .probation_ssrc = 1, .strict_source = 0 }

/** Packet kinds the latch tells apart (RFC 7983, RFC 5761 §4). */
enum dp_latch_kind {
	DP_LATCH_PKT_OTHER = 0, /**< STUN, DTLS, or too short for RTP/RTCP */
	DP_LATCH_PKT_RTP,
	DP_LATCH_PKT_RTCP,
};

/** Header fields of one packet, host byte order. */
struct dp_latch_pkt {
	uint8_t kind;  /**< enum dp_latch_kind */
	uint16_t seq;  /**< RTP sequence number (RTP only) */
	uint32_t ssrc; /**< RTP SSRC, or RTCP sender SSRC (RFC 3550 §6.4) */
};

/** What a latch changed, for the event to control (DP_LATCH_NEW_PEER). */
struct dp_latch_ev {
	struct rtpb_addr old; /**< the previous peer; family NONE if none */
	uint32_t reason;      /**< enum rtpb_latch_reason */
	uint32_t dropped;     /**< the new peer's packets dropped in probation */
};

/** What to do with a packet, from the latching point of view. */
enum dp_latch_verdict {
	DP_LATCH_ACCEPT = 0, /**< forward it */
	DP_LATCH_NEW_PEER,   /**< forward it; the stream latched to its source
			      *   (*ev says why, for control) */
	DP_LATCH_DROP,       /**< drop it (RTPB_DROP_NOT_PEER) */
};

/**
 * Classify a UDP payload: RTP (version 2, at least 12 bytes) or RTCP
 * (second byte's payload type 64-95 as RFC 5761 §4 demultiplexes, at
 * least 8 bytes), else OTHER.
 * @param p   UDP payload.
 * @param len payload bytes.
 * @param out filled in.
 */
void dp_latch_parse(const uint8_t *p, uint16_t len, struct dp_latch_pkt *out);

/**
 * Decide on a packet received on stream s from src, updating s.
 * @param s      the stream (state not FREE), written on latch and probation.
 * @param cfg    thresholds.
 * @param src    source address and port, network byte order.
 * @param pkt    the packet's header fields (dp_latch_parse()).
 * @param now_ns monotonic time, ns.
 * @param ev     filled in on DP_LATCH_NEW_PEER only.
 * @return the verdict.
 */
enum dp_latch_verdict dp_latch_rx(struct dp_stream *s,
				  const struct dp_latch_cfg *cfg,
				  const struct rtpb_addr *src,
				  const struct dp_latch_pkt *pkt,
				  uint64_t now_ns, struct dp_latch_ev *ev);

/**
 * Apply a signalling event (stream add, or a re-offer: rtpproxy 'U'/'L'
 * on an existing session): signalled is the SDP's address (family NONE
 * if unknown). The candidate is forgotten and a learning window of
 * learn_ns opens at now_ns. A new signalled address becomes the peer at
 * once (DESIGN.md §4.8); an asymmetric stream sends to it and never
 * latches (§4.7).
 * @return 1 if the peer changed (control is told, reason REOFFER), else 0.
 */
int dp_latch_signal(struct dp_stream *s, const struct rtpb_addr *signalled,
		    uint64_t learn_ns, uint64_t now_ns);

/**
 * DESIGN.md §4.6: after RTP stream rtp won a handover, move its leg's
 * RTCP stream to the new host at the RTP port + 1, unless RTCP already
 * comes from that host, the leg uses rtcp-mux (DP_STREAM_F_MUX_SEEN on
 * rtp) or the RTCP stream is asymmetric.
 * @param rtcp the leg's RTCP stream (same owner as rtp).
 * @param rtp  the RTP stream, already switched.
 * @return 1 if rtcp's peer moved (control is told), else 0.
 */
int dp_latch_rtcp_follow(struct dp_stream *rtcp, const struct dp_stream *rtp);

/**
 * Where packets leaving from stream o go: its peer, else the signalled
 * address; NULL if neither is known.
 */
static inline const struct rtpb_addr *
dp_latch_dest(const struct dp_stream *o)
{
	if (o->peer.family != RTPB_AF_NONE)
		return &o->peer;
	return o->signalled.family != RTPB_AF_NONE ? &o->signalled : NULL;
}

#endif /* DP_LATCH_H */
