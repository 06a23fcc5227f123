/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_run.h: the state of one traffic run, shared by the loop (gen_loop.c),
 * ARP (gen_arp.c) and the reports (gen_stats.c).
 *
 * One lcore owns it: the main lcore runs setup, then the loop, then the
 * summary, so nothing here needs atomics. Counters are frames; times
 * are TSC cycles unless named _ns.
 */
#ifndef GEN_RUN_H
#define GEN_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "gen_calls.h"
#include "gen_cfg.h"
#include "gen_hist.h"
#include "gen_pkt.h"

/** Directions: frames of leg 2c go A->B, of leg 2c+1 B->A. */
enum gen_dir_id {
	GEN_A_TO_B = 0,
	GEN_B_TO_A = 1
};

/** Counters of one direction, by the sending leg's parity. */
struct gen_dir {
	uint64_t sent; /**< RTP frames the port took */
	uint64_t rtcp_sent; /**< RTCP frames the port took */
	uint64_t rx; /**< stamped RTP frames received */
	uint64_t rtcp_rx; /**< RTCP frames received */
	uint64_t reordered; /**< RTP behind its leg's highest sequence number */
	uint64_t duplicates; /**< RTP repeating its leg's highest sequence number */
	uint64_t misdelivered; /**< RTP at another phone than the sender's peer */
	uint64_t rx_prev; /**< rx at the last progress line */
	struct gen_hist lat; /**< added latency, whole run, ns */
	struct gen_hist lat_int; /**< the same, since the last progress line */
};

/** One-second samples for the summary's spread. */
struct gen_samples {
	uint32_t n, max;
	double *tx_fps; /**< RTP frames/s sent */
	double *rx_fps[2]; /**< RTP frames/s received per direction */
	double *p99_us[2]; /**< the second's p99 latency, us */
};

/** A run. */
struct gen_run {
	const struct gen_cfg *cfg;
	struct gen_leg *legs;
	uint32_t n_legs; /**< 2 * calls */
	uint32_t *order; /**< ok legs, in sending order */
	uint32_t n_order;
	uint16_t port;
	uint16_t n_queues; /**< RX/TX queue pairs, 1..GEN_MAX_QUEUES */
	struct rte_mempool *pool;
	struct gen_pkt_ctx pc;
	uint64_t hz; /**< TSC cycles per second */
	uint64_t ns_mult; /**< ns per cycle, 32.32 fixed point */
	uint32_t rtcp_every; /**< RTP frames of a leg between its RTCP; 0 none */
	bool relay_mac_known;
	uint32_t relay_ip; /**< address resolved for relay_mac */

	struct gen_dir dir[2];
	uint64_t tx_full; /**< frames the port refused once (sent later) */
	uint64_t tx_unsent; /**< frames still unsent at the end (freed) */
	uint64_t tx_behind; /**< frames skipped: the loop fell > 1 s behind */
	uint64_t rtcp_skipped; /**< RTCP frames not sent: two owed in one burst */
	uint64_t rx_other; /**< frames neither ours nor ARP */
	uint64_t rx_bad_leg; /**< stamps naming no leg */
	uint64_t arp_rx, arp_replies, arp_requests;
	uint64_t alloc_fail; /**< mbuf allocation failures (retried) */
	double seconds; /**< sending time actually spent, s */
	struct gen_samples smp;
};

/** Latency in ns of a TSC delta. */
static inline uint64_t
gen_cycles_to_ns(const struct gen_run *r, uint64_t cycles)
{
	return (uint64_t)(((unsigned __int128)cycles * r->ns_mult) >> 32);
}

#endif /* GEN_RUN_H */
