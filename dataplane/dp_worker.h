/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_worker.h: the worker lcore loop.
 */
#ifndef DP_WORKER_H
#define DP_WORKER_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "dp_ctx.h"

/**
 * Worker lcore entry (rte_eal_remote_launch()): polls its RX queue and
 * handoff ring in bursts, drains its c2d ring whenever it holds messages,
 * until dp_quit. arg is the struct dp_worker.
 * @return 0.
 */
int dp_worker_main(void *arg);

/**
 * Relay one burst of received frames through the stages: parse, filter,
 * handoff, flow lookup, latch, next hop, rewrite, transmit on w's TX
 * queue (dp_worker.c). Consumes every mbuf (sent, passed
 * on, or freed and counted). Counts frames not handed off in w's RX
 * counters. Exposed for tests and benchmarks.
 * @param handed_off the frames came from another worker's handoff.
 */
void dp_worker_burst(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n,
		     int handed_off, uint64_t now_ns);

#endif /* DP_WORKER_H */
