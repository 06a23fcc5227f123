/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_pkt.c: frame builders and the receive parser (see gen_pkt.h).
 * Runs on the generator's lcore per frame: no allocation, no syscall.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "gen_pkt.h"

static void
put32(uint8_t *p, uint32_t v)
{
	v = rte_cpu_to_be_32(v);
	memcpy(p, &v, 4);
}

static void
put64(uint8_t *p, uint64_t v)
{
	v = rte_cpu_to_be_64(v);
	memcpy(p, &v, 8);
}

/* Ethernet + IPv4 + UDP headers for payload_len bytes from leg l's phone
 * (port + rtcp) to its relay socket (port + rtcp). */
static void
headers(uint8_t *buf, struct gen_pkt_ctx *pc, const struct gen_leg *l,
	uint16_t payload_len, int rtcp)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	rte_ether_addr_copy(&pc->dst_mac, &eth->dst_addr);
	rte_ether_addr_copy(&pc->src_mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0xb8; /* DSCP EF, RFC 4594 telephony */
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + payload_len));
	ip->packet_id = rte_cpu_to_be_16(pc->ip_id++);
	ip->fragment_offset = 0;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->hdr_checksum = 0;
	ip->src_addr = l->phone_ip;
	ip->dst_addr = l->relay_ip;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(
		(uint16_t)(rte_be_to_cpu_16(l->phone_port) + rtcp));
	udp->dst_port = rte_cpu_to_be_16(
		(uint16_t)(rte_be_to_cpu_16(l->relay_port) + rtcp));
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + payload_len));
	udp->dgram_cksum = 0;
}

static void
udp_csum(uint8_t *frame, bool on)
{
	struct rte_ipv4_hdr *ip =
		(struct rte_ipv4_hdr *)(frame + RTE_ETHER_HDR_LEN);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	udp->dgram_cksum = 0;
	if (on)
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
}

uint16_t
gen_pkt_rtp(uint8_t *buf, struct gen_pkt_ctx *pc, const struct gen_leg *l,
	    uint32_t leg_idx, uint32_t n, uint64_t tsc)
{
	uint8_t *rtp = buf + GEN_HDRS;

	headers(buf, pc, l, GEN_RTP_PAYLOAD, 0);
	rtp[0] = 0x80; /* V=2, no padding, no extension, CC 0 */
	rtp[1] = n == 0 ? 0x80 :
			  0x00; /* marker on the first frame, PT 0 PCMU */
	rtp[2] = (uint8_t)((uint16_t)(l->seq0 + n) >> 8);
	rtp[3] = (uint8_t)(l->seq0 + n);
	put32(rtp + 4, l->ts0 + n * GEN_TS_STEP);
	put32(rtp + 8, l->ssrc);
	put32(rtp + 12, GEN_MAGIC);
	put32(rtp + 16, leg_idx);
	put64(rtp + 20, tsc);
	memset(rtp + 28, 0xd5, GEN_RTP_PAYLOAD - 28);
	udp_csum(buf, pc->udp_csum);
	return (uint16_t)(GEN_HDRS + GEN_RTP_PAYLOAD);
}

void
gen_pkt_restamp(uint8_t *frame, uint64_t tsc, bool csum)
{
	put64(frame + GEN_STAMP_OFF + 8, tsc);
	udp_csum(frame, csum);
}

uint16_t
gen_pkt_rtcp(uint8_t *buf, struct gen_pkt_ctx *pc, const struct gen_leg *l,
	     uint32_t n, uint64_t now_ns)
{
	uint8_t *p = buf + GEN_HDRS;
	/* NTP time (RFC 3550 §4): seconds since 1900, 32.32 fixed point */
	uint64_t sec = now_ns / 1000000000ull + 2208988800ull;
	uint64_t frac = ((now_ns % 1000000000ull) << 32) / 1000000000ull;

	headers(buf, pc, l, GEN_RTCP_PAYLOAD, 1);
	/* SR: V=2, RC 0, PT 200, length 6 (28 bytes) */
	p[0] = 0x80;
	p[1] = 200;
	p[2] = 0;
	p[3] = 6;
	put32(p + 4, l->ssrc);
	put32(p + 8, (uint32_t)sec);
	put32(p + 12, (uint32_t)frac);
	put32(p + 16, l->ts0 + n * GEN_TS_STEP);
	put32(p + 20, n); /* sender's packet count */
	put32(p + 24, n * (GEN_RTP_PAYLOAD - 12)); /* octet count: payload */
	/* SDES: V=2, SC 1, PT 202, length 4 (20 bytes): CNAME "rtpb-gen" */
	p[28] = 0x81;
	p[29] = 202;
	p[30] = 0;
	p[31] = 4;
	put32(p + 32, l->ssrc);
	p[36] = 1; /* CNAME */
	p[37] = 8;
	memcpy(p + 38, "rtpb-gen", 8);
	p[46] = 0; /* end of items, then pad to 32 bits */
	p[47] = 0;
	udp_csum(buf, pc->udp_csum);
	return (uint16_t)(GEN_HDRS + GEN_RTCP_PAYLOAD);
}

uint16_t
gen_pkt_arp_request(uint8_t *buf, const struct rte_ether_addr *sha,
		    uint32_t sip, uint32_t tip)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	memset(buf, 0, 60);
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(sha, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(sha, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = sip;
	arp->arp_data.arp_tip = tip;
	return 60;
}

enum gen_rx_kind
gen_pkt_parse(const uint8_t *f, uint32_t len, struct gen_rx_info *ri)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)f;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *udp;
	const uint8_t *p;
	uint32_t ihl, plen, v;
	uint16_t et;

	ri->kind = GEN_RX_OTHER;
	if (len < RTE_ETHER_HDR_LEN)
		return GEN_RX_OTHER;
	et = eth->ether_type;
	ri->l3_off = RTE_ETHER_HDR_LEN;
	if (et == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		if (len >= RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr))
			ri->kind = GEN_RX_ARP;
		return ri->kind;
	}
	if (et != RTE_BE16(RTE_ETHER_TYPE_IPV4) || len < RTE_ETHER_HDR_LEN + 20)
		return GEN_RX_OTHER;
	ip = (const struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);
	ihl = (ip->version_ihl & 0xf) * 4u;
	if ((ip->version_ihl >> 4) != 4 || ihl < 20 ||
	    ip->next_proto_id != IPPROTO_UDP ||
	    len < RTE_ETHER_HDR_LEN + ihl + 8)
		return GEN_RX_OTHER;
	udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + ihl);
	plen = rte_be_to_cpu_16(udp->dgram_len);
	if (plen < 8 || RTE_ETHER_HDR_LEN + ihl + plen > len)
		return GEN_RX_OTHER;
	plen -= 8;
	p = (const uint8_t *)(udp + 1);
	ri->dst_ip = ip->dst_addr;
	ri->dst_port = rte_be_to_cpu_16(udp->dst_port);
	if (plen < 8 || (p[0] >> 6) != 2)
		return GEN_RX_OTHER;
	if (p[1] >= 200 && p[1] <= 204) { /* RFC 5761 §4: RTCP SR..APP */
		ri->kind = GEN_RX_RTCP;
		return GEN_RX_RTCP;
	}
	if (plen < 28)
		return GEN_RX_OTHER;
	memcpy(&v, p + 12, 4);
	if (v != rte_cpu_to_be_32(GEN_MAGIC))
		return GEN_RX_OTHER;
	memcpy(&v, p + 16, 4);
	ri->leg = rte_be_to_cpu_32(v);
	ri->seq = (uint16_t)(p[2] << 8 | p[3]);
	memcpy(&ri->tsc, p + 20, 8);
	ri->tsc = rte_be_to_cpu_64(ri->tsc);
	ri->kind = GEN_RX_RTP;
	return GEN_RX_RTP;
}
