/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_nkeep.h: the neighbour cache kept across a dataplane restart
 * (issue 16 item 2), in a memory-mapped file (--neigh-file).
 *
 * Why: a new dataplane used to start with an empty cache, so the media
 * it held in RX during control's replay met unresolved next hops (their
 * ARP answers wait behind it in the same ring): 2-5 packets per restart
 * were dropped as neigh_pending. The file holds every resolved neighbour
 * (IPv4 and IPv6 address, MAC), one record per slot of the live table,
 * written by the main lcore when it confirms or evicts one (an ARP/NDP
 * answer: never per packet; a store into the mapping, no system call).
 * A new dataplane reads it back before its workers start: each neighbour
 * is usable at once and treated as STALE (RFC 4861 §7.3.2): a broadcast
 * request goes out at start (dp_nkeep_ask()), so a MAC that changed
 * while no dataplane ran is learnt from the answer, and an unanswered
 * one is dropped after the usual probes.
 *
 * Why a file and not control: the MACs are the dataplane's, learnt from
 * frames control never sees; a file (tmpfs under /run, page cache)
 * survives a crash of the dataplane, of control, or of both, and needs
 * no new message. A process killed mid-write leaves at worst one record
 * with a torn MAC: it is used for one request's round trip at most,
 * then corrected by the answer or dropped.
 *
 * Main lcore only (dp_neigh.h's writer), and dp_main.c at start.
 */
#ifndef DP_NKEEP_H
#define DP_NKEEP_H

#include <stddef.h>
#include <stdint.h>

#include "dp_neigh.h"

/**
 * Map the file at path (created, mode 0600, if missing; a file of
 * another format or size is started again).
 * @return 0, or -errno with err filled (path and the call that failed).
 */
int dp_nkeep_open(const char *path, char *err, size_t errsz);

/**
 * Insert every neighbour the file holds into t (seeded, empty), usable
 * and STALE, and rewrite the file for t's slots. Before the workers run,
 * after the relay addresses are set (dp_ctx.addrs). A record is restored
 * only if ARP/NDP would have learnt it: its MAC unicast and not zero, its
 * IP a host of a relay address's link (dp_addr_neigh_ok4/6); the others
 * (a file written under another --addr, or damaged), and any that finds
 * no free slot, are counted in *refused and dropped from the file.
 * @return the neighbours restored.
 */
uint32_t dp_nkeep_restore(struct dp_neigh *t, uint64_t now_ns, uint32_t *refused);

/** Ask each restored neighbour again, broadcast (main lcore, at start). */
void dp_nkeep_ask(dp_neigh_send_fn *send, void *arg);

/** Record IPv4 slot's neighbour ip (network order) at MAC mac (bytes
 *  0-5 with DP_NEIGH_VALID; 0: forget it). No-op without a file. */
void dp_nkeep_put4(uint32_t slot, uint32_t ip, uint64_t mac);

/** The same for IPv6 slot (ip: 16 bytes, network order). */
void dp_nkeep_put6(uint32_t slot, const uint8_t *ip, uint64_t mac);

/** Unmap (the file stays). */
void dp_nkeep_close(void);

#endif /* DP_NKEEP_H */
