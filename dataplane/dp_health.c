/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_health.c: worker heartbeats seen from the main lcore, see
 * dp_health.h. The watches are the main lcore's own (static); the
 * counters it publishes are read by telemetry and control.
 */
#include <stdatomic.h>

#include "dp_ctx.h"
#include "dp_health.h"
#include "dp_log.h"

static struct rtpb_beat_watch watch[RTPB_MAX_WORKERS];

void
dp_health_check(uint64_t now_ns)
{
	struct rtpb_shm_hdr *h = dp_ctx.shm;

	for (uint32_t w = 0; w < dp_ctx.n_workers; w++) {
		switch (rtpb_beat_check(&watch[w], h, w, now_ns)) {
		case 1:
			atomic_fetch_add(&h->worker_stalls, 1);
			atomic_fetch_or(&h->workers_stalled, 1u << w);
			DP_LOG(WARNING, "worker %u (lcore %u) stalled: no loop for "
			       "%llu ms; its queue and ring wait", w,
			       dp_ctx.workers[w].lcore,
			       (unsigned long long)((now_ns - watch[w].moved_ns) /
						    1000000ull));
			break;
		case -1:
			atomic_fetch_and(&h->workers_stalled, ~(1u << w));
			DP_LOG(NOTICE, "worker %u (lcore %u) loops again", w,
			       dp_ctx.workers[w].lcore);
			break;
		default:
			break;
		}
	}
}
