/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_latch.c: latching decisions (see dp_latch.h and DESIGN.md §4).
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>

#include "rtpb_msg.h"
#include "dp_latch.h"

/* RTP (RFC 3550 §5.1) SSRC of a payload, or 0 if it is not RTP. RTCP
 * (payload types 64-95 in the second byte, RFC 5761 §4) is not RTP. */
static inline uint32_t
latch_rtp_ssrc(const uint8_t *p, uint16_t len)
{
	uint32_t ssrc;

	if (len < 12 || (p[0] & 0xc0) != 0x80)
		return 0;
	if ((p[1] & 0x7f) >= 64 && (p[1] & 0x7f) <= 95)
		return 0;
	memcpy(&ssrc, p + 8, 4);
	return rte_be_to_cpu_32(ssrc);
}

static inline enum dp_latch_verdict
latch_to(struct dp_stream *s, const struct rtpb_addr *src,
	 const uint8_t *payload, uint16_t len)
{
	s->peer = *src;
	s->state = DP_LATCH_LATCHED;
	s->ssrc = latch_rtp_ssrc(payload, len);
	s->candidate_count = 0;
	return DP_LATCH_NEW_PEER;
}

enum dp_latch_verdict
dp_latch_rx(struct dp_stream *s, const struct rtpb_addr *src,
	    const uint8_t *payload, uint16_t len, uint64_t now_ns)
{
	/* §4.7: asymmetric legs never latch; accept the signalled host. */
	if (unlikely(s->flags & RTPB_STREAM_F_ASYMMETRIC))
		return rtpb_addr_host_eq(src, &s->signalled) ? DP_LATCH_ACCEPT :
							       DP_LATCH_DROP;
	/* §4.1: from the peer. */
	if (likely(s->state == DP_LATCH_LATCHED && rtpb_addr_eq(src, &s->peer))) {
		s->candidate_count = 0;
		return DP_LATCH_ACCEPT;
	}
	/* §4.2: the signalled address is authoritative. */
	if (s->signalled.family != RTPB_AF_NONE &&
	    rtpb_addr_eq(src, &s->signalled))
		return latch_to(s, src, payload, len);
	/* §4.3: first packet inside the learning window. */
	if (s->state == DP_LATCH_LEARNING && now_ns < s->window_end_ns)
		return latch_to(s, src, payload, len);
	/* §4.4-5: another source; probation comes with handover support. */
	s->dropped_since_latch++;
	return DP_LATCH_DROP;
}

void
dp_latch_signal(struct dp_stream *s, const struct rtpb_addr *signalled,
		uint64_t learn_ns, uint64_t now_ns)
{
	s->signalled = *signalled;
	s->window_end_ns = now_ns + learn_ns;
	s->candidate_count = 0;
	memset(&s->candidate, 0, sizeof(s->candidate));
	if (s->flags & RTPB_STREAM_F_ASYMMETRIC) {
		s->peer = *signalled;
		s->state = signalled->family != RTPB_AF_NONE ? DP_LATCH_LATCHED :
							       DP_LATCH_LEARNING;
	} else if (s->state == DP_LATCH_FREE) {
		s->state = DP_LATCH_LEARNING;
	}
}
