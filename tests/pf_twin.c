/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pf_twin.c: the XDP prefilter's software twin (see pf_twin.h). Written
 * from DESIGN.md §5 and the program's header comment, step for step in
 * the program's order, with the rules of rtpb_pf_rules.h; every bounds
 * check is the program's (a header past the frame end), not dp_parse's.
 */
#include <string.h>
#include <arpa/inet.h>

#include "rtpb_pf_rules.h"
#include "pf_twin.h"

void
pf_sock_entry(int family, const char *local, uint16_t port, const char *peer,
	      uint16_t peer_port, uint32_t ssrc, struct rtpb_pf_sock_key *k,
	      struct rtpb_pf_sock *v)
{
	int af = family == RTPB_PF_AF_INET ? AF_INET : AF_INET6;

	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	k->family = (uint8_t)family;
	k->port = htons(port);
	inet_pton(af, local, k->ip);
	if (peer == NULL)
		return;
	v->peer_ssrc = ssrc;
	v->flags = RTPB_PF_F_LATCHED;
	v->peer_family = (uint8_t)family;
	v->peer_port = htons(peer_port);
	inet_pton(af, peer, v->peer_ip);
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int
is_relay(const struct pf_twin *t, uint8_t family, const uint8_t *ip)
{
	uint32_t i, n = family == RTPB_PF_AF_INET ? 4 : 16;

	for (i = 0; i < t->n_addrs; i++)
		if (t->addrs[i].family == family && memcmp(t->addrs[i].ip, ip, n) == 0)
			return 1;
	return 0;
}

static int
sock_find(const struct pf_twin *t, uint8_t family, const uint8_t *ip, const uint8_t *port)
{
	uint32_t i, n = family == RTPB_PF_AF_INET ? 4 : 16;

	for (i = 0; i < t->n_socks; i++)
		if (t->keys[i].family == family && memcmp(t->keys[i].ip, ip, n) == 0 &&
		    memcmp(&t->keys[i].port, port, 2) == 0)
			return (int)i;
	return -1;
}

/* RTP SSRC or RTCP sender SSRC (RFC 5761 §4 demultiplexing); 0 if the
 * payload is shorter than 12 bytes. */
static uint32_t
ssrc_of(const uint8_t *p, uint32_t avail)
{
	uint8_t pt;

	if (avail < 12)
		return 0;
	pt = p[1] & 0x7f;
	if (pt >= 64 && pt <= 95)
		p += 4;
	else
		p += 8;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
twin_udp(struct pf_twin *t, const uint8_t *f, uint32_t len, uint32_t l4,
	 uint8_t family, const uint8_t *src, const uint8_t *dst)
{
	const uint8_t *u = f + l4;
	const struct rtpb_pf_sock *s;
	uint32_t n = family == RTPB_PF_AF_INET ? 4 : 16;
	int i, same;

	if (l4 + 8 > len)
		return RTPB_PF_DROP_TRUNCATED;
	if (be16(u) == 0)
		return RTPB_PF_DROP_BOGON;
	i = sock_find(t, family, dst, u + 2);
	if (i < 0)
		return RTPB_PF_DROP_NO_SESSION;
	if (l4 + 9 > len || !rtpb_pf_class_ok(u[8]))
		return RTPB_PF_DROP_CLASS;
	s = &t->socks[i];
	if (!(s->flags & RTPB_PF_F_LATCHED))
		return RTPB_PF_REDIRECT;
	same = s->peer_family == family && memcmp(&s->peer_port, u, 2) == 0 &&
	       memcmp(s->peer_ip, src, n) == 0;
	if (same)
		return RTPB_PF_REDIRECT;
	if (s->peer_ssrc != 0 && ssrc_of(u + 8, len - l4 - 8) == s->peer_ssrc)
		return RTPB_PF_REDIRECT_SSRC;
	if (t->budget_used[i]++ == 0 && t->first_fills)
		return RTPB_PF_REDIRECT_CANDIDATE;
	return RTPB_PF_DROP_BUDGET;
}

static uint32_t
twin_ipv4(struct pf_twin *t, const uint8_t *f, uint32_t len, uint32_t l3)
{
	const uint8_t *ip = f + l3;
	uint32_t ihl;

	if (l3 + 20 > len || !is_relay(t, RTPB_PF_AF_INET, ip + 16))
		return RTPB_PF_PASS;
	if (ip[9] != 17)
		return RTPB_PF_PASS_OTHER;
	ihl = (ip[0] & 0x0fu) * 4;
	if (ihl < 20 || l3 + ihl > len)
		return RTPB_PF_DROP_TRUNCATED;
	if (be16(ip + 6) & 0x3fff)
		return RTPB_PF_DROP_FRAGMENT;
	if (rtpb_pf_bogon4(ip + 12) || is_relay(t, RTPB_PF_AF_INET, ip + 12))
		return RTPB_PF_DROP_BOGON;
	return twin_udp(t, f, len, l3 + ihl, RTPB_PF_AF_INET, ip + 12, ip + 16);
}

static uint32_t
twin_ipv6(struct pf_twin *t, const uint8_t *f, uint32_t len, uint32_t l3)
{
	const uint8_t *ip6 = f + l3, *icmp = ip6 + 40;

	if (l3 + 40 > len)
		return RTPB_PF_PASS;
	/* NDP: an NS goes to the solicited-node address, so the target too
	 * (ICMPv6 header of 8 bytes, then the target) */
	if (ip6[6] == 58 && l3 + 40 + 8 + 16 <= len && (icmp[0] == 135 || icmp[0] == 136) &&
	    (is_relay(t, RTPB_PF_AF_INET6, icmp + 8) || is_relay(t, RTPB_PF_AF_INET6, ip6 + 24)))
		return RTPB_PF_REDIRECT_ND;
	if (!is_relay(t, RTPB_PF_AF_INET6, ip6 + 24))
		return RTPB_PF_PASS;
	if (ip6[6] == 44)
		return RTPB_PF_DROP_FRAGMENT;
	if (ip6[6] != 17)
		return RTPB_PF_PASS_OTHER;
	if (rtpb_pf_bogon6(ip6 + 8) || is_relay(t, RTPB_PF_AF_INET6, ip6 + 8))
		return RTPB_PF_DROP_BOGON;
	return twin_udp(t, f, len, l3 + 40, RTPB_PF_AF_INET6, ip6 + 8, ip6 + 24);
}

uint32_t
pf_twin_verdict(struct pf_twin *t, const uint8_t *f, uint32_t len)
{
	uint32_t l3 = 14;
	uint16_t proto;
	int i;

	if (len < 14)
		return RTPB_PF_PASS;
	proto = be16(f + 12);
	for (i = 0; i < 2 && (proto == 0x8100 || proto == 0x88a8); i++) {
		if (l3 + 4 > len)
			return RTPB_PF_PASS;
		proto = be16(f + l3 + 2);
		l3 += 4;
	}
	if (proto == 0x0800)
		return twin_ipv4(t, f, len, l3);
	if (proto == 0x86dd)
		return twin_ipv6(t, f, len, l3);
	/* ARP: 28 bytes, protocol address length 4, target a relay address */
	if (proto == 0x0806 && l3 + 28 <= len && f[l3 + 5] == 4 &&
	    is_relay(t, RTPB_PF_AF_INET, f + l3 + 24))
		return RTPB_PF_REDIRECT_ARP;
	return RTPB_PF_PASS;
}
