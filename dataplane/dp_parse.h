/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_parse.h: the first stage of the fast path, frame classification.
 *
 * Reads Ethernet (with up to two 802.1Q/802.1ad tags), ARP, IPv4/UDP,
 * IPv6/UDP and IPv6/ICMPv6 headers of each frame of a burst and fills one
 * struct dp_pkt_meta per frame. It bounds-checks every header against
 * the mbuf's data length before reading it and writes nothing into the
 * frames. Single-segment mbufs only (the relay's MTU fits one).
 *
 * IPv4 (RFC 791): version, IHL, total length; fragments are refused. A
 * header checksum the PMD found bad is RTPB_DROP_BAD_CSUM; one it did not
 * check is left to the worker (l3_unverified), which checks it only where
 * the header decides something: before a packet may latch a new peer and
 * before a header is rebuilt (bridging). A packet from the latched peer is
 * relayed with an incremental update (RFC 1624), which keeps a corrupt
 * header corrupt for the receiver to drop.
 * IPv6 (RFC 8200): version and payload length against the frame; no
 * extension headers: a Fragment header is RTPB_DROP_FRAGMENT, any other
 * (Hop-by-Hop, Routing, Destination Options, AH, ESP, ...) is
 * RTPB_DROP_IPV6_EXT. A UDP checksum of 0 is RTPB_DROP_UDP6_ZERO_CSUM
 * (RFC 8200 §8.1). ICMPv6 Neighbor Solicitations and Advertisements
 * (RFC 4861 §4.3, §4.4) are DP_PKT_ND for the main lcore (dp_nd.c checks
 * them); other ICMPv6 is RTPB_DROP_NOT_UDP.
 * UDP (RFC 768): the UDP length is at least 8 and fits the IP payload.
 * The UDP checksum itself is not verified in software (the relay updates
 * it incrementally, so a bad one stays bad for the receiver to see); one
 * the NIC found bad (RX checksum offload, RTE_MBUF_F_RX_L4_CKSUM_BAD) is
 * RTPB_DROP_BAD_CSUM.
 *
 * Cost (estimated, not measured per stage): ~25 cycles/pkt at burst 32.
 * The whole burst path is measured by tools/bench.py --only pcap
 * (docs/PERFORMANCE.md).
 */
#ifndef DP_PARSE_H
#define DP_PARSE_H

#include <stdint.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "rtpb_addr.h"
#include "rtpb_shm.h"
#include "rtpb_pf_rules.h"

/** ICMPv6 types of Neighbor Discovery (RFC 4861 §4.3, §4.4). */
#define DP_ICMP6_NS 135
#define DP_ICMP6_NA 136
/** Smallest NS or NA: type, code, checksum, flags/reserved, target. */
#define DP_ND_MIN_LEN 24

/** What a frame is, after parsing. */
enum dp_pkt_kind {
	DP_PKT_DROP = 0, /**< drop it; dp_pkt_meta.drop says why */
	DP_PKT_UDP,      /**< IPv4/UDP or IPv6/UDP: src, dst, offsets valid */
	DP_PKT_ARP,      /**< ARP for the slow path (main lcore): l3_off valid */
	DP_PKT_ND,       /**< ICMPv6 NS/NA for the slow path: src, dst (port 0),
			  *   offsets valid, payload_len = ICMPv6 bytes */
};

/**
 * Parse result of one frame. Addresses in network byte order; src.family
 * and dst.family tell IPv4 (RTPB_AF_INET) from IPv6 (RTPB_AF_INET6).
 */
struct dp_pkt_meta {
	uint8_t kind;         /**< enum dp_pkt_kind */
	uint8_t drop;         /**< enum rtpb_drop when kind == DP_PKT_DROP */
	uint16_t l3_off;      /**< bytes from frame start to the IP header */
	uint16_t l4_off;      /**< bytes from frame start to the UDP (ICMPv6) header */
	uint16_t payload_len; /**< UDP payload bytes (DP_PKT_ND: ICMPv6 message bytes) */
	uint8_t l3_unverified; /**< IPv4 header checksum not checked yet (dp_parse_l3_csum_ok()) */
	struct rtpb_addr src; /**< IP source and UDP source port */
	struct rtpb_addr dst; /**< IP destination and UDP destination port */
};

/**
 * Parse one frame.
 * @param m   the frame (single segment), not modified.
 * @param out filled in; kind tells which fields are valid.
 * @return out->kind.
 */
enum dp_pkt_kind dp_parse_pkt(const struct rte_mbuf *m,
			      struct dp_pkt_meta *out);

/**
 * The IPv4 header checksum of a frame dp_parse_pkt() accepted as
 * DP_PKT_UDP, checked now if the PMD did not (RFC 791, RFC 1071).
 * @return 1 if it is right (or the frame is IPv6), 0 if not.
 */
static inline int
dp_parse_l3_csum_ok(const struct rte_mbuf *m, const struct dp_pkt_meta *pm)
{
	const struct rte_ipv4_hdr *ip;

	if (!pm->l3_unverified)
		return 1;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, pm->l3_off);
	return rte_raw_cksum(ip, pm->l4_off - pm->l3_off) == 0xffff;
}

/**
 * Parse a burst: each of pkts[0..n-1] into meta[], as dp_parse_pkt()
 * does (untagged IPv4/UDP without options, the common frame, by a
 * shorter path first), prefetching the next frame's headers.
 * @return the frames' bytes (sum of pkt_len), for the RX byte counter.
 */
uint32_t dp_parse_burst(struct rte_mbuf **pkts, uint16_t n,
			struct dp_pkt_meta *meta);

/**
 * RFC 7983 first-byte classes a relay forwards: STUN (0-3), DTLS (20-63),
 * RTP/RTCP (128-191). Anything else on a media port is dropped. The same
 * rule as the XDP prefilter's (rtpb_pf_class_ok()).
 * @param b first byte of the UDP payload.
 */
static inline int
dp_parse_media_class_ok(uint8_t b)
{
	return rtpb_pf_class_ok(b);
}

#endif /* DP_PARSE_H */
