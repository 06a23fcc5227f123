/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_arp.c: ARP for the relay addresses (RFC 826), run by the main lcore
 * on frames the workers pass up through dp_ctx.sp_rx. Not on the fast
 * path: at most a few frames per millisecond.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_arp.h"
#include "dp_ctx.h"
#include "dp_ha.h"
#include "dp_slowtx.h"

static struct rtpb_lcore_stats *
arp_stats(void)
{
	return rtpb_shm_lcore_stats(dp_ctx.shm, dp_ctx.n_workers);
}

/* The relay address to speak from toward ip: the one whose prefix holds
 * it, else the first. */
static uint32_t
arp_source_for(uint32_t ip)
{
	uint32_t i;

	for (i = 0; i < dp_ctx.n_addr4; i++)
		if (dp_addr_onlink4(dp_ctx.addr4_idx[i], ip))
			return dp_ctx.addr4_ip[i];
	return dp_ctx.n_addr4 > 0 ? dp_ctx.addr4_ip[0] : 0;
}

/* An ARP frame for IPv4 over Ethernet (RFC 826), from scratch into the
 * empty mbuf m: to eth_dst (NULL: broadcast), from mac (also the sender
 * MAC); tha NULL is zeros. @return 0, or -ENOSPC. */
static int
arp_build(struct rte_mbuf *m, const struct rte_ether_addr *eth_dst, uint16_t op,
	  const struct rte_ether_addr *mac, uint32_t sip,
	  const struct rte_ether_addr *tha, uint32_t tip)
{
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*arp));
	if (eth == NULL)
		return -ENOSPC;
	arp = (struct rte_arp_hdr *)(eth + 1);
	if (eth_dst != NULL)
		rte_ether_addr_copy(eth_dst, &eth->dst_addr);
	else
		memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(mac, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = sip;
	if (tha != NULL)
		rte_ether_addr_copy(tha, &arp->arp_data.arp_tha);
	else
		memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = tip;
	return 0;
}

void
dp_arp_request(uint32_t ip, const struct rte_ether_addr *mac, void *arg)
{
	struct rte_mbuf *m;

	(void)arg;
	if (dp_ctx.n_addr4 == 0)
		return;
	if (dp_ha_silent()) {
		/* its sender would be a relay address (dp_ha.h) */
		arp_stats()->drops[RTPB_DROP_STANDBY]++;
		return;
	}
	m = rte_pktmbuf_alloc(dp_ctx.pool);
	if (m == NULL)
		return;
	if (arp_build(m, mac, RTE_ARP_OP_REQUEST, &dp_ctx.mac, arp_source_for(ip), NULL,
		      ip) != 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (dp_slowtx_queue(m) == 0)
		arp_stats()->arp_requests++;
}

/* A new neighbour sip, if it is a host of a relay address's link (not
 * a relay address, not the subnet's broadcast); refusals counted.
 * @return its slot, or -1. */
static int
arp_learn(uint32_t sip)
{
	int slot;

	if (!dp_addr_neigh_ok4(sip)) {
		arp_stats()->neigh_refused_offlink++;
		return -1;
	}
	slot = dp_neigh_insert(dp_ctx.neigh, sip);
	if (slot < 0)
		arp_stats()->neigh_refused_full++;
	return slot;
}

void
dp_arp_input(struct rte_mbuf *m, uint16_t l3_off, uint64_t now_ns)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, l3_off);
	uint32_t sip = arp->arp_data.arp_sip, tip = arp->arp_data.arp_tip;
	bool for_us = dp_addr_index(tip) >= 0;
	int slot;

	if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4 ||
	    sip == 0 || rte_is_multicast_ether_addr(&arp->arp_data.arp_sha))
		goto drop;

	/* RFC 826 "merge": refresh a neighbour we know; learn the sender
	 * when we are the target (it is about to talk to us). Only a sender
	 * that gives its own Ethernet source as its MAC, and only one on a
	 * relay address's link (a next hop can be nothing else): anyone
	 * else would squat slots of the cache (issue 16). */
	if (!rte_is_same_ether_addr(&arp->arp_data.arp_sha, &eth->src_addr)) {
		arp_stats()->neigh_refused_mac++;
		slot = -1;
	} else {
		slot = dp_neigh_find(dp_ctx.neigh, sip);
		if (slot < 0 && for_us)
			slot = arp_learn(sip);
	}
	if (slot >= 0)
		dp_neigh_confirm(dp_ctx.neigh, slot, &arp->arp_data.arp_sha, now_ns);

	if (!for_us || arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST))
		goto done;
	if (dp_ha_silent()) {
		/* the active relay answers (dp_ha.h) */
		arp_stats()->drops[RTPB_DROP_STANDBY]++;
		rte_pktmbuf_free(m);
		return;
	}

	/* Turn the request into the reply, in place. */
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&arp->arp_data.arp_sha, &arp->arp_data.arp_tha);
	arp->arp_data.arp_tip = sip;
	rte_ether_addr_copy(&dp_ctx.mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = tip;
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&dp_ctx.mac, &eth->src_addr);
	if (dp_slowtx_queue(m) == 0)
		arp_stats()->arp_replies++;
	return;
drop:
	arp_stats()->drops[RTPB_DROP_ARP_OTHER]++;
	rte_pktmbuf_free(m);
	return;
done:
	if (!for_us)
		arp_stats()->drops[RTPB_DROP_ARP_OTHER]++;
	rte_pktmbuf_free(m);
}

int
dp_arp_make_garp(struct rte_mbuf *m, uint32_t ip, const struct rte_ether_addr *mac,
		 bool reply)
{
	/* RFC 5227 §3: a request's target MAC is ignored, zero; RFC 5944
	 * §4.6: a reply's is the sender's (Linux counts a reply as
	 * gratuitous only then) */
	return arp_build(m, NULL, reply ? RTE_ARP_OP_REPLY : RTE_ARP_OP_REQUEST, mac, ip,
			 reply ? mac : NULL, ip);
}

void
dp_arp_announce(uint32_t ip, bool reply)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp_ctx.pool);

	if (m == NULL)
		return;
	if (dp_arp_make_garp(m, ip, &dp_ctx.mac, reply) != 0) {
		rte_pktmbuf_free(m);
		return;
	}
	if (dp_slowtx_queue(m) == 0)
		arp_stats()->ha_garps++;
}
