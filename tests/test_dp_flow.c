/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_flow.c: the direct-indexed flow table (dp_flow.h): add,
 * replace, delete, lookup miss, other address index, ports 0 and 65535,
 * deletes and updates that leave another stream's entry alone, 65 536
 * entries of one address, and a concurrent reader that sees either the
 * old or the new entry, never a mix. Runs EAL without hugepages or
 * devices.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_memory.h>

#include "dp_flow.h"
#include "test_eal.h"

#define N_ADDRS 3

static struct dp_flow flow;

static int
setup(void **state)
{
	(void)state;
	return dp_flow_create(&flow, N_ADDRS, SOCKET_ID_ANY);
}

static int
teardown(void **state)
{
	(void)state;
	dp_flow_free(&flow);
	return 0;
}

/* The stream id at (a, port in host order), or RTPB_STREAM_NONE; *out
 * its out_id. */
static uint32_t
get(uint32_t a, uint16_t port, uint32_t *out)
{
	return dp_flow_get(&flow, dp_flow_slot(a, rte_cpu_to_be_16(port)), out);
}

/* No stream at (a, port in host order), and no out_id either. */
static void
assert_miss(uint32_t a, uint16_t port)
{
	uint32_t out = 0;

	assert_int_equal(get(a, port, &out), RTPB_STREAM_NONE);
	assert_int_equal(out, RTPB_STREAM_NONE);
}

static void
test_create_bounds(void **state)
{
	struct dp_flow f;

	(void)state;
	assert_int_equal(dp_flow_create(&f, 0, SOCKET_ID_ANY), -EINVAL);
	assert_null(f.tab);
	assert_int_equal(dp_flow_create(&f, RTPB_MAX_ADDRS + 1, SOCKET_ID_ANY), -EINVAL);
	assert_int_equal(dp_flow_create(&f, 1, SOCKET_ID_ANY), 0);
	assert_int_equal(f.n_addrs, 1);
	/* every entry starts empty */
	for (uint32_t p = 0; p < DP_FLOW_PORTS; p++)
		assert_int_equal(f.tab[p], DP_FLOW_EMPTY);
	dp_flow_free(&f);
	assert_null(f.tab);
}

static void
test_add_replace_del(void **state)
{
	const uint16_t port = rte_cpu_to_be_16(35000);
	uint32_t out = 0;

	(void)state;
	assert_miss(0, 35000); /* miss */
	assert_int_equal(dp_flow_add(&flow, 0, port, 7, 8), 0);
	assert_int_equal(get(0, 35000, &out), 7);
	assert_int_equal(out, 8);
	/* the neighbours, the other addresses: still misses */
	assert_miss(0, 34999);
	assert_miss(0, 35001);
	assert_miss(1, 35000);
	assert_miss(2, 35000);
	/* replace: a new other leg, then none */
	assert_int_equal(dp_flow_set_out(&flow, 0, port, 7, 0x7ffffffeu), 0);
	assert_int_equal(get(0, 35000, &out), 7);
	assert_int_equal(out, 0x7ffffffeu);
	assert_int_equal(dp_flow_add(&flow, 0, port, 7, RTPB_STREAM_NONE), 0);
	assert_int_equal(get(0, 35000, &out), 7);
	assert_int_equal(out, RTPB_STREAM_NONE);
	/* another stream takes the port (ADD replaces whoever held it) */
	assert_int_equal(dp_flow_add(&flow, 0, port, 9, 10), 0);
	assert_int_equal(get(0, 35000, &out), 9);
	assert_int_equal(out, 10);
	/* the old stream's late update and delete leave it alone */
	assert_int_equal(dp_flow_set_out(&flow, 0, port, 7, 1), -ENOENT);
	assert_int_equal(dp_flow_del(&flow, 0, port, 7), -ENOENT);
	assert_int_equal(get(0, 35000, &out), 9);
	assert_int_equal(out, 10);
	/* its own delete empties it, once */
	assert_int_equal(dp_flow_del(&flow, 0, port, 9), 0);
	assert_miss(0, 35000);
	assert_int_equal(dp_flow_del(&flow, 0, port, 9), -ENOENT);
	assert_int_equal(dp_flow_set_out(&flow, 0, port, 9, 1), -ENOENT);
	/* out of range */
	assert_int_equal(dp_flow_add(&flow, N_ADDRS, port, 1, 2), -EINVAL);
	assert_int_equal(dp_flow_add(&flow, 0, port, RTPB_STREAM_NONE, 2), -EINVAL);
	assert_int_equal(dp_flow_del(&flow, N_ADDRS, port, 1), -EINVAL);
	assert_miss(0, 35000);
}

static void
test_addresses_and_edge_ports(void **state)
{
	uint32_t out;

	(void)state;
	/* the same port on three addresses: three streams */
	for (uint32_t a = 0; a < N_ADDRS; a++)
		assert_int_equal(dp_flow_add(&flow, a, rte_cpu_to_be_16(40000), 100 + a, 200 + a), 0);
	for (uint32_t a = 0; a < N_ADDRS; a++) {
		assert_int_equal(get(a, 40000, &out), 100 + a);
		assert_int_equal(out, 200 + a);
	}
	/* ports 0 and 65535 of address 1 do not spill into addresses 0, 2 */
	assert_int_equal(dp_flow_add(&flow, 1, rte_cpu_to_be_16(0), 300, 301), 0);
	assert_int_equal(dp_flow_add(&flow, 1, rte_cpu_to_be_16(65535), 302, 303), 0);
	assert_int_equal(get(1, 0, &out), 300);
	assert_int_equal(out, 301);
	assert_int_equal(get(1, 65535, &out), 302);
	assert_int_equal(out, 303);
	assert_miss(0, 65535);
	assert_miss(2, 0);
	assert_miss(1, 1);
	assert_miss(1, 65534);
	/* the slot is (address << 16 | host-order port) */
	assert_int_equal(dp_flow_slot(1, rte_cpu_to_be_16(65535)), 0x1ffffu);
	assert_int_equal(dp_flow_slot(2, rte_cpu_to_be_16(1)), 0x20001u);
	assert_int_equal(dp_flow_del(&flow, 1, rte_cpu_to_be_16(0), 300), 0);
	assert_int_equal(dp_flow_del(&flow, 1, rte_cpu_to_be_16(65535), 302), 0);
	for (uint32_t a = 0; a < N_ADDRS; a++)
		assert_int_equal(dp_flow_del(&flow, a, rte_cpu_to_be_16(40000), 100 + a), 0);
	assert_miss(1, 0);
	assert_miss(1, 65535);
}

static void
test_every_port(void **state)
{
	uint32_t p, out, found = 0;

	(void)state;
	for (p = 0; p < DP_FLOW_PORTS; p++)
		assert_int_equal(dp_flow_add(&flow, 2, rte_cpu_to_be_16((uint16_t)p),
					     p * 4, p ^ 1), 0);
	for (p = 0; p < DP_FLOW_PORTS; p++) {
		assert_int_equal(get(2, (uint16_t)p, &out), p * 4);
		assert_int_equal(out, p ^ 1);
		found++;
	}
	assert_int_equal(found, DP_FLOW_PORTS);
	/* delete the odd ones: the even ones stay, the odd ones miss */
	for (p = 1; p < DP_FLOW_PORTS; p += 2)
		assert_int_equal(dp_flow_del(&flow, 2, rte_cpu_to_be_16((uint16_t)p), p * 4), 0);
	for (p = 0; p < DP_FLOW_PORTS; p++)
		assert_int_equal(get(2, (uint16_t)p, &out), p % 2 ? RTPB_STREAM_NONE : p * 4);
	/* address 1 untouched */
	for (p = 0; p < DP_FLOW_PORTS; p++)
		assert_int_equal(get(1, (uint16_t)p, &out), RTPB_STREAM_NONE);
	for (p = 0; p < DP_FLOW_PORTS; p += 2)
		assert_int_equal(dp_flow_del(&flow, 2, rte_cpu_to_be_16((uint16_t)p), p * 4), 0);
}

/* The concurrent reader: the entry flips between (1, 2) and
 * (0x10000003, 0x10000004) under it; each read must be one of the two
 * whole, or empty while the writer's delete has it. */
#define FLIPS 200000
static atomic_int reader_stop;

static void *
reader(void *arg)
{
	uint64_t *bad = arg, reads = 0;
	uint32_t id, out;

	while (!atomic_load(&reader_stop) || reads == 0) {
		id = get(0, 5004, &out);
		reads++;
		if (!((id == 1 && out == 2) ||
		      (id == 0x10000003u && out == 0x10000004u) ||
		      (id == RTPB_STREAM_NONE && out == RTPB_STREAM_NONE)))
			(*bad)++;
	}
	return NULL;
}

static void
test_concurrent_reader(void **state)
{
	const uint16_t port = rte_cpu_to_be_16(5004);
	uint64_t bad = 0;
	pthread_t t;
	uint32_t i, out;

	(void)state;
	atomic_store(&reader_stop, 0);
	assert_int_equal(dp_flow_add(&flow, 0, port, 1, 2), 0);
	assert_int_equal(pthread_create(&t, NULL, reader, &bad), 0);
	for (i = 0; i < FLIPS; i++) {
		if (i % 2 == 0) {
			assert_int_equal(dp_flow_add(&flow, 0, port, 0x10000003u, 0x10000004u), 0);
		} else {
			assert_int_equal(dp_flow_del(&flow, 0, port, 0x10000003u), 0);
			assert_int_equal(dp_flow_add(&flow, 0, port, 1, 2), 0);
		}
	}
	atomic_store(&reader_stop, 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(get(0, 5004, &out), 1);
	assert_int_equal(dp_flow_del(&flow, 0, port, 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_bounds),
		cmocka_unit_test(test_add_replace_del),
		cmocka_unit_test(test_addresses_and_edge_ports),
		cmocka_unit_test(test_every_port),
		cmocka_unit_test(test_concurrent_reader),
	};

	return TEST_EAL_RUN("test_dp_flow", "64", tests, setup, teardown);
}
