/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_admit: admission control of new sessions (control/ctl_admit.c:
 * --max-sessions, the per-source token bucket, its bounded table) and the
 * keyed hash of Call-IDs (control/ctl_hash.c). Time is a parameter.
 */
#include <setjmp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_admit.h"
#include "ctl_hash.h"

#define MS 1000000ull
#define S (1000 * MS)

static struct sockaddr_in
v4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static void
test_max_sessions(void **state)
{
	struct ctl_admit_cfg cfg = {.max_sessions = 3};
	struct ctl_admit *a = ctl_admit_create(&cfg);
	struct ctl_admit_counters c;

	(void)state;
	assert_non_null(a);
	assert_int_equal(ctl_admit_session(a, 0, NULL, 1 * S), 0);
	assert_int_equal(ctl_admit_session(a, 2, NULL, 1 * S), 0);
	assert_int_equal(ctl_admit_session(a, 3, NULL, 1 * S), -EUSERS);
	assert_int_equal(ctl_admit_session(a, 4, NULL, 1 * S), -EUSERS);
	ctl_admit_counters(a, &c);
	assert_int_equal(c.refused_max, 2);
	assert_int_equal(c.refused_rate, 0);
	/* no rate limit: no bucket kept */
	assert_int_equal(c.sources, 0);
	ctl_admit_destroy(a);
	/* NULL: no limits at all */
	assert_int_equal(ctl_admit_session(NULL, 1000000, NULL, 1 * S), 0);
}

static void
test_rate_per_source(void **state)
{
	struct ctl_admit_cfg cfg = {.rate = 2, .burst = 3};
	struct ctl_admit *a = ctl_admit_create(&cfg);
	struct sockaddr_in x = v4("192.0.2.10", 5060), x2 = v4("192.0.2.10", 5070),
			   y = v4("198.51.100.7", 5060);
	struct sockaddr_in6 z = {.sin6_family = AF_INET6};
	struct ctl_admit_counters c;
	uint64_t t = 10 * S;

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::7", &z.sin6_addr), 1);
	/* a burst of 3, then refused; another port of the same host is the
	 * same client */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ctl_admit_session(a, 0, (struct sockaddr *)&x, t), 0);
	assert_int_equal(ctl_admit_session(a, 0, (struct sockaddr *)&x, t), -EAGAIN);
	assert_int_equal(ctl_admit_session(a, 0, (struct sockaddr *)&x2, t), -EAGAIN);
	/* other clients have their own buckets */
	assert_int_equal(ctl_admit_session(a, 0, (struct sockaddr *)&y, t), 0);
	assert_int_equal(ctl_admit_session(a, 0, (struct sockaddr *)&z, t), 0);
	/* unix sockets (no address) share one */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ctl_admit_session(a, 0, NULL, t), 0);
	assert_int_equal(ctl_admit_session(a, 0, NULL, t), -EAGAIN);
	/* 2/s: one token back after 500 ms, not before */
	assert_int_equal(ctl_admit_session(a, 0, (struct sockaddr *)&x, t + 400 * MS),
			 -EAGAIN);
	assert_int_equal(ctl_admit_session(a, 0, (struct sockaddr *)&x, t + 500 * MS), 0);
	assert_int_equal(ctl_admit_session(a, 0, (struct sockaddr *)&x, t + 500 * MS),
			 -EAGAIN);
	ctl_admit_counters(a, &c);
	assert_int_equal(c.refused_rate, 5);
	assert_int_equal(c.sources, 4);
	/* refilled buckets are forgotten: nothing to remember */
	ctl_admit_tick(a, t + 1 * S);
	ctl_admit_counters(a, &c);
	assert_int_equal(c.sources, 2); /* y and z are full again, x and unix not */
	ctl_admit_tick(a, t + 10 * S);
	ctl_admit_counters(a, &c);
	assert_int_equal(c.sources, 0);
	/* and a forgotten client starts with a full bucket */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ctl_admit_session(a, 0, (struct sockaddr *)&x,
						   t + 10 * S), 0);
	ctl_admit_destroy(a);
}

/* More sources than the table holds share one overflow bucket. */
static void
test_table_bounded(void **state)
{
	struct ctl_admit_cfg cfg = {.rate = 1};
	struct ctl_admit *a = ctl_admit_create(&cfg);
	struct ctl_admit_counters c;
	struct sockaddr_in s = {.sin_family = AF_INET};

	(void)state;
	for (uint32_t i = 0; i < CTL_ADMIT_MAX_SOURCES; i++) {
		s.sin_addr.s_addr = htonl(0x0a000000u + i); /* 10/8 */
		assert_int_equal(ctl_admit_session(a, 0, (struct sockaddr *)&s, S), 0);
	}
	ctl_admit_counters(a, &c);
	assert_int_equal(c.sources, CTL_ADMIT_MAX_SOURCES);
	/* full: the next new source takes the overflow bucket's token, the
	 * one after is refused */
	s.sin_addr.s_addr = htonl(0xc6336401u);
	assert_int_equal(ctl_admit_session(a, 0, (struct sockaddr *)&s, S), 0);
	s.sin_addr.s_addr = htonl(0xc6336402u);
	assert_int_equal(ctl_admit_session(a, 0, (struct sockaddr *)&s, S), -EAGAIN);
	ctl_admit_counters(a, &c);
	assert_int_equal(c.sources, CTL_ADMIT_MAX_SOURCES + 1);
	/* a second later every bucket refilled: the table empties */
	ctl_admit_tick(a, 2 * S);
	ctl_admit_counters(a, &c);
	assert_int_equal(c.sources, 0);
	ctl_admit_destroy(a);
}

/*
 * Call-IDs built of the blocks "aZ" and "b9" all have the same djb2 hash
 * (g_str_hash: 'a' * 33 + 'Z' == 'b' * 33 + '9'): 4096 of them land in
 * one GLib bucket. The keyed hash spreads them.
 */
static void
test_keyed_hash(void **state)
{
	enum { BITS = 12, N = 1 << BITS };
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	guint djb2 = 0;
	char id[2 * BITS + 1];

	(void)state;
	assert_int_equal(ctl_hash_init(), 0);
	assert_int_equal(ctl_hash_init(), 0); /* idempotent */
	for (unsigned v = 0; v < N; v++) {
		for (int b = 0; b < BITS; b++)
			memcpy(id + 2 * b, (v >> b) & 1 ? "b9" : "aZ", 2);
		id[2 * BITS] = '\0';
		if (v == 0)
			djb2 = g_str_hash(id);
		assert_int_equal(g_str_hash(id), djb2);
		assert_int_equal(ctl_hash_str(id), ctl_hash_str(id));
		g_hash_table_add(seen, GUINT_TO_POINTER(ctl_hash_str(id)));
	}
	/* 4096 values drawn from 2^32: a collision is unlikely, a few fine */
	assert_true(g_hash_table_size(seen) >= N - 4);
	g_hash_table_destroy(seen);
	assert_int_not_equal(ctl_hash_bytes("x", 1), ctl_hash_bytes("y", 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_sessions),
		cmocka_unit_test(test_rate_per_source),
		cmocka_unit_test(test_table_bounded),
		cmocka_unit_test(test_keyed_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
