/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_hist.c: quantiles of the latency histogram (see gen_hist.h). Runs
 * once per progress line and at the summary, never per packet.
 */
#include <math.h>

#include "gen_hist.h"

/* Largest value of bucket i. */
static uint64_t
bucket_hi(uint32_t i)
{
	uint32_t sh;
	uint64_t lo;

	if (i < GEN_HIST_SUB)
		return i;
	sh = i / GEN_HIST_SUB - 1u;
	lo = (uint64_t)(GEN_HIST_SUB + i % GEN_HIST_SUB) << sh;
	return lo + ((1ull << sh) - 1u);
}

uint64_t
gen_hist_quantile(const struct gen_hist *h, double q)
{
	uint64_t want, seen = 0, v;
	uint32_t i;

	if (h->count == 0)
		return 0;
	want = (uint64_t)ceil(q * (double)h->count);
	if (want == 0)
		want = 1;
	for (i = 0; i < GEN_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			v = bucket_hi(i);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}

void
gen_hist_merge(struct gen_hist *dst, const struct gen_hist *src)
{
	uint32_t i;

	for (i = 0; i < GEN_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}
