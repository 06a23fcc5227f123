/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_nd.c: IPv6 Neighbor Discovery (RFC 4861) and the IPv6
 * neighbour cache. Neighbor Solicitations go through dp_nd_input() as the
 * main lcore runs it; the Advertisements it queues on sp_tx are checked
 * field by field, their ICMPv6 checksum with an RFC 1071 sum written here
 * (not DPDK's). Invalid messages (§7.1.1, §7.1.2) are dropped and
 * counted. Solicitations for next hops (dp_nd_solicit()), learning from
 * Advertisements and the cache's resolve/refresh/expiry cycle complete
 * it. EAL in memory, no devices: dp_ctx is laid out here as dp_main.c
 * does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_arp.h"
#include "dp_ctx.h"
#include "dp_ha.h"
#include "dp_nd.h"
#include "dp_neigh.h"
#include "dp_nkeep.h"
#include "dp_parse.h"
#include "test_eal.h"

struct dp_ctx dp_ctx;
atomic_bool dp_quit;
int dp_logtype = RTE_LOGTYPE_USER1; /* dp_ha.c logs; dp_main.c registers it */

static struct rtpb_lcore_stats *st; /* the "main lcore" counters */
static struct rtpb_shm_hdr *shm; /* the lcore counters' home */

/* Relay 2001:db8:a::1/64 (and 192.0.2.1/24); phone 2001:db8:a::10. */
static const uint8_t RELAY6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, [15] = 0x01};
static const uint8_t RELAY6B[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0c, [15] = 0x01};
static const uint8_t PHONE6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, [15] = 0x10};
static const uint8_t OTHER6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, [15] = 0x77};
static const uint8_t GW_LL[16] = {0xfe, 0x80, [15] = 0x01};
static const uint8_t UNSPEC[16];
static const uint8_t ALL_NODES[16] = {0xff, 0x02, [15] = 0x01};
static const struct rte_ether_addr RELAY_MAC = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct rte_ether_addr PHONE_MAC = {{0x02, 0, 0, 0, 0, 0x10}};
static const struct rte_ether_addr OTHER_MAC = {{0x02, 0, 0, 0, 0, 0x77}};

/* RFC 1071 sum over the IPv6 pseudo-header (RFC 8200 §8.1) and the
 * ICMPv6 message: 0xffff when the checksum is right. */
static uint16_t
icmp6_sum(const struct rte_ipv6_hdr *ip6)
{
	const uint8_t *l4 = (const uint8_t *)(ip6 + 1);
	uint32_t len = rte_be_to_cpu_16(ip6->payload_len), sum = 0, i;

	for (i = 0; i < 16; i += 2)
		sum += (uint32_t)(ip6->src_addr[i] << 8 | ip6->src_addr[i + 1]) +
		       (uint32_t)(ip6->dst_addr[i] << 8 | ip6->dst_addr[i + 1]);
	sum += len + IPPROTO_ICMPV6;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(l4[i] << 8 | l4[i + 1]);
	if (len & 1)
		sum += (uint32_t)l4[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

struct ns_spec {
	uint8_t type;                    /* DP_ICMP6_NS or DP_ICMP6_NA */
	const uint8_t *src, *dst, *target;
	const struct rte_ether_addr *eth_src;
	const struct rte_ether_addr *lla; /* SLLA (NS) / TLLA (NA) or NULL */
	uint8_t flags;                   /* NA flags */
	uint8_t hop, code;
	int n_vlan;
	int bad_cksum, zero_opt_len;
};

static void
ns_default(struct ns_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->type = DP_ICMP6_NS;
	s->src = PHONE6;
	s->dst = NULL; /* solicited-node of target */
	s->target = RELAY6;
	s->eth_src = &PHONE_MAC;
	s->lla = &PHONE_MAC;
	s->hop = 255;
}

static struct rte_mbuf *
build_nd(const struct ns_spec *s)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp_ctx.pool);
	uint16_t off = (uint16_t)(14 + 4 * s->n_vlan);
	uint16_t icmp_len = (uint16_t)(24 + (s->lla != NULL || s->zero_opt_len ? 8 : 0));
	uint8_t *p, *icmp;
	struct rte_ipv6_hdr *ip6;
	int i;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(off + 40 + icmp_len));
	memset(p, 0, off + 40 + icmp_len);
	ip6 = (struct rte_ipv6_hdr *)(p + off);
	if (s->dst != NULL)
		memcpy(ip6->dst_addr, s->dst, 16);
	else
		dp_nd_solicited_node(s->target, ip6->dst_addr);
	/* Multicast MAC per RFC 2464 §7, or the relay's. */
	if (ip6->dst_addr[0] == 0xff) {
		p[0] = 0x33;
		p[1] = 0x33;
		memcpy(p + 2, ip6->dst_addr + 12, 4);
	} else {
		memcpy(p, &RELAY_MAC, 6);
	}
	memcpy(p + 6, s->eth_src, 6);
	for (i = 0; i <= s->n_vlan; i++) {
		*(rte_be16_t *)(p + 12 + 4 * i) = rte_cpu_to_be_16(i == s->n_vlan ?
			RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_VLAN);
		if (i < s->n_vlan)
			*(rte_be16_t *)(p + 14 + 4 * i) = RTE_BE16(42);
	}
	ip6->vtc_flow = RTE_BE32(6u << 28);
	ip6->payload_len = rte_cpu_to_be_16(icmp_len);
	ip6->proto = IPPROTO_ICMPV6;
	ip6->hop_limits = s->hop;
	memcpy(ip6->src_addr, s->src, 16);
	icmp = (uint8_t *)(ip6 + 1);
	icmp[0] = s->type;
	icmp[1] = s->code;
	icmp[4] = s->flags;
	memcpy(icmp + 8, s->target, 16);
	if (s->lla != NULL) {
		icmp[24] = s->type == DP_ICMP6_NS ? DP_ND_OPT_SLLA : DP_ND_OPT_TLLA;
		icmp[25] = s->zero_opt_len ? 0 : 1;
		memcpy(icmp + 26, s->lla, 6);
	} else if (s->zero_opt_len) {
		icmp[24] = 14; /* an unknown option, length 0 */
	}
	*(rte_be16_t *)(icmp + 2) = rte_ipv6_udptcp_cksum(ip6, icmp);
	if (s->bad_cksum)
		icmp[2] ^= 0x40;
	return m;
}

/* Feed a frame to the main lcore's NDP input, as the slow path does. */
static void
input(struct rte_mbuf *m)
{
	struct dp_pkt_meta pm;

	assert_int_equal(dp_parse_pkt(m, &pm), DP_PKT_ND);
	dp_nd_input(m, &pm, 1000);
}

/* The one frame the main lcore queued, or NULL. */
static struct rte_mbuf *
sent(void)
{
	struct rte_mbuf *m = NULL;

	if (rte_ring_dequeue(dp_ctx.sp_tx, (void **)&m) != 0)
		return NULL;
	assert_int_equal(rte_ring_count(dp_ctx.sp_tx), 0);
	return m;
}

static void
reset(void **state)
{
	(void)state;
	memset(st, 0, sizeof(*st));
	memset(dp_ctx.neigh, 0, sizeof(*dp_ctx.neigh));
}

/* Check an NA built by the relay for target, to ip_dst/eth_dst. */
static void
check_na(struct rte_mbuf *m, int n_vlan, const uint8_t *ip_dst,
	 const struct rte_ether_addr *eth_dst, uint8_t flags)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)(p + 14 + 4 * n_vlan);
	const uint8_t *icmp = (const uint8_t *)(ip6 + 1);
	struct dp_pkt_meta pm;
	int i;

	assert_int_equal(rte_pktmbuf_data_len(m), 14 + 4 * n_vlan + 40 + 32);
	assert_memory_equal(p, eth_dst, 6);
	assert_memory_equal(p + 6, &RELAY_MAC, 6);
	for (i = 0; i < n_vlan; i++)
		assert_int_equal(*(const rte_be16_t *)(p + 14 + 4 * i), RTE_BE16(42));
	assert_int_equal(*(const rte_be16_t *)(p + 12 + 4 * n_vlan), RTE_BE16(RTE_ETHER_TYPE_IPV6));
	assert_int_equal(rte_be_to_cpu_32(ip6->vtc_flow) >> 28, 6);
	assert_int_equal(rte_be_to_cpu_16(ip6->payload_len), 32);
	assert_int_equal(ip6->proto, IPPROTO_ICMPV6);
	assert_int_equal(ip6->hop_limits, 255);
	assert_memory_equal(ip6->src_addr, RELAY6, 16);
	assert_memory_equal(ip6->dst_addr, ip_dst, 16);
	assert_int_equal(icmp[0], DP_ICMP6_NA);
	assert_int_equal(icmp[1], 0);
	assert_int_equal(icmp[4], flags);
	assert_int_equal(icmp[5] | icmp[6] | icmp[7], 0);
	assert_memory_equal(icmp + 8, RELAY6, 16);
	assert_int_equal(icmp[24], DP_ND_OPT_TLLA);
	assert_int_equal(icmp[25], 1);
	assert_memory_equal(icmp + 26, &RELAY_MAC, 6);
	assert_int_equal(icmp6_sum(ip6), 0xffff);
	/* And it is a valid NA for a receiver running the same checks. */
	assert_int_equal(dp_parse_pkt(m, &pm), DP_PKT_ND);
}

/* Send the NS of s; the relay answers it with the NA check_na() expects. */
static void
expect_na(const struct ns_spec *s, const uint8_t *ip_dst, const struct rte_ether_addr *eth_dst,
	  uint8_t flags)
{
	struct rte_mbuf *m;

	input(build_nd(s));
	m = sent();
	assert_non_null(m);
	check_na(m, s->n_vlan, ip_dst, eth_dst, flags);
	rte_pktmbuf_free(m);
}

static void
test_ns_multicast_answered(void **state)
{
	struct ns_spec s;
	struct rte_ether_addr mac;
	int slot, vlan;

	for (vlan = 0; vlan <= 1; vlan++) {
		reset(state);
		ns_default(&s);
		s.n_vlan = vlan;
		/* Solicited + Override, to the solicitor at its SLLA. */
		expect_na(&s, PHONE6, &PHONE_MAC, DP_ND_NA_F_SOLICITED | DP_ND_NA_F_OVERRIDE);
		assert_int_equal(st->nd_replies, 1);
		assert_int_equal(st->drops[RTPB_DROP_ND_OTHER], 0);
		/* §7.2.3: the solicitor's MAC is learnt. */
		slot = dp_neigh6_find(dp_ctx.neigh, PHONE6);
		assert_true(slot >= 0);
		assert_true(dp_neigh6_mac(dp_ctx.neigh, slot, PHONE6, &mac));
		assert_memory_equal(&mac, &PHONE_MAC, 6);
	}
}

static void
test_ns_unicast_without_slla(void **state)
{
	struct ns_spec s;

	reset(state);
	ns_default(&s);
	s.dst = RELAY6;
	s.lla = NULL;
	s.eth_src = &OTHER_MAC;
	/* No SLLA: answered to the frame's source MAC, nothing learnt. */
	expect_na(&s, PHONE6, &OTHER_MAC, DP_ND_NA_F_SOLICITED | DP_ND_NA_F_OVERRIDE);
	assert_int_equal(dp_neigh6_find(dp_ctx.neigh, PHONE6), -1);
}

static void
test_ns_dad(void **state)
{
	static const struct rte_ether_addr all_nodes_mac = {{0x33, 0x33, 0, 0, 0, 1}};
	struct ns_spec s;

	reset(state);
	ns_default(&s);
	s.src = UNSPEC;
	s.lla = NULL;
	/* §7.2.4: to all-nodes, without the Solicited flag. */
	expect_na(&s, ALL_NODES, &all_nodes_mac, DP_ND_NA_F_OVERRIDE);
	assert_int_equal(st->nd_replies, 1);
	assert_int_equal(dp_neigh6_find(dp_ctx.neigh, UNSPEC), -1);
}

static void
test_invalid_dropped(void **state)
{
	struct ns_spec s;
	unsigned int i, n = 0;

	for (i = 0; i < 9; i++) {
		reset(state);
		ns_default(&s);
		switch (i) {
		case 0: s.hop = 254; break;            /* came through a router */
		case 1: s.bad_cksum = 1; break;
		case 2: s.code = 1; break;
		case 3: s.target = ALL_NODES; s.dst = RELAY6; break; /* multicast target */
		case 4: s.zero_opt_len = 1; break;     /* option of length 0 */
		case 5: s.src = UNSPEC; break;         /* DAD with an SLLA */
		case 6: s.src = UNSPEC; s.lla = NULL; s.dst = RELAY6; break; /* DAD unicast */
		case 7: s.target = OTHER6; break;      /* another host's NS */
		case 8:                                /* solicited NA to multicast */
			s.type = DP_ICMP6_NA;
			s.dst = ALL_NODES;
			s.target = PHONE6;
			s.flags = DP_ND_NA_F_SOLICITED;
			break;
		}
		input(build_nd(&s));
		assert_null(sent());
		assert_int_equal(st->nd_replies, 0);
		assert_int_equal(st->drops[RTPB_DROP_ND_OTHER], 1);
		assert_int_equal(dp_neigh6_find(dp_ctx.neigh, PHONE6), -1);
		n++;
	}
	assert_int_equal(n, 9);
}

/* A dp_neigh_send_fn that records what it was asked. */
static struct {
	unsigned int n;
	struct rtpb_addr ip;
	int unicast;
} asked;

static void
record_send(const struct rtpb_addr *ip, const struct rte_ether_addr *mac, void *arg)
{
	(void)arg;
	asked.n++;
	asked.ip = *ip;
	asked.unicast = mac != NULL;
	if (ip->family == RTPB_AF_INET6)
		dp_nd_solicit(ip->ip, mac);
}

static void
check_ns(struct rte_mbuf *m, const uint8_t *src, const uint8_t *target, int unicast)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)(p + 14);
	const uint8_t *icmp = (const uint8_t *)(ip6 + 1);
	uint8_t snm[16] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};

	memcpy(snm + 13, target + 13, 3);
	assert_int_equal(rte_pktmbuf_data_len(m), 14 + 40 + 32);
	if (unicast) {
		assert_memory_equal(p, &PHONE_MAC, 6);
		assert_memory_equal(ip6->dst_addr, target, 16);
	} else {
		/* RFC 4861 §7.2.2 / RFC 2464 §7: solicited-node multicast. */
		assert_int_equal(p[0], 0x33);
		assert_int_equal(p[1], 0x33);
		assert_memory_equal(p + 2, snm + 12, 4);
		assert_memory_equal(ip6->dst_addr, snm, 16);
	}
	assert_memory_equal(p + 6, &RELAY_MAC, 6);
	assert_int_equal(*(const rte_be16_t *)(p + 12), RTE_BE16(RTE_ETHER_TYPE_IPV6));
	assert_int_equal(ip6->hop_limits, 255);
	assert_int_equal(ip6->proto, IPPROTO_ICMPV6);
	assert_memory_equal(ip6->src_addr, src, 16);
	assert_int_equal(icmp[0], DP_ICMP6_NS);
	assert_int_equal(icmp[1], 0);
	assert_memory_equal(icmp + 8, target, 16);
	assert_int_equal(icmp[24], DP_ND_OPT_SLLA);
	assert_int_equal(icmp[25], 1);
	assert_memory_equal(icmp + 26, &RELAY_MAC, 6);
	assert_int_equal(icmp6_sum(ip6), 0xffff);
}

/* dp_nkeep_ask()'s requests: counted, all broadcast. */
static unsigned int nkeep_asked;

static void
nkeep_send(const struct rtpb_addr *ip, const struct rte_ether_addr *mac, void *arg)
{
	(void)arg;
	(void)ip;
	assert_null(mac);
	nkeep_asked++;
}

/* Free every frame the slow path was given to send. */
static void
nkeep_drain(void)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(dp_ctx.sp_tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

/* A new dataplane's table (another seed) from the file (dp_nkeep.h):
 * @return the neighbours restored (nkeep_refused: those refused). */
static uint32_t nkeep_refused;

static uint32_t
nkeep_new_table(const char *path, uint32_t seed, uint64_t now)
{
	char err[256];

	dp_nkeep_close();
	memset(dp_ctx.neigh, 0, sizeof(*dp_ctx.neigh));
	dp_ctx.neigh->seed = seed;
	if (dp_nkeep_open(path, err, sizeof(err)) != 0)
		fail_msg("dp_nkeep_open: %s", err);
	return dp_nkeep_restore(dp_ctx.neigh, now, &nkeep_refused);
}

/*
 * The neighbours kept across a restart (issue 16 item 2): one learnt
 * from a Neighbor Solicitation and one confirmed by ARP go to the file;
 * a new table (another seed) restored from it has both MACs at once,
 * STALE (asked again, broadcast; probed by dp_neigh_age() if silent);
 * one that stays silent to the probes is given up and forgotten by the
 * file too; the other one is restored again from the rewritten file.
 */
static void
test_neigh_kept(void **state)
{
	char path[] = "/tmp/test_dp_nd_nkeep_XXXXXX";
	const uint32_t ip4 = rte_cpu_to_be_32(0xc000020au); /* 192.0.2.10; RTE_IPV4(192, ...) shifts an int: UB */
	const struct rte_ether_addr mac4 = {{0x02, 0, 0, 0, 0, 0x0a}};
	struct rte_ether_addr mac;
	struct ns_spec s;
	uint64_t t = 50000000000ull;
	int fd = mkstemp(path), slot;

	assert_true(fd >= 0);
	close(fd);
	reset(state);
	/* an empty file (another size): started again, nothing restored */
	assert_int_equal(nkeep_new_table(path, 7, t), 0);
	ns_default(&s);
	expect_na(&s, PHONE6, &PHONE_MAC, DP_ND_NA_F_SOLICITED | DP_ND_NA_F_OVERRIDE);
	slot = dp_neigh_insert(dp_ctx.neigh, ip4);
	assert_true(slot >= 0);
	dp_neigh_confirm(dp_ctx.neigh, slot, &mac4, t);
	/* the dataplane dies; a new one, another seed */
	assert_int_equal(nkeep_new_table(path, 0x9e3779b9u, t + 1000), 2);
	slot = dp_neigh6_find(dp_ctx.neigh, PHONE6);
	assert_true(slot >= 0);
	assert_true(dp_neigh6_mac(dp_ctx.neigh, slot, PHONE6, &mac));
	assert_memory_equal(&mac, &PHONE_MAC, 6);
	slot = dp_neigh_find(dp_ctx.neigh, ip4);
	assert_true(slot >= 0);
	assert_true(dp_neigh_mac(dp_ctx.neigh, slot, ip4, &mac));
	assert_memory_equal(&mac, &mac4, 6);
	nkeep_asked = 0;
	dp_nkeep_ask(nkeep_send, NULL);
	assert_int_equal(nkeep_asked, 2);
	/* STALE: the IPv4 one silent for the probes, its MAC is no longer
	 * used; the IPv6 one answers (confirmed) */
	dp_neigh6_confirm(dp_ctx.neigh, dp_neigh6_find(dp_ctx.neigh, PHONE6),
			  &PHONE_MAC, t + 2000);
	memset(&asked, 0, sizeof(asked));
	for (int i = 1; i <= 4; i++)
		dp_neigh_age(dp_ctx.neigh, t + 1000 + (uint64_t)i * DP_NEIGH_RETRY_NS,
			     record_send, NULL);
	nkeep_drain();
	assert_true(asked.n >= 2);
	assert_false(dp_neigh_mac(dp_ctx.neigh, slot, ip4, &mac));
	/* a third dataplane, from the rewritten file: the neighbour given
	 * up is not kept any more, the other one is */
	assert_int_equal(nkeep_new_table(path, 3, t), 1);
	assert_int_equal(dp_neigh_find(dp_ctx.neigh, ip4), -1);
	slot = dp_neigh6_find(dp_ctx.neigh, PHONE6);
	assert_true(dp_neigh6_mac(dp_ctx.neigh, slot, PHONE6, &mac));
	dp_nkeep_close();
	unlink(path);
	reset(state);
}

/* A MAC as the neighbour file holds it: bytes 0-5 | DP_NEIGH_VALID. */
static uint64_t
nkeep_mac(uint8_t b0, uint8_t b5)
{
	const uint8_t b[8] = {b0, 0, 0, 0, 0, b5};
	uint64_t v;

	memcpy(&v, b, 8);
	return v | DP_NEIGH_VALID;
}

/*
 * The neighbour file restores only what ARP/NDP would have learnt
 * (a file written under another --addr, or damaged): with the relay on
 * 2001:db8:a::1/64, 192.0.2.1/24 and 2001:db8:c::1/64, the off-link, the
 * subnet broadcast, a relay address, multicast and unspecified IPs and
 * multicast, zero or invalid MACs are refused and counted, and dropped
 * from the rewritten file. Then random records (a damaged file): every
 * record restored or refused, none twice, and what was restored comes
 * back from the rewritten file with nothing refused.
 */
static void
test_neigh_kept_refused(void **state)
{
	char path[] = "/tmp/test_dp_nd_nkeep_XXXXXX";
	static const uint8_t mcast6[16] = {0xff, 0x02, [15] = 0x01};
	static const uint8_t offlink6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 0x05};
	static const uint8_t ll6[16] = {0xfe, 0x80, [15] = 0x01};
	static const uint8_t zero6[16];
	const uint64_t good = nkeep_mac(0x02, 0x20), t = 50000000000ull;
	struct rte_ether_addr mac;
	uint32_t n, i, nonzero = 0, seed = 12345;
	int fd = mkstemp(path), slot;

	assert_true(fd >= 0);
	close(fd);
	reset(state);
	assert_int_equal(nkeep_new_table(path, 7, t), 0);
	/* IPv4 (network order): 192.0.2.20 good; then refused ones */
	dp_nkeep_put4(1, rte_cpu_to_be_32(0xc0000214u), good);
	dp_nkeep_put4(2, rte_cpu_to_be_32(0xcb007105u), good);  /* 203.0.113.5: off-link */
	dp_nkeep_put4(3, rte_cpu_to_be_32(0xc00002ffu), good);  /* subnet broadcast */
	dp_nkeep_put4(4, rte_cpu_to_be_32(0xc0000201u), good);  /* the relay address */
	dp_nkeep_put4(5, rte_cpu_to_be_32(0xc0000215u), nkeep_mac(0x01, 0x21)); /* multicast MAC */
	dp_nkeep_put4(6, rte_cpu_to_be_32(0xc0000216u), DP_NEIGH_VALID);        /* zero MAC */
	dp_nkeep_put4(7, rte_cpu_to_be_32(0xc0000217u), good & ~DP_NEIGH_VALID); /* not valid */
	dp_nkeep_put4(8, 0, good);                                               /* no IP */
	/* IPv6: the phone and a link-local router good; then refused ones */
	dp_nkeep_put6(1, PHONE6, good);
	dp_nkeep_put6(2, ll6, nkeep_mac(0x02, 0x01));
	dp_nkeep_put6(3, mcast6, good);
	dp_nkeep_put6(4, offlink6, good);
	dp_nkeep_put6(5, RELAY6B, good);
	dp_nkeep_put6(6, zero6, good);
	dp_nkeep_put6(7, PHONE6, nkeep_mac(0x33, 0x10));
	assert_int_equal(nkeep_new_table(path, 0x9e3779b9u, t), 3);
	assert_int_equal(nkeep_refused, 12);
	slot = dp_neigh_find(dp_ctx.neigh, rte_cpu_to_be_32(0xc0000214u));
	assert_true(slot >= 0);
	assert_true(dp_neigh_mac(dp_ctx.neigh, slot, rte_cpu_to_be_32(0xc0000214u), &mac));
	assert_int_equal(mac.addr_bytes[0], 0x02);
	assert_int_equal(mac.addr_bytes[5], 0x20);
	assert_int_equal(dp_neigh_find(dp_ctx.neigh, rte_cpu_to_be_32(0xcb007105u)), -1);
	assert_int_equal(dp_neigh_find(dp_ctx.neigh, rte_cpu_to_be_32(0xc0000215u)), -1);
	assert_int_equal(dp_neigh6_find(dp_ctx.neigh, mcast6), -1);
	assert_int_equal(dp_neigh6_find(dp_ctx.neigh, offlink6), -1);
	slot = dp_neigh6_find(dp_ctx.neigh, PHONE6);
	assert_true(slot >= 0 && dp_neigh6_mac(dp_ctx.neigh, slot, PHONE6, &mac));
	assert_int_equal(mac.addr_bytes[5], 0x20); /* the unicast record of the two */
	assert_true(dp_neigh6_find(dp_ctx.neigh, ll6) >= 0);
	/* the rewritten file holds the three only */
	assert_int_equal(nkeep_new_table(path, 3, t), 3);
	assert_int_equal(nkeep_refused, 0);
	dp_nkeep_ask(nkeep_send, NULL);
	nkeep_drain();

	/* a damaged file: random records in 256 slots of each family, from
	 * an empty file; distinct IPs near the relay's links (some on-link,
	 * some not), MACs with random I/G and valid bits */
	dp_nkeep_close();
	unlink(path);
	assert_int_equal(nkeep_new_table(path, 11, t), 0);
	for (i = 0; i < 256; i++) {
		uint8_t ip6[16];
		uint64_t m;
		uint32_t ip;

		seed = seed * 1103515245u + 12345u;
		/* 192.0.2.0/23: 192.0.3.x is off-link */
		ip = rte_cpu_to_be_32(0xc0000200u | i << 1 | (seed >> 28 & 1u));
		m = nkeep_mac((uint8_t)(seed >> 16), (uint8_t)i);
		if (seed & (1u << 30))
			m &= ~DP_NEIGH_VALID;
		dp_nkeep_put4(16 + i, ip, m);
		nonzero++;
		memcpy(ip6, (seed & 1u << 29) ? PHONE6 : RELAY6B, 16);
		ip6[15] = (uint8_t)i;
		ip6[4] = (uint8_t)((seed >> 12) & 0x01); /* 2001:db8:1xxx:: is off-link */
		seed = seed * 1103515245u + 12345u;
		dp_nkeep_put6(16 + i, ip6, nkeep_mac((uint8_t)(seed >> 16), (uint8_t)i));
		nonzero++;
	}
	n = nkeep_new_table(path, 0x1234u, t);
	/* every record restored or refused, once */
	assert_int_equal(n + nkeep_refused, nonzero);
	assert_true(n > 0 && nkeep_refused > 0);
	assert_int_equal(nkeep_new_table(path, 0x4321u, t), n);
	assert_int_equal(nkeep_refused, 0);
	dp_nkeep_ask(nkeep_send, NULL);
	nkeep_drain();
	dp_nkeep_close();
	unlink(path);
	reset(state);
}

static void
test_resolve_learn_refresh_expire(void **state)
{
	struct rtpb_addr phone;
	struct ns_spec s;
	struct rte_ether_addr mac;
	struct rte_mbuf *m;
	uint64_t t = 5000000000ull;
	int slot, i;

	reset(state);
	memset(&asked, 0, sizeof(asked));
	memset(&phone, 0, sizeof(phone));
	phone.family = RTPB_AF_INET6;
	memcpy(phone.ip, PHONE6, 16);

	/* A worker asked for the phone: one multicast NS. */
	dp_neigh_resolve(dp_ctx.neigh, &phone, t, record_send, NULL);
	assert_int_equal(asked.n, 1);
	assert_false(asked.unicast);
	m = sent();
	assert_non_null(m);
	check_ns(m, RELAY6, PHONE6, 0);
	rte_pktmbuf_free(m);
	assert_int_equal(st->nd_requests, 1);
	slot = dp_neigh6_find(dp_ctx.neigh, PHONE6);
	assert_true(slot >= 0);
	assert_false(dp_neigh6_mac(dp_ctx.neigh, slot, PHONE6, &mac));
	/* Asked again within a second: nothing sent. */
	dp_neigh_resolve(dp_ctx.neigh, &phone, t + 500000000ull, record_send, NULL);
	assert_int_equal(asked.n, 1);

	/* Its NA (solicited, TLLA) resolves it. */
	ns_default(&s);
	s.type = DP_ICMP6_NA;
	s.dst = RELAY6;
	s.target = PHONE6;
	s.flags = DP_ND_NA_F_SOLICITED | DP_ND_NA_F_OVERRIDE;
	input(build_nd(&s));
	assert_null(sent());
	assert_true(dp_neigh6_mac(dp_ctx.neigh, slot, PHONE6, &mac));
	assert_memory_equal(&mac, &PHONE_MAC, 6);
	assert_int_equal(st->drops[RTPB_DROP_ND_OTHER], 0);

	/* An NA without Override does not replace the MAC (§7.2.5)... */
	s.flags = DP_ND_NA_F_SOLICITED;
	s.lla = &OTHER_MAC;
	input(build_nd(&s));
	assert_true(dp_neigh6_mac(dp_ctx.neigh, slot, PHONE6, &mac));
	assert_memory_equal(&mac, &PHONE_MAC, 6);
	/* ...one with Override does; without TLLA the frame's source counts. */
	s.flags = DP_ND_NA_F_OVERRIDE;
	s.lla = NULL;
	s.eth_src = &OTHER_MAC;
	input(build_nd(&s));
	assert_true(dp_neigh6_mac(dp_ctx.neigh, slot, PHONE6, &mac));
	assert_memory_equal(&mac, &OTHER_MAC, 6);
	s.eth_src = &PHONE_MAC;
	s.lla = &PHONE_MAC;
	input(build_nd(&s));

	/* After REACHABLE: unicast probes to the known MAC, the MAC still
	 * used; after DP_NEIGH_PROBES silent ones it is invalid. The entry
	 * was confirmed at 1000 ns (input()'s clock). */
	t = 1000 + DP_NEIGH_REACHABLE_NS;
	for (i = 0; i < DP_NEIGH_PROBES; i++) {
		dp_neigh_age(dp_ctx.neigh, t, record_send, NULL);
		assert_int_equal(asked.n, 2 + (unsigned int)i);
		assert_true(asked.unicast);
		m = sent();
		assert_non_null(m);
		check_ns(m, RELAY6, PHONE6, 1);
		rte_pktmbuf_free(m);
		assert_true(dp_neigh6_mac(dp_ctx.neigh, slot, PHONE6, &mac));
		t += DP_NEIGH_RETRY_NS;
	}
	dp_neigh_age(dp_ctx.neigh, t, record_send, NULL);
	assert_false(dp_neigh6_mac(dp_ctx.neigh, slot, PHONE6, &mac));
	assert_null(sent());
	/* The slot stays (insert only); a new resolution reuses it. */
	dp_neigh_resolve(dp_ctx.neigh, &phone, t, record_send, NULL);
	assert_int_equal(dp_neigh6_find(dp_ctx.neigh, PHONE6), slot);
	rte_pktmbuf_free(sent());
}

static void
test_na_other(void **state)
{
	struct ns_spec s;

	/* An NA for a host we never asked about: nothing learnt. */
	reset(state);
	ns_default(&s);
	s.type = DP_ICMP6_NA;
	s.dst = ALL_NODES;
	s.target = OTHER6;
	s.flags = DP_ND_NA_F_OVERRIDE;
	input(build_nd(&s));
	assert_int_equal(dp_neigh6_find(dp_ctx.neigh, OTHER6), -1);
	assert_int_equal(st->drops[RTPB_DROP_ND_OTHER], 1);
	/* Another host claiming a relay address: dropped. */
	s.target = RELAY6;
	input(build_nd(&s));
	assert_int_equal(st->drops[RTPB_DROP_ND_OTHER], 2);
	assert_null(sent());
}

static void
test_solicit_source(void **state)
{
	struct rte_mbuf *m;
	static const uint8_t c_host[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0c, [15] = 0x42};

	/* Toward a link-local gateway: from the first IPv6 relay address. */
	reset(state);
	dp_nd_solicit(GW_LL, NULL);
	m = sent();
	assert_non_null(m);
	check_ns(m, RELAY6, GW_LL, 0);
	rte_pktmbuf_free(m);
	/* Toward a host of the second address's prefix: from that one. */
	dp_nd_solicit(c_host, NULL);
	m = sent();
	assert_non_null(m);
	check_ns(m, RELAY6B, c_host, 0);
	rte_pktmbuf_free(m);
	assert_int_equal(st->nd_requests, 2);
}

static void
test_for_relay(void **state)
{
	uint8_t snm[16];

	(void)state;
	dp_nd_solicited_node(RELAY6, snm);
	assert_true(dp_nd_for_relay(snm));
	dp_nd_solicited_node(RELAY6B, snm);
	assert_true(dp_nd_for_relay(snm));
	dp_nd_solicited_node(OTHER6, snm);
	assert_false(dp_nd_for_relay(snm));
	assert_true(dp_nd_for_relay(ALL_NODES));
	assert_true(dp_nd_for_relay(RELAY6));
	assert_false(dp_nd_for_relay(PHONE6));
}

static void
test_addr_table(void **state)
{
	struct rtpb_addr a;

	(void)state;
	/* dp_addr_add() as set up in main(): 0 = IPv6, 1 = IPv4, 2 = IPv6. */
	assert_int_equal(dp_ctx.n_addrs, 3);
	assert_int_equal(dp_addr6_index(RELAY6), 0);
	assert_int_equal(dp_addr_index(RTE_BE32(0xc0000201)), 1);
	assert_int_equal(dp_addr6_index(RELAY6B), 2);
	assert_int_equal(dp_addr_index(0), -1);
	assert_int_equal(dp_addr6_index(PHONE6), -1);
	assert_int_equal(dp_ctx.addrs[0].prefixlen, 64);
	assert_true(dp_addr_onlink6(0, PHONE6));
	assert_true(dp_addr_onlink6(0, GW_LL));    /* link-local: on-link */
	assert_false(dp_addr_onlink6(0, RELAY6B));
	assert_true(dp_addr_onlink4(1, RTE_BE32(0xc00002fe)));
	assert_false(dp_addr_onlink4(1, RTE_BE32(0xc6336414)));
	memset(&a, 0, sizeof(a));
	a.family = RTPB_AF_INET6;
	memcpy(a.ip, RELAY6, 16);
	assert_int_equal(dp_addr_find(&a), 0);
	assert_int_equal(dp_addr_add(&a, 64), -EEXIST);
	a.ip[15] = 9;
	assert_int_equal(dp_addr_add(&a, 129), -EINVAL);
	assert_int_equal(dp_ctx.addrs[1].sock.family, RTPB_AF_INET);
	assert_int_equal(rtpb_addr_v4(&dp_ctx.addrs[1].sock), RTE_BE32(0xc0000201));
	assert_int_equal(dp_ctx.addrs[1].sock.port, 0);
	assert_memory_equal(dp_ctx.addrs[2].sock.ip, RELAY6B, 16);
}

/* Every slot of the address table, found by the all-at-once compare. */
static void
test_addr_table_full(void **state)
{
	static struct dp_ctx saved;
	struct rtpb_addr a;
	uint32_t i;

	(void)state;
	saved = dp_ctx;
	for (i = dp_ctx.n_addrs; i < RTPB_MAX_ADDRS; i++) {
		rtpb_addr_set_v4(&a, rte_cpu_to_be_32(0xcb007100u + i), 0); /* 203.0.113.x */
		assert_int_equal(dp_addr_add(&a, 24), (int)i);
	}
	rtpb_addr_set_v4(&a, RTE_BE32(0xcb0071feu), 0);
	assert_int_equal(dp_addr_add(&a, 24), -ENOSPC);
	assert_int_equal(dp_addr_index(RTE_BE32(0xc0000201)), 1);
	for (i = 3; i < RTPB_MAX_ADDRS; i++)
		assert_int_equal(dp_addr_index(rte_cpu_to_be_32(0xcb007100u + i)), (int)i);
	assert_int_equal(dp_addr_index(RTE_BE32(0xcb0071feu)), -1);
	assert_int_equal(dp_addr_index(0), -1);
	/* a slot past n_addr4 never matches, whatever it holds */
	dp_ctx = saved;
	dp_ctx.addr4_ip[dp_ctx.n_addr4 + 1] = rte_cpu_to_be_32(0xcb007103u);
	assert_int_equal(dp_addr_index(rte_cpu_to_be_32(0xcb007103u)), -1);
	dp_ctx = saved;
}

static void
test_neigh6_many_hosts(void **state)
{
	uint8_t ip[16];
	unsigned int i, n = 0;
	int slot;

	/* 4000 hosts of one /64, numbered as a DHCPv6 server or an
	 * operator would (::1, ::2, ...), and 4000 SLAAC-like ones: every
	 * one fits (the hash spreads the low bits), and is found again. */
	reset(state);
	for (i = 0; i < 8000; i++) {
		memcpy(ip, PHONE6, 16);
		if (i < 4000) {
			ip[14] = (uint8_t)(i >> 8);
			ip[15] = (uint8_t)i;
		} else {
			ip[8] = 0x02;
			ip[11] = 0xff;
			ip[12] = 0xfe;
			ip[13] = (uint8_t)(i * 7);
			ip[14] = (uint8_t)(i >> 3);
			ip[15] = (uint8_t)(i * 13);
		}
		slot = dp_neigh6_insert(dp_ctx.neigh, ip);
		assert_true(slot >= 0);
		assert_int_equal(dp_neigh6_find(dp_ctx.neigh, ip), slot);
		n++;
	}
	assert_int_equal(n, 8000);
	reset(state);
}

/* A dp_neigh_send_fn that only counts (no frame built). */
static unsigned int n_asked;

static void
count_send(const struct rtpb_addr *ip, const struct rte_ether_addr *mac, void *arg)
{
	(void)ip;
	(void)mac;
	(void)arg;
	n_asked++;
}

/* Age the table every 100 ms from t0 to t1 (ns), as the main lcore does.
 * @return the entries evicted. */
static uint32_t
age_until(uint64_t t0, uint64_t t1)
{
	uint32_t gone = 0;

	for (uint64_t t = t0; t <= t1; t += 100000000ull)
		gone += dp_neigh_age(dp_ctx.neigh, t, count_send, NULL);
	return gone;
}

#define SEC 1000000000ull

/* IPv4: an unresolved host is evicted once silent for
 * DP_NEIGH_EVICT_NS, an answering one only after it stops answering, a
 * static one never. (No two hosts of the documentation networks share a
 * hash position: tombstones in a probe chain are tested with IPv6.) */
static void
test_neigh_evict_v4(void **state)
{
	struct rte_ether_addr mac, other = {{0x02, 0, 0, 0, 0, 0x77}};
	uint32_t a = rte_cpu_to_be_32(0xc6336405u), b = rte_cpu_to_be_32(0xc6336406u),
		c = rte_cpu_to_be_32(0xcb0071feu);
	struct rtpb_addr ra, rc;
	uint64_t t0 = 1000 * SEC;
	int sa, sb, sc;

	reset(state);
	/* a asked for and never answering; b answering; c static */
	rtpb_addr_set_v4(&ra, a, 0);
	dp_neigh_resolve(dp_ctx.neigh, &ra, t0, count_send, NULL);
	sa = dp_neigh_find(dp_ctx.neigh, a);
	sb = dp_neigh_insert(dp_ctx.neigh, b);
	assert_true(sa >= 0 && sb >= 0 && sb != sa);
	dp_neigh_confirm(dp_ctx.neigh, sb, &other, t0);
	rtpb_addr_set_v4(&rc, c, 0);
	sc = dp_neigh_add_static(dp_ctx.neigh, &rc, &other, t0);
	assert_true(sc >= 0);
	/* a: asked DP_NEIGH_PROBES times, kept while its last request is
	 * younger than DP_NEIGH_EVICT_NS, then evicted */
	n_asked = 0;
	assert_int_equal(age_until(t0, t0 + 20 * SEC), 0);
	assert_int_equal(n_asked, DP_NEIGH_PROBES - 1);
	assert_int_equal(dp_neigh_find(dp_ctx.neigh, a), sa);
	dp_neigh_confirm(dp_ctx.neigh, sb, &other, t0 + 20 * SEC);
	assert_int_equal(age_until(t0 + 20 * SEC, t0 + 70 * SEC), 1);
	assert_int_equal(dp_neigh_find(dp_ctx.neigh, a), -1);
	assert_int_equal(atomic_load(&dp_ctx.neigh->e[sa].ip), DP_NEIGH_GONE);
	assert_false(dp_neigh_mac(dp_ctx.neigh, sa, a, &mac));
	/* a stale cache of the tombstone finds nothing, even for
	 * 255.255.255.255 */
	assert_false(dp_neigh_mac(dp_ctx.neigh, sa, DP_NEIGH_GONE, &mac));
	dp_neigh_confirm(dp_ctx.neigh, sb, &other, t0 + 70 * SEC);
	assert_int_equal(dp_neigh_insert(dp_ctx.neigh, b), sb);
	assert_true(dp_neigh_mac(dp_ctx.neigh, sb, b, &mac));
	/* a packet for a again: the tombstone is taken back */
	assert_int_equal(dp_neigh_insert(dp_ctx.neigh, a), sa);
	assert_false(dp_neigh_mac(dp_ctx.neigh, sa, a, &mac));
	/* b goes silent: expired after its probes, evicted later (a, never
	 * asked for this time, too); the static neighbour stays */
	assert_int_equal(age_until(t0 + 70 * SEC, t0 + 300 * SEC), 2);
	assert_int_equal(dp_neigh_find(dp_ctx.neigh, b), -1);
	assert_int_equal(dp_neigh_find(dp_ctx.neigh, a), -1);
	assert_int_equal(dp_neigh_find(dp_ctx.neigh, c), sc);
	assert_true(dp_neigh_mac(dp_ctx.neigh, sc, c, &mac));
	assert_int_equal(dp_neigh_insert(dp_ctx.neigh, DP_NEIGH_GONE), -EINVAL);
	reset(state);
}

static void
test_neigh6_evict_reuse(void **state)
{
	struct rte_ether_addr mac, m1 = {{0x02, 0, 0, 0, 0, 0x01}},
		m2 = {{0x02, 0, 0, 0, 0, 0x02}};
	uint8_t ip[3][16], x[16];
	struct rtpb_addr a;
	uint64_t t0 = 1000 * SEC;
	unsigned int n = 0;
	int s0, s1, cached;

	/* three hosts of 2001:db8:a::/64 on one hash position */
	memcpy(ip[0], PHONE6, 16);
	for (uint32_t i = 1; i < (1u << 22) && n < 2; i++) {
		memcpy(x, PHONE6, 16);
		x[12] = (uint8_t)(i >> 24);
		x[13] = (uint8_t)(i >> 16);
		x[14] = (uint8_t)(i >> 8);
		x[15] = (uint8_t)i;
		if (memcmp(x, ip[0], 16) != 0 && dp_neigh6_hash(dp_ctx.neigh, x) == dp_neigh6_hash(dp_ctx.neigh, ip[0]))
			memcpy(ip[++n], x, 16);
	}
	assert_int_equal(n, 2);
	reset(state);
	memset(&a, 0, sizeof(a));
	a.family = RTPB_AF_INET6;
	memcpy(a.ip, ip[0], 16);
	dp_neigh_resolve(dp_ctx.neigh, &a, t0, count_send, NULL);
	s0 = dp_neigh6_find(dp_ctx.neigh, ip[0]);
	s1 = dp_neigh6_insert(dp_ctx.neigh, ip[1]);
	assert_true(s0 >= 0 && s1 >= 0 && s1 != s0);
	dp_neigh6_confirm(dp_ctx.neigh, s0, &m1, t0);
	cached = s0; /* a stream's nh_idx */
	assert_true(dp_neigh6_mac(dp_ctx.neigh, cached, ip[0], &mac));
	assert_int_equal(atomic_load(&dp_ctx.neigh->e6[s0].gen), 1);
	/* ip[0] leaves the link: expired after 30 s and its probes, then
	 * evicted; ip[1] never asked for, never answered: evicted too */
	dp_neigh6_confirm(dp_ctx.neigh, s1, &m2, t0);
	assert_int_equal(age_until(t0, t0 + 100 * SEC), 2);
	assert_int_equal(atomic_load(&dp_ctx.neigh->e6[s0].gen), 2);
	assert_false(dp_neigh6_mac(dp_ctx.neigh, cached, ip[0], &mac));
	assert_int_equal(dp_neigh6_find(dp_ctx.neigh, ip[0]), -1);
	/* ip[2] takes the first tombstone; the stale cache of ip[0] does
	 * not give ip[2]'s MAC */
	assert_int_equal(dp_neigh6_insert(dp_ctx.neigh, ip[2]), s0);
	dp_neigh6_confirm(dp_ctx.neigh, s0, &m2, t0 + 100 * SEC);
	assert_int_equal(atomic_load(&dp_ctx.neigh->e6[s0].gen), 3);
	assert_false(dp_neigh6_mac(dp_ctx.neigh, cached, ip[0], &mac));
	assert_true(dp_neigh6_mac(dp_ctx.neigh, cached, ip[2], &mac));
	assert_memory_equal(&mac, &m2, 6);
	assert_int_equal(dp_neigh6_find(dp_ctx.neigh, ip[2]), s0);
	/* ip[1] comes back: past ip[2], on the second tombstone */
	assert_int_equal(dp_neigh6_insert(dp_ctx.neigh, ip[1]), s1);
	reset(state);
}

/* An ARP request for tip from sip, Ethernet source eth_src, sender MAC
 * sha: one of the relay's own (dp_arp_request()), re-addressed. */
static struct rte_mbuf *
build_arp(const struct rte_ether_addr *eth_src, const struct rte_ether_addr *sha,
	  uint32_t sip, uint32_t tip)
{
	struct rte_mbuf *m;
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	dp_arp_request(tip, NULL, NULL);
	m = sent();
	assert_non_null(m);
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	arp = (struct rte_arp_hdr *)(eth + 1);
	eth->src_addr = *eth_src;
	arp->arp_data.arp_sha = *sha;
	arp->arp_data.arp_sip = sip;
	return m;
}

/* Feed an ARP request to the main lcore; true if it was answered. */
static bool
arp_in(const struct rte_ether_addr *eth_src, const struct rte_ether_addr *sha,
       uint32_t sip)
{
	struct rte_mbuf *r;

	dp_arp_input(build_arp(eth_src, sha, sip, RTE_BE32(0xc0000201)),
		     sizeof(struct rte_ether_hdr), 1000);
	r = sent();
	rte_pktmbuf_free(r);
	return r != NULL;
}

/*
 * Issue 16: ARP learns only on-link senders of the relay subnets whose
 * sender MAC is their Ethernet source, and counts each refusal; the
 * requests are answered all the same.
 */
static void
test_arp_learning_rules(void **state)
{
	const uint32_t phone = RTE_BE32(0xc000020a), off = RTE_BE32(0xc6336407);
	uint32_t h, n = 0, x;

	reset(state);
	dp_neigh_seed(dp_ctx.neigh);
	/* 192.0.2.10 on 192.0.2.1/24, MAC as its source: learned */
	assert_true(arp_in(&PHONE_MAC, &PHONE_MAC, phone));
	assert_true(dp_neigh_find(dp_ctx.neigh, phone) >= 0);
	/* 198.51.100.7: not on the relay's link */
	assert_true(arp_in(&OTHER_MAC, &OTHER_MAC, off));
	assert_int_equal(dp_neigh_find(dp_ctx.neigh, off), -1);
	assert_int_equal(st->neigh_refused_offlink, 1);
	/* the subnet's broadcast and the relay address itself neither */
	assert_true(arp_in(&OTHER_MAC, &OTHER_MAC, RTE_BE32(0xc00002ff)));
	assert_true(arp_in(&OTHER_MAC, &OTHER_MAC, RTE_BE32(0xc0000201)));
	assert_int_equal(st->neigh_refused_offlink, 3);
	/* a sender MAC other than the Ethernet source: not learned, and
	 * not allowed to change a known neighbour's MAC */
	assert_true(arp_in(&PHONE_MAC, &OTHER_MAC, RTE_BE32(0xc000020b)));
	assert_int_equal(dp_neigh_find(dp_ctx.neigh, RTE_BE32(0xc000020b)), -1);
	assert_true(arp_in(&OTHER_MAC, &RELAY_MAC, phone));
	assert_int_equal(st->neigh_refused_mac, 2);
	{
		struct rte_ether_addr mac = {{0}};

		assert_true(dp_neigh_mac(dp_ctx.neigh, dp_neigh_find(dp_ctx.neigh, phone),
					 phone, &mac));
		assert_true(rte_is_same_ether_addr(&mac, &PHONE_MAC));
	}
	/* its probe chain full (64 others on its home slot): counted */
	h = dp_neigh_hash(dp_ctx.neigh, RTE_BE32(0xc000020c));
	for (x = 1; n < DP_NEIGH_PROBE_MAX && x < (1u << 26); x++)
		if (dp_neigh_hash(dp_ctx.neigh, RTE_BE32(0x0a000000u + x)) == h) {
			assert_true(dp_neigh_insert(dp_ctx.neigh, RTE_BE32(0x0a000000u + x)) >= 0);
			n++;
		}
	assert_int_equal(n, DP_NEIGH_PROBE_MAX);
	assert_true(arp_in(&OTHER_MAC, &OTHER_MAC, RTE_BE32(0xc000020c)));
	assert_int_equal(st->neigh_refused_full, 1);
	/* the seed keys the hash: another seed, other home slots */
	x = dp_ctx.neigh->seed;
	h = dp_neigh_hash(dp_ctx.neigh, phone);
	for (n = 0; n < 8; n++) {
		dp_ctx.neigh->seed = x + 1 + n;
		if (dp_neigh_hash(dp_ctx.neigh, phone) != h)
			break;
	}
	dp_ctx.neigh->seed = x;
	assert_true(n < 8);
	reset(state);
}

/* NDP: the same rules for a Neighbor Solicitation's sender. */
static void
test_ns_learning_rules(void **state)
{
	struct ns_spec s;
	static const uint8_t off6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0b, [15] = 0x10};

	reset(state);
	/* SLLA other than the Ethernet source: answered, not learned */
	ns_default(&s);
	s.lla = &OTHER_MAC;
	input(build_nd(&s));
	rte_pktmbuf_free(sent());
	assert_int_equal(dp_neigh6_find(dp_ctx.neigh, PHONE6), -1);
	assert_int_equal(st->neigh_refused_mac, 1);
	/* off-link source */
	ns_default(&s);
	s.src = off6;
	input(build_nd(&s));
	rte_pktmbuf_free(sent());
	assert_int_equal(dp_neigh6_find(dp_ctx.neigh, off6), -1);
	assert_int_equal(st->neigh_refused_offlink, 1);
	/* on-link, matching: learned */
	ns_default(&s);
	input(build_nd(&s));
	rte_pktmbuf_free(sent());
	assert_true(dp_neigh6_find(dp_ctx.neigh, PHONE6) >= 0);
	reset(state);
}


/*
 * HA (issue 21): when the main lcore announces. A table of (state,
 * announce counter, time) read in order and the actions expected.
 */
static void
test_ha_step(void **state)
{
	const uint64_t gap = RTPB_HA_ANNOUNCE_GAP_MS * 1000000ull;
	static const struct {
		uint32_t state, announce;
		uint64_t at; /* in gaps, plus 1 ns where noted by +1 */
		unsigned int act;
	} steps[] = {
		/* a standby at start: nothing */
		{RTPB_HA_STANDBY, 0, 0, 0},
		{RTPB_HA_STANDBY, 0, 1, 0},
		/* control bumps announce while standby: still silent */
		{RTPB_HA_STANDBY, 1, 2, 0},
		/* active: neighbours retried, first round at once */
		{RTPB_HA_ACTIVE, 1, 10, DP_HA_BECAME_ACTIVE | DP_HA_ANNOUNCE},
		{RTPB_HA_ACTIVE, 1, 10, 0},
		/* the next two a gap apart, then no more */
		{RTPB_HA_ACTIVE, 1, 11, DP_HA_ANNOUNCE},
		{RTPB_HA_ACTIVE, 1, 11, 0},
		{RTPB_HA_ACTIVE, 1, 12, DP_HA_ANNOUNCE},
		{RTPB_HA_ACTIVE, 1, 13, 0},
		{RTPB_HA_ACTIVE, 1, 50, 0},
		/* announce again (control re-attached): three more rounds */
		{RTPB_HA_ACTIVE, 2, 60, DP_HA_ANNOUNCE},
		{RTPB_HA_ACTIVE, 2, 61, DP_HA_ANNOUNCE},
		/* standby in the middle: the rest is cancelled */
		{RTPB_HA_STANDBY, 2, 62, 0},
		{RTPB_HA_STANDBY, 2, 63, 0},
		/* and back: the whole burst again */
		{RTPB_HA_ACTIVE, 2, 70, DP_HA_BECAME_ACTIVE | DP_HA_ANNOUNCE},
		{RTPB_HA_ACTIVE, 2, 71, DP_HA_ANNOUNCE},
		{RTPB_HA_ACTIVE, 2, 72, DP_HA_ANNOUNCE},
		{RTPB_HA_ACTIVE, 2, 73, 0},
	};
	struct dp_ha ha;
	size_t i;

	(void)state;
	dp_ha_init(&ha, RTPB_HA_STANDBY, 0);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		unsigned int act = dp_ha_step(&ha, steps[i].state, steps[i].announce,
					      1000 + steps[i].at * gap);

		if (act != steps[i].act)
			fail_msg("step %zu: actions %u, want %u", i, act, steps[i].act);
	}
	/* an active dataplane at start announces nothing by itself */
	dp_ha_init(&ha, RTPB_HA_ACTIVE, 7);
	assert_int_equal(dp_ha_step(&ha, RTPB_HA_ACTIVE, 7, 5), 0);
}

/* Every frame the main lcore queued, freed; how many. */
static unsigned int
drain_sent(void)
{
	struct rte_mbuf *m = NULL;
	unsigned int n = 0;

	while (rte_ring_dequeue(dp_ctx.sp_tx, (void **)&m) == 0) {
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

/* The send function of the neighbour cache, counting what it is asked. */
static unsigned int ha_asked;
static void
ha_count_send(const struct rtpb_addr *ip, const struct rte_ether_addr *mac, void *arg)
{
	(void)ip;
	(void)mac;
	(void)arg;
	ha_asked++;
}

/*
 * HA standby: silent for the relay addresses (no answer to ARP or NS for
 * them, no request from them), each silence counted as drop "standby";
 * neighbours it hears are still learned. Active again, it answers.
 */
static void
test_ha_standby_silent(void **state)
{
	const uint32_t phone = RTE_BE32(0xc000020a);
	struct rtpb_addr a;
	struct ns_spec s;

	struct rte_mbuf *req;

	reset(state);
	dp_neigh_seed(dp_ctx.neigh);
	/* (built while active: dp_arp_request() is what builds it) */
	req = build_arp(&PHONE_MAC, &PHONE_MAC, phone, RTE_BE32(0xc0000201));
	memset(st, 0, sizeof(*st));
	atomic_store(&shm->ha_state, RTPB_HA_STANDBY);
	ns_default(&s);
	input(build_nd(&s));
	assert_null(sent());
	assert_true(dp_neigh6_find(dp_ctx.neigh, PHONE6) < 0); /* not for us: no NA, no learning */
	dp_arp_input(req, sizeof(struct rte_ether_hdr), 1000);
	assert_null(sent());
	assert_true(dp_neigh_find(dp_ctx.neigh, phone) >= 0);
	dp_arp_request(RTE_BE32(0xc000020b), NULL, NULL);
	dp_nd_solicit(OTHER6, NULL);
	assert_null(sent());
	assert_int_equal(st->drops[RTPB_DROP_STANDBY], 4);
	assert_int_equal(st->nd_replies + st->arp_replies + st->arp_requests +
			 st->nd_requests, 0);
	/* resolution asked while silent: held back, sent at activation */
	rtpb_addr_set_v4(&a, RTE_BE32(0xc000020b), 0);
	ha_asked = 0;
	dp_neigh_resolve(dp_ctx.neigh, &a, 1000, ha_count_send, NULL);
	assert_int_equal(ha_asked, 1); /* (the send function is what is silent) */
	ha_asked = 0;
	/* resolved entries are not asked again, nor never-asked ones */
	assert_int_equal(dp_neigh_retry_all(dp_ctx.neigh, 2000, ha_count_send, NULL), 1);
	assert_int_equal(ha_asked, 1);
	atomic_store(&shm->ha_state, RTPB_HA_ACTIVE);
	assert_true(arp_in(&PHONE_MAC, &PHONE_MAC, phone));
	reset(state);
}

/* Check one gratuitous ARP from the relay for ip. */
static void
check_garp(struct rte_mbuf *m, uint32_t ip, bool reply)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eth + 1);
	static const struct rte_ether_addr zero, bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

	assert_int_equal(rte_pktmbuf_data_len(m), 42);
	assert_true(rte_is_same_ether_addr(&eth->dst_addr, &bcast));
	assert_true(rte_is_same_ether_addr(&eth->src_addr, &RELAY_MAC));
	assert_int_equal(eth->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	assert_int_equal(arp->arp_hardware, RTE_BE16(RTE_ARP_HRD_ETHER));
	assert_int_equal(arp->arp_protocol, RTE_BE16(RTE_ETHER_TYPE_IPV4));
	assert_int_equal(arp->arp_hlen, 6);
	assert_int_equal(arp->arp_plen, 4);
	assert_int_equal(arp->arp_opcode, reply ? RTE_BE16(RTE_ARP_OP_REPLY) :
						  RTE_BE16(RTE_ARP_OP_REQUEST));
	assert_true(rte_is_same_ether_addr(&arp->arp_data.arp_sha, &RELAY_MAC));
	assert_int_equal(arp->arp_data.arp_sip, ip);
	assert_int_equal(arp->arp_data.arp_tip, ip);
	assert_true(rte_is_same_ether_addr(&arp->arp_data.arp_tha, reply ? &RELAY_MAC : &zero));
}

/*
 * HA announcements: standby -> active (control's word in shared memory)
 * retries the neighbours held back and sends, at once and then twice a
 * gap apart, for each IPv4 relay address a gratuitous ARP request and
 * reply, for each IPv6 one an unsolicited NA to all-nodes with Override
 * (a valid NA to a receiver running the relay's own checks).
 */
static void
test_ha_announce(void **state)
{
	const uint64_t gap = RTPB_HA_ANNOUNCE_GAP_MS * 1000000ull;
	static const struct rte_ether_addr all_nodes_mac = {{0x33, 0x33, 0, 0, 0, 1}};
	struct rtpb_addr a;
	struct dp_ha ha;
	struct rte_mbuf *m[8];
	unsigned int n, i;

	reset(state);
	dp_neigh_seed(dp_ctx.neigh);
	atomic_store(&shm->ha_state, RTPB_HA_STANDBY);
	dp_ha_init(&ha, RTPB_HA_STANDBY, 0);
	rtpb_addr_set_v4(&a, RTE_BE32(0xc000020b), 0);
	dp_neigh_resolve(dp_ctx.neigh, &a, 1000, ha_count_send, NULL);
	dp_ha_tick(&ha, 2000, ha_count_send);
	assert_int_equal(rte_ring_count(dp_ctx.sp_tx), 0);

	ha_asked = 0;
	atomic_store(&shm->ha_state, RTPB_HA_ACTIVE);
	atomic_fetch_add(&shm->ha_announce, 1);
	dp_ha_tick(&ha, 3000, ha_count_send);
	assert_int_equal(ha_asked, 1);
	/* one IPv4 and two IPv6 relay addresses (ctx_setup) */
	n = rte_ring_dequeue_burst(dp_ctx.sp_tx, (void **)m, 8, NULL);
	assert_int_equal(n, 4);
	check_garp(m[0], RTE_BE32(0xc0000201), false);
	check_garp(m[1], RTE_BE32(0xc0000201), true);
	for (i = 2; i < 4; i++) {
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m[i], const struct rte_ether_hdr *);
		const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)(eth + 1);
		const uint8_t *icmp = (const uint8_t *)(ip6 + 1);
		const uint8_t *ip = i == 2 ? RELAY6 : RELAY6B;
		struct dp_pkt_meta pm;
		struct dp_nd_msg na;

		assert_int_equal(rte_pktmbuf_data_len(m[i]), 14 + 40 + 32);
		assert_true(rte_is_same_ether_addr(&eth->dst_addr, &all_nodes_mac));
		assert_true(rte_is_same_ether_addr(&eth->src_addr, &RELAY_MAC));
		assert_memory_equal(ip6->src_addr, ip, 16);
		assert_memory_equal(ip6->dst_addr, ALL_NODES, 16);
		assert_int_equal(ip6->hop_limits, 255);
		assert_int_equal(icmp[0], DP_ICMP6_NA);
		assert_int_equal(icmp[4], DP_ND_NA_F_OVERRIDE);
		assert_memory_equal(icmp + 8, ip, 16);
		assert_int_equal(icmp[24], DP_ND_OPT_TLLA);
		assert_memory_equal(icmp + 26, &RELAY_MAC, 6);
		assert_int_equal(icmp6_sum(ip6), 0xffff);
		assert_int_equal(dp_parse_pkt(m[i], &pm), DP_PKT_ND);
		assert_int_equal(dp_nd_check(m[i], &pm, &na), 0);
		assert_true(dp_nd_for_relay(ip6->dst_addr));
	}
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
	assert_int_equal(st->ha_garps, 2);
	assert_int_equal(st->ha_unsol_nas, 2);
	/* not again before the gap; twice more, then no more */
	dp_ha_tick(&ha, 3000 + gap - 1, ha_count_send);
	assert_int_equal(drain_sent(), 0);
	dp_ha_tick(&ha, 3000 + gap, ha_count_send);
	assert_int_equal(drain_sent(), 4);
	dp_ha_tick(&ha, 3000 + 2 * gap, ha_count_send);
	assert_int_equal(drain_sent(), 4);
	dp_ha_tick(&ha, 3000 + 10 * gap, ha_count_send);
	assert_int_equal(drain_sent(), 0);
	assert_int_equal(st->ha_garps, 6);
	assert_int_equal(st->ha_unsol_nas, 6);
	assert_int_equal(ha_asked, 1);
	reset(state);
}

/* dp_ctx for the slow path: pool, TX ring, neighbour table, counters,
 * the relay's MAC and addresses. */
static int
ctx_setup(void **state)
{
	struct rtpb_addr a;

	(void)state;
	/* dp_ctx as dp_main.c lays it out: the main lcore's counters are
	 * lcore slot n_workers (0 here) of a shared-memory-shaped buffer. */
	dp_ctx.pool = rte_pktmbuf_pool_create("t_nd", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					      SOCKET_ID_ANY);
	dp_ctx.sp_tx = rte_ring_create("t_nd_sp_tx", 64, SOCKET_ID_ANY,
				       RING_F_SP_ENQ | RING_F_SC_DEQ);
	dp_ctx.neigh = rte_zmalloc(NULL, sizeof(struct dp_neigh), RTE_CACHE_LINE_SIZE);
	shm = rte_zmalloc(NULL, 8192, RTE_CACHE_LINE_SIZE);
	if (dp_ctx.pool == NULL || dp_ctx.sp_tx == NULL || dp_ctx.neigh == NULL || shm == NULL) {
		fprintf(stderr, "setup failed\n");
		return -1;
	}
	shm->off_lcore_stats = RTE_ALIGN_CEIL(sizeof(*shm), 64);
	dp_ctx.shm = shm;
	dp_ctx.n_workers = 0;
	st = rtpb_shm_lcore_stats(shm, 0);
	dp_ctx.mac = RELAY_MAC;
	memset(&a, 0, sizeof(a));
	a.family = RTPB_AF_INET6;
	memcpy(a.ip, RELAY6, 16);
	if (dp_addr_add(&a, 64) != 0)
		return -1;
	rtpb_addr_set_v4(&a, RTE_BE32(0xc0000201), 0);
	if (dp_addr_add(&a, 24) != 1)
		return -1;
	memset(&a, 0, sizeof(a));
	a.family = RTPB_AF_INET6;
	memcpy(a.ip, RELAY6B, 16);
	if (dp_addr_add(&a, 64) != 2)
		return -1;
	return 0;
}

/* No mbuf leaked by any test. */
static int
ctx_teardown(void **state)
{
	int r = 0;

	(void)state;
	if (rte_mempool_in_use_count(dp_ctx.pool) != 0) {
		fprintf(stderr, "mbuf leak: %u in use\n", rte_mempool_in_use_count(dp_ctx.pool));
		r = -1;
	}
	rte_ring_free(dp_ctx.sp_tx);
	rte_mempool_free(dp_ctx.pool);
	rte_free(dp_ctx.neigh);
	rte_free(shm);
	return r;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_table),
		cmocka_unit_test(test_addr_table_full),
		cmocka_unit_test(test_for_relay),
		cmocka_unit_test(test_ns_multicast_answered),
		cmocka_unit_test(test_ns_unicast_without_slla),
		cmocka_unit_test(test_ns_dad),
		cmocka_unit_test(test_invalid_dropped),
		cmocka_unit_test(test_resolve_learn_refresh_expire),
		cmocka_unit_test(test_na_other),
		cmocka_unit_test(test_solicit_source),
		cmocka_unit_test(test_neigh6_many_hosts),
		cmocka_unit_test(test_neigh_evict_v4),
		cmocka_unit_test(test_neigh6_evict_reuse),
		cmocka_unit_test(test_arp_learning_rules),
		cmocka_unit_test(test_ns_learning_rules),
		cmocka_unit_test(test_neigh_kept),
		cmocka_unit_test(test_neigh_kept_refused),
		cmocka_unit_test(test_ha_step),
		cmocka_unit_test(test_ha_standby_silent),
		cmocka_unit_test(test_ha_announce),
	};

	return TEST_EAL_RUN("test_dp_nd", "64", tests, ctx_setup, ctx_teardown);
}
