/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_ctl.h: applying control's messages, on the worker that owns them.
 */
#ifndef DP_CTL_H
#define DP_CTL_H

#include "dp_ctx.h"

/**
 * Dequeue at most one burst of c2d messages from w's ring and apply them
 * (HELLO, STREAM_ADD/UPDATE/DEL). Never blocks. Refused messages (bad id,
 * an id owned by another worker, a local address that is not a relay
 * address, a full flow table) are counted in ctl_errors.
 * @return messages handled.
 */
unsigned int dp_ctl_drain(struct dp_worker *w, uint64_t now_ns);

/**
 * Queue an event for control on the d2c ring; counted in events_lost
 * when the ring is full. Any lcore.
 */
void dp_ctl_event(struct rtpb_lcore_stats *st, struct rtpb_msg *ev);

/** Zero ev and fill its header: type, its length, w's next sequence. */
void dp_ctl_event_init(struct dp_worker *w, struct rtpb_msg *ev,
		       enum rtpb_msg_type type);

/**
 * Tell control that stream id (owned by w) latched or switched peer:
 * an RTPB_MSG_EV_LATCH with what ev says. Counts latches and handovers
 * (reason SSRC or PROBATION) in w's and the stream's counters.
 */
void dp_ctl_latch_event(struct dp_worker *w, uint32_t id,
			const struct dp_stream *s, const struct dp_latch_ev *ev);

#endif /* DP_CTL_H */
