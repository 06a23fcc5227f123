/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb_pf.h: the XDP prefilter's maps and counters, shared by the BPF
 * program (bpf/prefilter.bpf.c), its loader in control and the tools.
 *
 * Only __u8/__u32/__be16-style types, so the BPF side includes it too (as
 * xdp-filter's common_kern_user.h). Every address and port in a key or a
 * value is in network byte order; IPv4 addresses sit in ip[0..3] with the
 * rest zero, so one key layout serves both families.
 *
 * Who writes what (DESIGN.md §5):
 * - pf_addrs: control, at start (the dataplane's relay addresses).
 * - pf_socks: control (add on U/L, remove on D and timeout) and the latch
 *   and handover events control reads from the dataplane (peer, LATCHED).
 *   The program writes only the token bucket fields of a value.
 * - pf_cfg: control, at start.
 * - pf_stats: the program (per CPU); control and tools read and sum.
 * - xsks_map: the net_af_xdp PMD (one AF_XDP socket per queue).
 * All maps are pinned by name under bpffs (LIBBPF_PIN_BY_NAME), so the
 * PMD's load of the program, control and bpftool share them.
 */
#ifndef RTPB_PF_H
#define RTPB_PF_H

#include <linux/types.h>

#define RTPB_PF_MAX_ADDRS 16
/** Relay sockets (streams) in pf_socks: every port of every relay
 * address (RTPB_PF_MAX_ADDRS x 65536), so the prefilter never refuses a
 * leg control can open (a pool per address). The map is
 * BPF_F_NO_PREALLOC: entries cost kernel memory when added; its 2^20
 * buckets (16 MiB) are allocated at load. */
#define RTPB_PF_MAX_SOCKS (RTPB_PF_MAX_ADDRS * 65536)
#define RTPB_PF_MAX_QUEUES 64    /**< NIC queues in xsks_map */

/** The pinned maps' names (LIBBPF_PIN_BY_NAME), under the pin root. */
#define RTPB_PF_PINNED_MAPS { "pf_addrs", "pf_socks", "pf_cfg", "pf_stats" }

/** Families as in struct rtpb_addr (rtpb_addr.h): 4 and 6. */
#define RTPB_PF_AF_INET 4
#define RTPB_PF_AF_INET6 6

/**
 * Verdicts and their reasons, one X-macro for the enum, the per-CPU
 * counters and the names tools print. Index into pf_stats.
 */
#define RTPB_PF_FOREACH_VERDICT(_)                                            \
	_(PASS, "pass", "not for a relay address: to the kernel")              \
	_(REDIRECT, "redirect", "media for a session: to the dataplane")      \
	_(REDIRECT_CANDIDATE, "redirect_candidate",                           \
	  "other source of a latched stream, within its budget")              \
	_(REDIRECT_SSRC, "redirect_ssrc",                                     \
	  "other source of a latched stream with the peer's SSRC (a move)")   \
	_(REDIRECT_ARP, "redirect_arp", "ARP for a relay address")            \
	_(REDIRECT_ND, "redirect_nd", "NDP for a relay address")              \
	_(PASS_OTHER, "pass_other", "non-UDP to a relay address: to the kernel") \
	_(DROP_TRUNCATED, "drop_truncated", "truncated IP/UDP header")        \
	_(DROP_FRAGMENT, "drop_fragment", "IP fragment to a relay address")   \
	_(DROP_BOGON, "drop_bogon", "bogon source address or port 0")         \
	_(DROP_NO_SESSION, "drop_no_session", "no session on the port")       \
	_(DROP_CLASS, "drop_class", "first byte not STUN/DTLS/RTP (RFC 7983)") \
	_(DROP_BUDGET, "drop_budget",                                         \
	  "other source of a latched stream, over its budget")

/** enum rtpb_pf_verdict: RTPB_PF_<NAME>. */
enum rtpb_pf_verdict {
#define RTPB_PF_VERDICT_ENUM(e, n, d) RTPB_PF_##e,
	RTPB_PF_FOREACH_VERDICT(RTPB_PF_VERDICT_ENUM)
#undef RTPB_PF_VERDICT_ENUM
	RTPB_PF_VERDICT__COUNT
};

#ifndef __bpf__
/** A verdict's short name (the label control, tools and tests print) and
 * what it means: RTPB_PF_FOREACH_VERDICT's second and third columns. */
struct rtpb_pf_verdict_text {
	const char *name;
	const char *descr;
};

/**
 * Name and description of verdict v; {"?", "?"} out of range. User
 * space only. Static storage.
 */
static inline const struct rtpb_pf_verdict_text *
rtpb_pf_verdict_text(unsigned int v)
{
	static const struct rtpb_pf_verdict_text t[RTPB_PF_VERDICT__COUNT + 1] = {
#define RTPB_PF_VERDICT_TEXT(e, n, d) [RTPB_PF_##e] = {n, d},
		RTPB_PF_FOREACH_VERDICT(RTPB_PF_VERDICT_TEXT)
#undef RTPB_PF_VERDICT_TEXT
		[RTPB_PF_VERDICT__COUNT] = {"?", "?"},
	};

	return &t[v < RTPB_PF_VERDICT__COUNT ? v : RTPB_PF_VERDICT__COUNT];
}
#endif /* !__bpf__ */

/** Per-CPU counter of one verdict: packets and frame bytes. */
struct rtpb_pf_stat {
	__u64 pkts;
	__u64 bytes;
};

/** pf_addrs key: a relay address. */
struct rtpb_pf_addr_key {
	__u8 family; /**< RTPB_PF_AF_INET or _INET6 */
	__u8 pad[3];
	__u8 ip[16]; /**< network byte order */
};

/** pf_socks key: a relay socket (address and port). 20 bytes. */
struct rtpb_pf_sock_key {
	__u8 ip[16]; /**< relay address, network byte order */
	__be16 port; /**< relay port, network byte order */
	__u8 family; /**< RTPB_PF_AF_INET or _INET6 */
	__u8 pad;
};

/** pf_socks flags. */
#define RTPB_PF_F_LATCHED (1u << 0) /**< peer is set: budget other sources */

/**
 * pf_socks value: one relay socket with a session. Control writes flags
 * and the peer; the program writes the token bucket (racy across CPUs by
 * design: the budget is approximate, never a lock on the fast path).
 */
struct rtpb_pf_sock {
	__u32 flags;      /**< RTPB_PF_F_* */
	__be16 peer_port; /**< latched peer's port, network byte order */
	__u8 peer_family; /**< 0 if none */
	__u8 pad;
	__u8 peer_ip[16]; /**< latched peer, network byte order */
	__u64 tb_last_ns; /**< token bucket: last refill, bpf_ktime_get_ns() */
	__u32 tb_tokens;  /**< tokens left, in 1/1000 packets */
	/** SSRC of the latched peer's RTP (RTCP: sender SSRC), host order;
	 * 0 if unknown. A packet from another source carrying it is a phone
	 * that moved (DESIGN.md §4.4): it passes whatever the budget, so a
	 * flood on the port cannot starve a same-SSRC handover. */
	__u32 peer_ssrc;
};

/** pf_cfg value (one entry, key 0). */
struct rtpb_pf_cfg {
	__u32 budget_pps;   /**< packets/s from other sources per latched stream */
	__u32 budget_burst; /**< bucket depth, packets */
};

/**
 * Defaults: 150 packets/s (3 per 20 ms, three times a moving phone's
 * 50 packets/s, so a real handover is never throttled) and a depth of 5.
 * Between two packets of the real phone (20 ms) at most 5 + 3 = 8 packets
 * of a flood get through, fewer than the 10 consecutive packets the
 * dataplane's probation needs (--probation-rtp, DESIGN.md §4.4).
 */
#define RTPB_PF_BUDGET_PPS 150
#define RTPB_PF_BUDGET_BURST 5

#endif /* RTPB_PF_H */
