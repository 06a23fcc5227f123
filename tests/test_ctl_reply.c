/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_reply: the datagram reply cache (control/ctl_reply.c):
 * lookup by cookie, no double insert, expiry after CTL_RCACHE_TTL_NS in
 * insertion order (oldest first, the young kept), re-insert of an expired
 * cookie. Time is a parameter.
 */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_hash.h"
#include "ctl_reply.h"

#define S 1000000000ull

/* The cached reply of cookie is want (NULL: not cached). */
static void
check(struct ctl_rcache *rc, const char *cookie, const char *want)
{
	size_t len = 0;
	const char *got = ctl_rcache_lookup(rc, cookie, &len);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(got, want, len);
}

static void
test_insert_lookup(void **state)
{
	struct ctl_rcache *rc = ctl_rcache_create();

	(void)state;
	assert_non_null(rc);
	check(rc, "c1", NULL);
	assert_int_equal(ctl_rcache_insert(rc, "c1", "c1 4000\n", 8, 1 * S), 0);
	assert_int_equal(ctl_rcache_insert(rc, "c2", "c2 E8\n", 6, 1 * S), 0);
	check(rc, "c1", "c1 4000\n");
	check(rc, "c2", "c2 E8\n");
	/* a second reply under a cached cookie is refused, the first kept */
	assert_int_equal(ctl_rcache_insert(rc, "c1", "c1 0\n", 5, 2 * S),
			 -EEXIST);
	check(rc, "c1", "c1 4000\n");
	/* a cookie that is a prefix of another is another cookie */
	check(rc, "c", NULL);
	ctl_rcache_destroy(rc);
}

static void
test_expire_in_order(void **state)
{
	struct ctl_rcache *rc = ctl_rcache_create();
	char cookie[16], wire[32];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(cookie, sizeof(cookie), "k%d", i);
		snprintf(wire, sizeof(wire), "k%d %d\n", i, i);
		/* one a second: k0 at 0 s ... k99 at 99 s */
		assert_int_equal(ctl_rcache_insert(rc, cookie, wire,
						   strlen(wire), (uint64_t)i * S), 0);
		/* what is older than the TTL goes as time passes */
		ctl_rcache_expire(rc, (uint64_t)i * S);
	}
	/* at 99 s: k0..k64 are 35 s old or more and gone, k65.. kept */
	check(rc, "k64", NULL);
	check(rc, "k65", "k65 65\n");
	check(rc, "k99", "k99 99\n");
	/* nothing more expires before its time */
	assert_int_equal(ctl_rcache_expire(rc, 99 * S), 0);
	assert_int_equal(ctl_rcache_expire(rc, 100 * S), 1);
	check(rc, "k65", NULL);
	check(rc, "k66", "k66 66\n");
	/* an expired cookie may be cached again */
	assert_int_equal(ctl_rcache_insert(rc, "k0", "k0 again\n", 9, 100 * S), 0);
	check(rc, "k0", "k0 again\n");
	/* everything goes in the end, the re-inserted k0 last */
	assert_int_equal(ctl_rcache_expire(rc, 134 * S), 34);
	check(rc, "k0", "k0 again\n");
	assert_int_equal(ctl_rcache_expire(rc, 135 * S), 1);
	check(rc, "k0", NULL);
	assert_int_equal(ctl_rcache_expire(rc, 1000 * S), 0);
	/* and the cache works after being emptied */
	assert_int_equal(ctl_rcache_insert(rc, "z", "z 1\n", 4, 1000 * S), 0);
	check(rc, "z", "z 1\n");
	ctl_rcache_destroy(rc);
}

static void
test_full(void **state)
{
	struct ctl_rcache *rc = ctl_rcache_create();
	char cookie[16];

	(void)state;
	for (int i = 0; i < CTL_RCACHE_MAX; i++) {
		snprintf(cookie, sizeof(cookie), "f%d", i);
		assert_int_equal(ctl_rcache_insert(rc, cookie, "x", 1, 0), 0);
	}
	assert_int_equal(ctl_rcache_insert(rc, "one more", "x", 1, 0), -ENOSPC);
	check(rc, "one more", NULL);
	assert_int_equal(ctl_rcache_expire(rc, CTL_RCACHE_TTL_NS),
			 CTL_RCACHE_MAX);
	assert_int_equal(ctl_rcache_insert(rc, "one more", "y", 1,
					   CTL_RCACHE_TTL_NS), 0);
	check(rc, "one more", "y");
	ctl_rcache_destroy(rc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_lookup),
		cmocka_unit_test(test_expire_in_order),
		cmocka_unit_test(test_full),
	};

	assert_int_equal(ctl_hash_init(), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
