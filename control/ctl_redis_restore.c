/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_redis_restore.c: a standby's takeover of another relay's sessions
 * from Redis (ctl_redis_restore(), ctl_redis.h, docs/REDIS.md): a
 * blocking hiredis connection of its own, every socket wait bounded by
 * what is left of the caller's timeout, the index read (SMEMBERS), the
 * records fetched RESTORE_BATCH GETs per pipeline, each restored into
 * the session table by ctl_sessions_restore_durable(). Used once, at
 * takeover: the loop waits for it.
 *
 * Control's thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "ctl_durable.h"
#include "ctl_log.h"
#include "ctl_redis.h"
#include "ctl_redis_pvt.h"
#include "ctl_session.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
/* GETs per pipelined batch. */
#define RESTORE_BATCH 256u

/* PREFIX:RELAY:s:MEMBER (a SERIAL of the index). */
static void
member_key(const struct ctl_redis *r, const char *relay, const char *m,
	   char *k)
{
	char what[40];

	snprintf(what, sizeof(what), "s:%.32s", m);
	ctl_redis_key(r, relay, what, k);
}

/* Socket timeouts to what is left until end; false when nothing is. */
static bool
time_left(redisContext *c, uint64_t end)
{
	uint64_t now = ctl_redis_mono_ns(), left;
	struct timeval tv;

	if (now >= end)
		return false;
	left = end - now;
	tv.tv_sec = (time_t)(left / NS_PER_S);
	tv.tv_usec = (suseconds_t)(left % NS_PER_S / 1000);
	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec = 1;
	return redisSetTimeout(c, tv) == REDIS_OK;
}

/* A blocking command; NULL on error (logged). */
static redisReply *
cmd(redisContext *c, const char *what, int argc, const char **argv)
{
	redisReply *rep = redisCommandArgv(c, argc, argv, NULL);

	if (rep == NULL) {
		ctl_log(CTL_LOG_ERR, "redis restore: %s: %s", what, c->errstr);
		return NULL;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		ctl_log(CTL_LOG_ERR, "redis restore: %s: %.*s", what,
			(int)rep->len, rep->str);
		freeReplyObject(rep);
		return NULL;
	}
	return rep;
}

/* Restore one GET reply (member m of the index). */
static void
restore_one(struct ctl_sessions *t, const redisReply *rep, const char *m,
	    uint64_t now_ns, struct ctl_redis_restore_stats *st)
{
	struct ctl_durable d;
	char why[160], id[256];
	int rc;

	if (rep->type != REDIS_REPLY_STRING) {
		ctl_log(CTL_LOG_WARN, "redis restore: session %s: no record "
			"(expired)", m);
		st->dropped++;
		return;
	}
	rc = ctl_sessions_restore_durable(t, rep->str, rep->len, now_ns, why,
					  sizeof(why));
	if (rc == 0) {
		st->restored++;
		return;
	}
	if (ctl_durable_parse(rep->str, rep->len, &d) == 0)
		snprintf(id, sizeof(id), "%.*s", (int)d.call_id.len,
			 d.call_id.p);
	else
		snprintf(id, sizeof(id), "serial %s", m);
	if (rc == -EEXIST) {
		st->present++;
		return;
	}
	ctl_log_call(CTL_LOG_WARN, id, "redis restore: session not restored: "
		     "%s", why);
	st->dropped++;
}

/* GET every member's key, RESTORE_BATCH per pipeline. */
static int
restore_members(struct ctl_redis *r, redisContext *c, struct ctl_sessions *t,
		const char *relay, const redisReply *mem, uint64_t end,
		uint64_t now_ns, struct ctl_redis_restore_stats *st)
{
	char k[CTL_REDIS_KEY_MAX];

	for (size_t i = 0; i < mem->elements; i += RESTORE_BATCH) {
		size_t n = mem->elements - i < RESTORE_BATCH ?
			   mem->elements - i : RESTORE_BATCH;

		if (!time_left(c, end))
			return -ETIMEDOUT;
		for (size_t j = 0; j < n; j++) {
			const char *argv[2] = {"GET", k};

			member_key(r, relay, mem->element[i + j]->str, k);
			redisAppendCommandArgv(c, 2, argv, NULL);
		}
		for (size_t j = 0; j < n; j++) {
			void *rep;

			if (redisGetReply(c, &rep) != REDIS_OK) {
				ctl_log(CTL_LOG_ERR, "redis restore: GET: %s",
					c->errstr);
				return c->err == REDIS_ERR_IO &&
				       (errno == EAGAIN || errno == EWOULDBLOCK) ?
				       -ETIMEDOUT : -EIO;
			}
			restore_one(t, rep, mem->element[i + j]->str, now_ns,
				    st);
			freeReplyObject(rep);
		}
	}
	return 0;
}

/* Delete the source's keys (CTL_REDIS_RESTORE_TAKE). */
static void
restore_take(struct ctl_redis *r, redisContext *c, const char *relay,
	     const redisReply *mem, uint64_t end)
{
	char k[CTL_REDIS_KEY_MAX];
	size_t sent = 0;

	for (size_t i = 0; i < mem->elements && time_left(c, end); i++) {
		const char *argv[2] = {"DEL", k};

		member_key(r, relay, mem->element[i]->str, k);
		redisAppendCommandArgv(c, 2, argv, NULL);
		sent++;
	}
	for (int i = 0; i < 2; i++) {
		const char *argv[2] = {"DEL", k};

		ctl_redis_key(r, relay, i == 0 ? "idx" : "meta", k);
		redisAppendCommandArgv(c, 2, argv, NULL);
		sent++;
	}
	for (size_t i = 0; i < sent; i++) {
		void *rep;

		if (redisGetReply(c, &rep) != REDIS_OK)
			return;
		freeReplyObject(rep);
	}
}

int
ctl_redis_restore(struct ctl_redis *r, struct ctl_sessions *t,
		  const char *relay_id, uint32_t timeout_ms, unsigned flags,
		  uint64_t now_ns, struct ctl_redis_restore_stats *st)
{
	struct ctl_redis_restore_stats dummy;
	uint64_t t0 = ctl_redis_mono_ns(), end = t0 + (uint64_t)timeout_ms * NS_PER_MS;
	struct timeval tv = {.tv_sec = timeout_ms / 1000,
			     .tv_usec = (timeout_ms % 1000) * 1000};
	const struct ctl_redis_addr *a = ctl_redis_addr_of(r);
	redisContext *c;
	redisReply *mem;
	char k[CTL_REDIS_KEY_MAX], db[16];
	int rc = 0;

	if (st == NULL)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	if (!ctl_redis_id_ok(relay_id))
		return -EINVAL;
	c = a->unix_sock ?
	    redisConnectUnixWithTimeout(a->host, tv) :
	    redisConnectWithTimeout(a->host, a->port, tv);
	if (c == NULL || c->err) {
		ctl_log(CTL_LOG_ERR, "redis restore: connect %s: %s",
			a->text, c != NULL ? c->errstr : "out of memory");
		redisFree(c);
		return -ECONNREFUSED;
	}
	if (!time_left(c, end)) {
		rc = -ETIMEDOUT;
		goto out;
	}
	if (a->db != 0) {
		const char *argv[2] = {"SELECT", db};
		redisReply *rep;

		snprintf(db, sizeof(db), "%u", a->db);
		if ((rep = cmd(c, "SELECT", 2, argv)) == NULL) {
			rc = -EIO;
			goto out;
		}
		freeReplyObject(rep);
	}
	ctl_redis_key(r, relay_id, "idx", k);
	{
		const char *argv[2] = {"SMEMBERS", k};

		mem = cmd(c, "SMEMBERS", 2, argv);
	}
	if (mem == NULL || mem->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(mem);
		rc = -EIO;
		goto out;
	}
	st->found = (uint32_t)mem->elements;
	rc = restore_members(r, c, t, relay_id, mem, end, now_ns, st);
	if (rc == 0 && (flags & CTL_REDIS_RESTORE_TAKE) &&
	    strcmp(relay_id, ctl_redis_relay_id(r)) != 0)
		restore_take(r, c, relay_id, mem, end);
	freeReplyObject(mem);
out:
	redisFree(c);
	st->elapsed_ns = ctl_redis_mono_ns() - t0;
	ctl_log(rc == 0 ? CTL_LOG_INFO : CTL_LOG_ERR, "redis restore from '%s': "
		"%u sessions found, %u restored, %u already here, %u dropped, "
		"in %llu ms%s", relay_id, st->found, st->restored, st->present,
		st->dropped, (unsigned long long)(st->elapsed_ns / NS_PER_MS),
		rc == -ETIMEDOUT ? " (timed out)" : "");
	return rc != 0 ? rc : (int)st->restored;
}
