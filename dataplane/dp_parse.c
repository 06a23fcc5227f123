/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_parse.c: frame classification (see dp_parse.h). Pure: no state, no
 * allocation; runs on worker lcores (and on the main lcore for frames of
 * the slow path).
 */
#include <string.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "dp_parse.h"

static inline enum dp_pkt_kind
parse_drop(struct dp_pkt_meta *out, enum rtpb_drop why)
{
	out->kind = DP_PKT_DROP;
	out->drop = why;
	return DP_PKT_DROP;
}

/* Fill src/dst of an IPv6 packet (ports given, network byte order). */
static inline void
parse_addrs6(struct dp_pkt_meta *out, const struct rte_ipv6_hdr *ip6,
	     uint16_t sport, uint16_t dport)
{
	out->src.family = RTPB_AF_INET6;
	out->src.reserved = 0;
	out->src.port = sport;
	memcpy(out->src.ip, ip6->src_addr, 16);
	out->dst.family = RTPB_AF_INET6;
	out->dst.reserved = 0;
	out->dst.port = dport;
	memcpy(out->dst.ip, ip6->dst_addr, 16);
}

/* IANA "IPv6 Extension Header Types" (RFC 8200 §4, RFC 7045) other than
 * Fragment (44): Hop-by-Hop, Routing, ESP, AH, Destination Options,
 * Mobility, HIP, Shim6, experimental. */
static inline int
parse_is_ext6(uint8_t nh)
{
	switch (nh) {
	case 0: case 43: case 50: case 51: case 60: case 135: case 139:
	case 140: case 253: case 254:
		return 1;
	default:
		return 0;
	}
}

/* RFC 8200: the IPv6 header at p + off, len bytes in the frame. */
static inline enum dp_pkt_kind
parse_ipv6(const uint8_t *p, uint32_t len, uint32_t off,
	   struct dp_pkt_meta *out)
{
	const struct rte_ipv6_hdr *ip6;
	const struct rte_udp_hdr *udp;
	uint16_t plen, udp_len;

	if (unlikely(len < off + sizeof(struct rte_ipv6_hdr)))
		return parse_drop(out, RTPB_DROP_TRUNCATED);
	ip6 = (const struct rte_ipv6_hdr *)(p + off);
	plen = rte_be_to_cpu_16(ip6->payload_len);
	/* Version 6; the payload fits the frame (what is beyond is Ethernet
	 * padding). A payload length of 0 is a jumbogram (RFC 2675), which
	 * needs a Hop-by-Hop header: refused below. */
	if (unlikely((p[off] >> 4) != 6 ||
		     len < off + sizeof(struct rte_ipv6_hdr) + plen))
		return parse_drop(out, RTPB_DROP_TRUNCATED);
	off += sizeof(struct rte_ipv6_hdr);
	out->l4_off = off;

	if (likely(ip6->proto == IPPROTO_UDP)) {
		/* RFC 768 length, RFC 8200 §8.1 checksum. */
		if (unlikely(plen < sizeof(struct rte_udp_hdr)))
			return parse_drop(out, RTPB_DROP_TRUNCATED);
		udp = (const struct rte_udp_hdr *)(p + off);
		udp_len = rte_be_to_cpu_16(udp->dgram_len);
		if (unlikely(udp_len < sizeof(struct rte_udp_hdr) || udp_len > plen))
			return parse_drop(out, RTPB_DROP_TRUNCATED);
		if (unlikely(udp->dgram_cksum == 0))
			return parse_drop(out, RTPB_DROP_UDP6_ZERO_CSUM);
		out->payload_len = udp_len - sizeof(struct rte_udp_hdr);
		out->l3_unverified = 0;
		parse_addrs6(out, ip6, udp->src_port, udp->dst_port);
		out->kind = DP_PKT_UDP;
		return DP_PKT_UDP;
	}
	if (ip6->proto == IPPROTO_ICMPV6) {
		/* RFC 4443 §2.1 header; RFC 4861 §4.3/§4.4: NS and NA are at
		 * least 24 bytes. Validation proper is dp_nd.c's. */
		if (unlikely(plen < 4))
			return parse_drop(out, RTPB_DROP_TRUNCATED);
		if (p[off] != DP_ICMP6_NS && p[off] != DP_ICMP6_NA)
			return parse_drop(out, RTPB_DROP_NOT_UDP);
		if (unlikely(plen < DP_ND_MIN_LEN))
			return parse_drop(out, RTPB_DROP_TRUNCATED);
		out->payload_len = plen;
		parse_addrs6(out, ip6, 0, 0);
		out->kind = DP_PKT_ND;
		return DP_PKT_ND;
	}
	if (ip6->proto == IPPROTO_FRAGMENT)
		return parse_drop(out, RTPB_DROP_FRAGMENT);
	if (parse_is_ext6(ip6->proto))
		return parse_drop(out, RTPB_DROP_IPV6_EXT);
	return parse_drop(out, RTPB_DROP_NOT_UDP);
}

/* The rest of an IPv4/UDP frame's meta (offsets set by the caller):
 * payload length, checksum state ck (the mbuf's RX_IP_CKSUM bits),
 * addresses. */
static inline enum dp_pkt_kind
parse_udp4_out(struct dp_pkt_meta *out, const struct rte_ipv4_hdr *ip,
	       const struct rte_udp_hdr *udp, uint16_t udp_len, uint64_t ck)
{
	out->payload_len = udp_len - sizeof(struct rte_udp_hdr);
	/* GOOD, or NONE (checked, integrity valid) */
	out->l3_unverified = ck == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN;
	memset(&out->src, 0, sizeof(out->src) * 2);
	out->src.family = RTPB_AF_INET;
	out->src.port = udp->src_port;
	memcpy(out->src.ip, &ip->src_addr, 4);
	out->dst.family = RTPB_AF_INET;
	out->dst.port = udp->dst_port;
	memcpy(out->dst.ip, &ip->dst_addr, 4);
	out->kind = DP_PKT_UDP;
	return DP_PKT_UDP;
}

enum dp_pkt_kind
dp_parse_pkt(const struct rte_mbuf *m, struct dp_pkt_meta *out)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint32_t off = sizeof(struct rte_ether_hdr);
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	uint16_t type, tot_len, udp_len;
	uint64_t ck;
	uint32_t ihl;
	int tags;

	if (unlikely(len < off))
		return parse_drop(out, RTPB_DROP_TRUNCATED);
	/* the NIC checked the UDP checksum (RX offload) and found it bad */
	if (unlikely((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD))
		return parse_drop(out, RTPB_DROP_BAD_CSUM);
	type = ((const struct rte_ether_hdr *)p)->ether_type;
	/* IEEE 802.1Q / 802.1ad: at most two tags. */
	for (tags = 0; tags < 2 &&
	     (type == RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
	      type == RTE_BE16(RTE_ETHER_TYPE_QINQ));
	     tags++) {
		if (unlikely(len < off + sizeof(struct rte_vlan_hdr)))
			return parse_drop(out, RTPB_DROP_TRUNCATED);
		type = ((const struct rte_vlan_hdr *)(p + off))->eth_proto;
		off += sizeof(struct rte_vlan_hdr);
	}
	out->l3_off = off;
	if (type == RTE_BE16(RTE_ETHER_TYPE_IPV6))
		return parse_ipv6(p, len, off, out);
	if (type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		if (unlikely(len < off + sizeof(struct rte_arp_hdr)))
			return parse_drop(out, RTPB_DROP_TRUNCATED);
		out->kind = DP_PKT_ARP;
		return DP_PKT_ARP;
	}
	if (unlikely(type != RTE_BE16(RTE_ETHER_TYPE_IPV4)))
		return parse_drop(out, RTPB_DROP_ETHERTYPE);

	/* RFC 791 header checks. */
	if (unlikely(len < off + sizeof(struct rte_ipv4_hdr)))
		return parse_drop(out, RTPB_DROP_TRUNCATED);
	ip = (const struct rte_ipv4_hdr *)(p + off);
	ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	tot_len = rte_be_to_cpu_16(ip->total_length);
	if (unlikely((ip->version_ihl >> 4) != 4 || ihl < 20 ||
		     tot_len < ihl || len < off + tot_len))
		return parse_drop(out, RTPB_DROP_TRUNCATED);
	ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (unlikely(ck == RTE_MBUF_F_RX_IP_CKSUM_BAD))
		return parse_drop(out, RTPB_DROP_BAD_CSUM);
	/* More-fragments flag or a fragment offset: not ours to reassemble. */
	if (unlikely(ip->fragment_offset &
		     RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
		return parse_drop(out, RTPB_DROP_FRAGMENT);
	if (unlikely(ip->next_proto_id != IPPROTO_UDP))
		return parse_drop(out, RTPB_DROP_NOT_UDP);

	/* RFC 768: the UDP length covers header and payload. */
	off += ihl;
	if (unlikely(tot_len < ihl + sizeof(struct rte_udp_hdr)))
		return parse_drop(out, RTPB_DROP_TRUNCATED);
	udp = (const struct rte_udp_hdr *)(p + off);
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	if (unlikely(udp_len < sizeof(struct rte_udp_hdr) ||
		     udp_len > tot_len - ihl))
		return parse_drop(out, RTPB_DROP_TRUNCATED);

	out->l4_off = off;
	return parse_udp4_out(out, ip, udp, udp_len, ck);
}

/*
 * The common frame, untagged IPv4/UDP without options, not a fragment,
 * lengths consistent: the same checks as dp_parse_pkt() in fewer
 * branches (one compare per header field group). Anything else, or a
 * check failing, returns 0 and the general parser decides (and names the
 * drop reason).
 */
static inline int
parse_fast4(const struct rte_mbuf *m, struct dp_pkt_meta *out)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	uint16_t tot_len, udp_len;
	uint64_t ck;

	ip = (const struct rte_ipv4_hdr *)(p + sizeof(struct rte_ether_hdr));
	udp = (const struct rte_udp_hdr *)(ip + 1);
	if (unlikely(len < sizeof(struct rte_ether_hdr) + sizeof(*ip) + sizeof(*udp)))
		return 0;
	ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	tot_len = rte_be_to_cpu_16(ip->total_length);
	udp_len = rte_be_to_cpu_16(udp->dgram_len);
	/* RFC 791: version 4, IHL 5; no MF flag, no offset; UDP; RFC 768 */
	if (unlikely(((const struct rte_ether_hdr *)p)->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
		     ip->version_ihl != RTE_IPV4_VHL_DEF ||
		     (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG |
						      RTE_IPV4_HDR_OFFSET_MASK)) != 0 ||
		     ip->next_proto_id != IPPROTO_UDP ||
		     ck == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
		     (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
		     len < sizeof(struct rte_ether_hdr) + (uint32_t)tot_len ||
		     udp_len < sizeof(*udp) || tot_len < sizeof(*ip) + (uint32_t)udp_len))
		return 0;
	out->l3_off = sizeof(struct rte_ether_hdr);
	out->l4_off = sizeof(struct rte_ether_hdr) + sizeof(*ip);
	parse_udp4_out(out, ip, udp, udp_len, ck);
	return 1;
}

uint32_t
dp_parse_burst(struct rte_mbuf **pkts, uint16_t n, struct dp_pkt_meta *meta)
{
	uint32_t bytes = 0;
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
		if (likely(parse_fast4(pkts[i], &meta[i])))
			continue;
		dp_parse_pkt(pkts[i], &meta[i]);
	}
	return bytes;
}
