/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_eal.h: the EAL start and stop shared by the dataplane unit tests
 * that need DPDK memory (rings, pools, hashes) but no device or hugepage:
 * test_dp_flow, test_dp_nd, test_dp_rewrite.
 */
#ifndef RTPB_TEST_EAL_H
#define RTPB_TEST_EAL_H

/**
 * Start the EAL in memory (no runtime files, no hugepage files), on
 * lcore 0 only, with no PCI bus, no telemetry and only errors logged.
 *
 * @param argv0   the program name (argv[0]).
 * @param mem_mb  memory to reserve, in MB, as a string ("64").
 * @return 0, or -1 after a line on stderr.
 */
int test_eal_init(char *argv0, char *mem_mb);

/** Stop the EAL and remove its runtime directory (empty in memory). */
void test_eal_cleanup(void);

#endif /* RTPB_TEST_EAL_H */
