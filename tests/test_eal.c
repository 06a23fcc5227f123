/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_eal.c: an in-memory EAL around a cmocka group (test_eal.h).
 */
#include <stdio.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>

#include "test_eal.h"

/* cmocka 1.1 reports a failed group fixture but does not count it in
 * its return value: the fixtures run through these, which keep their
 * result (-1 until one returns, so a failed assert counts too). */
static CMFixtureFunction user_setup, user_teardown;
static int setup_rc, teardown_rc;

static int
eal_group_setup(void **state)
{
	setup_rc = -1;
	setup_rc = user_setup != NULL ? user_setup(state) : 0;
	return setup_rc;
}

static int
eal_group_teardown(void **state)
{
	teardown_rc = -1;
	teardown_rc = user_teardown != NULL ? user_teardown(state) : 0;
	return teardown_rc;
}

int
test_eal_run(const char *name, const char *mem_mb, const struct CMUnitTest *tests,
	     size_t n_tests, CMFixtureFunction group_setup, CMFixtureFunction group_teardown)
{
	char *eal[] = {(char *)name, "--in-memory", "-m", (char *)mem_mb, "--no-pci",
		       "--no-telemetry", "--log-level=error", "-l", "0"};
	char rundir[4096];
	int r;

	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	/* The group is named "tests", as cmocka_run_group_tests(tests, ...) names it. */
	user_setup = group_setup;
	user_teardown = group_teardown;
	setup_rc = teardown_rc = -1;
	r = _cmocka_run_group_tests("tests", tests, n_tests, eal_group_setup, eal_group_teardown);
	if (r == 0 && (setup_rc != 0 || teardown_rc != 0))
		r = 1;
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(rundir); /* empty in in-memory mode; fails harmlessly if shared */
	return r;
}
