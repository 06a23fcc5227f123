/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_latch.h: latching, handover probation, liveness and proof (DESIGN.md
 * §4), a pure function of (stream state, the leg's other stream, packet
 * source, RTP/RTCP header fields, now).
 *
 * It touches nothing but the streams it is given: no DPDK state, no
 * clock, no I/O, so tests drive it with time as a parameter. It runs per
 * packet on the stream's owner worker (one writer per session's streams),
 * between the flow lookup and the rewrite.
 *
 * The rules (numbers are DESIGN.md §4 items):
 *  1. From the peer: accept. A peer's RTCP also feeds its liveness (the
 *     RTCP interval, learnt from arrivals) and the leg's CNAME.
 *  2. From exactly the signalled address: latch to it at once. If it was
 *     the previous peer, that is a revert (the current peer is refused);
 *     a displaced peer that had won by a handover is not kept as the
 *     previous one (it must prove itself again).
 *  3. In the learning window (after each ADD/UPDATE), while the stream
 *     has no peer known to be alive: the first RTP/RTCP packet latches
 *     its source; STUN and DTLS are forwarded but never latch. A stream
 *     whose peer is alive gives a third host nothing in the window.
 *  4. Another source, outside those cases:
 *     - refused (it lost a revert) while the peer is alive: dropped;
 *     - the previous peer showing life (RTP continuing its own SSRC and
 *       sequence, or RTCP with its SSRC): wins back at once (REVERT) and
 *       the source it replaces is refused (§4.9);
 *     - over the budget for other sources (rtpb_pf_rules.h, the XDP
 *       prefilter's rule) unless it carries the peer's SSRC: dropped;
 *     - proofs that win at once: RTP continuing the latched SSRC and
 *       sequence (RFC 3550 A.1; cfg->probation_ssrc packets), RTCP
 *       carrying the leg's CNAME (RFC 3550 6.5.1), RTP from the host
 *       the leg's RTCP stream moved to by that proof;
 *     - RTP with a new SSRC wins after cfg->probation_rtp consecutive
 *       packets at media pace (at least DP_LATCH_PACE_MIN_NS apart,
 *       timestamps advancing; a burst never counts), unless the peer is
 *       alive and silent: its RTCP arrived within about two of its RTCP
 *       intervals and its RTP had stopped more than DP_LATCH_GAP_NS
 *       before the candidate began (DTX, hold). Never with
 *       cfg->strict_source or cfg->cname_only;
 *     - RTCP with the stream's sender SSRC wins after
 *       cfg->probation_rtcp packets; RTCP of an RTCP stream that never
 *       had any, from the host its RTP stream is latched to, likewise.
 *  5. Candidate packets are dropped until the candidate wins; the winning
 *     packet is forwarded.
 *  7. Asymmetric streams never latch: they accept the signalled host on
 *     any port.
 *  8. A re-offer takes the new signalled address at once and opens a new
 *     learning window.
 * Step 6 (RTCP follows an RTP handover) is dp_latch_rtcp_follow().
 *
 * Cost: the packet from the peer is checked first, inline in the caller
 * (dp_latch_rx_inline(): one address compare, done by the caller, and a
 * few branches on line 0 of the stream only); everything else is a call,
 * and the rare cases a cold path in another function.
 */
#ifndef DP_LATCH_H
#define DP_LATCH_H

#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>

#include "rtpb_msg.h"
#include "rtpb_shm.h"
#include "dp_stream.h"

/** RFC 3550 A.1 sequence window. */
#define DP_LATCH_MAX_DROPOUT 3000
#define DP_LATCH_MAX_MISORDER 100

/** A candidate's counted packets are at least this far apart, ns (a
 * 10 ms packet time with some jitter). */
#define DP_LATCH_PACE_MIN_NS (7 * 1000000ull)
/** A peer's RTP "had stopped" when it was silent this long, ns (three
 * 20 ms packet times). */
#define DP_LATCH_GAP_NS (60 * 1000000ull)
/** After a proof-based handover, packets of the previous peer that
 * arrive within this time and are older than the winning packet are
 * stragglers of the old path, not life, ns. */
#define DP_LATCH_STRAGGLER_NS (25 * 1000000ull)
/** A peer that sent any packet within this time is alive, ns. */
#define DP_LATCH_RECENT_NS (1000 * 1000000ull)
/** RTCP liveness with one RTCP seen and no interval yet: twice the RFC
 * 3550 §6.2 minimum interval of 5 s, ns. */
#define DP_LATCH_RTCP_UNKNOWN_NS (10000 * 1000000ull)
/** RTCP arrivals closer than this do not update the interval (a
 * compound split or a duplicate), ns. */
#define DP_LATCH_RTCP_MIN_IVL_NS (50 * 1000000ull)

/** Thresholds and modes (dataplane options). */
struct dp_latch_cfg {
	uint16_t probation_rtp;  /**< --probation-rtp: RTP with a new SSRC (10), packets */
	uint16_t probation_rtcp; /**< --probation-rtcp: RTCP (2), packets */
	uint16_t probation_ssrc; /**< --probation-ssrc: RTP continuing SSRC and seq (1), packets */
	uint8_t strict_source;   /**< --strict-source: a new SSRC never wins */
	uint8_t cname_only;      /**< --probation-cname-only: a new SSRC wins by CNAME proof only */
	uint32_t budget_pps;     /**< other sources' budget per stream, packets/s */
	uint32_t budget_burst;   /**< its depth, packets */
	uint32_t seed;           /**< key of the CNAME and refusal hashes (random at start) */
};

/** The defaults: DESIGN.md §4.4, the prefilter's budget (rtpb_pf.h). */
#define DP_LATCH_CFG_DEFAULT { .probation_rtp = 10, .probation_rtcp = 2, \
			       .probation_ssrc = 1, .strict_source = 0,  \
			       .cname_only = 0, .budget_pps = 150,       \
			       .budget_burst = 5, .seed = 0x5eed }

/** Packet kinds the latch tells apart (RFC 7983, RFC 5761 §4). */
enum dp_latch_kind {
	DP_LATCH_PKT_OTHER = 0, /**< STUN, DTLS, or too short for RTP/RTCP */
	DP_LATCH_PKT_RTP,
	DP_LATCH_PKT_RTCP,
};

/** Header fields of one packet, host byte order. */
struct dp_latch_pkt {
	uint8_t kind;      /**< enum dp_latch_kind */
	uint16_t seq;      /**< RTP sequence number (RTP only) */
	uint16_t len;      /**< UDP payload bytes */
	uint32_t ts;       /**< RTP timestamp (RTP only) */
	uint32_t ssrc;     /**< RTP SSRC, or RTCP sender SSRC (RFC 3550 §6.4) */
	const uint8_t *p;  /**< the UDP payload (read for RTCP's SDES), not owned */
};

/** What a latch changed, for the events to control (DP_LATCH_NEW_PEER). */
struct dp_latch_ev {
	struct rtpb_addr old;     /**< the previous peer; family NONE if none */
	struct rtpb_addr refused; /**< REVERT: the source refused; else family NONE */
	uint32_t reason;          /**< enum rtpb_latch_reason */
	uint32_t dropped;         /**< the new peer's packets dropped in probation */
	uint8_t drop;             /**< DP_LATCH_DROP: enum rtpb_drop */
	uint8_t pair_moved;       /**< the leg's other stream changed peer too */
	struct rtpb_addr pair_old;     /**< if so: its previous peer */
	struct rtpb_addr pair_refused; /**< and the source it refused */
};

/** What to do with a packet, from the latching point of view. */
enum dp_latch_verdict {
	DP_LATCH_ACCEPT = 0, /**< forward it */
	DP_LATCH_NEW_PEER,   /**< forward it; the stream latched to its source
			      *   (*ev says why, for control) */
	DP_LATCH_DROP,       /**< drop it (ev->drop says why) */
};

/** now_ns in dp_stream's tick unit. */
#define dp_latch_tick dp_stream_tick

/**
 * Classify a UDP payload: RTP (version 2, at least 12 bytes) or RTCP
 * (second byte's payload type 64-95 as RFC 5761 §4 demultiplexes, at
 * least 8 bytes), else OTHER.
 * @param p   UDP payload (kept in out->p: it must outlive out).
 * @param len payload bytes.
 * @param out filled in.
 */
static inline void
dp_latch_parse(const uint8_t *p, uint16_t len, struct dp_latch_pkt *out)
{
	uint32_t v, ts;
	uint16_t seq;
	uint8_t pt;

	out->kind = DP_LATCH_PKT_OTHER;
	out->seq = 0;
	out->ts = 0;
	out->ssrc = 0;
	out->len = len;
	out->p = p;
	/* RFC 3550 §5.1: version 2 in the two top bits. */
	if (unlikely(len < 8 || (p[0] & 0xc0) != 0x80))
		return;
	pt = p[1] & 0x7f;
	if (unlikely(pt >= 64 && pt <= 95)) {
		/* RFC 5761 §4: RTCP (SR 200 .. 223 with the marker bit). RTCP
		 * packets carry the sender's SSRC at bytes 4-7 (RFC 3550 §6.4). */
		memcpy(&v, p + 4, 4);
		out->kind = DP_LATCH_PKT_RTCP;
		out->ssrc = rte_be_to_cpu_32(v);
		return;
	}
	if (unlikely(len < 12))
		return;
	memcpy(&seq, p + 2, 2);
	memcpy(&ts, p + 4, 4);
	memcpy(&v, p + 8, 4);
	out->kind = DP_LATCH_PKT_RTP;
	out->seq = rte_be_to_cpu_16(seq);
	out->ts = rte_be_to_cpu_32(ts);
	out->ssrc = rte_be_to_cpu_32(v);
}

/**
 * The CNAME of an RTCP compound packet (RFC 3550 6.5.1): the CNAME item
 * of the SDES chunk of the sender SSRC (the first packet's SSRC), as a
 * keyed hash. Defensive: every length is checked against len, at most 8
 * packets and 16 items per chunk are read.
 * @param p    the compound packet (UDP payload).
 * @param len  its bytes.
 * @param seed the hash key (dp_latch_cfg.seed).
 * @return the hash, never 0; 0 if there is no well-formed CNAME for the
 *         sender's SSRC.
 */
uint32_t dp_latch_rtcp_cname(const uint8_t *p, uint16_t len, uint32_t seed);

/**
 * Decide on a packet received on stream id from src, updating it (and
 * the leg's other stream, on a proof or a revert that moves the whole
 * leg). A packet accepted sets the stream's pkts.last_rx_ns. The packet
 * from the peer reads and writes line 0 of its stream only.
 * @param streams     the stream table (dp_ctx.streams); the packet's
 *                    stream and the same leg's other one
 *                    (pair_stream_id, same owner) may be written.
 * @param max_streams its size.
 * @param id          the packet's stream (< max_streams, state not FREE).
 * @param cfg    thresholds and modes.
 * @param src    source address and port, network byte order.
 * @param pkt    the packet's header fields (dp_latch_parse()).
 * @param now_ns monotonic time, ns.
 * @param ev     filled in on DP_LATCH_NEW_PEER (and ev->drop on DROP).
 * @return the verdict.
 */
enum dp_latch_verdict dp_latch_rx(struct dp_stream *streams, uint32_t max_streams,
				  uint32_t id, const struct dp_latch_cfg *cfg,
				  const struct rtpb_addr *src,
				  const struct dp_latch_pkt *pkt,
				  uint64_t now_ns, struct dp_latch_ev *ev);

/**
 * dp_latch_rx() with its common case inline: RTP from the latched peer
 * (is_peer: src equals the stream's peer, compared once by the caller)
 * continuing the peer's SSRC, on a symmetric latched stream, only tracks
 * the sequence number (RFC 3550 A.1 max_seq, as dp_latch_rx() does) and
 * the arrival time, in line 0. Everything else calls dp_latch_rx().
 * Parameters and return as dp_latch_rx().
 */
static inline enum dp_latch_verdict
dp_latch_rx_inline(struct dp_stream *streams, uint32_t max_streams, uint32_t id,
		   const struct dp_latch_cfg *cfg, const struct rtpb_addr *src,
		   int is_peer, const struct dp_latch_pkt *pkt, uint64_t now_ns,
		   struct dp_latch_ev *ev)
{
	struct dp_stream *s = &streams[id];

	if (likely(is_peer && pkt->kind == DP_LATCH_PKT_RTP && pkt->ssrc == s->ssrc &&
		   s->state == DP_LATCH_LATCHED &&
		   (s->flags & (DP_STREAM_F_SEQ_VALID | RTPB_STREAM_F_ASYMMETRIC)) ==
		   DP_STREAM_F_SEQ_VALID)) {
		/* older packets (misordered, duplicates) keep max_seq */
		if ((uint16_t)(s->seq - pkt->seq) >= DP_LATCH_MAX_MISORDER ||
		    s->seq == pkt->seq)
			s->seq = pkt->seq;
		s->pkts.last_rx_ns = now_ns;
		return DP_LATCH_ACCEPT;
	}
	return dp_latch_rx(streams, max_streams, id, cfg, src, pkt, now_ns, ev);
}

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
 * Restore the peer control saw latched before a dataplane restart (ADD
 * on replay): the stream is latched to peer, counted alive as of now_ns
 * (so a third host in the replay's learning window reaches nobody), and
 * its SSRC is known.
 * @param peer the latched peer (family NONE: nothing is done).
 * @param ssrc its SSRC, host order, 0 if unknown.
 */
void dp_latch_restore(struct dp_stream *s, const struct rtpb_addr *peer,
		      uint32_t ssrc, uint64_t now_ns);

/**
 * DESIGN.md §4.6: after RTP stream rtp won a handover, move its leg's
 * RTCP stream to the new host at the RTP port + 1, unless RTCP already
 * comes from that host, the leg uses rtcp-mux (DP_STREAM_F_MUX_SEEN on
 * rtp) or the RTCP stream is asymmetric. The RTCP stream remembers its
 * previous peer, so that its RTCP wins it back (§4.9).
 * @param rtcp   the leg's RTCP stream (same owner as rtp).
 * @param rtp    the RTP stream, already switched.
 * @param now_ns monotonic time, ns.
 * @return 1 if rtcp's peer moved (control is told), else 0.
 */
int dp_latch_rtcp_follow(struct dp_stream *rtcp, const struct dp_stream *rtp,
			 uint64_t now_ns);

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
