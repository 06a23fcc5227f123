/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_beat: worker heartbeats as control and the main lcore read
 * them (include/rtpb_shm.h rtpb_beat_check()): a worker whose loop count
 * stands still for RTPB_WORKER_STALL_NS is reported once, and once again
 * when it loops. Time is a parameter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rtpb_shm.h"

#define MS 1000000ull

static void
test_stall_and_back(void **state)
{
	struct rtpb_shm_hdr *h = calloc(1, sizeof(*h));
	struct rtpb_beat_watch wt[2] = {0};
	uint64_t t = 5000 * MS;
	int reported = -1;

	(void)state;
	assert_non_null(h);
	/* first look: nothing to compare with */
	assert_int_equal(rtpb_beat_check(&wt[0], h, 0, t), 0);
	assert_int_equal(rtpb_beat_check(&wt[1], h, 1, t), 0);
	/* worker 1 loops, worker 0 stands still: found within a second
	 * when looked at every 100 ms */
	for (int k = 1; k <= 10; k++) {
		atomic_store(&h->beat[1].loops, (uint64_t)k * 1000);
		assert_int_equal(rtpb_beat_check(&wt[1], h, 1, t + k * 100 * MS), 0);
		if (rtpb_beat_check(&wt[0], h, 0, t + k * 100 * MS) == 1) {
			assert_int_equal(reported, -1);
			reported = k;
		}
	}
	assert_int_equal(reported, (int)(RTPB_WORKER_STALL_NS / (100 * MS)));
	assert_true(wt[0].stalled);
	assert_false(wt[1].stalled);
	/* reported once, not on every look */
	assert_int_equal(rtpb_beat_check(&wt[0], h, 0, t + 5000 * MS), 0);
	/* it loops again */
	atomic_store(&h->beat[0].loops, 1);
	assert_int_equal(rtpb_beat_check(&wt[0], h, 0, t + 5100 * MS), -1);
	assert_false(wt[0].stalled);
	assert_int_equal(rtpb_beat_check(&wt[0], h, 0, t + 5200 * MS), 0);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stall_and_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
