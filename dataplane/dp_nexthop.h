/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_nexthop.h: the next-hop stage: the MAC a relayed packet goes to.
 * One choice for the worker's burst and for the prefetch that resolves
 * a peer's next hop ahead of its first packet (dp_nexthop_prefetch()).
 *
 * The next hop toward dst from a stream's relay address is dst itself
 * when it is on-link for that address's prefix, else the default gateway
 * of the family. Its MAC comes from the neighbour cache (dp_neigh.h,
 * written by the main lcore only); a miss asks the main lcore to resolve
 * it (dp_ctx.nh_req ring, struct rtpb_addr elements) and the packet is
 * dropped, not queued. The slot of the cache entry is cached in the
 * stream (nh_idx), which only its owner worker writes.
 */
#ifndef DP_NEXTHOP_H
#define DP_NEXTHOP_H

#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "rtpb_addr.h"
#include "rtpb_shm.h"
#include "dp_ctx.h"
#include "dp_neigh.h"
#include "dp_stream.h"

/**
 * Next-hop MAC toward dst (either family) from relay address addr_idx,
 * with the neighbour slot cached in *nh_idx (a field of a stream the
 * calling worker owns). Never blocks.
 * @return RTPB_DROP_NONE and *mac set; RTPB_DROP_FAMILY (dst of another
 *         family than the relay address), RTPB_DROP_NO_ROUTE (off-link,
 *         no gateway of the family) or RTPB_DROP_NEIGH_PENDING (not
 *         resolved yet: a request went to the main lcore).
 */
static inline enum rtpb_drop
dp_nexthop_mac_at(uint32_t addr_idx, uint16_t *nh_idx, const struct rtpb_addr *dst,
		  struct rte_ether_addr *mac)
{
	struct rtpb_addr req;
	const uint8_t *nh6;
	uint32_t nh;
	int slot;

	if (unlikely(dst->family != dp_ctx.addrs[addr_idx].family))
		return RTPB_DROP_FAMILY;
	if (likely(dst->family == RTPB_AF_INET)) {
		nh = rtpb_addr_v4(dst);
		if (!dp_addr_onlink4(addr_idx, nh))
			nh = dp_ctx.gateway;
		if (unlikely(nh == 0))
			return RTPB_DROP_NO_ROUTE;
		if (likely(dp_neigh_mac(dp_ctx.neigh, *nh_idx, nh, mac)))
			return RTPB_DROP_NONE;
		slot = dp_neigh_find(dp_ctx.neigh, nh);
		if (slot >= 0 && dp_neigh_mac(dp_ctx.neigh, slot, nh, mac)) {
			*nh_idx = (uint16_t)slot;
			return RTPB_DROP_NONE;
		}
		rtpb_addr_set_v4(&req, nh, 0);
	} else {
		nh6 = dst->ip;
		if (!dp_addr_onlink6(addr_idx, nh6)) {
			if (unlikely(!dp_ctx.gateway6_set))
				return RTPB_DROP_NO_ROUTE;
			nh6 = dp_ctx.gateway6;
		}
		if (likely(dp_neigh6_mac(dp_ctx.neigh, *nh_idx, nh6, mac)))
			return RTPB_DROP_NONE;
		slot = dp_neigh6_find(dp_ctx.neigh, nh6);
		if (slot >= 0 && dp_neigh6_mac(dp_ctx.neigh, slot, nh6, mac)) {
			*nh_idx = (uint16_t)slot;
			return RTPB_DROP_NONE;
		}
		memset(&req, 0, sizeof(req));
		req.family = RTPB_AF_INET6;
		memcpy(req.ip, nh6, 16);
	}
	/* Ask the main lcore to resolve it; the packet is not queued. */
	rte_ring_mp_enqueue_elem(dp_ctx.nh_req, &req, sizeof(req));
	return RTPB_DROP_NEIGH_PENDING;
}

/**
 * Next-hop MAC toward dst from stream o's relay address
 * (dp_nexthop_mac_at()), the slot cached in o->nh_idx; o must be owned
 * by the calling worker. Never blocks. Returns as dp_nexthop_mac_at().
 */
static inline enum rtpb_drop
dp_nexthop_mac(struct dp_stream *o, const struct rtpb_addr *dst,
	       struct rte_ether_addr *mac)
{
	return dp_nexthop_mac_at(o->addr_idx, &o->nh_idx, dst, mac);
}

/**
 * Resolve the next hop toward dst from stream s's relay address ahead of
 * the first packet (dp_nexthop_mac() with the result ignored), so the
 * first packets toward a signalled peer, or a peer that just latched
 * (handover), are not dropped waiting for ARP/NDP. dst of another family
 * than s's socket is ignored. s must be owned by the calling worker.
 * Never blocks.
 */
void dp_nexthop_prefetch(struct dp_stream *s, const struct rtpb_addr *dst);

#endif /* DP_NEXTHOP_H */
