/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_ports: the relay port pair allocator (control/ctl_ports.c):
 * rtpproxy's -m/-M rounding, parity, exhaustion, reuse, randomness, and
 * -b (in order).
 */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_ports.h"

static void
test_range_rounding(void **state)
{
	static const struct {
		long min, max; /* as given on the command line */
		int ret;
		uint16_t lo, hi;
	} cases[] = {
		/* defaults: 35000..65000 -> last RTP 64998 (RTCP 64999 <= 65000) */
		{35000, 65000, 0, 35000, 64998},
		/* odd min up to even; odd max: RTP max - 1, RTCP = max */
		{23821, 23823, 0, 23822, 23822},
		/* rtpproxy's golden test range: -m 23820 -M 23823 -> 2 pairs */
		{23820, 23823, 0, 23820, 23822},
		{1, 65535, 0, 2, 65534},
		/* exactly one pair */
		{5000, 5001, 0, 5000, 5000},
		/* no pair fits, out of range */
		{5001, 5002, -EINVAL, 0, 0},
		{5000, 5000, -EINVAL, 0, 0},
		{6000, 5000, -EINVAL, 0, 0},
		{0, 5000, -EINVAL, 0, 0},
		{5000, 65536, -EINVAL, 0, 0},
	};
	uint16_t lo, hi;

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ctl_ports_range(cases[i].min, cases[i].max, &lo, &hi),
				 cases[i].ret);
		if (cases[i].ret == 0) {
			assert_int_equal(lo, cases[i].lo);
			assert_int_equal(hi, cases[i].hi);
		}
	}
	assert_null(ctl_ports_create(5001, 5010, 1));
	assert_null(ctl_ports_create(5010, 5000, 1));
}

static void
test_exhaustion_and_reuse(void **state)
{
	struct ctl_ports *p = ctl_ports_create(40000, 40018, 7);
	bool seen[10] = {false};
	uint16_t port;

	(void)state;
	assert_non_null(p);
	assert_int_equal(ctl_ports_total(p), 10);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(ctl_ports_alloc(p, &port), 0);
		assert_true(port >= 40000 && port <= 40018);
		assert_int_equal(port % 2, 0);
		assert_false(seen[(port - 40000) / 2]);
		seen[(port - 40000) / 2] = true;
	}
	assert_int_equal(ctl_ports_avail(p), 0);
	assert_int_equal(ctl_ports_alloc(p, &port), -ENOSPC);
	/* freed pairs come back, and only those */
	assert_int_equal(ctl_ports_free(p, 40006), 0);
	assert_int_equal(ctl_ports_free(p, 40006), -EINVAL); /* double */
	assert_int_equal(ctl_ports_free(p, 40007), -EINVAL); /* odd */
	assert_int_equal(ctl_ports_free(p, 40020), -EINVAL); /* outside */
	assert_int_equal(ctl_ports_alloc(p, &port), 0);
	assert_int_equal(port, 40006);
	assert_int_equal(ctl_ports_alloc(p, &port), -ENOSPC);
	for (uint16_t q = 40000; q <= 40018; q += 2)
		assert_int_equal(ctl_ports_free(p, q), 0);
	assert_int_equal(ctl_ports_avail(p), 10);
	ctl_ports_destroy(p);
}

static void
test_randomness(void **state)
{
	struct ctl_ports *p = ctl_ports_create(35000, 64998, 0);
	struct ctl_ports *q = ctl_ports_create(35000, 64998, 0);
	uint16_t a[64], b[64];
	int ascending = 0, same = 0, diff2 = 0;

	(void)state;
	for (int i = 0; i < 64; i++) {
		assert_int_equal(ctl_ports_alloc(p, &a[i]), 0);
		assert_int_equal(ctl_ports_alloc(q, &b[i]), 0);
		same += a[i] == b[i];
		if (i > 0) {
			ascending += a[i] > a[i - 1];
			diff2 += a[i] == a[i - 1] + 2;
		}
	}
	/* not sequential, not the same order for two seeds */
	assert_true(diff2 < 4);
	assert_true(ascending > 10 && ascending < 53);
	assert_true(same < 4);
	ctl_ports_destroy(p);
	ctl_ports_destroy(q);
}

/* -b: pairs in order from after the last one taken, wrapping, skipping
 * the ones in use. */
static void
test_sequential(void **state)
{
	struct ctl_ports *p = ctl_ports_create(1000, 1006, 5); /* 4 pairs */
	uint16_t port;

	(void)state;
	ctl_ports_set_sequential(p, true);
	assert_int_equal(ctl_ports_alloc(p, &port), 0);
	assert_int_equal(port, 1000);
	assert_int_equal(ctl_ports_alloc(p, &port), 0);
	assert_int_equal(port, 1002);
	assert_int_equal(ctl_ports_free(p, 1000), 0);
	assert_int_equal(ctl_ports_alloc(p, &port), 0);
	assert_int_equal(port, 1004);
	assert_int_equal(ctl_ports_alloc(p, &port), 0);
	assert_int_equal(port, 1006);
	/* wraps around to the one freed; 1002 is still in use */
	assert_int_equal(ctl_ports_alloc(p, &port), 0);
	assert_int_equal(port, 1000);
	assert_int_equal(ctl_ports_alloc(p, &port), -ENOSPC);
	assert_int_equal(ctl_ports_free(p, 1004), 0);
	assert_int_equal(ctl_ports_alloc(p, &port), 0);
	assert_int_equal(port, 1004);
	ctl_ports_destroy(p);
}

/* ctl_ports_alloc_if()'s test: RTP ports divisible by 8; counts calls. */
static unsigned int pred_calls;

static bool
port_div8(uint16_t port, void *arg)
{
	(void)arg;
	pred_calls++;
	return port % 8 == 0;
}

static bool
port_never(uint16_t port, void *arg)
{
	(void)port;
	(void)arg;
	pred_calls++;
	return false;
}

static void
test_alloc_if(void **state)
{
	for (int seq = 0; seq < 2; seq++) {
		/* 40000..40038: 20 pairs, 5 of them with port % 8 == 0 */
		struct ctl_ports *p = ctl_ports_create(40000, 40038, 11);
		uint16_t port, got[5];

		(void)state;
		ctl_ports_set_sequential(p, seq != 0);
		for (int i = 0; i < 5; i++) {
			assert_int_equal(ctl_ports_alloc_if(p, port_div8, NULL, 1000, &got[i]), 0);
			assert_int_equal(got[i] % 8, 0);
			for (int j = 0; j < i; j++)
				assert_int_not_equal(got[i], got[j]);
		}
		assert_int_equal(ctl_ports_avail(p), 15);
		/* none left that passes: nothing taken, each free pair looked
		 * at once at most (tries capped at the free pairs) */
		pred_calls = 0;
		assert_int_equal(ctl_ports_alloc_if(p, port_div8, NULL, 1000, &port), -ENOENT);
		assert_int_equal(ctl_ports_avail(p), 15);
		assert_true(pred_calls <= 15);
		/* tries is a bound */
		pred_calls = 0;
		assert_int_equal(ctl_ports_alloc_if(p, port_never, NULL, 3, &port), -ENOENT);
		assert_int_equal(pred_calls, 3);
		/* a freed passing pair is found again */
		assert_int_equal(ctl_ports_free(p, got[2]), 0);
		assert_int_equal(ctl_ports_alloc_if(p, port_div8, NULL, 1000, &port), 0);
		assert_int_equal(port, got[2]);
		while (ctl_ports_alloc(p, &port) == 0)
			;
		assert_int_equal(ctl_ports_alloc_if(p, port_div8, NULL, 10, &port), -ENOSPC);
		ctl_ports_destroy(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_rounding),
		cmocka_unit_test(test_exhaustion_and_reuse),
		cmocka_unit_test(test_randomness),
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_alloc_if),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
