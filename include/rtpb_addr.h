/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb_addr.h: the one address type shared by control and dataplane.
 *
 * Every address crossing a ring or the shared memory is a struct rtpb_addr:
 * family, UDP port and IP address, all in network byte order, so the
 * dataplane compares and copies them into packet headers without swapping.
 */
#ifndef RTPB_ADDR_H
#define RTPB_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/** Address families as carried in struct rtpb_addr (not AF_*: stable ABI). */
enum rtpb_af {
	RTPB_AF_NONE = 0,  /**< no address (unknown, or on hold: 0.0.0.0) */
	RTPB_AF_INET = 4,  /**< IPv4: ip[0..3] hold the address */
	RTPB_AF_INET6 = 6, /**< IPv6: ip[0..15] hold the address */
};

/**
 * A transport address: 20 bytes, no padding holes.
 * - family: enum rtpb_af.
 * - port: UDP port, network byte order.
 * - ip: network byte order; for IPv4 the first 4 bytes, the rest zero.
 * Two addresses are equal when all 20 bytes are equal (rtpb_addr_eq()),
 * which holds because writers zero the unused bytes.
 */
struct rtpb_addr {
	uint8_t family;
	uint8_t reserved; /**< always 0 */
	uint16_t port;    /**< network byte order */
	uint8_t ip[16];   /**< network byte order */
};

/** Whole-address equality (family, port, ip): five 4-byte compares,
 * inlined (a memcmp call was 2 % of the fast path's cycles). */
static inline bool
rtpb_addr_eq(const struct rtpb_addr *a, const struct rtpb_addr *b)
{
	uint64_t a0, a1, b0, b1;
	uint32_t a2, b2;

	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	memcpy(&a1, (const char *)a + 8, 8);
	memcpy(&b1, (const char *)b + 8, 8);
	memcpy(&a2, (const char *)a + 16, 4);
	memcpy(&b2, (const char *)b + 16, 4);
	return ((a0 ^ b0) | (a1 ^ b1) | (uint64_t)(a2 ^ b2)) == 0;
}

/** A hash of all 20 bytes (djb2), for hash tables keyed by address. */
static inline uint32_t
rtpb_addr_hash(const struct rtpb_addr *a)
{
	const uint8_t *b = (const uint8_t *)a;
	uint32_t h = 5381;

	for (size_t i = 0; i < sizeof(*a); i++)
		h = h * 33 + b[i];
	return h;
}

/** Host equality: family and ip, ignoring the port. */
static inline bool
rtpb_addr_host_eq(const struct rtpb_addr *a, const struct rtpb_addr *b)
{
	uint64_t a0, a1, b0, b1;

	if (a->family != b->family)
		return false;
	memcpy(&a0, a->ip, 8);
	memcpy(&b0, b->ip, 8);
	memcpy(&a1, a->ip + 8, 8);
	memcpy(&b1, b->ip + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/**
 * Fill an IPv4 address.
 * @param ip   IPv4 address, network byte order.
 * @param port UDP port, network byte order.
 */
static inline void
rtpb_addr_set_v4(struct rtpb_addr *a, uint32_t ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = RTPB_AF_INET;
	a->port = port;
	memcpy(a->ip, &ip, 4);
}

/** The IPv4 address of a RTPB_AF_INET address, network byte order. */
static inline uint32_t
rtpb_addr_v4(const struct rtpb_addr *a)
{
	uint32_t ip;

	memcpy(&ip, a->ip, 4);
	return ip;
}

#endif /* RTPB_ADDR_H */
