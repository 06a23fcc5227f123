/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_lat.c: the in-dataplane latency sampler (dataplane/dp_lat.h,
 * issue 19): bucket boundaries to the ns, the maximum, every-Nth
 * sampling, and the TSC-to-ns conversion at a few TSC rates. No EAL: the
 * sampler is pure arithmetic on counters and TSC values the test gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dp_lat.h"

/* The bucket a single sample of ns lands in: its index in counter order
 * (0 = lat_lt_500ns .. 11 = lat_ge_128us), or -1 if not exactly one. */
static int
bucket_of(uint64_t ns)
{
	struct rtpb_lcore_stats st;
	const uint64_t *b[] = {
#define B(f, bound) &st.f,
		RTPB_FOREACH_LAT_BUCKET(B)
#undef B
		&st.lat_ge_128us,
	};
	int found = -1;

	memset(&st, 0, sizeof(st));
	dp_lat_count(&st, ns);
	assert_int_equal(st.lat_samples, 1);
	assert_int_equal(st.lat_max_ns, ns);
	assert_int_equal(st.lat_sum_ns, ns);
	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		if (*b[i] == 0)
			continue;
		if (*b[i] != 1 || found != -1)
			return -1;
		found = (int)i;
	}
	return found;
}

/* st's latency counters are exactly these: samples, max and every
 * bucket in counter order (lat_lt_500ns .. lat_ge_128us). */
static void
check_lat(const struct rtpb_lcore_stats *st, uint64_t samples, uint64_t max_ns,
	  const uint64_t want[12])
{
	const uint64_t got[] = {
#define B(f, bound) st->f,
		RTPB_FOREACH_LAT_BUCKET(B)
#undef B
		st->lat_ge_128us,
	};

	assert_int_equal(st->lat_samples, samples);
	assert_int_equal(st->lat_max_ns, max_ns);
	for (size_t i = 0; i < sizeof(got) / sizeof(got[0]); i++)
		if (got[i] != want[i])
			fail_msg("bucket %zu: %llu, want %llu", i,
				 (unsigned long long)got[i], (unsigned long long)want[i]);
}

static void
test_bucket_bounds(void **state)
{
	static const struct {
		uint64_t ns;
		int bucket;
	} cases[] = {
		{0, 0},           {499, 0},         {500, 1},
		{999, 1},         {1000, 2},        {1999, 2},
		{2000, 3},        {3999, 3},        {4000, 4},
		{7999, 4},        {8000, 5},        {11999, 5},
		{12000, 6},       {15999, 6},       {16000, 7},
		{19999, 7},       {20000, 8},       {31999, 8},
		{32000, 9},       {63999, 9},       {64000, 10},
		{127999, 10},     {128000, 11},     {UINT64_MAX, 11},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = bucket_of(cases[i].ns);

		if (got != cases[i].bucket)
			fail_msg("%llu ns: bucket %d, want %d",
				 (unsigned long long)cases[i].ns, got, cases[i].bucket);
	}
}

/* lat_max_ns is the largest sample, whatever the order; each sample in
 * its bucket. */
static void
test_max_and_sum(void **state)
{
	static const uint64_t ns[] = {700, 25000, 3, 130000, 129999, 18000, 500};
	struct rtpb_lcore_stats st, a, b;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		dp_lat_count(&st, ns[i]);
	/* 3; 500, 700; 18000; 25000; 129999, 130000 */
	check_lat(&st, 7, 130000,
		  (const uint64_t[12]){1, 2, 0, 0, 0, 0, 0, 1, 1, 0, 0, 2});
	assert_int_equal(st.lat_sum_ns, 700 + 25000 + 3 + 130000 + 129999 + 18000 + 500);

	/* totals over lcores keep the maximum, add the rest */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	dp_lat_count(&a, 9000);
	dp_lat_count(&b, 4000);
	dp_lat_count(&b, 100);
	rtpb_lcore_stats_add(&a, &b);
	check_lat(&a, 3, 9000, (const uint64_t[12]){1, 0, 0, 0, 1, 1});
	assert_int_equal(a.lat_sum_ns, 13100); /* the sums add up */
}

/* Every DP_LAT_EVERY-th loop with packets is a sample (the first at the
 * DP_LAT_EVERY-th), and only a burst that sent something counts. */
static void
test_every_nth(void **state)
{
	struct rtpb_lcore_stats st;
	struct dp_lat l;
	unsigned int sampled = 0, loops = DP_LAT_EVERY * 10 + 3;

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(dp_lat_init(&l, 1000000000ull), 0);
	for (unsigned int i = 1; i <= loops; i++) {
		uint64_t t = dp_lat_begin(&l, &st);

		if (t != 0) {
			assert_int_equal(i % DP_LAT_EVERY, 0);
			sampled++;
			/* the burst sends a packet only on odd samples */
			if (sampled % 2 == 1)
				st.tx_pkts++;
			dp_lat_record(&l, &st, 1000, 1000 + sampled * 100);
		} else {
			assert_int_not_equal(i % DP_LAT_EVERY, 0);
			dp_lat_end(&l, &st, t); /* not a sample: counts nothing */
		}
	}
	assert_int_equal(sampled, 10);
	/* 1 GHz: samples 1, 3, 5, 7, 9 of 100 ns each */
	check_lat(&st, 5, 900, (const uint64_t[12]){2, 3});
}

/* cycles -> ns at several TSC rates, exact for whole ns, and no
 * overflow for a second-long stall. */
static void
test_ns_conversion(void **state)
{
	static const struct {
		uint64_t hz, cycles, ns;
	} cases[] = {
		{1000000000ull, 500, 500},
		{1000000000ull, 499, 499},
		{2400000000ull, 1200, 500},
		{2400000000ull, 1199, 499},      /* 499.58 ns */
		{2400000000ull, 4800000, 2000000},
		{3000000000ull, 1500, 500},
		{3000000000ull, 1497, 499},
		{3000000000ull, 384000, 128000},
		{3000000000ull, 383999, 127999}, /* 127999.67 ns */
		{3000000000ull, 3000000000ull, 1000000000ull},
		{2095078000ull, 2095078, 1000000},
		{25000000ull, 1, 40},            /* a 25 MHz generic timer */
		{25000000ull, 12, 480},
		{25000000ull, 25000000ull * 3600, 3600000000000ull},
	};
	struct dp_lat l;

	(void)state;
	assert_int_equal(dp_lat_init(&l, 0), -EINVAL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got;

		assert_int_equal(dp_lat_init(&l, cases[i].hz), 0);
		got = dp_lat_ns(&l, cases[i].cycles);
		if (got != cases[i].ns)
			fail_msg("%llu Hz, %llu cycles: %llu ns, want %llu",
				 (unsigned long long)cases[i].hz,
				 (unsigned long long)cases[i].cycles,
				 (unsigned long long)got,
				 (unsigned long long)cases[i].ns);
	}
}

/* A 3 GHz TSC: the recorded sample lands in the bucket its ns say, at
 * both sides of 500 ns, 2 us and 128 us. */
static void
test_record_at_rate(void **state)
{
	struct rtpb_lcore_stats st;
	struct dp_lat l;

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(dp_lat_init(&l, 3000000000ull), 0);
	st.tx_pkts = 1; /* l.tx_pkts is 0: the burst sent */
	dp_lat_record(&l, &st, 10, 10 + 1497);   /* 499 ns */
	dp_lat_record(&l, &st, 10, 10 + 1500);   /* 500 ns */
	dp_lat_record(&l, &st, 10, 10 + 5997);   /* 1999 ns */
	dp_lat_record(&l, &st, 10, 10 + 6000);   /* 2000 ns */
	dp_lat_record(&l, &st, 10, 10 + 383997); /* 127999 ns */
	dp_lat_record(&l, &st, 10, 10 + 384000); /* 128000 ns */
	check_lat(&st, 6, 128000,
		  (const uint64_t[12]){1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1});
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_max_and_sum),
		cmocka_unit_test(test_every_nth),
		cmocka_unit_test(test_ns_conversion),
		cmocka_unit_test(test_record_at_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
