/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb_steer.h: which worker the NIC delivers a relay port's packets to,
 * so control can give a session the worker its packets arrive on.
 *
 * Every stream of a session is owned by one worker (rtpb_shm.h); a packet
 * that arrives on another worker's RX queue is handed to the owner through
 * a ring, which costs more than relaying it (PERFORMANCE.md: two workers
 * under plain 5-tuple RSS forward less than one). The 5-tuple includes the
 * phone's address and port, which control cannot know in advance (NAT),
 * but a NIC that hashes UDP on the destination only (DPDK's
 * RTE_ETH_RSS_L3_DST_ONLY | RTE_ETH_RSS_L4_DST_ONLY) sends all packets to
 * one relay socket to one queue, whoever sends them. The dataplane sets
 * that up when the PMD offers it, with its own key and a redirection
 * table (RETA) it fills itself, and publishes both here; control then
 * picks the session's worker from leg 0's RTP port and leg 1's RTP port
 * among those steered to that worker. RTCP (port + 1) hashes elsewhere
 * and is handed off: 1 packet in ~250.
 *
 * The hash is the Toeplitz hash (Microsoft RSS) over the destination
 * address and port, in that order; rtpb_toeplitz() computes it in plain C
 * (the contract needs no DPDK header), bit for bit what DPDK's
 * rte_softrss() computes (tests/test_steer.c checks both). The RETA entry
 * is hash % reta_size. Written by the dataplane once at start, before
 * RTPB_SHM_READY; read by control.
 */
#ifndef RTPB_STEER_H
#define RTPB_STEER_H

#include <stddef.h>
#include <stdint.h>

#include "rtpb_addr.h"

#define RTPB_STEER_KEY_MAX 52   /**< bytes: the longest RSS key (ice) */
#define RTPB_STEER_RETA_MAX 2048 /**< RETA entries (ice PF: 2048) */

/**
 * Initializer of the RSS key the dataplane gives a PMD: the 40 bytes of
 * Microsoft's RSS verification suite (the key most PMDs start with),
 * then 12 more for 52-byte keys.
 */
#define RTPB_STEER_KEY_INIT { \
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, \
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, \
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, \
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa, \
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, \
	0x25, 0x3d, \
}

/** How relay ports reach the workers. */
enum rtpb_steer_mode {
	RTPB_STEER_NONE = 0,    /**< unknown (5-tuple RSS, one queue, a vdev):
				     control spreads sessions round robin */
	RTPB_STEER_RSS_DST = 1, /**< RSS on destination address and port */
};

/** The NIC's steering, as the dataplane configured it. */
struct rtpb_steer {
	uint32_t mode;      /**< enum rtpb_steer_mode */
	uint32_t key_len;   /**< bytes of key used, >= 24 (an IPv6 input) */
	uint32_t reta_size; /**< entries in reta[], 1..RTPB_STEER_RETA_MAX */
	uint32_t reserved;
	uint8_t key[RTPB_STEER_KEY_MAX]; /**< the RSS key, as given to the PMD */
	uint8_t reta[RTPB_STEER_RETA_MAX]; /**< RETA entry -> worker (its RX queue) */
};

/**
 * The Toeplitz hash (Microsoft RSS) of len bytes of in under key, as the
 * RSS specification states it: for each set bit of the input, XOR in the
 * 32 key bits that start at that bit. The same value as DPDK's
 * rte_softrss() over the input in host-order 32-bit words.
 * @param key at least len + 4 bytes.
 * @param in  the input, in the order the NIC hashes it (network order).
 * @return the 32-bit hash.
 */
static inline uint32_t
rtpb_toeplitz(const uint8_t *key, const uint8_t *in, size_t len)
{
	uint32_t h = 0;
	uint32_t window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 |
			  (uint32_t)key[2] << 8 | key[3];

	for (size_t i = 0; i < len; i++) {
		for (int b = 7; b >= 0; b--) {
			if (in[i] & (1u << b))
				h ^= window;
			window = window << 1 | ((key[i + 4] >> b) & 1u);
		}
	}
	return h;
}

/**
 * The Toeplitz hash of a relay socket as the NIC computes it with
 * destination-only UDP RSS: input = address then port (IPv4: 6 bytes,
 * IPv6: 18), network order on the wire.
 * @param local relay address and port (network byte order).
 * @return the 32-bit hash; 0 for a family other than IPv4/IPv6.
 */
static inline uint32_t
rtpb_steer_hash(const struct rtpb_steer *st, const struct rtpb_addr *local)
{
	uint8_t in[18];
	size_t n;

	if (local->family == RTPB_AF_INET)
		n = 4;
	else if (local->family == RTPB_AF_INET6)
		n = 16;
	else
		return 0;
	for (size_t i = 0; i < n; i++)
		in[i] = local->ip[i];
	in[n] = (uint8_t)(((const uint8_t *)&local->port)[0]);
	in[n + 1] = (uint8_t)(((const uint8_t *)&local->port)[1]);
	return rtpb_toeplitz(st->key, in, n + 2);
}

/**
 * The worker the NIC delivers packets to local to.
 * @return the worker index, or -1 if the steering is not known (mode
 *         NONE, an empty RETA or an unknown family).
 */
static inline int
rtpb_steer_worker(const struct rtpb_steer *st, const struct rtpb_addr *local)
{
	if (st->mode != RTPB_STEER_RSS_DST || st->reta_size == 0 ||
	    st->reta_size > RTPB_STEER_RETA_MAX ||
	    (local->family != RTPB_AF_INET && local->family != RTPB_AF_INET6))
		return -1;
	return st->reta[rtpb_steer_hash(st, local) % st->reta_size];
}

#endif /* RTPB_STEER_H */
