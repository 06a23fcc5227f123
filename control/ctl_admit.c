/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_admit.c: admission control of new sessions, see ctl_admit.h.
 * One GHashTable of token buckets keyed by source IP (struct src_key,
 * hashed with ctl_hash_bytes()).
 */
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_admit.h"
#include "ctl_hash.h"
#include "ctl_log.h"

#define NS_PER_S 1000000000ull
#define FAM_LOCAL 0      /* unix sockets */
#define FAM_OVERFLOW 255 /* the table was full */

/* A client address, the port left out. */
struct src_key {
	uint8_t family; /* AF_INET, AF_INET6, FAM_LOCAL, FAM_OVERFLOW */
	uint8_t ip[16];
};

/* Token bucket (tokens in sessions, refilled at cfg.rate per second). */
struct bucket {
	struct src_key key;
	double tokens;
	uint64_t t_ns; /* tokens as of then */
};

struct ctl_admit {
	struct ctl_admit_cfg cfg;
	GHashTable *buckets; /* struct src_key * -> struct bucket * (owns) */
	struct ctl_admit_counters c;
	struct ctl_log_limit log_max, log_rate; /* one line/s each */
};

static guint
key_hash(gconstpointer k)
{
	uint64_t h = ctl_hash_bytes(k, sizeof(struct src_key));

	return (guint)(h ^ (h >> 32));
}

static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(struct src_key)) == 0;
}

struct ctl_admit *
ctl_admit_create(const struct ctl_admit_cfg *cfg)
{
	struct ctl_admit *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->cfg = *cfg;
	if (a->cfg.burst == 0)
		a->cfg.burst = a->cfg.rate;
	/* the key is the bucket's first member: freed with it */
	a->buckets = g_hash_table_new_full(key_hash, key_equal, NULL, g_free);
	return a;
}

void
ctl_admit_destroy(struct ctl_admit *a)
{
	if (a == NULL)
		return;
	g_hash_table_destroy(a->buckets);
	free(a);
}

static void
src_key_of(const struct sockaddr *src, struct src_key *k)
{
	memset(k, 0, sizeof(*k));
	if (src != NULL && src->sa_family == AF_INET) {
		k->family = AF_INET;
		memcpy(k->ip, &((const struct sockaddr_in *)src)->sin_addr, 4);
	} else if (src != NULL && src->sa_family == AF_INET6) {
		k->family = AF_INET6;
		memcpy(k->ip, &((const struct sockaddr_in6 *)src)->sin6_addr, 16);
	} else {
		k->family = FAM_LOCAL;
	}
}

/* Count a refusal; one line per second per limit at most. */
static void
refuse(struct ctl_log_limit *l, uint64_t *ctr, uint64_t now_ns,
       const char *what, uint32_t limit)
{
	uint64_t n;

	(*ctr)++;
	if (ctl_log_limit(l, now_ns, &n))
		ctl_log(CTL_LOG_WARN, "new sessions refused (E98): %s %u "
			"reached; %llu refused since the last such line, %llu "
			"in all", what, limit, (unsigned long long)n,
			(unsigned long long)*ctr);
}

/* Refill b to now_ns. */
static void
bucket_refill(const struct ctl_admit *a, struct bucket *b, uint64_t now_ns)
{
	if (now_ns > b->t_ns) {
		b->tokens += (double)a->cfg.rate * (double)(now_ns - b->t_ns) /
			     (double)NS_PER_S;
		if (b->tokens > a->cfg.burst)
			b->tokens = a->cfg.burst;
	}
	b->t_ns = now_ns;
}

/* src's bucket, created full; the overflow one when the table is full. */
static struct bucket *
bucket_get(struct ctl_admit *a, const struct sockaddr *src, uint64_t now_ns)
{
	struct src_key k;
	struct bucket *b;

	src_key_of(src, &k);
	b = g_hash_table_lookup(a->buckets, &k);
	if (b != NULL)
		return b;
	if (g_hash_table_size(a->buckets) >= CTL_ADMIT_MAX_SOURCES) {
		ctl_admit_tick(a, now_ns);
		if (g_hash_table_size(a->buckets) >= CTL_ADMIT_MAX_SOURCES) {
			memset(&k, 0, sizeof(k));
			k.family = FAM_OVERFLOW;
			b = g_hash_table_lookup(a->buckets, &k);
			if (b != NULL)
				return b;
		}
	}
	b = g_new0(struct bucket, 1);
	b->key = k;
	b->tokens = a->cfg.burst;
	b->t_ns = now_ns;
	g_hash_table_insert(a->buckets, &b->key, b);
	return b;
}

int
ctl_admit_session(struct ctl_admit *a, unsigned active,
		  const struct sockaddr *src, uint64_t now_ns)
{
	struct bucket *b;

	if (a == NULL)
		return 0;
	if (a->cfg.max_sessions != 0 && active >= a->cfg.max_sessions) {
		refuse(&a->log_max, &a->c.refused_max, now_ns,
		       "--max-sessions", a->cfg.max_sessions);
		return -EUSERS;
	}
	if (a->cfg.rate == 0)
		return 0;
	b = bucket_get(a, src, now_ns);
	bucket_refill(a, b, now_ns);
	if (b->tokens < 1.0) {
		refuse(&a->log_rate, &a->c.refused_rate, now_ns,
		       "--max-new-rate per source", a->cfg.rate);
		return -EAGAIN;
	}
	b->tokens -= 1.0;
	return 0;
}

struct tick_arg {
	const struct ctl_admit *a;
	uint64_t now_ns;
};

static gboolean
bucket_full(gpointer k, gpointer v, gpointer arg)
{
	const struct tick_arg *ta = arg;
	struct bucket *b = v;

	(void)k;
	bucket_refill(ta->a, b, ta->now_ns);
	return b->tokens >= ta->a->cfg.burst;
}

void
ctl_admit_tick(struct ctl_admit *a, uint64_t now_ns)
{
	struct tick_arg ta = {.a = a, .now_ns = now_ns};

	if (a == NULL)
		return;
	g_hash_table_foreach_remove(a->buckets, bucket_full, &ta);
}

void
ctl_admit_counters(const struct ctl_admit *a, struct ctl_admit_counters *c)
{
	memset(c, 0, sizeof(*c));
	if (a == NULL)
		return;
	*c = a->c;
	c->sources = g_hash_table_size(a->buckets);
}
