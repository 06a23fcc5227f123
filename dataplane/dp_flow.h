/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_flow.h: the flow table, (relay address, relay port) -> stream id.
 *
 * One rte_hash per worker lcore, holding the streams that worker owns;
 * the worker is its only writer (dp_ctl.c) and reader (fast path), so the
 * table needs no concurrency flags. Lookups are bulk
 * (rte_hash_lookup_bulk_data(), which prefetches keys and buckets in
 * stages).
 */
#ifndef DP_FLOW_H
#define DP_FLOW_H

#include <stdint.h>
#include <string.h>

#include <rte_hash.h>

#include "rtpb_addr.h"

/**
 * Flow key: the relay socket as (index of its relay address in the
 * dataplane's address list, UDP port). 4 bytes, whatever the family: the
 * address list tells IPv4 and IPv6 apart, and a 4-byte key hashes and
 * compares in a few cycles (a 20-byte one cost a key line per lookup).
 */
struct dp_flow_key {
	uint16_t addr_idx; /**< index in dp_ctx.addrs, host order */
	uint16_t port;     /**< UDP port, network byte order */
};

/** Build the key of relay socket (addr_idx, port in network order). */
static inline void
dp_flow_key_set(struct dp_flow_key *k, uint32_t addr_idx, uint16_t port)
{
	k->addr_idx = (uint16_t)addr_idx;
	k->port = port;
}

/**
 * Create a flow table for up to entries streams on NUMA socket.
 * @return the table, or NULL with rte_errno set.
 */
struct rte_hash *dp_flow_create(const char *name, uint32_t entries,
				int socket);

/**
 * Map key to stream id, with the id of the stream its packets are relayed
 * to (out_id, RTPB_STREAM_NONE if none) beside it, so one lookup lets the
 * fast path prefetch both streams at once (the stream's own out_stream_id
 * stays authoritative: a stale out_id would cost a useless prefetch, not a
 * misrouted packet; dp_ctl keeps the two equal). Replaces an existing
 * mapping.
 * @return 0, or -ENOSPC if the table is full, -EINVAL.
 */
int dp_flow_add(struct rte_hash *h, const struct dp_flow_key *k,
		uint32_t stream_id, uint32_t out_id);

/** Remove key. @return 0, or -ENOENT if absent. */
int dp_flow_del(struct rte_hash *h, const struct dp_flow_key *k);

/**
 * Look up n keys (n <= RTE_HASH_LOOKUP_BULK_MAX).
 * @param keys pointers to n keys.
 * @param ids  out: stream id of each key found.
 * @param outs out: the out_id given to dp_flow_add() for each key found.
 * @return bit i set if keys[i] was found.
 */
static inline uint64_t
dp_flow_lookup_burst(const struct rte_hash *h, const void **keys,
		     uint32_t n, uint32_t *ids, uint32_t *outs)
{
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	uint64_t hits = 0;
	uint32_t i;

	if (n == 0)
		return 0;
	rte_hash_lookup_bulk_data(h, keys, n, &hits, data);
	for (i = 0; i < n; i++) {
		uint64_t d = (uint64_t)(uintptr_t)data[i];

		ids[i] = (uint32_t)d;
		outs[i] = (uint32_t)(d >> 32);
	}
	return hits;
}

#endif /* DP_FLOW_H */
