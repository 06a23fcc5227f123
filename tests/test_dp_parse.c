/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_parse.c: frame classification on good, truncated and garbage
 * frames. The mbufs are built on the stack: dp_parse reads only the data
 * pointer, lengths and offload flags, so no EAL is needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp_parse.h"

struct frame {
	struct rte_mbuf m;
	uint8_t buf[2048];
};

static void
frame_set(struct frame *f, const uint8_t *data, uint16_t len)
{
	memset(&f->m, 0, sizeof(f->m));
	memcpy(f->buf, data, len);
	f->m.buf_addr = f->buf;
	f->m.data_off = 0;
	f->m.data_len = len;
	f->m.pkt_len = len;
	f->m.nb_segs = 1;
}

/* Build Ethernet [+ n_vlan tags] + IPv4 + UDP + payload; returns length. */
static uint16_t
build_udp(uint8_t *p, int n_vlan, uint32_t src, uint32_t dst, uint16_t sport,
	  uint16_t dport, uint16_t payload_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	uint16_t off = sizeof(*eth);
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	int i;

	memset(p, 0, 1600);
	memset(&eth->dst_addr, 0x02, 6);
	memset(&eth->src_addr, 0x04, 6);
	eth->ether_type = RTE_BE16(n_vlan ? RTE_ETHER_TYPE_VLAN : RTE_ETHER_TYPE_IPV4);
	for (i = 0; i < n_vlan; i++) {
		struct rte_vlan_hdr *v = (struct rte_vlan_hdr *)(p + off);

		v->vlan_tci = RTE_BE16(100 + i);
		v->eth_proto = RTE_BE16(i + 1 < n_vlan ? RTE_ETHER_TYPE_VLAN : RTE_ETHER_TYPE_IPV4);
		off += sizeof(*v);
	}
	ip = (struct rte_ipv4_hdr *)(p + off);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + payload_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16(8 + payload_len);
	((uint8_t *)(udp + 1))[0] = 0x80;
	return (uint16_t)(off + 20 + 8 + payload_len);
}

#define A_SRC RTE_BE32(0xc633640a) /* 198.51.100.10 */
#define A_DST RTE_BE32(0xc0000201) /* 192.0.2.1 */

static void
test_good_udp(void **state)
{
	struct frame f;
	struct dp_pkt_meta pm;
	uint8_t pkt[1600];
	uint16_t len = build_udp(pkt, 0, A_SRC, A_DST, 4000, 35000, 172);

	(void)state;
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_UDP);
	assert_int_equal(pm.l3_off, 14);
	assert_int_equal(pm.l4_off, 34);
	assert_int_equal(pm.payload_len, 172);
	assert_int_equal(pm.src.family, RTPB_AF_INET);
	assert_int_equal(rtpb_addr_v4(&pm.src), A_SRC);
	assert_int_equal(rtpb_addr_v4(&pm.dst), A_DST);
	assert_int_equal(pm.src.port, RTE_BE16(4000));
	assert_int_equal(pm.dst.port, RTE_BE16(35000));
	assert_int_equal(pm.dst.reserved, 0);
}

static void
test_vlan_and_qinq(void **state)
{
	struct frame f;
	struct dp_pkt_meta pm;
	uint8_t pkt[1600];
	uint16_t len;

	(void)state;
	len = build_udp(pkt, 1, A_SRC, A_DST, 4000, 35000, 160);
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_UDP);
	assert_int_equal(pm.l3_off, 18);
	len = build_udp(pkt, 2, A_SRC, A_DST, 4000, 35000, 160);
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_UDP);
	assert_int_equal(pm.l3_off, 22);
	assert_int_equal(pm.payload_len, 160);
}

static void
test_truncated_everywhere(void **state)
{
	struct frame f;
	struct dp_pkt_meta pm;
	uint8_t pkt[1600];
	uint16_t len = build_udp(pkt, 1, A_SRC, A_DST, 4000, 35000, 20), cut;

	(void)state;
	/* Every cut short of the full frame is refused, never read beyond. */
	for (cut = 0; cut < len; cut++) {
		frame_set(&f, pkt, cut);
		assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);
		assert_true(pm.drop == RTPB_DROP_TRUNCATED);
	}
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_UDP);
}

static void
test_bad_headers(void **state)
{
	struct frame f;
	struct dp_pkt_meta pm;
	uint8_t pkt[1600];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(pkt + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(pkt + 34);
	uint16_t len;

	(void)state;
	/* IPv4 header checksum wrong. */
	len = build_udp(pkt, 0, A_SRC, A_DST, 1, 2, 10);
	ip->hdr_checksum ^= 0x1234;
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);
	assert_int_equal(pm.drop, RTPB_DROP_BAD_CSUM);
	/* ...unless the PMD says it checked it. */
	f.m.ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_UDP);

	/* Fragments: MF set, or an offset. */
	len = build_udp(pkt, 0, A_SRC, A_DST, 1, 2, 10);
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_MF_FLAG);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);
	assert_int_equal(pm.drop, RTPB_DROP_FRAGMENT);
	ip->fragment_offset = RTE_BE16(10);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);
	assert_int_equal(pm.drop, RTPB_DROP_FRAGMENT);
	/* DF alone is fine. */
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_UDP);

	/* TCP. */
	len = build_udp(pkt, 0, A_SRC, A_DST, 1, 2, 10);
	ip->next_proto_id = IPPROTO_TCP;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);
	assert_int_equal(pm.drop, RTPB_DROP_NOT_UDP);

	/* UDP length larger than the IP payload, or below 8. */
	len = build_udp(pkt, 0, A_SRC, A_DST, 1, 2, 10);
	udp->dgram_len = RTE_BE16(100);
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);
	assert_int_equal(pm.drop, RTPB_DROP_TRUNCATED);
	udp->dgram_len = RTE_BE16(7);
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);

	/* IHL below 5, version 6 in an IPv4 ethertype. */
	len = build_udp(pkt, 0, A_SRC, A_DST, 1, 2, 10);
	ip->version_ihl = 0x44;
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);
	ip->version_ihl = 0x65;
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);
	/* Total length beyond the frame. */
	len = build_udp(pkt, 0, A_SRC, A_DST, 1, 2, 10);
	ip->total_length = RTE_BE16(1000);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	frame_set(&f, pkt, len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);
	assert_int_equal(pm.drop, RTPB_DROP_TRUNCATED);
}

static void
test_ethernet_padding_ok(void **state)
{
	struct frame f;
	struct dp_pkt_meta pm;
	uint8_t pkt[1600];
	uint16_t len = build_udp(pkt, 0, A_SRC, A_DST, 1, 2, 2);

	(void)state;
	/* 44-byte frame padded to the 60-byte minimum: UDP length rules. */
	frame_set(&f, pkt, len < 60 ? 60 : len);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_UDP);
	assert_int_equal(pm.payload_len, 2);
}

static void
test_arp_and_other(void **state)
{
	struct frame f;
	struct dp_pkt_meta pm;
	uint8_t pkt[64] = {0};
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)pkt;

	(void)state;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	frame_set(&f, pkt, 42);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_ARP);
	assert_int_equal(pm.l3_off, 14);
	frame_set(&f, pkt, 41);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	frame_set(&f, pkt, 64);
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);
	assert_int_equal(pm.drop, RTPB_DROP_ETHERTYPE);
}

static void
test_garbage_never_crashes(void **state)
{
	struct frame f;
	struct dp_pkt_meta pm;
	uint8_t pkt[256];
	unsigned int i, j, udp = 0;

	(void)state;
	srand(42);
	for (i = 0; i < 200000; i++) {
		uint16_t len = (uint16_t)(rand() % sizeof(pkt));

		for (j = 0; j < len; j++)
			pkt[j] = (uint8_t)rand();
		/* Bias toward IPv4 so the deeper checks are reached. */
		if (len > 14 && (i & 1)) {
			pkt[12] = 0x08;
			pkt[13] = 0x00;
			pkt[14] = 0x45;
		}
		frame_set(&f, pkt, len);
		if (dp_parse_pkt(&f.m, &pm) == DP_PKT_UDP) {
			udp++;
			assert_true(pm.l4_off + 8u + pm.payload_len <= len);
		}
	}
	(void)udp;
}

static void
test_media_class(void **state)
{
	(void)state;
	/* RFC 7983 §7. */
	assert_true(dp_parse_media_class_ok(0));
	assert_true(dp_parse_media_class_ok(3));
	assert_false(dp_parse_media_class_ok(4));
	assert_false(dp_parse_media_class_ok(19));
	assert_true(dp_parse_media_class_ok(20));
	assert_true(dp_parse_media_class_ok(63));
	assert_false(dp_parse_media_class_ok(64));
	assert_false(dp_parse_media_class_ok(127));
	assert_true(dp_parse_media_class_ok(128));
	assert_true(dp_parse_media_class_ok(191));
	assert_false(dp_parse_media_class_ok(192));
	assert_false(dp_parse_media_class_ok(255));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_udp),
		cmocka_unit_test(test_vlan_and_qinq),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_ethernet_padding_ok),
		cmocka_unit_test(test_arp_and_other),
		cmocka_unit_test(test_garbage_never_crashes),
		cmocka_unit_test(test_media_class),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
