/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_arp.h: ARP (RFC 826) for the generator: it answers for its own
 * addresses (--gw and every host of --phone-net, so the relay may reach
 * the phones on-link or through the generator as gateway) and learns the
 * relay's MAC from the reply to its own request. Runs on the loop's
 * lcore, a few frames per second.
 */
#ifndef GEN_ARP_H
#define GEN_ARP_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "gen_run.h"

/**
 * Handle a received ARP frame (l3_off: offset of the ARP header).
 * Requests for our addresses are answered in place and sent; a reply
 * from r->relay_ip sets r->pc.dst_mac. Consumes m.
 */
void gen_arp_input(struct gen_run *r, struct rte_mbuf *m, uint16_t l3_off);

/**
 * Broadcast a request for ip from --gw (the relay learns our MAC from it,
 * RFC 826's merge).
 * @return 0, or -ENOBUFS (no mbuf, or the port refused it).
 */
int gen_arp_request(struct gen_run *r, uint32_t ip);

#endif /* GEN_ARP_H */
