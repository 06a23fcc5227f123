/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-memlat: latency of dependent loads over N cache lines placed at
 * random in a SPAN-byte mapping of 4 KiB or 2 MiB pages, in TSC cycles
 * per load.
 *
 *   bench-memlat SPAN_BYTES LINES 4k|2m
 *
 * The relay's per-packet state is a handful of cache lines at random
 * places of tables that grow with the sessions (streams, counters, flow
 * table). With the same LINES (they fit in the caches), a growing SPAN
 * shows what address translation adds: on bare metal, 2 MiB pages keep
 * it small; in a VM whose memory the host backs with 4 KiB pages, the
 * guest's huge pages do not widen the TLB's reach and every load of a
 * large table pays a nested page walk. docs/PERFORMANCE.md uses it to
 * read the relay's cycles per packet against the table size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <x86intrin.h>

int
main(int argc, char **argv)
{
	size_t span, n, lines, i, *idx;
	uint64_t seed = 88172645463325252ull, t0, t1;
	const size_t iters = 20000000;
	void **p;
	char *m;
	int huge;

	if (argc != 4 ||
	    (strcmp(argv[3], "4k") != 0 && strcmp(argv[3], "2m") != 0)) {
		fprintf(stderr, "usage: bench-memlat SPAN_BYTES LINES 4k|2m\n");
		return 2;
	}
	span = strtoull(argv[1], NULL, 0);
	n = strtoull(argv[2], NULL, 0);
	huge = strcmp(argv[3], "2m") == 0;
	lines = span / 64;
	if (n == 0 || n > lines) {
		fprintf(stderr, "bench-memlat: want 1..%zu lines\n", lines);
		return 2;
	}
	m = mmap(NULL, span, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | (huge ? MAP_HUGETLB : 0), -1, 0);
	if (m == MAP_FAILED) {
		perror(huge ? "mmap MAP_HUGETLB (enough 2 MiB pages?)" :
			      "mmap");
		return 1;
	}
	for (i = 0; i < span; i += 4096)
		m[i] = 1;
	idx = malloc(n * sizeof(*idx));
	if (idx == NULL)
		return 1;
	/* xorshift64: distinct random lines are not needed, random ones are */
	for (i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		idx[i] = seed % lines;
	}
	for (i = 0; i < n; i++)
		*(void **)(m + idx[i] * 64) = m + idx[(i + 1) % n] * 64;
	p = (void **)(m + idx[0] * 64);
	for (i = 0; i < 4 * n; i++)
		p = *p;
	t0 = __rdtsc();
	for (i = 0; i < iters; i++)
		p = *p;
	t1 = __rdtsc();
	printf("span %zu MiB, %zu lines, %s pages: %.1f cycles per load (%p)\n",
	       span >> 20, n, huge ? "2 MiB" : "4 KiB",
	       (double)(t1 - t0) / iters, (void *)p);
	munmap(m, span);
	free(idx);
	return 0;
}
