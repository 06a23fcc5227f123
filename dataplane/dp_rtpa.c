/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_rtpa.c: the rare paths of RTP analysis (dp_rtpa.h): a new source and
 * its probation, duplicates, late packets, sequence jumps and restarts
 * (RFC 3550 A.1), payload type changes, and the RTCP receiver report
 * parser (RFC 3550 6.4, A.2). Written by the stream's owner worker only.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dp_rtpa.h"

/* RFC 3551 tables 4 and 5: clock rates of the static payload types; 0
 * (reserved, unassigned) means DP_RTPA_DEFAULT_RATE. */
static const uint32_t pt_rate[96] = {
	[0] = 8000,  /* PCMU */
	[3] = 8000,  /* GSM */
	[4] = 8000,  /* G723 */
	[5] = 8000,  /* DVI4 */
	[6] = 16000, /* DVI4 */
	[7] = 8000,  /* LPC */
	[8] = 8000,  /* PCMA */
	[9] = 8000,  /* G722 (RFC 3551 4.5.2: 8000 though sampled at 16000) */
	[10] = 44100, /* L16 stereo */
	[11] = 44100, /* L16 mono */
	[12] = 8000, /* QCELP */
	[13] = 8000, /* CN */
	[14] = 90000, /* MPA */
	[15] = 8000, /* G728 */
	[16] = 11025, /* DVI4 */
	[17] = 22050, /* DVI4 */
	[18] = 8000, /* G729 */
	[25] = 90000, /* CelB */
	[26] = 90000, /* JPEG */
	[28] = 90000, /* nv */
	[31] = 90000, /* H261 */
	[32] = 90000, /* MPV */
	[33] = 90000, /* MP2T */
	[34] = 90000, /* H263 */
};

/* Dynamic rates above this do not fit DP_RTPA_MULT in 32 bits. */
#define DP_RTPA_RATE_MAX 240000u

uint32_t
dp_rtpa_clock_rate(uint8_t pt, uint32_t dyn_rate)
{
	uint32_t hz = pt < 96 ? pt_rate[pt] : dyn_rate;

	if (hz == 0)
		hz = DP_RTPA_DEFAULT_RATE;
	return hz > DP_RTPA_RATE_MAX ? DP_RTPA_RATE_MAX : hz;
}

void
dp_rtpa_init(struct dp_rtpa *r, uint32_t dyn_rate)
{
	memset(r, 0, sizeof(*r));
	r->ctr.dyn_clock_rate = dyn_rate != 0 ? dyn_rate : DP_RTPA_DEFAULT_RATE;
	r->st.bad_seq = DP_RTPA_SEQ_MOD + 1;
}

void
dp_rtpa_set_dyn_rate(struct dp_rtpa *r, uint32_t hz)
{
	r->ctr.dyn_clock_rate = hz != 0 ? hz : DP_RTPA_DEFAULT_RATE;
	/* the next packet looks its payload type's rate up again */
	r->st.flags &= (uint8_t)~DP_RTPA_F_PT;
}

/* Extended highest sequence number (A.1: cycles + max_seq). */
static uint32_t
ext_max(const struct dp_rtpa_state *st)
{
	return ((uint32_t)st->cycles << 16) | st->max_seq;
}

/*
 * A.1 init_seq() after n packets in sequence ending at seq: a new run
 * whose n packets all count (rtpproxy counts a source's first packets;
 * the RFC's probation would drop them from both expected and received,
 * so the figures agree either way but for n).
 */
static void
run_start(struct dp_rtpa *r, uint16_t seq, uint32_t n, uint32_t ts, uint64_t now_ns)
{
	struct dp_rtpa_state *st = &r->st;

	st->max_seq = seq;
	st->cycles = 0;
	st->base_seq = (uint32_t)seq - (n - 1);
	st->bad_seq = DP_RTPA_SEQ_MOD + 1;
	st->seen = (1ull << n) - 1;
	st->probation = 0;
	st->flags = (uint8_t)((st->flags | DP_RTPA_F_TRACK) & ~DP_RTPA_F_TRANSIT);
	r->ctr.nsent += n;
	r->ctr.nrcvd += n;
	dp_rtpa_jitter(r, ts, now_ns);
}

void
dp_rtpa_rx_slow(struct dp_rtpa *r, uint32_t ssrc, uint16_t seq, uint32_t ts,
		uint8_t pt, uint64_t now_ns)
{
	struct dp_rtpa_state *st = &r->st;
	struct rtpb_rtpa *c = &r->ctr;
	uint16_t udelta, back;
	uint32_t ext;

	if (pt != st->pt || !(st->flags & DP_RTPA_F_PT)) {
		/* a new clock: the previous transit is in other units
		 * (same rate, e.g. PCMU and telephone-event: it is not) */
		uint32_t hz = dp_rtpa_clock_rate(pt, c->dyn_clock_rate);
		uint32_t mult = DP_RTPA_MULT(hz);

		if (mult != st->mult)
			st->flags &= (uint8_t)~DP_RTPA_F_TRANSIT;
		st->pt = pt;
		st->mult = mult;
		c->clock_rate = hz;
		st->flags |= DP_RTPA_F_PT;
	}
	if (!(st->flags & DP_RTPA_F_SSRC) || ssrc != c->ssrc) {
		/* A.1: a new source is on probation; the first one's
		 * runs are counted in nrestarts after it */
		if (st->flags & DP_RTPA_F_SSRC)
			c->nrestarts++;
		c->ssrc = ssrc;
		c->jitter = 0; /* A.8 is per source */
		st->flags = (uint8_t)((st->flags | DP_RTPA_F_SSRC) &
				      ~(DP_RTPA_F_TRACK | DP_RTPA_F_TRANSIT));
		st->max_seq = seq;
		st->probation = DP_RTPA_MIN_SEQUENTIAL - 1;
		if (st->probation == 0)
			run_start(r, seq, 1, ts, now_ns);
		return;
	}
	udelta = (uint16_t)(seq - st->max_seq);
	if (st->probation != 0) {
		/* A.1: packets must be in sequence (a repeat is a duplicate) */
		if (udelta == 0) {
			c->ndups++;
			return;
		}
		st->max_seq = seq;
		if (udelta == 1) {
			if (--st->probation == 0)
				run_start(r, seq, DP_RTPA_MIN_SEQUENTIAL, ts, now_ns);
		} else {
			st->probation = DP_RTPA_MIN_SEQUENTIAL - 1;
		}
		return;
	}
	if (udelta == 0) {
		c->ndups++;
		return;
	}
	if (udelta < DP_RTPA_MAX_DROPOUT) {
		/* in order (here: the payload type changed or no transit) */
		dp_rtpa_in_order(r, seq, udelta, ts, now_ns);
		return;
	}
	if (udelta <= DP_RTPA_SEQ_MOD - DP_RTPA_MAX_MISORDER) {
		/* A.1: a very large jump. Two packets in sequence: the
		 * sender restarted; count both (the first set bad_seq). */
		if (seq == st->bad_seq) {
			c->nrestarts++;
			run_start(r, seq, 2, ts, now_ns);
		} else {
			st->bad_seq = (uint16_t)(seq + 1);
		}
		return;
	}
	/* A.1: duplicate or reordered, up to MAX_MISORDER behind */
	back = (uint16_t)(st->max_seq - seq);
	if (back < 64) {
		uint64_t bit = 1ull << back;

		if (st->seen & bit) {
			c->ndups++;
			return;
		}
		st->seen |= bit;
	}
	c->nreordered++;
	c->nrcvd++;
	/* late but before the run's first packet: expected grows (as
	 * rtpproxy's min_seq); A.1's expected would count it lost */
	ext = ext_max(st) - back;
	if ((int32_t)(ext - st->base_seq) < 0) {
		c->nsent += st->base_seq - ext;
		st->base_seq = ext;
	}
	dp_rtpa_jitter(r, ts, now_ns);
}

/* RTCP packet types (RFC 3550 12.1). */
#define RTCP_SR 200
#define RTCP_RR 201
#define RTCP_HDR 8        /* V/P/RC, PT, length, SSRC of the sender */
#define RTCP_SENDER_INFO 20
#define RTCP_BLOCK 24     /* a report block */

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
dp_rtpa_rtcp_rr(const uint8_t *p, uint32_t len, uint32_t ssrc,
		struct rtpb_rtpa_rr *rr)
{
	const uint8_t *found = NULL;
	uint32_t off = 0;

	/* A.2: a compound packet starts with SR or RR */
	if (len < 4 || (p[1] != RTCP_SR && p[1] != RTCP_RR))
		return -EINVAL;
	while (off < len) {
		const uint8_t *h = p + off;
		uint32_t size, rc, first;

		if (len - off < 4)
			return -EINVAL;
		size = ((uint32_t)h[2] << 8 | h[3]) * 4 + 4;
		/* version 2; the length must fit; padding only in the last */
		if ((h[0] >> 6) != 2 || size > len - off ||
		    ((h[0] & 0x20) && off + size != len))
			return -EINVAL;
		rc = h[0] & 0x1f;
		if (h[1] == RTCP_SR || h[1] == RTCP_RR) {
			first = RTCP_HDR + (h[1] == RTCP_SR ? RTCP_SENDER_INFO : 0);
			/* RC report blocks must fit in the packet */
			if (first + rc * RTCP_BLOCK > size)
				return -EINVAL;
			for (uint32_t i = 0; i < rc; i++) {
				const uint8_t *b = h + first + i * RTCP_BLOCK;

				if (be32(b) == ssrc)
					found = b;
			}
		}
		off += size;
	}
	if (found == NULL)
		return 0;
	/* 6.4.1: fraction lost 8 bits, cumulative lost 24 bits signed,
	 * extended highest seq 32, jitter 32 */
	{
		uint32_t cum = (uint32_t)found[5] << 16 | (uint32_t)found[6] << 8 | found[7];

		rr->fraction_lost = found[4];
		rr->cum_lost = (cum & 0x800000u) ? (int32_t)cum - 0x1000000 : (int32_t)cum;
		rr->jitter = be32(found + 12);
		rr->nrr++;
	}
	return 1;
}
