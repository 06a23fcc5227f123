/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_nd.c: IPv6 Neighbor Discovery for the relay addresses (RFC 4861),
 * run by the main lcore on frames the workers pass up through
 * dp_ctx.sp_rx (see dp_nd.h). Not on the fast path: at most a few frames
 * per millisecond.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_ctx.h"
#include "dp_ha.h"
#include "dp_nd.h"
#include "dp_slowtx.h"

/* ICMPv6 NS/NA fixed part (RFC 4861 §4.3, §4.4). */
struct nd_hdr {
	uint8_t type;
	uint8_t code;
	rte_be16_t cksum;
	uint8_t flags;        /* NA: R, S, O; NS: reserved */
	uint8_t reserved[3];
	uint8_t target[16];
} __rte_packed;

/* A link-layer address option for Ethernet (§4.6.1). 8 bytes, 2-aligned
 * in any frame (options start at an even offset). */
struct nd_opt_lla {
	uint8_t type;
	uint8_t len;          /* units of 8 bytes: 1 */
	struct rte_ether_addr mac;
};

static_assert(sizeof(struct nd_hdr) == DP_ND_MIN_LEN, "NS/NA header");
static_assert(sizeof(struct nd_opt_lla) == 8, "NDP option");

static inline int
nd_is_unspecified(const uint8_t *ip)
{
	static const uint8_t zero[16];

	return memcmp(ip, zero, 16) == 0;
}

static inline int
nd_is_solicited_node(const uint8_t *ip)
{
	uint8_t snm[16];

	dp_nd_solicited_node(ip, snm);
	return memcmp(ip, snm, 16) == 0;
}

int
dp_nd_check(const struct rte_mbuf *m, const struct dp_pkt_meta *pm,
	    struct dp_nd_msg *out)
{
	const struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m,
		const struct rte_ipv6_hdr *, pm->l3_off);
	const struct nd_hdr *nd = rte_pktmbuf_mtod_offset(m,
		const struct nd_hdr *, pm->l4_off);
	const uint8_t *opt = (const uint8_t *)(nd + 1);
	uint32_t left, olen;

	if (pm->kind != DP_PKT_ND || pm->payload_len < DP_ND_MIN_LEN)
		return -EINVAL;
	/* §7.1.1/§7.1.2: hop limit 255 (from the link), code 0, checksum,
	 * target not multicast; nor the source (RFC 4291 §2.7: the NA
	 * answering it would go to a group with the Solicited flag, which
	 * §7.1.2 forbids; found by fuzz_pkt). */
	if (ip6->hop_limits != DP_ND_HOP_LIMIT || nd->code != 0 ||
	    rte_ipv6_udptcp_cksum_verify(ip6, nd) != 0 || nd->target[0] == 0xff ||
	    ip6->src_addr[0] == 0xff)
		return -EINVAL;
	out->type = nd->type;
	out->flags = nd->type == DP_ICMP6_NA ? nd->flags : 0;
	out->target = nd->target;
	out->lla = NULL;
	/* Options: each at least 8 bytes and inside the message. */
	left = pm->payload_len - DP_ND_MIN_LEN;
	while (left > 0) {
		if (left < 2 || opt[1] == 0)
			return -EINVAL;
		olen = (uint32_t)opt[1] * 8;
		if (olen > left)
			return -EINVAL;
		if (olen == sizeof(struct nd_opt_lla) &&
		    opt[0] == (nd->type == DP_ICMP6_NS ? DP_ND_OPT_SLLA : DP_ND_OPT_TLLA))
			out->lla = &((const struct nd_opt_lla *)opt)->mac;
		opt += olen;
		left -= olen;
	}
	if (nd->type == DP_ICMP6_NS && nd_is_unspecified(ip6->src_addr)) {
		/* DAD probe: to the solicited-node address, no SLLA. */
		if (!nd_is_solicited_node(ip6->dst_addr) || out->lla != NULL)
			return -EINVAL;
	}
	if (nd->type == DP_ICMP6_NA && ip6->dst_addr[0] == 0xff &&
	    (nd->flags & DP_ND_NA_F_SOLICITED))
		return -EINVAL;
	if (out->lla != NULL && rte_is_multicast_ether_addr(out->lla))
		return -EINVAL;
	return 0;
}

/* Size m to len bytes of data (single segment). */
/* The fixed IPv6 header fields of an NS or NA we send: hop limit 255
 * (RFC 4861 §7.1.1, §7.1.2) and a payload of the message with one
 * link-layer option. The addresses are the caller's. */
static void
nd_ip6_fixed(struct rte_ipv6_hdr *ip6)
{
	ip6->vtc_flow = RTE_BE32(6u << 28);
	ip6->payload_len = RTE_BE16(DP_ND_LEN_WITH_LLA);
	ip6->proto = IPPROTO_ICMPV6;
	ip6->hop_limits = DP_ND_HOP_LIMIT;
}

/* The NS or NA after ip6, whose addresses are set: type, flags (NA: R, S,
 * O; NS: 0), target, one link-layer option (SLLA or TLLA) carrying mac,
 * then the ICMPv6 checksum over the pseudo-header (§4.3, §4.4, §4.6.1). */
static void
nd_body(struct rte_ipv6_hdr *ip6, uint8_t type, uint8_t flags, const uint8_t *target,
	uint8_t opt_type, const struct rte_ether_addr *mac)
{
	struct nd_hdr *nd = (struct nd_hdr *)(ip6 + 1);
	struct nd_opt_lla *o = (struct nd_opt_lla *)(nd + 1);

	nd->type = type;
	nd->code = 0;
	nd->flags = flags;
	memset(nd->reserved, 0, sizeof(nd->reserved));
	memcpy(nd->target, target, 16);
	o->type = opt_type;
	o->len = 1;
	rte_ether_addr_copy(mac, &o->mac);
	nd->cksum = 0;
	nd->cksum = rte_ipv6_udptcp_cksum(ip6, nd);
}

static int
nd_resize(struct rte_mbuf *m, uint16_t len)
{
	uint16_t cur = rte_pktmbuf_data_len(m);

	if (cur > len)
		return rte_pktmbuf_trim(m, cur - len);
	if (cur < len && rte_pktmbuf_append(m, len - cur) == NULL)
		return -ENOSPC;
	return 0;
}

int
dp_nd_make_na(struct rte_mbuf *m, const struct dp_pkt_meta *pm,
	      const struct dp_nd_msg *ns, const struct rte_ether_addr *mac)
{
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip6;
	struct rte_ether_addr dst_mac;
	uint8_t target[16];
	int dad;

	/* Everything read from the NS is copied before it is overwritten
	 * (the SLLA sits where the TLLA goes). */
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, pm->l3_off);
	dad = nd_is_unspecified(ip6->src_addr);
	memcpy(target, ns->target, 16);
	if (dad) {
		/* §7.2.4: to all-nodes, 33:33:00:00:00:01 (RFC 2464 §7). */
		static const struct rte_ether_addr all_nodes = {
			.addr_bytes = {0x33, 0x33, 0, 0, 0, 1}};

		dst_mac = all_nodes;
	} else {
		dst_mac = ns->lla != NULL ? *ns->lla : eth->src_addr;
	}
	if (nd_resize(m, (uint16_t)(pm->l3_off + sizeof(*ip6) + DP_ND_LEN_WITH_LLA)) != 0)
		return -ENOSPC;

	rte_ether_addr_copy(&dst_mac, &eth->dst_addr);
	rte_ether_addr_copy(mac, &eth->src_addr);
	nd_ip6_fixed(ip6);
	if (dad) {
		memset(ip6->dst_addr, 0, 16);
		ip6->dst_addr[0] = 0xff;
		ip6->dst_addr[1] = 0x02;
		ip6->dst_addr[15] = 0x01;
	} else {
		memcpy(ip6->dst_addr, pm->src.ip, 16);
	}
	memcpy(ip6->src_addr, target, 16);
	nd_body(ip6, DP_ICMP6_NA, DP_ND_NA_F_OVERRIDE | (dad ? 0 : DP_ND_NA_F_SOLICITED),
		target, DP_ND_OPT_TLLA, mac);
	return 0;
}

/* An NS or NA with one link-layer option, from scratch into the empty
 * mbuf m: Ethernet to dst_mac from mac, IPv6 from src to dst (16 bytes
 * each), then nd_body(). @return 0, or -ENOSPC. */
static int
nd_build(struct rte_mbuf *m, uint8_t type, uint8_t flags, const uint8_t *src,
	 const uint8_t *dst, const struct rte_ether_addr *dst_mac, const uint8_t *target,
	 uint8_t opt_type, const struct rte_ether_addr *mac)
{
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip6;

	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m,
		sizeof(*eth) + sizeof(*ip6) + DP_ND_LEN_WITH_LLA);
	if (eth == NULL)
		return -ENOSPC;
	ip6 = (struct rte_ipv6_hdr *)(eth + 1);
	rte_ether_addr_copy(dst_mac, &eth->dst_addr);
	rte_ether_addr_copy(mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	nd_ip6_fixed(ip6);
	memcpy(ip6->src_addr, src, 16);
	memcpy(ip6->dst_addr, dst, 16);
	nd_body(ip6, type, flags, target, opt_type, mac);
	return 0;
}

int
dp_nd_make_ns(struct rte_mbuf *m, const uint8_t *src, const uint8_t *target,
	      const struct rte_ether_addr *mac,
	      const struct rte_ether_addr *dst_mac)
{
	uint8_t dst[16];
	struct rte_ether_addr group;

	if (dst_mac == NULL) {
		/* RFC 2464 §7: 33:33 and the low 32 bits of ff02::1:ffXX:XXXX. */
		dp_nd_solicited_node(target, dst);
		group.addr_bytes[0] = 0x33;
		group.addr_bytes[1] = 0x33;
		memcpy(&group.addr_bytes[2], dst + 12, 4);
		dst_mac = &group;
	} else {
		memcpy(dst, target, 16);
	}
	return nd_build(m, DP_ICMP6_NS, 0, src, dst, dst_mac, target, DP_ND_OPT_SLLA, mac);
}

static struct rtpb_lcore_stats *
nd_stats(void)
{
	return rtpb_shm_lcore_stats(dp_ctx.shm, dp_ctx.n_workers);
}

int
dp_nd_make_unsol_na(struct rte_mbuf *m, const uint8_t *ip,
		    const struct rte_ether_addr *mac)
{
	static const struct rte_ether_addr all_nodes_mac = {
		.addr_bytes = {0x33, 0x33, 0, 0, 0, 1}};
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 0x01};

	/* §7.2.6: Solicited clear (to a group, §7.2.4), Override set */
	return nd_build(m, DP_ICMP6_NA, DP_ND_NA_F_OVERRIDE, ip, all_nodes, &all_nodes_mac,
			ip, DP_ND_OPT_TLLA, mac);
}

void
dp_nd_announce(const uint8_t *ip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp_ctx.pool);

	if (m == NULL)
		return;
	if (dp_nd_make_unsol_na(m, ip, &dp_ctx.mac) != 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (dp_slowtx_queue(m) == 0)
		nd_stats()->ha_unsol_nas++;
}

/* The relay IPv6 address to speak from toward ip: the one whose prefix
 * holds it, else (a link-local gateway, say) the first. NULL if the relay
 * has no IPv6 address. */
static const uint8_t *
nd_source_for(const uint8_t *ip)
{
	const int link_local = ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80;
	uint32_t i;

	for (i = 0; i < dp_ctx.n_addr6 && !link_local; i++)
		if (dp_addr_onlink6(dp_ctx.addr6_idx[i], ip))
			return dp_ctx.addr6_ip[i];
	return dp_ctx.n_addr6 > 0 ? dp_ctx.addr6_ip[0] : NULL;
}

void
dp_nd_solicit(const uint8_t *ip, const struct rte_ether_addr *mac)
{
	const uint8_t *src = nd_source_for(ip);
	struct rte_mbuf *m;

	if (src == NULL)
		return;
	if (dp_ha_silent()) {
		/* its source would be a relay address (dp_ha.h) */
		nd_stats()->drops[RTPB_DROP_STANDBY]++;
		return;
	}
	m = rte_pktmbuf_alloc(dp_ctx.pool);
	if (m == NULL)
		return;
	if (dp_nd_make_ns(m, src, ip, &dp_ctx.mac, mac) != 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (dp_slowtx_queue(m) == 0)
		nd_stats()->nd_requests++;
}

/* §7.2.5: an NA for a next hop we resolve. */
static void
nd_learn_na(const struct rte_mbuf *m, const struct dp_nd_msg *na, uint64_t now_ns)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ether_addr *lla = na->lla;
	struct rte_ether_addr cur;
	int slot = dp_neigh6_find(dp_ctx.neigh, na->target);

	if (slot < 0) {
		nd_stats()->drops[RTPB_DROP_ND_OTHER]++;
		return;
	}
	/* A unicast answer may omit the TLLA (§4.4): the sender is the
	 * target then (no proxies here); one that names another MAC than
	 * its Ethernet source is not believed (issue 16), nor is a group
	 * MAC as the source (dp_nd_check() refuses one in a TLLA; found by
	 * fuzz_pkt: media would be flooded to the whole link). */
	if (lla == NULL)
		lla = &eth->src_addr;
	if (!rte_is_same_ether_addr(lla, &eth->src_addr) ||
	    rte_is_multicast_ether_addr(lla)) {
		nd_stats()->neigh_refused_mac++;
		return;
	}
	/* Without Override, an NA does not replace a MAC we have (§7.2.5). */
	if (!(na->flags & DP_ND_NA_F_OVERRIDE) &&
	    dp_neigh_state_mac(&dp_ctx.neigh->e6[slot].st, &cur) &&
	    !rte_is_same_ether_addr(&cur, lla))
		return;
	dp_neigh6_confirm(dp_ctx.neigh, slot, lla, now_ns);
}

/* §7.2.3 with issue 16's rules: the solicitor src (SLLA lla) becomes a
 * neighbour only if lla is its Ethernet source and src is on a relay
 * address's link (or link-local); refusals counted.
 * @return its slot, or -1. */
static int
nd_learn_ns(const struct rte_mbuf *m, const uint8_t *src,
	    const struct rte_ether_addr *lla)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	int slot = -1;

	if (!rte_is_same_ether_addr(lla, &eth->src_addr)) {
		nd_stats()->neigh_refused_mac++;
		return -1;
	}
	if (!dp_addr_neigh_ok6(src)) {
		nd_stats()->neigh_refused_offlink++;
		return -1;
	}
	slot = dp_neigh6_insert(dp_ctx.neigh, src);
	if (slot < 0)
		nd_stats()->neigh_refused_full++;
	return slot;
}

void
dp_nd_input(struct rte_mbuf *m, const struct dp_pkt_meta *pm, uint64_t now_ns)
{
	struct dp_nd_msg msg;
	int slot;

	if (dp_nd_check(m, pm, &msg) != 0)
		goto drop;
	if (msg.type == DP_ICMP6_NA) {
		/* Someone else answering for a relay address is a duplicate
		 * (RFC 4862 §5.4.4); nothing to learn from it. */
		if (dp_addr6_index(msg.target) >= 0)
			goto drop;
		nd_learn_na(m, &msg, now_ns);
		rte_pktmbuf_free(m);
		return;
	}
	if (dp_addr6_index(msg.target) < 0)
		goto drop; /* another host's NS (all-multicast mode) */
	if (dp_ha_silent()) {
		/* the active relay answers (dp_ha.h) */
		nd_stats()->drops[RTPB_DROP_STANDBY]++;
		rte_pktmbuf_free(m);
		return;
	}
	/* §7.2.3: the solicitor is about to talk to us; learn its MAC. */
	if (msg.lla != NULL && !nd_is_unspecified(pm->src.ip)) {
		slot = nd_learn_ns(m, pm->src.ip, msg.lla);
		if (slot >= 0)
			dp_neigh6_confirm(dp_ctx.neigh, slot, msg.lla, now_ns);
	}
	if (dp_nd_make_na(m, pm, &msg, &dp_ctx.mac) != 0)
		goto drop;
	if (dp_slowtx_queue(m) == 0)
		nd_stats()->nd_replies++;
	return;
drop:
	nd_stats()->drops[RTPB_DROP_ND_OTHER]++;
	rte_pktmbuf_free(m);
}
