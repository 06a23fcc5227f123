/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_notify: session timeouts (rtpproxy -T, -W, "&& S ttl=") and
 * timeout notifications (-n): the target set (ctl_tnotify.c), the sender
 * (ctl_notify.c) against real listeners the test opens (a unix socket in
 * a temp dir, TCP on 127.0.0.1), and the whole path: U with a notify
 * tag, the 1 s tick past the TTL, "<tag>\n" read by the listener.
 *
 * Time is a parameter everywhere (no sleeping for TTLs or back-offs);
 * the only waits are for the kernel to carry bytes between sockets, each
 * bounded (WAIT_ROUNDS x 10 ms).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "ctl_cmd_exec.h"
#include "ctl_log.h"
#include "ctl_notify.h"
#include "ctl_tnotify.h"
#include "fake_ctl_dp.h"
#include "fake_ctl_pf.h"

#define NS 1000000000ULL
#define WAIT_ROUNDS 200 /* x 10 ms */
#define RELAY4 "192.0.2.1"

static char tmpdir[64];

/* A listener of the test: unix path or TCP on 127.0.0.1. */
struct lsn {
	int fd;
	int conn; /* the accepted connection, -1 none */
	int accepted; /* connections accepted so far */
	char path[108];
	uint16_t port; /* TCP: host order */
	char spec[160]; /* the -n string for it */
	GString *got; /* bytes read so far */
};

static void
lsn_open_unix(struct lsn *l, const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memset(l, 0, sizeof(*l));
	l->conn = -1;
	snprintf(l->path, sizeof(l->path), "%s/%s", tmpdir, name);
	snprintf(l->spec, sizeof(l->spec), "unix:%s", l->path);
	strcpy(sun.sun_path, l->path);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	unlink(l->path);
	assert_int_equal(bind(l->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(l->fd, 8), 0);
	l->got = g_string_new(NULL);
}

static void
lsn_open_tcp(struct lsn *l)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	memset(l, 0, sizeof(*l));
	l->conn = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(l->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l->fd, 8), 0);
	assert_int_equal(getsockname(l->fd, (struct sockaddr *)&a, &len), 0);
	l->port = ntohs(a.sin_port);
	snprintf(l->spec, sizeof(l->spec), "tcp:127.0.0.1:%u", l->port);
	l->got = g_string_new(NULL);
}

static void
lsn_close(struct lsn *l)
{
	if (l->conn >= 0)
		close(l->conn);
	if (l->fd >= 0)
		close(l->fd);
	if (l->path[0] != '\0')
		unlink(l->path);
	g_string_free(l->got, TRUE);
}

/* Drop the accepted connection (a receiver that went away). */
static void
lsn_drop_conn(struct lsn *l)
{
	close(l->conn);
	l->conn = -1;
}

/* One non-blocking round: accept, read what is there. */
static void
lsn_poll(struct lsn *l)
{
	char buf[512];
	ssize_t n;
	int c;

	while ((c = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		if (l->conn >= 0)
			close(l->conn);
		l->conn = c;
		l->accepted++;
	}
	while (l->conn >= 0 && (n = recv(l->conn, buf, sizeof(buf), 0)) > 0)
		g_string_append_len(l->got, buf, n);
}

/*
 * Run the sender and the listener until the listener got want bytes
 * (bounded); now_ns stays: no back-off expires while waiting.
 */
static void
pump_until(struct ctl_notify *n, struct lsn *l, size_t want, uint64_t now_ns)
{
	for (int r = 0; r < WAIT_ROUNDS && l->got->len < want; r++) {
		ctl_notify_run(n, now_ns);
		lsn_poll(l);
		if (l->got->len < want)
			poll(NULL, 0, 10);
	}
	assert_int_equal(l->got->len, want);
}

/* -n forms and errors (rtpproxy parse_timeout_sock()). */
static void
test_tnotify_parse(void **st)
{
	struct ctl_tnotify *ts = ctl_tnotify_create();
	char err[256], d[300];

	(void)st;
	assert_false(ctl_tnotify_enabled(ts));
	assert_false(ctl_tnotify_enabled(NULL));
	assert_int_equal(
		ctl_tnotify_add(ts, "unix:/tmp/a.sock", err, sizeof(err)), 0);
	assert_true(ctl_tnotify_enabled(ts));
	/* a bare path is a unix target, named with "unix:" */
	assert_int_equal(ctl_tnotify_add(ts, "/tmp/b.sock", err, sizeof(err)),
			 0);
	assert_string_equal(ctl_tnotify_describe(ts, 1, d, sizeof(d)),
			    "unix:/tmp/b.sock");
	assert_int_equal(
		ctl_tnotify_add(ts, "tcp:127.0.0.1:9999", err, sizeof(err)), 0);
	assert_int_equal(ctl_tnotify_count(ts), 3);
	assert_int_equal(ctl_tnotify_add(ts, "tcp:127.0.0.1", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(ctl_tnotify_add(ts, "tcp:127.0.0.1:0", err,
					 sizeof(err)),
			 -EINVAL);
	assert_int_equal(ctl_tnotify_add(ts, "tcp:127.0.0.1:65536", err,
					 sizeof(err)),
			 -EINVAL);
	assert_int_equal(ctl_tnotify_add(ts, "tcp::9", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(ctl_tnotify_add(ts, "unix:", err, sizeof(err)),
			 -EINVAL);
	/* two %%CC_SELF%% wildcards at most */
	assert_int_equal(ctl_tnotify_add(ts, "tcp:%%CC_SELF%%:1000", err,
					 sizeof(err)),
			 0);
	assert_int_equal(ctl_tnotify_add(ts, "tcp:%%CC_SELF%%:1001", err,
					 sizeof(err)),
			 0);
	assert_int_equal(ctl_tnotify_add(ts, "tcp:%%CC_SELF%%:1002", err,
					 sizeof(err)),
			 -ENOSPC);
	/* wildcards are no concrete targets (yet) */
	assert_int_equal(ctl_tnotify_count(ts), 3);
	ctl_tnotify_destroy(ts);
}

/* rtpproxy lookup(): exact names, the legacy unix name, %%CC_SELF%%. */
static void
test_tnotify_lookup(void **st)
{
	struct ctl_tnotify *ts = ctl_tnotify_create();
	struct sockaddr_in src = { .sin_family = AF_INET }, loc = src;
	struct sockaddr_in6 src6 = { .sin6_family = AF_INET6 };
	const struct ctl_tnotify_target *t;
	char err[256], d[300];
	int a, b;

	(void)st;
	assert_int_equal(
		ctl_tnotify_add(ts, "unix:/tmp/a.sock", err, sizeof(err)), 0);
	assert_int_equal(
		ctl_tnotify_add(ts, "tcp:127.0.0.1:9999", err, sizeof(err)), 0);
	assert_int_equal(ctl_tnotify_add(ts, "tcp:%%CC_SELF%%:7000", err,
					 sizeof(err)),
			 0);
	assert_int_equal(ctl_tnotify_lookup(ts, "unix:/tmp/a.sock", NULL, NULL),
			 0);
	assert_int_equal(ctl_tnotify_lookup(ts, "/tmp/a.sock", NULL, NULL), 0);
	assert_int_equal(
		ctl_tnotify_lookup(ts, "tcp:127.0.0.1:9999", NULL, NULL), 1);
	assert_int_equal(
		ctl_tnotify_lookup(ts, "tcp:127.0.0.1:9998", NULL, NULL), -1);
	assert_int_equal(ctl_tnotify_lookup(ts, "/tmp/other.sock", NULL, NULL),
			 -1);
	assert_int_equal(ctl_tnotify_lookup(NULL, "/tmp/a.sock", NULL, NULL),
			 -1);
	/* %%CC_SELF%%: a target per source IP, bound to the control
	 * socket's address when known */
	inet_pton(AF_INET, "198.51.100.7", &src.sin_addr);
	inet_pton(AF_INET, "198.51.100.1", &loc.sin_addr);
	loc.sin_port = htons(22222);
	a = ctl_tnotify_lookup(ts, "tcp:%%CC_SELF%%:7000",
			       (struct sockaddr *)&src,
			       (struct sockaddr *)&loc);
	assert_int_equal(a, 2);
	assert_string_equal(ctl_tnotify_describe(ts, a, d, sizeof(d)),
			    "tcp:198.51.100.7:7000");
	t = ctl_tnotify_get(ts, a);
	assert_int_equal(t->local_len, sizeof(struct sockaddr_in));
	assert_int_equal(((struct sockaddr_in *)&t->local)->sin_port, 0);
	assert_int_equal(ctl_tnotify_lookup(ts, "tcp:%%CC_SELF%%:7000",
					    (struct sockaddr *)&src, NULL),
			 a);
	/* unix or IPv6 control socket: 127.0.0.1 */
	b = ctl_tnotify_lookup(ts, "tcp:%%CC_SELF%%:7000", NULL, NULL);
	assert_int_equal(b, 3);
	assert_string_equal(ctl_tnotify_describe(ts, b, d, sizeof(d)),
			    "tcp:127.0.0.1:7000");
	assert_int_equal(ctl_tnotify_lookup(ts, "tcp:%%CC_SELF%%:7000",
					    (struct sockaddr *)&src6, NULL),
			 b);
	ctl_tnotify_destroy(ts);
}

/*
 * The sender against a unix listener: "tag\n" per notification on one
 * kept connection; no listener yet: queued, retried after the back-off
 * (time as a parameter), then delivered; the receiver closing its end:
 * the next one goes over a new connection, nothing lost.
 */
static void
test_notify_unix(void **st)
{
	struct ctl_tnotify *ts = ctl_tnotify_create();
	struct ctl_notify *n;
	struct lsn l;
	char err[256];
	uint64_t now = 1000 * NS;

	(void)st;
	lsn_open_unix(&l, "n1.sock");
	assert_int_equal(ctl_tnotify_add(ts, l.spec, err, sizeof(err)), 0);
	n = ctl_notify_create(ts);
	assert_int_equal(ctl_notify_send(n, 0, "my tag=x", now), 0);
	pump_until(n, &l, 9, now);
	assert_string_equal(l.got->str, "my tag=x\n");
	assert_int_equal(ctl_notify_send(n, 0, "T123.456", now), 0);
	pump_until(n, &l, 18, now);
	assert_string_equal(l.got->str, "my tag=x\nT123.456\n");
	assert_int_equal(l.accepted, 1);
	assert_int_equal(ctl_notify_send(n, 5, "x", now), -EINVAL);

	/* the receiver goes away: the next message reconnects */
	lsn_drop_conn(&l);
	g_string_truncate(l.got, 0);
	assert_int_equal(ctl_notify_send(n, 0, "after close", now), 0);
	pump_until(n, &l, 12, now);
	assert_string_equal(l.got->str, "after close\n");
	assert_int_equal(l.accepted, 2);

	/* no listener: queued; not retried before the back-off */
	lsn_close(&l);
	assert_int_equal(ctl_notify_send(n, 0, "waits", now), 0);
	for (int r = 0; r < 5; r++)
		ctl_notify_run(n, now);
	assert_int_equal(ctl_notify_pending(n, 0), 6);
	lsn_open_unix(&l, "n1.sock");
	for (int r = 0; r < 5; r++) {
		ctl_notify_run(n, now + CTL_NOTIFY_BACKOFF_NS / 2);
		lsn_poll(&l);
	}
	assert_int_equal(l.got->len, 0);
	assert_int_equal(ctl_notify_pending(n, 0), 6);
	pump_until(n, &l, 6, now + CTL_NOTIFY_BACKOFF_NS);
	assert_string_equal(l.got->str, "waits\n");
	assert_int_equal(ctl_notify_pending(n, 0), 0);
	ctl_notify_destroy(n);
	ctl_tnotify_destroy(ts);
	lsn_close(&l);
}

/* The queue is bounded: what does not fit is dropped (-ENOBUFS). */
static void
test_notify_queue_bound(void **st)
{
	struct ctl_tnotify *ts = ctl_tnotify_create();
	struct ctl_notify *n;
	char err[256], path[128], tag[1000];
	size_t sent = 0;
	int rc = 0;

	(void)st;
	snprintf(path, sizeof(path), "unix:%s/nobody.sock", tmpdir);
	assert_int_equal(ctl_tnotify_add(ts, path, err, sizeof(err)), 0);
	n = ctl_notify_create(ts);
	memset(tag, 'a', sizeof(tag) - 1);
	tag[sizeof(tag) - 1] = '\0';
	for (int i = 0; i < 1000 && rc == 0; i++) {
		rc = ctl_notify_send(n, 0, tag, 1);
		if (rc == 0)
			sent += sizeof(tag);
	}
	assert_int_equal(rc, -ENOBUFS);
	assert_int_equal(ctl_notify_pending(n, 0), sent);
	assert_true(sent <= CTL_NOTIFY_QUEUE_MAX);
	ctl_notify_destroy(n);
	ctl_tnotify_destroy(ts);
}

/* tcp:HOST:PORT targets (OpenSIPS listens there, reads "T<did>\n"). */
static void
test_notify_tcp(void **st)
{
	struct ctl_tnotify *ts = ctl_tnotify_create();
	struct ctl_notify *n;
	struct lsn l;
	char err[256];

	(void)st;
	lsn_open_tcp(&l);
	assert_int_equal(ctl_tnotify_add(ts, l.spec, err, sizeof(err)), 0);
	n = ctl_notify_create(ts);
	assert_int_equal(ctl_notify_send(n, 0, "T1.2", 5 * NS), 0);
	assert_int_equal(ctl_notify_send(n, 0, "T3.4", 5 * NS), 0);
	pump_until(n, &l, 10, 5 * NS);
	assert_string_equal(l.got->str, "T1.2\nT3.4\n");
	ctl_notify_destroy(n);
	ctl_tnotify_destroy(ts);
	lsn_close(&l);
}

/* The control side of a test: sessions, executor, -n, the sender. */
struct fx {
	struct ctl_ports *ports;
	struct ctl_sessions *sess;
	struct ctl_exec *ex;
	struct ctl_tnotify *ts;
	struct ctl_notify *n;
	struct lsn l;
	char out[2048];
};

static void
fx_open(struct fx *f, uint64_t ttl_s, uint64_t setup_ttl_s)
{
	struct ctl_sessions_cfg scfg = { .learn_ms = CTL_LEARN_MS };
	struct ctl_exec_cfg ecfg = { 0 };
	char err[256];
	uint32_t relay;

	memset(f, 0, sizeof(*f));
	inet_pton(AF_INET, RELAY4, &relay);
	fake_dp_reset(2, 4096, relay);
	fake_pf_reset();
	lsn_open_unix(&f->l, "sess.sock");
	f->ts = ctl_tnotify_create();
	assert_int_equal(ctl_tnotify_add(f->ts, f->l.spec, err, sizeof(err)),
			 0);
	f->n = ctl_notify_create(f->ts);
	f->ports = ctl_ports_create(40000, 40098, 7);
	scfg.dp = ctl_dp_create("test");
	scfg.ports = f->ports;
	scfg.relay_ip = relay;
	scfg.ttl_ns = ttl_s * NS;
	scfg.setup_ttl_ns = setup_ttl_s * NS;
	scfg.on_timeout = ctl_notify_on_timeout;
	scfg.timeout_arg = f->n;
	scfg.pf = fake_pf_handle();
	f->sess = ctl_sessions_create(&scfg);
	ecfg.tnotify = f->ts;
	f->ex = ctl_exec_create(&ecfg, f->sess);
	ctl_sessions_bind_dp(f->sess);
}

static void
fx_close(struct fx *f)
{
	ctl_exec_destroy(f->ex);
	ctl_sessions_destroy(f->sess);
	ctl_notify_destroy(f->n);
	ctl_tnotify_destroy(f->ts);
	lsn_close(&f->l);
	assert_int_equal(ctl_ports_avail(f->ports), ctl_ports_total(f->ports));
	ctl_ports_destroy(f->ports);
	assert_int_equal(fake_dp_ids_in_use(), 0);
}

/* One stream command at time now (s), its reply. */
static const char *
cmd(struct fx *f, double now_s, const char *text)
{
	size_t n = ctl_exec_text(f->ex, text, strlen(text), false,
				 (uint64_t)(now_s * NS), f->out,
				 sizeof(f->out) - 1);

	f->out[n] = '\0';
	return f->out;
}

/* The 1 s tick at now (s): expiries, then the sender. */
static void
tick(struct fx *f, double now_s)
{
	ctl_sessions_tick(f->sess, (uint64_t)(now_s * NS));
	ctl_notify_run(f->n, (uint64_t)(now_s * NS));
}

/* A U/L reply for a relay port: "<port> 192.0.2.1\n". */
static void
assert_port_reply(const char *r)
{
	unsigned port;
	char rest[32];

	assert_int_equal(sscanf(r, "%u %31s", &port, rest), 2);
	assert_true(port >= 40000 && port <= 40098 && port % 2 == 0);
	assert_string_equal(rest, RELAY4);
	assert_int_equal(r[strlen(r) - 1], '\n');
}

/*
 * -T / -W: a session never answered expires after -W, a complete one
 * after -T since its last U/L; the notified ones write their tag to the
 * listener, an unknown notify socket arms nothing (the U succeeds), D'd
 * ones are never notified; the ports go back.
 */
static void
test_timeouts(void **st)
{
	struct fx f;
	struct ctl_sessions_counters c;
	char u[256];

	(void)st;
	fx_open(&f, 30, 5);
	/* t=100: A and X never answered (-W 5), B answered (-T 30) */
	assert_port_reply(cmd(&f, 100, "U a 198.51.100.1 5000 fa"));
	assert_string_equal(cmd(&f, 100, "Q a fa"), "5 0 0 0 0\n");
	assert_port_reply(cmd(&f, 100,
			      "U x 198.51.100.9 5000 fx "
			      "unix:/nonexistent tag_x"));
	snprintf(u, sizeof(u), "U b 198.51.100.2 5000 fb %s tag%%20b",
		 f.l.spec);
	assert_port_reply(cmd(&f, 100, u));
	assert_port_reply(cmd(&f, 100, "L b 198.51.100.3 6000 fb tb"));
	assert_string_equal(cmd(&f, 100, "Q b fb tb"), "30 0 0 0 0\n");
	/* C: armed, then deleted by D: never notified */
	snprintf(u, sizeof(u), "U c 198.51.100.4 5000 fc %s tag_c", f.l.spec);
	assert_port_reply(cmd(&f, 100, u));
	assert_string_equal(cmd(&f, 101, "D c fc"), "0\n");
	tick(&f, 105);
	assert_int_equal(ctl_sessions_count(f.sess), 3);
	assert_int_equal(fake_pf_nsocks(), 3 * 2 + 2); /* A, X, B: 4 legs */
	tick(&f, 105.5);
	assert_int_equal(ctl_sessions_count(f.sess), 1); /* A and X: -W */
	/* expired: out of the dataplane and the prefilter, ports back */
	assert_int_equal(fake_pf_nsocks(), 4);
	assert_int_equal(fake_dp_live_streams(), 4);
	assert_int_equal(ctl_ports_total(f.ports) - ctl_ports_avail(f.ports),
			 2);
	tick(&f, 129);
	assert_int_equal(ctl_sessions_count(f.sess), 1);
	assert_string_equal(cmd(&f, 129, "Q b fb tb"), "1 0 0 0 0\n");
	tick(&f, 131);
	assert_int_equal(ctl_sessions_count(f.sess), 0);
	assert_int_equal(fake_pf_nsocks(), 0);
	assert_int_equal(fake_dp_live_streams(), 0);
	assert_int_equal(fake_pf_errors(), 0);
	pump_until(f.n, &f.l, 6, 131 * NS);
	assert_string_equal(f.l.got->str, "tag b\n");
	ctl_sessions_counters(f.sess, &c);
	assert_int_equal(c.timeouts, 3);
	assert_int_equal(c.nortp, 4);
	fx_close(&f);
}

/*
 * "&& S ttl=N" sets the limit until the session completes; packets keep
 * a session alive; a later U without notify args disarms.
 */
static void
test_ttl_subcommand_and_packets(void **st)
{
	struct fx f;
	const struct rtpb_msg_stream *m;
	char u[256];

	(void)st;
	fx_open(&f, 60, 0);
	snprintf(u, sizeof(u), "U a 198.51.100.1 5000 fa %s ta_tag && S ttl=10",
		 f.l.spec);
	assert_port_reply(cmd(&f, 0, u));
	assert_string_equal(cmd(&f, 3, "Q a fa"), "7 0 0 0 0\n");
	/* answered: -T again */
	cmd(&f, 3, "L a 198.51.100.2 6000 fa ta");
	assert_string_equal(cmd(&f, 3, "Q a fa ta"), "60 0 0 0 0\n");
	/* a packet at t=50 on leg 0's RTP stream: alive until 110 */
	m = fake_dp_last_stream_msg(0, -1);
	assert_non_null(m);
	fake_dp_stats(0)->last_rx_ns = 50 * NS;
	tick(&f, 100);
	assert_int_equal(ctl_sessions_count(f.sess), 1);
	assert_string_equal(cmd(&f, 100, "Q a fa ta"), "10 0 0 0 0\n");
	/* a U without notify args disarms: no notification */
	cmd(&f, 100, "U a 198.51.100.1 5000 fa ta");
	tick(&f, 161);
	assert_int_equal(ctl_sessions_count(f.sess), 0);
	for (int r = 0; r < 10; r++) {
		ctl_notify_run(f.n, 161 * NS);
		lsn_poll(&f.l);
	}
	assert_int_equal(f.l.got->len, 0);
	fx_close(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tnotify_parse),
		cmocka_unit_test(test_tnotify_lookup),
		cmocka_unit_test(test_notify_unix),
		cmocka_unit_test(test_notify_queue_bound),
		cmocka_unit_test(test_notify_tcp),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_ttl_subcommand_and_packets),
	};
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_ctl_notify.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	ctl_log_set_level(getenv("CTL_TEST_LOG") ? CTL_LOG_DBUG : CTL_LOG_CRIT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	/* a failed test may have left its listeners' paths */
	for (size_t k = 0; k < 2; k++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", tmpdir,
			 k == 0 ? "n1.sock" : "sess.sock");
		unlink(path);
	}
	rmdir(tmpdir);
	return rc;
}
