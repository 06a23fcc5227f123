/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_pf.h: control's side of the XDP prefilter (bpf/prefilter.bpf.c,
 * DESIGN.md §5): the pinned maps.
 *
 * The net_af_xdp PMD loads the program (devarg xdp_prog=) with libbpf's
 * default pin root, /sys/fs/bpf, and its maps are pinned by name there;
 * control opens the same pins, creating them if it starts first (it
 * loads the skeleton, which pins the maps, and never attaches the
 * program). Control writes the relay addresses, one entry per relay
 * socket with a session, and the latched peer of each from the
 * dataplane's latch events; it reads the per-CPU counters.
 *
 * Single-threaded (control's loop). Every call is a bpf() syscall or
 * two: setup and signalling path only.
 */
#ifndef CTL_PF_H
#define CTL_PF_H

#include <stdbool.h>
#include <stdint.h>

#include "rtpb_addr.h"
#include "rtpb_pf.h"

/** libbpf's default pin root, where the PMD's load pins the maps. */
#define CTL_PF_PIN_ROOT "/sys/fs/bpf"

struct ctl_pf;

/**
 * Open (or create and pin) the prefilter's maps under pin_root.
 * @param pin_root bpffs directory (CTL_PF_PIN_ROOT unless testing).
 * @param err      on failure, what failed (static string).
 * @return the handle, or NULL with errno set.
 */
struct ctl_pf *ctl_pf_open(const char *pin_root, const char **err);

/**
 * Close the handle. With unpin, also remove the pins (clean stop: the
 * maps then live only as long as a loaded program uses them).
 */
void ctl_pf_close(struct ctl_pf *pf, bool unpin);

/**
 * Set the relay addresses (port ignored) and the token bucket
 * (packets/s, depth in packets; 0 = the defaults of rtpb_pf.h).
 * Addresses left in pf_addrs by a previous run and not in addrs are
 * removed (their traffic goes back to the kernel).
 * @return 0, -E2BIG if n > RTPB_PF_MAX_ADDRS, or -errno of the failed
 *         map update.
 */
int ctl_pf_set_addrs(struct ctl_pf *pf, const struct rtpb_addr *addrs,
		     uint32_t n, uint32_t budget_pps, uint32_t budget_burst);

/**
 * A relay socket got a session (rtpproxy 'U'/'L'): UDP to it passes.
 * peer is the latched (or asymmetric) peer, or NULL/family NONE.
 * Replaces any entry for local.
 * @return 0, or -errno (-E2BIG: map full).
 */
int ctl_pf_sock_add(struct ctl_pf *pf, const struct rtpb_addr *local,
		    const struct rtpb_addr *peer);

/**
 * A relay socket whose stream control keeps after a restart (an earlier
 * control's, found in the dataplane): its entry stays as it is (latched
 * peer, token bucket); if it has none, one without a peer is added.
 * @return 0, or -errno (-E2BIG: map full).
 */
int ctl_pf_sock_keep(struct ctl_pf *pf, const struct rtpb_addr *local);

/**
 * The dataplane latched local's stream to peer (RTPB_MSG_EV_LATCH):
 * other sources are budgeted from now on, except packets carrying ssrc
 * (the peer's SSRC, host order, from the event; 0 if unknown), which
 * pass as a phone that moved. The token bucket is kept.
 * @return 0, -ENOENT if local has no entry, or -errno.
 */
int ctl_pf_sock_latch(struct ctl_pf *pf, const struct rtpb_addr *local,
		      const struct rtpb_addr *peer, uint32_t ssrc);

/**
 * The session of local is gone ('D', timeout).
 * @return 0, or -ENOENT if there was no entry.
 */
int ctl_pf_sock_del(struct ctl_pf *pf, const struct rtpb_addr *local);

/**
 * Reconcile after a restart: delete every socket entry for which keep()
 * returns false (sessions control does not know).
 * @return the number of entries deleted.
 */
uint32_t ctl_pf_reconcile(struct ctl_pf *pf,
			  bool (*keep)(const struct rtpb_addr *local, void *arg),
			  void *arg);

/**
 * Sum the per-CPU counters: out[v] packets of verdict v
 * (enum rtpb_pf_verdict).
 * @return 0, or -errno.
 */
int ctl_pf_stats(struct ctl_pf *pf, uint64_t out[RTPB_PF_VERDICT__COUNT]);

/** Name of verdict v for logs and metrics ("drop_budget"), or "?". */
const char *ctl_pf_verdict_name(uint32_t v);

#endif /* CTL_PF_H */
