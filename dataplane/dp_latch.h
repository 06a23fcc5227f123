/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_latch.h: latching, a pure function of (stream state, packet source,
 * payload, now). DESIGN.md section 4.
 *
 * This slice implements plain latching with the learning window and the
 * authority of the signalled address (DESIGN.md §4 steps 1, 2, 3, 7);
 * candidate probation (step 4) drops every packet from another source
 * for now. Called by the stream's owner worker only, per packet, so it
 * writes the stream without locks.
 */
#ifndef DP_LATCH_H
#define DP_LATCH_H

#include <stdint.h>

#include "dp_stream.h"

/** What to do with a packet, from the latching point of view. */
enum dp_latch_verdict {
	DP_LATCH_ACCEPT = 0, /**< from the peer: forward it */
	DP_LATCH_NEW_PEER,   /**< forward it; the stream (re)latched to its source */
	DP_LATCH_DROP,       /**< not from the peer: drop (RTPB_DROP_NOT_PEER) */
};

/**
 * Decide on a packet received on stream s from src.
 * @param s       the stream, updated on a latch.
 * @param src     source address and port, network byte order.
 * @param payload UDP payload (first byte already checked against RFC 7983).
 * @param len     payload bytes.
 * @param now_ns  monotonic time, ns.
 */
enum dp_latch_verdict dp_latch_rx(struct dp_stream *s,
				  const struct rtpb_addr *src,
				  const uint8_t *payload, uint16_t len,
				  uint64_t now_ns);

/**
 * Reset the latching state on a signalling event (stream add or
 * re-offer): signalled is the SDP's address (family NONE if unknown),
 * a learning window of learn_ns opens at now_ns. An asymmetric stream
 * takes signalled as its peer at once. rtpproxy 'U'/'L'.
 */
void dp_latch_signal(struct dp_stream *s, const struct rtpb_addr *signalled,
		     uint64_t learn_ns, uint64_t now_ns);

#endif /* DP_LATCH_H */
