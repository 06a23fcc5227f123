/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-rtpa: TSC cycles per dp_rtpa_rx() call (dataplane/dp_rtpa.h), the
 * per-packet cost of RTP analysis.
 *
 *   bench-rtpa [STREAMS [CHUNKS]]
 *
 * Each of STREAMS streams (default 1; their 128-byte records in one
 * array, visited round-robin as a worker's packets interleave calls)
 * gets RTP packets 20 ms apart with +-2 ms of arrival jitter, in CHUNKS
 * (default 200) chunks of about 50 000 calls, in two patterns: "clean" (every
 * sequence number once, in order) and "lossy" (1 in 10 lost, 1 in 100
 * duplicated, 1 in 100 swapped with the next: the slow path about 3
 * times in 100). The same loop without the call (the inputs computed
 * and consumed) is the baseline; the figure is the best chunk with the
 * call less the best chunk without (best: on a shared machine, the chunks
 * nothing preempted). With
 * many streams the records leave the caches, as the stream record's cold
 * lines do in the relay: that cost is the memory's, not the code's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "dp_rtpa.h"

#define T0 1000000000000ull
#define MS 1000000ull

struct in {
	uint16_t seq;
	int16_t jit_us; /* arrival offset, us */
};

static struct in ins[80000];

/* One sequence cycle (0..65535) of a pattern; returns the entries. */
static size_t
build(int lossy)
{
	uint64_t x = 88172645463325252ull;
	size_t n = 0;

	for (uint32_t s = 0; s < 65536; s++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int16_t jit = (int16_t)((int)(x % 4001) - 2000);

		if (lossy && s % 10 == 5)
			continue;
		if (lossy && s % 100 == 17 && s + 1 < 65536) {
			/* s + 1 first, then s */
			ins[n++] = (struct in){(uint16_t)(s + 1), jit};
			ins[n++] = (struct in){(uint16_t)s, jit};
			s++;
			continue;
		}
		ins[n++] = (struct in){(uint16_t)s, jit};
		if (lossy && s % 100 == 42)
			ins[n++] = (struct in){(uint16_t)s, jit};
	}
	return n;
}

/*
 * Packets k0 .. k0 + rounds - 1 of every stream (the inputs cycle through
 * ins[n]), with (call = 1) or without the call; TSC cycles per packet.
 */
static double
run(struct dp_rtpa *r, size_t streams, uint64_t k0, uint64_t rounds, size_t n,
    int call)
{
	size_t e = k0 % n;
	uint64_t cyc = k0 / n * 65536, t0, t1;

	t0 = __rdtsc();
	for (uint64_t k = k0; k < k0 + rounds; k++) {
		uint16_t seq = ins[e].seq;
		uint32_t ts = (uint32_t)((cyc + seq) * 160);
		uint64_t now = T0 + k * 20 * MS + (int64_t)ins[e].jit_us * 1000;

		for (size_t s = 0; s < streams; s++) {
			if (call)
				dp_rtpa_rx(&r[s].hot, &r[s].cold, 0x11223344u, seq, ts, 0, now);
			else
				__asm__ volatile("" ::"r"(&r[s]), "r"(seq), "r"(ts), "r"(now));
		}
		if (++e == n) {
			e = 0;
			cyc += 65536;
		}
	}
	t1 = __rdtsc();
	return (double)(t1 - t0) / ((double)rounds * streams);
}

int
main(int argc, char **argv)
{
	size_t streams = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	uint64_t chunks = argc > 2 ? strtoull(argv[2], NULL, 0) : 200, rounds;
	struct dp_rtpa *r;
	struct rtpb_rtpa v;

	if (streams == 0 || chunks == 0) {
		fprintf(stderr, "usage: bench-rtpa [STREAMS [CHUNKS]]\n");
		return 2;
	}
	/* about 50 000 calls a chunk: shorter than a scheduler tick */
	rounds = 50000 / streams ? 50000 / streams : 1;
	r = aligned_alloc(64, streams * sizeof(*r));
	if (r == NULL) {
		perror("aligned_alloc");
		return 1;
	}
	for (int lossy = 0; lossy < 2; lossy++) {
		size_t n = build(lossy);
		double base = 1e30, with = 1e30;
		uint64_t k = 0;

		for (size_t s = 0; s < streams; s++)
			dp_rtpa_init(&r[s].hot, &r[s].cold, 0);
		run(r, streams, k, 100, n, 1); /* past probation, caches warm */
		k += 100;
		for (uint64_t c = 0; c < chunks; c++, k += rounds) {
			double b = run(r, streams, k, rounds, n, 0);
			double w = run(r, streams, k, rounds, n, 1);

			base = b < base ? b : base;
			with = w < with ? w : with;
		}
		rtpb_rtpa_view(&r[0].hot, &r[0].cold, &v);
		printf("%s streams=%zu calls=%llu: %.1f TSC cycles/call "
		       "(best chunk: loop %.1f, loop+call %.1f); stream 0: nsent=%llu "
		       "nlost=%llu ndups=%u nreord=%u jitter=%.2f ms\n",
		       lossy ? "lossy" : "clean", streams,
		       (unsigned long long)(chunks * rounds * streams), with - base,
		       base, with, (unsigned long long)v.nsent,
		       (unsigned long long)rtpb_rtpa_nlost(&v), v.ndups,
		       v.nreordered, rtpb_rtpa_ms(&v, v.jitter));
	}
	free(r);
	return 0;
}
