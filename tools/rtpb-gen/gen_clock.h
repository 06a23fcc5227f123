/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_clock.h: the wall-independent clock the setup paths (gen_ctl.c,
 * gen_shm.c) use for deadlines and for timing a setup; the traffic loop
 * counts TSC cycles instead (gen_run.h).
 */
#ifndef GEN_CLOCK_H
#define GEN_CLOCK_H

#include <stdint.h>
#include <time.h>

/** CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t
gen_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif /* GEN_CLOCK_H */
