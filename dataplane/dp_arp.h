/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_arp.h: ARP (RFC 826) for the relay addresses, main lcore only.
 * Answers requests for relay addresses, learns neighbours from what it
 * receives, and builds the requests that resolve next hops.
 */
#ifndef DP_ARP_H
#define DP_ARP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

/**
 * Handle one ARP frame (l3_off: offset of the ARP header). Consumes m:
 * it is turned into a reply and queued for transmission, or freed (an HA
 * standby answers nothing: drop "standby", dp_ha.h).
 */
void dp_arp_input(struct rte_mbuf *m, uint16_t l3_off, uint64_t now_ns);

/**
 * Send an ARP request for ip (network byte order): broadcast, or unicast
 * to mac when given (a refresh). Counted in the main lcore's stats.
 * Nothing is sent if the relay has no IPv4 address, nor while it is an
 * HA standby (counted as drop "standby": its sender would be a relay
 * address, dp_ha.h). arg is unused.
 */
void dp_arp_request(uint32_t ip, const struct rte_ether_addr *mac, void *arg);

/**
 * Build a gratuitous ARP for relay address ip (network byte order) from
 * mac into the empty mbuf m (42 bytes), to
 * the Ethernet broadcast: sender and target IP both ip; a request
 * (RFC 5227 §3 "ARP Announcement", target MAC zero) or, if reply, a
 * reply whose target MAC is mac (RFC 5944 §4.6). Either makes a
 * neighbour's existing entry for ip take mac at once (Linux: locktime
 * does not hold a gratuitous ARP back).
 * @return 0, or -ENOSPC if m has no room.
 */
int dp_arp_make_garp(struct rte_mbuf *m, uint32_t ip, const struct rte_ether_addr *mac,
		      bool reply);

/**
 * Announce relay address ip (network byte order): one gratuitous ARP
 * (dp_arp_make_garp()) queued for worker 0, counted as ha_garps in the
 * main lcore's stats (dp_ha.h). Main lcore.
 */
void dp_arp_announce(uint32_t ip, bool reply);

#endif /* DP_ARP_H */
