/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_stats.h: rtpb-gen's reports: one progress line per second while
 * the loop runs (stderr), and the final summary (stdout: text, or one
 * JSON object with --json).
 *
 * Latency is "added latency" as the generator sees it: from just before
 * rte_eth_tx_burst() to just after rte_eth_rx_burst() in the same
 * process (one TSC), so it includes both PMDs, the link and the relay;
 * it is an upper bound of what the relay adds.
 */
#ifndef GEN_STATS_H
#define GEN_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "gen_ctl.h"
#include "gen_run.h"
#include "gen_shm.h"

/**
 * Allocate room for max one-second samples (before the loop).
 * @return 0, or -ENOMEM.
 */
int gen_stats_samples_init(struct gen_run *r, uint32_t max);

/**
 * The progress line of the last interval_s seconds (t_s since the start):
 * frames/s sent and received per direction, latency p50/p99/p99.9 of
 * the interval; stores the samples and resets the interval histograms.
 * @param sent frames the port took in the interval.
 * @param sending false while draining (the sample is not kept).
 */
void gen_stats_progress(struct gen_run *r, double t_s, double interval_s,
			uint64_t sent, bool sending);

/** What the summary reports besides the run's counters. */
struct gen_summary {
	const struct gen_ctl_stats *setup; /**< NULL: not through control */
	const struct gen_shm_stats *install; /**< NULL: not installed */
	const struct gen_ctl_stats *teardown; /**< NULL: no teardown */
	uint32_t calls; /**< asked for */
	const char *pcap; /**< written pcap, or NULL */
	uint64_t pcap_frames; /**< all files, ARP requests included */
	uint32_t pcap_queues; /**< files: 1, or FILE.q0 .. FILE.q<n-1> */
	uint64_t pcap_frames_q[GEN_MAX_PCAP_QUEUES]; /**< frames per file */
	int traffic; /**< the loop ran */
};

/** Print the summary to f: text, or one JSON object if json. */
void gen_stats_summary(const struct gen_run *r, const struct gen_summary *s,
		       FILE *f, int json);

/** Free the samples. */
void gen_stats_free(struct gen_run *r);

#endif /* GEN_STATS_H */
