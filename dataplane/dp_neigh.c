/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_neigh.c: neighbour cache maintenance, main lcore only (see
 * dp_neigh.h for the concurrency rules).
 */
#include <errno.h>
#include <string.h>

#include "dp_neigh.h"

int
dp_neigh_insert(struct dp_neigh *t, uint32_t ip)
{
	uint32_t h = dp_neigh_hash(ip), i;

	for (i = 0; i < 64; i++) {
		struct dp_neigh_entry *e = &t->e[(h + i) & (DP_NEIGH_SIZE - 1)];
		uint32_t cur = atomic_load_explicit(&e->ip, memory_order_relaxed);

		if (cur == ip)
			return (int)((h + i) & (DP_NEIGH_SIZE - 1));
		if (cur == 0) {
			e->probes = 0;
			e->confirmed_ns = 0;
			e->requested_ns = 0;
			atomic_store_explicit(&e->mac, 0, memory_order_relaxed);
			atomic_store_explicit(&e->ip, ip, memory_order_release);
			return (int)((h + i) & (DP_NEIGH_SIZE - 1));
		}
	}
	return -ENOSPC;
}

void
dp_neigh_confirm(struct dp_neigh *t, int slot, const struct rte_ether_addr *mac,
		 uint64_t now_ns)
{
	struct dp_neigh_entry *e = &t->e[slot];
	uint64_t v = 0;

	memcpy(&v, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	atomic_store_explicit(&e->mac, v | DP_NEIGH_VALID, memory_order_relaxed);
	e->confirmed_ns = now_ns;
	e->probes = 0;
}

static void
neigh_ask(struct dp_neigh_entry *e, uint64_t now_ns,
	  void (*send)(uint32_t, const struct rte_ether_addr *, void *),
	  void *arg)
{
	uint64_t v = atomic_load_explicit(&e->mac, memory_order_relaxed);
	struct rte_ether_addr mac;

	e->requested_ns = now_ns;
	e->probes++;
	if (v & DP_NEIGH_VALID) {
		/* Refresh: unicast to the MAC we know (RFC 1122 §2.3.2.1). */
		memcpy(mac.addr_bytes, &v, RTE_ETHER_ADDR_LEN);
		send(atomic_load_explicit(&e->ip, memory_order_relaxed), &mac, arg);
	} else {
		send(atomic_load_explicit(&e->ip, memory_order_relaxed), NULL, arg);
	}
}

void
dp_neigh_resolve(struct dp_neigh *t, uint32_t ip, uint64_t now_ns,
		 void (*send)(uint32_t, const struct rte_ether_addr *, void *),
		 void *arg)
{
	int slot = dp_neigh_insert(t, ip);
	struct dp_neigh_entry *e;

	if (slot < 0)
		return;
	e = &t->e[slot];
	if (atomic_load_explicit(&e->mac, memory_order_relaxed) & DP_NEIGH_VALID)
		return;
	if (e->requested_ns != 0 && now_ns - e->requested_ns < DP_NEIGH_RETRY_NS)
		return;
	neigh_ask(e, now_ns, send, arg);
}

void
dp_neigh_age(struct dp_neigh *t, uint64_t now_ns,
	     void (*send)(uint32_t, const struct rte_ether_addr *, void *),
	     void *arg)
{
	uint32_t i;

	for (i = 0; i < DP_NEIGH_SIZE; i++) {
		struct dp_neigh_entry *e = &t->e[i];
		uint64_t v;

		if (atomic_load_explicit(&e->ip, memory_order_relaxed) == 0)
			continue;
		v = atomic_load_explicit(&e->mac, memory_order_relaxed);
		if (!(v & DP_NEIGH_VALID))
			continue; /* asked again on the next packet */
		if (now_ns - e->confirmed_ns < DP_NEIGH_REACHABLE_NS)
			continue;
		if (now_ns - e->requested_ns < DP_NEIGH_RETRY_NS)
			continue;
		if (e->probes >= DP_NEIGH_PROBES) {
			/* Silent neighbour: stop using its MAC. */
			atomic_store_explicit(&e->mac, v & ~DP_NEIGH_VALID,
					      memory_order_relaxed);
			e->probes = 0;
			e->requested_ns = 0;
			continue;
		}
		neigh_ask(e, now_ns, send, arg);
	}
}
