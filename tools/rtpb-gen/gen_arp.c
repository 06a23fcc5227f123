/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_arp.c: the generator's ARP (see gen_arp.h).
 */
#include <errno.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ethdev.h>

#include "gen_arp.h"

/* Whether ip (network order) is one of the generator's addresses. */
static bool
ours(const struct gen_run *r, uint32_t ip)
{
	uint32_t h = rte_be_to_cpu_32(ip), mask;

	if (ip == r->cfg->gw_ip)
		return true;
	mask = r->cfg->phone_plen == 0 ? 0 : ~0u << (32 - r->cfg->phone_plen);
	return (h & mask) == r->cfg->phone_net && h != r->cfg->phone_net &&
	       h != (r->cfg->phone_net | ~mask);
}

static int
tx_one(struct gen_run *r, struct rte_mbuf *m)
{
	if (rte_eth_tx_burst(r->port, 0, &m, 1) == 1)
		return 0;
	rte_pktmbuf_free(m);
	return -ENOBUFS;
}

void
gen_arp_input(struct gen_run *r, struct rte_mbuf *m, uint16_t l3_off)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp =
		rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, l3_off);
	uint32_t sip = arp->arp_data.arp_sip, tip = arp->arp_data.arp_tip;

	r->arp_rx++;
	if (arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		rte_pktmbuf_free(m);
		return;
	}
	if (sip == r->relay_ip && sip != 0) {
		rte_ether_addr_copy(&arp->arp_data.arp_sha, &r->pc.dst_mac);
		r->relay_mac_known = true;
	}
	if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) || !ours(r, tip)) {
		rte_pktmbuf_free(m);
		return;
	}
	/* the request, turned into its reply in place */
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&arp->arp_data.arp_sha, &arp->arp_data.arp_tha);
	arp->arp_data.arp_tip = sip;
	rte_ether_addr_copy(&r->pc.src_mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = tip;
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&r->pc.src_mac, &eth->src_addr);
	if (tx_one(r, m) == 0)
		r->arp_replies++;
}

int
gen_arp_request(struct gen_run *r, uint32_t ip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(r->pool);
	uint16_t len;

	if (m == NULL)
		return -ENOBUFS;
	len = gen_pkt_arp_request(rte_pktmbuf_mtod(m, uint8_t *),
				  &r->pc.src_mac, r->cfg->gw_ip, ip);
	m->data_len = len;
	m->pkt_len = len;
	if (tx_one(r, m) != 0)
		return -ENOBUFS;
	r->arp_requests++;
	return 0;
}
