/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_ctl.c: the c2d ring consumer, run by each worker when its ring is
 * not empty. The worker is the only writer of the streams it owns and of
 * their flow table entries (dp_flow.h: atomic stores, compare-and-swap
 * where another owner may have taken the port since), so applying a
 * message here needs no lock and never races with its own fast path (it
 * runs between bursts).
 */
#include <errno.h>
#include <string.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "rtpb_msg.h"
#include "dp_ctl.h"
#include "dp_filter.h"
#include "dp_flow.h"
#include "dp_latch.h"
#include "dp_nexthop.h"
#include "dp_rtpa_stage.h"

void
dp_ctl_event(struct rtpb_lcore_stats *st, struct rtpb_msg *ev)
{
	if (rte_ring_mp_enqueue_elem(dp_ctx.d2c, ev, sizeof(*ev)) != 0)
		st->events_lost++;
}

void
dp_ctl_event_init(struct dp_worker *w, struct rtpb_msg *ev, enum rtpb_msg_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = (uint16_t)type;
	ev->hdr.len = rtpb_msg_type_len(type);
	ev->hdr.seq = w->ev_seq++;
}

void
dp_ctl_latch_event(struct dp_worker *w, uint32_t id, const struct dp_stream *s,
		   const struct dp_latch_ev *lev)
{
	struct rtpb_stream_ctrs *st = rtpb_shm_stream_ctrs(dp_ctx.shm, id);
	struct rtpb_msg ev;
	int handover = lev->reason == RTPB_LATCH_SSRC ||
		       lev->reason == RTPB_LATCH_PROBATION ||
		       lev->reason == RTPB_LATCH_CNAME;

	dp_ctl_event_init(w, &ev, RTPB_MSG_EV_LATCH);
	ev.ev_latch.stream_id = id;
	ev.ev_latch.worker = w->idx;
	ev.ev_latch.cookie = s->cookie;
	ev.ev_latch.dropped = lev->dropped;
	ev.ev_latch.reason = lev->reason;
	ev.ev_latch.ssrc = s->ssrc;
	ev.ev_latch.old = lev->old;
	ev.ev_latch.peer = s->peer;
	ev.ev_latch.refused = lev->refused;
	w->stats->latches++;
	st->latches++;
	if (handover) {
		w->stats->handovers++;
		st->handovers++;
	}
	dp_ctl_event(w->stats, &ev);
}

static void
dp_ctl_apply_hello(struct dp_worker *w, const struct rtpb_msg_hello *h)
{
	struct rtpb_msg ev;
	int ok = h->version == RTPB_MSG_VERSION && h->msg_size == RTPB_MSG_SIZE;
	int t;

	for (t = 0; ok && t < RTPB_MSG__COUNT; t++)
		ok = h->type_len[t] == rtpb_msg_type_len((enum rtpb_msg_type)t);
	memset(&ev, 0, sizeof(ev));
	ev.ev_hello.hdr.type = RTPB_MSG_EV_HELLO;
	ev.ev_hello.hdr.len = sizeof(ev.ev_hello);
	ev.ev_hello.hdr.seq = w->ev_seq++;
	ev.ev_hello.worker = w->idx;
	ev.ev_hello.status = ok ? 0 : -EPROTO;
	ev.ev_hello.version = RTPB_MSG_VERSION;
	if (!ok)
		w->stats->ctl_errors++;
	else
		atomic_store_explicit(&dp_ctx.ctl_pid, h->pid, memory_order_relaxed);
	dp_ctl_event(w->stats, &ev);
}

/* A stream id this worker may write, holding a relay address (IPv4 or
 * IPv6; *addr_idx is its index in dp_ctx.addrs). */
static struct dp_stream *
dp_ctl_owned_stream(struct dp_worker *w, uint32_t id,
		    const struct rtpb_addr *local, int *addr_idx)
{
	if (id >= dp_ctx.max_streams ||
	    rtpb_stream_owner(id, dp_ctx.n_workers) != w->idx)
		return NULL;
	if ((*addr_idx = dp_addr_find(local)) < 0)
		return NULL;
	return &dp_ctx.streams[id];
}

/* DP_STREAM_F_PEER_UNVETTED (dp_stream.h): whether the addresses the
 * latch may make s's peer without a packet of theirs passing the source
 * rules (the signalled one, a replayed peer, the previous peer) all pass
 * them; if not, the fast path checks the peer's packets too. */
static void
dp_ctl_vet_peer(struct dp_stream *s)
{
	const struct rtpb_addr *a[] = {&s->peer, &s->signalled, &s->prev};
	uint16_t unvetted = 0;

	for (unsigned int i = 0; i < RTE_DIM(a); i++)
		if (a[i]->family != RTPB_AF_NONE && dp_filter_bogon(a[i]))
			unvetted = DP_STREAM_F_PEER_UNVETTED;
	s->flags = (uint16_t)((s->flags & ~DP_STREAM_F_PEER_UNVETTED) | unvetted);
}

/* Is s the relay socket (address index a, port in network order)? */
static inline int
dp_ctl_same_socket(const struct dp_stream *s, int a, uint16_t port)
{
	return s->addr_idx == (uint8_t)a && s->local_port == port;
}

static int
dp_ctl_apply_add(struct dp_worker *w, const struct rtpb_msg_stream *m,
		 uint64_t now_ns)
{
	struct dp_stream *s;
	int a;

	s = dp_ctl_owned_stream(w, m->stream_id, &m->local, &a);
	if (s == NULL)
		return -EINVAL;
	if (s->state != DP_LATCH_FREE && !dp_ctl_same_socket(s, a, m->local.port))
		dp_flow_del(&dp_ctx.flow, s->addr_idx, s->local_port, m->stream_id);
	if (dp_flow_add(&dp_ctx.flow, (uint32_t)a, m->local.port, m->stream_id,
			m->out_stream_id) < 0) {
		s->state = DP_LATCH_FREE;
		return -ENOSPC;
	}
	memset(s, 0, sizeof(*s)); /* the per-packet counters too */
	if (dp_ctx.dtmf != NULL)
		memset(&dp_ctx.dtmf[m->stream_id], 0, sizeof(dp_ctx.dtmf[0]));
	s->local_port = m->local.port;
	s->addr_idx = (uint8_t)a;
	s->out_stream_id = m->out_stream_id;
	s->pair_stream_id = m->pair_stream_id;
	s->flags = (uint16_t)(m->flags & DP_STREAM_F_CTL_MASK & ~RTPB_STREAM_F_REC_ONLY);
	s->rec_id = m->rec_id;
	s->tos = m->tos;
	s->dtmf_pt = m->dtmf_pt;
	s->cookie = m->cookie;
	dp_latch_signal(s, &m->signalled, (uint64_t)m->learn_ms * 1000000ull, now_ns);
	/* replay: the peer control saw latched, counted alive (§4.9) */
	dp_latch_restore(s, &m->peer, m->peer_ssrc, now_ns);
	dp_ctl_vet_peer(s);
	memset(rtpb_shm_stream_ctrs(dp_ctx.shm, m->stream_id), 0,
	       sizeof(struct rtpb_stream_ctrs));
	/* RTP analysis from scratch (not on UPDATE: a re-INVITE keeps the
	 * call's figures) */
	dp_rtpa_init(&s->rtpa, &s->rtpa_cold, 0);
	if (dp_latch_dest(s) != NULL)
		dp_nexthop_prefetch(s, dp_latch_dest(s));
	return 0;
}

static int
dp_ctl_apply_update(struct dp_worker *w, const struct rtpb_msg_stream *m,
		    uint64_t now_ns)
{
	struct dp_latch_ev lev = {.reason = RTPB_LATCH_REOFFER};
	struct dp_stream *s;
	int a;

	s = dp_ctl_owned_stream(w, m->stream_id, &m->local, &a);
	if (s == NULL || s->state == DP_LATCH_FREE || !dp_ctl_same_socket(s, a, m->local.port))
		return -EINVAL;
	if (m->flags & RTPB_STREAM_F_REC_ONLY) {
		/* R / N: the copy starts or stops; nothing else changes */
		s->flags = (uint16_t)((s->flags & ~DP_STREAM_F_REC_MASK) |
				      (m->flags & DP_STREAM_F_REC_MASK));
		s->rec_id = m->rec_id;
		/* "&& S tos=", "&& M3:1" likewise */
		s->flags = (uint16_t)((s->flags & ~DP_STREAM_F_FEAT_MASK) |
				      (m->flags & DP_STREAM_F_FEAT_MASK));
		s->tos = m->tos;
		s->dtmf_pt = m->dtmf_pt;
		return 0;
	}
	if (s->out_stream_id != m->out_stream_id) {
		/* the flow table carries it too (dp_flow_add()); an entry
		 * another stream took since is not this stream's to change */
		(void)dp_flow_set_out(&dp_ctx.flow, s->addr_idx, s->local_port,
				      m->stream_id, m->out_stream_id);
		s->out_stream_id = m->out_stream_id;
	}
	s->pair_stream_id = m->pair_stream_id;
	s->flags = (uint16_t)((m->flags & DP_STREAM_F_CTL_MASK & ~RTPB_STREAM_F_REC_ONLY) |
			      (s->flags & ~DP_STREAM_F_CTL_MASK));
	s->rec_id = m->rec_id;
	s->tos = m->tos;
	s->dtmf_pt = m->dtmf_pt;
	s->cookie = m->cookie;
	lev.old = s->peer;
	/* §4.8: a re-offer's new address is the peer at once */
	if (dp_latch_signal(s, &m->signalled, (uint64_t)m->learn_ms * 1000000ull, now_ns))
		dp_ctl_latch_event(w, m->stream_id, s, &lev);
	dp_ctl_vet_peer(s);
	dp_nexthop_prefetch(s, &s->signalled);
	return 0;
}

static int
dp_ctl_apply_del(struct dp_worker *w, const struct rtpb_msg_stream_del *m)
{
	struct dp_stream *s;
	int a;

	s = dp_ctl_owned_stream(w, m->stream_id, &m->local, &a);
	if (s == NULL || s->state == DP_LATCH_FREE || !dp_ctl_same_socket(s, a, m->local.port))
		return -ENOENT;
	/* -ENOENT: another stream took the port since; its entry stays */
	(void)dp_flow_del(&dp_ctx.flow, s->addr_idx, s->local_port, m->stream_id);
	s->state = DP_LATCH_FREE;
	return 0;
}

/* RTPB_MSG_STREAM_FORK (dp_fork.h): start or stop forking stream
 * m->stream_id, which must hold m->cookie. */
static int
dp_ctl_apply_fork(struct dp_worker *w, const struct rtpb_msg_stream_fork *m)
{
	struct rte_ether_addr mac;
	struct dp_stream *s;
	int a;

	s = dp_ctl_owned_stream(w, m->stream_id, &m->local, &a);
	if (s == NULL || s->state == DP_LATCH_FREE || s->cookie != m->cookie)
		return -EINVAL;
	if (!(m->flags & RTPB_FORK_F_ON)) {
		s->flags &= (uint16_t)~RTPB_STREAM_F_FORK;
		return 0;
	}
	if (m->target.family != dp_ctx.addrs[a].family || m->target.port == 0)
		return -EINVAL;
	s->fork_target = m->target;
	s->fork_port = m->local.port;
	s->fork_addr_idx = (uint8_t)a;
	s->flags |= RTPB_STREAM_F_FORK;
	/* resolve the target's next hop ahead of the first copy */
	(void)dp_nexthop_mac_at((uint32_t)a, &s->fork_nh_idx, &s->fork_target, &mac);
	return 0;
}

unsigned int
dp_ctl_drain(struct dp_worker *w, uint64_t now_ns)
{
	struct rtpb_msg msgs[DP_BURST];
	unsigned int n, i;
	int r;

	n = rte_ring_sc_dequeue_burst_elem(w->c2d, msgs, sizeof(msgs[0]),
					   DP_BURST, NULL);
	for (i = 0; i < n; i++) {
		const struct rtpb_msg *m = &msgs[i];

		switch (m->hdr.type) {
		case RTPB_MSG_HELLO:
			dp_ctl_apply_hello(w, &m->hello);
			r = 0;
			break;
		case RTPB_MSG_STREAM_ADD:
			r = dp_ctl_apply_add(w, &m->stream, now_ns);
			break;
		case RTPB_MSG_STREAM_UPDATE:
			r = dp_ctl_apply_update(w, &m->stream, now_ns);
			break;
		case RTPB_MSG_STREAM_DEL:
			r = dp_ctl_apply_del(w, &m->del);
			break;
		case RTPB_MSG_STREAM_FORK:
			r = dp_ctl_apply_fork(w, &m->fork);
			break;
		default:
			r = -EPROTO;
		}
		if (r < 0)
			w->stats->ctl_errors++;
		else
			w->stats->ctl_msgs++;
	}
	if (n > 0) {
		/* Control waits for this before it answers the command. */
		w->c2d_done += n;
		atomic_store_explicit(&dp_ctx.shm->c2d_done[w->idx], w->c2d_done,
				      memory_order_release);
	}
	return n;
}
