/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_durable: a session's durable record (control/ctl_durable.h):
 * a full session round-trips field by field; every truncation, every
 * single-byte corruption of a range-checked field, trailing bytes, a
 * wrong length or version, and an oversized session are refused without
 * reading past the buffer (the record is placed at the end of a page
 * followed by a guard page for the truncation sweep).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "ctl_durable.h"
#include "ctl_journal.h"

/* An address of either family: IPv6 when ip holds a ':'. */
static void
addr(struct rtpb_addr *a, const char *ip, uint16_t port)
{
	bool v6 = strchr(ip, ':') != NULL;

	memset(a, 0, sizeof(*a));
	a->family = v6 ? RTPB_AF_INET6 : RTPB_AF_INET;
	a->port = htons(port);
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, ip, a->ip), 1);
}

static struct ctl_durable_str
s_(const char *p)
{
	return (struct ctl_durable_str){ .p = p, .len = (uint16_t)strlen(p) };
}

/* A session with every field set to something distinct. */
static void
full(struct ctl_durable *d)
{
	memset(d, 0, sizeof(*d));
	d->serial = 0x0102030405060708ull;
	d->owner = 3;
	d->flags = CTL_DURABLE_F_STRONG | CTL_DURABLE_F_COMPLETE |
		   CTL_DURABLE_F_NOTIFY;
	d->created_ns = 1000000000123ull;
	d->last_ns = 1000000999123ull;
	d->ttl_ns = 17000000000ull;
	d->call_id = s_("a84b4c76e66710@pc33.example.com");
	d->from_tag = s_("1928301774;1");
	d->to_tag = s_("314159");
	d->notify_tag = s_("dlg 42:7");
	d->notify_name = s_("tcp:%%CC_SELF%%:5060");
	addr(&d->notify_src, "192.0.2.10", 40000);
	addr(&d->notify_local, "192.0.2.1", 22222);
	for (int i = 0; i < 2; i++) {
		struct ctl_durable_leg *l = &d->leg[i];

		l->port = (uint16_t)(30000 + 2 * i);
		l->family = i == 0 ? RTPB_AF_INET : RTPB_AF_INET6;
		l->laddr = (uint8_t)(i + 1);
		l->flags = i == 0 ? (CTL_DURABLE_LEG_PINNED |
				     CTL_DURABLE_LEG_HAS_REMOTE |
				     CTL_DURABLE_LEG_WEAK) :
				    (CTL_DURABLE_LEG_HAS_REMOTE |
				     CTL_DURABLE_LEG_ONHOLD |
				     CTL_DURABLE_LEG_ASYMMETRIC);
		l->ptime = i == 0 ? 20 : -1;
		if (i == 0)
			addr(&l->remote, "198.51.100.7", 4000);
		else
			addr(&l->remote, "2001:db8::7", 4002);
		l->codecs = i == 0 ? s_("0,8,101") : (struct ctl_durable_str){ 0 };
		for (int k = 0; k < 2; k++) {
			struct ctl_durable_stream *st = &l->st[k];

			st->id = (uint32_t)(100 + 10 * i + k);
			st->has_id = true;
			st->cookie = d->serial;
			if (i == 0)
				addr(&st->latched, "203.0.113.5",
				      (uint16_t)(5000 + k));
			else
				addr(&st->latched, "2001:db8::99",
				      (uint16_t)(6000 + k));
			st->latched_ssrc = 0xdeadbe00u + (uint32_t)k;
			st->pkts_in = 1000u + (uint64_t)i * 7 + (uint64_t)k;
			st->pkts_relayed = 900u + (uint64_t)k;
			st->pkts_dropped = 3u + (uint64_t)i;
		}
	}
}

static void
str_eq(const struct ctl_durable_str *a, const struct ctl_durable_str *b)
{
	assert_int_equal(a->len, b->len);
	if (a->len > 0)
		assert_memory_equal(a->p, b->p, a->len);
}

static void
addr_eq(const struct rtpb_addr *a, const struct rtpb_addr *b)
{
	assert_memory_equal(a, b, sizeof(*a));
}

static void
durable_eq(const struct ctl_durable *a, const struct ctl_durable *b)
{
	assert_true(a->serial == b->serial);
	assert_int_equal(a->owner, b->owner);
	assert_int_equal(a->flags, b->flags);
	assert_true(a->created_ns == b->created_ns);
	assert_true(a->last_ns == b->last_ns);
	assert_true(a->ttl_ns == b->ttl_ns);
	str_eq(&a->call_id, &b->call_id);
	str_eq(&a->from_tag, &b->from_tag);
	str_eq(&a->to_tag, &b->to_tag);
	str_eq(&a->notify_tag, &b->notify_tag);
	str_eq(&a->notify_name, &b->notify_name);
	addr_eq(&a->notify_src, &b->notify_src);
	addr_eq(&a->notify_local, &b->notify_local);
	for (int i = 0; i < 2; i++) {
		const struct ctl_durable_leg *x = &a->leg[i], *y = &b->leg[i];

		assert_int_equal(x->port, y->port);
		assert_int_equal(x->family, y->family);
		assert_int_equal(x->laddr, y->laddr);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->ptime, y->ptime);
		addr_eq(&x->remote, &y->remote);
		str_eq(&x->codecs, &y->codecs);
		for (int k = 0; k < 2; k++) {
			const struct ctl_durable_stream *p = &x->st[k];
			const struct ctl_durable_stream *q = &y->st[k];

			assert_int_equal(p->id, q->id);
			assert_int_equal(p->has_id, q->has_id);
			assert_true(p->cookie == q->cookie);
			addr_eq(&p->latched, &q->latched);
			assert_int_equal(p->latched_ssrc, q->latched_ssrc);
			assert_true(p->pkts_in == q->pkts_in);
			assert_true(p->pkts_relayed == q->pkts_relayed);
			assert_true(p->pkts_dropped == q->pkts_dropped);
		}
	}
}

static void
test_round_trip(void **state)
{
	struct ctl_durable d, e;
	uint8_t buf[CTL_JOURNAL_PAYLOAD];
	int n;

	(void)state;
	full(&d);
	n = ctl_durable_write(&d, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, ctl_durable_size(&d));
	/* a full session fits a journal slot with room to spare */
	assert_true((size_t)n < CTL_JOURNAL_PAYLOAD / 2);
	assert_int_equal(ctl_durable_parse(buf, (size_t)n, &e), 0);
	durable_eq(&d, &e);
	/* the strings point into the record */
	assert_true((const uint8_t *)e.call_id.p > buf &&
		    (const uint8_t *)e.call_id.p < buf + n);

	/* a minimal one: no legs open, no notify, empty strings */
	memset(&d, 0, sizeof(d));
	d.serial = 1;
	d.call_id = s_("c");
	d.from_tag = s_("f");
	d.leg[0].ptime = d.leg[1].ptime = -1;
	n = ctl_durable_write(&d, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ctl_durable_parse(buf, (size_t)n, &e), 0);
	durable_eq(&d, &e);
	assert_null(e.to_tag.p);
	assert_null(e.leg[1].codecs.p);
}

/* Every strict prefix, read from the end of a page before a guard page:
 * refused, and no read past the buffer (ASan or a SIGSEGV would say). */
static void
test_truncated(void **state)
{
	struct ctl_durable d, e;
	uint8_t buf[CTL_JOURNAL_PAYLOAD];
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *map;
	int n;

	(void)state;
	full(&d);
	n = ctl_durable_write(&d, buf, sizeof(buf));
	assert_true(n > 0 && n < pg);
	map = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + pg, (size_t)pg, PROT_NONE), 0);
	for (int len = 0; len < n; len++) {
		uint8_t *p = map + pg - len;

		memcpy(p, buf, (size_t)len);
		assert_int_equal(ctl_durable_parse(p, (size_t)len, &e),
				 -EINVAL);
		/* and with the length field claiming the prefix's length */
		if (len >= 8) {
			p[6] = (uint8_t)len;
			p[7] = (uint8_t)(len >> 8);
			assert_int_equal(ctl_durable_parse(p, (size_t)len, &e),
					 -EINVAL);
		}
	}
	/* the whole record at the page's end parses */
	memcpy(map + pg - n, buf, (size_t)n);
	assert_int_equal(ctl_durable_parse(map + pg - n, (size_t)n, &e), 0);
	munmap(map, 2 * (size_t)pg);
}

/* Flip each byte of the record in turn: the parse never crashes, and a
 * corruption it accepts still gives a view that writes back to exactly
 * the corrupted bytes (it was read as a valid record, nothing lost). */
static void
test_corrupt_sweep(void **state)
{
	struct ctl_durable d, e;
	uint8_t buf[CTL_JOURNAL_PAYLOAD], bad[CTL_JOURNAL_PAYLOAD];
	uint8_t again[CTL_JOURNAL_PAYLOAD];
	int n, refused = 0;

	(void)state;
	full(&d);
	n = ctl_durable_write(&d, buf, sizeof(buf));
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		static const uint8_t flips[] = { 0x01, 0x80, 0xff };

		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(bad, buf, (size_t)n);
			bad[i] ^= flips[f];
			if (ctl_durable_parse(bad, (size_t)n, &e) != 0) {
				refused++;
				continue;
			}
			assert_int_equal(ctl_durable_write(&e, again,
							   sizeof(again)), n);
			assert_memory_equal(again, bad, (size_t)n);
		}
	}
	/* magic, version, length, string lengths, flags are all checked */
	assert_true(refused > 40);
}

static void
test_refused(void **state)
{
	struct ctl_durable d, e;
	uint8_t buf[CTL_JOURNAL_PAYLOAD + 16];
	int n;

	(void)state;
	full(&d);
	n = ctl_durable_write(&d, buf, sizeof(buf));
	assert_true(n > 0);

	/* trailing bytes */
	buf[n] = 0;
	assert_int_equal(ctl_durable_parse(buf, (size_t)n + 1, &e), -EINVAL);
	/* another version */
	buf[4] = 2;
	assert_int_equal(ctl_durable_parse(buf, (size_t)n, &e), -ENOTSUP);
	buf[4] = 1;
	/* magic */
	buf[0] = 'X';
	assert_int_equal(ctl_durable_parse(buf, (size_t)n, &e), -EINVAL);
	buf[0] = 'R';
	assert_int_equal(ctl_durable_parse(buf, (size_t)n, &e), 0);
	assert_int_equal(ctl_durable_parse(NULL, 0, &e), -EINVAL);

	/* values out of range, each written by a writer that does not check */
	struct ctl_durable bad;
#define REFUSE(stmt)                                                      \
	do {                                                              \
		bad = d;                                                  \
		stmt;                                                     \
		n = ctl_durable_write(&bad, buf, sizeof(buf));            \
		assert_true(n > 0);                                       \
		assert_int_equal(ctl_durable_parse(buf, (size_t)n, &e),   \
				 -EINVAL);                                \
	} while (0)
	REFUSE(bad.leg[0].port = 30001);          /* odd RTP port */
	REFUSE(bad.leg[1].port = 65534);          /* no room for RTCP */
	REFUSE(bad.leg[0].family = 5);
	REFUSE(bad.leg[0].laddr = 200);
	REFUSE(bad.leg[0].flags = 0x80);
	REFUSE(bad.leg[0].ptime = -2);
	REFUSE(bad.flags = 0x40);
	REFUSE(bad.call_id = s_(""));
	REFUSE(bad.from_tag = s_(""));
	REFUSE(bad.serial = 0);
	REFUSE(bad.last_ns = bad.created_ns - 1);
	REFUSE(bad.notify_name = s_(""));
	REFUSE(bad.leg[1].remote.family = 9);
	REFUSE(bad.leg[0].st[1].latched.ip[15] = 1); /* IPv4 with junk */
	REFUSE(bad.call_id = ((struct ctl_durable_str){ "a\0b", 3 }));
#undef REFUSE
}

/* A session too large for a slot: ctl_durable_write() says so, and a
 * call-id over 64 KiB cannot even be sized. */
static void
test_oversized(void **state)
{
	struct ctl_durable d;
	uint8_t buf[CTL_JOURNAL_PAYLOAD];
	char *big = malloc(70000);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 70000);
	full(&d);
	d.call_id = (struct ctl_durable_str){ big, CTL_JOURNAL_PAYLOAD };
	assert_true(ctl_durable_size(&d) > CTL_JOURNAL_PAYLOAD);
	assert_int_equal(ctl_durable_write(&d, buf, sizeof(buf)), -E2BIG);
	d.call_id = (struct ctl_durable_str){ big, 65535 };
	assert_int_equal(ctl_durable_size(&d), 0);
	assert_int_equal(ctl_durable_write(&d, buf, sizeof(buf)), -E2BIG);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt_sweep),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_oversized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
