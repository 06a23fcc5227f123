/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_ports.c: random O(1) allocation of RTP/RTCP port pairs, see
 * ctl_ports.h. Owned and used by control's thread only.
 *
 * free_pairs[0..nfree) holds the pair indexes ((port - lo) / 2) that are
 * free, in no order; pos[pair] is the pair's slot in free_pairs, or
 * POS_USED while it is allocated. Allocation swaps a random slot with the
 * last free one; freeing appends. Both are O(1).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "ctl_ports.h"

#define POS_USED UINT32_MAX

struct ctl_ports {
	uint16_t lo;
	uint16_t hi;
	uint32_t n;          /**< pairs in the pool */
	uint32_t nfree;      /**< free pairs: free_pairs[0..nfree) */
	uint64_t rng;        /**< xorshift64* state, never 0 */
	uint32_t *free_pairs;
	uint32_t *pos;
	bool sequential;     /**< -b: in order from cursor */
	uint32_t cursor;     /**< the pair after the last one taken */
};

int
ctl_ports_range(long min, long max, uint16_t *lo, uint16_t *hi)
{
	if (min < 1 || min > 65535 || max < 1 || max > 65535)
		return -EINVAL;
	if (min % 2 != 0)
		min++;
	/* odd max: RTP max - 1, RTCP max; even max: no room for RTCP */
	max -= (max % 2 != 0) ? 1 : 2;
	if (min > max || min > 65534)
		return -EINVAL;
	*lo = (uint16_t)min;
	*hi = (uint16_t)max;
	return 0;
}

/* xorshift64* (Vigna): fast, good enough to make ports unpredictable to
 * a casual scanner; not a CSPRNG, and the seed comes from getrandom(). */
static uint64_t
ports_rand(struct ctl_ports *p)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return p->rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t
ports_seed(void)
{
	uint64_t s = 0;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != sizeof(s) || s == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^ 1;
	}
	return s;
}

struct ctl_ports *
ctl_ports_create(uint16_t lo, uint16_t hi, uint64_t seed)
{
	struct ctl_ports *p;
	uint32_t i;

	if (lo % 2 != 0 || hi % 2 != 0 || lo > hi || lo == 0) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->lo = lo;
	p->hi = hi;
	p->n = (uint32_t)(hi - lo) / 2 + 1;
	p->free_pairs = calloc(p->n, sizeof(*p->free_pairs));
	p->pos = calloc(p->n, sizeof(*p->pos));
	if (p->free_pairs == NULL || p->pos == NULL) {
		ctl_ports_destroy(p);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < p->n; i++) {
		p->free_pairs[i] = i;
		p->pos[i] = i;
	}
	p->nfree = p->n;
	p->rng = seed != 0 ? seed : ports_seed();
	return p;
}

void
ctl_ports_set_sequential(struct ctl_ports *p, bool on)
{
	p->sequential = on;
}

void
ctl_ports_destroy(struct ctl_ports *p)
{
	if (p == NULL)
		return;
	free(p->free_pairs);
	free(p->pos);
	free(p);
}

/* Take the free pair in free_pairs[slot]: the last free pair moves into
 * its slot. */
static uint16_t
ports_take(struct ctl_ports *p, uint32_t slot)
{
	uint32_t pair = p->free_pairs[slot], last = p->free_pairs[p->nfree - 1];

	p->free_pairs[slot] = last;
	p->pos[last] = slot;
	p->pos[pair] = POS_USED;
	p->nfree--;
	return (uint16_t)(p->lo + 2 * pair);
}

/* -b: the first free pair at or after the cursor (one exists: the scan
 * ends within n steps). */
static uint32_t
ports_next_free(const struct ctl_ports *p, uint32_t from)
{
	uint32_t pair;

	for (pair = from % p->n; p->pos[pair] == POS_USED; pair = (pair + 1) % p->n)
		;
	return pair;
}

int
ctl_ports_alloc(struct ctl_ports *p, uint16_t *port)
{
	uint32_t slot, pair;

	if (p->nfree == 0)
		return -ENOSPC;
	if (p->sequential) {
		pair = ports_next_free(p, p->cursor);
		slot = p->pos[pair];
		p->cursor = (pair + 1) % p->n;
	} else {
		slot = (uint32_t)(ports_rand(p) % p->nfree);
	}
	*port = ports_take(p, slot);
	return 0;
}

int
ctl_ports_alloc_if(struct ctl_ports *p, ctl_ports_pred_fn *ok, void *arg,
		   uint32_t tries, uint16_t *port)
{
	uint32_t slot, pair = p->cursor, t;

	if (p->nfree == 0)
		return -ENOSPC;
	if (tries > p->nfree)
		tries = p->nfree;
	for (t = 0; t < tries; t++) {
		if (p->sequential) {
			/* the next free pairs in order, each looked at once */
			pair = ports_next_free(p, pair);
			slot = p->pos[pair];
			pair = (pair + 1) % p->n;
		} else {
			slot = (uint32_t)(ports_rand(p) % p->nfree);
		}
		if (ok((uint16_t)(p->lo + 2 * p->free_pairs[slot]), arg)) {
			if (p->sequential)
				p->cursor = pair;
			*port = ports_take(p, slot);
			return 0;
		}
	}
	return -ENOENT;
}

/* The pair index of RTP port port, or -1 if it is not one of the pool. */
static int64_t
ports_pair(const struct ctl_ports *p, uint16_t port)
{
	if (port < p->lo || port > p->hi || port % 2 != 0)
		return -1;
	return (port - p->lo) / 2;
}

int
ctl_ports_take(struct ctl_ports *p, uint16_t port)
{
	int64_t pair = ports_pair(p, port);

	if (pair < 0)
		return -EINVAL;
	if (p->pos[pair] == POS_USED)
		return -EBUSY;
	ports_take(p, p->pos[pair]);
	return 0;
}

int
ctl_ports_free(struct ctl_ports *p, uint16_t port)
{
	int64_t pair = ports_pair(p, port);

	if (pair < 0 || p->pos[pair] != POS_USED)
		return -EINVAL;
	p->free_pairs[p->nfree] = (uint32_t)pair;
	p->pos[pair] = p->nfree;
	p->nfree++;
	return 0;
}

uint32_t
ctl_ports_avail(const struct ctl_ports *p)
{
	return p->nfree;
}

uint32_t
ctl_ports_total(const struct ctl_ports *p)
{
	return p->n;
}
