/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_neigh.h: the neighbour cache (next hop -> MAC), IPv4 and IPv6.
 *
 * Two open-addressing tables in one struct, one per family; a stream's
 * nh_idx caches a slot of the table of its relay address's family.
 *
 * Written only by the main lcore (ARP and NDP input, resolution, expiry,
 * eviction), read by every worker without locks. An entry is published
 * with a release store after the rest of it is written (IPv4: the IP
 * word itself, 0 = empty; IPv6: the generation word `gen' after the 16
 * address bytes, 0 = empty, odd = in use), and the MAC and its valid bit
 * share one 64-bit word that is read and written atomically.
 *
 * Eviction: an entry unresolved for DP_NEIGH_EVICT_NS (a host that left
 * the link) becomes a tombstone (IPv4: DP_NEIGH_GONE, IPv6: gen even and
 * not 0): lookups probe past it, and a later insert reuses it. Its MAC is
 * cleared first. A worker may be reading the slot meanwhile (or hold its
 * index in a stream's nh_idx), so dp_neigh_mac() and dp_neigh6_mac()
 * read like a seqlock: the address (or gen), then the MAC (acquire),
 * then the address (or gen) again; the MAC counts only if both reads
 * agree. A MAC the main lcore stored for a reused slot is stored with
 * release after the slot's new address, so a reader that sees it sees
 * the new address on its second read and drops it.
 *
 * Entries are confirmed by ARP replies or requests (IPv4), or by Neighbor
 * Advertisements and Solicitations (IPv6, RFC 4861 §7.2.5, §7.2.3) from
 * the neighbour; DP_NEIGH_REACHABLE_NS after the last confirmation the
 * main lcore sends up to DP_NEIGH_PROBES unicast requests one second
 * apart while the old MAC is still used, then invalidates it (packets are
 * then dropped, counted as RTPB_DROP_NEIGH_PENDING, and trigger a new
 * resolution). This is RFC 4861 §7.3's REACHABLE/STALE/PROBE cycle
 * without the DELAY state.
 *
 * The tables are keyed by what the network sends (senders' addresses), so
 * the hash is seeded (rte_jhash with dp_neigh.seed, random at start:
 * dp_neigh_seed()): which addresses share a probe chain cannot be known
 * from outside. ARP and NDP learn only on-link senders whose link-layer
 * address matches their Ethernet source (dp_arp.c, dp_nd.c).
 */
#ifndef DP_NEIGH_H
#define DP_NEIGH_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_jhash.h>

#include "rtpb_addr.h"

#define DP_NEIGH_SIZE 16384  /**< IPv4 slots, a power of 2 (dp_neigh_hash()) */
#define DP_NEIGH6_SIZE 16384 /**< IPv6 slots, a power of 2 (dp_neigh6_hash()) */
#define DP_NEIGH_PROBE_MAX 64 /**< slots probed from the hash position */
#define DP_NEIGH_REACHABLE_NS (30ull * 1000000000ull)
#define DP_NEIGH_PROBES 3
#define DP_NEIGH_RETRY_NS 1000000000ull /**< between two requests, ns */
#define DP_NEIGH_VALID (1ull << 63)
/** An unresolved entry silent for this long is evicted, ns (Linux's
 *  gc_stale_time default). */
#define DP_NEIGH_EVICT_NS (60ull * 1000000000ull)
/** IPv4 tombstone: 255.255.255.255 (limited broadcast, never a neighbour). */
#define DP_NEIGH_GONE 0xffffffffu

/** Resolution state of one neighbour, either family. */
struct dp_neigh_state {
	_Atomic uint64_t mac;     /**< MAC in bytes 0-5 + DP_NEIGH_VALID */
	uint64_t confirmed_ns;    /**< last confirmation, monotonic ns */
	uint64_t requested_ns;    /**< last request sent, monotonic ns */
	uint8_t probes;           /**< requests sent since the last confirmation */
	uint8_t is_static;        /**< configured (--neigh): never asked, never expires */
	uint8_t pad[6];
};

/** One IPv4 neighbour. */
struct dp_neigh_entry {
	_Atomic uint32_t ip;      /**< IPv4, network byte order; 0 = empty,
				       DP_NEIGH_GONE = evicted */
	uint32_t pad;
	struct dp_neigh_state st;
};

/** One IPv6 neighbour. */
struct dp_neigh6_entry {
	uint8_t ip[16];           /**< IPv6, network byte order; valid while gen is odd */
	_Atomic uint32_t gen;     /**< 0 = empty, odd = ip set (release store),
				       even = evicted; +1 at each change */
	uint32_t pad;
	struct dp_neigh_state st;
};

/** The tables. */
struct dp_neigh {
	struct dp_neigh_entry e[DP_NEIGH_SIZE];
	struct dp_neigh6_entry e6[DP_NEIGH6_SIZE];
	uint32_t seed; /**< hash key: dp_neigh_seed() before the first insert */
};

/**
 * Called to send a request for ip (family INET: ARP, INET6: Neighbor
 * Solicitation; port ignored), multicast/broadcast if mac is NULL, else
 * unicast to mac (a refresh).
 */
typedef void (dp_neigh_send_fn)(const struct rtpb_addr *ip,
				const struct rte_ether_addr *mac, void *arg);

/** Home slot of IPv4 ip (network byte order), keyed by t->seed. */
static inline uint32_t
dp_neigh_hash(const struct dp_neigh *t, uint32_t ip)
{
	return rte_jhash_1word(ip, t->seed) & (DP_NEIGH_SIZE - 1);
}

/** Home slot of IPv6 ip (16 bytes), keyed by t->seed. */
static inline uint32_t
dp_neigh6_hash(const struct dp_neigh *t, const uint8_t *ip)
{
	uint32_t w[4];

	memcpy(w, ip, 16);
	return rte_jhash_32b(w, 4, t->seed) & (DP_NEIGH6_SIZE - 1);
}

/**
 * Find the slot of IPv4 ip (network byte order).
 * @return the slot, or -1 if ip is not in the table. Any lcore.
 */
static inline int
dp_neigh_find(const struct dp_neigh *t, uint32_t ip)
{
	uint32_t h = dp_neigh_hash(t, ip), i, cur;

	for (i = 0; i < DP_NEIGH_PROBE_MAX; i++) {
		const struct dp_neigh_entry *e = &t->e[(h + i) & (DP_NEIGH_SIZE - 1)];

		cur = atomic_load_explicit(&e->ip, memory_order_acquire);
		if (cur == ip)
			return (int)((h + i) & (DP_NEIGH_SIZE - 1));
		if (cur == 0)
			return -1;
	}
	return -1;
}

/** The MAC in a state word, if valid (acquire: see the file comment).
 *  @return 1 and *mac, or 0. */
static inline int
dp_neigh_state_mac(const struct dp_neigh_state *st, struct rte_ether_addr *mac)
{
	uint64_t v = atomic_load_explicit(&st->mac, memory_order_acquire);

	if (!(v & DP_NEIGH_VALID))
		return 0;
	memcpy(mac->addr_bytes, &v, RTE_ETHER_ADDR_LEN);
	return 1;
}

/**
 * The MAC of IPv4 slot if it still holds ip and is valid.
 * @param slot any value below DP_NEIGH_SIZE (e.g. a stale cache).
 * @return 1 and *mac, or 0. Any lcore.
 */
static inline int
dp_neigh_mac(const struct dp_neigh *t, int slot, uint32_t ip,
	     struct rte_ether_addr *mac)
{
	const struct dp_neigh_entry *e = &t->e[slot & (DP_NEIGH_SIZE - 1)];

	if (atomic_load_explicit(&e->ip, memory_order_acquire) != ip ||
	    !dp_neigh_state_mac(&e->st, mac))
		return 0;
	/* evicted and reused between the two reads: not this ip's MAC */
	return atomic_load_explicit(&e->ip, memory_order_relaxed) == ip;
}

/**
 * Find the slot of IPv6 ip (16 bytes, network byte order).
 * @return the slot, or -1 if ip is not in the table. Any lcore.
 */
static inline int
dp_neigh6_find(const struct dp_neigh *t, const uint8_t *ip)
{
	uint32_t h = dp_neigh6_hash(t, ip), i;

	for (i = 0; i < DP_NEIGH_PROBE_MAX; i++) {
		uint32_t s = (h + i) & (DP_NEIGH6_SIZE - 1);
		const struct dp_neigh6_entry *e = &t->e6[s];
		uint32_t g = atomic_load_explicit(&e->gen, memory_order_acquire);

		if (g == 0)
			return -1;
		if ((g & 1) && memcmp(e->ip, ip, 16) == 0)
			return (int)s;
	}
	return -1;
}

/**
 * The MAC of IPv6 slot if it holds ip and is valid.
 * @param slot any value below DP_NEIGH6_SIZE (e.g. a stale cache).
 * @return 1 and *mac, or 0. Any lcore.
 */
static inline int
dp_neigh6_mac(const struct dp_neigh *t, int slot, const uint8_t *ip,
	      struct rte_ether_addr *mac)
{
	const struct dp_neigh6_entry *e = &t->e6[slot & (DP_NEIGH6_SIZE - 1)];
	uint32_t g = atomic_load_explicit(&e->gen, memory_order_acquire);

	if (!(g & 1) || memcmp(e->ip, ip, 16) != 0 || !dp_neigh_state_mac(&e->st, mac))
		return 0;
	/* evicted and reused between the two reads: not this ip's MAC */
	return atomic_load_explicit(&e->gen, memory_order_relaxed) == g;
}

/**
 * Key the hash of an empty table t with a random seed (rte_rand(), which
 * EAL seeds from the CPU's or the kernel's entropy); before any insert.
 */
void dp_neigh_seed(struct dp_neigh *t);

/**
 * Find or create the slot of IPv4 ip (network byte order, not 0 nor
 * DP_NEIGH_GONE); a new entry takes the first evicted or empty slot.
 * Main lcore only.
 * @return the slot, -EINVAL (ip), or -ENOSPC (DP_NEIGH_PROBE_MAX slots
 *         from its hash position are in use).
 */
int dp_neigh_insert(struct dp_neigh *t, uint32_t ip);

/**
 * Find or create the slot of IPv6 ip (16 bytes). Main lcore only.
 * @return the slot, or -ENOSPC.
 */
int dp_neigh6_insert(struct dp_neigh *t, const uint8_t *ip);

/** Record mac for IPv4 slot (an ARP from the neighbour), now in ns. Main lcore. */
void dp_neigh_confirm(struct dp_neigh *t, int slot,
		      const struct rte_ether_addr *mac, uint64_t now_ns);

/** Record mac for IPv6 slot (an NA or NS from the neighbour). Main lcore. */
void dp_neigh6_confirm(struct dp_neigh *t, int slot,
		       const struct rte_ether_addr *mac, uint64_t now_ns);

/**
 * Insert neighbour ip, kept by an earlier dataplane (dp_nkeep.h), with
 * mac (bytes 0-5 | DP_NEIGH_VALID): usable at once, STALE (confirmed
 * DP_NEIGH_REACHABLE_NS before now_ns, one request counted as sent at
 * now_ns: the caller sends it), so dp_neigh_age() probes it if no answer
 * comes. Main lcore, setup.
 * @return the slot, -EINVAL (family), or -ENOSPC.
 */
int dp_neigh_restore(struct dp_neigh *t, const struct rtpb_addr *ip,
		     uint64_t mac, uint64_t now_ns);

/**
 * Add a static neighbour (the dataplane's --neigh IP,MAC): resolved at
 * once, never refreshed, never expired; a later ARP/NDP from it updates
 * the MAC. Main lcore, setup.
 * @return the slot, -EINVAL (family), or -ENOSPC.
 */
int dp_neigh_add_static(struct dp_neigh *t, const struct rtpb_addr *ip,
			const struct rte_ether_addr *mac, uint64_t now_ns);

/**
 * Visit entries of both families that need a request now (due for a
 * refresh), expire those that stayed silent, and evict those unresolved
 * and silent for DP_NEIGH_EVICT_NS (no answer, and no packet asked for
 * them: dp_neigh_resolve()). Static entries stay. Main lcore, about
 * every 100 ms.
 * @param send called with each IP to ask for and the MAC to unicast to.
 * @return the number of entries evicted.
 */
uint32_t dp_neigh_age(struct dp_neigh *t, uint64_t now_ns, dp_neigh_send_fn *send,
		      void *arg);

/**
 * Request resolution of ip (family INET or INET6; port ignored) now,
 * unless it is resolved or was asked for less than DP_NEIGH_RETRY_NS ago.
 * Main lcore.
 */
void dp_neigh_resolve(struct dp_neigh *t, const struct rtpb_addr *ip,
		      uint64_t now_ns, dp_neigh_send_fn *send, void *arg);

/**
 * Ask again, now, for every entry of both families that was asked for
 * and is still unresolved (its probes start over): the requests an HA
 * standby held back (dp_ha.h) go out as it becomes active. Static and
 * resolved entries are left alone. Main lcore.
 * @return the number of entries asked for.
 */
uint32_t dp_neigh_retry_all(struct dp_neigh *t, uint64_t now_ns,
			    dp_neigh_send_fn *send, void *arg);

#endif /* DP_NEIGH_H */
