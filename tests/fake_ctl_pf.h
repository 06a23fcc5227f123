/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fake_ctl_pf.h: controls of the in-memory ctl_pf.h implementation used
 * by control's unit tests (fake_ctl_pf.c), in place of the pinned BPF
 * maps. One fake prefilter per test process; ctl_pf_open() and
 * fake_pf_handle() return it.
 */
#ifndef FAKE_CTL_PF_H
#define FAKE_CTL_PF_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_pf.h"

/** One pf_socks entry as the fake holds it. */
struct fake_pf_sock {
	struct rtpb_addr local; /**< relay socket, network byte order */
	bool latched;           /**< RTPB_PF_F_LATCHED */
	struct rtpb_addr peer;  /**< the latched peer (family NONE if not) */
};

/** The handle (created if needed). */
struct ctl_pf *fake_pf_handle(void);

/** Start over: no entries, no addresses, counters and call log empty,
 *  no failure armed. */
void fake_pf_reset(void);

/** Number of pf_socks entries. */
uint32_t fake_pf_nsocks(void);

/** The entry of relay socket local (family, ip, port), or NULL. */
const struct fake_pf_sock *fake_pf_sock(const struct rtpb_addr *local);

/** Put an entry in directly, as a control that crashed left it. */
void fake_pf_insert(const struct rtpb_addr *local, const struct rtpb_addr *peer);

/**
 * Every sock call so far, one line each: "add ADDR:PORT", "latch
 * ADDR:PORT PEER:PORT" ("none" when cleared), "del ADDR:PORT", IPv6 in
 * brackets. Cleared by fake_pf_clear_log().
 */
const char *fake_pf_log(void);
void fake_pf_clear_log(void);

/**
 * The entries, one line each, sorted: "pf ADDR:PORT" or "pf ADDR:PORT
 * latched PEER:PORT" ("pf none" if there are none). Returns a new string
 * (g_free()).
 */
char *fake_pf_dump(void);

/** Misuse by the code under test: add of a socket that has an entry,
 *  latch or del of one that has none. */
uint32_t fake_pf_errors(void);

/** After `after` more successful ctl_pf_sock_add() calls, the next one
 *  fails with err (-errno), once; err 0 disarms. */
void fake_pf_fail_add(int after, int err);

/** Set the packets of verdict v (what ctl_pf_stats() returns). */
void fake_pf_set_stat(uint32_t v, uint64_t pkts);

/** ctl_pf_stats() fails with err (-errno), 0 to succeed again. */
void fake_pf_fail_stats(int err);

/** The relay addresses of the last ctl_pf_set_addrs(), and its budget. */
uint32_t fake_pf_naddrs(void);
const struct rtpb_addr *fake_pf_addr(uint32_t i);
void fake_pf_budget(uint32_t *pps, uint32_t *burst);

#endif /* FAKE_CTL_PF_H */
