/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_reply.c: reply bodies and the cookie reply cache, see ctl_reply.h.
 * Control's thread only.
 */
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_hash.h"
#include "ctl_reply.h"

void
ctl_reply_reset(struct ctl_reply *r)
{
	r->len = 0;
	r->error = false;
	r->ecode = 0;
	r->buf[0] = '\0';
}

int
ctl_reply_appendf(struct ctl_reply *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, sizeof(r->buf) - r->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(r->buf) - r->len) {
		r->buf[r->len] = '\0';
		return -ENOSPC;
	}
	r->len += (size_t)n;
	return 0;
}

void
ctl_reply_number(struct ctl_reply *r, long n)
{
	ctl_reply_reset(r);
	ctl_reply_appendf(r, "%ld\n", n);
}

void
ctl_reply_error(struct ctl_reply *r, int ecode)
{
	ctl_reply_reset(r);
	r->error = true;
	r->ecode = ecode;
	ctl_reply_appendf(r, "E%d\n", ecode);
}

void
ctl_reply_port(struct ctl_reply *r, uint16_t port, const char *addr,
	       bool ipv6)
{
	ctl_reply_reset(r);
	if (addr == NULL)
		ctl_reply_appendf(r, "%u\n", port);
	else
		ctl_reply_appendf(r, "%u %s%s\n", port, addr, ipv6 ? " 6" : "");
}

size_t
ctl_reply_wire(const struct ctl_reply *r, const char *cookie, char *out,
	       size_t outsz)
{
	size_t n = 0, clen;

	if (outsz == 0)
		return 0;
	if (cookie != NULL) {
		clen = strlen(cookie);
		if (clen + 1 >= outsz)
			return 0;
		memcpy(out, cookie, clen);
		out[clen] = ' ';
		n = clen + 1;
	}
	if (r->len > outsz - n)
		return 0;
	memcpy(out + n, r->buf, r->len);
	return n + r->len;
}

/*
 * One cached reply, one allocation: the cookie (NUL-terminated, the hash
 * table's key) then the wire bytes. Entries also form a FIFO in
 * insertion order, which is expiry order (t_ns never decreases), so
 * ctl_rcache_expire() pops the old ones off the head instead of walking
 * the whole table once a second (at 100 000 commands/s the table holds
 * CTL_RCACHE_MAX entries, and the walk cost ~1 us of CPU per call).
 */
struct rcache_entry {
	struct rcache_entry *next; /* younger neighbour in the FIFO */
	uint64_t t_ns;             /* when cached */
	size_t len;                /* wire bytes */
	char *wire;                /* into data, after the cookie */
	char data[];               /* cookie, NUL, wire */
};

struct ctl_rcache {
	GHashTable *by_cookie;      /* entry->data (cookie) -> entry */
	struct rcache_entry *head;  /* oldest */
	struct rcache_entry *tail;  /* youngest */
};

struct ctl_rcache *
ctl_rcache_create(void)
{
	struct ctl_rcache *rc = calloc(1, sizeof(*rc));

	if (rc == NULL)
		return NULL;
	/* keyed: cookies come from the network (ctl_hash.h); the key lives
	 * in its entry, freed with it */
	rc->by_cookie = g_hash_table_new_full(ctl_hash_str, g_str_equal, NULL,
					      g_free);
	return rc;
}

void
ctl_rcache_destroy(struct ctl_rcache *rc)
{
	if (rc == NULL)
		return;
	g_hash_table_destroy(rc->by_cookie);
	free(rc);
}

const char *
ctl_rcache_lookup(struct ctl_rcache *rc, const char *cookie, size_t *len)
{
	struct rcache_entry *e = g_hash_table_lookup(rc->by_cookie, cookie);

	if (e == NULL)
		return NULL;
	*len = e->len;
	return e->wire;
}

int
ctl_rcache_insert(struct ctl_rcache *rc, const char *cookie, const char *wire,
		  size_t len, uint64_t now_ns)
{
	size_t clen = strlen(cookie);
	struct rcache_entry *e;

	if (g_hash_table_contains(rc->by_cookie, cookie))
		return -EEXIST;
	if (g_hash_table_size(rc->by_cookie) >= CTL_RCACHE_MAX)
		return -ENOSPC;
	e = g_malloc(sizeof(*e) + clen + 1 + len);
	memcpy(e->data, cookie, clen + 1);
	g_hash_table_insert(rc->by_cookie, e->data, e);
	e->next = NULL;
	/* the FIFO is in expiry order only if times never go back: the
	 * caller's clock is CLOCK_MONOTONIC, this makes sure */
	e->t_ns = rc->tail != NULL && rc->tail->t_ns > now_ns ? rc->tail->t_ns :
								now_ns;
	e->len = len;
	e->wire = e->data + clen + 1;
	memcpy(e->wire, wire, len);
	if (rc->tail != NULL)
		rc->tail->next = e;
	else
		rc->head = e;
	rc->tail = e;
	return 0;
}

unsigned
ctl_rcache_expire(struct ctl_rcache *rc, uint64_t now_ns)
{
	unsigned n = 0;

	while (rc->head != NULL && now_ns >= rc->head->t_ns &&
	       now_ns - rc->head->t_ns >= CTL_RCACHE_TTL_NS) {
		struct rcache_entry *e = rc->head;

		rc->head = e->next;
		if (rc->head == NULL)
			rc->tail = NULL;
		g_hash_table_remove(rc->by_cookie, e->data); /* frees e */
		n++;
	}
	return n;
}
