/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_redis.c: control's session state in Redis (ctl_redis.h,
 * docs/REDIS.md) against a real redis-server on 127.0.0.1 (a free port,
 * a temp dir, stopped by PID), with control's protocol path on the fake
 * dataplane (tests/ctl_world.h):
 *  - layout: U/L make PREFIX:RELAY:s:SERIAL (the ctl_durable record, an
 *    EX of the session TTL + margin) and the index; D removes both;
 *  - Redis killed while U/D go on: every command still answers within a
 *    bound, the changes are counted as drops; Redis back (with its old
 *    data, stale keys included): the resync leaves exactly the live
 *    sessions;
 *  - restore: another table (a standby) takes the sessions over with
 *    ctl_redis_restore(): Q answers for them, their ADDs carry the
 *    latched peers, the source's keys are gone and the sessions are
 *    written under the standby's id.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "ctl_durable.h"
#include "ctl_redis.h"
#include "ctl_world.h"
#include "fake_ctl_dp.h"

#define NS_PER_MS 1000000ull
/* a command's reply, Redis up or down, within this (ms) */
#define REPLY_BOUND_MS 20.0

static char g_dir[64];
static int g_port;
static pid_t g_pid = -1;

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A TCP port free on 127.0.0.1 now. */
static int
free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A blocking client, or NULL. */
static redisContext *
client(void)
{
	struct timeval tv = {.tv_sec = 1};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", g_port, tv);

	if (c != NULL && c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* Start redis-server on g_port with its data in g_dir; wait for PING. */
static void
redis_start(void)
{
	char port[16];

	snprintf(port, sizeof(port), "%d", g_port);
	g_pid = fork();
	assert_true(g_pid >= 0);
	if (g_pid == 0) {
		execlp("redis-server", "redis-server", "--port", port,
		       "--bind", "127.0.0.1", "--dir", g_dir, "--save", "",
		       "--appendonly", "no", "--daemonize", "no",
		       "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		redisContext *c = client();

		if (c != NULL) {
			redisReply *r = redisCommand(c, "PING");
			bool ok = r != NULL && r->type == REDIS_REPLY_STATUS;

			freeReplyObject(r);
			redisFree(c);
			if (ok)
				return;
		}
		usleep(20000);
	}
	fail_msg("redis-server did not answer on port %d", g_port);
}

/* SIGKILL it (by PID) and reap it. */
static void
redis_kill(void)
{
	if (g_pid <= 0)
		return;
	kill(g_pid, SIGKILL);
	waitpid(g_pid, NULL, 0);
	g_pid = -1;
}

/* A Redis command's reply (the caller frees it). */
static redisReply *
rcmd(const char *fmt, ...)
{
	redisContext *c = client();
	redisReply *r;
	va_list ap;

	assert_non_null(c);
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	assert_non_null(r);
	return r;
}

/* The index of relay, as sorted serials; its size. */
static size_t
index_members(const char *relay, uint64_t *out, size_t max)
{
	redisReply *r = rcmd("SMEMBERS rtpbt:%s:idx", relay);
	size_t n = 0;

	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	for (size_t i = 0; i < r->elements && n < max; i++)
		out[n++] = strtoull(r->element[i]->str, NULL, 10);
	freeReplyObject(r);
	for (size_t i = 1; i < n; i++) /* insertion sort: a few */
		for (size_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
			uint64_t x = out[j];

			out[j] = out[j - 1];
			out[j - 1] = x;
		}
	return n;
}

/* Number of keys matching pattern. */
static size_t
nkeys(const char *pattern)
{
	redisReply *r = rcmd("KEYS %s", pattern);
	size_t n = r->elements;

	freeReplyObject(r);
	return n;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/test_ctl_redis.XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	g_port = free_port();
	return g_port > 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	redis_kill();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A world (config inet4) and a writer as relay. */
static struct ctl_redis *
open_world(struct ctl_world *w, const char *relay)
{
	struct ctl_world_cfg c = {.kind = "inet4"};
	struct ctl_redis_cfg rc = {.prefix = "rtpbt", .relay_id = relay};
	char err[200], addr[32];
	struct ctl_redis *r;

	memset(w, 0, sizeof(*w));
	w->out = g_string_new(NULL);
	assert_int_equal(ctl_world_start(w, 256, &c, err, sizeof(err)), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", g_port);
	assert_int_equal(ctl_redis_parse_addr(addr, &rc.addr, err, sizeof(err)), 0);
	r = ctl_redis_create(&rc, w->sess, err, sizeof(err));
	assert_non_null(r);
	return r;
}

/* Close the writer first (the keys stay), then the world. */
static void
close_world(struct ctl_world *w, struct ctl_redis *r)
{
	ctl_sessions_set_store(w->sess, NULL);
	ctl_redis_close(r, 0);
	ctl_world_stop(w);
	g_string_free(w->out, TRUE);
}

/* Run the writer until it is connected with nothing waiting or in
 * flight, at most ms. @return true if it got there. */
static bool
settle(struct ctl_redis *r, unsigned ms)
{
	uint64_t end = mono_ns() + ms * NS_PER_MS;
	struct ctl_redis_counters c;

	do {
		ctl_redis_run(r, mono_ns());
		ctl_redis_counters(r, &c);
		if (c.connected && c.pending == 0 && c.inflight == 0)
			return true;
		usleep(2000);
	} while (mono_ns() < end);
	return false;
}

/* One command; its reply in out; the time it took, ms, in *ms (the
 * command, then one turn of the writer, as control's loop does). */
static void
command(struct ctl_world *w, struct ctl_redis *r, const char *cmd, char *out,
	size_t outsz, double *ms)
{
	uint64_t t0 = mono_ns();
	size_t n = ctl_world_command(w, cmd, strlen(cmd), false, out, outsz);

	ctl_redis_run(r, mono_ns());
	if (ms != NULL)
		*ms = (double)(mono_ns() - t0) / 1e6;
	out[n < outsz ? n : outsz - 1] = '\0';
}

static uint64_t
only_serial(const char *relay)
{
	uint64_t s[4];

	assert_int_equal(index_members(relay, s, 4), 1);
	return s[0];
}

/* U and L make the key and the index entry, with the record and an EX;
 * D removes both. */
static void
test_layout(void **state)
{
	struct ctl_world w;
	struct ctl_redis *r;
	struct ctl_durable d;
	struct ctl_redis_counters c;
	char out[256];
	redisReply *rep;
	uint64_t serial;

	(void)state;
	redis_start();
	r = open_world(&w, "relayA");
	assert_true(settle(r, 3000));
	command(&w, r, "U c1 198.51.100.1 5000 f1", out, sizeof(out), NULL);
	assert_true(settle(r, 2000));
	serial = only_serial("relayA");
	rep = rcmd("GET rtpbt:relayA:s:%llu", (unsigned long long)serial);
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	assert_int_equal(ctl_durable_parse(rep->str, rep->len, &d), 0);
	assert_int_equal(d.serial, serial);
	assert_memory_equal(d.call_id.p, "c1", 2);
	assert_memory_equal(d.from_tag.p, "f1", 2);
	assert_int_equal(d.to_tag.len, 0);
	freeReplyObject(rep);
	/* L: leg 1's socket and the answerer's address are written */
	command(&w, r, "L c1 198.51.100.2 6000 f1 t1", out, sizeof(out), NULL);
	assert_true(settle(r, 2000));
	rep = rcmd("GET rtpbt:relayA:s:%llu", (unsigned long long)serial);
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	assert_int_equal(ctl_durable_parse(rep->str, rep->len, &d), 0);
	assert_int_equal(ntohs(d.leg[0].remote.port), 6000);
	assert_int_equal(ntohs(d.leg[1].remote.port), 5000);
	assert_int_not_equal(d.leg[0].port, 0);
	assert_int_not_equal(d.leg[1].port, 0);
	freeReplyObject(rep);
	/* an EX: above the margin, at most the TTL limit (-T 60 s in the
	 * world) plus the margin */
	rep = rcmd("TTL rtpbt:relayA:s:%llu", (unsigned long long)serial);
	assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
	assert_true(rep->integer > CTL_REDIS_TTL_MARGIN_S);
	assert_true(rep->integer <= 3600 + CTL_REDIS_TTL_MARGIN_S);
	freeReplyObject(rep);
	rep = rcmd("HGET rtpbt:relayA:meta version");
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	assert_string_equal(rep->str, "1");
	freeReplyObject(rep);
	/* D: key and index entry gone */
	command(&w, r, "D c1 f1 t1", out, sizeof(out), NULL);
	assert_string_equal(out, "0\n");
	assert_true(settle(r, 2000));
	assert_int_equal(nkeys("rtpbt:relayA:s:*"), 0);
	assert_int_equal(index_members("relayA", &serial, 1), 0);
	ctl_redis_counters(r, &c);
	assert_true(c.writes >= 2);
	assert_int_equal(c.deletes, 1);
	assert_int_equal(c.drops, 0);
	assert_int_equal(c.resyncs, 1);
	close_world(&w, r);
	redis_kill();
}

/* Serials of the live sessions of w, sorted. */
static size_t
live_serials(struct ctl_world *w, uint64_t *out, size_t max)
{
	size_t n = 0;

	for (uint64_t s = 1; s < 100000 && n < max; s++)
		if (ctl_sessions_by_serial(w->sess, s) != NULL)
			out[n++] = s;
	return n;
}

/* Redis killed while U/D go on; back with its old data: exactly the
 * live sessions after the resync. */
static void
test_down_and_back(void **state)
{
	struct ctl_world w;
	struct ctl_redis *r;
	struct ctl_redis_counters c;
	char out[256], cmd[128];
	double ms, worst = 0;
	uint64_t live[64], idx[64];
	size_t nlive, nidx;
	redisReply *rep;

	(void)state;
	redis_start();
	r = open_world(&w, "relayB");
	assert_true(settle(r, 3000));
	for (int i = 0; i < 8; i++) {
		snprintf(cmd, sizeof(cmd), "U old%d 198.51.100.1 %d f%d", i,
			 5000 + 2 * i, i);
		command(&w, r, cmd, out, sizeof(out), NULL);
	}
	assert_true(settle(r, 2000));
	assert_int_equal(nkeys("rtpbt:relayB:s:*"), 8);
	/* its data on disk, then killed: back later with these 8 */
	rep = rcmd("SAVE");
	freeReplyObject(rep);
	redis_kill();
	/* 4 old ones deleted, and churn (U then D) while it is down */
	for (int i = 0; i < 4; i++) {
		snprintf(cmd, sizeof(cmd), "D old%d f%d", i, i);
		command(&w, r, cmd, out, sizeof(out), &ms);
		assert_string_equal(out, "0\n");
		worst = ms > worst ? ms : worst;
	}
	for (int i = 0; i < 200; i++) {
		snprintf(cmd, sizeof(cmd), "U new%d 198.51.100.2 %d g%d", i,
			 6000 + 2 * (i % 50), i);
		command(&w, r, cmd, out, sizeof(out), &ms);
		assert_true(out[0] != 'E');
		worst = ms > worst ? ms : worst;
		if (i < 196) { /* 4 stay */
			snprintf(cmd, sizeof(cmd), "D new%d g%d", i, i);
			command(&w, r, cmd, out, sizeof(out), &ms);
			assert_string_equal(out, "0\n");
			worst = ms > worst ? ms : worst;
		}
		usleep(1000); /* reconnection tries happen meanwhile */
	}
	print_message("worst command + writer turn with Redis down: %.3f ms\n",
		      worst);
	assert_true(worst < REPLY_BOUND_MS);
	ctl_redis_counters(r, &c);
	assert_false(c.connected);
	assert_true(c.drops >= 4 + 200 + 196);
	assert_true(c.errors > 0);
	/* back with the 8 old keys: 4 of them stale */
	redis_start();
	assert_int_equal(nkeys("rtpbt:relayB:s:*"), 8);
	assert_true(settle(r, 8000));
	nlive = live_serials(&w, live, 64);
	assert_int_equal(nlive, 8);
	nidx = index_members("relayB", idx, 64);
	assert_int_equal(nidx, nlive);
	assert_memory_equal(idx, live, nlive * sizeof(live[0]));
	assert_int_equal(nkeys("rtpbt:relayB:s:*"), nlive);
	for (size_t i = 0; i < nlive; i++) {
		struct ctl_durable d;

		rep = rcmd("GET rtpbt:relayB:s:%llu", (unsigned long long)live[i]);
		assert_int_equal(rep->type, REDIS_REPLY_STRING);
		assert_int_equal(ctl_durable_parse(rep->str, rep->len, &d), 0);
		assert_int_equal(d.serial, live[i]);
		freeReplyObject(rep);
	}
	ctl_redis_counters(r, &c);
	assert_int_equal(c.resyncs, 2);
	assert_true(c.connects >= 2);
	close_world(&w, r);
	redis_kill();
}

/* The RTP ADDs pushed since the last clear: ids and locals. */
static size_t
rtp_adds(uint32_t *ids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < fake_dp_nmsgs() && n < max; i++) {
		const struct rtpb_msg *m = fake_dp_msg(i);

		if (m->hdr.type == RTPB_MSG_STREAM_ADD &&
		    !(m->stream.flags & RTPB_STREAM_F_RTCP))
			ids[n++] = m->stream.stream_id;
	}
	return n;
}

/* A standby's takeover: every call, latched, Q and D work on it. */
static void
test_restore(void **state)
{
	struct ctl_world w;
	struct ctl_redis *r;
	struct ctl_redis_restore_stats st;
	char out[256], cmd[160];
	uint32_t ids[16];
	size_t n;
	int rc, latched = 0;

	(void)state;
	redis_start();
	r = open_world(&w, "active");
	assert_true(settle(r, 3000));
	for (int i = 0; i < 3; i++) {
		snprintf(cmd, sizeof(cmd), "U call%d 198.51.100.1 %d from%d", i,
			 5000 + 2 * i, i);
		command(&w, r, cmd, out, sizeof(out), NULL);
		snprintf(cmd, sizeof(cmd), "L call%d 198.51.100.2 %d from%d to%d",
			 i, 7000 + 2 * i, i, i);
		command(&w, r, cmd, out, sizeof(out), NULL);
	}
	/* every RTP stream latches to a port other than the signalled one */
	n = rtp_adds(ids, 16);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++) {
		snprintf(cmd, sizeof(cmd), "latch %u 203.0.113.%zu:%zu", ids[i],
			 i + 1, 40000 + i);
		assert_int_equal(ctl_world_directive(&w, cmd), 0);
	}
	fake_dp_clear_msgs();
	assert_true(settle(r, 2000));
	assert_int_equal(nkeys("rtpbt:active:s:*"), 3);
	/* the active dies: its table and dataplane are gone, Redis stays */
	close_world(&w, r);

	/* the standby: a new table, a new (fake) dataplane */
	r = open_world(&w, "standby");
	assert_true(settle(r, 3000));
	rc = ctl_redis_restore(r, w.sess, "active", 2000,
			       CTL_REDIS_RESTORE_TAKE, mono_ns(), &st);
	assert_int_equal(rc, 3);
	assert_int_equal(st.found, 3);
	assert_int_equal(st.restored, 3);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(ctl_sessions_count(w.sess), 3);
	/* pushed at once, each RTP ADD with its latched peer */
	for (size_t i = 0; i < fake_dp_nmsgs(); i++) {
		const struct rtpb_msg *m = fake_dp_msg(i);

		if (m->hdr.type != RTPB_MSG_STREAM_ADD ||
		    (m->stream.flags & RTPB_STREAM_F_RTCP))
			continue;
		assert_int_equal(m->stream.peer.family, RTPB_AF_INET);
		assert_int_equal(((const uint8_t *)m->stream.peer.ip)[0], 203);
		latched++;
	}
	assert_int_equal(latched, 6);
	/* the proxy's Q and D on the old calls */
	for (int i = 0; i < 3; i++) {
		snprintf(cmd, sizeof(cmd), "Q call%d from%d to%d", i, i, i);
		command(&w, r, cmd, out, sizeof(out), NULL);
		assert_true(out[0] != 'E');
	}
	command(&w, r, "D call0 from0 to0", out, sizeof(out), NULL);
	assert_string_equal(out, "0\n");
	/* a new call takes none of the restored ports */
	command(&w, r, "U call9 198.51.100.9 9000 from9", out, sizeof(out), NULL);
	assert_true(out[0] != 'E');
	assert_true(settle(r, 2000));
	/* the source's keys are gone, the standby's hold the live ones */
	assert_int_equal(nkeys("rtpbt:active:*"), 0);
	assert_int_equal(nkeys("rtpbt:standby:s:*"), 3);
	/* restoring again: nothing left there */
	rc = ctl_redis_restore(r, w.sess, "active", 2000, 0, mono_ns(), &st);
	assert_int_equal(rc, 0);
	assert_int_equal(st.found, 0);
	close_world(&w, r);
	redis_kill();
	/* Redis gone: the restore fails within its bound */
	r = open_world(&w, "standby");
	{
		uint64_t t0 = mono_ns();

		rc = ctl_redis_restore(r, w.sess, "active", 500, 0, mono_ns(),
				       &st);
		assert_true(rc == -ECONNREFUSED || rc == -ETIMEDOUT);
		assert_true(mono_ns() - t0 < 1000 * NS_PER_MS);
	}
	close_world(&w, r);
}

/* --redis parsing. */
static void
test_parse(void **state)
{
	struct ctl_redis_addr a;
	char err[200];

	(void)state;
	assert_int_equal(ctl_redis_parse_addr("127.0.0.1:6379", &a, err,
					      sizeof(err)), 0);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 6379);
	assert_int_equal(a.db, 0);
	assert_int_equal(ctl_redis_parse_addr("redis.example:7000/3", &a, err,
					      sizeof(err)), 0);
	assert_string_equal(a.host, "redis.example");
	assert_int_equal(a.port, 7000);
	assert_int_equal(a.db, 3);
	assert_int_equal(ctl_redis_parse_addr("[2001:db8::1]:6379/1", &a, err,
					      sizeof(err)), 0);
	assert_string_equal(a.host, "2001:db8::1");
	assert_int_equal(a.db, 1);
	assert_int_equal(ctl_redis_parse_addr("unix:/run/redis/r.sock", &a,
					      err, sizeof(err)), 0);
	assert_true(a.unix_sock);
	assert_string_equal(a.host, "/run/redis/r.sock");
	assert_int_equal(ctl_redis_parse_addr("127.0.0.1", &a, err,
					      sizeof(err)), -EINVAL);
	assert_int_equal(ctl_redis_parse_addr("127.0.0.1:0", &a, err,
					      sizeof(err)), -EINVAL);
	assert_int_equal(ctl_redis_parse_addr("127.0.0.1:6379/x", &a, err,
					      sizeof(err)), -EINVAL);
	assert_int_equal(ctl_redis_parse_addr("unix:", &a, err, sizeof(err)),
			 -EINVAL);
	assert_true(ctl_redis_id_ok("relay-1.a_b"));
	assert_false(ctl_redis_id_ok("a:b"));
	assert_false(ctl_redis_id_ok(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_and_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
