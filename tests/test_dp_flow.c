/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_flow.c: the flow table: add, lookup (single and bulk), delete,
 * replace, and 100 000 streams. Runs EAL without hugepages or devices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_hash.h>

#include "dp_flow.h"
#include "test_eal.h"

#define N_STREAMS 100000

static void
key_of(struct dp_flow_key *k, uint32_t i)
{
	/* 16 relay addresses (indexes 0-15), even and odd ports from 1024. */
	dp_flow_key_set(k, i % 16, rte_cpu_to_be_16((uint16_t)(1024 + i / 16)));
}

static void
test_add_lookup_del(void **state)
{
	struct rte_hash *h = dp_flow_create("t_small", 64, SOCKET_ID_ANY);
	struct dp_flow_key k, other;
	const void *kp[2] = {&k, &other};
	uint32_t ids[2], outs[2];
	uint64_t hits;

	(void)state;
	assert_non_null(h);
	key_of(&k, 1);
	key_of(&other, 2);
	assert_int_equal(dp_flow_add(h, &k, 7, 8), 0);
	hits = dp_flow_lookup_burst(h, kp, 2, ids, outs);
	assert_int_equal(hits, 1);
	assert_int_equal(ids[0], 7);
	assert_int_equal(outs[0], 8);
	/* Replace the mapping (a new other leg, then none). */
	assert_int_equal(dp_flow_add(h, &k, 9, 0x7ffffffeu), 0);
	hits = dp_flow_lookup_burst(h, kp, 1, ids, outs);
	assert_int_equal(ids[0], 9);
	assert_int_equal(outs[0], 0x7ffffffeu);
	assert_int_equal(dp_flow_add(h, &k, 9, UINT32_MAX), 0);
	hits = dp_flow_lookup_burst(h, kp, 1, ids, outs);
	assert_int_equal(ids[0], 9);
	assert_int_equal(outs[0], UINT32_MAX);
	assert_int_equal(dp_flow_del(h, &k), 0);
	assert_int_equal(dp_flow_del(h, &k), -ENOENT);
	assert_int_equal(dp_flow_lookup_burst(h, kp, 2, ids, outs), 0);
	assert_int_equal(dp_flow_lookup_burst(h, kp, 0, ids, outs), 0);
	rte_hash_free(h);
}

static void
test_family_and_port_distinguish(void **state)
{
	struct rte_hash *h = dp_flow_create("t_fam", 64, SOCKET_ID_ANY);
	struct dp_flow_key k1, k2;
	const void *kp[1] = {&k2};
	uint32_t id, out;

	(void)state;
	/* address 0 (say 192.0.2.1) and address 1 (say 2001:db8:a::1) */
	dp_flow_key_set(&k1, 0, RTE_BE16(35000));
	assert_int_equal(dp_flow_add(h, &k1, 1, 3), 0);
	dp_flow_key_set(&k2, 0, RTE_BE16(35001));
	assert_int_equal(dp_flow_lookup_burst(h, kp, 1, &id, &out), 0);
	dp_flow_key_set(&k2, 1, RTE_BE16(35000));
	assert_int_equal(dp_flow_lookup_burst(h, kp, 1, &id, &out), 0);
	dp_flow_key_set(&k2, 0, RTE_BE16(35000));
	assert_int_equal(dp_flow_lookup_burst(h, kp, 1, &id, &out), 1);
	assert_int_equal(id, 1);
	assert_int_equal(out, 3);
	rte_hash_free(h);
}

static void
test_100k_streams(void **state)
{
	static struct dp_flow_key keys[N_STREAMS];
	struct rte_hash *h = dp_flow_create("t_100k", N_STREAMS, SOCKET_ID_ANY);
	const void *kp[RTE_HASH_LOOKUP_BULK_MAX];
	uint32_t ids[RTE_HASH_LOOKUP_BULK_MAX], outs[RTE_HASH_LOOKUP_BULK_MAX];
	uint32_t i, j, n, found = 0;
	uint64_t hits;

	(void)state;
	assert_non_null(h);
	for (i = 0; i < N_STREAMS; i++) {
		key_of(&keys[i], i);
		assert_int_equal(dp_flow_add(h, &keys[i], i, i ^ 1), 0);
	}
	assert_int_equal(rte_hash_count(h), N_STREAMS);
	for (i = 0; i < N_STREAMS; i += n) {
		n = N_STREAMS - i < 32 ? N_STREAMS - i : 32;
		for (j = 0; j < n; j++)
			kp[j] = &keys[i + j];
		hits = dp_flow_lookup_burst(h, kp, n, ids, outs);
		for (j = 0; j < n; j++) {
			assert_true(hits & (1ull << j));
			assert_int_equal(ids[j], i + j);
			assert_int_equal(outs[j], (i + j) ^ 1);
			found++;
		}
	}
	assert_int_equal(found, N_STREAMS);
	/* Delete the odd ones; the even ones stay, the odd ones miss. */
	for (i = 1; i < N_STREAMS; i += 2)
		assert_int_equal(dp_flow_del(h, &keys[i]), 0);
	assert_int_equal(rte_hash_count(h), N_STREAMS / 2);
	for (i = 0; i < N_STREAMS; i += 32) {
		for (j = 0; j < 32; j++)
			kp[j] = &keys[i + j < N_STREAMS ? i + j : i];
		hits = dp_flow_lookup_burst(h, kp, 32, ids, outs);
		for (j = 0; j < 32 && i + j < N_STREAMS; j++)
			assert_int_equal(!!(hits & (1ull << j)), (i + j) % 2 == 0);
	}
	/* Re-add them: the table is reusable after deletes. */
	for (i = 1; i < N_STREAMS; i += 2)
		assert_int_equal(dp_flow_add(h, &keys[i], i, i ^ 1), 0);
	assert_int_equal(rte_hash_count(h), N_STREAMS);
	rte_hash_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_lookup_del),
		cmocka_unit_test(test_family_and_port_distinguish),
		cmocka_unit_test(test_100k_streams),
	};

	return TEST_EAL_RUN("test_dp_flow", "256", tests, NULL, NULL);
}
