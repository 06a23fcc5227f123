/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pf_twin.h: the XDP prefilter (bpf/prefilter.bpf.c) as plain C over a
 * frame in memory, for tests/test_bpf_pf_diff.c: the same walk of the
 * headers and the same rules (include/rtpb_pf_rules.h), its maps as
 * small tables. It returns the verdict whose counter the program bumps.
 * pf_sock_entry() builds a pf_socks entry for the twin and the tests'
 * maps alike (test_bpf_prefilter.c uses it too).
 */
#ifndef PF_TWIN_H
#define PF_TWIN_H

#include <stdint.h>

#include "rtpb_pf.h"

#define PF_TWIN_MAX 8

/** The twin's maps: pf_addrs and pf_socks (budget state kept here). */
struct pf_twin {
	struct rtpb_pf_addr_key addrs[PF_TWIN_MAX];
	uint32_t n_addrs;
	struct rtpb_pf_sock_key keys[PF_TWIN_MAX];
	struct rtpb_pf_sock socks[PF_TWIN_MAX];
	uint32_t n_socks;
	/** The token bucket as the tests configure it (pf_cfg: 0 packets/s,
	 * depth 1): a latched socket's first other source passes if the
	 * clock is past 1000 s (a full bucket), no later one does. */
	uint8_t budget_used[PF_TWIN_MAX];
	int first_fills;
};

/**
 * A pf_socks entry as control writes it: the relay socket local:port
 * (family 4 or 6, addresses as text, port host order), latched to
 * peer:peer_port with the peer's SSRC ssrc unless peer is NULL.
 */
void pf_sock_entry(int family, const char *local, uint16_t port, const char *peer,
		   uint16_t peer_port, uint32_t ssrc, struct rtpb_pf_sock_key *k,
		   struct rtpb_pf_sock *v);

/**
 * The verdict of the prefilter on frame f of len bytes.
 * @return enum rtpb_pf_verdict (the counter that goes up by one).
 */
uint32_t pf_twin_verdict(struct pf_twin *t, const uint8_t *f, uint32_t len);

#endif /* PF_TWIN_H */
