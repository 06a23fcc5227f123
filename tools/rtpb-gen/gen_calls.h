/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_calls.h: the emulated calls, two legs each.
 *
 * Call c has leg 2c (phone A, the caller: direction A->B) and leg 2c+1
 * (phone B, the callee: direction B->A). Each leg is one phone socket
 * (RTP port, RTCP = port + 1) and the relay socket that phone sends to:
 * A sends to the port control returned for L, B to the port of U, as a
 * SIP proxy writes them into the SDP. A frame A sends is relayed to B
 * and the other way round, so the receiving leg of a frame is the
 * sender's leg ^ 1.
 *
 * Phone addresses are a pure function of the leg index (gen_phone_of()
 * and its inverse gen_leg_of()): leg L is host phone_net + 1 + L / 16384,
 * port 16384 + 2 * (L % 16384), so a /15 holds 2 billion legs and the
 * receive path needs no lookup table. The table is allocated once at
 * start (32 bytes per leg) and written by the one lcore that sends and
 * receives.
 */
#ifndef GEN_CALLS_H
#define GEN_CALLS_H

#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_thash.h>

#include "rtpb_steer.h"

#define GEN_LEGS_PER_HOST 16384u
#define GEN_PHONE_PORT0 16384u

/** One leg: a phone socket and its relay socket. Network byte order
 *  for addresses and ports, host order otherwise. */
struct gen_leg {
	uint32_t phone_ip; /**< the phone's address */
	uint32_t relay_ip; /**< relay address this phone sends to */
	uint16_t phone_port; /**< the phone's RTP port (RTCP + 1) */
	uint16_t relay_port; /**< relay RTP port this phone sends to */
	uint32_t ssrc; /**< RFC 3550 SSRC of this phone's RTP */
	uint32_t ts0; /**< first RTP timestamp */
	uint32_t sent; /**< RTP frames built so far */
	uint16_t seq0; /**< first RTP sequence number */
	uint16_t rx_max; /**< highest sequence number received from this
			      *   leg at the other phone (RFC 3550 A.1) */
	uint8_t rx_seen; /**< rx_max is valid */
	uint8_t ok; /**< the call was set up (both relay ports known) */
	uint8_t in_ctl; /**< (leg A) control holds the call's session: its U
			 *   was answered, whatever became of its L */
	uint8_t reserved;
};

/**
 * Allocate and fill n_calls calls: phone addresses, SSRCs, first
 * sequence numbers and timestamps (random from seed). Relay sockets are
 * left zero for the setup (gen_ctl, gen_layout) to fill.
 * @param phone_net phones' network, host byte order.
 * @return the 2 * n_calls legs, or NULL (out of memory, or the network
 *         too small).
 */
struct gen_leg *gen_calls_create(uint32_t n_calls, uint32_t phone_net,
				 uint32_t phone_plen, uint64_t seed);

/** The phone address (network byte order) and RTP port of leg l. */
static inline void
gen_phone_of(uint32_t phone_net, uint32_t l, uint32_t *ip_host,
	     uint16_t *port_host)
{
	*ip_host = phone_net + 1 + l / GEN_LEGS_PER_HOST;
	*port_host = (uint16_t)(GEN_PHONE_PORT0 + 2 * (l % GEN_LEGS_PER_HOST));
}

/**
 * The leg whose phone is ip_host:port_host (host byte order), RTP or
 * RTCP port.
 * @return the leg index, or UINT32_MAX if no phone has that socket.
 */
static inline uint32_t
gen_leg_of(uint32_t phone_net, uint32_t n_legs, uint32_t ip_host,
	   uint16_t port_host)
{
	uint32_t h, l;

	if (ip_host <= phone_net || port_host < GEN_PHONE_PORT0 ||
	    port_host >= GEN_PHONE_PORT0 + 2 * GEN_LEGS_PER_HOST)
		return UINT32_MAX;
	h = ip_host - phone_net - 1;
	l = h * GEN_LEGS_PER_HOST + (uint32_t)(port_host - GEN_PHONE_PORT0) / 2;
	return l < n_legs ? l : UINT32_MAX;
}

/**
 * Fixed layout without control (GEN_SETUP_LAYOUT): leg l's relay socket
 * is address addrs[l / 32256], port 1024 + 2 * (l % 32256), i.e. the even
 * ports 1024..65534 of each address in turn.
 * @return 0, or -ENOSPC if n_addrs addresses hold fewer legs.
 */
int gen_calls_layout(struct gen_leg *legs, uint32_t n_legs,
		     const uint32_t *addrs, uint32_t n_addrs);

/**
 * Baseline (no relay): leg l sends to its peer phone (leg l ^ 1) itself,
 * so a plain forwarder returns the frame to the right phone.
 */
void gen_calls_baseline(struct gen_leg *legs, uint32_t n_legs);

/** Relay RTP ports per address in the fixed layout. */
#define GEN_LAYOUT_PAIRS 32256u
#define GEN_LAYOUT_PORT0 1024u

/**
 * The worker owning call c's four streams on a dataplane with n_workers
 * workers when --install pushed them (gen_shm.c), and so the RX queue a
 * NIC steering each relay port to its owner's queue would put the call's
 * frames on (--pcap-queues).
 */
static inline uint32_t
gen_queue_of_call(uint32_t c, uint32_t n_workers)
{
	return c % n_workers;
}

/**
 * Toeplitz hash (rte_softrss()) of a leg's IPv4 5-tuple phone -> relay
 * with the 40-byte key most PMDs start with (0x6d5a56da..., the key of
 * Microsoft's RSS verification suite).
 */
static inline uint32_t
gen_flow_hash(const struct gen_leg *l)
{
	static const uint8_t key[RTPB_STEER_KEY_MAX] = RTPB_STEER_KEY_INIT;
	struct rte_ipv4_tuple t = {
		.src_addr = rte_be_to_cpu_32(l->phone_ip),
		.dst_addr = rte_be_to_cpu_32(l->relay_ip),
		.sport = rte_be_to_cpu_16(l->phone_port),
		.dport = rte_be_to_cpu_16(l->relay_port),
	};

	return rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, key);
}

/**
 * The RX queue (of nq) a NIC's plain RSS would put a leg's frames on:
 * gen_flow_hash() modulo nq (a RETA filled round robin, as ethdev does by
 * default).
 */
static inline uint32_t
gen_queue_of_flow(const struct gen_leg *l, uint32_t nq)
{
	return gen_flow_hash(l) % nq;
}

/**
 * The k-th of pick calls (k < pick <= n_calls) spread evenly over
 * n_calls calls, balanced over nq queues: k goes to queue k % nq, and
 * each queue's share is spread evenly over that queue's calls, so every
 * queue gets pick / nq calls (one more for the first pick % nq queues)
 * and no call is picked twice. With nq = 1: k * n_calls / pick.
 */
static inline uint32_t
gen_pcap_call(uint32_t k, uint32_t pick, uint32_t n_calls, uint32_t nq)
{
	uint32_t q = k % nq, i = k / nq;
	uint64_t pick_q = (pick - q + nq - 1) / nq; /* queue q's share */
	uint64_t calls_q = (n_calls - q + nq - 1) / nq; /* calls of queue q */

	return q + nq * (uint32_t)((uint64_t)i * calls_q / pick_q);
}

#endif /* GEN_CALLS_H */
