/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_ha.c: the main lcore's side of active and standby (dp_ha.h): when
 * to announce the relay addresses, and the announcements themselves
 * (dp_arp.c, dp_nd.c build the frames). Not on the fast path.
 */
#include <stdatomic.h>

#include "dp_arp.h"
#include "dp_ha.h"
#include "dp_log.h"
#include "dp_nd.h"

void
dp_ha_init(struct dp_ha *ha, uint32_t state, uint32_t announce)
{
	ha->state = state;
	ha->announce = announce;
	ha->rounds_left = 0;
	ha->next_ns = 0;
}

unsigned int
dp_ha_step(struct dp_ha *ha, uint32_t state, uint32_t announce, uint64_t now_ns)
{
	unsigned int act = 0;
	bool active = state == RTPB_HA_ACTIVE;

	if (active && ha->state != RTPB_HA_ACTIVE)
		act |= DP_HA_BECAME_ACTIVE;
	if (!active) {
		ha->rounds_left = 0;
	} else if ((act & DP_HA_BECAME_ACTIVE) || announce != ha->announce) {
		ha->rounds_left = RTPB_HA_ANNOUNCE_ROUNDS;
		ha->next_ns = now_ns;
	}
	ha->state = state;
	ha->announce = announce;
	if (ha->rounds_left > 0 && now_ns >= ha->next_ns) {
		act |= DP_HA_ANNOUNCE;
		ha->rounds_left--;
		ha->next_ns = now_ns + RTPB_HA_ANNOUNCE_GAP_MS * 1000000ull;
	}
	return act;
}

void
dp_ha_announce(void)
{
	uint32_t i;

	for (i = 0; i < dp_ctx.n_addr4; i++) {
		dp_arp_announce(dp_ctx.addr4_ip[i], false);
		dp_arp_announce(dp_ctx.addr4_ip[i], true);
	}
	for (i = 0; i < dp_ctx.n_addr6; i++)
		dp_nd_announce(dp_ctx.addr6_ip[i]);
}

void
dp_ha_tick(struct dp_ha *ha, uint64_t now_ns, dp_neigh_send_fn *send)
{
	uint32_t state = atomic_load_explicit(&dp_ctx.shm->ha_state, memory_order_acquire);
	uint32_t announce = atomic_load_explicit(&dp_ctx.shm->ha_announce,
						 memory_order_acquire);
	uint32_t was = ha->state;
	unsigned int act = dp_ha_step(ha, state, announce, now_ns);

	if (state != was)
		DP_LOG(NOTICE, "HA: %s (relay addresses %s)",
		       state == RTPB_HA_ACTIVE ? "active" : "standby",
		       state == RTPB_HA_ACTIVE ? "announced and answered" : "silent");
	if (act & DP_HA_BECAME_ACTIVE)
		dp_neigh_retry_all(dp_ctx.neigh, now_ns, send, NULL);
	if (act & DP_HA_ANNOUNCE)
		dp_ha_announce();
}
