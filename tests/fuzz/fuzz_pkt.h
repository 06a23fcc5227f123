/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pkt.h: the parts of fuzz_pkt (issue 16 item 8), the libFuzzer
 * target over the dataplane's packet path: frames in exactly-sized,
 * guarded buffers (fuzz_pkt.c), the latch on a small stream table
 * (fuzz_pkt_latch.c), the rewrite re-parsed and checked
 * (fuzz_pkt_rewrite.c), ARP and NDP on the main lcore's context
 * (fuzz_pkt_slow.c). No EAL: everything called touches only the mbuf it
 * is given and plain memory (see each file). Single-threaded.
 */
#ifndef FUZZ_PKT_H
#define FUZZ_PKT_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "rtpb_addr.h"
#include "dp_parse.h"

/** A broken invariant: print what and abort() (a crash to libFuzzer). */
#define FUZZ_CHECK(cond, ...)                                    \
	do {                                                     \
		if (!(cond))                                     \
			fuzz_pkt_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/** FUZZ_PKT_TRACE set: each latch verdict is printed (to see where a
 * seed goes). */
extern int fuzz_pkt_trace;

/** Print "fuzz_pkt: invariant broken" with the message, then abort(). */
void fuzz_pkt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

/**
 * The address is one the dataplane may hold: family NONE, INET or
 * INET6, reserved byte 0, the unused bytes of an IPv4 address zero
 * (rtpb_addr_eq() relies on it). @return 1 if so.
 */
int fuzz_addr_ok(const struct rtpb_addr *a);

/** RFC 1071 sum of the UDP datagram of a DP_PKT_UDP frame with its
 * pseudo-header (RFC 768, RFC 8200 §8.1; the UDP length as the length).
 * @return 1 if the checksum is right (a zero IPv4 checksum is not). */
int fuzz_udp_csum_ok(const struct rte_mbuf *m, const struct dp_pkt_meta *pm);

/** Check dp_parse_pkt()'s output against the frame: offsets inside it,
 * addresses clean; abort() if not. */
void fuzz_check_meta(const struct rte_mbuf *m, const struct dp_pkt_meta *pm,
		     enum dp_pkt_kind kind);

/** The streams the latch works on, their configuration and the clock. */
struct fuzz_latch;

/** Set up the stream table for one input (cfg: the input's first byte,
 * see fuzz_pkt_latch.c). @return the table (static, reused). */
struct fuzz_latch *fuzz_latch_reset(uint8_t cfg);

/** Advance the clock by a step the input chose (dt, see fuzz_pkt.c). */
void fuzz_latch_step(struct fuzz_latch *l, uint8_t dt);

/** The clock, ns. */
uint64_t fuzz_latch_now(const struct fuzz_latch *l);

/**
 * A signalling event on stream id before a packet: op 1 re-offer with
 * src as the signalled address, 2 re-offer with none, 3 a replay's
 * restore of src as the peer; 0 nothing.
 */
void fuzz_latch_signal(struct fuzz_latch *l, uint32_t id, uint32_t op,
		       const struct rtpb_addr *src);

/**
 * One UDP frame (pm) received on stream id (0..3): what dp_worker.c
 * does before the rewrite (class, source and header checks, then
 * dp_latch_parse(), dp_latch_rx(), the RTCP follow), every stream's
 * invariants checked after; dp_latch_rtcp_cname() on the payload too.
 */
void fuzz_latch_frame(struct fuzz_latch *l, uint32_t id,
		      const struct rte_mbuf *m, const struct dp_pkt_meta *pm);

/**
 * Where stream id's packets would leave to (the out stream's peer or
 * signalled address), and from (the relay address of that family, the
 * out stream's port). @return 1, or 0 if the out stream has no
 * destination.
 */
int fuzz_latch_route(const struct fuzz_latch *l, uint32_t id,
		     struct rtpb_addr *from, struct rtpb_addr *to);

/** The relay address of family (RTPB_AF_INET or RTPB_AF_INET6), port. */
void fuzz_relay_addr(uint8_t family, uint16_t port, struct rtpb_addr *out);

/**
 * dp_rewrite_udp() of the DP_PKT_UDP frame m (pm) from `from' to `to'
 * (same family), then the result re-parsed and checked as
 * tests/test_dp_rewrite.c does: addresses, ports, TTL, TOS, payload and
 * VLAN tags kept, checksums right if they were, none added or lost.
 */
void fuzz_rewrite(struct rte_mbuf *m, const struct dp_pkt_meta *pm,
		  const struct rtpb_addr *from, const struct rtpb_addr *to);

/** Lay out dp_ctx for the slow path (relay addresses, stats, ring,
 * neighbour table), once. */
void fuzz_slow_init(void);

/**
 * An ARP or NDP frame (pm) through the main lcore's handlers as the
 * worker passes them up (dp_arp_input(), dp_nd_for_relay() then
 * dp_nd_input()), with two known neighbours (resolved if sel & 1). The
 * reply, if any, is parsed and checked; the neighbour table is left
 * empty. m must have its tailroom open (an NA may be longer than the NS).
 */
void fuzz_slow_frame(struct rte_mbuf *m, const struct dp_pkt_meta *pm,
		     uint8_t sel, uint64_t now_ns);

#endif /* FUZZ_PKT_H */
