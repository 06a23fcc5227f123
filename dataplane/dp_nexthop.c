/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_nexthop.c: the next-hop prefetch, off the per-packet path (on a
 * control message or a latch); the choice itself is dp_nexthop_mac() in
 * dp_nexthop.h.
 */
#include <rte_ether.h>

#include "dp_nexthop.h"

void
dp_nexthop_prefetch(struct dp_stream *s, const struct rtpb_addr *dst)
{
	struct rte_ether_addr mac;

	(void)dp_nexthop_mac(s, dst, &mac);
}
