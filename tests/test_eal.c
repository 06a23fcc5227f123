/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_eal.c: an in-memory EAL for the dataplane unit tests (test_eal.h).
 */
#include <stdio.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>

#include "test_eal.h"

int
test_eal_init(char *argv0, char *mem_mb)
{
	char *eal[] = {argv0, "--in-memory", "-m", mem_mb, "--no-pci", "--no-telemetry",
		       "--log-level=error", "-l", "0"};

	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return -1;
	}
	return 0;
}

void
test_eal_cleanup(void)
{
	char rundir[4096];

	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(rundir); /* empty in in-memory mode; fails harmlessly if shared */
}
