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
dp_rtpa_init(struct rtpb_rtpa_hot *h, struct rtpb_rtpa_cold *c, uint32_t dyn_rate)
{
	memset(h, 0, sizeof(*h));
	memset(c, 0, sizeof(*c));
	c->dyn_clock_rate = dyn_rate != 0 ? dyn_rate : DP_RTPA_DEFAULT_RATE;
	c->bad_seq = DP_RTPA_SEQ_MOD + 1;
}

void
dp_rtpa_set_dyn_rate(struct rtpb_rtpa_hot *h, struct rtpb_rtpa_cold *c, uint32_t hz)
{
	c->dyn_clock_rate = hz != 0 ? hz : DP_RTPA_DEFAULT_RATE;
	/* the next packet looks its payload type's rate up again */
	h->flags &= (uint8_t)~DP_RTPA_F_PT;
}

/* The current run ends (a new source, a restart): what it counted in
 * nsent (derived from max_seq and base_seq) moves into nsent_base. */
static void
run_fold(const struct rtpb_rtpa_hot *h, struct rtpb_rtpa_cold *c)
{
	c->nsent_base = rtpb_rtpa_nsent(h, c);
}

/* nrcvd grew by n and the jitter was updated upd times (<= n): njitter
 * grew by upd, not n (it is derived from nrcvd). */
static void
jitter_skip(struct rtpb_rtpa_cold *c, uint32_t n, int upd)
{
	c->njitter_skip += n - (uint32_t)upd;
}

/* One more duplicate: the hot line's low byte, the cold line's rest. */
static inline void
dup(struct rtpb_rtpa_hot *h, struct rtpb_rtpa_cold *c)
{
	if (++h->ndups_lo == 0)
		c->ndups_hi++;
}

/*
 * A.1 init_seq() after n packets in sequence ending at seq: a new run
 * whose n packets all count (rtpproxy counts a source's first packets;
 * the RFC's probation would drop them from both expected and received,
 * so the figures agree either way but for n). nsent grows by n: the new
 * run's extended max_seq - base_seq + 1.
 */
static void
run_start(struct rtpb_rtpa_hot *h, struct rtpb_rtpa_cold *c, uint16_t seq, uint32_t n,
	  uint32_t ts, uint64_t now_ns)
{
	run_fold(h, c);
	h->max_seq = seq;
	h->cycles = 0;
	c->base_seq = (uint32_t)seq - (n - 1);
	c->bad_seq = DP_RTPA_SEQ_MOD + 1;
	h->seen = (1ull << n) - 1;
	h->probation = 0;
	h->flags = (uint8_t)((h->flags | DP_RTPA_F_TRACK) & ~DP_RTPA_F_TRANSIT);
	h->nrcvd += n;
	jitter_skip(c, n, dp_rtpa_jitter(h, ts, now_ns));
}

void
dp_rtpa_rx_slow(struct rtpb_rtpa_hot *h, struct rtpb_rtpa_cold *c, uint32_t ssrc,
		uint16_t seq, uint32_t ts, uint8_t pt, uint64_t now_ns)
{
	uint16_t udelta, back;
	uint32_t ext;

	if (pt != h->pt || !(h->flags & DP_RTPA_F_PT)) {
		/* a new clock: the previous transit is in other units
		 * (same rate, e.g. PCMU and telephone-event: it is not) */
		uint32_t hz = dp_rtpa_clock_rate(pt, c->dyn_clock_rate);
		uint32_t mult = DP_RTPA_MULT(hz);

		if (mult != h->mult)
			h->flags &= (uint8_t)~DP_RTPA_F_TRANSIT;
		h->pt = pt;
		h->mult = mult;
		c->clock_rate = hz;
		h->flags |= DP_RTPA_F_PT;
	}
	if (!(h->flags & DP_RTPA_F_SSRC) || ssrc != h->ssrc) {
		/* A.1: a new source is on probation; the first one's
		 * runs are counted in nrestarts after it */
		if (h->flags & DP_RTPA_F_SSRC)
			c->nrestarts++;
		run_fold(h, c);
		h->ssrc = ssrc;
		h->jitter = 0; /* A.8 is per source */
		h->flags = (uint8_t)((h->flags | DP_RTPA_F_SSRC) &
				     ~(DP_RTPA_F_TRACK | DP_RTPA_F_TRANSIT));
		h->max_seq = seq;
		h->probation = DP_RTPA_MIN_SEQUENTIAL - 1;
		if (h->probation == 0)
			run_start(h, c, seq, 1, ts, now_ns);
		return;
	}
	udelta = (uint16_t)(seq - h->max_seq);
	if (h->probation != 0) {
		/* A.1: packets must be in sequence (a repeat is a duplicate) */
		if (udelta == 0) {
			dup(h, c);
			return;
		}
		h->max_seq = seq;
		if (udelta == 1) {
			if (--h->probation == 0)
				run_start(h, c, seq, DP_RTPA_MIN_SEQUENTIAL, ts, now_ns);
		} else {
			h->probation = DP_RTPA_MIN_SEQUENTIAL - 1;
		}
		return;
	}
	if (udelta == 0) {
		dup(h, c);
		return;
	}
	if (udelta < DP_RTPA_MAX_DROPOUT) {
		/* in order (here: the payload type changed or no transit) */
		jitter_skip(c, 1, dp_rtpa_in_order(h, seq, udelta, ts, now_ns));
		return;
	}
	if (udelta <= DP_RTPA_SEQ_MOD - DP_RTPA_MAX_MISORDER) {
		/* A.1: a very large jump. Two packets in sequence: the
		 * sender restarted; count both (the first set bad_seq). */
		if (seq == c->bad_seq) {
			c->nrestarts++;
			run_start(h, c, seq, 2, ts, now_ns);
		} else {
			c->bad_seq = (uint16_t)(seq + 1);
		}
		return;
	}
	/* A.1: duplicate or reordered, up to MAX_MISORDER behind */
	back = (uint16_t)(h->max_seq - seq);
	if (back < 64) {
		uint64_t bit = 1ull << back;

		if (h->seen & bit) {
			dup(h, c);
			return;
		}
		h->seen |= bit;
	}
	c->nreordered++;
	h->nrcvd++;
	/* late but before the run's first packet: expected grows (as
	 * rtpproxy's min_seq; nsent, derived from base_seq, follows); A.1's
	 * expected would count it lost */
	ext = rtpb_rtpa_ext_max(h) - back;
	if ((int32_t)(ext - c->base_seq) < 0)
		c->base_seq = ext;
	jitter_skip(c, 1, dp_rtpa_jitter(h, ts, now_ns));
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
