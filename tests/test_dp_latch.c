/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_latch.c: latching and handover probation (DESIGN.md §4), the
 * pure state machine of dp_latch.c, with time as a parameter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_byteorder.h>

#include "rtpb_msg.h"
#include "dp_latch.h"

#define S (1000000000ull)
#define MS (1000000ull)
#define SSRC_A 0x11223344u

static const struct dp_latch_cfg cfg_default = DP_LATCH_CFG_DEFAULT;
static const struct rtpb_addr none;

static struct rtpb_addr
addr(uint32_t host_ip, uint16_t port)
{
	struct rtpb_addr a;

	rtpb_addr_set_v4(&a, rte_cpu_to_be_32(host_ip), rte_cpu_to_be_16(port));
	return a;
}

/* Phone A, its second address (handover), two attackers; set in main(). */
static struct rtpb_addr PHONE, PHONE2, EVIL, EVIL2;

static struct dp_latch_pkt
rtp(uint32_t ssrc, uint16_t seq)
{
	return (struct dp_latch_pkt){.kind = DP_LATCH_PKT_RTP, .seq = seq, .ssrc = ssrc};
}

static struct dp_latch_pkt
rtcp(uint32_t ssrc)
{
	return (struct dp_latch_pkt){.kind = DP_LATCH_PKT_RTCP, .ssrc = ssrc};
}

static const struct dp_latch_pkt stun = {.kind = DP_LATCH_PKT_OTHER};

static void
stream_init(struct dp_stream *s, const struct rtpb_addr *signalled,
	    uint32_t flags, uint64_t now)
{
	memset(s, 0, sizeof(*s));
	s->flags = flags;
	s->rtcp_stream_id = RTPB_STREAM_NONE;
	assert_int_equal(dp_latch_signal(s, signalled, 10 * S, now), 0);
	assert_int_equal(s->state, (flags & RTPB_STREAM_F_ASYMMETRIC) &&
					   signalled->family != RTPB_AF_NONE ?
					   DP_LATCH_LATCHED : DP_LATCH_LEARNING);
}

static enum dp_latch_verdict
rx(struct dp_stream *s, struct rtpb_addr src, struct dp_latch_pkt p,
   uint64_t now, struct dp_latch_ev *ev)
{
	struct dp_latch_ev dummy;

	return dp_latch_rx(s, &cfg_default, &src, &p, now, ev ? ev : &dummy);
}

/* A stream latched to PHONE with SSRC_A, highest seq 100, at t = 1 s. */
static void
stream_latched(struct dp_stream *s)
{
	struct dp_latch_ev ev;

	stream_init(s, &none, 0, 0);
	assert_int_equal(rx(s, PHONE, rtp(SSRC_A, 100), 1 * S, &ev), DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_LEARN);
}

static void
test_parse(void **state)
{
	uint8_t p[20] = {0x80, 0x08, 0x12, 0x34, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44};
	struct dp_latch_pkt k;

	(void)state;
	dp_latch_parse(p, 12, &k);
	assert_int_equal(k.kind, DP_LATCH_PKT_RTP);
	assert_int_equal(k.seq, 0x1234);
	assert_int_equal(k.ssrc, SSRC_A);
	dp_latch_parse(p, 11, &k); /* shorter than an RTP header */
	assert_int_equal(k.kind, DP_LATCH_PKT_OTHER);
	p[1] = 200; /* RTCP SR (RFC 5761 §4: 72 with the marker bit) */
	p[4] = 0xaa; p[5] = 0xbb; p[6] = 0xcc; p[7] = 0xdd;
	dp_latch_parse(p, 8, &k);
	assert_int_equal(k.kind, DP_LATCH_PKT_RTCP);
	assert_int_equal(k.ssrc, 0xaabbccdd);
	p[0] = 0x00; /* STUN */
	dp_latch_parse(p, 20, &k);
	assert_int_equal(k.kind, DP_LATCH_PKT_OTHER);
	p[0] = 0x40; /* RTP version 1 */
	dp_latch_parse(p, 20, &k);
	assert_int_equal(k.kind, DP_LATCH_PKT_OTHER);
}

static void
test_first_latch(void **state)
{
	struct dp_stream s;
	struct dp_latch_ev ev;

	(void)state;
	stream_init(&s, &none, 0, 100 * S);
	assert_null(dp_latch_dest(&s));
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 7), 101 * S, &ev), DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_LEARN);
	assert_int_equal(ev.old.family, RTPB_AF_NONE);
	assert_int_equal(ev.dropped, 0);
	assert_true(rtpb_addr_eq(&s.peer, &PHONE));
	assert_true(rtpb_addr_eq(dp_latch_dest(&s), &PHONE));
	assert_int_equal(s.state, DP_LATCH_LATCHED);
	assert_int_equal(s.ssrc, SSRC_A);
	assert_int_equal(s.seq, 7);
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 8), 102 * S, NULL), DP_LATCH_ACCEPT);
	assert_int_equal(s.seq, 8);
	/* Another source, even inside the window, is a candidate now. */
	assert_int_equal(rx(&s, EVIL, rtp(0x99, 1), 103 * S, NULL), DP_LATCH_DROP);
	assert_true(rtpb_addr_eq(&s.peer, &PHONE));
}

static void
test_no_latch_outside_window(void **state)
{
	struct dp_stream s;

	(void)state;
	stream_init(&s, &none, 0, 100 * S);
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 1), 110 * S, NULL), DP_LATCH_DROP);
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 2), 200 * S, NULL), DP_LATCH_DROP);
	assert_int_equal(s.state, DP_LATCH_LEARNING);
	assert_int_equal(s.peer.family, RTPB_AF_NONE);
	/* ... until a re-offer opens a new window. */
	assert_int_equal(dp_latch_signal(&s, &none, 10 * S, 300 * S), 0);
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 3), 301 * S, NULL), DP_LATCH_NEW_PEER);
}

static void
test_stun_dtls_never_latch(void **state)
{
	struct dp_stream s;

	(void)state;
	stream_init(&s, &none, 0, 0);
	/* forwarded in the window, but the stream stays unlatched */
	assert_int_equal(rx(&s, EVIL, stun, 1 * S, NULL), DP_LATCH_ACCEPT);
	assert_int_equal(s.peer.family, RTPB_AF_NONE);
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 1), 2 * S, NULL), DP_LATCH_NEW_PEER);
	/* from the peer: forwarded; from anyone else once latched: dropped,
	 * and never counted toward probation */
	assert_int_equal(rx(&s, PHONE, stun, 3 * S, NULL), DP_LATCH_ACCEPT);
	for (int i = 0; i < 50; i++)
		assert_int_equal(rx(&s, PHONE2, stun, 4 * S + i * MS, NULL), DP_LATCH_DROP);
	assert_true(rtpb_addr_eq(&s.peer, &PHONE));
	assert_int_equal(s.candidate_count, 0);
}

static void
test_signalled_wins(void **state)
{
	struct dp_stream s;
	struct rtpb_addr sig = PHONE2;
	struct dp_latch_ev ev;

	(void)state;
	stream_init(&s, &sig, 0, 0);
	assert_true(rtpb_addr_eq(dp_latch_dest(&s), &sig));
	/* a NAT'd source latches first ... */
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 1), 1 * S, NULL), DP_LATCH_NEW_PEER);
	/* ... then a packet from exactly the signalled address, even after
	 * the window and with another SSRC, takes over at once */
	assert_int_equal(rx(&s, sig, rtp(0x55, 9), 60 * S, &ev), DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_SIGNALLED);
	assert_true(rtpb_addr_eq(&ev.old, &PHONE));
	assert_true(rtpb_addr_eq(&s.peer, &sig));
	/* same host, another port: not the signalled address */
	stream_init(&s, &sig, 0, 0);
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 1), 1 * S, NULL), DP_LATCH_NEW_PEER);
	assert_int_equal(rx(&s, addr(0xc000020b, 5002), rtp(0x55, 9), 60 * S, NULL),
			 DP_LATCH_DROP);
}

static void
test_probation_threshold(void **state)
{
	struct dp_stream s;
	struct dp_latch_ev ev;
	uint64_t t = 20 * S;
	int i;

	(void)state;
	stream_latched(&s);
	/* threshold - 1 packets with a new SSRC do not switch */
	for (i = 0; i < cfg_default.probation_rtp - 1; i++)
		assert_int_equal(rx(&s, PHONE2, rtp(0x5555, (uint16_t)(500 + i)), t += 20 * MS, NULL),
				 DP_LATCH_DROP);
	assert_true(rtpb_addr_eq(&s.peer, &PHONE));
	assert_int_equal(s.candidate_count, cfg_default.probation_rtp - 1);
	/* the threshold-th does, and is forwarded */
	assert_int_equal(rx(&s, PHONE2, rtp(0x5555, (uint16_t)(500 + i)), t += 20 * MS, &ev),
			 DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_PROBATION);
	assert_int_equal(ev.dropped, cfg_default.probation_rtp - 1);
	assert_true(rtpb_addr_eq(&ev.old, &PHONE));
	assert_true(rtpb_addr_eq(&s.peer, &PHONE2));
	assert_int_equal(s.ssrc, 0x5555);
	assert_int_equal(s.candidate_count, 0);
	/* the old peer is now a stranger */
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 101), t += 20 * MS, NULL), DP_LATCH_DROP);
	assert_int_equal(rx(&s, PHONE2, rtp(0x5555, (uint16_t)(501 + i)), t += 20 * MS, NULL),
			 DP_LATCH_ACCEPT);
}

static void
test_peer_packet_resets_count(void **state)
{
	struct dp_stream s;
	uint64_t t = 20 * S;
	uint16_t seq = 101, cseq = 900;
	int round, i;

	(void)state;
	stream_latched(&s);
	/* 9 candidate packets, then one from the peer: forever */
	for (round = 0; round < 20; round++) {
		for (i = 0; i < cfg_default.probation_rtp - 1; i++)
			assert_int_equal(rx(&s, EVIL, rtp(0x666, cseq++), t += MS, NULL),
					 DP_LATCH_DROP);
		assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, seq++), t += 20 * MS, NULL),
				 DP_LATCH_ACCEPT);
		assert_int_equal(s.candidate_count, 0);
	}
	assert_true(rtpb_addr_eq(&s.peer, &PHONE));
}

static void
test_alternating_attackers_never_add_up(void **state)
{
	struct dp_stream s;
	uint64_t t = 20 * S;
	int i;

	(void)state;
	stream_latched(&s);
	for (i = 0; i < 1000; i++) {
		struct rtpb_addr src = (i & 1) ? EVIL : EVIL2;

		assert_int_equal(rx(&s, src, rtp(0x666, (uint16_t)i), t += MS, NULL),
				 DP_LATCH_DROP);
		assert_int_equal(s.candidate_count, 1);
	}
	assert_true(rtpb_addr_eq(&s.peer, &PHONE));
}

static void
test_random_ssrc_or_seq_never_adds_up(void **state)
{
	struct dp_stream s;
	uint64_t t = 20 * S;
	uint32_t x = 12345;
	int i;

	(void)state;
	stream_latched(&s);
	/* one source, a new SSRC in every packet */
	for (i = 0; i < 1000; i++)
		assert_int_equal(rx(&s, EVIL, rtp(0x1000u + (uint32_t)i, (uint16_t)i), t += MS, NULL),
				 DP_LATCH_DROP);
	/* one source and SSRC, sequence numbers not moving forward */
	for (i = 0; i < 1000; i++) {
		x = x * 1103515245u + 12345u;
		assert_int_equal(rx(&s, EVIL, rtp(0x777, (uint16_t)(i & 1 ? 30000 : 10)), t += MS,
				    NULL), DP_LATCH_DROP);
		assert_true(s.candidate_count <= 1);
	}
	assert_true(rtpb_addr_eq(&s.peer, &PHONE));
}

static void
test_same_ssrc_handover(void **state)
{
	struct dp_stream s;
	struct dp_latch_ev ev;

	(void)state;
	stream_latched(&s);
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 101), 2 * S, NULL), DP_LATCH_ACCEPT);
	/* the phone moved: same SSRC, next sequence number: switches on its
	 * first packet, which is forwarded */
	assert_int_equal(rx(&s, PHONE2, rtp(SSRC_A, 102), 3 * S, &ev), DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_SSRC);
	assert_int_equal(ev.dropped, 0);
	assert_true(rtpb_addr_eq(&s.peer, &PHONE2));
	/* a gap up to MAX_DROPOUT (lost packets during the move) still counts */
	stream_latched(&s);
	assert_int_equal(rx(&s, PHONE2, rtp(SSRC_A, 100 + 2999), 3 * S, &ev), DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_SSRC);
	/* so does a reordered packet up to MAX_MISORDER behind */
	stream_latched(&s);
	assert_int_equal(rx(&s, PHONE2, rtp(SSRC_A, 100 - 99), 3 * S, &ev), DP_LATCH_NEW_PEER);
	/* and across the sequence number wrap */
	stream_init(&s, &none, 0, 0);
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 65535), 1 * S, NULL), DP_LATCH_NEW_PEER);
	assert_int_equal(rx(&s, PHONE2, rtp(SSRC_A, 3), 2 * S, &ev), DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_SSRC);
}

static void
test_same_ssrc_outside_window(void **state)
{
	struct dp_stream s;
	uint64_t t = 20 * S;

	(void)state;
	stream_latched(&s);
	/* the right SSRC with a sequence number 3000 ahead or 100 behind:
	 * not a continuation (RFC 3550 A.1), so not on its first packet */
	assert_int_equal(rx(&s, EVIL, rtp(SSRC_A, 100 + 3000), t += MS, NULL), DP_LATCH_DROP);
	assert_int_equal(rx(&s, EVIL2, rtp(SSRC_A, 100 - 100), t += MS, NULL), DP_LATCH_DROP);
	assert_int_equal(rx(&s, EVIL, rtp(SSRC_A, 40000), t += MS, NULL), DP_LATCH_DROP);
	assert_true(rtpb_addr_eq(&s.peer, &PHONE));
	/* the peer's own max_seq moves on: what was a continuation is not any more */
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 5000), t += MS, NULL), DP_LATCH_ACCEPT);
	assert_int_equal(s.seq, 5000);
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 4990), t += MS, NULL), DP_LATCH_ACCEPT);
	assert_int_equal(s.seq, 5000); /* misordered: max_seq kept */
	assert_int_equal(rx(&s, EVIL, rtp(SSRC_A, 101), t += MS, NULL), DP_LATCH_DROP);
}

static void
test_strict_source(void **state)
{
	struct dp_latch_cfg strict = DP_LATCH_CFG_DEFAULT;
	struct dp_stream s;
	struct dp_latch_ev ev;
	struct rtpb_addr p2 = PHONE2;
	struct dp_latch_pkt p;
	int i;

	(void)state;
	strict.strict_source = 1;
	stream_latched(&s);
	for (i = 0; i < 1000; i++) {
		p = rtp(0x5555, (uint16_t)(500 + i));
		assert_int_equal(dp_latch_rx(&s, &strict, &p2, &p, 20 * S + i * 20 * MS, &ev),
				 DP_LATCH_DROP);
	}
	assert_true(rtpb_addr_eq(&s.peer, &PHONE));
	/* a same-SSRC continuation still moves */
	p = rtp(SSRC_A, 101);
	assert_int_equal(dp_latch_rx(&s, &strict, &p2, &p, 50 * S, &ev), DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_SSRC);
}

static void
test_probation_ssrc_threshold(void **state)
{
	struct dp_latch_cfg c = DP_LATCH_CFG_DEFAULT;
	struct dp_stream s;
	struct dp_latch_ev ev;
	struct rtpb_addr p2 = PHONE2;
	struct dp_latch_pkt p;

	(void)state;
	c.probation_ssrc = 3;
	stream_latched(&s);
	p = rtp(SSRC_A, 101);
	assert_int_equal(dp_latch_rx(&s, &c, &p2, &p, 20 * S, &ev), DP_LATCH_DROP);
	p = rtp(SSRC_A, 102);
	assert_int_equal(dp_latch_rx(&s, &c, &p2, &p, 20 * S, &ev), DP_LATCH_DROP);
	p = rtp(SSRC_A, 103);
	assert_int_equal(dp_latch_rx(&s, &c, &p2, &p, 20 * S, &ev), DP_LATCH_NEW_PEER);
	assert_int_equal(ev.dropped, 2);
}

static void
test_rtcp_threshold(void **state)
{
	struct rtpb_addr sig = addr(0xc000020a, 4001), p2 = addr(0xc000020b, 5001);
	struct dp_stream s;
	struct dp_latch_ev ev;

	(void)state;
	stream_init(&s, &sig, RTPB_STREAM_F_RTCP, 0);
	assert_int_equal(rx(&s, sig, rtcp(SSRC_A), 1 * S, &ev), DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_SIGNALLED);
	assert_int_equal(s.ssrc, SSRC_A);
	/* another sender SSRC never counts */
	for (int i = 0; i < 10; i++)
		assert_int_equal(rx(&s, p2, rtcp(0x999), 20 * S, NULL), DP_LATCH_DROP);
	assert_int_equal(s.candidate_count, 0);
	/* probation_rtcp - 1 = 1 packet does not switch, 2 do */
	assert_int_equal(rx(&s, p2, rtcp(SSRC_A), 21 * S, NULL), DP_LATCH_DROP);
	assert_int_equal(rx(&s, p2, rtcp(SSRC_A), 22 * S, &ev), DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_PROBATION);
	assert_int_equal(ev.dropped, 1);
	assert_true(rtpb_addr_eq(&s.peer, &p2));
	/* a packet from the peer in between resets; the signalled address
	 * would win at once (§4.2), so the next candidate is a third one */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(rx(&s, EVIL, rtcp(SSRC_A), 23 * S, NULL), DP_LATCH_DROP);
		assert_int_equal(rx(&s, p2, rtcp(SSRC_A), 24 * S, NULL), DP_LATCH_ACCEPT);
	}
	assert_true(rtpb_addr_eq(&s.peer, &p2));
	assert_int_equal(rx(&s, sig, rtcp(SSRC_A), 25 * S, &ev), DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_SIGNALLED);
}

static void
test_rtcp_mux_on_rtp_stream(void **state)
{
	struct dp_stream s, r;
	struct dp_latch_ev ev;

	(void)state;
	stream_latched(&s);
	stream_init(&r, &none, RTPB_STREAM_F_RTCP, 0);
	/* RTCP from the peer on the RTP port: rtcp-mux (RFC 5761) */
	assert_int_equal(rx(&s, PHONE, rtcp(SSRC_A), 2 * S, NULL), DP_LATCH_ACCEPT);
	assert_true(s.flags & DP_STREAM_F_MUX_SEEN);
	/* a muxed RTCP candidate with the stream's SSRC needs probation_rtcp */
	assert_int_equal(rx(&s, PHONE2, rtcp(0x4444), 20 * S, NULL), DP_LATCH_DROP);
	assert_int_equal(rx(&s, PHONE2, rtcp(0x4444), 20 * S, NULL), DP_LATCH_DROP);
	assert_int_equal(rx(&s, PHONE2, rtcp(SSRC_A), 21 * S, NULL), DP_LATCH_DROP);
	assert_int_equal(rx(&s, PHONE2, rtcp(SSRC_A), 22 * S, &ev), DP_LATCH_NEW_PEER);
	/* and no RTCP stream follows a muxed leg */
	assert_int_equal(dp_latch_rtcp_follow(&r, &s), 0);
}

static void
test_rtcp_follows_handover(void **state)
{
	struct rtpb_addr rsig = addr(0xc000020a, 4001);
	struct dp_stream s, r;

	(void)state;
	stream_latched(&s);
	stream_init(&r, &rsig, RTPB_STREAM_F_RTCP, 0);
	assert_int_equal(rx(&r, rsig, rtcp(SSRC_A), 1 * S, NULL), DP_LATCH_NEW_PEER);
	/* RTP moves with the same SSRC; RTCP goes to the new host, port + 1 */
	assert_int_equal(rx(&s, PHONE2, rtp(SSRC_A, 101), 20 * S, NULL), DP_LATCH_NEW_PEER);
	assert_int_equal(dp_latch_rtcp_follow(&r, &s), 1);
	{
		struct rtpb_addr want = addr(0xc000020b, 5001);

		assert_true(rtpb_addr_eq(&r.peer, &want));
	}
	/* already there: nothing to do */
	assert_int_equal(dp_latch_rtcp_follow(&r, &s), 0);

	/* RTCP from the new host came first (in probation, NAT port): take it */
	stream_latched(&s);
	stream_init(&r, &rsig, RTPB_STREAM_F_RTCP, 0);
	assert_int_equal(rx(&r, rsig, rtcp(SSRC_A), 1 * S, NULL), DP_LATCH_NEW_PEER);
	assert_int_equal(rx(&r, addr(0xc000020b, 7777), rtcp(SSRC_A), 19 * S, NULL), DP_LATCH_DROP);
	assert_int_equal(rx(&s, PHONE2, rtp(SSRC_A, 101), 20 * S, NULL), DP_LATCH_NEW_PEER);
	assert_int_equal(dp_latch_rtcp_follow(&r, &s), 1);
	{
		struct rtpb_addr want = addr(0xc000020b, 7777);

		assert_true(rtpb_addr_eq(&r.peer, &want));
	}
	/* an asymmetric RTCP stream stays */
	stream_init(&r, &rsig, RTPB_STREAM_F_RTCP | RTPB_STREAM_F_ASYMMETRIC, 0);
	assert_int_equal(dp_latch_rtcp_follow(&r, &s), 0);
}

static void
test_asymmetric(void **state)
{
	struct rtpb_addr sig = PHONE;
	struct dp_stream s;
	int i;

	(void)state;
	stream_init(&s, &sig, RTPB_STREAM_F_ASYMMETRIC, 0);
	assert_int_equal(s.state, DP_LATCH_LATCHED);
	assert_true(rtpb_addr_eq(dp_latch_dest(&s), &sig));
	/* the signalled host on any port is accepted, nothing latches */
	assert_int_equal(rx(&s, addr(0xc000020a, 6000), rtp(SSRC_A, 1), 1 * S, NULL),
			 DP_LATCH_ACCEPT);
	for (i = 0; i < 100; i++)
		assert_int_equal(rx(&s, PHONE2, rtp(SSRC_A, (uint16_t)(2 + i)), 2 * S, NULL),
				 DP_LATCH_DROP);
	assert_true(rtpb_addr_eq(&s.peer, &sig));
	/* unknown address: learning state, still no latch */
	stream_init(&s, &none, RTPB_STREAM_F_ASYMMETRIC, 0);
	assert_int_equal(rx(&s, PHONE, rtp(SSRC_A, 1), 1 * S, NULL), DP_LATCH_DROP);
	assert_null(dp_latch_dest(&s));
}

static void
test_reoffer(void **state)
{
	struct rtpb_addr sig = PHONE, sig2 = PHONE2;
	struct dp_stream s;
	struct dp_latch_ev ev;

	(void)state;
	stream_init(&s, &sig, 0, 0);
	assert_int_equal(rx(&s, sig, rtp(SSRC_A, 1), 1 * S, NULL), DP_LATCH_NEW_PEER);
	/* a candidate was building up ... */
	assert_int_equal(rx(&s, EVIL, rtp(0x666, 1), 30 * S, NULL), DP_LATCH_DROP);
	assert_int_equal(s.candidate_count, 1);
	/* ... a re-offer with a new address: it is the peer at once, the
	 * candidate is forgotten, a new window opens */
	assert_int_equal(dp_latch_signal(&s, &sig2, 10 * S, 40 * S), 1);
	assert_true(rtpb_addr_eq(dp_latch_dest(&s), &sig2));
	assert_int_equal(s.candidate_count, 0);
	assert_int_equal(s.candidate.family, RTPB_AF_NONE);
	assert_int_equal(s.state, DP_LATCH_LEARNING);
	/* a NAT rewrote the new address: the first packet in the window latches */
	assert_int_equal(rx(&s, addr(0xcb007105, 31000), rtp(0x777, 1), 41 * S, &ev),
			 DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_LEARN);
	assert_true(rtpb_addr_eq(&ev.old, &sig2));
	/* the same address again: no change of peer, window reopens */
	assert_int_equal(dp_latch_signal(&s, &sig2, 10 * S, 60 * S), 1);
	assert_int_equal(dp_latch_signal(&s, &sig2, 10 * S, 61 * S), 0);
	assert_int_equal(rx(&s, sig2, rtp(0x777, 2), 62 * S, NULL), DP_LATCH_ACCEPT);
	assert_int_equal(s.state, DP_LATCH_LATCHED);
	/* re-offer to another family */
	{
		struct rtpb_addr v6 = {.family = RTPB_AF_INET6, .port = rte_cpu_to_be_16(4000),
				       .ip = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x0a}};

		assert_int_equal(dp_latch_signal(&s, &v6, 10 * S, 70 * S), 1);
		assert_int_equal(rx(&s, v6, rtp(0x777, 3), 71 * S, NULL), DP_LATCH_ACCEPT);
		assert_true(rtpb_addr_eq(&s.peer, &v6));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_first_latch),
		cmocka_unit_test(test_no_latch_outside_window),
		cmocka_unit_test(test_stun_dtls_never_latch),
		cmocka_unit_test(test_signalled_wins),
		cmocka_unit_test(test_probation_threshold),
		cmocka_unit_test(test_peer_packet_resets_count),
		cmocka_unit_test(test_alternating_attackers_never_add_up),
		cmocka_unit_test(test_random_ssrc_or_seq_never_adds_up),
		cmocka_unit_test(test_same_ssrc_handover),
		cmocka_unit_test(test_same_ssrc_outside_window),
		cmocka_unit_test(test_strict_source),
		cmocka_unit_test(test_probation_ssrc_threshold),
		cmocka_unit_test(test_rtcp_threshold),
		cmocka_unit_test(test_rtcp_mux_on_rtp_stream),
		cmocka_unit_test(test_rtcp_follows_handover),
		cmocka_unit_test(test_asymmetric),
		cmocka_unit_test(test_reoffer),
	};

	PHONE = addr(0xc000020a, 4000);
	PHONE2 = addr(0xc000020b, 5000);
	EVIL = addr(0xc0000242, 4000);
	EVIL2 = addr(0xc0000243, 4002);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
