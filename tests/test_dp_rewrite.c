/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_rewrite.c: the relay's header rewrite, 4->4, 6->6 and the
 * bridging cases 4->6 and 6->4: the output is parsed again and its IP
 * and UDP checksums verified with DPDK's verifiers
 * (rte_ipv4_udptcp_cksum_verify(), rte_ipv6_udptcp_cksum_verify()), the
 * payload compared byte for byte, VLAN tags and DSCP checked. Mbufs come
 * from a real pool (EAL in memory, no devices), since bridging prepends
 * into the headroom and trims the tail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp_parse.h"
#include "dp_rewrite.h"
#include "test_eal.h"

static struct rte_mempool *pool;

static const struct rte_ether_addr RELAY_MAC = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct rte_ether_addr NH_MAC = {{0x02, 0, 0, 0, 0, 0x99}};

/* Addresses: RFC 5737 and RFC 3849 documentation ranges. */
static void
addr4(struct rtpb_addr *a, uint32_t ip_host, uint16_t port)
{
	rtpb_addr_set_v4(a, rte_cpu_to_be_32(ip_host), rte_cpu_to_be_16(port));
}

static void
addr6(struct rtpb_addr *a, uint8_t net, uint8_t host, uint16_t port)
{
	static const uint8_t base[16] = {0x20, 0x01, 0x0d, 0xb8};

	memset(a, 0, sizeof(*a));
	a->family = RTPB_AF_INET6;
	a->port = rte_cpu_to_be_16(port);
	memcpy(a->ip, base, 16);
	a->ip[5] = net;
	a->ip[15] = host;
}

struct spec {
	struct rtpb_addr src, dst;  /* as received */
	int n_vlan;
	uint8_t tos;                /* TOS / traffic class */
	int zero_cksum;             /* IPv4 only: no UDP checksum */
	int ip_options;             /* IPv4 only: IHL 6 (one NOP word) */
	uint16_t pad;               /* Ethernet bytes after the packet */
	uint16_t payload_len;
	unsigned int seed;
};

/* Build the frame described by sp into a fresh mbuf; the payload is
 * pseudo-random from seed (first byte 0x80, RTP). */
static struct rte_mbuf *
build(const struct spec *sp, uint8_t *payload_copy)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint16_t l3 = (uint16_t)(sp->src.family == RTPB_AF_INET6 ? 40 : 20 + 4 * !!sp->ip_options);
	uint16_t off = (uint16_t)(14 + 4 * sp->n_vlan);
	uint16_t len = (uint16_t)(off + l3 + 8 + sp->payload_len + sp->pad);
	uint8_t *p, *pl;
	struct rte_udp_hdr *udp;
	unsigned int seed = sp->seed;
	int i;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	assert_non_null(p);
	memset(p, 0, len);
	memset(p, 0x02, 6);
	memset(p + 6, 0x04, 6);
	for (i = 0; i <= sp->n_vlan; i++) {
		uint16_t type = i == sp->n_vlan ?
			(sp->src.family == RTPB_AF_INET6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4) :
			(i == 0 && sp->n_vlan == 2 ? RTE_ETHER_TYPE_QINQ : RTE_ETHER_TYPE_VLAN);

		*(rte_be16_t *)(p + 12 + 4 * i) = rte_cpu_to_be_16(type);
		if (i < sp->n_vlan)
			*(rte_be16_t *)(p + 14 + 4 * i) = rte_cpu_to_be_16((uint16_t)(300 + i));
	}
	udp = (struct rte_udp_hdr *)(p + off + l3);
	udp->src_port = sp->src.port;
	udp->dst_port = sp->dst.port;
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + sp->payload_len));
	pl = (uint8_t *)(udp + 1);
	for (i = 0; i < sp->payload_len; i++)
		pl[i] = (uint8_t)rand_r(&seed);
	if (sp->payload_len > 0)
		pl[0] = 0x80;
	memcpy(payload_copy, pl, sp->payload_len);
	if (sp->src.family == RTPB_AF_INET6) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(p + off);

		ip6->vtc_flow = rte_cpu_to_be_32(6u << 28 | (uint32_t)sp->tos << 20 | 0x12345);
		ip6->payload_len = udp->dgram_len;
		ip6->proto = IPPROTO_UDP;
		ip6->hop_limits = 3;
		memcpy(ip6->src_addr, sp->src.ip, 16);
		memcpy(ip6->dst_addr, sp->dst.ip, 16);
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip6, udp);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + off);

		ip->version_ihl = (uint8_t)(0x40 | (l3 / 4));
		ip->type_of_service = sp->tos;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(l3 + 8 + sp->payload_len));
		ip->packet_id = RTE_BE16(0x4242);
		ip->time_to_live = 3;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = rtpb_addr_v4(&sp->src);
		ip->dst_addr = rtpb_addr_v4(&sp->dst);
		if (sp->ip_options)
			memset(ip + 1, 1, 4); /* four NOPs */
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->dgram_cksum = sp->zero_cksum ? 0 : rte_ipv4_udptcp_cksum(ip, udp);
	}
	return m;
}

/*
 * Rewrite a frame built from sp to leave from `from' to `to', then check
 * everything a receiver would: the frame parses, addresses and ports are
 * the new ones, TTL/hop limit 64, IP and UDP checksums verify, the
 * payload is intact, VLAN tags and DSCP stayed, MACs are set.
 */
static void
check_rewrite(const struct spec *sp, const struct rtpb_addr *from,
	      const struct rtpb_addr *to)
{
	static uint8_t payload[2048];
	struct rte_mbuf *m = build(sp, payload);
	struct dp_pkt_meta pm, out;
	const uint8_t *p;
	const struct rte_udp_hdr *udp;
	int i;

	assert_int_equal(dp_parse_pkt(m, &pm), DP_PKT_UDP);
	assert_int_equal(dp_rewrite_udp(m, &pm, from, to, &RELAY_MAC, &NH_MAC, 1500), 0);

	assert_int_equal(dp_parse_pkt(m, &out), DP_PKT_UDP);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_memory_equal(p, &NH_MAC, 6);
	assert_memory_equal(p + 6, &RELAY_MAC, 6);
	/* Tags stay, in order. */
	assert_int_equal(out.l3_off, 14 + 4 * sp->n_vlan);
	for (i = 0; i < sp->n_vlan; i++)
		assert_int_equal(rte_be_to_cpu_16(*(const rte_be16_t *)(p + 14 + 4 * i)),
				 300 + i);
	assert_true(rtpb_addr_eq(&out.src, from));
	assert_true(rtpb_addr_eq(&out.dst, to));
	assert_int_equal(out.payload_len, sp->payload_len);
	udp = (const struct rte_udp_hdr *)(p + out.l4_off);
	assert_memory_equal(udp + 1, payload, sp->payload_len);
	if (to->family == RTPB_AF_INET6) {
		const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)(p + out.l3_off);

		assert_int_equal(ip6->hop_limits, DP_REWRITE_TTL);
		assert_int_equal((rte_be_to_cpu_32(ip6->vtc_flow) >> 20) & 0xff, sp->tos);
		assert_int_not_equal(udp->dgram_cksum, 0); /* RFC 8200 §8.1 */
		assert_int_equal(rte_ipv6_udptcp_cksum_verify(ip6, udp), 0);
		/* Nothing after the packet in a bridged frame. */
		if (pm.dst.family != to->family)
			assert_int_equal(rte_pktmbuf_data_len(m), out.l4_off + 8 + sp->payload_len);
	} else {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + out.l3_off);

		assert_int_equal(ip->time_to_live, DP_REWRITE_TTL);
		assert_int_equal(ip->type_of_service, sp->tos);
		assert_int_equal(rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)), 0xffff);
		if (sp->zero_cksum && pm.dst.family == RTPB_AF_INET)
			assert_int_equal(udp->dgram_cksum, 0); /* none stays none */
		else
			assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, udp), 0);
		if (pm.dst.family != to->family) {
			assert_int_equal(ip->version_ihl, 0x45);
			assert_true(ip->fragment_offset == RTE_BE16(RTE_IPV4_HDR_DF_FLAG));
			assert_int_equal(rte_pktmbuf_data_len(m), out.l4_off + 8 + sp->payload_len);
		}
	}
	assert_int_equal(rte_pktmbuf_pkt_len(m), rte_pktmbuf_data_len(m));
	rte_pktmbuf_free(m);
}

/* Phone A 192.0.2.10:4000 -> relay 192.0.2.1:35000; out from 198.51.100.1
 * or 2001:db8:a::1 port 35002 to phone B. */
static void
legs(struct spec *sp, int in6, struct rtpb_addr *from, struct rtpb_addr *to, int out6)
{
	memset(sp, 0, sizeof(*sp));
	if (in6) {
		addr6(&sp->src, 0x0b, 0x20, 6000);
		addr6(&sp->dst, 0x0a, 0x01, 35000);
	} else {
		addr4(&sp->src, 0xc000020a, 4000);
		addr4(&sp->dst, 0xc0000201, 35000);
	}
	if (out6) {
		addr6(from, 0x0a, 0x01, 35002);
		addr6(to, 0x0b, 0x30, 7000);
	} else {
		addr4(from, 0xc6336401, 35002);
		addr4(to, 0xc6336414, 7000);
	}
	sp->payload_len = 172;
	sp->tos = 0xb8; /* EF */
	sp->seed = 1;
}

static void
test_4to4(void **state)
{
	struct spec sp;
	struct rtpb_addr from, to;

	(void)state;
	legs(&sp, 0, &from, &to, 0);
	check_rewrite(&sp, &from, &to);
	sp.n_vlan = 1;
	check_rewrite(&sp, &from, &to);
	sp.zero_cksum = 1;
	check_rewrite(&sp, &from, &to);
	sp.n_vlan = 0;
	sp.pad = 20;
	sp.payload_len = 2;
	check_rewrite(&sp, &from, &to);
}

static void
test_6to6(void **state)
{
	struct spec sp;
	struct rtpb_addr from, to;

	(void)state;
	legs(&sp, 1, &from, &to, 1);
	check_rewrite(&sp, &from, &to);
	sp.n_vlan = 2;
	check_rewrite(&sp, &from, &to);
}

static void
test_4to6(void **state)
{
	struct spec sp;
	struct rtpb_addr from, to;

	(void)state;
	legs(&sp, 0, &from, &to, 1);
	check_rewrite(&sp, &from, &to);
	/* No IPv4 UDP checksum: IPv6 gets a computed one. */
	sp.zero_cksum = 1;
	check_rewrite(&sp, &from, &to);
	sp.zero_cksum = 0;
	/* Tags move with the Ethernet header. */
	sp.n_vlan = 1;
	check_rewrite(&sp, &from, &to);
	sp.n_vlan = 2;
	check_rewrite(&sp, &from, &to);
	/* IPv4 options are not carried; padding is trimmed. */
	sp.n_vlan = 0;
	sp.ip_options = 1;
	check_rewrite(&sp, &from, &to);
	sp.ip_options = 0;
	sp.payload_len = 1;
	sp.pad = 17;
	check_rewrite(&sp, &from, &to);
	/* Empty payload. */
	sp.payload_len = 0;
	sp.pad = 0;
	check_rewrite(&sp, &from, &to);
}

static void
test_6to4(void **state)
{
	struct spec sp;
	struct rtpb_addr from, to;

	(void)state;
	legs(&sp, 1, &from, &to, 0);
	check_rewrite(&sp, &from, &to);
	sp.n_vlan = 1;
	check_rewrite(&sp, &from, &to);
	sp.n_vlan = 2;
	sp.payload_len = 1200;
	check_rewrite(&sp, &from, &to);
}

static void
test_too_big(void **state)
{
	static uint8_t payload[2048];
	struct spec sp;
	struct rtpb_addr from, to;
	struct dp_pkt_meta pm;
	struct rte_mbuf *m;
	uint8_t before[1600];
	uint16_t len;

	(void)state;
	/* 1500-byte IPv4 is 1520 bytes as IPv6: dropped, frame untouched. */
	legs(&sp, 0, &from, &to, 1);
	sp.payload_len = 1500 - 28;
	m = build(&sp, payload);
	len = rte_pktmbuf_data_len(m);
	memcpy(before, rte_pktmbuf_mtod(m, void *), len);
	assert_int_equal(dp_parse_pkt(m, &pm), DP_PKT_UDP);
	assert_int_equal(dp_rewrite_udp(m, &pm, &from, &to, &RELAY_MAC, &NH_MAC, 1500),
			 RTPB_DROP_TOO_BIG);
	assert_int_equal(rte_pktmbuf_data_len(m), len);
	assert_memory_equal(rte_pktmbuf_mtod(m, void *), before, len);
	rte_pktmbuf_free(m);
	/* 20 bytes less fits exactly. */
	sp.payload_len = 1500 - 48;
	check_rewrite(&sp, &from, &to);
	/* 6->4 never grows. */
	legs(&sp, 1, &from, &to, 0);
	sp.payload_len = 1500 - 48;
	check_rewrite(&sp, &from, &to);
}

/* A corrupt IPv4 header stays corrupt through a 4->4 rewrite (RFC 1624
 * incremental update), so the receiver still drops it: the worker only
 * verifies headers that decide something (dp_parse.h). */
static void
test_corrupt_stays_corrupt(void **state)
{
	static uint8_t payload[2048];
	struct spec sp;
	struct rtpb_addr from, to;
	struct dp_pkt_meta pm;
	struct rte_ipv4_hdr *ip;
	struct rte_mbuf *m;

	(void)state;
	legs(&sp, 0, &from, &to, 0);
	m = build(&sp, payload);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->hdr_checksum ^= RTE_BE16(0x0101);
	assert_int_equal(dp_parse_pkt(m, &pm), DP_PKT_UDP);
	assert_true(pm.l3_unverified);
	assert_false(dp_parse_l3_csum_ok(m, &pm));
	assert_int_equal(dp_rewrite_udp(m, &pm, &from, &to, &RELAY_MAC, &NH_MAC, 1500), 0);
	assert_int_not_equal(rte_raw_cksum(ip, 20), 0xffff);
	assert_int_equal(ip->src_addr, rtpb_addr_v4(&from));
	rte_pktmbuf_free(m);
}

/* Every combination with random addresses, ports, sizes and tags. */
static void
test_random(void **state)
{
	struct spec sp;
	struct rtpb_addr from, to;
	unsigned int i, seed = 7;

	(void)state;
	for (i = 0; i < 4000; i++) {
		int in6 = i & 1, out6 = (i >> 1) & 1, k;
		struct rtpb_addr *all[4];

		legs(&sp, in6, &from, &to, out6);
		all[0] = &sp.src;
		all[1] = &sp.dst;
		all[2] = &from;
		all[3] = &to;
		for (k = 0; k < 4; k++) {
			unsigned int j, n = all[k]->family == RTPB_AF_INET6 ? 16 : 4;

			for (j = 0; j < n; j++)
				all[k]->ip[j] = (uint8_t)rand_r(&seed);
			if (all[k]->family == RTPB_AF_INET6)
				all[k]->ip[0] = 0x20; /* not multicast, not link-local */
			all[k]->port = (uint16_t)rand_r(&seed);
		}
		sp.payload_len = (uint16_t)(rand_r(&seed) % 1400);
		sp.n_vlan = (int)(rand_r(&seed) % 3);
		sp.tos = (uint8_t)rand_r(&seed);
		sp.zero_cksum = !in6 && (rand_r(&seed) % 4) == 0;
		sp.pad = (uint16_t)(rand_r(&seed) % 3 == 0 ? rand_r(&seed) % 30 : 0);
		sp.seed = i;
		check_rewrite(&sp, &from, &to);
	}
}

static void
test_csum_update_matches_full(void **state)
{
	struct rtpb_addr a, b, c, d;

	(void)state;
	/* RFC 1624's corner: an update that lands on 0 is sent as 0xffff. */
	addr4(&a, 0xc0000201, 1);
	addr4(&b, 0xc0000202, 2);
	assert_int_equal(dp_csum_udp_update(0xffff, &a, &b, &a, &b), 0xffff);
	/* Swapping source and destination leaves the checksum alone. */
	addr6(&c, 1, 2, 3);
	addr6(&d, 4, 5, 6);
	assert_int_equal(dp_csum_udp_update(0x1234, &c, &d, &d, &c), 0x1234);
}

/* The pool every test builds its frames in. */
static int
pool_setup(void **state)
{
	(void)state;
	pool = rte_pktmbuf_pool_create("t_rewrite", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "rte_pktmbuf_pool_create failed\n");
		return -1;
	}
	return 0;
}

/* No mbuf leaked by any test. */
static int
pool_teardown(void **state)
{
	unsigned int in_use = rte_mempool_in_use_count(pool);

	(void)state;
	rte_mempool_free(pool);
	if (in_use != 0) {
		fprintf(stderr, "mbuf leak: %u in use\n", in_use);
		return -1;
	}
	return 0;
}

/*
 * "&& S tos=" (dp_rewrite_tos()): after the rewrite, the TOS / traffic
 * class is tos, the IPv4 header checksum verifies (RFC 1624 eqn. 3
 * against a full sum), and nothing else in the IP header moved (the
 * IPv6 flow label included).
 */
static void
check_tos(const struct spec *sp, const struct rtpb_addr *from,
	  const struct rtpb_addr *to, uint8_t tos)
{
	static uint8_t payload[2048];
	struct rte_mbuf *m = build(sp, payload);
	struct dp_pkt_meta pm, out;
	uint8_t before[60], *ip;
	uint16_t hl;

	assert_int_equal(dp_parse_pkt(m, &pm), DP_PKT_UDP);
	assert_int_equal(dp_rewrite_udp(m, &pm, from, to, &RELAY_MAC, &NH_MAC, 1500), 0);
	ip = rte_pktmbuf_mtod_offset(m, uint8_t *, pm.l3_off);
	hl = to->family == RTPB_AF_INET6 ? 40 :
		(uint16_t)rte_ipv4_hdr_len((struct rte_ipv4_hdr *)ip);
	memcpy(before, ip, hl);
	dp_rewrite_tos(m, pm.l3_off, to->family, tos);
	assert_int_equal(dp_parse_pkt(m, &out), DP_PKT_UDP);
	assert_true(rtpb_addr_eq(&out.dst, to));
	if (to->family == RTPB_AF_INET6) {
		uint32_t v = rte_be_to_cpu_32(((struct rte_ipv6_hdr *)ip)->vtc_flow);
		uint32_t b = rte_be_to_cpu_32(((struct rte_ipv6_hdr *)before)->vtc_flow);

		assert_int_equal((v >> 20) & 0xff, tos);
		assert_int_equal(v & 0xf00fffffu, b & 0xf00fffffu); /* version, flow label */
		assert_memory_equal(ip + 4, before + 4, 36);
	} else {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;

		assert_int_equal(h->type_of_service, tos);
		assert_int_equal(rte_raw_cksum(h, hl), 0xffff);
		assert_int_equal(ip[0], before[0]);
		assert_memory_equal(ip + 2, before + 2, 8);   /* up to the checksum */
		assert_memory_equal(ip + 12, before + 12, hl - 12);
		/* the value a full computation gives (0 and 0xffff are the
		 * same one's complement zero) */
		uint16_t inc = h->hdr_checksum, full;

		h->hdr_checksum = 0;
		full = rte_ipv4_cksum(h);
		assert_true(inc == full || (inc == 0 && full == 0xffff) ||
			    (inc == 0xffff && full == 0));
	}
	rte_pktmbuf_free(m);
}

static void
test_tos(void **state)
{
	struct spec sp;
	struct rtpb_addr from, to;
	unsigned int t;

	(void)state;
	for (int in6 = 0; in6 < 2; in6++) {
		for (int out6 = 0; out6 < 2; out6++) {
			legs(&sp, in6, &from, &to, out6);
			/* every byte value over plain IPv4, a sample otherwise */
			for (t = 0; t < 256; t += (in6 || out6) ? 37 : 1) {
				sp.seed = t;
				sp.n_vlan = (int)(t % 3);
				sp.ip_options = !in6 && !out6 && (t & 4);
				sp.tos = (uint8_t)(t * 7);
				check_tos(&sp, &from, &to, (uint8_t)t);
			}
			check_tos(&sp, &from, &to, 0xff);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_4to4),
		cmocka_unit_test(test_6to6),
		cmocka_unit_test(test_4to6),
		cmocka_unit_test(test_6to4),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_corrupt_stays_corrupt),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_csum_update_matches_full),
		cmocka_unit_test(test_tos),
	};

	return TEST_EAL_RUN("test_dp_rewrite", "64", tests, pool_setup, pool_teardown);
}
