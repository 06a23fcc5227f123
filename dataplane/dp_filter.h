/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_filter.h: the filter stage of the burst, after parse. A UDP packet
 * goes on only if it is addressed to a relay address and comes from a
 * source a peer can have: the XDP prefilter's source rules (bogon ranges,
 * a relay address as source, port 0; include/rtpb_pf_rules.h, DESIGN.md
 * §5), in software for NICs with no XDP program in front.
 *
 * The destination is checked for every packet (dp_filter_udp()); the
 * source rules (dp_filter_bogon()) only once the flow lookup found the
 * stream and the source is not its latched peer (dp_filter_src()): every
 * peer passed them when it latched, or was vetted by dp_ctl.c when
 * signalling set it (DP_STREAM_F_PEER_UNVETTED otherwise).
 *
 * Reads dp_ctx's relay addresses only (set up before the workers run).
 * Static inline: it runs for every packet of the burst.
 */
#ifndef DP_FILTER_H
#define DP_FILTER_H

#include <stdint.h>

#include <rte_branch_prediction.h>

#include "rtpb_addr.h"
#include "rtpb_pf_rules.h"
#include "rtpb_shm.h"
#include "dp_ctx.h"
#include "dp_parse.h"

/**
 * A source no peer can have: port 0, a bogon address of its family
 * (rtpb_pf_bogon4/6()) or one of the relay's own addresses.
 * @return 1 if so, else 0.
 */
static inline int
dp_filter_bogon(const struct rtpb_addr *src)
{
	if (unlikely(src->port == 0))
		return 1;
	if (likely(src->family == RTPB_AF_INET))
		return rtpb_pf_bogon4(src->ip) || dp_addr_index(rtpb_addr_v4(src)) >= 0;
	return rtpb_pf_bogon6(src->ip) || dp_addr6_index(src->ip) >= 0;
}

/**
 * Filter one parsed UDP packet (pm->kind == DP_PKT_UDP) by destination.
 * The source rules are the caller's (dp_filter_src()).
 * @param addr_idx set to the index of the destination relay address
 *                 (dp_ctx.addrs) when the packet goes on.
 * @return RTPB_DROP_NONE or RTPB_DROP_NOT_LOCAL (not to a relay address).
 */
static inline enum rtpb_drop
dp_filter_udp(const struct dp_pkt_meta *pm, int *addr_idx)
{
	int a = likely(pm->dst.family == RTPB_AF_INET) ?
		dp_addr_index(rtpb_addr_v4(&pm->dst)) : dp_addr6_index(pm->dst.ip);

	if (unlikely(a < 0))
		return RTPB_DROP_NOT_LOCAL;
	*addr_idx = a;
	return RTPB_DROP_NONE;
}

/**
 * The source rules for a packet of stream s: skipped when the source is
 * s's peer (is_peer, compared by the caller) and the peer is vetted (no
 * DP_STREAM_F_PEER_UNVETTED; dp_stream.h).
 * @return 1 if the packet must be dropped as RTPB_DROP_BOGON, else 0.
 */
static inline int
dp_filter_src(const struct dp_stream *s, const struct rtpb_addr *src, int is_peer)
{
	if (likely(is_peer && !(s->flags & DP_STREAM_F_PEER_UNVETTED)))
		return 0;
	return dp_filter_bogon(src);
}

#endif /* DP_FILTER_H */
