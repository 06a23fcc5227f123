/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pkt_rewrite.c: fuzz_pkt's check of the rewrite
 * (dataplane/dp_rewrite.h) on any frame dp_parse accepted as UDP, to
 * any destination of either family: what tests/test_dp_rewrite.c
 * checks on built frames, made relative to the frame as it came (an
 * incremental update keeps a right checksum right and a wrong one
 * wrong). The MTU is the dataplane's usual 1500.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp_rewrite.h"
#include "fuzz_pkt.h"

#define MTU 1500

static const struct rte_ether_addr RELAY_MAC = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct rte_ether_addr NH_MAC = {{0x02, 0, 0, 0, 0, 0x99}};

/* What the rewrite must keep, or may change only as it says. */
struct before {
	uint8_t tags[8];       /* VLAN tags (TPIDs and TCIs), as they were */
	uint8_t tos;           /* TOS / traffic class */
	int l3_ok;             /* IPv4 header checksum right (IPv6: 1) */
	int udp_ok;            /* UDP checksum right */
	int udp_zero;          /* UDP checksum 0 (IPv4: none) */
	uint8_t *payload;      /* a copy of the UDP payload */
};

static uint8_t
tos_of(const uint8_t *l3, uint8_t family)
{
	if (family == RTPB_AF_INET)
		return ((const struct rte_ipv4_hdr *)l3)->type_of_service;
	return (uint8_t)(rte_be_to_cpu_32(((const struct rte_ipv6_hdr *)l3)->vtc_flow) >>
			 RTE_IPV6_HDR_TC_SHIFT);
}

static int
l3_ok(const uint8_t *l3, const struct dp_pkt_meta *pm)
{
	return pm->dst.family != RTPB_AF_INET ||
	       rte_raw_cksum(l3, pm->l4_off - pm->l3_off) == 0xffff;
}

static void
take(const struct rte_mbuf *m, const struct dp_pkt_meta *pm, struct before *b)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(p + pm->l4_off);

	/* from the first TPID to the innermost ethertype, which bridging changes */
	memcpy(b->tags, p + 12, pm->l3_off - 14);
	b->tos = tos_of(p + pm->l3_off, pm->dst.family);
	b->l3_ok = l3_ok(p + pm->l3_off, pm);
	b->udp_zero = udp->dgram_cksum == 0;
	b->udp_ok = fuzz_udp_csum_ok(m, pm);
	b->payload = malloc(pm->payload_len + 1);
	FUZZ_CHECK(b->payload != NULL, "malloc");
	memcpy(b->payload, udp + 1, pm->payload_len);
}

/* The rewritten frame (out, re-parsed) against what it was (pm, b). */
static void
check_after(const struct rte_mbuf *m, const struct dp_pkt_meta *pm,
	    const struct dp_pkt_meta *out, const struct before *b,
	    const struct rtpb_addr *from, const struct rtpb_addr *to)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *l3 = p + out->l3_off;
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(p + out->l4_off);
	int bridged = pm->dst.family != to->family;

	FUZZ_CHECK(memcmp(p, &NH_MAC, 6) == 0 && memcmp(p + 6, &RELAY_MAC, 6) == 0,
		   "MAC addresses");
	FUZZ_CHECK(out->l3_off == pm->l3_off && memcmp(p + 12, b->tags, pm->l3_off - 14) == 0,
		   "VLAN tags changed");
	FUZZ_CHECK(rtpb_addr_eq(&out->src, from) && rtpb_addr_eq(&out->dst, to),
		   "addresses or ports not the new ones");
	FUZZ_CHECK(out->payload_len == pm->payload_len &&
		   memcmp(udp + 1, b->payload, pm->payload_len) == 0,
		   "payload changed (%u -> %u bytes)", pm->payload_len, out->payload_len);
	FUZZ_CHECK(tos_of(l3, to->family) == b->tos, "TOS / traffic class changed");
	FUZZ_CHECK(rte_pktmbuf_pkt_len(m) == rte_pktmbuf_data_len(m), "pkt_len");
	if (to->family == RTPB_AF_INET6)
		FUZZ_CHECK(((const struct rte_ipv6_hdr *)l3)->hop_limits == DP_REWRITE_TTL &&
			   udp->dgram_cksum != 0, "IPv6: hop limit, or no UDP checksum");
	else
		FUZZ_CHECK(((const struct rte_ipv4_hdr *)l3)->time_to_live == DP_REWRITE_TTL,
			   "IPv4 TTL");
	/* RFC 791: rebuilt right, or updated right if it was */
	FUZZ_CHECK(l3_ok(l3, out) == (bridged || b->l3_ok),
		   "IPv4 header checksum %s -> %s", b->l3_ok ? "right" : "wrong",
		   l3_ok(l3, out) ? "right" : "wrong");
	if (bridged) {
		FUZZ_CHECK(rte_pktmbuf_data_len(m) == out->l4_off + 8u + out->payload_len,
			   "bridged frame not trimmed to its datagram");
		if (to->family == RTPB_AF_INET)
			FUZZ_CHECK(l3[0] == 0x45 && ((const struct rte_ipv4_hdr *)l3)->fragment_offset ==
				   RTE_BE16(RTE_IPV4_HDR_DF_FLAG), "6->4: IHL or DF");
	}
	/* RFC 768 / RFC 8200 §8.1 */
	if (b->udp_zero && to->family == RTPB_AF_INET)
		FUZZ_CHECK(udp->dgram_cksum == 0, "4->4: a checksum appeared");
	else if (b->udp_zero)
		FUZZ_CHECK(fuzz_udp_csum_ok(m, out), "4->6: computed UDP checksum wrong");
	else
		FUZZ_CHECK(fuzz_udp_csum_ok(m, out) == b->udp_ok,
			   "UDP checksum %s -> %s", b->udp_ok ? "right" : "wrong",
			   b->udp_ok ? "wrong" : "right");
}

void
fuzz_rewrite(struct rte_mbuf *m, const struct dp_pkt_meta *pm,
	     const struct rtpb_addr *from, const struct rtpb_addr *to)
{
	struct dp_pkt_meta out;
	struct before b;
	int r;

	FUZZ_CHECK(from->family == to->family, "harness: families");
	take(m, pm, &b);
	r = dp_rewrite_udp(m, pm, from, to, &RELAY_MAC, &NH_MAC, MTU);
	if (r != 0) {
		FUZZ_CHECK(r == RTPB_DROP_TOO_BIG && pm->dst.family != to->family &&
			   (to->family == RTPB_AF_INET6 ? 40u : 20u) + 8 + pm->payload_len > MTU,
			   "dp_rewrite_udp: %d", r);
		free(b.payload);
		return;
	}
	m->ol_flags = 0; /* what the receiver's PMD would say: unknown */
	memset(&out, 0xa5, sizeof(out));
	FUZZ_CHECK(dp_parse_pkt(m, &out) == DP_PKT_UDP,
		   "rewritten frame does not parse (drop %u)", out.drop);
	fuzz_check_meta(m, &out, DP_PKT_UDP);
	check_after(m, pm, &out, &b, from, to);
	free(b.payload);
	/* "&& S tos=" on top (dp_rewrite_tos()): the byte is set and the
	 * IPv4 header checksum stays as right (or wrong) as it was */
	{
		uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, out.l3_off);
		uint8_t tos = (uint8_t)(pm->payload_len * 37u);
		int ok = l3_ok(l3, &out);

		dp_rewrite_tos(m, out.l3_off, to->family, tos);
		FUZZ_CHECK(tos_of(l3, to->family) == tos, "dp_rewrite_tos: TOS not set");
		FUZZ_CHECK(l3_ok(l3, &out) == ok, "dp_rewrite_tos: IPv4 header checksum %s -> %s",
			   ok ? "right" : "wrong", ok ? "wrong" : "right");
	}
}
