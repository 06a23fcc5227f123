/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_nd.h: IPv6 Neighbor Discovery (RFC 4861) for the relay addresses,
 * the IPv6 counterpart of dp_arp.h.
 *
 * Workers classify NS/NA (dp_parse.c, DP_PKT_ND), keep those addressed to
 * the relay (dp_nd_for_relay()) and pass them through dp_ctx.sp_rx to the
 * main lcore, which runs dp_nd_input(): it validates them (RFC 4861
 * §7.1.1, §7.1.2), answers Neighbor Solicitations for relay addresses with
 * a solicited Neighbor Advertisement carrying the Target Link-Layer
 * Address option (§7.2.4; to ff02::1 for a DAD probe from ::), learns the
 * solicitor from its Source Link-Layer Address option (§7.2.3), and
 * learns next hops from Advertisements (§7.2.5). dp_nd_solicit() resolves
 * next hops: an NS to the target's solicited-node multicast address
 * (§7.2.2), or unicast to the known MAC for a refresh (§7.3.3).
 *
 * The relay has no link-local address of its own: it speaks from its
 * global relay addresses (the one on the target's prefix, else the first
 * IPv6 one), which RFC 4861 §7.2.2 allows for NS; routers answer to it.
 * The port runs in all-multicast mode (dp_main.c) so that solicited-node
 * multicast frames (33:33:ff:XX:XX:XX) reach it.
 *
 * The pure functions (dp_nd_check(), dp_nd_make_na(), dp_nd_make_ns())
 * touch only the mbuf they are given; dp_nd_input() and dp_nd_solicit()
 * use dp_ctx (relay addresses, neighbour cache, sp_tx, main lcore stats).
 */
#ifndef DP_ND_H
#define DP_ND_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp_ctx.h"
#include "dp_parse.h"

#define DP_ND_HOP_LIMIT 255   /**< RFC 4861 §7.1.1: NDP never crosses a router */
#define DP_ND_OPT_SLLA 1      /**< Source Link-Layer Address option (§4.6.1) */
#define DP_ND_OPT_TLLA 2      /**< Target Link-Layer Address option (§4.6.1) */
#define DP_ND_NA_F_ROUTER 0x80    /**< NA flags, first byte (§4.4) */
#define DP_ND_NA_F_SOLICITED 0x40
#define DP_ND_NA_F_OVERRIDE 0x20
/** NS or NA with one link-layer address option: 24 + 8 bytes. */
#define DP_ND_LEN_WITH_LLA 32

/** A validated NS or NA. Pointers into the frame. */
struct dp_nd_msg {
	uint8_t type;     /**< DP_ICMP6_NS or DP_ICMP6_NA */
	uint8_t flags;    /**< NA: DP_ND_NA_F_*; NS: 0 */
	const uint8_t *target;            /**< target address, 16 bytes */
	const struct rte_ether_addr *lla; /**< NS: SLLA, NA: TLLA; NULL if absent */
};

/** ff02::1:ffXX:XXXX, the solicited-node multicast address of ip (RFC 4291 §2.7.1). */
static inline void
dp_nd_solicited_node(const uint8_t *ip, uint8_t *out)
{
	static const uint8_t pfx[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0x01, 0xff};

	memcpy(out, pfx, sizeof(pfx));
	memcpy(out + 13, ip + 13, 3);
}

/**
 * Whether an NS/NA with IPv6 destination dst (16 bytes) is for the relay:
 * to a relay IPv6 address, to the solicited-node multicast address of
 * one, or to all-nodes ff02::1 (unsolicited NA). Workers call it to keep
 * other hosts' NDP (seen in all-multicast mode) off the slow path.
 */
static inline bool
dp_nd_for_relay(const uint8_t *dst)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 0x01};
	uint8_t snm[16];
	uint32_t i;

	if (dst[0] != 0xff)
		return dp_addr6_index(dst) >= 0;
	if (memcmp(dst, all_nodes, 16) == 0)
		return true;
	for (i = 0; i < dp_ctx.n_addr6; i++) {
		dp_nd_solicited_node(dp_ctx.addr6_ip[i], snm);
		if (memcmp(dst, snm, 16) == 0)
			return true;
	}
	return false;
}

/**
 * Validate an NS or NA (pm from dp_parse_pkt(), kind DP_PKT_ND) per
 * RFC 4861 §7.1.1 / §7.1.2: hop limit 255, ICMPv6 checksum (RFC 4443
 * §2.3), code 0, length >= 24, target and source not multicast (RFC
 * 4291 §2.7), every option of
 * non-zero length and inside the message; NS from :: only to a
 * solicited-node address and without SLLA; NA to a multicast address
 * without the Solicited flag.
 * @param out filled in on success.
 * @return 0, or -EINVAL.
 */
int dp_nd_check(const struct rte_mbuf *m, const struct dp_pkt_meta *pm,
		struct dp_nd_msg *out);

/**
 * Turn the validated NS m (pm, ns) into its Neighbor Advertisement, in
 * place (RFC 4861 §7.2.4): from the target address, to the solicitor
 * (Ethernet: its SLLA, else the frame's source MAC) with the Solicited
 * and Override flags, or to ff02::1 (33:33:00:00:00:01) without
 * Solicited if the NS came from :: (DAD); hop limit 255, one TLLA option
 * with mac, ICMPv6 checksum. VLAN tags stay; the frame is resized.
 * @return 0, or -ENOSPC if the mbuf has no room for the 32-byte NA.
 */
int dp_nd_make_na(struct rte_mbuf *m, const struct dp_pkt_meta *pm,
		  const struct dp_nd_msg *ns, const struct rte_ether_addr *mac);

/**
 * Build a Neighbor Solicitation for target into the empty mbuf m
 * (RFC 4861 §7.2.2): from src (a relay address) and mac, with an SLLA
 * option; to the target's solicited-node multicast address
 * (33:33:ff:XX:XX:XX) if dst_mac is NULL, else unicast to target at
 * dst_mac (a refresh). Addresses are 16 bytes, network byte order.
 * @return 0, or -ENOSPC if m has no room (86 bytes).
 */
int dp_nd_make_ns(struct rte_mbuf *m, const uint8_t *src, const uint8_t *target,
		  const struct rte_ether_addr *mac,
		  const struct rte_ether_addr *dst_mac);

/**
 * Handle one NS/NA frame passed up by a worker. Main lcore. Consumes m:
 * it becomes an NA queued for transmission, or is freed (counted as
 * RTPB_DROP_ND_OTHER if invalid or not for the relay, as
 * RTPB_DROP_STANDBY if for the relay while it is an HA standby).
 */
void dp_nd_input(struct rte_mbuf *m, const struct dp_pkt_meta *pm,
		 uint64_t now_ns);

/**
 * Send a Neighbor Solicitation for the IPv6 next hop ip (16 bytes):
 * multicast, or unicast to mac when given (a refresh). Counted as
 * nd_requests in the main lcore's stats; nothing is sent while the relay
 * is an HA standby (drop "standby", dp_ha.h). Main lcore.
 */
void dp_nd_solicit(const uint8_t *ip, const struct rte_ether_addr *mac);

/**
 * Build an unsolicited Neighbor Advertisement for relay address ip (16
 * bytes) from mac into the empty mbuf m (RFC 4861 §7.2.6): from ip to
 * all-nodes ff02::1 (33:33:00:00:00:01), target ip, Override set,
 * Solicited and Router clear, a TLLA option with mac, hop limit 255. A
 * neighbour's existing entry for ip takes mac (§7.2.5, Override).
 * @return 0, or -ENOSPC if m has no room (86 bytes).
 */
int dp_nd_make_unsol_na(struct rte_mbuf *m, const uint8_t *ip,
			const struct rte_ether_addr *mac);

/**
 * Announce relay address ip (16 bytes): one unsolicited NA
 * (dp_nd_make_unsol_na()) queued for worker 0, counted as ha_unsol_nas
 * in the main lcore's stats (dp_ha.h). Main lcore.
 */
void dp_nd_announce(const uint8_t *ip);

#endif /* DP_ND_H */
