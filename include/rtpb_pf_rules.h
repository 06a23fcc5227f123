/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb_pf_rules.h: the prefilter's per-packet rules as pure inline
 * functions, one definition for the XDP program (bpf/prefilter.bpf.c)
 * and the dataplane's software stage (when no XDP program sits in
 * front of the NIC). No library calls, no loops over unbounded data:
 * the BPF verifier accepts them. DESIGN.md §5.
 */
#ifndef RTPB_PF_RULES_H
#define RTPB_PF_RULES_H

#include <linux/types.h>

/**
 * RFC 7983 first-byte classes a relay forwards: STUN (0-3), DTLS (20-63),
 * RTP/RTCP (128-191, which is also "RTP version 2", RFC 3550 §5.1).
 */
static inline int
rtpb_pf_class_ok(__u8 b)
{
	return b <= 3 || (b >= 20 && b <= 63) || (b >= 128 && b <= 191);
}

/**
 * A source no real peer has (IPv4, network byte order): 0.0.0.0/8,
 * 127.0.0.0/8, multicast 224.0.0.0/4, class E and broadcast
 * 240.0.0.0/4 (RFC 6890).
 * @param ip first byte of the address.
 */
static inline int
rtpb_pf_bogon4(const __u8 *ip)
{
	return ip[0] == 0 || ip[0] == 127 || ip[0] >= 224;
}

/**
 * A source no real peer has (IPv6, network byte order): unspecified ::,
 * loopback ::1, multicast ff00::/8 (RFC 4291 §2.5.2, 2.5.3, 2.7).
 * @param ip the 16 address bytes.
 */
static inline int
rtpb_pf_bogon6(const __u8 *ip)
{
	__u32 rest = 0;
	int i;

	if (ip[0] == 0xff)
		return 1;
	for (i = 0; i < 15; i++)
		rest |= ip[i];
	return rest == 0 && (ip[15] == 0 || ip[15] == 1);
}

/**
 * The budget of a latched stream for packets from other sources (DESIGN.md
 * §5, §4.9): a token bucket of pps packets per second and depth burst
 * packets, in 1/1000 packets so that refills smaller than a packet add up.
 * One rule for the XDP program (bpf_ktime_get_ns() clock) and the
 * dataplane's software twin (its own clock): each keeps the time of its
 * last refill and passes the time since.
 * @param elapsed_ns time since the last call for this stream, ns (a huge
 *                   value, as on the first call, fills the bucket).
 * @param tokens     the bucket, 1/1000 packets; updated.
 * @param pps        refill rate, packets per second.
 * @param burst      depth, packets.
 * @return 1 if the packet is within the budget (a token taken), else 0.
 */
static inline int
rtpb_pf_budget_take(__u64 elapsed_ns, __u32 *tokens, __u32 pps, __u32 burst)
{
	__u64 max = (__u64)burst * 1000;
	__u64 t;

	/* elapsed/1000 * pps/1000 keeps the product within 64 bits */
	if (elapsed_ns > max * 1000000000ull)
		t = max;
	else
		t = *tokens + elapsed_ns / 1000 * pps / 1000;
	if (t > max)
		t = max;
	if (t < 1000) {
		*tokens = (__u32)t;
		return 0;
	}
	*tokens = (__u32)(t - 1000);
	return 1;
}

#endif /* RTPB_PF_RULES_H */
