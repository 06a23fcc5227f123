/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_flow.c: flow table setup and updates (see dp_flow.h). Called by the
 * main lcore at start (create) and by the owner worker between bursts
 * (add, delete).
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include "dp_flow.h"

/* The key is 4 bytes: one CRC32-C instruction (rte_hash_crc_4byte()),
 * and one compare instead of rte_hash's memcmp() for odd key sizes. */
static uint32_t
flow_hash(const void *key, uint32_t len, uint32_t init)
{
	uint32_t k;

	RTE_SET_USED(len);
	memcpy(&k, key, sizeof(k));
	return rte_hash_crc_4byte(k, init);
}

static int
flow_cmp(const void *a, const void *b, size_t len)
{
	uint32_t x, y;

	RTE_SET_USED(len);
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x != y;
}

struct rte_hash *
dp_flow_create(const char *name, uint32_t entries, int socket)
{
	struct rte_hash_parameters p = {
		.name = name,
		.entries = entries < 64 ? 64 : entries,
		.key_len = sizeof(struct dp_flow_key),
		.hash_func = flow_hash,
		.hash_func_init_val = 0,
		.socket_id = socket,
		/* Extendable buckets: an insert never fails on a full bucket. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct rte_hash *h;

	RTE_BUILD_BUG_ON(sizeof(struct dp_flow_key) != sizeof(uint32_t));
	h = rte_hash_create(&p);
	if (h != NULL)
		rte_hash_set_cmp_func(h, flow_cmp);
	return h;
}

int
dp_flow_add(struct rte_hash *h, const struct dp_flow_key *k,
	    uint32_t stream_id, uint32_t out_id)
{
	RTE_BUILD_BUG_ON(sizeof(void *) < sizeof(uint64_t));
	return rte_hash_add_key_data(h, k,
		(void *)(uintptr_t)((uint64_t)out_id << 32 | stream_id));
}

int
dp_flow_del(struct rte_hash *h, const struct dp_flow_key *k)
{
	int32_t r = rte_hash_del_key(h, k);

	return r < 0 ? r : 0;
}
