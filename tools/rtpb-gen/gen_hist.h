/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_hist.h: a fixed-size latency histogram, no allocation per sample.
 *
 * Log-linear buckets as HdrHistogram's: values below 32 have one bucket
 * each; above, every power of two is split into 32 equal buckets, so a
 * bucket is at most 1/32 (3.1 %) of its value wide. 1920 buckets cover
 * the whole uint64_t range (15 KiB per histogram). Values are ns.
 */
#ifndef GEN_HIST_H
#define GEN_HIST_H

#include <stdint.h>

#define GEN_HIST_SUB_BITS 5
#define GEN_HIST_SUB (1u << GEN_HIST_SUB_BITS)
#define GEN_HIST_BUCKETS ((64u - GEN_HIST_SUB_BITS + 1u) * GEN_HIST_SUB)

/** One histogram. Zero-initialised is empty. */
struct gen_hist {
	uint64_t count; /**< samples */
	uint64_t max; /**< largest sample, ns */
	uint64_t sum; /**< sum of samples, ns (for the mean) */
	uint64_t b[GEN_HIST_BUCKETS];
};

/** Bucket index of value v. */
static inline uint32_t
gen_hist_idx(uint64_t v)
{
	uint32_t e, sh;

	if (v < GEN_HIST_SUB)
		return (uint32_t)v;
	e = 63u - (uint32_t)__builtin_clzll(v);
	sh = e - GEN_HIST_SUB_BITS;
	return (sh + 1u) * GEN_HIST_SUB +
	       (uint32_t)((v >> sh) & (GEN_HIST_SUB - 1u));
}

/** Add one sample v (ns). */
static inline void
gen_hist_add(struct gen_hist *h, uint64_t v)
{
	h->b[gen_hist_idx(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

/**
 * The q-quantile (0 < q <= 1) as the upper bound of the bucket holding
 * it, capped at the largest sample: never below the true value, at most
 * 3.1 % above it.
 * @return ns, or 0 if the histogram is empty.
 */
uint64_t gen_hist_quantile(const struct gen_hist *h, double q);

/** Add every sample of src to dst. */
void gen_hist_merge(struct gen_hist *dst, const struct gen_hist *src);

#endif /* GEN_HIST_H */
