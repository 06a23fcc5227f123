/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_neigh.c: neighbour cache maintenance, main lcore only (see
 * dp_neigh.h for the concurrency rules).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <rte_common.h>
#include <rte_random.h>

#include "dp_neigh.h"
#include "dp_nkeep.h"

static void
neigh_state_init(struct dp_neigh_state *st)
{
	st->probes = 0;
	st->is_static = 0;
	st->confirmed_ns = 0;
	st->requested_ns = 0;
	atomic_store_explicit(&st->mac, 0, memory_order_relaxed);
}

void
dp_neigh_seed(struct dp_neigh *t)
{
	t->seed = (uint32_t)rte_rand();
}

int
dp_neigh_insert(struct dp_neigh *t, uint32_t ip)
{
	uint32_t h = dp_neigh_hash(t, ip), i;
	int free_slot = -1;

	if (ip == 0 || ip == DP_NEIGH_GONE)
		return -EINVAL;
	/* ip may sit past a tombstone: look on to the first empty slot */
	for (i = 0; i < DP_NEIGH_PROBE_MAX; i++) {
		uint32_t s = (h + i) & (DP_NEIGH_SIZE - 1);
		uint32_t cur = atomic_load_explicit(&t->e[s].ip, memory_order_relaxed);

		if (cur == ip)
			return (int)s;
		if (cur == DP_NEIGH_GONE && free_slot < 0)
			free_slot = (int)s;
		if (cur == 0) {
			if (free_slot < 0)
				free_slot = (int)s;
			break;
		}
	}
	if (free_slot < 0)
		return -ENOSPC;
	neigh_state_init(&t->e[free_slot].st);
	atomic_store_explicit(&t->e[free_slot].ip, ip, memory_order_release);
	return free_slot;
}

int
dp_neigh6_insert(struct dp_neigh *t, const uint8_t *ip)
{
	uint32_t h = dp_neigh6_hash(t, ip), i, g;
	struct dp_neigh6_entry *e;
	int free_slot = -1;

	for (i = 0; i < DP_NEIGH_PROBE_MAX; i++) {
		uint32_t s = (h + i) & (DP_NEIGH6_SIZE - 1);

		e = &t->e6[s];
		g = atomic_load_explicit(&e->gen, memory_order_relaxed);
		if ((g & 1) && memcmp(e->ip, ip, 16) == 0)
			return (int)s;
		if (!(g & 1) && free_slot < 0)
			free_slot = (int)s;
		if (g == 0)
			break;
	}
	if (free_slot < 0)
		return -ENOSPC;
	e = &t->e6[free_slot];
	g = atomic_load_explicit(&e->gen, memory_order_relaxed);
	memcpy(e->ip, ip, 16);
	neigh_state_init(&e->st);
	atomic_store_explicit(&e->gen, g + 1, memory_order_release);
	return free_slot;
}

static void
neigh_state_confirm(struct dp_neigh_state *st, const struct rte_ether_addr *mac,
		    uint64_t now_ns)
{
	uint64_t v = 0;

	memcpy(&v, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	/* release: after the slot's address (dp_neigh.h, eviction) */
	atomic_store_explicit(&st->mac, v | DP_NEIGH_VALID, memory_order_release);
	st->confirmed_ns = now_ns;
	st->probes = 0;
}

/* A learnt neighbour goes to the file too (dp_nkeep.h). */
void
dp_neigh_confirm(struct dp_neigh *t, int slot, const struct rte_ether_addr *mac,
		 uint64_t now_ns)
{
	struct dp_neigh_entry *e = &t->e[slot];

	neigh_state_confirm(&e->st, mac, now_ns);
	if (!e->st.is_static)
		dp_nkeep_put4((uint32_t)slot, atomic_load_explicit(&e->ip,
				memory_order_relaxed),
			      atomic_load_explicit(&e->st.mac, memory_order_relaxed));
}

void
dp_neigh6_confirm(struct dp_neigh *t, int slot, const struct rte_ether_addr *mac,
		  uint64_t now_ns)
{
	struct dp_neigh6_entry *e = &t->e6[slot];

	neigh_state_confirm(&e->st, mac, now_ns);
	if (!e->st.is_static)
		dp_nkeep_put6((uint32_t)slot, e->ip,
			      atomic_load_explicit(&e->st.mac, memory_order_relaxed));
}

/* Insert ip in the table of its family: its state, and its slot in
 * *slot; NULL with *slot -EINVAL (family) or -ENOSPC. */
static struct dp_neigh_state *
neigh_insert_any(struct dp_neigh *t, const struct rtpb_addr *ip, int *slot)
{
	if (ip->family == RTPB_AF_INET) {
		*slot = dp_neigh_insert(t, rtpb_addr_v4(ip));
		return *slot < 0 ? NULL : &t->e[*slot].st;
	}
	if (ip->family == RTPB_AF_INET6) {
		*slot = dp_neigh6_insert(t, ip->ip);
		return *slot < 0 ? NULL : &t->e6[*slot].st;
	}
	*slot = -EINVAL;
	return NULL;
}

int
dp_neigh_restore(struct dp_neigh *t, const struct rtpb_addr *ip, uint64_t mac,
		 uint64_t now_ns)
{
	int slot;
	struct dp_neigh_state *st = neigh_insert_any(t, ip, &slot);

	if (st == NULL)
		return slot;
	if (ip->family == RTPB_AF_INET)
		dp_nkeep_put4((uint32_t)slot, rtpb_addr_v4(ip), mac);
	else
		dp_nkeep_put6((uint32_t)slot, ip->ip, mac);
	atomic_store_explicit(&st->mac, mac | DP_NEIGH_VALID, memory_order_release);
	st->confirmed_ns = now_ns > DP_NEIGH_REACHABLE_NS ?
			   now_ns - DP_NEIGH_REACHABLE_NS : 0;
	st->requested_ns = now_ns;
	st->probes = 1;
	return slot;
}

int
dp_neigh_add_static(struct dp_neigh *t, const struct rtpb_addr *ip,
		    const struct rte_ether_addr *mac, uint64_t now_ns)
{
	int slot;
	struct dp_neigh_state *st = neigh_insert_any(t, ip, &slot);

	if (st == NULL)
		return slot;
	neigh_state_confirm(st, mac, now_ns);
	st->is_static = 1;
	return slot;
}

/* Send a request for ip: unicast to the MAC we know (a refresh, RFC 1122
 * §2.3.2.1, RFC 4861 §7.3.3 PROBE), else broadcast/multicast. */
static void
neigh_ask(struct dp_neigh_state *st, const struct rtpb_addr *ip,
	  uint64_t now_ns, dp_neigh_send_fn *send, void *arg)
{
	struct rte_ether_addr mac;

	st->requested_ns = now_ns;
	st->probes++;
	if (dp_neigh_state_mac(st, &mac))
		send(ip, &mac, arg);
	else
		send(ip, NULL, arg);
}

void
dp_neigh_resolve(struct dp_neigh *t, const struct rtpb_addr *ip,
		 uint64_t now_ns, dp_neigh_send_fn *send, void *arg)
{
	int slot;
	struct dp_neigh_state *st = neigh_insert_any(t, ip, &slot);

	if (st == NULL)
		return;
	if (atomic_load_explicit(&st->mac, memory_order_relaxed) & DP_NEIGH_VALID)
		return;
	if (st->requested_ns != 0 && now_ns - st->requested_ns < DP_NEIGH_RETRY_NS)
		return;
	neigh_ask(st, ip, now_ns, send, arg);
}

/* One entry's refresh or expiry; ip is its address. @return 1 if the
 * entry is to be evicted (unresolved, nothing for DP_NEIGH_EVICT_NS), 2
 * if its MAC was just given up (silent to the probes), else 0. */
static int
neigh_age_one(struct dp_neigh_state *st, const struct rtpb_addr *ip,
	      uint64_t now_ns, dp_neigh_send_fn *send, void *arg)
{
	uint64_t v = atomic_load_explicit(&st->mac, memory_order_relaxed);

	if (st->is_static)
		return 0;
	if (!(v & DP_NEIGH_VALID)) {
		uint64_t last = RTE_MAX(st->confirmed_ns, st->requested_ns);

		if (now_ns > last && now_ns - last >= DP_NEIGH_EVICT_NS)
			return 1;
		/* Unresolved and asked for: ask again every DP_NEIGH_RETRY_NS,
		 * DP_NEIGH_PROBES times (RFC 4861 §7.2.2 MAX_MULTICAST_SOLICIT;
		 * an answer that was lost, e.g. to an XDP program not yet
		 * told the relay's addresses, costs a second, not a packet).
		 * Then it waits for the next packet that needs it. */
		if (st->requested_ns != 0 && st->probes < DP_NEIGH_PROBES &&
		    now_ns - st->requested_ns >= DP_NEIGH_RETRY_NS)
			neigh_ask(st, ip, now_ns, send, arg);
		return 0;
	}
	if (now_ns - st->confirmed_ns < DP_NEIGH_REACHABLE_NS)
		return 0;
	if (now_ns - st->requested_ns < DP_NEIGH_RETRY_NS)
		return 0;
	if (st->probes >= DP_NEIGH_PROBES) {
		/* Silent neighbour: stop using its MAC. */
		atomic_store_explicit(&st->mac, v & ~DP_NEIGH_VALID,
				      memory_order_relaxed);
		st->probes = 0;
		st->requested_ns = 0;
		return 2;
	}
	neigh_ask(st, ip, now_ns, send, arg);
	return 0;
}

/* What is done to each live entry of both tables (its state and
 * address): neigh_age_one(), neigh_retry_one(). @return 1 to count it
 * (and, for neigh_foreach()'s evict, to evict it), 2 when its MAC is no
 * longer valid (the neighbour file forgets it, dp_nkeep.h), else 0. */
typedef int (neigh_visit_fn)(struct dp_neigh_state *st, const struct rtpb_addr *ip,
			     uint64_t now_ns, dp_neigh_send_fn *send, void *arg);

/* Visit every live entry of both families; evict: those visit counts
 * become tombstones. @return how many visit counted. */
static uint32_t
neigh_foreach(struct dp_neigh *t, neigh_visit_fn *visit, bool evict,
	      uint64_t now_ns, dp_neigh_send_fn *send, void *arg)
{
	struct rtpb_addr a;
	uint32_t i, ip, g, n = 0;
	int r;

	for (i = 0; i < DP_NEIGH_SIZE; i++) {
		struct dp_neigh_entry *e = &t->e[i];

		ip = atomic_load_explicit(&e->ip, memory_order_relaxed);
		if (ip == 0 || ip == DP_NEIGH_GONE)
			continue;
		rtpb_addr_set_v4(&a, ip, 0);
		r = visit(&e->st, &a, now_ns, send, arg);
		if (r == 2)
			dp_nkeep_put4(i, 0, 0); /* not kept any more */
		if (r != 1)
			continue;
		n++;
		if (evict) {
			/* the MAC first: a reader of the old ip finds none */
			atomic_store_explicit(&e->st.mac, 0, memory_order_relaxed);
			atomic_store_explicit(&e->ip, DP_NEIGH_GONE, memory_order_release);
			dp_nkeep_put4(i, 0, 0);
		}
	}
	memset(&a, 0, sizeof(a));
	a.family = RTPB_AF_INET6;
	for (i = 0; i < DP_NEIGH6_SIZE; i++) {
		struct dp_neigh6_entry *e = &t->e6[i];

		g = atomic_load_explicit(&e->gen, memory_order_relaxed);
		if (!(g & 1))
			continue;
		memcpy(a.ip, e->ip, 16);
		r = visit(&e->st, &a, now_ns, send, arg);
		if (r == 2)
			dp_nkeep_put6(i, e->ip, 0); /* not kept any more */
		if (r != 1)
			continue;
		n++;
		if (evict) {
			atomic_store_explicit(&e->st.mac, 0, memory_order_relaxed);
			/* even, never 0 (empty would cut the probe chains) */
			atomic_store_explicit(&e->gen, g + 1 != 0 ? g + 1 : 2,
					      memory_order_release);
			dp_nkeep_put6(i, e->ip, 0);
		}
	}
	return n;
}

uint32_t
dp_neigh_age(struct dp_neigh *t, uint64_t now_ns, dp_neigh_send_fn *send,
	     void *arg)
{
	return neigh_foreach(t, neigh_age_one, true, now_ns, send, arg);
}

/* One entry of dp_neigh_retry_all() (neigh_visit_fn): asked for,
 * unresolved, not static. @return 1 if asked again. */
static int
neigh_retry_one(struct dp_neigh_state *st, const struct rtpb_addr *ip,
		uint64_t now_ns, dp_neigh_send_fn *send, void *arg)
{
	if (st->is_static || st->requested_ns == 0 ||
	    (atomic_load_explicit(&st->mac, memory_order_relaxed) & DP_NEIGH_VALID))
		return 0;
	st->probes = 0;
	neigh_ask(st, ip, now_ns, send, arg);
	return 1;
}

uint32_t
dp_neigh_retry_all(struct dp_neigh *t, uint64_t now_ns, dp_neigh_send_fn *send,
		   void *arg)
{
	return neigh_foreach(t, neigh_retry_one, false, now_ns, send, arg);
}
