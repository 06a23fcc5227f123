/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_rtpa.c: RTP analysis (dataplane/dp_rtpa.h): RFC 3550 A.1
 * sequence tracking, A.8 jitter, longest_ipi, the RTCP receiver report
 * parser, and the Q formatting of include/rtpb_rtpa.h. Time is a
 * parameter; the packets are generated, the expected figures are
 * counted by hand from the generators' rules.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rtpb_rtpa.h"
#include "dp_rtpa.h"

#define MS 1000000ull
#define T0 (1000000000000ull + 12345) /* an arbitrary boot-relative start, ns */
#define SSRC_A 0x11223344u
#define SSRC_B 0x55667788u
#define NPKT_MAX 4096

/* The counters as control sees them (rtpb_rtpa_view()), in a ring of
 * copies so one expression may take a few. */
static const struct rtpb_rtpa *
VP(const struct dp_rtpa *r)
{
	static struct rtpb_rtpa v[4];
	static unsigned int i;
	struct rtpb_rtpa *p = &v[i++ & 3];

	rtpb_rtpa_view(&r->hot, &r->cold, p);
	return p;
}

/* One RTP packet from the peer, as dp_rtpa_stage() gives it. */
static void
rx(struct dp_rtpa *r, uint32_t ssrc, uint16_t seq, uint32_t ts, uint8_t pt, uint64_t now_ns)
{
	dp_rtpa_rx(&r->hot, &r->cold, ssrc, seq, ts, pt, now_ns);
}

/* One RTP packet as the worker passes it. */
struct pkt {
	uint32_t ssrc;
	uint16_t seq;
};

static struct pkt pkts[NPKT_MAX];

/* Append count packets of ssrc from sequence number first (wrapping) at
 * pkts[n]; @return the new count. */
static size_t
run_of(size_t n, uint32_t ssrc, uint32_t first, size_t count)
{
	for (size_t k = 0; k < count; k++)
		pkts[n++] = (struct pkt){ssrc, (uint16_t)(first + k)};
	return n;
}

/* Generators: fill pkts[], return how many. Packet k is sent 20 ms after
 * packet k-1 with timestamp +160, whatever its sequence number. */
static size_t
gen_in_order(void)
{
	return run_of(0, SSRC_A, 1000, 500);
}

/* 1000 sequence numbers, every tenth (k % 10 == 5) never sent: 100 lost. */
static size_t
gen_skip_tenth(void)
{
	size_t n = 0;

	for (size_t k = 0; k < 1000; k++)
		if (k % 10 != 5)
			pkts[n++] = (struct pkt){SSRC_A, (uint16_t)(20000 + k)};
	return n;
}

/* 500 packets; every 50th sent twice at once and every 100th (from 30)
 * once more 3 packets later: 10 + 5 duplicates. */
static size_t
gen_dups(void)
{
	size_t n = 0;

	for (size_t k = 0; k < 500; k++) {
		pkts[n++] = (struct pkt){SSRC_A, (uint16_t)k};
		if (k % 50 == 0)
			pkts[n++] = (struct pkt){SSRC_A, (uint16_t)k};
		if (k % 100 == 33)
			pkts[n++] = (struct pkt){SSRC_A, (uint16_t)(k - 3)};
	}
	return n;
}

/* 500 packets, k and k+1 swapped where k % 10 == 4: 50 late, none lost. */
static size_t
gen_reorder(void)
{
	run_of(0, SSRC_A, 7, 500);
	for (size_t k = 4; k + 1 < 500; k += 10) {
		struct pkt t = pkts[k];

		pkts[k] = pkts[k + 1];
		pkts[k + 1] = t;
	}
	return 500;
}

/* From 65000 through the wrap to 464: 1000 packets, none lost. */
static size_t
gen_wrap(void)
{
	return run_of(0, SSRC_A, 65000, 1000);
}

/* The wrap with 65535 and 0 lost and 65534 late after 1. */
static size_t
gen_wrap_loss(void)
{
	size_t n = 0;

	for (uint32_t s = 65500; s < 65536 + 100; s++) {
		uint16_t q = (uint16_t)s;

		if (q == 65535 || q == 0 || q == 65534)
			continue;
		pkts[n++] = (struct pkt){SSRC_A, q};
		if (q == 1)
			pkts[n++] = (struct pkt){SSRC_A, 65534};
	}
	return n;
}

/* 200 packets, then the sender restarts 30000 further on (RFC 3550 A.1
 * bad_seq: the second packet in sequence confirms) for 200 more. */
static size_t
gen_restart(void)
{
	return run_of(run_of(0, SSRC_A, 100, 200), SSRC_A, 30100, 200);
}

/* A single stray packet 40000 ahead: not a restart, not counted. */
static size_t
gen_stray(void)
{
	size_t n = run_of(0, SSRC_A, 500, 100);

	pkts[n++] = (struct pkt){SSRC_A, 40600};
	return run_of(n, SSRC_A, 600, 100);
}

/* A new SSRC (a re-INVITE): a second run. */
static size_t
gen_new_ssrc(void)
{
	return run_of(run_of(0, SSRC_A, 10, 100), SSRC_B, 50000, 100);
}

/* The run's first two packets, then one older than both. */
static size_t
gen_late_first(void)
{
	pkts[0] = (struct pkt){SSRC_A, 11};
	pkts[1] = (struct pkt){SSRC_A, 12};
	pkts[2] = (struct pkt){SSRC_A, 10};
	return run_of(3, SSRC_A, 13, 47);
}

/* A gap of 2000 (within MAX_DROPOUT) then some of it late. */
static size_t
gen_gap(void)
{
	size_t n = run_of(run_of(0, SSRC_A, 0, 10), SSRC_A, 2010, 10);

	pkts[n++] = (struct pkt){SSRC_A, 2005}; /* 14 behind: late, counted */
	pkts[n++] = (struct pkt){SSRC_A, 2005}; /* its duplicate */
	return n;
}

/* Repeats 63 behind (inside the 64-packet window: duplicates) and 99
 * behind (outside it, inside MAX_MISORDER: taken for late packets, so
 * received exceeds sent and nlost clamps at 0; docs/RTPA.md). */
static size_t
gen_window_edge(void)
{
	size_t n = run_of(0, SSRC_A, 3000, 200);

	pkts[n++] = (struct pkt){SSRC_A, 3000 + 199 - 63};
	pkts[n++] = (struct pkt){SSRC_A, 3000 + 199 - 99};
	return n;
}

struct seq_case {
	const char *name;
	size_t (*gen)(void);
	uint64_t nsent, nrcvd, nlost;
	uint32_t ndups, nreordered, nrestarts;
};

static const struct seq_case seq_cases[] = {
	{"in order", gen_in_order, .nsent = 500, .nrcvd = 500},
	{"every tenth skipped", gen_skip_tenth, .nsent = 1000, .nrcvd = 900, .nlost = 100},
	{"duplicates", gen_dups, .nsent = 500, .nrcvd = 500, .ndups = 15},
	{"reordering", gen_reorder, .nsent = 500, .nrcvd = 500, .nreordered = 50},
	{"wrap at 65535", gen_wrap, .nsent = 1000, .nrcvd = 1000},
	{"wrap with loss and a late one", gen_wrap_loss, .nsent = 136, .nrcvd = 134,
	 .nlost = 2, .nreordered = 1},
	{"restart with a big jump", gen_restart, .nsent = 400, .nrcvd = 400, .nrestarts = 1},
	{"a stray jump is no restart", gen_stray, .nsent = 200, .nrcvd = 200},
	{"new SSRC", gen_new_ssrc, .nsent = 200, .nrcvd = 200, .nrestarts = 1},
	{"late before the first", gen_late_first, .nsent = 50, .nrcvd = 50, .nreordered = 1},
	{"64-packet duplicate window", gen_window_edge, .nsent = 200, .nrcvd = 201,
	 .ndups = 1, .nreordered = 1},
	{"gap then late", gen_gap, .nsent = 2020, .nrcvd = 21, .nlost = 1999,
	 .ndups = 1, .nreordered = 1},
};

static void
run_seq(struct dp_rtpa *r, size_t n)
{
	dp_rtpa_init(&r->hot, &r->cold, 0);
	for (size_t k = 0; k < n; k++)
		rx(r, pkts[k].ssrc, pkts[k].seq, (uint32_t)(5000 + 160 * k), 0,
			   T0 + k * 20 * MS);
}

static void
test_seq_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(seq_cases) / sizeof(seq_cases[0]); i++) {
		const struct seq_case *c = &seq_cases[i];
		struct dp_rtpa r;
		size_t n = c->gen();

		assert_true(n <= NPKT_MAX);
		run_seq(&r, n);
		printf("# %-32s nsent=%llu nrcvd=%llu nlost=%llu ndups=%u nreord=%u nrestarts=%u\n",
		       c->name, (unsigned long long)VP(&r)->nsent,
		       (unsigned long long)VP(&r)->nrcvd,
		       (unsigned long long)rtpb_rtpa_nlost(VP(&r)), VP(&r)->ndups,
		       VP(&r)->nreordered, VP(&r)->nrestarts);
		assert_int_equal(VP(&r)->nsent, c->nsent);
		assert_int_equal(VP(&r)->nrcvd, c->nrcvd);
		assert_int_equal(rtpb_rtpa_nlost(VP(&r)), c->nlost);
		assert_int_equal(VP(&r)->ndups, c->ndups);
		assert_int_equal(VP(&r)->nreordered, c->nreordered);
		assert_int_equal(VP(&r)->nrestarts, c->nrestarts);
		assert_int_equal(VP(&r)->perrs, 0);
	}
}

/* The RFC's probation: a single packet of a new source is not counted;
 * out-of-sequence packets restart probation. */
static void
test_probation(void **state)
{
	struct dp_rtpa r;

	(void)state;
	dp_rtpa_init(&r.hot, &r.cold, 0);
	rx(&r, SSRC_A, 100, 0, 0, T0);
	assert_int_equal(VP(&r)->nrcvd, 0);
	rx(&r, SSRC_A, 300, 160, 0, T0 + 20 * MS); /* not in sequence */
	assert_int_equal(VP(&r)->nrcvd, 0);
	rx(&r, SSRC_A, 301, 320, 0, T0 + 40 * MS);
	assert_int_equal(VP(&r)->nrcvd, 2);
	assert_int_equal(VP(&r)->nsent, 2);
	dp_rtpa_perr(&r.cold);
	assert_int_equal(VP(&r)->perrs, 1);
	assert_int_equal(VP(&r)->ssrc, SSRC_A);
}

/*
 * The hot/cold split (include/rtpb_rtpa.h): what is kept in parts or
 * derived reads back whole. 600 duplicates carry ndups over its low byte
 * (in the hot line) twice; nsent is derived from the run and summed over
 * a new SSRC; a silence of two hours saturates longest_ipi at 2^32 us;
 * and a duplicate of the latest packet writes the hot line only.
 */
static void
test_hot_cold(void **state)
{
	struct dp_rtpa r;
	struct rtpb_rtpa_cold cold;
	uint64_t t = T0;
	uint32_t k;

	(void)state;
	dp_rtpa_init(&r.hot, &r.cold, 0);
	for (k = 0; k < 100; k++, t += 20 * MS)
		rx(&r, SSRC_A, (uint16_t)(65500 + k), k * 160, 0, t); /* wraps at 36 */
	assert_int_equal(VP(&r)->nsent, 100);
	assert_int_equal(VP(&r)->nrcvd, 100);
	assert_int_equal(VP(&r)->njitter, 98); /* none for the first two */
	for (k = 0; k < 600; k++, t += MS)
		rx(&r, SSRC_A, (uint16_t)(65500 + 99), 99 * 160, 0, t);
	assert_int_equal(VP(&r)->ndups, 600);
	assert_int_equal(VP(&r)->nrcvd, 100);
	/* a duplicate of the latest packet: the cold line unchanged */
	cold = r.cold;
	rx(&r, SSRC_A, (uint16_t)(65500 + 99), 99 * 160, 0, t);
	assert_memory_equal(&cold, &r.cold, sizeof(cold));
	assert_int_equal(VP(&r)->ndups, 601);
	/* a new source: its run adds to the first's */
	for (k = 0; k < 10; k++, t += 20 * MS)
		rx(&r, SSRC_B, (uint16_t)(7 + k), k * 160, 0, t);
	assert_int_equal(VP(&r)->nsent, 110);
	assert_int_equal(VP(&r)->nrcvd, 110);
	assert_int_equal(VP(&r)->nrestarts, 1);
	/* 20 ms apart: longest_ipi 20 ms, in whole us */
	assert_int_equal(VP(&r)->longest_ipi_ns, 20 * MS);
	t += 7200000ull * MS;
	rx(&r, SSRC_B, 17, 10 * 160, 0, t);
	assert_int_equal(VP(&r)->longest_ipi_ns, (uint64_t)RTPB_RTPA_IPI_US_MAX * 1000u);
	assert_int_equal(VP(&r)->nsent, 111);
}

/*
 * Jitter (RFC 3550 A.8). Packets every 20 ms of media (timestamp + 20 ms
 * of the clock), arriving 20 ms apart plus dev_ms on odd packets: D
 * alternates +dev, -dev, so J converges to dev (in ts units: dev * rate
 * / 1000). dev 0: a constant spacing, J is 0.
 */
struct jit_case {
	const char *name;
	uint8_t pt;
	uint32_t dyn_rate;
	double dev_ms;
	uint32_t hz; /* the clock rate expected */
};

static const struct jit_case jit_cases[] = {
	{"PCMU, constant", 0, 0, 0.0, 8000},
	{"PCMU, +-1 ms", 0, 0, 1.0, 8000},
	{"PCMA, +-5 ms", 8, 0, 5.0, 8000},
	{"G722, +-10 ms", 9, 0, 10.0, 8000},
	{"DVI4/16000, +-3 ms", 6, 0, 3.0, 16000},
	{"dynamic at 48000, +-7.5 ms", 111, 48000, 7.5, 48000},
	{"dynamic at the default, constant", 101, 0, 0.0, 8000},
	{"H261/90000, +-2 ms", 31, 0, 2.0, 90000},
};

static void
test_jitter_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(jit_cases) / sizeof(jit_cases[0]); i++) {
		const struct jit_case *c = &jit_cases[i];
		uint32_t step = c->hz / 50; /* 20 ms of the clock */
		uint64_t dev_ns = (uint64_t)(c->dev_ms * MS);
		struct dp_rtpa r;
		double jms, jmax_ms;

		dp_rtpa_init(&r.hot, &r.cold, c->dyn_rate);
		for (uint32_t k = 0; k < 1000; k++)
			rx(&r, SSRC_A, (uint16_t)(40000 + k), 0xfffff000u + k * step,
				   c->pt, T0 + k * 20 * MS + (k & 1) * dev_ns);
		jms = rtpb_rtpa_ms(VP(&r), VP(&r)->jitter);
		jmax_ms = rtpb_rtpa_ms(VP(&r), VP(&r)->jmax);
		printf("# %-34s rate=%u jitter=%.4f ms (%.3f ts) jmax=%.4f ms javg=%.3f ts\n",
		       c->name, VP(&r)->clock_rate, jms, VP(&r)->jitter / 16.0, jmax_ms,
		       rtpb_rtpa_javg(VP(&r)));
		assert_int_equal(VP(&r)->clock_rate, c->hz);
		assert_int_equal(VP(&r)->nrcvd, 1000);
		if (c->dev_ms == 0.0) {
			/* at most one timestamp unit's rounding, once */
			assert_true(VP(&r)->jitter <= 1);
		} else {
			assert_true(fabs(jms - c->dev_ms) < 1.0);
			/* in ts units: within one unit of dev * rate */
			assert_true(fabs(VP(&r)->jitter / 16.0 - c->dev_ms * c->hz / 1000) <= 1.0);
		}
		/* longest_ipi: 20 ms + dev */
		assert_int_equal(VP(&r)->longest_ipi_ns, 20 * MS + dev_ns);
	}
}

/* A silence of 3 s (DTX: timestamps jump with it): longest_ipi 3 s,
 * jitter unmoved; a payload type of another clock rate: no sample. */
static void
test_gap_and_pt_change(void **state)
{
	struct dp_rtpa r;
	uint32_t n0;

	(void)state;
	dp_rtpa_init(&r.hot, &r.cold, 0);
	for (uint32_t k = 0; k < 100; k++)
		rx(&r, SSRC_A, (uint16_t)k, k * 160, 0, T0 + k * 20 * MS);
	rx(&r, SSRC_A, 100, 99 * 160 + 24000, 0, T0 + 99 * 20 * MS + 3000 * MS);
	assert_int_equal(VP(&r)->longest_ipi_ns, 3000 * MS);
	assert_true(VP(&r)->jitter <= 1);
	n0 = VP(&r)->njitter;
	/* telephone-event at the same 8000 Hz keeps the samples going */
	rx(&r, SSRC_A, 101, 99 * 160 + 24160, 101, T0 + 99 * 20 * MS + 3020 * MS);
	assert_int_equal(VP(&r)->njitter, n0 + 1);
	/* 16000 Hz: the transit is in other units, no sample */
	rx(&r, SSRC_A, 102, 777, 6, T0 + 99 * 20 * MS + 3040 * MS);
	assert_int_equal(VP(&r)->njitter, n0 + 1);
	assert_int_equal(VP(&r)->clock_rate, 16000);
	rx(&r, SSRC_A, 103, 777 + 320, 6, T0 + 99 * 20 * MS + 3060 * MS);
	assert_int_equal(VP(&r)->njitter, n0 + 2);
	assert_true(VP(&r)->jitter <= 1);
}

/* A dynamic payload type's rate set mid-call (a re-offer): the next
 * packet is at 48000 Hz, its transit starts afresh, the counts go on. */
static void
test_dyn_rate(void **state)
{
	struct dp_rtpa r;
	uint32_t k, n0;

	(void)state;
	dp_rtpa_init(&r.hot, &r.cold, 0);
	for (k = 0; k < 50; k++)
		rx(&r, SSRC_A, (uint16_t)k, k * 160, 111, T0 + k * 20 * MS);
	assert_int_equal(VP(&r)->clock_rate, 8000);
	n0 = VP(&r)->njitter;
	dp_rtpa_set_dyn_rate(&r.hot, &r.cold, 48000);
	assert_int_equal(VP(&r)->nrcvd, 50);
	rx(&r, SSRC_A, 50, 7, 111, T0 + 50 * 20 * MS);
	assert_int_equal(VP(&r)->clock_rate, 48000);
	assert_int_equal(VP(&r)->njitter, n0);
	for (k = 51; k < 100; k++)
		rx(&r, SSRC_A, (uint16_t)k, 7 + (k - 50) * 960, 111,
			   T0 + k * 20 * MS);
	assert_int_equal(VP(&r)->njitter, n0 + 49);
	assert_true(VP(&r)->jitter <= 1);
	assert_int_equal(VP(&r)->nrcvd, 100);
	assert_int_equal(VP(&r)->nsent, 100);
}

/* ---- RTCP receiver reports (RFC 3550 6.4) ---- */

#define PKT_MAX 256

/* Append an RTCP header; returns the offset after it. */
static size_t
put_hdr(uint8_t *p, size_t off, uint8_t v_p_rc, uint8_t pt, uint16_t words_minus_1)
{
	p[off] = v_p_rc;
	p[off + 1] = pt;
	p[off + 2] = (uint8_t)(words_minus_1 >> 8);
	p[off + 3] = (uint8_t)words_minus_1;
	return off + 4;
}

static size_t
put32(uint8_t *p, size_t off, uint32_t v)
{
	p[off] = (uint8_t)(v >> 24);
	p[off + 1] = (uint8_t)(v >> 16);
	p[off + 2] = (uint8_t)(v >> 8);
	p[off + 3] = (uint8_t)v;
	return off + 4;
}

/* A report block: ssrc, fraction, cum (24 bits), ext seq, jitter, LSR, DLSR. */
static size_t
put_block(uint8_t *p, size_t off, uint32_t ssrc, uint8_t frac, uint32_t cum24,
	  uint32_t jitter)
{
	off = put32(p, off, ssrc);
	off = put32(p, off, (uint32_t)frac << 24 | (cum24 & 0xffffff));
	off = put32(p, off, 0x0001beef);
	off = put32(p, off, jitter);
	off = put32(p, off, 0);
	return put32(p, off, 0);
}

/* RR from the peer with blocks about other, then ssrc (frac 25, cum -3, jitter 77). */
static size_t
mk_rr(uint8_t *p)
{
	size_t off = put_hdr(p, 0, 0x82, 201, 1 + 2 * 6);

	off = put32(p, off, SSRC_B);
	off = put_block(p, off, 0xdeadbeef, 1, 2, 3);
	return put_block(p, off, SSRC_A, 25, 0xfffffd, 77);
}

/* SR (sender info) with one block, then SDES with a CNAME (padded to a word). */
static size_t
mk_sr_sdes(uint8_t *p)
{
	size_t off = put_hdr(p, 0, 0x81, 200, 1 + 5 + 6);

	off = put32(p, off, SSRC_B);
	for (int i = 0; i < 5; i++)
		off = put32(p, off, 0x01020304);
	off = put_block(p, off, SSRC_A, 255, 0x7fffff, 123456);
	off = put_hdr(p, off, 0x81, 202, 3);
	off = put32(p, off, SSRC_B);
	memcpy(p + off, "\x01\x05phone\x00\x00\x00", 8);
	return off + 8;
}

static size_t
mk_rr_empty(uint8_t *p)
{
	size_t off = put_hdr(p, 0, 0x80, 201, 1);

	return put32(p, off, SSRC_B);
}

static size_t
mk_rr_other(uint8_t *p)
{
	size_t off = put_hdr(p, 0, 0x81, 201, 7);

	off = put32(p, off, SSRC_B);
	return put_block(p, off, 0xdeadbeef, 1, 2, 3);
}

/* Hostile and broken ones, made from the good ones. */
static size_t
mk_truncated(uint8_t *p)
{
	return mk_rr(p) - 4;
}

static size_t
mk_len_lies(uint8_t *p)
{
	size_t n = mk_rr(p);

	p[3] = 40; /* 41 words */
	return n;
}

static size_t
mk_len_short(uint8_t *p)
{
	size_t n = mk_rr(p);

	p[3] = 6; /* 7 words: the second block is outside the packet... */
	return n; /* ...and the rest is no RTCP packet */
}

static size_t
mk_rc_too_big(uint8_t *p)
{
	size_t n = mk_rr(p);

	p[0] = 0x80 | 31;
	return n;
}

static size_t
mk_sdes_first(uint8_t *p)
{
	size_t off = put_hdr(p, 0, 0x81, 202, 3);

	off = put32(p, off, SSRC_B);
	memcpy(p + off, "\x01\x05phone\x00\x00\x00", 8);
	off += 8;
	off = put_hdr(p, off, 0x81, 201, 7);
	off = put32(p, off, SSRC_B);
	return put_block(p, off, SSRC_A, 1, 1, 1);
}

static size_t
mk_version1(uint8_t *p)
{
	size_t n = mk_rr(p);

	p[0] = 0x42;
	return n;
}

static size_t
mk_padding_first(uint8_t *p)
{
	size_t n = mk_sr_sdes(p);

	p[0] |= 0x20;
	return n;
}

static size_t
mk_second_len_huge(uint8_t *p)
{
	size_t n = mk_sr_sdes(p);

	p[4 * 13 + 2] = 0xff;
	p[4 * 13 + 3] = 0xff;
	return n;
}

static size_t
mk_tail_3(uint8_t *p)
{
	return mk_rr(p) + 3; /* three stray bytes after a good packet */
}

static size_t
mk_empty(uint8_t *p)
{
	(void)p;
	return 0;
}

static size_t
mk_rtp(uint8_t *p)
{
	size_t off = put_hdr(p, 0, 0x80, 0, 0x1234);

	return put32(p, off, 0x1000) + 4;
}

struct rr_case {
	const char *name;
	size_t (*mk)(uint8_t *p);
	int ret;
	uint8_t fraction;
	int32_t cum;
	uint32_t jitter;
};

static const struct rr_case rr_cases[] = {
	{"RR, second block ours", mk_rr, .ret = 1, .fraction = 25, .cum = -3, .jitter = 77},
	{"SR + SDES", mk_sr_sdes, .ret = 1, .fraction = 255, .cum = 0x7fffff, .jitter = 123456},
	{"RR without blocks", mk_rr_empty, .ret = 0},
	{"RR about another SSRC", mk_rr_other, .ret = 0},
	{"truncated", mk_truncated, .ret = -EINVAL},
	{"length lies (longer)", mk_len_lies, .ret = -EINVAL},
	{"length lies (shorter)", mk_len_short, .ret = -EINVAL},
	{"RC larger than the packet", mk_rc_too_big, .ret = -EINVAL},
	{"SDES first", mk_sdes_first, .ret = -EINVAL},
	{"version 1", mk_version1, .ret = -EINVAL},
	{"padding in the first of two", mk_padding_first, .ret = -EINVAL},
	{"second length 0xffff", mk_second_len_huge, .ret = -EINVAL},
	{"3 bytes after a good packet", mk_tail_3, .ret = -EINVAL},
	{"empty", mk_empty, .ret = -EINVAL},
	{"RTP", mk_rtp, .ret = -EINVAL},
};

static void
test_rr_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rr_cases) / sizeof(rr_cases[0]); i++) {
		const struct rr_case *c = &rr_cases[i];
		uint8_t buf[PKT_MAX];
		struct rtpb_rtpa_rr rr = {.nrr = 7, .cum_lost = 42};
		size_t n;
		uint8_t *exact;
		int ret;

		memset(buf, 0, sizeof(buf));
		n = c->mk(buf);
		/* an exactly-sized copy: a read past len is a heap overflow */
		exact = malloc(n ? n : 1);
		assert_non_null(exact);
		memcpy(exact, buf, n);
		ret = dp_rtpa_rtcp_rr(exact, (uint32_t)n, SSRC_A, &rr);
		free(exact);
		printf("# %-30s len=%zu -> %d\n", c->name, n, ret);
		assert_int_equal(ret, c->ret);
		if (ret == 1) {
			assert_int_equal(rr.nrr, 8);
			assert_int_equal(rr.fraction_lost, c->fraction);
			assert_int_equal(rr.cum_lost, c->cum);
			assert_int_equal(rr.jitter, c->jitter);
		} else {
			assert_int_equal(rr.nrr, 7);
			assert_int_equal(rr.cum_lost, 42);
		}
	}
}

/* Random mutations of the good packets: only -EINVAL, 0 or 1, and a
 * block taken only from a packet that passed. Bounded. */
static void
test_rr_mutations(void **state)
{
	uint32_t x = 0x12345678;
	unsigned counts[3] = {0};

	(void)state;
	for (int it = 0; it < 200000; it++) {
		uint8_t buf[PKT_MAX];
		size_t n = (it & 1) ? mk_rr(buf) : mk_sr_sdes(buf);
		struct rtpb_rtpa_rr rr = {0};
		uint8_t *exact;
		int ret;

		for (int m = 0; m < 1 + (it % 4); m++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			buf[x % n] ^= (uint8_t)(x >> 8);
		}
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		if ((x & 7) == 0)
			n = x % (n + 1);
		exact = malloc(n ? n : 1);
		assert_non_null(exact);
		memcpy(exact, buf, n);
		ret = dp_rtpa_rtcp_rr(exact, (uint32_t)n, SSRC_A, &rr);
		free(exact);
		assert_true(ret == -EINVAL || ret == 0 || ret == 1);
		assert_int_equal(rr.nrr, ret == 1 ? 1 : 0);
		counts[ret == -EINVAL ? 0 : ret + 1]++;
	}
	printf("# mutations: %u invalid, %u without a block, %u with\n", counts[0],
	       counts[1], counts[2]);
	assert_true(counts[0] > 0 && counts[2] > 0);
}

/* ---- Q formatting (include/rtpb_rtpa.h) ---- */

static void
test_format(void **state)
{
	struct dp_rtpa r;
	struct rtpb_rtpa v;
	char buf[1024];
	size_t n = gen_skip_tenth();

	(void)state;
	run_seq(&r, n);
	v = *VP(&r);
	v.perrs = 3;
	assert_int_equal(rtpb_rtpa_format(&v, "rtpa_nlost", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "100");
	rtpb_rtpa_format(&v, "rtpa_nsent", buf, sizeof(buf));
	assert_string_equal(buf, "1000");
	rtpb_rtpa_format(&v, "rtpa_nrcvd", buf, sizeof(buf));
	assert_string_equal(buf, "900");
	rtpb_rtpa_format(&v, "rtpa_ndups", buf, sizeof(buf));
	assert_string_equal(buf, "0");
	rtpb_rtpa_format(&v, "rtpa_perrs", buf, sizeof(buf));
	assert_string_equal(buf, "3");
	/* rtpproxy: %f, seconds (packets were sent 20 ms apart) */
	rtpb_rtpa_format(&v, "longest_ipi", buf, sizeof(buf));
	assert_string_equal(buf, "0.020000");
	/* jitter: %f, timestamp units (the counters hold 1/16 units) */
	v.jitter = 8;
	v.jmax = 40;
	v.jsum = 16 * 30;
	v.njitter = 10;
	rtpb_rtpa_format(&v, "rtpa_jlast", buf, sizeof(buf));
	assert_string_equal(buf, "0.500000");
	rtpb_rtpa_format(&v, "rtpa_jmax", buf, sizeof(buf));
	assert_string_equal(buf, "2.500000");
	rtpb_rtpa_format(&v, "rtpa_javg", buf, sizeof(buf));
	assert_string_equal(buf, "3.000000");
	/* 8 ts units of 1/16 at 8000 Hz: 0.0625 ms */
	rtpb_rtpa_format(&v, "rtpb_jitter_ms", buf, sizeof(buf));
	assert_string_equal(buf, "0.062500");
	assert_int_equal(rtpb_rtpa_format(&v, "rtpa_nope", buf, sizeof(buf)), -1);
	assert_int_equal(rtpb_rtpa_format(&v, "ttl", buf, sizeof(buf)), -1);
	rtpb_rtpa_format_all(&v, buf, sizeof(buf));
	printf("# %s\n", buf);
	assert_non_null(strstr(buf, "rtpa_nsent=1000 rtpa_nrcvd=900 rtpa_ndups=0 "
				    "rtpa_nlost=100 rtpa_perrs=3 rtpa_jlast="));
	/* truncation: the length is the whole line's, the buffer ends */
	{
		char small[16];
		int len = rtpb_rtpa_format_all(&v, small, sizeof(small));

		assert_int_equal(len, (int)strlen(buf));
		assert_int_equal(strlen(small), sizeof(small) - 1);
		assert_int_equal(memcmp(small, buf, sizeof(small) - 1), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_table),
		cmocka_unit_test(test_probation),
		cmocka_unit_test(test_hot_cold),
		cmocka_unit_test(test_jitter_table),
		cmocka_unit_test(test_gap_and_pt_change),
		cmocka_unit_test(test_dyn_rate),
		cmocka_unit_test(test_rr_table),
		cmocka_unit_test(test_rr_mutations),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
