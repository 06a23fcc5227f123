/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_rewrite.h: header rewrite of a relayed UDP packet, IPv4 or IPv6,
 * including bridging between the families.
 *
 * The relay is the endpoint of both legs (not a router): the packet
 * received on stream S leaves from the relay socket of S.out_stream
 * (`from') to that stream's peer (`to'), with a fresh TTL / hop limit of
 * DP_REWRITE_TTL. The two legs may be of different families
 * (DESIGN.md §4.8): an IPv4 packet may leave as IPv6 and the reverse.
 *
 * - Same family (4->4, 6->6): in place. Ethernet addresses, IP addresses,
 *   UDP ports and TTL/hop limit are overwritten; VLAN tags, DSCP/ECN,
 *   the IPv4 identification and DF, the flow label and any Ethernet
 *   padding stay. The IPv4 header checksum is recomputed (RFC 791).
 * - Bridging (4->6, 6->4): the IP header changes size (20 vs 40 bytes),
 *   so the Ethernet header (with its VLAN tags, which stay) moves by 20
 *   bytes within the mbuf: rte_pktmbuf_prepend() into the headroom for
 *   4->6, rte_pktmbuf_adj() for 6->4; the UDP header and payload do not
 *   move, and a trailing Ethernet padding is trimmed. The new IP header is
 *   built from scratch: IPv4 options and the IPv6 flow label are not
 *   carried, the traffic class/TOS byte is (RFC 7915 §4.1, §5.1); IPv4
 *   gets DF set and identification 0 (an atomic datagram, RFC 6864 §4.1).
 *   A packet that would exceed dp_ctx.mtu as IPv6 is dropped
 *   (RTPB_DROP_TOO_BIG): the relay does not fragment.
 * - UDP checksum: updated incrementally (RFC 1624 eqn. 3) for the changed
 *   addresses and ports in every case; the pseudo-header's other fields
 *   (protocol 17 and the UDP length) sum the same in IPv4 (RFC 768) and
 *   IPv6 (RFC 8200 §8.1), so this holds across families too. A zero
 *   checksum (none, legal over IPv4 only, RFC 768) stays zero 4->4 and is
 *   computed in full 4->6 (rte_ipv6_udptcp_cksum(), the payload is read
 *   once), since IPv6 forbids it (RFC 8200 §8.1). The parser already
 *   dropped IPv6 packets with a zero checksum.
 *
 * No allocation: the mbuf the packet came in leaves with it.
 *
 * Cost (estimated, not measured per stage): in place ~20 cycles/pkt;
 * bridging adds a 14-22 byte memmove and a header build (~40 cycles),
 * plus ~0.3 cycles/payload byte for the full checksum of zero-checksum
 * IPv4 bridged to IPv6. The whole burst path is measured by
 * tools/bench.py --only pcap (docs/PERFORMANCE.md).
 */
#ifndef DP_REWRITE_H
#define DP_REWRITE_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "rtpb_addr.h"
#include "rtpb_shm.h"
#include "dp_parse.h"

#define DP_REWRITE_TTL 64 /**< TTL / hop limit of relayed packets */

/** Fold a sum of 16- or 32-bit words to a 16-bit one's-complement sum. */
static inline uint16_t
dp_csum_fold(uint64_t s)
{
	s = (s & 0xffffffffull) + (s >> 32);
	s = (s & 0xffffffffull) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/**
 * One's-complement sum (folded to 16 bits) of the IP address (4 or 16
 * bytes by family) and the port of a: its share of a UDP checksum.
 * Network byte order in, the same order out (sums are order-neutral).
 */
static inline __rte_always_inline uint16_t
dp_csum_addr(const struct rtpb_addr *a)
{
	uint32_t w[4];
	uint64_t s;

	memcpy(w, a->ip, 4);
	s = (uint64_t)w[0] + a->port;
	if (a->family == RTPB_AF_INET6) {
		memcpy(w + 1, a->ip + 4, 12);
		s += (uint64_t)w[1] + w[2] + w[3];
	}
	return dp_csum_fold(s);
}

/**
 * RFC 1624 eqn. 3: the UDP checksum cksum after the addresses and ports
 * (old_src, old_dst) became (new_src, new_dst). Not for a zero
 * (absent) checksum. @return the new checksum, never 0 (RFC 768).
 */
static inline __rte_always_inline uint16_t
dp_csum_udp_update(uint16_t cksum, const struct rtpb_addr *old_src,
		   const struct rtpb_addr *old_dst,
		   const struct rtpb_addr *new_src,
		   const struct rtpb_addr *new_dst)
{
	uint32_t sum;
	uint16_t old = dp_csum_fold((uint32_t)dp_csum_addr(old_src) +
				    dp_csum_addr(old_dst));
	uint16_t new = dp_csum_fold((uint32_t)dp_csum_addr(new_src) +
				    dp_csum_addr(new_dst));

	/* HC' = ~(~HC + ~m + m') */
	sum = (uint32_t)(uint16_t)~cksum + (uint16_t)~old + new;
	sum = (uint16_t)~dp_csum_fold(sum);
	return sum == 0 ? 0xffff : (uint16_t)sum;
}

/*
 * 4->4 in place. The addresses change in both checksums, so their
 * RFC 1624 difference (eqn. 3, over 32-bit words, which fold to the same
 * 16-bit ones' complement sum) is taken once and added to each: the IPv4
 * header's with the TTL/protocol word, the UDP one's with the ports. The
 * new TTL word is computed, not read back, so no load waits on the
 * byte store (store forwarding). An incremental update keeps a header
 * that was corrupt corrupt (the receiver still drops it), so relaying
 * needs no verification of the old sum.
 */
static inline __rte_always_inline void
dp_rewrite_same4(struct rte_mbuf *m, const struct dp_pkt_meta *pm,
		 const struct rtpb_addr *from, const struct rtpb_addr *to)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
							 pm->l3_off);
	struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *,
							  pm->l4_off);
	uint32_t nsrc = rtpb_addr_v4(from), ndst = rtpb_addr_v4(to);
	uint16_t ottl, nttl, ucs;
	uint64_t d, sum;

	d = (uint64_t)(uint32_t)~ip->src_addr + (uint32_t)~ip->dst_addr + nsrc + ndst;
	memcpy(&ottl, &ip->time_to_live, 2);
	/* byte 0 the TTL, byte 1 the protocol, whatever the host order */
	nttl = (uint16_t)((ottl & RTE_BE16(0x00ff)) | RTE_BE16(DP_REWRITE_TTL << 8));
	sum = d + (uint16_t)~ip->hdr_checksum + (uint16_t)~ottl + nttl;
	ip->hdr_checksum = (uint16_t)~dp_csum_fold(sum);
	memcpy(&ip->time_to_live, &nttl, 2);
	ip->src_addr = nsrc;
	ip->dst_addr = ndst;

	ucs = udp->dgram_cksum;
	if (ucs != 0) {
		sum = d + (uint16_t)~ucs + (uint16_t)~udp->src_port +
		      (uint16_t)~udp->dst_port + from->port + to->port;
		ucs = (uint16_t)~dp_csum_fold(sum);
		udp->dgram_cksum = ucs == 0 ? 0xffff : ucs;
	}
	udp->src_port = from->port;
	udp->dst_port = to->port;
}

/* 6->6 in place. */
static inline void
dp_rewrite_same6(struct rte_mbuf *m, const struct dp_pkt_meta *pm,
		 const struct rtpb_addr *from, const struct rtpb_addr *to)
{
	struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *,
							  pm->l4_off);
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *,
							   pm->l3_off);

	if (udp->dgram_cksum != 0)
		udp->dgram_cksum = dp_csum_udp_update(udp->dgram_cksum, &pm->src,
						      &pm->dst, from, to);
	udp->src_port = from->port;
	udp->dst_port = to->port;
	memcpy(ip6->src_addr, from->ip, 16);
	memcpy(ip6->dst_addr, to->ip, 16);
	ip6->hop_limits = DP_REWRITE_TTL;
}

/**
 * Build an IPv4 header (no options) of a UDP packet from relay socket
 * from to to: TOS tos, total_length bytes, an atomic datagram (DF,
 * identification 0; RFC 6864 4.1), TTL DP_REWRITE_TTL, header checksum.
 * Bridged packets (below) and played ones (dp_play.c) get theirs here.
 */
static inline void
dp_rewrite_ip4_build(struct rte_ipv4_hdr *ip, uint8_t tos, uint16_t total_length,
		     const struct rtpb_addr *from, const struct rtpb_addr *to)
{
	ip->version_ihl = 0x45;
	ip->type_of_service = tos;
	ip->total_length = rte_cpu_to_be_16(total_length);
	ip->packet_id = 0;
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = DP_REWRITE_TTL;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rtpb_addr_v4(from);
	ip->dst_addr = rtpb_addr_v4(to);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* 4->6 or 6->4: move the L2 header, build the new IP header. */
static inline enum rtpb_drop
dp_rewrite_bridge(struct rte_mbuf *m, const struct dp_pkt_meta *pm,
		  const struct rtpb_addr *from, const struct rtpb_addr *to,
		  uint16_t mtu)
{
	uint16_t l2 = pm->l3_off, old_l3 = pm->l4_off - pm->l3_off;
	uint16_t new_l3 = to->family == RTPB_AF_INET6 ?
		sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(p + pm->l4_off);
	uint16_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
	uint16_t cksum = udp->dgram_cksum, tail;
	uint8_t tclass;

	/* Read what survives from the old header before it is overwritten. */
	if (pm->dst.family == RTPB_AF_INET)
		tclass = ((const struct rte_ipv4_hdr *)(p + l2))->type_of_service;
	else
		tclass = (uint8_t)(rte_be_to_cpu_32(((const struct rte_ipv6_hdr *)
			(p + l2))->vtc_flow) >> RTE_IPV6_HDR_TC_SHIFT);
	if (unlikely((uint32_t)new_l3 + udp_len > mtu))
		return RTPB_DROP_TOO_BIG;

	tail = (uint16_t)(rte_pktmbuf_data_len(m) - (pm->l4_off + udp_len));
	if (tail != 0)
		rte_pktmbuf_trim(m, tail); /* Ethernet padding */
	if (new_l3 > old_l3) {
		p = (uint8_t *)rte_pktmbuf_prepend(m, new_l3 - old_l3);
		if (unlikely(p == NULL))
			return RTPB_DROP_TOO_BIG; /* no headroom */
		memmove(p, p + (new_l3 - old_l3), l2);
	} else {
		p = (uint8_t *)rte_pktmbuf_adj(m, old_l3 - new_l3);
		memmove(p, p - (old_l3 - new_l3), l2);
	}
	/* The innermost ethertype (after any VLAN tags). */
	*(rte_be16_t *)(p + l2 - 2) = to->family == RTPB_AF_INET6 ?
		RTE_BE16(RTE_ETHER_TYPE_IPV6) : RTE_BE16(RTE_ETHER_TYPE_IPV4);

	udp->src_port = from->port;
	udp->dst_port = to->port;
	if (to->family == RTPB_AF_INET6) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(p + l2);

		ip6->vtc_flow = rte_cpu_to_be_32(6u << 28 |
			(uint32_t)tclass << RTE_IPV6_HDR_TC_SHIFT);
		ip6->payload_len = rte_cpu_to_be_16(udp_len);
		ip6->proto = IPPROTO_UDP;
		ip6->hop_limits = DP_REWRITE_TTL;
		memcpy(ip6->src_addr, from->ip, 16);
		memcpy(ip6->dst_addr, to->ip, 16);
		if (cksum == 0) {
			/* No IPv4 checksum: IPv6 needs one (RFC 8200 §8.1). */
			udp->dgram_cksum = 0;
			udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip6, udp);
			return RTPB_DROP_NONE;
		}
	} else {
		dp_rewrite_ip4_build((struct rte_ipv4_hdr *)(p + l2), tclass,
				     (uint16_t)(new_l3 + udp_len), from, to);
	}
	udp->dgram_cksum = dp_csum_udp_update(cksum, &pm->src, &pm->dst, from, to);
	return RTPB_DROP_NONE;
}

/**
 * Rewrite frame m (parsed into pm: DP_PKT_UDP, either family) to go from
 * relay socket from to peer to (from and to of the same family, which may
 * differ from pm's), via next-hop MAC dst_mac, from src_mac. Addresses and
 * ports in network byte order. m must be a single segment, writable.
 * @param mtu the port's MTU, IP bytes (bridging to IPv6 grows by 20).
 * @return RTPB_DROP_NONE, or RTPB_DROP_TOO_BIG (m unchanged or partly
 *         rewritten; the caller frees it).
 */
static inline enum rtpb_drop
dp_rewrite_udp(struct rte_mbuf *m, const struct dp_pkt_meta *pm,
	       const struct rtpb_addr *from, const struct rtpb_addr *to,
	       const struct rte_ether_addr *src_mac,
	       const struct rte_ether_addr *dst_mac, uint16_t mtu)
{
	struct rte_ether_hdr *eth;
	enum rtpb_drop r;

	if (likely(pm->dst.family == to->family)) {
		if (likely(to->family == RTPB_AF_INET))
			dp_rewrite_same4(m, pm, from, to);
		else
			dp_rewrite_same6(m, pm, from, to);
	} else {
		r = dp_rewrite_bridge(m, pm, from, to, mtu);
		if (unlikely(r != RTPB_DROP_NONE))
			return r;
	}
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(dst_mac, &eth->dst_addr);
	rte_ether_addr_copy(src_mac, &eth->src_addr);
	return RTPB_DROP_NONE;
}

/**
 * "&& S tos=N" (rtpproxy 20251015): set the IPv4 TOS byte, or the IPv6
 * traffic class, of the rewritten frame m, whose IP header (of family,
 * enum rtpb_af) starts at l3_off, to tos (DSCP and ECN bits: what
 * setsockopt(IP_TOS) gives a socket's packets). The IPv4 header checksum
 * is updated incrementally (RFC 1624 eqn. 3) for the 16-bit word holding
 * the byte; UDP's does not cover it. Called only for streams with
 * RTPB_STREAM_F_TOS (~5 cycles/pkt).
 */
static inline void
dp_rewrite_tos(struct rte_mbuf *m, uint16_t l3_off, uint8_t family, uint8_t tos)
{
	if (family == RTPB_AF_INET) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
								 l3_off);
		uint16_t ow, nw;
		uint32_t sum;

		/* byte 0 version/IHL, byte 1 TOS, whatever the host order */
		memcpy(&ow, &ip->version_ihl, 2);
		nw = (uint16_t)((ow & RTE_BE16(0xff00)) | rte_cpu_to_be_16(tos));
		sum = (uint32_t)(uint16_t)~ip->hdr_checksum + (uint16_t)~ow + nw;
		ip->hdr_checksum = (uint16_t)~dp_csum_fold(sum);
		ip->type_of_service = tos;
	} else {
		struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *,
								   l3_off);
		uint32_t v = rte_be_to_cpu_32(ip6->vtc_flow);

		v = (v & ~(0xffu << RTE_IPV6_HDR_TC_SHIFT)) |
		    (uint32_t)tos << RTE_IPV6_HDR_TC_SHIFT;
		ip6->vtc_flow = rte_cpu_to_be_32(v);
	}
}

#endif /* DP_REWRITE_H */
