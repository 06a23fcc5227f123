/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_gen.c: unit tests of rtpb-gen's pure parts: the latency
 * histogram's quantiles, the phone layout and its inverse, the relay
 * layout, the pcap's calls and their split over queues, and frames
 * built then parsed back (stamp, sequence, checksums).
 * No EAL, no hugepages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "gen_calls.h"
#include "gen_hist.h"
#include "gen_pkt.h"

static void
test_hist_exact_small(void **state)
{
	struct gen_hist *h = calloc(1, sizeof(*h));
	uint64_t v;

	(void)state;
	for (v = 1; v <= 20; v++)
		gen_hist_add(h, v);
	/* below 32 every value has its own bucket: exact */
	assert_int_equal(gen_hist_quantile(h, 0.5), 10);
	assert_int_equal(gen_hist_quantile(h, 1.0), 20);
	assert_int_equal(gen_hist_quantile(h, 0.05), 1);
	free(h);
}

static void
test_hist_bounds(void **state)
{
	struct gen_hist *h = calloc(1, sizeof(*h));
	uint64_t i, q;

	(void)state;
	/* 1..100000 ns: the true p99 is 99000; the answer is never below it
	 * and at most one bucket (1/32) above */
	for (i = 1; i <= 100000; i++)
		gen_hist_add(h, i);
	q = gen_hist_quantile(h, 0.99);
	assert_true(q >= 99000);
	assert_true(q <= 99000 + 99000 / 32 + 1);
	q = gen_hist_quantile(h, 0.999);
	assert_true(q >= 99900 && q <= 100000);
	assert_int_equal(gen_hist_quantile(h, 1.0), 100000);
	assert_int_equal(h->count, 100000);
	/* indexes are monotonic and in range, up to UINT64_MAX */
	assert_true(gen_hist_idx(UINT64_MAX) < GEN_HIST_BUCKETS);
	for (i = 1; i < (1u << 20); i = i * 3 / 2 + 1)
		assert_true(gen_hist_idx(i) >= gen_hist_idx(i - 1));
	free(h);
}

static void
test_hist_merge(void **state)
{
	struct gen_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	(void)state;
	gen_hist_add(a, 5);
	gen_hist_add(b, 7000);
	gen_hist_merge(a, b);
	assert_int_equal(a->count, 2);
	assert_int_equal(a->max, 7000);
	assert_int_equal(gen_hist_quantile(a, 0.5), 5);
	free(a);
	free(b);
}

static void
test_phone_layout(void **state)
{
	uint32_t net = 0xc6120000u, l, ip;
	uint16_t port;

	(void)state;
	for (l = 0; l < 100000; l += 7) {
		gen_phone_of(net, l, &ip, &port);
		assert_true(port % 2 == 0);
		assert_int_equal(gen_leg_of(net, 100000, ip, port), l);
		/* the RTCP port maps back to the same leg */
		assert_int_equal(
			gen_leg_of(net, 100000, ip, (uint16_t)(port + 1)), l);
	}
	assert_int_equal(gen_leg_of(net, 10, net, 16384),
			 UINT32_MAX); /* network */
	assert_int_equal(gen_leg_of(net, 10, net + 1, 16384 + 2 * 10),
			 UINT32_MAX);
	assert_int_equal(gen_leg_of(net, 10, net + 1, 1000), UINT32_MAX);
}

static void
test_relay_layout(void **state)
{
	uint32_t addrs[2] = { htonl(0xc6336401u), htonl(0xc6336402u) };
	struct gen_leg *legs =
		gen_calls_create(GEN_LAYOUT_PAIRS, 0xc6120000u, 15, 1);

	(void)state;
	assert_non_null(legs);
	/* 2 * 32256 legs: exactly two addresses */
	assert_int_equal(gen_calls_layout(legs, 2 * GEN_LAYOUT_PAIRS, addrs, 1),
			 -ENOSPC);
	assert_int_equal(gen_calls_layout(legs, 2 * GEN_LAYOUT_PAIRS, addrs, 2),
			 0);
	assert_int_equal(legs[0].relay_ip, addrs[0]);
	assert_int_equal(ntohs(legs[0].relay_port), 1024);
	assert_int_equal(ntohs(legs[GEN_LAYOUT_PAIRS - 1].relay_port), 65534);
	assert_int_equal(legs[GEN_LAYOUT_PAIRS].relay_ip, addrs[1]);
	assert_int_equal(ntohs(legs[GEN_LAYOUT_PAIRS].relay_port), 1024);
	/* SSRCs differ between legs (seeded) */
	assert_true(legs[0].ssrc != legs[1].ssrc);
	free(legs);
}

/* The calls of a pcap: spread over all calls, none twice, balanced over
 * the queues, each in the queue of the worker --install gives it. */
static void
check_pcap_calls(uint32_t pick, uint32_t calls, uint32_t nq)
{
	uint8_t *seen = calloc(calls, 1);
	uint32_t per_q[16] = { 0 }, k, c, q, lo = UINT32_MAX, hi = 0;

	assert_non_null(seen);
	for (k = 0; k < pick; k++) {
		c = gen_pcap_call(k, pick, calls, nq);
		assert_true(c < calls);
		assert_int_equal(seen[c], 0);
		seen[c] = 1;
		q = gen_queue_of_call(c, nq);
		assert_int_equal(q, k % nq);
		per_q[q]++;
	}
	for (q = 0; q < nq; q++) {
		lo = per_q[q] < lo ? per_q[q] : lo;
		hi = per_q[q] > hi ? per_q[q] : hi;
	}
	assert_true(hi - lo <= 1);
	/* spread: the first and the last picks of queue 0 span the table */
	assert_int_equal(gen_pcap_call(0, pick, calls, nq), 0);
	if (pick > nq)
		assert_true(gen_pcap_call(pick - 1, pick, calls, nq) +
				    2 * nq * (calls / pick + 1) >=
			    calls);
	free(seen);
}

static void
test_pcap_calls(void **state)
{
	uint32_t k;

	(void)state;
	/* one queue: exactly the historical k * calls / pick */
	for (k = 0; k < 3000; k++)
		assert_int_equal(gen_pcap_call(k, 3000, 100000, 1),
				 (uint32_t)((uint64_t)k * 100000 / 3000));
	check_pcap_calls(3000, 100000, 1);
	check_pcap_calls(3000, 100000, 2);
	check_pcap_calls(3000, 250000, 2);
	check_pcap_calls(3000, 250000, 3);
	check_pcap_calls(3000, 3000, 2); /* every call */
	check_pcap_calls(2999, 3001, 4);
	check_pcap_calls(5, 7, 16); /* fewer calls than queues */
	check_pcap_calls(1, 1, 2);
	/* the owner --install gives call c: c % workers */
	assert_int_equal(gen_queue_of_call(0, 2), 0);
	assert_int_equal(gen_queue_of_call(7, 2), 1);
	assert_int_equal(gen_queue_of_call(7, 1), 0);
	assert_int_equal(gen_queue_of_call(11, 4), 3);
}

/* 16-bit ones' complement sum over len bytes, folded. */
static uint16_t
sum16(const uint8_t *p, size_t len, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)(p[len - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void
check_csums(const uint8_t *f, uint16_t len)
{
	const uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t ulen = (uint16_t)(udp[4] << 8 | udp[5]);
	uint32_t ph = 0;

	assert_int_equal(len, 14 + 20 + ulen);
	assert_int_equal(sum16(ip, 20, 0), 0xffff);
	/* pseudo-header: addresses, protocol, UDP length (RFC 768) */
	ph += sum16(ip + 12, 8, 0) + IPPROTO_UDP + ulen;
	assert_int_equal(sum16(udp, ulen, ph), 0xffff);
}

/* gen_flow_hash() is the standard Toeplitz hash (Microsoft's RSS
 * verification suite, IPv4 with ports: 66.9.149.187:2794 ->
 * 161.142.100.80:1766 hashes to 0x51ccc178), and its queues spread
 * 10 000 legs about evenly. */
static void
test_flow_hash(void **state)
{
	struct gen_leg l;
	uint32_t n[2] = {0, 0};
	struct gen_leg *legs;

	(void)state;
	memset(&l, 0, sizeof(l));
	l.phone_ip = htonl(0x420995bbu);  /* 66.9.149.187 */
	l.relay_ip = htonl(0xa18e6450u);  /* 161.142.100.80 */
	l.phone_port = htons(2794);
	l.relay_port = htons(1766);
	assert_int_equal(gen_flow_hash(&l), 0x51ccc178u);
	assert_int_equal(gen_queue_of_flow(&l, 2), 0x51ccc178u % 2);
	legs = gen_calls_create(5000, 0xc6120000u, 15, 1);
	assert_non_null(legs);
	for (uint32_t i = 0; i < 10000; i++) {
		legs[i].relay_ip = htonl(0xc6336401u);
		legs[i].relay_port = htons((uint16_t)(1024 + 2 * i));
		n[gen_queue_of_flow(&legs[i], 2)]++;
	}
	assert_true(n[0] > 4500 && n[1] > 4500);
	free(legs);
}

static void
test_rtp_roundtrip(void **state)
{
	struct gen_leg *legs = gen_calls_create(4, 0xc6120000u, 15, 42);
	struct gen_pkt_ctx pc = { .udp_csum = true };
	struct gen_rx_info ri;
	uint8_t buf[GEN_FRAME_MAX];
	uint16_t len;

	(void)state;
	legs[3].relay_ip = htonl(0xc6336401u);
	legs[3].relay_port = htons(40000);
	len = gen_pkt_rtp(buf, &pc, &legs[3], 3, 7, 123456789ull);
	assert_int_equal(len, 214);
	check_csums(buf, len);
	assert_int_equal(gen_pkt_parse(buf, len, &ri), GEN_RX_RTP);
	assert_int_equal(ri.leg, 3);
	assert_int_equal(ri.seq, (uint16_t)(legs[3].seq0 + 7));
	assert_int_equal(ri.tsc, 123456789ull);
	assert_int_equal(ri.dst_port, 40000);
	/* a later send time, checksum still right */
	gen_pkt_restamp(buf, 987654321ull, true);
	check_csums(buf, len);
	assert_int_equal(gen_pkt_parse(buf, len, &ri), GEN_RX_RTP);
	assert_int_equal(ri.tsc, 987654321ull);
	/* RTCP from port + 1 to port + 1, classified as RTCP */
	len = gen_pkt_rtcp(buf, &pc, &legs[3], 250, 1000000000ull);
	assert_int_equal(len, 14 + 20 + 8 + GEN_RTCP_PAYLOAD);
	check_csums(buf, len);
	assert_int_equal(gen_pkt_parse(buf, len, &ri), GEN_RX_RTCP);
	assert_int_equal(ri.dst_port, 40001);
	/* truncated frames are not ours */
	assert_int_equal(gen_pkt_parse(buf, 40, &ri), GEN_RX_OTHER);
	len = gen_pkt_arp_request(buf, &pc.src_mac, legs[0].phone_ip,
				  legs[3].relay_ip);
	assert_int_equal(gen_pkt_parse(buf, len, &ri), GEN_RX_ARP);
	free(legs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_exact_small),
		cmocka_unit_test(test_hist_bounds),
		cmocka_unit_test(test_hist_merge),
		cmocka_unit_test(test_phone_layout),
		cmocka_unit_test(test_flow_hash),
		cmocka_unit_test(test_relay_layout),
		cmocka_unit_test(test_pcap_calls),
		cmocka_unit_test(test_rtp_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
