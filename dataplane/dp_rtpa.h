/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_rtpa.h: RTP analysis of one stream (issue 17 item 4, issue 18 item
 * 1): RFC 3550 A.1 sequence tracking (expected, lost, duplicates,
 * reordered, restarts), A.8 interarrival jitter, the longest interval
 * between packets, and what the peer's RTCP receiver reports say (6.4).
 * One implementation for rtpproxy's rtpa_* counters and per-call quality.
 *
 * State and writers: struct dp_rtpa lives in the stream record (cold
 * lines); the stream's owner worker is its only writer. st is the
 * dataplane's alone; ctr (include/rtpb_rtpa.h) is what control reads from
 * shared memory. No allocation, syscall, lock or clock: time is the
 * caller's CLOCK_MONOTONIC ns (TSC-independent), so tests drive it.
 *
 * Per packet: dp_rtpa_rx() for each RTP packet the latch accepted from
 * the latched peer; dp_rtpa_perr() for one from the peer that is not
 * valid RTP; dp_rtpa_rtcp_rr() for RTCP (see docs/RTPA.md, wiring).
 * The common case (same SSRC and payload type, next sequence number
 * within MAX_DROPOUT) is inline and branch-light; everything else goes
 * to dp_rtpa_rx_slow(). Cost: ~7 TSC cycles per call (2.1 GHz TSC,
 * 1 000 streams, record in cache; tools/bench-rtpa, docs/RTPA.md).
 *
 * Size: 128 bytes, two cache lines: 40 of state + 88 of counters.
 */
#ifndef DP_RTPA_H
#define DP_RTPA_H

#include <assert.h>
#include <stdint.h>

#include "rtpb_rtpa.h"

/* RFC 3550 A.1 constants. */
#define DP_RTPA_MIN_SEQUENTIAL 2   /**< packets in sequence before a new source counts */
#define DP_RTPA_MAX_DROPOUT 3000   /**< largest forward jump still in order, packets */
#define DP_RTPA_MAX_MISORDER 100   /**< largest backward jump still a late packet, packets */
#define DP_RTPA_SEQ_MOD (1u << 16) /**< RTP_SEQ_MOD */
/** Largest |D| (A.8) taken, ts units: keeps the scaled jitter in 31 bits. */
#define DP_RTPA_D_MAX (1u << 26)
/** Clock rate assumed for dynamic payload types until set, Hz (RFC 3551 audio default). */
#define DP_RTPA_DEFAULT_RATE 8000u
/** Fraction bits of the ns -> timestamp-units multiplier. */
#define DP_RTPA_MULT_SHIFT 44
/** Multiplier for a clock rate (Hz, <= 240 kHz to fit 32 bits), rounded up. */
#define DP_RTPA_MULT(hz) \
	((uint32_t)((((uint64_t)(hz) << DP_RTPA_MULT_SHIFT) + 999999999u) / 1000000000u))

/* dp_rtpa_state.flags */
#define DP_RTPA_F_SSRC 0x01    /**< ctr.ssrc holds a source */
#define DP_RTPA_F_TRACK 0x02   /**< the source passed probation: sequence tracked */
#define DP_RTPA_F_TRANSIT 0x04 /**< transit holds the previous packet's (A.8) */
#define DP_RTPA_F_PT 0x08      /**< pt and mult are set */
/** All of them: the inline path may run. */
#define DP_RTPA_F_FAST (DP_RTPA_F_SSRC | DP_RTPA_F_TRACK | DP_RTPA_F_TRANSIT | DP_RTPA_F_PT)

/** The dataplane's part: RFC 3550 A.1's struct source, compacted. */
struct dp_rtpa_state {
	uint16_t max_seq;  /**< highest sequence number seen */
	uint8_t probation; /**< packets in sequence still needed before counting */
	uint8_t flags;     /**< DP_RTPA_F_* */
	uint16_t cycles;   /**< sequence number wraps (A.1 cycles >> 16) */
	uint8_t pt;        /**< payload type of the last packet */
	uint8_t reserved;
	uint32_t base_seq; /**< extended sequence number of the run's first packet */
	uint32_t bad_seq;  /**< last 'bad' sequence number + 1, or SEQ_MOD + 1 */
	uint64_t seen;     /**< bit i: max_seq - i arrived (duplicate detection) */
	uint32_t transit;  /**< A.8: arrival - timestamp of the previous packet, ts units */
	uint32_t mult;     /**< ns -> ts units at the last packet's clock rate (DP_RTPA_MULT) */
	uint64_t last_ns;  /**< arrival of the previous packet, ns; 0 none */
};

/** State + counters of one stream. */
struct dp_rtpa {
	struct dp_rtpa_state st; /**< the owner worker's */
	struct rtpb_rtpa ctr;    /**< read by control (include/rtpb_rtpa.h) */
};

static_assert(sizeof(struct dp_rtpa_state) == 40, "dp_rtpa_state: 40 bytes");
static_assert(sizeof(struct dp_rtpa) == 128, "dp_rtpa: two cache lines");

/**
 * Clear the analysis of a stream (stream added or re-used).
 * @param dyn_rate  clock rate of dynamic payload types, Hz; 0: 8000.
 */
void dp_rtpa_init(struct dp_rtpa *r, uint32_t dyn_rate);

/**
 * Set the clock rate of dynamic payload types (an SDP rtpmap learnt on a
 * re-offer) without clearing the counters; the next packet takes it.
 * @param hz  Hz; 0: 8000.
 */
void dp_rtpa_set_dyn_rate(struct dp_rtpa *r, uint32_t hz);

/**
 * Clock rate of a payload type: RFC 3551 table 4 and 5 for static ones
 * (unassigned and reserved ones: 8000), @p dyn_rate for 96-127. Hz.
 */
uint32_t dp_rtpa_clock_rate(uint8_t pt, uint32_t dyn_rate);

/** Everything dp_rtpa_rx() does not do inline: new source, probation,
 * duplicates, late packets, jumps, payload type changes. */
void dp_rtpa_rx_slow(struct dp_rtpa *r, uint32_t ssrc, uint16_t seq,
		     uint32_t ts, uint8_t pt, uint64_t now_ns);

/** A.8: update the jitter with a packet of timestamp ts at now_ns. */
static inline void
dp_rtpa_jitter(struct dp_rtpa *r, uint32_t ts, uint64_t now_ns)
{
	struct dp_rtpa_state *st = &r->st;
	struct rtpb_rtpa *c = &r->ctr;
	/* arrival in ts units, modulo 2^32 (only differences matter) */
	uint32_t arrival = (uint32_t)(((unsigned __int128)now_ns * st->mult) >>
				      DP_RTPA_MULT_SHIFT);
	uint32_t transit = arrival - ts;
	int32_t d = (int32_t)(transit - st->transit);
	uint32_t ad = d < 0 ? -(uint32_t)d : (uint32_t)d;
	uint32_t had = st->flags & DP_RTPA_F_TRANSIT;

	st->transit = transit;
	st->flags |= DP_RTPA_F_TRANSIT;
	if (!had)
		return;
	if (ad > DP_RTPA_D_MAX)
		ad = DP_RTPA_D_MAX;
	/* RFC 3550 A.8: J += (|D| - J) / 16, J scaled by 16 */
	c->jitter += ad - ((c->jitter + 8) >> 4);
	if (c->jitter > c->jmax)
		c->jmax = c->jitter;
	c->jsum += c->jitter;
	c->njitter++;
}

/** A.1: a packet udelta (1 .. MAX_DROPOUT - 1) ahead of the highest
 * sequence number: udelta - 1 packets lost (until they come late). */
static inline void
dp_rtpa_in_order(struct dp_rtpa *r, uint16_t seq, uint16_t udelta, uint32_t ts,
		 uint64_t now_ns)
{
	struct dp_rtpa_state *st = &r->st;

	if (seq < st->max_seq)
		st->cycles++;
	st->max_seq = seq;
	st->seen = (udelta >= 64 ? 0 : st->seen << udelta) | 1;
	r->ctr.nsent += udelta;
	r->ctr.nrcvd++;
	dp_rtpa_jitter(r, ts, now_ns);
}

/**
 * Account an RTP packet the latch accepted from the stream's peer.
 * @param ssrc, seq, ts, pt  the RTP header's fields, host byte order.
 * @param now_ns  arrival, CLOCK_MONOTONIC ns.
 */
static inline void
dp_rtpa_rx(struct dp_rtpa *r, uint32_t ssrc, uint16_t seq, uint32_t ts,
	   uint8_t pt, uint64_t now_ns)
{
	struct dp_rtpa_state *st = &r->st;
	struct rtpb_rtpa *c = &r->ctr;
	uint16_t udelta = (uint16_t)(seq - st->max_seq);
	int64_t ipi = (int64_t)(now_ns - st->last_ns);

	/* longest_ipi (rtpproxy rtpp_pcnt_strm.c): every packet in */
	if (st->last_ns != 0 && ipi > (int64_t)c->longest_ipi_ns)
		c->longest_ipi_ns = (uint64_t)ipi;
	st->last_ns = now_ns;
	if (__builtin_expect(ssrc != c->ssrc || pt != st->pt ||
			     (st->flags & DP_RTPA_F_FAST) != DP_RTPA_F_FAST ||
			     (uint16_t)(udelta - 1) >= DP_RTPA_MAX_DROPOUT - 1, 0)) {
		dp_rtpa_rx_slow(r, ssrc, seq, ts, pt, now_ns);
		return;
	}
	dp_rtpa_in_order(r, seq, udelta, ts, now_ns);
}

/** A packet from the peer on an RTP stream that is not valid RTP
 * (rtpproxy's rtpa_perrs: rtp_packet_parse() failed). */
static inline void
dp_rtpa_perr(struct dp_rtpa *r)
{
	r->ctr.perrs++;
}

/**
 * Parse a compound RTCP packet (RFC 3550 6.1, validity as A.2: version
 * 2, first packet SR or RR, padding only in the last, lengths adding up
 * to len) and take the last report block (6.4.1) about @p ssrc into
 * @p rr (nrr incremented). Reads only p[0, len).
 * @param p, len  the UDP payload.
 * @param ssrc    the reportee: the SSRC of the media the reporter receives.
 * @return 1 if a block about ssrc was taken, 0 if the packet is valid
 *         but holds none, -EINVAL if it is not valid (rr untouched).
 */
int dp_rtpa_rtcp_rr(const uint8_t *p, uint32_t len, uint32_t ssrc,
		    struct rtpb_rtpa_rr *rr);

#endif /* DP_RTPA_H */
