/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_neigh.h: the IPv4 neighbour cache (next hop -> MAC).
 *
 * Written only by the main lcore (ARP input, resolution, expiry), read by
 * every worker without locks: an entry's slot never moves once its IP is
 * set (open addressing, insert only), the IP is published with a release
 * store after the rest of the entry is written, and the MAC and its valid
 * bit share one 64-bit word that is read and written atomically.
 *
 * Entries are confirmed by ARP replies (or requests) from the neighbour;
 * DP_NEIGH_REACHABLE_NS after the last confirmation the main lcore sends
 * up to DP_NEIGH_PROBES requests one second apart while the old MAC is
 * still used, then invalidates it (packets are then dropped, counted as
 * RTPB_DROP_NEIGH_PENDING, and trigger a new resolution).
 */
#ifndef DP_NEIGH_H
#define DP_NEIGH_H

#include <stdatomic.h>
#include <stdint.h>

#include <rte_ether.h>

#define DP_NEIGH_SIZE 16384 /**< slots, power of two */
#define DP_NEIGH_REACHABLE_NS (30ull * 1000000000ull)
#define DP_NEIGH_PROBES 3
#define DP_NEIGH_RETRY_NS 1000000000ull /**< between two requests, ns */
#define DP_NEIGH_VALID (1ull << 63)

/** One neighbour. */
struct dp_neigh_entry {
	_Atomic uint32_t ip;      /**< IPv4, network byte order; 0 = empty */
	uint8_t probes;           /**< requests sent since the last confirmation */
	uint8_t pad[3];
	_Atomic uint64_t mac;     /**< MAC in bytes 0-5 + DP_NEIGH_VALID */
	uint64_t confirmed_ns;    /**< last confirmation, monotonic ns */
	uint64_t requested_ns;    /**< last request sent, monotonic ns */
};

/** The table. */
struct dp_neigh {
	struct dp_neigh_entry e[DP_NEIGH_SIZE];
};

static inline uint32_t
dp_neigh_hash(uint32_t ip)
{
	return (ip * 2654435761u) >> (32 - 14);
}

/**
 * Find the slot of ip (network byte order).
 * @return the slot, or -1 if ip is not in the table. Any lcore.
 */
static inline int
dp_neigh_find(const struct dp_neigh *t, uint32_t ip)
{
	uint32_t h = dp_neigh_hash(ip), i, cur;

	for (i = 0; i < 64; i++) {
		const struct dp_neigh_entry *e = &t->e[(h + i) & (DP_NEIGH_SIZE - 1)];

		cur = atomic_load_explicit(&e->ip, memory_order_acquire);
		if (cur == ip)
			return (int)((h + i) & (DP_NEIGH_SIZE - 1));
		if (cur == 0)
			return -1;
	}
	return -1;
}

/**
 * The MAC of slot if it still holds ip and is valid.
 * @return 1 and *mac, or 0. Any lcore.
 */
static inline int
dp_neigh_mac(const struct dp_neigh *t, int slot, uint32_t ip,
	     struct rte_ether_addr *mac)
{
	const struct dp_neigh_entry *e = &t->e[slot];
	uint64_t v;

	if (atomic_load_explicit(&e->ip, memory_order_acquire) != ip)
		return 0;
	v = atomic_load_explicit(&e->mac, memory_order_relaxed);
	if (!(v & DP_NEIGH_VALID))
		return 0;
	memcpy(mac->addr_bytes, &v, RTE_ETHER_ADDR_LEN);
	return 1;
}

/**
 * Find or create the slot of ip. Main lcore only.
 * @return the slot, or -ENOSPC.
 */
int dp_neigh_insert(struct dp_neigh *t, uint32_t ip);

/** Record mac for slot (an ARP from the neighbour), now in ns. Main lcore. */
void dp_neigh_confirm(struct dp_neigh *t, int slot,
		      const struct rte_ether_addr *mac, uint64_t now_ns);

/**
 * Visit entries that need an ARP request now (never resolved and not
 * asked for DP_NEIGH_RETRY_NS, or due for a refresh) and expire those
 * that stayed silent. Main lcore, about every 100 ms.
 * @param send called with each IP to ask for (network byte order) and
 *             the MAC to unicast to (NULL: broadcast).
 */
void dp_neigh_age(struct dp_neigh *t, uint64_t now_ns,
		  void (*send)(uint32_t ip, const struct rte_ether_addr *mac,
			       void *arg),
		  void *arg);

/** Request resolution of ip now if not asked recently. Main lcore. */
void dp_neigh_resolve(struct dp_neigh *t, uint32_t ip, uint64_t now_ns,
		      void (*send)(uint32_t ip, const struct rte_ether_addr *mac,
				   void *arg),
		      void *arg);

#endif /* DP_NEIGH_H */
