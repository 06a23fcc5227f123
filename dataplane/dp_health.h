/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_health.h: the main lcore watches every worker's heartbeat
 * (rtpb_shm.h: struct rtpb_worker_beat, rtpb_beat_check()) and reports a
 * stalled one: a log line, shm worker_stalls and workers_stalled, shown
 * by telemetry (/rtpbypass/stats). Control watches the same beats on its
 * own (control/ctl_dp.c), so a dataplane stopped whole is seen too.
 */
#ifndef DP_HEALTH_H
#define DP_HEALTH_H

#include <stdint.h>

/**
 * Look at every worker's heartbeat; call every ~100 ms from the main
 * lcore (its loop). Logs a worker that stalls or loops again.
 * @param now_ns the main lcore's clock (dp_now_ns()), ns.
 */
void dp_health_check(uint64_t now_ns);

#endif /* DP_HEALTH_H */
