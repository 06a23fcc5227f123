/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_world.h: what control's libFuzzer targets (fuzz_ctl.c,
 * fuzz_durable.c) check on a tests/ctl_world.h world: an invariant macro
 * that aborts (a crash to libFuzzer, "invariant broken" to run.sh), the
 * fakes' misuse counters, and the world's close with nothing left behind.
 */
#ifndef RTPB_FUZZ_WORLD_H
#define RTPB_FUZZ_WORLD_H

#include <stdio.h>
#include <stdlib.h>

#include "ctl_world.h"

/** An invariant: when broken, say which and abort (a crash to libFuzzer). */
#define FUZZ_CHECK(cond, ...)                                            \
	do {                                                             \
		if (!(cond)) {                                           \
			fflush(stdout);                                  \
			fprintf(stderr,                                  \
				"fuzz: invariant broken: " __VA_ARGS__); \
			fprintf(stderr, "\n");                           \
			abort();                                         \
		}                                                        \
	} while (0)

/** Control used the fake dataplane and prefilter as their contracts say. */
void fuzz_world_check_fakes(void);

/**
 * Destroy w's table as control does at exit, after the fake dataplane is
 * back and its ring has room (else the DELs wait and ports stay taken,
 * by design), then check that no stream id, dataplane stream, port pair
 * or prefilter entry is left. Usable as struct ctl_world's close.
 */
void fuzz_world_close(struct ctl_world *w);

#endif /* RTPB_FUZZ_WORLD_H */
