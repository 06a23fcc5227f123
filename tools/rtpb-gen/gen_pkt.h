/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_pkt.h: the frames rtpb-gen sends, and the stamp it reads back.
 *
 * RTP (RFC 3550 §5.1): Ethernet + IPv4 (DSCP EF) + UDP + 12-byte RTP
 * header (V=2, PT 0 PCMU) + 160 bytes of payload: a G.711 20 ms frame,
 * 172 bytes of UDP payload, 214 bytes on the wire without FCS. The
 * first 16 payload bytes carry the stamp: GEN_MAGIC, the sending leg
 * and the send time (TSC cycles of the sending process), all read back
 * by the receiving side after the relay; the rest is 0xd5 (G.711 A-law
 * silence-like filler).
 *
 * RTCP (RFC 3550 §6.4.1, §6.5): a compound SR + SDES CNAME, 48 bytes of
 * UDP payload, from the phone's RTP port + 1 to the relay's RTP port + 1.
 *
 * Builders write into a buffer of at least GEN_FRAME_MAX bytes and
 * return the frame length in bytes; they allocate nothing.
 */
#ifndef GEN_PKT_H
#define GEN_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "gen_calls.h"

#define GEN_MAGIC 0x52545042u /**< "RTPB", big-endian in the payload */
#define GEN_RTP_PAYLOAD 172u /**< UDP payload bytes of an RTP frame */
#define GEN_RTCP_PAYLOAD 48u /**< UDP payload bytes of an RTCP frame */
#define GEN_HDRS 42u /**< Ethernet + IPv4 + UDP bytes */
#define GEN_FRAME_MAX 256u
#define GEN_STAMP_OFF (GEN_HDRS + 12u) /**< stamp offset in the frame */
#define GEN_TS_STEP 160u /**< RTP timestamp step per 20 ms at 8 kHz */

/** MACs and addresses every frame of a run shares. */
struct gen_pkt_ctx {
	struct rte_ether_addr src_mac; /**< the generator's */
	struct rte_ether_addr dst_mac; /**< the relay's */
	bool udp_csum; /**< fill UDP checksums */
	uint16_t ip_id; /**< next IPv4 identification */
};

/**
 * Build the RTP frame number n of leg l (sequence seq0 + n, timestamp
 * ts0 + n * GEN_TS_STEP) with send time tsc in the stamp.
 * @param leg_idx index of l, written into the stamp.
 * @return the frame length, bytes.
 */
uint16_t gen_pkt_rtp(uint8_t *buf, struct gen_pkt_ctx *pc,
		     const struct gen_leg *l, uint32_t leg_idx, uint32_t n,
		     uint64_t tsc);

/**
 * Build an RTCP SR + SDES of leg l after n RTP frames; now_ns is its
 * NTP timestamp source (ns).
 * @return the frame length, bytes.
 */
uint16_t gen_pkt_rtcp(uint8_t *buf, struct gen_pkt_ctx *pc,
		      const struct gen_leg *l, uint32_t n, uint64_t now_ns);

/**
 * Rewrite the send time of an RTP frame built by gen_pkt_rtp() (just
 * before it leaves) and fix its UDP checksum.
 */
void gen_pkt_restamp(uint8_t *frame, uint64_t tsc, bool udp_csum);

/**
 * Build an ARP request (RFC 826) from sha/sip for tip, broadcast.
 * @return the frame length, bytes (60: padded to the Ethernet minimum).
 */
uint16_t gen_pkt_arp_request(uint8_t *buf, const struct rte_ether_addr *sha,
			     uint32_t sip, uint32_t tip);

/** What a received frame is. */
enum gen_rx_kind {
	GEN_RX_OTHER = 0, /**< not ours: counted, dropped */
	GEN_RX_ARP, /**< ARP: for gen_arp_input() */
	GEN_RX_RTP, /**< a stamped RTP frame: leg, seq, tsc valid */
	GEN_RX_RTCP, /**< RTCP to one of the phones */
};

/** Parse result of one received frame; addresses network byte order. */
struct gen_rx_info {
	uint8_t kind; /**< enum gen_rx_kind */
	uint16_t l3_off; /**< ARP/IPv4 header offset, bytes */
	uint32_t dst_ip; /**< IPv4 destination */
	uint16_t dst_port; /**< UDP destination port, host order */
	uint32_t leg; /**< RTP: sending leg from the stamp */
	uint16_t seq; /**< RTP: sequence number, host order */
	uint64_t tsc; /**< RTP: send time from the stamp, TSC cycles */
};

/** Parse a received frame of len bytes into ri. @return ri->kind. */
enum gen_rx_kind gen_pkt_parse(const uint8_t *f, uint32_t len,
			       struct gen_rx_info *ri);

#endif /* GEN_PKT_H */
