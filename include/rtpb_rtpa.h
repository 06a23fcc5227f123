/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb_rtpa.h: the RTP analysis counters of one stream (issue 17 item 4,
 * issue 18 item 1), as control reads them from shared memory, and their
 * formatting in rtpproxy's Q/Qv key=value format.
 *
 * Who writes what: the stream's owner worker (dataplane/dp_rtpa.h)
 * writes, per accepted RTP packet from the latched peer (RFC 3550 A.1
 * sequence tracking, A.8 jitter) and per RTCP receiver report about the
 * stream's SSRC (RFC 3550 6.4); control only reads. The dataplane keeps
 * two records per stream (issue 19): struct rtpb_rtpa_hot, the one line
 * every RTP packet writes (line 1 of the stream's record, which the
 * CPU fetches with line 0), and struct rtpb_rtpa_cold, what only the
 * rare paths write. struct rtpb_rtpa, control's view, is assembled from
 * the two by rtpb_rtpa_view() (rtpb_shm_stream_rtpa()): control copies
 * both out of the mapping first (memcpy) and formats the copy; each
 * field is naturally aligned, so a field is never torn on x86-64, but
 * two fields may be one packet apart.
 *
 * Plain C, no DPDK: control includes it. docs/RTPA.md maps every name to
 * rtpproxy 3.2's source.
 */
#ifndef RTPB_RTPA_H
#define RTPB_RTPA_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/**
 * What the peer's RTCP receiver reports say about this stream's media
 * (RFC 3550 6.4.1/6.4.2: the last report block whose SSRC is the
 * stream's SSRC, ctr.ssrc). Host byte order.
 */
struct rtpb_rtpa_rr {
	uint32_t nrr;          /**< report blocks about the SSRC seen, blocks; 0: no fields below */
	int32_t cum_lost;      /**< cumulative number of packets lost (24-bit signed, sign-extended), packets */
	uint32_t jitter;       /**< interarrival jitter, RTP timestamp units */
	uint8_t fraction_lost; /**< fraction lost since the previous report, 1/256 */
	uint8_t reserved[3];
};

/**
 * RTP analysis counters of one stream (one direction of one leg).
 * Packets unless said; jitter in 1/16 RTP timestamp units of clock_rate
 * (RFC 3550 A.8's scaled integer: jitter / 16.0 is J).
 */
struct rtpb_rtpa {
	uint64_t nsent;       /**< rtpa_nsent: packets the sender sent, from sequence numbers (RFC 3550 A.1 expected, summed over runs) */
	uint64_t nrcvd;       /**< rtpa_nrcvd: distinct packets received (duplicates not counted) */
	uint64_t jsum;        /**< sum of jitter after each update, 1/16 ts units (rtpa_javg = jsum / njitter) */
	uint64_t longest_ipi_ns; /**< longest_ipi: longest interval between two packets, ns (a whole number of us) */
	uint32_t ndups;       /**< rtpa_ndups: duplicates (a sequence number already seen in the last 64) */
	uint32_t nreordered;  /**< packets that arrived after a higher sequence number (not duplicates) */
	uint32_t perrs;       /**< rtpa_perrs: packets from the peer that are not valid RTP */
	uint32_t njitter;     /**< jitter updates summed in jsum */
	uint32_t jitter;      /**< rtpa_jlast: current interarrival jitter, 1/16 ts units */
	uint32_t jmax;        /**< rtpa_jmax: its maximum, 1/16 ts units */
	uint32_t ssrc;        /**< SSRC tracked (the peer's), valid once nrcvd > 0 */
	uint32_t clock_rate;  /**< RTP clock rate of the last packet's payload type, Hz */
	uint32_t nrestarts;   /**< new SSRC or sequence restart (RFC 3550 A.1 bad_seq): runs after the first */
	uint32_t dyn_clock_rate; /**< clock rate assumed for dynamic payload types (96-127), Hz */
	struct rtpb_rtpa_rr rr; /**< the peer's receiver reports about ssrc */
};

static_assert(sizeof(struct rtpb_rtpa_rr) == 16, "rtpb_rtpa_rr: shared layout");
static_assert(sizeof(struct rtpb_rtpa) == 88, "rtpb_rtpa: shared layout");

/* rtpb_rtpa_hot.flags (the dataplane's state; rtpb_rtpa_view() reads TRACK) */
#define RTPB_RTPA_F_SSRC 0x01    /**< ssrc holds a source */
#define RTPB_RTPA_F_TRACK 0x02   /**< the source passed probation: a run is counted */
#define RTPB_RTPA_F_TRANSIT 0x04 /**< transit holds the previous packet's (A.8) */
#define RTPB_RTPA_F_PT 0x08      /**< pt and mult are set */

/** Largest longest_ipi_us, about 71.6 minutes: a longer gap saturates. */
#define RTPB_RTPA_IPI_US_MAX UINT32_MAX

/**
 * What every RTP packet from the peer writes: RFC 3550 A.1's struct
 * source (compacted) and the counters that change per packet. One cache
 * line, line 1 of the stream's record. nsent and njitter are not kept
 * per packet: the per-packet path adds to both only as max_seq and nrcvd
 * grow, so they are derived (rtpb_rtpa_view()). Host byte order.
 */
struct rtpb_rtpa_hot {
	uint16_t max_seq;   /**< highest sequence number seen */
	uint16_t cycles;    /**< sequence number wraps (A.1 cycles >> 16) */
	uint8_t flags;      /**< RTPB_RTPA_F_* */
	uint8_t pt;         /**< payload type of the last packet */
	uint8_t probation;  /**< packets in sequence still needed before counting */
	/** rtpb_rtpa.ndups modulo 256 (the rest in rtpb_rtpa_cold.ndups_hi):
	 *  a duplicate, which a looping sender or network repeats for every
	 *  packet, writes this line only */
	uint8_t ndups_lo;
	uint64_t seen;      /**< bit i: max_seq - i arrived (duplicate detection) */
	uint32_t transit;   /**< A.8: arrival - timestamp of the previous packet, ts units */
	uint32_t mult;      /**< ns -> ts units at the last packet's clock rate (DP_RTPA_MULT) */
	uint64_t last_ns;   /**< arrival of the previous packet, CLOCK_MONOTONIC ns; 0 none */
	uint64_t nrcvd;     /**< rtpb_rtpa.nrcvd */
	uint64_t jsum;      /**< rtpb_rtpa.jsum */
	uint32_t ssrc;      /**< rtpb_rtpa.ssrc */
	uint32_t jitter;    /**< rtpb_rtpa.jitter */
	uint32_t jmax;      /**< rtpb_rtpa.jmax */
	/** longest interval between two packets, us (rounded), saturating
	 *  at RTPB_RTPA_IPI_US_MAX */
	uint32_t longest_ipi_us;
};

/** What only the rare paths write (new source, probation, duplicates,
 * late packets, restarts, payload type changes, RTCP). Host byte order. */
struct rtpb_rtpa_cold {
	uint32_t base_seq;      /**< extended sequence number of the run's first packet */
	uint32_t bad_seq;       /**< last 'bad' sequence number + 1, or SEQ_MOD + 1 */
	/** nsent of the runs before the current one (and of nothing while
	 *  no run is tracked): nsent = nsent_base + the current run's
	 *  extended max_seq - base_seq + 1 */
	uint64_t nsent_base;
	/** packets counted in nrcvd that updated no jitter:
	 *  njitter = nrcvd - njitter_skip (modulo 2^32) */
	uint32_t njitter_skip;
	uint32_t ndups_hi;       /**< rtpb_rtpa.ndups / 256 */
	uint32_t nreordered;     /**< rtpb_rtpa.nreordered */
	uint32_t perrs;          /**< rtpb_rtpa.perrs */
	uint32_t clock_rate;     /**< rtpb_rtpa.clock_rate */
	uint32_t nrestarts;      /**< rtpb_rtpa.nrestarts */
	uint32_t dyn_clock_rate; /**< rtpb_rtpa.dyn_clock_rate */
	uint32_t reserved;
	struct rtpb_rtpa_rr rr;  /**< rtpb_rtpa.rr */
};

static_assert(sizeof(struct rtpb_rtpa_hot) == 64, "rtpb_rtpa_hot: one cache line");
static_assert(sizeof(struct rtpb_rtpa_cold) == 64, "rtpb_rtpa_cold: one cache line");

/** Extended highest sequence number (RFC 3550 A.1: cycles + max_seq). */
static inline uint32_t
rtpb_rtpa_ext_max(const struct rtpb_rtpa_hot *h)
{
	return ((uint32_t)h->cycles << 16) | h->max_seq;
}

/** rtpa_nsent: packets the sender sent in every counted run, from
 * sequence numbers (RFC 3550 A.1 expected, summed over runs). */
static inline uint64_t
rtpb_rtpa_nsent(const struct rtpb_rtpa_hot *h, const struct rtpb_rtpa_cold *c)
{
	if (!(h->flags & RTPB_RTPA_F_TRACK))
		return c->nsent_base;
	return c->nsent_base + (uint32_t)(rtpb_rtpa_ext_max(h) - c->base_seq + 1);
}

/** Assemble control's view of one stream's analysis from its two records. */
static inline void
rtpb_rtpa_view(const struct rtpb_rtpa_hot *h, const struct rtpb_rtpa_cold *c,
	       struct rtpb_rtpa *out)
{
	memset(out, 0, sizeof(*out));
	out->nsent = rtpb_rtpa_nsent(h, c);
	out->nrcvd = h->nrcvd;
	out->jsum = h->jsum;
	out->longest_ipi_ns = (uint64_t)h->longest_ipi_us * 1000u;
	out->ndups = c->ndups_hi << 8 | h->ndups_lo;
	out->nreordered = c->nreordered;
	out->perrs = c->perrs;
	out->njitter = (uint32_t)h->nrcvd - c->njitter_skip;
	out->jitter = h->jitter;
	out->jmax = h->jmax;
	out->ssrc = h->ssrc;
	out->clock_rate = c->clock_rate;
	out->nrestarts = c->nrestarts;
	out->dyn_clock_rate = c->dyn_clock_rate;
	out->rr = c->rr;
}

/** rtpa_nlost: nsent - nrcvd, 0 if more arrived than were counted sent. */
static inline uint64_t
rtpb_rtpa_nlost(const struct rtpb_rtpa *a)
{
	return a->nsent > a->nrcvd ? a->nsent - a->nrcvd : 0;
}

/** A 1/16 ts-unit jitter value (jitter, jmax) in ms at a's clock rate; 0 if no rate. */
static inline double
rtpb_rtpa_ms(const struct rtpb_rtpa *a, double j16)
{
	return a->clock_rate != 0 ? j16 * 1000.0 / 16.0 / a->clock_rate : 0.0;
}

/** rtpa_javg: mean of the jitter after each update, ts units; 0 if none. */
static inline double
rtpb_rtpa_javg(const struct rtpb_rtpa *a)
{
	return a->njitter != 0 ? (double)a->jsum / 16.0 / a->njitter : 0.0;
}

/*
 * The counters by name: (name, printf format, value). rtpproxy 3.2's
 * names and formats first (rpcpv1_query.c: integers %lu, jitter in RTP
 * timestamp units and longest_ipi in seconds as %f), then this relay's
 * (rtpb_*: not in rtpproxy, which answers E62 to them). One list for Q,
 * the session-end log line and the metrics.
 */
#define RTPB_RTPA_FOREACH(_, a)                                                   \
	_("rtpa_nsent", "%llu", (unsigned long long)(a)->nsent)                    \
	_("rtpa_nrcvd", "%llu", (unsigned long long)(a)->nrcvd)                    \
	_("rtpa_ndups", "%llu", (unsigned long long)(a)->ndups)                    \
	_("rtpa_nlost", "%llu", (unsigned long long)rtpb_rtpa_nlost(a))            \
	_("rtpa_perrs", "%llu", (unsigned long long)(a)->perrs)                    \
	_("rtpa_jlast", "%f", (a)->jitter / 16.0)                                  \
	_("rtpa_jmax", "%f", (a)->jmax / 16.0)                                     \
	_("rtpa_javg", "%f", rtpb_rtpa_javg(a))                                    \
	_("longest_ipi", "%f", (a)->longest_ipi_ns / 1e9)                          \
	_("rtpb_nreordered", "%llu", (unsigned long long)(a)->nreordered)          \
	_("rtpb_jitter_ms", "%f", rtpb_rtpa_ms((a), (a)->jitter))                  \
	_("rtpb_clock_rate", "%u", (a)->clock_rate)                                \
	_("rtpb_rr_count", "%u", (a)->rr.nrr)                                      \
	_("rtpb_rr_fraction_lost", "%f", (a)->rr.fraction_lost / 256.0)            \
	_("rtpb_rr_cum_lost", "%d", (a)->rr.cum_lost)                              \
	_("rtpb_rr_jitter", "%u", (a)->rr.jitter)

/**
 * Print counter @p name of @p a as rtpproxy's Q does (the value only;
 * Qv's "name=" is the caller's, as in rpcpv1_query.c).
 * @param buf  out, NUL-terminated (truncated if size is too small).
 * @return the length snprintf() reports, or -1 if name is no counter
 *         of this list (the caller answers E62 as for unknown names).
 */
static inline int
rtpb_rtpa_format(const struct rtpb_rtpa *a, const char *name, char *buf, size_t size)
{
#define RTPB_RTPA_FMT_ONE(n, f, v)               \
	if (strcmp(name, n) == 0)                \
		return snprintf(buf, size, f, v);
	RTPB_RTPA_FOREACH(RTPB_RTPA_FMT_ONE, a)
#undef RTPB_RTPA_FMT_ONE
	return -1;
}

/**
 * Print every counter as "name=value" separated by spaces (Qv's format
 * with all names: control's session-end log line).
 * @return the length snprintf() reports for the whole line.
 */
static inline int
rtpb_rtpa_format_all(const struct rtpb_rtpa *a, char *buf, size_t size)
{
	size_t n = 0;
	int r;

	if (size > 0)
		buf[0] = '\0';
#define RTPB_RTPA_FMT_KV(k, f, v)                                              \
	r = snprintf(buf + (n < size ? n : size), n < size ? size - n : 0,     \
		     "%s" k "=" f, n == 0 ? "" : " ", v);                      \
	if (r > 0)                                                             \
		n += (size_t)r;
	RTPB_RTPA_FOREACH(RTPB_RTPA_FMT_KV, a)
#undef RTPB_RTPA_FMT_KV
	return (int)n;
}

#endif /* RTPB_RTPA_H */
