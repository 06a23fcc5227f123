/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pkt_slow.c: fuzz_pkt's ARP and NDP (dataplane/dp_arp.c,
 * dp_nd.c, dp_neigh.c), run as the main lcore runs them on what the
 * workers pass up.
 *
 * dp_ctx is laid out here as tests/test_dp_nd.c does, without EAL: relay
 * addresses 192.0.2.1/24 and 2001:db8:a::1/64, the main lcore's counters
 * in a buffer shaped like the shared memory, sp_tx a ring in plain memory
 * (rte_ring_init()), the neighbour table unseeded. The handlers consume
 * the mbuf (a reply queued on sp_tx, or freed): the frame is given with a
 * reference count of 2, so rte_pktmbuf_free() only drops it to 1 and no
 * mempool is needed; exactly one of the two must happen.
 *
 * Checked: a reply (ARP reply, Neighbor Advertisement) parses, is from
 * the relay's MAC for a relay address, and an NA passes dp_nd_check()
 * (hop limit 255, ICMPv6 checksum); a neighbour whose MAC changed got
 * the frame's Ethernet source, never a multicast MAC; a neighbour
 * learnt is on a relay address's link and not a relay address (issue
 * 16 item 5). Not covered: dp_arp_request(), dp_nd_solicit(),
 * dp_neigh_age() and dp_neigh_resolve() (they allocate from dp_ctx.pool,
 * which needs EAL; they build frames from the relay's own state, not
 * from what the network sends).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_arp.h"
#include "dp_ctx.h"
#include "dp_nd.h"
#include "dp_neigh.h"
#include "fuzz_pkt.h"

struct dp_ctx dp_ctx;
atomic_bool dp_quit;

#define NS 1000000000ull
#define RING_SIZE 4

static const struct rte_ether_addr RELAY_MAC = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct rte_ether_addr KNOWN_MAC = {{0x02, 0, 0, 0, 0, 0x20}};
static const uint8_t KNOWN6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, [15] = 0x20};
#define KNOWN4 RTE_BE32(0xc0000214) /* 192.0.2.20 */

void
fuzz_slow_init(void)
{
	size_t off = RTE_ALIGN_CEIL(sizeof(struct rtpb_shm_hdr), 64);
	size_t sz = RTE_ALIGN_CEIL(off + sizeof(struct rtpb_lcore_stats), 64);
	struct rtpb_shm_hdr *shm = aligned_alloc(64, sz);
	ssize_t rsz = rte_ring_get_memsize(RING_SIZE);
	struct rtpb_addr a;

	FUZZ_CHECK(shm != NULL && rsz > 0, "slow path setup");
	memset(shm, 0, sz);
	shm->off_lcore_stats = off;
	dp_ctx.shm = shm;
	dp_ctx.n_workers = 0;
	dp_ctx.mac = RELAY_MAC;
	dp_ctx.mtu = 1500;
	dp_ctx.neigh = calloc(1, sizeof(*dp_ctx.neigh));
	dp_ctx.sp_tx = aligned_alloc(RTE_CACHE_LINE_SIZE,
				     RTE_ALIGN_CEIL((size_t)rsz, RTE_CACHE_LINE_SIZE));
	FUZZ_CHECK(dp_ctx.neigh != NULL && dp_ctx.sp_tx != NULL &&
		   rte_ring_init(dp_ctx.sp_tx, "fuzz_sp_tx", RING_SIZE,
				 RING_F_SP_ENQ | RING_F_SC_DEQ) == 0, "slow path setup");
	fuzz_relay_addr(RTPB_AF_INET, 0, &a);
	FUZZ_CHECK(dp_addr_add(&a, 24) == 0, "dp_addr_add");
	fuzz_relay_addr(RTPB_AF_INET6, 0, &a);
	FUZZ_CHECK(dp_addr_add(&a, 64) == 1, "dp_addr_add");
}

/* The neighbour entries one frame may have written. */
struct touched {
	int slot4[2], slot6[2]; /* the known one, the sender */
	uint32_t ip4[2];
	const uint8_t *ip6[2];
};

static void
neigh_prepare(uint8_t sel, uint64_t now_ns)
{
	int s4 = dp_neigh_insert(dp_ctx.neigh, KNOWN4);
	int s6 = dp_neigh6_insert(dp_ctx.neigh, KNOWN6);

	FUZZ_CHECK(s4 >= 0 && s6 >= 0, "known neighbours");
	if (sel & 1) {
		dp_neigh_confirm(dp_ctx.neigh, s4, &KNOWN_MAC, now_ns - NS);
		dp_neigh6_confirm(dp_ctx.neigh, s6, &KNOWN_MAC, now_ns - NS);
	}
}

/* A neighbour's MAC now, or 00:..:00 if none. */
static struct rte_ether_addr
neigh_mac(int slot, int v6)
{
	struct rte_ether_addr mac;

	memset(&mac, 0, sizeof(mac));
	if (slot >= 0)
		dp_neigh_state_mac(v6 ? &dp_ctx.neigh->e6[slot].st :
				   &dp_ctx.neigh->e[slot].st, &mac);
	return mac;
}

static int
onlink(const struct touched *t, int i, int v6)
{
	if (v6)
		return dp_addr_onlink6(1, t->ip6[i]) && dp_addr6_index(t->ip6[i]) < 0;
	return dp_addr_onlink4(0, t->ip4[i]) && dp_addr_index(t->ip4[i]) < 0 &&
	       (t->ip4[i] | dp_ctx.addrs[0].mask4) != UINT32_MAX;
}

/* What the table holds after the frame (eth_src: its Ethernet source),
 * then the table emptied. */
static void
neigh_check_clear(struct touched *t, uint8_t sel, const struct rte_ether_addr *eth_src)
{
	struct rte_ether_addr mac, before;
	int i, v6;

	memset(&before, 0, sizeof(before));
	if (sel & 1)
		before = KNOWN_MAC;

	for (i = 0; i < 2; i++) {
		t->slot4[i] = t->ip4[i] != 0 ? dp_neigh_find(dp_ctx.neigh, t->ip4[i]) : -1;
		t->slot6[i] = t->ip6[i] != NULL ? dp_neigh6_find(dp_ctx.neigh, t->ip6[i]) : -1;
	}
	for (v6 = 0; v6 < 2; v6++) {
		for (i = 0; i < 2; i++) {
			int slot = v6 ? t->slot6[i] : t->slot4[i];

			if (slot < 0 || (i == 1 && slot == (v6 ? t->slot6[0] : t->slot4[0])))
				continue;
			FUZZ_CHECK(i == 0 || onlink(t, i, v6), "an off-link neighbour learnt");
			mac = neigh_mac(slot, v6);
			if (i == 0 && rte_is_same_ether_addr(&mac, &before))
				continue;
			FUZZ_CHECK(rte_is_zero_ether_addr(&mac) ||
				   (rte_is_same_ether_addr(&mac, eth_src) &&
				    !rte_is_multicast_ether_addr(&mac)),
				   "%s neighbour (IPv%d) got %02x:%02x:%02x:%02x:%02x:%02x from a "
				   "frame from %02x:%02x:%02x:%02x:%02x:%02x", i == 0 ? "a known" : "the sender's",
				   v6 ? 6 : 4, mac.addr_bytes[0], mac.addr_bytes[1], mac.addr_bytes[2],
				   mac.addr_bytes[3], mac.addr_bytes[4], mac.addr_bytes[5],
				   eth_src->addr_bytes[0], eth_src->addr_bytes[1], eth_src->addr_bytes[2],
				   eth_src->addr_bytes[3], eth_src->addr_bytes[4], eth_src->addr_bytes[5]);
		}
	}
	for (i = 0; i < 2; i++) {
		if (t->slot4[i] >= 0)
			memset(&dp_ctx.neigh->e[t->slot4[i]], 0, sizeof(dp_ctx.neigh->e[0]));
		if (t->slot6[i] >= 0)
			memset(&dp_ctx.neigh->e6[t->slot6[i]], 0, sizeof(dp_ctx.neigh->e6[0]));
	}
}

/* The reply the handler queued, if any (m itself, refcount 2). */
static int
replied(struct rte_mbuf *m)
{
	void *r = NULL;
	int queued = rte_ring_dequeue(dp_ctx.sp_tx, &r) == 0;

	FUZZ_CHECK(rte_ring_count(dp_ctx.sp_tx) == 0 && (!queued || r == m),
		   "sp_tx holds something else");
	FUZZ_CHECK(queued == (rte_mbuf_refcnt_read(m) == 2),
		   queued ? "frame queued and freed" : "frame neither queued nor freed");
	return queued;
}

static void
check_arp_reply(struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_arp_hdr *arp;
	struct dp_pkt_meta pm;

	m->ol_flags = 0;
	FUZZ_CHECK(dp_parse_pkt(m, &pm) == DP_PKT_ARP, "ARP reply does not parse");
	arp = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, pm.l3_off);
	FUZZ_CHECK(arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY) &&
		   rte_is_same_ether_addr(&arp->arp_data.arp_sha, &RELAY_MAC) &&
		   rte_is_same_ether_addr(&eth->src_addr, &RELAY_MAC) &&
		   dp_addr_index(arp->arp_data.arp_sip) >= 0, "ARP reply");
}

static void
check_na(struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	struct dp_pkt_meta pm;
	struct dp_nd_msg na;
	const uint8_t *src;

	m->ol_flags = 0;
	FUZZ_CHECK(dp_parse_pkt(m, &pm) == DP_PKT_ND, "NA does not parse");
	FUZZ_CHECK(dp_nd_check(m, &pm, &na) == 0 && na.type == DP_ICMP6_NA &&
		   na.lla != NULL && rte_is_same_ether_addr(na.lla, &RELAY_MAC),
		   "NA invalid (dp_nd_check()) or without the relay's TLLA");
	src = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm.l3_off + 8);
	FUZZ_CHECK(dp_addr6_index(na.target) >= 0 && memcmp(src, na.target, 16) == 0 &&
		   rte_pktmbuf_data_len(m) == pm.l3_off + 40u + DP_ND_LEN_WITH_LLA &&
		   rte_is_same_ether_addr(&eth->src_addr, &RELAY_MAC), "NA fields");
}

void
fuzz_slow_frame(struct rte_mbuf *m, const struct dp_pkt_meta *pm, uint8_t sel,
		uint64_t now_ns)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	struct rte_ether_addr eth_src = eth->src_addr;
	struct touched t = {.ip4 = {KNOWN4, 0}, .ip6 = {KNOWN6, NULL}};
	const struct rte_arp_hdr *arp;

	/* what the worker keeps off the slow path */
	if (pm->kind == DP_PKT_ND && !dp_nd_for_relay(pm->dst.ip))
		return;
	neigh_prepare(sel, now_ns);
	rte_mbuf_refcnt_set(m, 2);
	if (pm->kind == DP_PKT_ARP) {
		arp = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, pm->l3_off);
		t.ip4[1] = arp->arp_data.arp_sip;
		if (t.ip4[1] == DP_NEIGH_GONE)
			t.ip4[1] = 0;
		dp_arp_input(m, pm->l3_off, now_ns);
		if (replied(m))
			check_arp_reply(m);
	} else {
		t.ip6[1] = pm->src.ip;
		dp_nd_input(m, pm, now_ns);
		if (replied(m))
			check_na(m);
	}
	neigh_check_clear(&t, sel, &eth_src);
}
