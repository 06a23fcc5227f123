/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_ha.h: active and standby (issue 21, docs/RELIABILITY.md "Active and
 * standby"). Two relays share the relay addresses; one owns them. The
 * state is rtpb_shm_hdr.ha_state: set at start (--standby), then written
 * by control alone (keepalived's notify scripts tell it, rtpb-ctl HA).
 *
 * A standby dataplane runs with the addresses configured but is silent
 * for them: it answers no ARP request or Neighbor Solicitation for them
 * (dp_arp.c, dp_nd.c), sends no request from them (a receiver would take
 * the relay address's MAC from it: RFC 826's merge), and relays nothing
 * (workers drop UDP as "standby"). Its neighbour cache still learns from
 * what it hears.
 *
 * Becoming active (the main lcore sees ha_state change to active, or
 * control bumps ha_announce): the neighbours left unresolved while silent
 * are asked for at once (dp_neigh_retry_all()), and every relay address
 * is announced RTPB_HA_ANNOUNCE_ROUNDS times, RTPB_HA_ANNOUNCE_GAP_MS
 * apart: for IPv4 a gratuitous ARP request and reply (RFC 5227 §3 and
 * RFC 5944 §4.6 forms, as Linux and keepalived send them), for IPv6 an
 * unsolicited Neighbor Advertisement to all-nodes with the Override flag
 * (RFC 4861 §7.2.6). Counted as ha_garps and ha_unsol_nas.
 */
#ifndef DP_HA_H
#define DP_HA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rtpb_shm.h"
#include "dp_ctx.h"
#include "dp_neigh.h"

/**
 * Whether this dataplane is silent for the relay addresses (HA standby).
 * Any lcore; one relaxed load of a line that changes only at failover.
 */
static inline bool
dp_ha_silent(void)
{
	return atomic_load_explicit(&dp_ctx.shm->ha_state, memory_order_relaxed) !=
	       RTPB_HA_ACTIVE;
}

/** What dp_ha_step() asks for (bits). */
enum dp_ha_action {
	DP_HA_BECAME_ACTIVE = 1, /**< retry the unresolved neighbours now */
	DP_HA_ANNOUNCE = 2,      /**< send one round of announcements now */
};

/** The main lcore's view of the HA fields. Zero-initialise, then dp_ha_init(). */
struct dp_ha {
	uint32_t state;       /**< enum rtpb_ha_state seen last */
	uint32_t announce;    /**< ha_announce seen last */
	uint32_t rounds_left; /**< announcement rounds still to send */
	uint64_t next_ns;     /**< when the next one is due, ns */
};

/** Start from the current fields: nothing to announce for them. */
void dp_ha_init(struct dp_ha *ha, uint32_t state, uint32_t announce);

/**
 * The HA decision, a pure function of the fields read now (state,
 * announce) and the time (now_ns, ns): a change to active, or a new
 * announce while active, (re)starts RTPB_HA_ANNOUNCE_ROUNDS rounds, the
 * first at once; a change to standby cancels what is left.
 * @return enum dp_ha_action bits (0: nothing to do).
 */
unsigned int dp_ha_step(struct dp_ha *ha, uint32_t state, uint32_t announce,
			uint64_t now_ns);

/**
 * One round of announcements: for each IPv4 relay address a gratuitous
 * ARP request and reply, for each IPv6 one an unsolicited NA; queued on
 * sp_tx for worker 0. Main lcore.
 */
void dp_ha_announce(void);

/**
 * The main lcore's HA turn (every tick): read the shared fields, run
 * dp_ha_step(), retry the neighbours with send (dp_neigh_send_fn) on a
 * change to active, announce when due.
 */
void dp_ha_tick(struct dp_ha *ha, uint64_t now_ns, dp_neigh_send_fn *send);

#endif /* DP_HA_H */
