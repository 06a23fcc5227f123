/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_durable.c: a session's durable state as a byte record, and back
 * (format in ctl_durable.h). Bounded cursor reads: a hostile record is
 * refused, never read past its end.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "ctl_addrs.h"
#include "ctl_durable.h"
#include "ctl_session.h"

/* Fixed bytes (strings' bytes aside). */
#define DUR_ADDR_SZ (1 + 2 + 16)
#define DUR_STR_SZ 2
#define DUR_STREAM_SZ (4 + 1 + 8 + DUR_ADDR_SZ + 4 + 8 + 8 + 8)
#define DUR_LEG_SZ (2 + 1 + 1 + 1 + 4 + DUR_ADDR_SZ + DUR_STR_SZ + \
		    2 * DUR_STREAM_SZ)
#define DUR_HDR_SZ (4 + 2 + 2)
#define DUR_FIXED_SZ (DUR_HDR_SZ + 8 + 4 + 1 + 8 + 8 + 8 + 5 * DUR_STR_SZ + \
		      2 * DUR_ADDR_SZ + 2 * DUR_LEG_SZ)

/* A bounded cursor: ok turns false on the first overrun, and stays. */
struct cur {
	uint8_t *w;       /* writer's buffer, or NULL */
	const uint8_t *r; /* reader's buffer */
	size_t len;
	size_t off;
	bool ok;
};

static void *
cur_take(struct cur *c, size_t n)
{
	size_t o = c->off;

	if (!c->ok || n > c->len - c->off) {
		c->ok = false;
		return NULL;
	}
	c->off += n;
	return c->w != NULL ? (void *)(c->w + o) : (void *)(uintptr_t)(c->r + o);
}

/* v's n low-order bytes (n <= 8), least significant first: one copy of
 * the little-endian value, not a loop of shifts (~60 fields a record,
 * several records per call). */
static void
put_le(struct cur *c, uint64_t v, size_t n)
{
	uint8_t *p = cur_take(c, n);
	uint64_t le = htole64(v);

	if (p != NULL)
		memcpy(p, &le, n < sizeof(le) ? n : sizeof(le));
}

static uint64_t
get_le(struct cur *c, size_t n)
{
	const uint8_t *p = cur_take(c, n);
	uint64_t v = 0;

	for (size_t i = 0; p != NULL && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void
put_bytes(struct cur *c, const void *b, size_t n)
{
	uint8_t *p = cur_take(c, n);

	if (p != NULL && n > 0)
		memcpy(p, b, n);
}

static void
put_str(struct cur *c, const struct ctl_durable_str *s)
{
	put_le(c, s->len, 2);
	put_bytes(c, s->p, s->len);
}

static void
get_str(struct cur *c, struct ctl_durable_str *s)
{
	s->len = (uint16_t)get_le(c, 2);
	s->p = cur_take(c, s->len);
	if (s->p != NULL && memchr(s->p, '\0', s->len) != NULL)
		c->ok = false;
	if (s->len == 0)
		s->p = NULL;
}

static void
put_addr(struct cur *c, const struct rtpb_addr *a)
{
	put_le(c, a->family, 1);
	put_le(c, ntohs(a->port), 2);
	put_bytes(c, a->ip, 16);
}

static void
get_addr(struct cur *c, struct rtpb_addr *a)
{
	const uint8_t *ip;
	static const uint8_t zero[12];

	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)get_le(c, 1);
	a->port = htons((uint16_t)get_le(c, 2));
	ip = cur_take(c, 16);
	if (ip == NULL)
		return;
	memcpy(a->ip, ip, 16);
	switch (a->family) {
	case RTPB_AF_NONE:
		break;
	case RTPB_AF_INET:
		if (memcmp(ip + 4, zero, 12) != 0)
			c->ok = false;
		break;
	case RTPB_AF_INET6:
		break;
	default:
		c->ok = false;
	}
}

size_t
ctl_durable_size(const struct ctl_durable *d)
{
	size_t n = DUR_FIXED_SZ;

	n += d->call_id.len + d->from_tag.len + d->to_tag.len +
	     d->notify_tag.len + d->notify_name.len;
	n += d->leg[0].codecs.len + d->leg[1].codecs.len;
	return n <= CTL_DURABLE_MAX ? n : 0;
}

int
ctl_durable_write(const struct ctl_durable *d, void *buf, size_t bufsz)
{
	size_t n = ctl_durable_size(d);
	struct cur c = { .w = buf, .len = bufsz, .ok = true };

	if (n == 0 || n > bufsz)
		return -E2BIG;
	put_bytes(&c, CTL_DURABLE_MAGIC, 4);
	put_le(&c, CTL_DURABLE_VERSION, 2);
	put_le(&c, n, 2);
	put_le(&c, d->serial, 8);
	put_le(&c, d->owner, 4);
	put_le(&c, d->flags, 1);
	put_le(&c, d->created_ns, 8);
	put_le(&c, d->last_ns, 8);
	put_le(&c, d->ttl_ns, 8);
	put_str(&c, &d->call_id);
	put_str(&c, &d->from_tag);
	put_str(&c, &d->to_tag);
	put_str(&c, &d->notify_tag);
	put_str(&c, &d->notify_name);
	put_addr(&c, &d->notify_src);
	put_addr(&c, &d->notify_local);
	for (int i = 0; i < 2; i++) {
		const struct ctl_durable_leg *l = &d->leg[i];

		put_le(&c, l->port, 2);
		put_le(&c, l->family, 1);
		put_le(&c, l->laddr, 1);
		put_le(&c, l->flags, 1);
		put_le(&c, (uint32_t)l->ptime, 4);
		put_addr(&c, &l->remote);
		put_str(&c, &l->codecs);
		for (int k = 0; k < 2; k++) {
			const struct ctl_durable_stream *st = &l->st[k];

			put_le(&c, st->id, 4);
			put_le(&c, st->has_id, 1);
			put_le(&c, st->cookie, 8);
			put_addr(&c, &st->latched);
			put_le(&c, st->latched_ssrc, 4);
			put_le(&c, st->pkts_in, 8);
			put_le(&c, st->pkts_relayed, 8);
			put_le(&c, st->pkts_dropped, 8);
		}
	}
	if (!c.ok || c.off != n)
		return -E2BIG;
	return (int)n;
}

/* A leg's values in range? */
static bool
leg_ok(const struct ctl_durable_leg *l)
{
	if (l->flags & ~CTL_DURABLE_LEG_ALL)
		return false;
	if (l->laddr >= CTL_ADDRS_MAX || l->ptime < -1)
		return false;
	if (l->port == 0)
		return l->family == RTPB_AF_NONE || l->family == RTPB_AF_INET ||
		       l->family == RTPB_AF_INET6;
	/* a socket: an even RTP port (RTCP on port + 1), a family */
	if ((l->port & 1) != 0 || l->port == 65534)
		return false;
	return l->family == RTPB_AF_INET || l->family == RTPB_AF_INET6;
}

int
ctl_durable_parse(const void *buf, size_t len, struct ctl_durable *d)
{
	struct cur c = { .r = buf, .len = len, .ok = true };
	const char *magic;
	uint64_t v;

	memset(d, 0, sizeof(*d));
	magic = cur_take(&c, 4);
	if (magic == NULL || memcmp(magic, CTL_DURABLE_MAGIC, 4) != 0)
		return -EINVAL;
	v = get_le(&c, 2);
	if (!c.ok)
		return -EINVAL;
	if (v != CTL_DURABLE_VERSION)
		return -ENOTSUP;
	if (get_le(&c, 2) != len)
		return -EINVAL;
	d->serial = get_le(&c, 8);
	d->owner = (uint32_t)get_le(&c, 4);
	d->flags = (uint8_t)get_le(&c, 1);
	d->created_ns = get_le(&c, 8);
	d->last_ns = get_le(&c, 8);
	d->ttl_ns = get_le(&c, 8);
	get_str(&c, &d->call_id);
	get_str(&c, &d->from_tag);
	get_str(&c, &d->to_tag);
	get_str(&c, &d->notify_tag);
	get_str(&c, &d->notify_name);
	get_addr(&c, &d->notify_src);
	get_addr(&c, &d->notify_local);
	for (int i = 0; i < 2 && c.ok; i++) {
		struct ctl_durable_leg *l = &d->leg[i];

		l->port = (uint16_t)get_le(&c, 2);
		l->family = (uint8_t)get_le(&c, 1);
		l->laddr = (uint8_t)get_le(&c, 1);
		l->flags = (uint8_t)get_le(&c, 1);
		l->ptime = (int32_t)(uint32_t)get_le(&c, 4);
		get_addr(&c, &l->remote);
		get_str(&c, &l->codecs);
		for (int k = 0; k < 2; k++) {
			struct ctl_durable_stream *st = &l->st[k];

			st->id = (uint32_t)get_le(&c, 4);
			v = get_le(&c, 1);
			st->has_id = v == 1;
			if (v > 1)
				c.ok = false;
			st->cookie = get_le(&c, 8);
			get_addr(&c, &st->latched);
			st->latched_ssrc = (uint32_t)get_le(&c, 4);
			st->pkts_in = get_le(&c, 8);
			st->pkts_relayed = get_le(&c, 8);
			st->pkts_dropped = get_le(&c, 8);
		}
		if (c.ok && !leg_ok(l))
			c.ok = false;
	}
	if (!c.ok || c.off != len)
		return -EINVAL;
	if (d->flags & ~CTL_DURABLE_F_ALL)
		return -EINVAL;
	if (d->call_id.len == 0 || d->from_tag.len == 0 || d->serial == 0)
		return -EINVAL;
	if (d->last_ns < d->created_ns)
		return -EINVAL;
	/* an armed notify names its target */
	if ((d->flags & CTL_DURABLE_F_NOTIFY) && d->notify_name.len == 0)
		return -EINVAL;
	return 0;
}

static void
stream_from(const struct ctl_stream *st, uint64_t serial, bool jrestored,
	    struct ctl_durable_stream *o)
{
	o->id = st->id;
	/* restored, not replayed yet: the earlier control's id stays */
	o->has_id = jrestored ? st->id != RTPB_STREAM_NONE : st->has_id;
	o->cookie = st->has_id ? st->sent.cookie : serial;
	if (o->cookie == 0)
		o->cookie = serial;
	o->latched = st->latched;
	o->latched_ssrc = st->latched_ssrc;
	o->pkts_in = st->past.pkts_in;
	o->pkts_relayed = st->past.pkts_relayed;
	o->pkts_dropped = st->past.pkts_dropped;
}

static void
str_from(const char *s, struct ctl_durable_str *o)
{
	size_t n = s != NULL ? strlen(s) : 0;

	o->p = n > 0 ? s : NULL;
	/* too long for the format: ctl_durable_size() then says 0 */
	o->len = n <= UINT16_MAX ? (uint16_t)n : UINT16_MAX;
}

void
ctl_durable_from_session(const struct ctl_session *s, struct ctl_durable *d)
{
	memset(d, 0, sizeof(*d));
	d->serial = s->serial;
	d->owner = s->owner;
	d->flags = (s->strong ? CTL_DURABLE_F_STRONG : 0) |
		   (s->complete ? CTL_DURABLE_F_COMPLETE : 0) |
		   (s->notify_target >= 0 ? CTL_DURABLE_F_NOTIFY : 0);
	d->created_ns = s->created_ns;
	d->last_ns = s->last_ns > s->created_ns ? s->last_ns : s->created_ns;
	d->ttl_ns = s->ttl_ns;
	str_from(s->call_id, &d->call_id);
	str_from(s->from_tag, &d->from_tag);
	str_from(s->notify_tag, &d->notify_tag);
	for (int i = 0; i < 2; i++) {
		const struct ctl_leg *l = &s->leg[i];
		struct ctl_durable_leg *o = &d->leg[i];

		o->port = l->sock.port;
		o->family = l->sock.family;
		o->laddr = l->sock.laddr;
		o->flags = (l->pinned ? CTL_DURABLE_LEG_PINNED : 0) |
			   (l->has_remote ? CTL_DURABLE_LEG_HAS_REMOTE : 0) |
			   (l->onhold ? CTL_DURABLE_LEG_ONHOLD : 0) |
			   (l->asymmetric ? CTL_DURABLE_LEG_ASYMMETRIC : 0) |
			   (l->weak ? CTL_DURABLE_LEG_WEAK : 0);
		o->ptime = l->ptime;
		o->remote = l->remote;
		str_from(l->codecs, &o->codecs);
		stream_from(&l->sock.rtp, s->serial, s->jrestored, &o->st[0]);
		stream_from(&l->sock.rtcp, s->serial, s->jrestored, &o->st[1]);
	}
}
