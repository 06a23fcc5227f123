/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_rtpa.h: RTP analysis of one stream (issue 17 item 4, issue 18 item
 * 1): RFC 3550 A.1 sequence tracking (expected, lost, duplicates,
 * reordered, restarts), A.8 interarrival jitter, the longest interval
 * between packets, and what the peer's RTCP receiver reports say (6.4).
 * One implementation for rtpproxy's rtpa_* counters and per-call quality.
 *
 * State and writers: two records per stream (include/rtpb_rtpa.h):
 * struct rtpb_rtpa_hot, the one cache line each RTP packet from the peer
 * writes, is line 1 of the stream's record (dp_stream.h), so the CPU
 * brings it in with line 0 (the adjacent-line prefetch of a 128-byte
 * pair) and the analysis costs no far line of its own; struct
 * rtpb_rtpa_cold, written by the rare paths only, is the record's last
 * line. The stream's owner worker is the only writer; control reads both
 * (rtpb_shm_stream_rtpa()). No allocation, syscall, lock or clock: time
 * is the caller's CLOCK_MONOTONIC ns (TSC-independent), so tests drive it.
 *
 * Per packet: dp_rtpa_rx() for each RTP packet the latch accepted from
 * the latched peer; dp_rtpa_perr() for one from the peer that is not
 * valid RTP; dp_rtpa_rtcp_rr() for RTCP (see docs/RTPA.md, wiring).
 * The common case (same SSRC and payload type, next sequence number
 * within MAX_DROPOUT) is inline, branch-light and touches the hot line
 * only; everything else goes to dp_rtpa_rx_slow(). nsent and njitter are
 * derived (rtpb_rtpa_view()): the slow path keeps their bases right.
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

/* The flags (rtpb_rtpa_hot.flags) */
#define DP_RTPA_F_SSRC RTPB_RTPA_F_SSRC
#define DP_RTPA_F_TRACK RTPB_RTPA_F_TRACK
#define DP_RTPA_F_TRANSIT RTPB_RTPA_F_TRANSIT
#define DP_RTPA_F_PT RTPB_RTPA_F_PT
/** All of them: the inline path may run. */
#define DP_RTPA_F_FAST (DP_RTPA_F_SSRC | DP_RTPA_F_TRACK | DP_RTPA_F_TRANSIT | DP_RTPA_F_PT)

/** One stream's analysis as a unit of its own (tests, tools/bench-rtpa);
 * the dataplane keeps the two parts in the stream record instead. */
struct dp_rtpa {
	struct rtpb_rtpa_hot hot;
	struct rtpb_rtpa_cold cold;
};

/**
 * Clear the analysis of a stream (stream added or re-used).
 * @param dyn_rate  clock rate of dynamic payload types, Hz; 0: 8000.
 */
void dp_rtpa_init(struct rtpb_rtpa_hot *h, struct rtpb_rtpa_cold *c, uint32_t dyn_rate);

/**
 * Set the clock rate of dynamic payload types (an SDP rtpmap learnt on a
 * re-offer) without clearing the counters; the next packet takes it.
 * @param hz  Hz; 0: 8000.
 */
void dp_rtpa_set_dyn_rate(struct rtpb_rtpa_hot *h, struct rtpb_rtpa_cold *c, uint32_t hz);

/**
 * Clock rate of a payload type: RFC 3551 table 4 and 5 for static ones
 * (unassigned and reserved ones: 8000), @p dyn_rate for 96-127. Hz.
 */
uint32_t dp_rtpa_clock_rate(uint8_t pt, uint32_t dyn_rate);

/** Everything dp_rtpa_rx() does not do inline: new source, probation,
 * duplicates, late packets, jumps, payload type changes. */
void dp_rtpa_rx_slow(struct rtpb_rtpa_hot *h, struct rtpb_rtpa_cold *c, uint32_t ssrc,
		     uint16_t seq, uint32_t ts, uint8_t pt, uint64_t now_ns);

/** A.8: update the jitter with a packet of timestamp ts at now_ns.
 * @return 1 if the jitter was updated (njitter grew), 0 if this packet
 *         only set the transit (the first one, or a new clock). */
static inline int
dp_rtpa_jitter(struct rtpb_rtpa_hot *h, uint32_t ts, uint64_t now_ns)
{
	/* arrival in ts units, modulo 2^32 (only differences matter) */
	uint32_t arrival = (uint32_t)(((unsigned __int128)now_ns * h->mult) >>
				      DP_RTPA_MULT_SHIFT);
	uint32_t transit = arrival - ts;
	int32_t d = (int32_t)(transit - h->transit);
	uint32_t ad = d < 0 ? -(uint32_t)d : (uint32_t)d;
	uint32_t had = h->flags & DP_RTPA_F_TRANSIT;

	h->transit = transit;
	h->flags |= DP_RTPA_F_TRANSIT;
	if (!had)
		return 0;
	if (ad > DP_RTPA_D_MAX)
		ad = DP_RTPA_D_MAX;
	/* RFC 3550 A.8: J += (|D| - J) / 16, J scaled by 16 */
	h->jitter += ad - ((h->jitter + 8) >> 4);
	if (h->jitter > h->jmax)
		h->jmax = h->jitter;
	h->jsum += h->jitter;
	return 1;
}

/** A.1: a packet udelta (1 .. MAX_DROPOUT - 1) ahead of the highest
 * sequence number: udelta - 1 packets lost (until they come late).
 * nsent grows by udelta with max_seq (derived); nrcvd by one.
 * @return as dp_rtpa_jitter(). */
static inline int
dp_rtpa_in_order(struct rtpb_rtpa_hot *h, uint16_t seq, uint16_t udelta, uint32_t ts,
		 uint64_t now_ns)
{
	if (seq < h->max_seq)
		h->cycles++;
	h->max_seq = seq;
	h->seen = (udelta >= 64 ? 0 : h->seen << udelta) | 1;
	h->nrcvd++;
	return dp_rtpa_jitter(h, ts, now_ns);
}

/** longest_ipi (rtpproxy rtpp_pcnt_strm.c): an interval of ipi_ns,
 * kept in whole us (rounded), saturating. */
static inline void
dp_rtpa_ipi(struct rtpb_rtpa_hot *h, uint64_t ipi_ns)
{
	if (ipi_ns >= (uint64_t)h->longest_ipi_us * 1000u + 500u) {
		uint64_t us = (ipi_ns + 500u) / 1000u;

		h->longest_ipi_us = us > RTPB_RTPA_IPI_US_MAX ? RTPB_RTPA_IPI_US_MAX :
								(uint32_t)us;
	}
}

/**
 * Account an RTP packet the latch accepted from the stream's peer.
 * The common case touches h only; c is for dp_rtpa_rx_slow().
 * @param ssrc, seq, ts, pt  the RTP header's fields, host byte order.
 * @param now_ns  arrival, CLOCK_MONOTONIC ns.
 */
static inline void
dp_rtpa_rx(struct rtpb_rtpa_hot *h, struct rtpb_rtpa_cold *c, uint32_t ssrc,
	   uint16_t seq, uint32_t ts, uint8_t pt, uint64_t now_ns)
{
	uint16_t udelta = (uint16_t)(seq - h->max_seq);

	/* longest_ipi: every packet in */
	if (h->last_ns != 0 && (int64_t)(now_ns - h->last_ns) > 0)
		dp_rtpa_ipi(h, now_ns - h->last_ns);
	h->last_ns = now_ns;
	if (__builtin_expect(ssrc != h->ssrc || pt != h->pt ||
			     (h->flags & DP_RTPA_F_FAST) != DP_RTPA_F_FAST ||
			     (uint16_t)(udelta - 1) >= DP_RTPA_MAX_DROPOUT - 1, 0)) {
		dp_rtpa_rx_slow(h, c, ssrc, seq, ts, pt, now_ns);
		return;
	}
	/* F_FAST has F_TRANSIT: the jitter is updated, njitter grows
	 * with nrcvd */
	(void)dp_rtpa_in_order(h, seq, udelta, ts, now_ns);
}

/** A packet from the peer on an RTP stream that is not valid RTP
 * (rtpproxy's rtpa_perrs: rtp_packet_parse() failed). */
static inline void
dp_rtpa_perr(struct rtpb_rtpa_cold *c)
{
	c->perrs++;
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
