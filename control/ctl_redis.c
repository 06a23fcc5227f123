/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_redis.c: control's session state in Redis (ctl_redis.h,
 * docs/REDIS.md). The session table tells this module each session's
 * newest ctl_durable record and each session's end
 * (struct ctl_session_store); the module keeps one entry per live
 * session (its pending record, if any, and when its key's TTL was set)
 * and writes through a hiredis asynchronous context driven from
 * control's loop by ctl_redis_run(): no thread, and no call that waits
 * on Redis, on the command path.
 *
 * The restore (ctl_redis_restore()) is ctl_redis_restore.c.
 *
 * State: DOWN (waiting for the next try, backoff), CONNECTING, RESYNC
 * (the index asked for, the reply decides which keys to delete), UP.
 * Changes are queued only in RESYNC and UP; in DOWN they are counted as
 * drops and the resync that follows every connection covers them.
 *
 * Control's thread only.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "ctl_log.h"
#include "ctl_redis.h"
#include "ctl_redis_pvt.h"
#include "ctl_session.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
/* Reconnection backoff, doubling between these. */
#define BACKOFF_MIN_NS (100 * NS_PER_MS)
#define BACKOFF_MAX_NS (5 * NS_PER_S)
/* A connection not established by then is abandoned. */
#define CONNECT_TIMEOUT_NS (2 * NS_PER_S)
/* Commands in flight at most; the rest waits (coalescing). */
#define INFLIGHT_MAX 4096u
/* No reply for this long while some are due: the server is hung. */
#define REPLY_TIMEOUT_NS (5 * NS_PER_S)
/* TTL refreshes looked at once per this period. */
#define REFRESH_PERIOD_NS NS_PER_S

enum rstate { ST_DOWN, ST_CONNECTING, ST_RESYNC, ST_UP };

/* One live session, as this module knows it. */
struct entry {
	uint64_t serial;
	uint8_t *rec;        /* the newest record not written yet, or NULL */
	uint32_t len;
	uint32_t ttl_s;      /* EX of the newest record */
	uint64_t set_ns;     /* when its key's TTL was last set */
	bool indexed;        /* its serial was added to the index */
	bool queued;         /* on r->dirty */
};

struct ctl_redis {
	struct ctl_redis_addr addr;
	char prefix[CTL_REDIS_ID_MAX + 1];
	char relay[CTL_REDIS_ID_MAX + 1];
	uint32_t queue_max;
	struct ctl_sessions *t;   /* NULL once closing */
	redisAsyncContext *ac;
	bool want_write;          /* hiredis has output buffered */
	enum rstate st;
	uint64_t now_ns;
	uint64_t next_try_ns;
	uint64_t backoff_ns;
	uint64_t conn_ns;         /* when the current try started */
	uint64_t progress_ns;     /* the last reply read */
	uint64_t refresh_ns;      /* the last TTL refresh pass */
	bool resync;              /* changes were dropped: rewrite all */
	bool restoring;           /* a resync's store_all: no bound */
	bool logged_down;         /* the loss was logged */
	GHashTable *live;         /* uint64_t serial -> struct entry */
	GQueue dirty;             /* entries with a record to write */
	GQueue dels;              /* uint64_t * serials to delete */
	struct ctl_redis_counters c;
};

/* ---- addresses and names ---- */

bool
ctl_redis_id_ok(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	if (n == 0 || n > CTL_REDIS_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(id[i]) && id[i] != '.' && id[i] != '_' &&
		    id[i] != '-')
			return false;
	return true;
}

/* "/DB" at the end of s (from *end back), 0..2^31; *end moved before it. */
static int
parse_db(const char *s, size_t *end, uint32_t *db)
{
	const char *slash = memrchr(s, '/', *end);
	char *e;
	unsigned long v;

	*db = 0;
	if (slash == NULL)
		return 0;
	errno = 0;
	v = strtoul(slash + 1, &e, 10);
	if (e != s + *end || slash[1] == '\0' || errno != 0 || v > INT32_MAX)
		return -EINVAL;
	*db = (uint32_t)v;
	*end = (size_t)(slash - s);
	return 0;
}

int
ctl_redis_parse_addr(const char *s, struct ctl_redis_addr *out, char *err,
		     size_t errsz)
{
	size_t end, hlen;
	const char *colon, *host = s;
	char *e;
	unsigned long port;

	if (s == NULL) { /* and gcc then knows s is not (-Wformat-truncation) */
		snprintf(err, errsz, "no Redis address");
		return -EINVAL;
	}
	end = strlen(s);
	memset(out, 0, sizeof(*out));
	snprintf(out->text, sizeof(out->text), "%s", s);
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] == '\0' || end - 5 >= sizeof(out->host)) {
			snprintf(err, errsz, "'%s': unix:PATH, a path of 1 to "
				 "%zu bytes", s, sizeof(out->host) - 1);
			return -EINVAL;
		}
		out->unix_sock = true;
		memcpy(out->host, s + 5, end - 5);
		return 0;
	}
	if (parse_db(s, &end, &out->db) != 0) {
		snprintf(err, errsz, "'%s': bad database number after '/'", s);
		return -EINVAL;
	}
	colon = memrchr(s, ':', end);
	if (colon == NULL || colon == s) {
		snprintf(err, errsz, "'%s': HOST:PORT[/DB] or unix:PATH", s);
		return -EINVAL;
	}
	hlen = (size_t)(colon - s);
	if (s[0] == '[') { /* [IPV6]:PORT */
		if (hlen < 3 || s[hlen - 1] != ']') {
			snprintf(err, errsz, "'%s': [IPV6]:PORT", s);
			return -EINVAL;
		}
		host = s + 1;
		hlen -= 2;
	}
	errno = 0;
	port = strtoul(colon + 1, &e, 10);
	if (e != s + end || colon[1] == '\0' || errno != 0 || port == 0 ||
	    port > 65535) {
		snprintf(err, errsz, "'%s': port must be 1..65535", s);
		return -EINVAL;
	}
	if (hlen == 0 || hlen >= sizeof(out->host)) {
		snprintf(err, errsz, "'%s': bad host", s);
		return -EINVAL;
	}
	memcpy(out->host, host, hlen);
	out->port = (uint16_t)port;
	return 0;
}

void
ctl_redis_key(const struct ctl_redis *r, const char *relay, const char *what,
	      char *k)
{
	snprintf(k, CTL_REDIS_KEY_MAX, "%s:%s:%s", r->prefix, relay, what);
}

/* PREFIX:RELAY:s:SERIAL */
static void
key_session(const struct ctl_redis *r, const char *relay, uint64_t serial,
	    char *k)
{
	char what[32];

	snprintf(what, sizeof(what), "s:%llu", (unsigned long long)serial);
	ctl_redis_key(r, relay, what, k);
}

static void
key_index(const struct ctl_redis *r, const char *relay, char *k)
{
	ctl_redis_key(r, relay, "idx", k);
}

static void
key_meta(const struct ctl_redis *r, const char *relay, char *k)
{
	ctl_redis_key(r, relay, "meta", k);
}

/* The key EX for a session whose TTL limit is ttl_ns. */
static uint32_t
key_ttl_s(uint64_t ttl_ns)
{
	uint64_t s = (ttl_ns + NS_PER_S - 1) / NS_PER_S;

	if (s == 0)
		s = 60;
	if (s > UINT32_MAX / 2)
		s = UINT32_MAX / 2;
	return (uint32_t)s + CTL_REDIS_TTL_MARGIN_S;
}

/* ---- the asynchronous connection ---- */

static void
ev_add_write(void *arg)
{
	((struct ctl_redis *)arg)->want_write = true;
}

static void
ev_del_write(void *arg)
{
	((struct ctl_redis *)arg)->want_write = false;
}

static void
ev_nop(void *arg)
{
	(void)arg;
}

/* The connection is gone (hiredis frees it): retry after the backoff. */
static void
went_down(struct ctl_redis *r, const char *why)
{
	bool was_up = r->st == ST_UP || r->st == ST_RESYNC;

	r->ac = NULL;
	r->want_write = false;
	r->st = ST_DOWN;
	r->c.connected = false;
	r->next_try_ns = r->now_ns + r->backoff_ns;
	r->backoff_ns = r->backoff_ns * 2 > BACKOFF_MAX_NS ?
			BACKOFF_MAX_NS : r->backoff_ns * 2;
	/* what waited is rewritten by the next resync */
	r->c.drops += r->c.pending + g_queue_get_length(&r->dels);
	while (g_queue_pop_head(&r->dirty) != NULL)
		;
	g_queue_free_full(g_queue_copy(&r->dels), g_free);
	g_queue_clear(&r->dels);
	{
		GHashTableIter it;
		gpointer v;

		g_hash_table_iter_init(&it, r->live);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			struct entry *e = v;

			g_free(e->rec);
			e->rec = NULL;
			e->queued = false;
		}
	}
	r->c.pending = 0;
	if (was_up || !r->logged_down)
		ctl_log(CTL_LOG_WARN, "redis %s: %s; session changes are "
			"counted as drops and rewritten when it is back",
			r->addr.text, why);
	r->logged_down = true;
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct ctl_redis *r = ac->data;

	if (status != REDIS_OK) {
		r->c.errors++;
		went_down(r, ac->errstr[0] ? ac->errstr : "connect failed");
	}
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct ctl_redis *r = ac->data;

	if (status != REDIS_OK)
		r->c.errors++;
	if (r->ac != NULL)
		went_down(r, status == REDIS_OK ? "disconnected" :
			  (ac->errstr[0] ? ac->errstr : "connection lost"));
}

/* Reply of any write: counted, errors logged once per burst. */
static void
on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ctl_redis *r = ac->data;
	redisReply *rep = reply;

	(void)priv;
	if (r->c.inflight > 0)
		r->c.inflight--;
	if (rep == NULL)
		return; /* the connection went: counted by went_down() */
	r->progress_ns = r->now_ns;
	if (rep->type == REDIS_REPLY_ERROR) {
		if (r->c.errors++ == 0 || r->c.errors % 1000 == 0)
			ctl_log(CTL_LOG_WARN, "redis %s: error reply: %.*s "
				"(%llu errors)", r->addr.text, (int)rep->len,
				rep->str, (unsigned long long)r->c.errors);
	}
}

/* Send one command (argv); counted in flight. */
static int
send_argv(struct ctl_redis *r, int argc, const char **argv, const size_t *len,
	  redisCallbackFn *fn)
{
	if (r->ac == NULL ||
	    redisAsyncCommandArgv(r->ac, fn, NULL, argc, argv, len) != REDIS_OK)
		return -EIO;
	r->c.inflight++;
	return 0;
}

/* Send a command of NUL-terminated strings. */
static int
send_strs(struct ctl_redis *r, redisCallbackFn *fn, int argc, ...)
{
	const char *argv[8];
	size_t len[8];
	va_list ap;

	va_start(ap, argc);
	for (int i = 0; i < argc && i < 8; i++) {
		argv[i] = va_arg(ap, const char *);
		len[i] = strlen(argv[i]);
	}
	va_end(ap);
	return send_argv(r, argc, argv, len, fn);
}

static void resync_index(redisAsyncContext *ac, void *reply, void *priv);

/* Start a connection (DOWN, its time come). */
static void
connect_try(struct ctl_redis *r)
{
	redisAsyncContext *ac;

	ac = r->addr.unix_sock ? redisAsyncConnectUnix(r->addr.host) :
				 redisAsyncConnect(r->addr.host, r->addr.port);
	if (ac == NULL || ac->err) {
		r->c.errors++;
		r->ac = NULL;
		if (ac != NULL) {
			char why[128];

			snprintf(why, sizeof(why), "%s", ac->errstr);
			redisAsyncFree(ac); /* not connected: no callback */
			went_down(r, why);
		} else {
			went_down(r, "out of memory");
		}
		return;
	}
	ac->data = r;
	ac->ev.data = r;
	ac->ev.addRead = ev_nop;
	ac->ev.delRead = ev_nop;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_nop;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	r->ac = ac;
	r->st = ST_CONNECTING;
	r->conn_ns = r->now_ns;
	r->want_write = true; /* the connect completes when writable */
}

/* Connected (or resync wanted while up): SELECT, then ask the index. */
static void
resync_start(struct ctl_redis *r)
{
	char k[CTL_REDIS_KEY_MAX], db[16];

	if (r->addr.db != 0 && r->st == ST_CONNECTING) {
		snprintf(db, sizeof(db), "%u", r->addr.db);
		send_strs(r, on_reply, 2, "SELECT", db);
	}
	r->st = ST_RESYNC;
	r->resync = false;
	key_index(r, r->relay, k);
	if (send_strs(r, resync_index, 2, "SMEMBERS", k) != 0)
		r->resync = true;
}

/* A change that cannot be queued: a drop, and a resync later. Before
 * the first connection was made or failed it is no drop: that
 * connection's resync writes it anyway. */
static void
drop(struct ctl_redis *r)
{
	if (r->c.connects > 0 || r->c.errors > 0)
		r->c.drops++;
	r->resync = true;
}

/* Queue an entry's record, or count a drop (and resync later). */
static void
entry_set(struct ctl_redis *r, struct entry *e, const void *rec, size_t len)
{
	uint8_t *copy;

	if (r->st != ST_UP && r->st != ST_RESYNC) {
		drop(r);
		return;
	}
	if (e->rec == NULL && !r->restoring && r->c.pending >= r->queue_max) {
		drop(r);
		return;
	}
	copy = g_memdup2(rec, len);
	if (e->rec == NULL)
		r->c.pending++;
	g_free(e->rec);
	e->rec = copy;
	e->len = (uint32_t)len;
	if (!e->queued) {
		e->queued = true;
		g_queue_push_tail(&r->dirty, e);
	}
}

/* ctl_session_store.put */
static void
store_put(uint64_t serial, const void *rec, size_t len, uint64_t ttl_ns,
	  void *arg)
{
	struct ctl_redis *r = arg;
	struct entry *e = g_hash_table_lookup(r->live, &serial);

	if (e == NULL) {
		e = g_new0(struct entry, 1);
		e->serial = serial;
		g_hash_table_insert(r->live, &e->serial, e);
	}
	e->ttl_s = key_ttl_s(ttl_ns);
	entry_set(r, e, rec, len);
}

/* ctl_session_store.del */
static void
store_del(uint64_t serial, void *arg)
{
	struct ctl_redis *r = arg;
	struct entry *e = g_hash_table_lookup(r->live, &serial);

	if (e != NULL) {
		if (e->queued)
			g_queue_remove(&r->dirty, e);
		if (e->rec != NULL)
			r->c.pending--;
		g_hash_table_remove(r->live, &serial);
		g_free(e->rec);
		g_free(e);
	}
	if ((r->st != ST_UP && r->st != ST_RESYNC) ||
	    g_queue_get_length(&r->dels) >= r->queue_max) {
		drop(r);
		return;
	}
	g_queue_push_tail(&r->dels, g_memdup2(&serial, sizeof(serial)));
}

/* SMEMBERS of the index: delete the keys of sessions not live here,
 * then write every live session again. */
static void
resync_index(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ctl_redis *r = ac->data;
	redisReply *rep = reply;
	GHashTableIter it;
	gpointer v;
	char k[CTL_REDIS_KEY_MAX], idx[CTL_REDIS_KEY_MAX], now[24], pid[16], n[24];
	uint32_t stale = 0;

	(void)priv;
	if (r->c.inflight > 0)
		r->c.inflight--;
	if (rep == NULL || r->t == NULL)
		return;
	r->progress_ns = r->now_ns;
	if (rep->type != REDIS_REPLY_ARRAY) {
		r->c.errors++;
		ctl_log(CTL_LOG_WARN, "redis %s: SMEMBERS: %.*s; resync "
			"retried", r->addr.text, (int)rep->len,
			rep->str != NULL ? rep->str : "");
		r->resync = true;
		r->st = ST_UP;
		return;
	}
	key_index(r, r->relay, idx);
	for (size_t i = 0; i < rep->elements; i++) {
		redisReply *m = rep->element[i];
		unsigned long long s;
		char *e;

		if (m->type != REDIS_REPLY_STRING)
			continue;
		s = strtoull(m->str, &e, 10);
		if (*e == '\0' && g_hash_table_contains(r->live, &(uint64_t){s}))
			continue;
		snprintf(n, sizeof(n), "s:%s", m->str);
		ctl_redis_key(r, r->relay, n, k);
		send_strs(r, on_reply, 2, "DEL", k);
		send_strs(r, on_reply, 3, "SREM", idx, m->str);
		stale++;
	}
	r->c.deletes += stale;
	/* every live session is written again, added to the index again */
	g_hash_table_iter_init(&it, r->live);
	while (g_hash_table_iter_next(&it, NULL, &v))
		((struct entry *)v)->indexed = false;
	r->st = ST_UP;
	r->restoring = true;
	ctl_sessions_store_all(r->t);
	r->restoring = false;
	r->c.resyncs++;
	r->c.connected = true;
	r->backoff_ns = BACKOFF_MIN_NS;
	key_meta(r, r->relay, k);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(n, sizeof(n), "%llu", (unsigned long long)r->c.resyncs);
	{
		char host[256] = "";
		const char *argv[] = {"HSET", k, "version", "1", "host", host,
				      "pid", pid, "resyncs", n, "resync_time",
				      now};
		size_t len[G_N_ELEMENTS(argv)];

		gethostname(host, sizeof(host) - 1);
		for (size_t i = 0; i < G_N_ELEMENTS(argv); i++)
			len[i] = strlen(argv[i]);
		send_argv(r, (int)G_N_ELEMENTS(argv), argv, len, on_reply);
	}
	ctl_log(CTL_LOG_INFO, "redis %s: resync as '%s': %u live sessions "
		"written, %u stale keys deleted", r->addr.text, r->relay,
		g_hash_table_size(r->live), stale);
	r->logged_down = false;
}

/* Write what waits: deletes, then dirty records, within INFLIGHT_MAX. */
static void
send_pending(struct ctl_redis *r)
{
	char k[CTL_REDIS_KEY_MAX], idx[CTL_REDIS_KEY_MAX], ex[16], ser[24];
	uint64_t *sp;
	struct entry *e;

	key_index(r, r->relay, idx);
	while (r->c.inflight + 2 <= INFLIGHT_MAX &&
	       (sp = g_queue_pop_head(&r->dels)) != NULL) {
		key_session(r, r->relay, *sp, k);
		snprintf(ser, sizeof(ser), "%llu", (unsigned long long)*sp);
		g_free(sp);
		send_strs(r, on_reply, 2, "DEL", k);
		send_strs(r, on_reply, 3, "SREM", idx, ser);
		r->c.deletes++;
	}
	while (r->c.inflight + 2 <= INFLIGHT_MAX &&
	       (e = g_queue_pop_head(&r->dirty)) != NULL) {
		const char *argv[5] = {"SET", k, (const char *)e->rec, "EX", ex};
		size_t len[5];

		key_session(r, r->relay, e->serial, k);
		snprintf(ex, sizeof(ex), "%u", e->ttl_s);
		len[0] = 3;
		len[1] = strlen(k);
		len[2] = e->len;
		len[3] = 2;
		len[4] = strlen(ex);
		send_argv(r, 5, argv, len, on_reply);
		if (!e->indexed) {
			snprintf(ser, sizeof(ser), "%llu",
				 (unsigned long long)e->serial);
			send_strs(r, on_reply, 3, "SADD", idx, ser);
			e->indexed = true;
		}
		g_free(e->rec);
		e->rec = NULL;
		e->queued = false;
		e->set_ns = r->now_ns;
		r->c.pending--;
		r->c.writes++;
	}
}

/* Keep the keys of live sessions from expiring: EXPIRE each one whose
 * TTL was set more than half its EX ago (and the index with them). */
static void
refresh_ttls(struct ctl_redis *r)
{
	GHashTableIter it;
	gpointer v;
	char k[CTL_REDIS_KEY_MAX], ex[16];

	if (r->now_ns - r->refresh_ns < REFRESH_PERIOD_NS)
		return;
	r->refresh_ns = r->now_ns;
	g_hash_table_iter_init(&it, r->live);
	while (g_hash_table_iter_next(&it, NULL, &v) &&
	       r->c.inflight < INFLIGHT_MAX) {
		struct entry *e = v;

		if (e->rec != NULL || !e->indexed ||
		    r->now_ns - e->set_ns < (uint64_t)e->ttl_s * NS_PER_S / 2)
			continue;
		key_session(r, r->relay, e->serial, k);
		snprintf(ex, sizeof(ex), "%u", e->ttl_s);
		send_strs(r, on_reply, 3, "EXPIRE", k, ex);
		e->set_ns = r->now_ns;
		r->c.refreshes++;
	}
}

/* Read and write the socket, no waiting. */
static void
io(struct ctl_redis *r)
{
	struct pollfd p;

	if (r->ac == NULL)
		return;
	p = (struct pollfd){.fd = r->ac->c.fd, .events = POLLIN};
	if (r->want_write || r->st == ST_CONNECTING)
		p.events |= POLLOUT;
	if (poll(&p, 1, 0) <= 0)
		return;
	if ((p.revents & (POLLOUT | POLLERR | POLLHUP)) && r->ac != NULL &&
	    (r->want_write || r->st == ST_CONNECTING))
		redisAsyncHandleWrite(r->ac);
	if ((p.revents & (POLLIN | POLLERR | POLLHUP)) && r->ac != NULL)
		redisAsyncHandleRead(r->ac);
}

/* Give up the connection (hung or never established). */
static void
drop_conn(struct ctl_redis *r, const char *why)
{
	redisAsyncContext *ac = r->ac;

	r->c.errors++;
	went_down(r, why);
	redisAsyncFree(ac); /* callbacks see r->ac NULL: no second down */
}

void
ctl_redis_run(struct ctl_redis *r, uint64_t now_ns)
{
	r->now_ns = now_ns;
	if (r->st == ST_DOWN) {
		if (now_ns < r->next_try_ns)
			return;
		connect_try(r);
		if (r->ac == NULL)
			return;
	}
	io(r);
	if (r->ac == NULL)
		return;
	if (r->st == ST_CONNECTING) {
		if (r->ac->c.flags & REDIS_CONNECTED) {
			r->c.connects++;
			r->progress_ns = now_ns;
			resync_start(r);
		} else if (now_ns - r->conn_ns > CONNECT_TIMEOUT_NS) {
			drop_conn(r, "connect timed out");
			return;
		}
	}
	if (r->c.inflight > 0 && now_ns - r->progress_ns > REPLY_TIMEOUT_NS) {
		drop_conn(r, "no reply for 5 s");
		return;
	}
	if (r->st == ST_UP && r->t != NULL) {
		if (r->resync && r->c.pending == 0 &&
		    g_queue_is_empty(&r->dels) && r->c.inflight == 0)
			resync_start(r);
		send_pending(r);
		refresh_ttls(r);
	}
	if (r->ac != NULL && r->want_write)
		redisAsyncHandleWrite(r->ac);
}

struct ctl_redis *
ctl_redis_create(const struct ctl_redis_cfg *cfg, struct ctl_sessions *t,
		 char *err, size_t errsz)
{
	struct ctl_redis *r = calloc(1, sizeof(*r));
	const char *prefix = cfg->prefix ? cfg->prefix : CTL_REDIS_PREFIX_DEFAULT;
	char host[256] = "";
	struct ctl_session_store st;

	if (r == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (cfg->relay_id == NULL) {
		gethostname(host, sizeof(host) - 1);
		host[CTL_REDIS_ID_MAX] = '\0';
		for (char *p = host; *p; p++)
			if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-')
				*p = '_';
	}
	if (!ctl_redis_id_ok(prefix) ||
	    !ctl_redis_id_ok(cfg->relay_id ? cfg->relay_id : host)) {
		snprintf(err, errsz, "key prefix '%s' or relay id '%s': 1 to %u "
			 "of [A-Za-z0-9._-]", prefix,
			 cfg->relay_id ? cfg->relay_id : host, CTL_REDIS_ID_MAX);
		free(r);
		errno = EINVAL;
		return NULL;
	}
	r->addr = cfg->addr;
	snprintf(r->prefix, sizeof(r->prefix), "%s", prefix);
	snprintf(r->relay, sizeof(r->relay), "%s",
		 cfg->relay_id ? cfg->relay_id : host);
	r->queue_max = cfg->queue_max ? cfg->queue_max : CTL_REDIS_QUEUE_MAX;
	r->t = t;
	r->st = ST_DOWN;
	r->backoff_ns = BACKOFF_MIN_NS;
	r->live = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_queue_init(&r->dirty);
	g_queue_init(&r->dels);
	st = (struct ctl_session_store){.put = store_put, .del = store_del,
					.arg = r};
	ctl_sessions_set_store(t, &st); /* no drops: not connected yet */
	return r;
}

uint64_t
ctl_redis_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

void
ctl_redis_close(struct ctl_redis *r, uint32_t flush_ms)
{
	uint64_t end;

	if (r == NULL)
		return;
	r->t = NULL;
	r->now_ns = ctl_redis_mono_ns();
	end = r->now_ns + flush_ms * NS_PER_MS;
	while (r->ac != NULL && r->st == ST_UP && r->now_ns < end &&
	       (r->c.inflight > 0 || r->c.pending > 0 ||
		!g_queue_is_empty(&r->dels))) {
		struct pollfd p = {.fd = r->ac->c.fd, .events = POLLIN};

		send_pending(r);
		if (r->want_write)
			redisAsyncHandleWrite(r->ac);
		if (r->ac != NULL && poll(&p, 1, 10) > 0)
			redisAsyncHandleRead(r->ac);
		r->now_ns = ctl_redis_mono_ns();
	}
	if (r->ac != NULL) {
		redisAsyncContext *ac = r->ac;

		r->ac = NULL; /* no went_down() from its callbacks */
		redisAsyncFree(ac);
	}
	{
		GHashTableIter it;
		gpointer v;

		g_hash_table_iter_init(&it, r->live);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			g_free(((struct entry *)v)->rec);
			g_free(v);
		}
	}
	g_hash_table_destroy(r->live);
	g_queue_clear(&r->dirty);
	g_queue_free_full(g_queue_copy(&r->dels), g_free);
	g_queue_clear(&r->dels);
	free(r);
}

void
ctl_redis_counters(const struct ctl_redis *r, struct ctl_redis_counters *c)
{
	*c = r->c;
	c->connected = r->st == ST_UP;
}

const char *
ctl_redis_relay_id(const struct ctl_redis *r)
{
	return r->relay;
}

const struct ctl_redis_addr *
ctl_redis_addr_of(const struct ctl_redis *r)
{
	return &r->addr;
}
