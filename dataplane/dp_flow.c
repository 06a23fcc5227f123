/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_flow.c: flow table setup and updates (see dp_flow.h). Called by the
 * main lcore at start (create) and by the owner worker between bursts
 * (add, set_out, delete).
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "dp_flow.h"

static inline uint64_t
flow_entry(uint32_t stream_id, uint32_t out_id)
{
	return (uint64_t)out_id << 32 | stream_id;
}

int
dp_flow_create(struct dp_flow *f, uint32_t n_addrs, int socket)
{
	size_t bytes = (size_t)n_addrs * DP_FLOW_BYTES_PER_ADDR;

	f->tab = NULL;
	f->n_addrs = 0;
	if (n_addrs == 0 || n_addrs > RTPB_MAX_ADDRS)
		return -EINVAL;
	f->tab = rte_malloc_socket("rtpb_flow", bytes, RTE_CACHE_LINE_SIZE, socket);
	if (f->tab == NULL)
		return -ENOMEM;
	memset(f->tab, 0xff, bytes); /* DP_FLOW_EMPTY */
	f->n_addrs = n_addrs;
	return 0;
}

void
dp_flow_free(struct dp_flow *f)
{
	rte_free(f->tab);
	f->tab = NULL;
	f->n_addrs = 0;
}

int
dp_flow_add(struct dp_flow *f, uint32_t addr_idx, uint16_t port,
	    uint32_t stream_id, uint32_t out_id)
{
	if (addr_idx >= f->n_addrs || stream_id == RTPB_STREAM_NONE)
		return -EINVAL;
	__atomic_store_n(&f->tab[dp_flow_slot(addr_idx, port)],
			 flow_entry(stream_id, out_id), __ATOMIC_RELAXED);
	return 0;
}

/* Replace the entry of (addr_idx, port) by next if it holds stream_id:
 * a compare-and-swap, as another owner may write it at the same time. */
static int
flow_replace_own(struct dp_flow *f, uint32_t addr_idx, uint16_t port,
		 uint32_t stream_id, uint64_t next)
{
	uint64_t *e, cur;

	if (addr_idx >= f->n_addrs || stream_id == RTPB_STREAM_NONE)
		return -EINVAL;
	e = &f->tab[dp_flow_slot(addr_idx, port)];
	cur = __atomic_load_n(e, __ATOMIC_RELAXED);
	do {
		if ((uint32_t)cur != stream_id)
			return -ENOENT;
	} while (!__atomic_compare_exchange_n(e, &cur, next, 0, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return 0;
}

int
dp_flow_set_out(struct dp_flow *f, uint32_t addr_idx, uint16_t port,
		uint32_t stream_id, uint32_t out_id)
{
	return flow_replace_own(f, addr_idx, port, stream_id,
				flow_entry(stream_id, out_id));
}

int
dp_flow_del(struct dp_flow *f, uint32_t addr_idx, uint16_t port,
	    uint32_t stream_id)
{
	return flow_replace_own(f, addr_idx, port, stream_id, DP_FLOW_EMPTY);
}
