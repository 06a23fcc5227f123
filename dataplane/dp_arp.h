/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_arp.h: ARP (RFC 826) for the relay addresses, main lcore only.
 * Answers requests for relay addresses, learns neighbours from what it
 * receives, and builds the requests that resolve next hops.
 */
#ifndef DP_ARP_H
#define DP_ARP_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

/**
 * Handle one ARP frame (l3_off: offset of the ARP header). Consumes m:
 * it is turned into a reply and queued for transmission, or freed.
 */
void dp_arp_input(struct rte_mbuf *m, uint16_t l3_off, uint64_t now_ns);

/**
 * Send an ARP request for ip (network byte order): broadcast, or unicast
 * to mac when given (a refresh). Counted in the main lcore's stats.
 * Nothing is sent if the relay has no IPv4 address. arg is unused.
 */
void dp_arp_request(uint32_t ip, const struct rte_ether_addr *mac, void *arg);

#endif /* DP_ARP_H */
