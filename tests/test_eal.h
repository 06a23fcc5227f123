/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_eal.h: the main() of the dataplane unit tests that need DPDK
 * memory (rings, pools, hashes) but no device or hugepage: test_dp_flow,
 * test_dp_nd, test_dp_rewrite. Their fixtures go in the group setup and
 * teardown, which run inside the EAL.
 */
#ifndef RTPB_TEST_EAL_H
#define RTPB_TEST_EAL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/**
 * Start the EAL in memory (no runtime files, no hugepage files), on
 * lcore 0 only, with no PCI bus, no telemetry and only errors logged;
 * run the group of tests between group_setup and group_teardown (either
 * may be NULL); stop the EAL and remove its runtime directory.
 *
 * @param name    the program name the EAL logs under.
 * @param mem_mb  memory to reserve, in MB, as a string ("64").
 * @return the exit status: 0 if the EAL started and every test and
 *         fixture passed.
 */
int test_eal_run(const char *name, const char *mem_mb, const struct CMUnitTest *tests,
		 size_t n_tests, CMFixtureFunction group_setup, CMFixtureFunction group_teardown);

/** test_eal_run() over an array of tests. */
#define TEST_EAL_RUN(name, mem_mb, tests, group_setup, group_teardown) \
	test_eal_run(name, mem_mb, tests, sizeof(tests) / sizeof((tests)[0]), \
		     group_setup, group_teardown)

#endif /* RTPB_TEST_EAL_H */
