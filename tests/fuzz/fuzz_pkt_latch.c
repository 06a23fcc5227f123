/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pkt_latch.c: fuzz_pkt's stream table and the latch on it
 * (dataplane/dp_latch.c), as a worker runs it (dp_worker.c
 * worker_latch(), worker_latched()).
 *
 * Four streams, one call of two legs, each leg an RTP stream and its
 * RTCP stream (pair_stream_id), each stream's out stream the other
 * leg's of the same kind:
 *   0  leg A RTP,  relay 192.0.2.1:35000      pair 1, out 2
 *   1  leg A RTCP, relay 192.0.2.1:35001      pair 0, out 3
 *   2  leg B RTP,  relay [2001:db8:a::1]:35002  pair 3, out 0
 *   3  leg B RTCP, relay [2001:db8:a::1]:35003  pair 2, out 1
 * Leg B's phone, [2001:db8:b::20]:6000/6001, is latched by signalling
 * before the input's frames, and its RTCP (SR + SDES with the CNAME
 * "b@fuzz.example", the seeds' too) taught the leg its RTCP timing and
 * CNAME; leg A is in its learning window, with its signalled address
 * 198.51.100.10:4000/4001 known or not.
 *
 * The configuration byte (the input's first):
 *   bit 0 --strict-source        bit 4 stream 0 asymmetric
 *   bit 1 --probation-cname-only bit 5 leg A's address signalled
 *   bit 2 --probation-rtp 3 (10) bit 6 leg B's RTCP is rtcp-mux (on stream 2)
 *   bit 3 the clock starts 3 s before the 32-bit ticks wrap (else at 1000 s)
 *   bit 7 --probation-rtcp 1 (2)
 *
 * Every payload also goes through the RTCP receiver report parser
 * (dp_rtpa_rtcp_rr(), dataplane/dp_rtpa.c), whatever it is, and RTP the
 * latch lets through on an RTP stream through dp_rtpa_rx(), whose
 * counters are checked after each packet (rtpa_packet()).
 *
 * After every dp_latch_rx(), checked on every stream: state in range and
 * not FREE, every address clean (fuzz_addr_ok()), candidate_count at most
 * the packets fed to the stream, refused_next < DP_STREAM_REFUSED, no
 * unknown flag, won_by a latch reason, the leg wiring unchanged; and of
 * the verdict: in range, a DROP with one of the latch's drop reasons, a
 * NEW_PEER latched to the packet's source with a reason in range.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_udp.h>

#include "rtpb_msg.h"
#include "rtpb_pf_rules.h"
#include "dp_dtmf.h"
#include "dp_latch.h"
#include "dp_rtpa.h"
#include "dp_stream.h"
#include "fuzz_pkt.h"

#define NS 1000000000ull
#define MS 1000000ull
#define N_STREAMS 4
#define LEARN_NS (3 * NS)
#define B_SSRC 0x0b0b0b0bu
#define B_CNAME "b@fuzz.example"

struct fuzz_latch {
	struct dp_stream s[N_STREAMS];
	uint32_t fed[N_STREAMS]; /* packets given to dp_latch_rx() */
	struct dp_rtpa rtpa[N_STREAMS]; /* RTP analysis, as the worker will run it */
	uint32_t rtpa_fed[N_STREAMS];   /* packets given to dp_rtpa_rx() */
	struct dp_dtmf_hist dtmf[N_STREAMS]; /* DTMF history, as dp_ctx.dtmf */
	struct dp_latch_cfg cfg;
	uint64_t now;
};

/* Build an RTCP compound, SR then SDES with one CNAME chunk (RFC 3550
 * 6.4.1, 6.5), into p; @return its length. */
static uint16_t
rtcp_sr_sdes(uint8_t *p, uint32_t ssrc, const char *cname)
{
	uint32_t be = rte_cpu_to_be_32(ssrc);
	size_t n = strlen(cname), chunk = 4 + 2 + n + 1;
	uint16_t sdes_len = (uint16_t)(4 + RTE_ALIGN_CEIL(chunk, 4));

	memset(p, 0, 28 + sdes_len);
	p[0] = 0x80;
	p[1] = 200; /* SR, no report blocks: 7 words */
	p[3] = 6;
	memcpy(p + 4, &be, 4);
	p += 28;
	p[0] = 0x81; /* one chunk */
	p[1] = 202;
	p[3] = (uint8_t)(sdes_len / 4 - 1);
	memcpy(p + 4, &be, 4);
	p[8] = 1; /* CNAME */
	p[9] = (uint8_t)n;
	memcpy(p + 10, cname, n);
	return (uint16_t)(28 + sdes_len);
}

static int
stream_ok(const struct fuzz_latch *l, uint32_t i)
{
	const struct dp_stream *s = &l->s[i];
	const uint16_t known = RTPB_STREAM_F_ASYMMETRIC | RTPB_STREAM_F_RTCP |
		DP_STREAM_F_SEQ_VALID | DP_STREAM_F_MUX_SEEN | DP_STREAM_F_PROVEN |
		DP_STREAM_F_PREV_SEQ | DP_STREAM_F_WON_SSRC;

	return (s->state == DP_LATCH_LEARNING || s->state == DP_LATCH_LATCHED) &&
	       fuzz_addr_ok(&s->peer) && fuzz_addr_ok(&s->signalled) &&
	       fuzz_addr_ok(&s->candidate) && fuzz_addr_ok(&s->prev) &&
	       s->candidate_count <= l->fed[i] &&
	       s->refused_next < DP_STREAM_REFUSED && (s->flags & ~known) == 0 &&
	       s->won_by <= RTPB_LATCH_REPLAY &&
	       s->pair_stream_id == (i ^ 1) && s->out_stream_id == (i ^ 2);
}

static void
check_streams(const struct fuzz_latch *l)
{
	uint32_t i;

	for (i = 0; i < N_STREAMS; i++)
		FUZZ_CHECK(stream_ok(l, i),
			   "stream %u: state %u families %u/%u/%u/%u candidate_count %u "
			   "of %u fed, refused_next %u, flags 0x%x, won_by %u",
			   i, l->s[i].state, l->s[i].peer.family, l->s[i].signalled.family,
			   l->s[i].candidate.family, l->s[i].prev.family,
			   l->s[i].candidate_count, l->fed[i], l->s[i].refused_next,
			   l->s[i].flags, l->s[i].won_by);
}

static int
latch_drop_reason(uint8_t d)
{
	return d == RTPB_DROP_NOT_PEER || d == RTPB_DROP_PEER_ALIVE ||
	       d == RTPB_DROP_REFUSED || d == RTPB_DROP_BUDGET || d == RTPB_DROP_PACE;
}

/* dp_rtpa_rx() and its invariants: each call counts at most one packet
 * (received or duplicate) but for the one before it that probation or
 * bad_seq held back; jitter samples only from counted packets. */
static void
rtpa_packet(struct fuzz_latch *l, uint32_t id, const struct dp_latch_pkt *lp)
{
	struct dp_rtpa *r = &l->rtpa[id];
	struct rtpb_rtpa before, after;
	const struct rtpb_rtpa *c = &after;

	rtpb_rtpa_view(&r->hot, &r->cold, &before);
	dp_rtpa_rx(&r->hot, &r->cold, lp->ssrc, lp->seq, lp->ts, lp->p[1] & 0x7f, l->now);
	rtpb_rtpa_view(&r->hot, &r->cold, &after);
	l->rtpa_fed[id]++;
	/* nsent and njitter are derived (rtpb_rtpa_view()): they never go
	 * back, and njitter grows by at most one a packet */
	FUZZ_CHECK(after.nsent >= before.nsent && after.njitter >= before.njitter &&
		   after.njitter - before.njitter <= 1,
		   "dp_rtpa: nsent %llu -> %llu, njitter %u -> %u",
		   (unsigned long long)before.nsent, (unsigned long long)after.nsent,
		   before.njitter, after.njitter);
	FUZZ_CHECK(c->nrcvd + c->ndups <= l->rtpa_fed[id] &&
		   c->nreordered <= c->nrcvd && c->njitter <= c->nrcvd &&
		   c->jitter <= c->jmax && c->jmax <= 16 * DP_RTPA_D_MAX &&
		   c->clock_rate >= 8000 && c->clock_rate <= 240000,
		   "dp_rtpa: fed %u nrcvd %llu ndups %u nreord %u njitter %u "
		   "jitter %u jmax %u rate %u", l->rtpa_fed[id],
		   (unsigned long long)c->nrcvd, c->ndups, c->nreordered,
		   c->njitter, c->jitter, c->jmax, c->clock_rate);
}

/* dp_latch_rx() on stream id and what worker_latched() does after it. */
static void
latch_packet(struct fuzz_latch *l, uint32_t id, const struct rtpb_addr *src,
	     const uint8_t *payload, uint16_t len)
{
	struct dp_stream *s = &l->s[id], *pair = &l->s[id ^ 1];
	struct dp_latch_pkt lp;
	struct dp_latch_ev ev;
	enum dp_latch_verdict v;

	dp_latch_parse(payload, len, &lp);
	FUZZ_CHECK(lp.p == payload && lp.len == len &&
		   (lp.kind == DP_LATCH_PKT_OTHER ||
		    (lp.kind == DP_LATCH_PKT_RTP && len >= 12) ||
		    (lp.kind == DP_LATCH_PKT_RTCP && len >= 8)),
		   "dp_latch_parse: kind %u of %u bytes", lp.kind, len);
	memset(&ev, 0xa5, sizeof(ev));
	l->fed[id]++;
	v = dp_latch_rx(l->s, N_STREAMS, id, &l->cfg, src, &lp, l->now, &ev);
	if (fuzz_pkt_trace)
		fprintf(stderr, "fuzz_pkt: %llu ms stream %u kind %u: %s reason %u drop %u\n",
			(unsigned long long)(l->now / MS), id, lp.kind,
			v == DP_LATCH_ACCEPT ? "ACCEPT" : v == DP_LATCH_NEW_PEER ? "NEW_PEER" : "DROP",
			v == DP_LATCH_NEW_PEER ? ev.reason : 0, v == DP_LATCH_DROP ? ev.drop : 0);
	FUZZ_CHECK(v == DP_LATCH_ACCEPT || v == DP_LATCH_NEW_PEER || v == DP_LATCH_DROP,
		   "verdict %d", v);
	/* RTP analysis of RTP the latch let through (docs/RTPA.md wiring) */
	if (v != DP_LATCH_DROP && lp.kind == DP_LATCH_PKT_RTP &&
	    !(s->flags & RTPB_STREAM_F_RTCP))
		rtpa_packet(l, id, &lp);
	if (v == DP_LATCH_DROP) {
		FUZZ_CHECK(latch_drop_reason(ev.drop), "latch drop reason %u", ev.drop);
	} else {
		FUZZ_CHECK(s->pkts.last_rx_ns == l->now, "accepted, last_rx_ns not now");
	}
	if (v == DP_LATCH_NEW_PEER) {
		FUZZ_CHECK(rtpb_addr_eq(&s->peer, src) && s->state == DP_LATCH_LATCHED,
			   "NEW_PEER (reason %u) but not latched to the source", ev.reason);
		FUZZ_CHECK(ev.reason <= RTPB_LATCH_REPLAY && fuzz_addr_ok(&ev.old) &&
			   fuzz_addr_ok(&ev.refused) &&
			   (!ev.pair_moved || (fuzz_addr_ok(&ev.pair_old) &&
					       fuzz_addr_ok(&ev.pair_refused))),
			   "event: reason %u", ev.reason);
		/* DESIGN.md §4.6, as worker_latched(): RTCP follows RTP */
		if (!ev.pair_moved && !(s->flags & RTPB_STREAM_F_RTCP) &&
		    (ev.reason == RTPB_LATCH_SSRC || ev.reason == RTPB_LATCH_PROBATION ||
		     ev.reason == RTPB_LATCH_CNAME) &&
		    dp_latch_rtcp_follow(pair, s, l->now))
			FUZZ_CHECK(rtpb_addr_host_eq(&pair->peer, &s->peer),
				   "RTCP followed elsewhere");
	}
	check_streams(l);
}

static void
stream_init(struct fuzz_latch *l, uint32_t i, uint16_t flags,
	    const struct rtpb_addr *signalled)
{
	struct dp_stream *s = &l->s[i];

	memset(s, 0, sizeof(*s));
	s->flags = flags | ((i & 1) ? RTPB_STREAM_F_RTCP : 0);
	s->state = DP_LATCH_LEARNING;
	s->addr_idx = (uint8_t)(i >> 1);
	s->local_port = rte_cpu_to_be_16((uint16_t)(35000 + i));
	s->out_stream_id = i ^ 2;
	s->pair_stream_id = i ^ 1;
	dp_latch_signal(s, signalled, LEARN_NS, l->now);
}

/* 198.51.100.10:port (leg A) or [2001:db8:b::20]:port (leg B). */
static void
phone(int leg_b, uint16_t port, struct rtpb_addr *a)
{
	static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0b, [15] = 0x20};

	if (!leg_b) {
		rtpb_addr_set_v4(a, RTE_BE32(0xc633640a), rte_cpu_to_be_16(port));
		return;
	}
	memset(a, 0, sizeof(*a));
	a->family = RTPB_AF_INET6;
	a->port = rte_cpu_to_be_16(port);
	memcpy(a->ip, b6, 16);
}

struct fuzz_latch *
fuzz_latch_reset(uint8_t cfg)
{
	static struct fuzz_latch l;
	static const struct dp_latch_cfg def = DP_LATCH_CFG_DEFAULT;
	struct rtpb_addr a_rtp, a_rtcp, b_rtp, b_rtcp, none;
	uint8_t rtp[12] = {0x80, 0x00, 0x12, 0x34, 0, 0, 0x10, 0};
	uint8_t rtcp[64];
	uint32_t be = rte_cpu_to_be_32(B_SSRC);
	uint16_t n;

	memset(&l, 0, sizeof(l));
	for (int i = 0; i < N_STREAMS; i++)
		dp_rtpa_init(&l.rtpa[i].hot, &l.rtpa[i].cold, 0);
	memset(&none, 0, sizeof(none));
	l.cfg = def;
	l.cfg.strict_source = cfg & 1;
	l.cfg.cname_only = (cfg >> 1) & 1;
	l.cfg.probation_rtp = (cfg & 4) ? 3 : 10;
	l.cfg.probation_rtcp = (cfg & 0x80) ? 1 : 2;
	l.now = (cfg & 8) ? (1ull << (32 + DP_STREAM_TICK_SHIFT)) - 3 * NS : 1000 * NS;
	phone(0, 4000, &a_rtp);
	phone(0, 4001, &a_rtcp);
	phone(1, 6000, &b_rtp);
	phone(1, 6001, &b_rtcp);
	stream_init(&l, 0, (cfg & 0x10) ? RTPB_STREAM_F_ASYMMETRIC : 0,
		    (cfg & 0x20) ? &a_rtp : &none);
	stream_init(&l, 1, 0, (cfg & 0x20) ? &a_rtcp : &none);
	stream_init(&l, 2, 0, &b_rtp);
	stream_init(&l, 3, 0, &b_rtcp);
	check_streams(&l);

	/* leg B's phone talks: RTP, then its RTCP (on the RTP port if mux) */
	memcpy(rtp + 8, &be, 4);
	latch_packet(&l, 2, &b_rtp, rtp, sizeof(rtp));
	l.now += 20 * MS;
	n = rtcp_sr_sdes(rtcp, B_SSRC, B_CNAME);
	if (cfg & 0x40)
		latch_packet(&l, 2, &b_rtp, rtcp, n);
	else
		latch_packet(&l, 3, &b_rtcp, rtcp, n);
	FUZZ_CHECK(l.s[(cfg & 0x40) ? 2 : 3].cname != 0, "setup: leg B's CNAME not learnt");
	l.now += 20 * MS;
	return &l;
}

void
fuzz_latch_step(struct fuzz_latch *l, uint8_t dt)
{
	l->now += dt < 128 ? dt * MS : (uint64_t)(dt - 127) * 256 * MS;
}

uint64_t
fuzz_latch_now(const struct fuzz_latch *l)
{
	return l->now;
}

void
fuzz_latch_signal(struct fuzz_latch *l, uint32_t id, uint32_t op,
		  const struct rtpb_addr *src)
{
	struct rtpb_addr none;

	memset(&none, 0, sizeof(none));
	if (op == 1 || op == 2)
		dp_latch_signal(&l->s[id], op == 1 ? src : &none, LEARN_NS, l->now);
	else if (op == 3)
		dp_latch_restore(&l->s[id], src, 0, l->now);
	else
		return;
	check_streams(l);
}

void
fuzz_latch_frame(struct fuzz_latch *l, uint32_t id, const struct rte_mbuf *m,
		 const struct dp_pkt_meta *pm)
{
	const uint8_t *payload = rte_pktmbuf_mtod_offset(m, const uint8_t *,
		pm->l4_off + sizeof(struct rte_udp_hdr));
	const struct rtpb_addr *src = &pm->src;
	uint32_t h;

	/* the SDES parser on hostile bytes, whatever the packet is */
	h = dp_latch_rtcp_cname(payload, pm->payload_len, l->cfg.seed);
	FUZZ_CHECK(h == dp_latch_rtcp_cname(payload, pm->payload_len, l->cfg.seed),
		   "dp_latch_rtcp_cname not a function of its input");
	/* and the RTCP receiver report parser (dp_rtpa.c): -EINVAL, 0 or
	 * 1, and a block taken only when it says so */
	{
		struct rtpb_rtpa_rr rr = {0};
		int r = dp_rtpa_rtcp_rr(payload, pm->payload_len, B_SSRC, &rr);

		FUZZ_CHECK((r == -EINVAL || r == 0 || r == 1) &&
			   rr.nrr == (uint32_t)(r == 1),
			   "dp_rtpa_rtcp_rr: %d, nrr %u", r, rr.nrr);
	}
	/* and DTMF catching (dp_dtmf.h) with the stream's history: a
	 * report is an event code and volume in range, and the same packet
	 * again never reports a second time */
	{
		struct dp_dtmf_report rep = {0}, rep2;
		bool r1 = dp_dtmf_rx(&l->dtmf[id], payload, pm->payload_len, &rep);
		bool r2 = dp_dtmf_rx(&l->dtmf[id], payload, pm->payload_len, &rep2);

		FUZZ_CHECK(!(r1 && r2) && (!r1 || (rep.event <= DP_DTMF_MAX_EVENT &&
						   rep.volume <= 63)),
			   "dp_dtmf_rx: %d %d event %u volume %u", r1, r2, rep.event,
			   rep.volume);
	}
	/* what the filter stage (dp_filter.h) and worker_latch() drop before the latch */
	if (pm->payload_len == 0 || !dp_parse_media_class_ok(payload[0]))
		return;
	if (src->port == 0 || (src->family == RTPB_AF_INET ? rtpb_pf_bogon4(src->ip) :
			       rtpb_pf_bogon6(src->ip)))
		return;
	if (pm->l3_unverified && !rtpb_addr_eq(src, &l->s[id].peer) &&
	    !dp_parse_l3_csum_ok(m, pm))
		return;
	latch_packet(l, id, src, payload, pm->payload_len);
}

int
fuzz_latch_route(const struct fuzz_latch *l, uint32_t id, struct rtpb_addr *from,
		 struct rtpb_addr *to)
{
	const struct dp_stream *o = &l->s[l->s[id].out_stream_id];
	const struct rtpb_addr *dst = dp_latch_dest(o);

	if (dst == NULL)
		return 0;
	*to = *dst;
	fuzz_relay_addr(dst->family, o->local_port, from);
	return 1;
}
