// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * prefilter.bpf.c: the XDP prefilter in front of the dataplane's
 * net_af_xdp queues (DESIGN.md §5). Loaded by the PMD (devarg
 * xdp_prog=prefilter.bpf.o), which fills xsks_map; its other maps are
 * pinned by name so control writes them (include/rtpb_pf.h says who
 * writes what).
 *
 * Verdicts for UDP to a relay address, in this order: truncated header
 * or fragment -> drop; bogon source (rtpb_pf_rules.h) or source port 0
 * -> drop; no session on the port -> drop; first byte outside the RFC
 * 7983 classes -> drop; latched stream and another source -> redirect
 * if it carries the peer's SSRC (a phone that moved), else within the
 * stream's token bucket, else drop; otherwise redirect to the
 * queue's AF_XDP socket. ARP and NDP for a relay address -> redirect.
 * Anything else -> XDP_PASS (SSH, management, the control protocol).
 * Every verdict is counted per CPU in pf_stats.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "rtpb_pf.h"
#include "rtpb_pf_rules.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, RTPB_PF_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RTPB_PF_MAX_ADDRS);
	__type(key, struct rtpb_pf_addr_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RTPB_PF_MAX_SOCKS);
	__type(key, struct rtpb_pf_sock_key);
	__type(value, struct rtpb_pf_sock);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rtpb_pf_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RTPB_PF_VERDICT__COUNT);
	__type(key, __u32);
	__type(value, struct rtpb_pf_stat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pf_stats SEC(".maps");

#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8
#define ARPOP_REQUEST_ 1
#define ARPOP_REPLY_ 2

/* Ethernet ARP for IPv4 (RFC 826), as on the wire. */
struct pf_arp {
	__be16 htype, ptype;
	__u8 hlen, plen;
	__be16 op;
	__u8 sha[6], spa[4], tha[6], tpa[4];
} __attribute__((packed));

struct pf_vlan {
	__be16 tci;
	__be16 proto;
};

static __always_inline int
pf_count(struct xdp_md *ctx, __u32 v, int action)
{
	struct rtpb_pf_stat *st = bpf_map_lookup_elem(&pf_stats, &v);

	if (st) {
		st->pkts++;
		st->bytes += ctx->data_end - ctx->data;
	}
	return action;
}

static __always_inline int
pf_redirect(struct xdp_md *ctx, __u32 v)
{
	pf_count(ctx, v, 0);
	/* no socket on this queue (dataplane down): the kernel has it */
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

static __always_inline int
pf_is_relay(__u8 family, const void *ip, __u32 len)
{
	struct rtpb_pf_addr_key k = {.family = family};

	if (len == 4)
		__builtin_memcpy(k.ip, ip, 4);
	else
		__builtin_memcpy(k.ip, ip, 16);
	return bpf_map_lookup_elem(&pf_addrs, &k) != NULL;
}

/* Equal addresses, len 4 or 16 bytes (no memcmp in BPF). */
static __always_inline int
pf_ip_eq(const __u8 *a, const __u8 *b, int len)
{
	__u8 diff = 0;
	int i;

#pragma unroll
	for (i = 0; i < 16; i++)
		if (i < len)
			diff |= a[i] ^ b[i];
	return diff == 0;
}

/* Token bucket of a latched stream for packets from other sources: the
 * rule of rtpb_pf_rules.h, which the dataplane runs in software too. */
static __always_inline int
pf_budget_ok(struct rtpb_pf_sock *s)
{
	__u32 zero = 0, pps = RTPB_PF_BUDGET_PPS, burst = RTPB_PF_BUDGET_BURST;
	struct rtpb_pf_cfg *cfg = bpf_map_lookup_elem(&pf_cfg, &zero);
	__u64 now = bpf_ktime_get_ns(), elapsed = now - s->tb_last_ns;
	__u32 tokens = s->tb_tokens;
	int ok;

	if (cfg && cfg->budget_burst != 0) {
		pps = cfg->budget_pps;
		burst = cfg->budget_burst;
	}
	ok = rtpb_pf_budget_take(elapsed, &tokens, pps, burst);
	s->tb_last_ns = now;
	s->tb_tokens = tokens;
	return ok;
}

/* The SSRC of an RTP packet (RFC 3550 §5.1), or the sender SSRC of an
 * RTCP one (§6.4; payload types 64-95 in the second byte, RFC 5761 §4),
 * host order; 0 if too short. */
static __always_inline __u32
pf_ssrc(const __u8 *p, void *data_end)
{
	__u8 pt;

	if ((void *)(p + 12) > data_end)
		return 0;
	pt = p[1] & 0x7f;
	if (pt >= 64 && pt <= 95)
		return (__u32)p[4] << 24 | (__u32)p[5] << 16 | (__u32)p[6] << 8 | p[7];
	return (__u32)p[8] << 24 | (__u32)p[9] << 16 | (__u32)p[10] << 8 | p[11];
}

/* UDP to a relay socket: key filled, l4 points at the UDP header. */
static __always_inline int
pf_udp(struct xdp_md *ctx, struct rtpb_pf_sock_key *key, void *l4,
       void *data_end, const __u8 *src, __u8 family)
{
	struct udphdr *udp = l4;
	struct rtpb_pf_sock *s;
	__u8 *payload;

	if ((void *)(udp + 1) > data_end)
		return pf_count(ctx, RTPB_PF_DROP_TRUNCATED, XDP_DROP);
	if (udp->source == 0)
		return pf_count(ctx, RTPB_PF_DROP_BOGON, XDP_DROP);
	key->port = udp->dest;
	s = bpf_map_lookup_elem(&pf_socks, key);
	if (!s)
		return pf_count(ctx, RTPB_PF_DROP_NO_SESSION, XDP_DROP);
	payload = (__u8 *)(udp + 1);
	if ((void *)(payload + 1) > data_end || !rtpb_pf_class_ok(payload[0]))
		return pf_count(ctx, RTPB_PF_DROP_CLASS, XDP_DROP);
	if (s->flags & RTPB_PF_F_LATCHED) {
		int same = s->peer_family == family && s->peer_port == udp->source;

		if (same)
			same = pf_ip_eq(s->peer_ip, src, family == RTPB_PF_AF_INET ? 4 : 16);
		if (!same) {
			if (s->peer_ssrc != 0 && pf_ssrc(payload, data_end) == s->peer_ssrc)
				return pf_redirect(ctx, RTPB_PF_REDIRECT_SSRC);
			if (!pf_budget_ok(s))
				return pf_count(ctx, RTPB_PF_DROP_BUDGET, XDP_DROP);
			return pf_redirect(ctx, RTPB_PF_REDIRECT_CANDIDATE);
		}
	}
	return pf_redirect(ctx, RTPB_PF_REDIRECT);
}

static __always_inline int
pf_ipv4(struct xdp_md *ctx, void *l3, void *data_end)
{
	struct iphdr *ip = l3;
	struct rtpb_pf_sock_key key = {.family = RTPB_PF_AF_INET};
	__u32 ihl;

	if ((void *)(ip + 1) > data_end)
		return pf_count(ctx, RTPB_PF_PASS, XDP_PASS);
	if (!pf_is_relay(RTPB_PF_AF_INET, &ip->daddr, 4))
		return pf_count(ctx, RTPB_PF_PASS, XDP_PASS);
	if (ip->protocol != IPPROTO_UDP)
		return pf_count(ctx, RTPB_PF_PASS_OTHER, XDP_PASS);
	ihl = ip->ihl * 4u;
	if (ihl < sizeof(*ip) || (void *)((__u8 *)l3 + ihl) > data_end)
		return pf_count(ctx, RTPB_PF_DROP_TRUNCATED, XDP_DROP);
	if (ip->frag_off & bpf_htons(0x3fff))
		return pf_count(ctx, RTPB_PF_DROP_FRAGMENT, XDP_DROP);
	if (rtpb_pf_bogon4((const __u8 *)&ip->saddr) ||
	    pf_is_relay(RTPB_PF_AF_INET, &ip->saddr, 4))
		return pf_count(ctx, RTPB_PF_DROP_BOGON, XDP_DROP);
	__builtin_memcpy(key.ip, &ip->daddr, 4);
	return pf_udp(ctx, &key, (__u8 *)l3 + ihl, data_end, (const __u8 *)&ip->saddr,
		      RTPB_PF_AF_INET);
}

static __always_inline int
pf_ipv6(struct xdp_md *ctx, void *l3, void *data_end)
{
	struct ipv6hdr *ip6 = l3;
	struct rtpb_pf_sock_key key = {.family = RTPB_PF_AF_INET6};
	struct icmp6hdr *icmp;
	__u8 *target;

	if ((void *)(ip6 + 1) > data_end)
		return pf_count(ctx, RTPB_PF_PASS, XDP_PASS);
	if (ip6->nexthdr == IPPROTO_ICMPV6) {
		/* NDP (RFC 4861): solicitations go to the solicited-node
		 * multicast address, so look at the target. */
		icmp = (struct icmp6hdr *)(ip6 + 1);
		target = (__u8 *)(icmp + 1);
		if ((void *)(target + 16) <= data_end &&
		    (icmp->icmp6_type == 135 || icmp->icmp6_type == 136) &&
		    (pf_is_relay(RTPB_PF_AF_INET6, target, 16) ||
		     pf_is_relay(RTPB_PF_AF_INET6, &ip6->daddr, 16)))
			return pf_redirect(ctx, RTPB_PF_REDIRECT_ND);
	}
	if (!pf_is_relay(RTPB_PF_AF_INET6, &ip6->daddr, 16))
		return pf_count(ctx, RTPB_PF_PASS, XDP_PASS);
	if (ip6->nexthdr == 44) /* Fragment header (RFC 8200 §4.5) */
		return pf_count(ctx, RTPB_PF_DROP_FRAGMENT, XDP_DROP);
	if (ip6->nexthdr != IPPROTO_UDP)
		return pf_count(ctx, RTPB_PF_PASS_OTHER, XDP_PASS);
	if (rtpb_pf_bogon6((const __u8 *)&ip6->saddr) ||
	    pf_is_relay(RTPB_PF_AF_INET6, &ip6->saddr, 16))
		return pf_count(ctx, RTPB_PF_DROP_BOGON, XDP_DROP);
	__builtin_memcpy(key.ip, &ip6->daddr, 16);
	return pf_udp(ctx, &key, ip6 + 1, data_end, (const __u8 *)&ip6->saddr,
		      RTPB_PF_AF_INET6);
}

static __always_inline int
pf_arp(struct xdp_md *ctx, void *l3, void *data_end)
{
	struct pf_arp *arp = l3;

	if ((void *)(arp + 1) > data_end || arp->plen != 4 ||
	    !pf_is_relay(RTPB_PF_AF_INET, arp->tpa, 4))
		return pf_count(ctx, RTPB_PF_PASS, XDP_PASS);
	return pf_redirect(ctx, RTPB_PF_REDIRECT_ARP);
}

SEC("xdp")
int pf_main(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct pf_vlan *vlan;
	void *l3;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return pf_count(ctx, RTPB_PF_PASS, XDP_PASS);
	proto = eth->h_proto;
	l3 = eth + 1;
	/* up to two VLAN tags (802.1Q, QinQ) */
#pragma unroll
	for (i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q_) && proto != bpf_htons(ETH_P_8021AD_))
			break;
		vlan = l3;
		if ((void *)(vlan + 1) > data_end)
			return pf_count(ctx, RTPB_PF_PASS, XDP_PASS);
		proto = vlan->proto;
		l3 = vlan + 1;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return pf_ipv4(ctx, l3, data_end);
	if (proto == bpf_htons(ETH_P_IPV6))
		return pf_ipv6(ctx, l3, data_end);
	if (proto == bpf_htons(ETH_P_ARP))
		return pf_arp(ctx, l3, data_end);
	return pf_count(ctx, RTPB_PF_PASS, XDP_PASS);
}
