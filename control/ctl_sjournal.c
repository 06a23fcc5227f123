/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_sjournal.c: the session table's journal writer (DESIGN.md §2,
 * issue 16 item 2). Each live session owns one slot of cfg.journal
 * (ctl_journal.h) holding its ctl_durable record, rewritten whenever its
 * durable state changes (U/L, latch event, S ttl=, notify armed, a D that
 * leaves it alive, a dataplane attached or lost) and freed when it ends
 * (D, X, timeout). Never per packet. A session whose record does not fit
 * a slot (a huge call-id) is not journalled: counted and logged once.
 * ctl_sessions_abandon() (--keep-on-exit) leaves the slots for the next
 * control.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl_durable.h"
#include "ctl_journal.h"
#include "ctl_log.h"
#include "ctl_session_pvt.h"

/* Call-id bytes a log line shows. */
#define CTL_DURABLE_LOG_ID 256

/* A socket address as a durable address (family NONE: not IP). */
static void
sa_to_addr(const struct sockaddr *sa, struct rtpb_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		a->family = RTPB_AF_INET;
		a->port = in->sin_port;
		memcpy(a->ip, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		a->family = RTPB_AF_INET6;
		a->port = in6->sin6_port;
		memcpy(a->ip, &in6->sin6_addr, 16);
	}
}

int
ctl_session_set_notify_origin(struct ctl_sessions *t, struct ctl_session *s,
			      const char *name, const struct sockaddr *src,
			      const struct sockaddr *local)
{
	char *copy = strdup(name != NULL ? name : "");

	if (copy == NULL)
		return -ENOMEM;
	free(s->notify_name);
	s->notify_name = copy;
	sa_to_addr(src, &s->notify_src);
	sa_to_addr(local, &s->notify_local);
	ctl_sjournal_put(t, s);
	return 0;
}

/* s is not journalled: counted and logged once per session. */
static void
skip(struct ctl_sessions *t, struct ctl_session *s, const char *why)
{
	if (s->jskip)
		return;
	s->jskip = true;
	t->c.journal_skipped++;
	ctl_log_call(CTL_LOG_WARN, s->call_id, "%s: the session will not "
		     "survive a control restart", why);
}

void
ctl_sjournal_put(struct ctl_sessions *t, struct ctl_session *s)
{
	uint8_t rec[CTL_JOURNAL_PAYLOAD];
	struct ctl_durable d;
	int n, slot;

	if (t->cfg.journal == NULL || s->serial == 0)
		return;
	ctl_durable_from_session(s, &d);
	if (s->notify_target >= 0 && s->notify_name != NULL) {
		d.notify_name.p = s->notify_name;
		d.notify_name.len = (uint16_t)strnlen(s->notify_name, 256);
		d.notify_src = s->notify_src;
		d.notify_local = s->notify_local;
	} else {
		d.flags &= (uint8_t)~CTL_DURABLE_F_NOTIFY;
	}
	n = ctl_durable_write(&d, rec, sizeof(rec));
	if (n < 0) {
		skip(t, s, "session too large for the journal");
		ctl_sjournal_drop(t, s);
		return;
	}
	if (s->jslot < 0) {
		slot = ctl_journal_alloc(t->cfg.journal);
		if (slot < 0) {
			skip(t, s, "journal full");
			return;
		}
		s->jslot = slot;
	}
	if (ctl_journal_put(t->cfg.journal, (uint32_t)s->jslot, rec,
			    (size_t)n) == 0)
		t->c.journal_writes++;
}

void
ctl_sjournal_drop(struct ctl_sessions *t, struct ctl_session *s)
{
	if (s->jslot < 0 || t->cfg.journal == NULL)
		return;
	/* --keep-on-exit: the next control reads it back */
	if (!t->abandon)
		ctl_journal_free(t->cfg.journal, (uint32_t)s->jslot);
	s->jslot = -1;
}

void
ctl_sjournal_put_all(struct ctl_sessions *t)
{
	GHashTableIter it;
	gpointer v;

	if (t->cfg.journal == NULL)
		return;
	g_hash_table_iter_init(&it, t->by_serial);
	while (g_hash_table_iter_next(&it, NULL, &v))
		ctl_sjournal_put(t, v);
}

/* ctl_journal_load() callback: log the record's call-id, clear it. */
static int
journal_drop_rec(uint32_t slot, const void *rec, size_t len, void *arg)
{
	struct ctl_durable d;
	char id[CTL_DURABLE_LOG_ID];
	uint32_t *n = arg;

	(*n)++;
	if (ctl_durable_parse(rec, len, &d) != 0) {
		ctl_log(CTL_LOG_WARN, "journal: slot %u: unreadable record "
			"dropped", slot);
		return 1;
	}
	snprintf(id, sizeof(id), "%.*s", (int)d.call_id.len, d.call_id.p);
	ctl_log_call(CTL_LOG_WARN, id, "journal: session of an earlier "
		     "control not restored (ports %u/%u): its streams are "
		     "kept as orphans", d.leg[0].port, d.leg[1].port);
	return 1;
}

uint32_t
ctl_sessions_journal_load(struct ctl_sessions *t)
{
	uint32_t n = 0, bad = 0;

	if (t->cfg.journal == NULL)
		return 0;
	ctl_journal_load(t->cfg.journal, journal_drop_rec, &n, &bad);
	if (n > 0 || bad > 0)
		ctl_log(CTL_LOG_INFO, "journal: %u records of an earlier "
			"control, %u torn or corrupt slots", n, bad);
	return n;
}
