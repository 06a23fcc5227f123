/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_parse.c: frame classification on good, truncated and garbage
 * frames, IPv4 and IPv6 (with NDP). The mbufs are built on the stack: dp_parse reads only the data
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

/* Load the frame with len bytes of data and classify it. */
static enum dp_pkt_kind
parse_frame(struct frame *f, struct dp_pkt_meta *pm, const uint8_t *data, uint16_t len)
{
	frame_set(f, data, len);
	return dp_parse_pkt(&f->m, pm);
}

/* The frame of len bytes is dropped for the reason drop. */
static void
expect_drop(struct frame *f, struct dp_pkt_meta *pm, const uint8_t *data, uint16_t len,
	    unsigned int drop)
{
	assert_int_equal(parse_frame(f, pm, data, len), DP_PKT_DROP);
	assert_int_equal(pm->drop, drop);
}

/* Recompute an IPv4 header checksum after a field was changed. */
static void
ip4_recsum(struct rte_ipv4_hdr *ip)
{
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
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
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_UDP);
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
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_UDP);
	assert_int_equal(pm.l3_off, 18);
	len = build_udp(pkt, 2, A_SRC, A_DST, 4000, 35000, 160);
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_UDP);
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
		expect_drop(&f, &pm, pkt, cut, RTPB_DROP_TRUNCATED);
	}
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_UDP);
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
	/* Not checked by the PMD: accepted, flagged for the worker, whose
	 * check fails. */
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_UDP);
	assert_true(pm.l3_unverified);
	assert_false(dp_parse_l3_csum_ok(&f.m, &pm));
	/* The PMD found it bad: dropped here. */
	f.m.ol_flags = RTE_MBUF_F_RX_IP_CKSUM_BAD;
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_DROP);
	assert_int_equal(pm.drop, RTPB_DROP_BAD_CSUM);
	/* The PMD says it checked it: trusted. */
	f.m.ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	assert_int_equal(dp_parse_pkt(&f.m, &pm), DP_PKT_UDP);
	assert_false(pm.l3_unverified);
	assert_true(dp_parse_l3_csum_ok(&f.m, &pm));
	/* A right checksum passes the worker's check. */
	ip->hdr_checksum ^= 0x1234;
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_UDP);
	assert_true(pm.l3_unverified);
	assert_true(dp_parse_l3_csum_ok(&f.m, &pm));

	/* Fragments: MF set, or an offset. */
	len = build_udp(pkt, 0, A_SRC, A_DST, 1, 2, 10);
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_MF_FLAG);
	ip4_recsum(ip);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_FRAGMENT);
	ip->fragment_offset = RTE_BE16(10);
	ip4_recsum(ip);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_FRAGMENT);
	/* DF alone is fine. */
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip4_recsum(ip);
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_UDP);

	/* TCP. */
	len = build_udp(pkt, 0, A_SRC, A_DST, 1, 2, 10);
	ip->next_proto_id = IPPROTO_TCP;
	ip4_recsum(ip);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_NOT_UDP);

	/* UDP length larger than the IP payload, or below 8. */
	len = build_udp(pkt, 0, A_SRC, A_DST, 1, 2, 10);
	udp->dgram_len = RTE_BE16(100);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_TRUNCATED);
	udp->dgram_len = RTE_BE16(7);
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_DROP);

	/* IHL below 5, version 6 in an IPv4 ethertype. */
	len = build_udp(pkt, 0, A_SRC, A_DST, 1, 2, 10);
	ip->version_ihl = 0x44;
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_DROP);
	ip->version_ihl = 0x65;
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_DROP);
	/* Total length beyond the frame. */
	len = build_udp(pkt, 0, A_SRC, A_DST, 1, 2, 10);
	ip->total_length = RTE_BE16(1000);
	ip4_recsum(ip);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_TRUNCATED);
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
	assert_int_equal(parse_frame(&f, &pm, pkt, len < 60 ? 60 : len), DP_PKT_UDP);
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
	assert_int_equal(parse_frame(&f, &pm, pkt, 42), DP_PKT_ARP);
	assert_int_equal(pm.l3_off, 14);
	assert_int_equal(parse_frame(&f, &pm, pkt, 41), DP_PKT_DROP);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_LLDP);
	expect_drop(&f, &pm, pkt, 64, RTPB_DROP_ETHERTYPE);
}

/* ---- IPv6 (RFC 8200) ---------------------------------------------- */

/* 2001:db8:b::20 and 2001:db8:a::1 (RFC 3849). */
static const uint8_t B_SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0b, [15] = 0x20};
static const uint8_t A_DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, [15] = 0x01};

/* Build Ethernet [+ n_vlan tags] + IPv6 + UDP + payload, with a valid
 * UDP checksum; returns the frame length. */
static uint16_t
build_udp6(uint8_t *p, int n_vlan, const uint8_t *src, const uint8_t *dst,
	   uint16_t sport, uint16_t dport, uint16_t payload_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	uint16_t off = sizeof(*eth);
	struct rte_ipv6_hdr *ip6;
	struct rte_udp_hdr *udp;
	int i;

	memset(p, 0, 1600);
	memset(&eth->dst_addr, 0x02, 6);
	memset(&eth->src_addr, 0x04, 6);
	eth->ether_type = RTE_BE16(n_vlan ? RTE_ETHER_TYPE_QINQ : RTE_ETHER_TYPE_IPV6);
	for (i = 0; i < n_vlan; i++) {
		struct rte_vlan_hdr *v = (struct rte_vlan_hdr *)(p + off);

		v->vlan_tci = RTE_BE16(200 + i);
		v->eth_proto = RTE_BE16(i + 1 < n_vlan ? RTE_ETHER_TYPE_VLAN : RTE_ETHER_TYPE_IPV6);
		off += sizeof(*v);
	}
	ip6 = (struct rte_ipv6_hdr *)(p + off);
	ip6->vtc_flow = RTE_BE32(0x60000000);
	ip6->payload_len = rte_cpu_to_be_16(8 + payload_len);
	ip6->proto = IPPROTO_UDP;
	ip6->hop_limits = 64;
	memcpy(ip6->src_addr, src, 16);
	memcpy(ip6->dst_addr, dst, 16);
	udp = (struct rte_udp_hdr *)(ip6 + 1);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16(8 + payload_len);
	if (payload_len > 0)
		((uint8_t *)(udp + 1))[0] = 0x80;
	udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip6, udp);
	return (uint16_t)(off + 40 + 8 + payload_len);
}

/* Ethernet + IPv6 + ICMPv6 of type and icmp_len bytes (zeroed body). */
static uint16_t
build_icmp6(uint8_t *p, uint8_t type, uint16_t icmp_len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);
	uint8_t *icmp = (uint8_t *)(ip6 + 1);

	memset(p, 0, 1600);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	ip6->vtc_flow = RTE_BE32(0x60000000);
	ip6->payload_len = rte_cpu_to_be_16(icmp_len);
	ip6->proto = IPPROTO_ICMPV6;
	ip6->hop_limits = 255;
	memcpy(ip6->src_addr, B_SRC6, 16);
	memcpy(ip6->dst_addr, A_DST6, 16);
	icmp[0] = type;
	return (uint16_t)(14 + 40 + icmp_len);
}

static void
test_good_udp6(void **state)
{
	struct frame f;
	struct dp_pkt_meta pm;
	uint8_t pkt[1600];
	uint16_t len = build_udp6(pkt, 0, B_SRC6, A_DST6, 6000, 35002, 172);

	(void)state;
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_UDP);
	assert_int_equal(pm.l3_off, 14);
	assert_int_equal(pm.l4_off, 54);
	assert_int_equal(pm.payload_len, 172);
	assert_int_equal(pm.src.family, RTPB_AF_INET6);
	assert_int_equal(pm.dst.family, RTPB_AF_INET6);
	assert_memory_equal(pm.src.ip, B_SRC6, 16);
	assert_memory_equal(pm.dst.ip, A_DST6, 16);
	assert_int_equal(pm.src.port, RTE_BE16(6000));
	assert_int_equal(pm.dst.port, RTE_BE16(35002));
	assert_int_equal(pm.src.reserved, 0);
	assert_int_equal(pm.dst.reserved, 0);

	/* Behind 802.1ad + 802.1Q tags. */
	len = build_udp6(pkt, 2, B_SRC6, A_DST6, 6000, 35002, 160);
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_UDP);
	assert_int_equal(pm.l3_off, 22);
	assert_int_equal(pm.l4_off, 62);
	assert_int_equal(pm.payload_len, 160);

	/* Bytes beyond the IPv6 payload (padding) are not the packet's. */
	len = build_udp6(pkt, 0, B_SRC6, A_DST6, 1, 2, 0);
	assert_int_equal(parse_frame(&f, &pm, pkt, (uint16_t)(len + 10)), DP_PKT_UDP);
	assert_int_equal(pm.payload_len, 0);
}

static void
test_truncated6_everywhere(void **state)
{
	struct frame f;
	struct dp_pkt_meta pm;
	uint8_t pkt[1600];
	uint16_t len, cut;
	int vlan;

	(void)state;
	/* Every cut inside Ethernet, the tags, IPv6, UDP or the payload. */
	for (vlan = 0; vlan <= 2; vlan++) {
		len = build_udp6(pkt, vlan, B_SRC6, A_DST6, 6000, 35002, 20);
		for (cut = 0; cut < len; cut++) {
			expect_drop(&f, &pm, pkt, cut, RTPB_DROP_TRUNCATED);
		}
		assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_UDP);
	}
	/* The same for a Neighbor Solicitation (24 bytes + an option). */
	len = build_icmp6(pkt, DP_ICMP6_NS, 32);
	for (cut = 0; cut < len; cut++) {
		expect_drop(&f, &pm, pkt, cut, RTPB_DROP_TRUNCATED);
	}
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_ND);
}

static void
test_bad_headers6(void **state)
{
	struct frame f;
	struct dp_pkt_meta pm;
	uint8_t pkt[1600];
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(pkt + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(pkt + 54);
	static const struct {
		uint8_t nh;
		uint8_t drop;
	} ext[] = {
		{0, RTPB_DROP_IPV6_EXT},    /* Hop-by-Hop (MLD, jumbograms) */
		{43, RTPB_DROP_IPV6_EXT},   /* Routing */
		{44, RTPB_DROP_FRAGMENT},   /* Fragment */
		{50, RTPB_DROP_IPV6_EXT},   /* ESP */
		{51, RTPB_DROP_IPV6_EXT},   /* AH */
		{60, RTPB_DROP_IPV6_EXT},   /* Destination Options */
		{135, RTPB_DROP_IPV6_EXT},  /* Mobility */
		{IPPROTO_TCP, RTPB_DROP_NOT_UDP},
		{59, RTPB_DROP_NOT_UDP},    /* No Next Header */
	};
	uint16_t len;
	unsigned int i;

	(void)state;
	/* Extension headers and other protocols. */
	for (i = 0; i < RTE_DIM(ext); i++) {
		len = build_udp6(pkt, 0, B_SRC6, A_DST6, 1, 2, 10);
		ip6->proto = ext[i].nh;
		assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_DROP);
		assert_int_equal(pm.drop, ext[i].drop);
	}

	/* RFC 8200 §8.1: a zero UDP checksum is not allowed. */
	len = build_udp6(pkt, 0, B_SRC6, A_DST6, 1, 2, 10);
	udp->dgram_cksum = 0;
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_UDP6_ZERO_CSUM);

	/* Version 4 in an IPv6 ethertype. */
	len = build_udp6(pkt, 0, B_SRC6, A_DST6, 1, 2, 10);
	ip6->vtc_flow = RTE_BE32(0x40000000);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_TRUNCATED);

	/* Payload length beyond the frame. */
	len = build_udp6(pkt, 0, B_SRC6, A_DST6, 1, 2, 10);
	ip6->payload_len = RTE_BE16(19);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_TRUNCATED);

	/* Payload length below a UDP header; jumbogram (0). */
	ip6->payload_len = RTE_BE16(7);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_TRUNCATED);
	ip6->payload_len = 0;
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_TRUNCATED);

	/* UDP length above the IPv6 payload, or below 8 (RFC 768). */
	len = build_udp6(pkt, 0, B_SRC6, A_DST6, 1, 2, 10);
	udp->dgram_len = RTE_BE16(19);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_TRUNCATED);
	udp->dgram_len = RTE_BE16(7);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_TRUNCATED);
	/* Shorter than the IPv6 payload is fine: the rest is not UDP's. */
	udp->dgram_len = RTE_BE16(12);
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_UDP);
	assert_int_equal(pm.payload_len, 4);
}

static void
test_nd_classified(void **state)
{
	struct frame f;
	struct dp_pkt_meta pm;
	uint8_t pkt[1600];
	uint16_t len;

	(void)state;
	/* NS and NA go to the slow path, with their addresses. */
	len = build_icmp6(pkt, DP_ICMP6_NS, 32);
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_ND);
	assert_int_equal(pm.l3_off, 14);
	assert_int_equal(pm.l4_off, 54);
	assert_int_equal(pm.payload_len, 32);
	assert_int_equal(pm.src.family, RTPB_AF_INET6);
	assert_memory_equal(pm.src.ip, B_SRC6, 16);
	assert_memory_equal(pm.dst.ip, A_DST6, 16);
	assert_int_equal(pm.dst.port, 0);
	len = build_icmp6(pkt, DP_ICMP6_NA, 24);
	assert_int_equal(parse_frame(&f, &pm, pkt, len), DP_PKT_ND);
	assert_int_equal(pm.payload_len, 24);

	/* Shorter than RFC 4861's 24 bytes. */
	len = build_icmp6(pkt, DP_ICMP6_NS, 20);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_TRUNCATED);
	len = build_icmp6(pkt, DP_ICMP6_NS, 3);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_TRUNCATED);

	/* Other ICMPv6: echo request, router solicitation. */
	len = build_icmp6(pkt, 128, 64);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_NOT_UDP);
	len = build_icmp6(pkt, 133, 8);
	expect_drop(&f, &pm, pkt, len, RTPB_DROP_NOT_UDP);
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
		/* Bias toward IPv4 and IPv6 so the deeper checks are reached. */
		if (len > 14 && (i % 4) == 1) {
			pkt[12] = 0x08;
			pkt[13] = 0x00;
			pkt[14] = 0x45;
		} else if (len > 60 && (i % 4) == 2) {
			pkt[12] = 0x86;
			pkt[13] = 0xdd;
			pkt[14] = 0x60;
			pkt[18] = 0;      /* payload length < 256 */
			pkt[20] = (uint8_t)((i & 8) ? IPPROTO_UDP : IPPROTO_ICMPV6);
		}
		frame_set(&f, pkt, len);
		switch (dp_parse_pkt(&f.m, &pm)) {
		case DP_PKT_UDP:
			udp++;
			assert_true(pm.l4_off + 8u + pm.payload_len <= len);
			break;
		case DP_PKT_ND:
			assert_true(pm.l4_off + (uint32_t)pm.payload_len <= len);
			assert_true(pm.payload_len >= DP_ND_MIN_LEN);
			break;
		default:
			break;
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
		cmocka_unit_test(test_good_udp6),
		cmocka_unit_test(test_truncated6_everywhere),
		cmocka_unit_test(test_bad_headers6),
		cmocka_unit_test(test_nd_classified),
		cmocka_unit_test(test_garbage_never_crashes),
		cmocka_unit_test(test_media_class),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
