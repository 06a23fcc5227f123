/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_latch.c: plain latching (DESIGN.md §4 steps 1, 2, 3, 7), time
 * as a parameter.
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

static uint8_t rtp[172] = {0x80, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44};

static struct rtpb_addr
addr(uint32_t host_ip, uint16_t port)
{
	struct rtpb_addr a;

	rtpb_addr_set_v4(&a, rte_cpu_to_be_32(host_ip), rte_cpu_to_be_16(port));
	return a;
}

static void
stream_init(struct dp_stream *s, const struct rtpb_addr *signalled,
	    uint32_t flags, uint64_t now)
{
	memset(s, 0, sizeof(*s));
	s->flags = flags;
	dp_latch_signal(s, signalled, 10 * S, now);
}

static void
test_first_packet_latches_in_window(void **state)
{
	struct dp_stream s;
	struct rtpb_addr none = {0}, a = addr(0xc000020a, 4000), b = addr(0xc0000242, 4000);

	(void)state;
	stream_init(&s, &none, 0, 100 * S);
	assert_int_equal(dp_latch_rx(&s, &a, rtp, sizeof(rtp), 101 * S), DP_LATCH_NEW_PEER);
	assert_true(rtpb_addr_eq(&s.peer, &a));
	assert_int_equal(s.ssrc, 0x11223344);
	assert_int_equal(dp_latch_rx(&s, &a, rtp, sizeof(rtp), 102 * S), DP_LATCH_ACCEPT);
	/* Another source, even inside the window, does not take over. */
	assert_int_equal(dp_latch_rx(&s, &b, rtp, sizeof(rtp), 103 * S), DP_LATCH_DROP);
	assert_true(rtpb_addr_eq(&s.peer, &a));
	assert_int_equal(s.dropped_since_latch, 1);
}

static void
test_no_latch_after_window(void **state)
{
	struct dp_stream s;
	struct rtpb_addr none = {0}, a = addr(0xc000020a, 4000);

	(void)state;
	stream_init(&s, &none, 0, 100 * S);
	assert_int_equal(dp_latch_rx(&s, &a, rtp, sizeof(rtp), 110 * S + 1), DP_LATCH_DROP);
	assert_int_equal(s.state, DP_LATCH_LEARNING);
	/* A re-offer opens a new window. */
	dp_latch_signal(&s, &none, 10 * S, 200 * S);
	assert_int_equal(dp_latch_rx(&s, &a, rtp, sizeof(rtp), 201 * S), DP_LATCH_NEW_PEER);
}

static void
test_signalled_address_wins(void **state)
{
	struct dp_stream s;
	struct rtpb_addr sig = addr(0xc000020a, 4000), nat = addr(0xcb00710a, 61000);

	(void)state;
	stream_init(&s, &sig, 0, 0);
	/* NAT: the first packet comes from elsewhere and latches. */
	assert_int_equal(dp_latch_rx(&s, &nat, rtp, sizeof(rtp), 1 * S), DP_LATCH_NEW_PEER);
	/* The signalled address switches at once, even after the window. */
	assert_int_equal(dp_latch_rx(&s, &sig, rtp, sizeof(rtp), 60 * S), DP_LATCH_NEW_PEER);
	assert_true(rtpb_addr_eq(&s.peer, &sig));
	assert_int_equal(dp_latch_rx(&s, &nat, rtp, sizeof(rtp), 61 * S), DP_LATCH_DROP);
}

static void
test_asymmetric_never_latches(void **state)
{
	struct dp_stream s;
	struct rtpb_addr sig = addr(0xc000020a, 4000), same_host = addr(0xc000020a, 5000),
			 other = addr(0xc0000242, 4000);

	(void)state;
	stream_init(&s, &sig, RTPB_STREAM_F_ASYMMETRIC, 0);
	assert_true(rtpb_addr_eq(&s.peer, &sig));
	assert_int_equal(dp_latch_rx(&s, &same_host, rtp, sizeof(rtp), S), DP_LATCH_ACCEPT);
	assert_int_equal(dp_latch_rx(&s, &other, rtp, sizeof(rtp), S), DP_LATCH_DROP);
	assert_true(rtpb_addr_eq(&s.peer, &sig));
}

static void
test_rtcp_and_stun_latch_without_ssrc(void **state)
{
	struct dp_stream s;
	struct rtpb_addr none = {0}, a = addr(0xc000020a, 4001);
	uint8_t rtcp[28] = {0x80, 200, 0, 6, 0xaa, 0xbb, 0xcc, 0xdd};

	(void)state;
	stream_init(&s, &none, RTPB_STREAM_F_RTCP, 0);
	assert_int_equal(dp_latch_rx(&s, &a, rtcp, sizeof(rtcp), S), DP_LATCH_NEW_PEER);
	assert_int_equal(s.ssrc, 0); /* RTCP PT 200 is not RTP */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_packet_latches_in_window),
		cmocka_unit_test(test_no_latch_after_window),
		cmocka_unit_test(test_signalled_address_wins),
		cmocka_unit_test(test_asymmetric_never_latches),
		cmocka_unit_test(test_rtcp_and_stun_latch_without_ssrc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
