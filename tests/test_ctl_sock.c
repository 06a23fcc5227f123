/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_sock: the protocol over real control sockets (ctl_sock.c).
 *
 * The golden part: every command of tests/data/ctl_sock.golden (its
 * form in tests/golden.h: "> command", then its "< reply" lines) is sent
 * over each control socket kind, listened on by ctl_sock.c as control does:
 * udp:127.0.0.1, udp6:[::1], tcp:127.0.0.1, tcp6:[::1] (ephemeral ports),
 * unix: and cunix: (paths in a temp dir), served by the executor against
 * the fake dataplane (tests/fake_ctl_dp.c). Each reply must equal the
 * command's reply lines byte for byte, for every kind: on udp/udp6 each
 * command goes as "<cookie> <command>" (Kamailio's form, no newline) and
 * the reply must start with "<cookie> ", which is stripped; on tcp,
 * tcp6 and cunix all commands go over one connection, one line each; on
 * unix each goes over a new connection, one write, no newline (an empty
 * command as one space), and the reply is all there is before the close.
 * The state (sessions, seeded port pools, counters) starts over for each
 * kind. The actual replies go to test_ctl_sock.<kind>.actual, in the
 * golden form, for diffing.
 *
 * Then the framing rules of each kind (rtpproxy src/rtpp_command*.c):
 * datagram retransmissions answered from the cache, replies to each
 * sender; unix: one read is one command (a newline is only whitespace);
 * continuous kinds: several commands in one write, one split across
 * writes, CR LF ends, nothing for an unterminated line at EOF.
 *
 * Every wait is bounded (PUMP_MAX rounds of a 10 ms poll()).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include "ctl_sock.h"
#include "fake_ctl_dp.h"
#include "golden.h"

#define NS 1000000000ULL
#define RELAY4 "192.0.2.1"
#define RELAY6 "2001:db8::1"
#define PUMP_MAX 300 /* 10 ms rounds: 3 s at most per reply */

static const char *golden_path;
static char tmpdir[64];

/* One control process: state, executor, listeners. */
struct srv {
	struct ctl_ports *ports, *ports6;
	struct ctl_sessions *sess;
	struct ctl_exec *ex;
	struct ctl_socks *socks;
	struct sockaddr_storage addr; /* inet kinds: where it listens */
	socklen_t addrlen;
	char path[108]; /* unix kinds */
	enum ctl_sock_kind kind;
	int handled; /* commands answered so far */
};

static void
srv_open(struct srv *s, enum ctl_sock_kind kind)
{
	static const char *const spec[] = {
		[CTL_SOCK_UDP] = "udp:127.0.0.1:1",
		[CTL_SOCK_UDP6] = "udp6:[::1]:1",
		[CTL_SOCK_TCP] = "tcp:127.0.0.1:1",
		[CTL_SOCK_TCP6] = "tcp6:[::1]:1",
		[CTL_SOCK_UNIX] = "unix:",
		[CTL_SOCK_CUNIX] = "cunix:",
	};
	struct ctl_sessions_cfg scfg = { .ttl_ns = 60 * NS,
					 .learn_ms = CTL_LEARN_MS };
	struct ctl_exec_cfg ecfg = { 0 };
	struct ctl_sock_spec sp;
	struct rtpb_addr a[2] = { { .family = RTPB_AF_INET },
				  { .family = RTPB_AF_INET6 } };
	char text[200], err[256];
	uint32_t relay;

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	inet_pton(AF_INET, RELAY4, &relay);
	fake_dp_reset(2, 4096, relay);
	inet_pton(AF_INET, RELAY4, a[0].ip);
	inet_pton(AF_INET6, RELAY6, a[1].ip);
	fake_dp_set_addrs(a, 2);
	s->ports = ctl_ports_create(23820, 23840, 1);
	s->ports6 = ctl_ports_create(23820, 23840, 2);
	scfg.dp = ctl_dp_create("test");
	scfg.ports = s->ports;
	scfg.ports6 = s->ports6;
	scfg.relay_ip = relay;
	inet_pton(AF_INET6, RELAY6, scfg.relay6);
	s->sess = ctl_sessions_create(&scfg);
	s->ex = ctl_exec_create(&ecfg, s->sess);
	ctl_sessions_bind_dp(s->sess);
	s->socks = ctl_socks_create();
	assert_non_null(s->socks);

	if (kind == CTL_SOCK_UNIX || kind == CTL_SOCK_CUNIX) {
		snprintf(s->path, sizeof(s->path), "%s/%s.sock", tmpdir,
			 ctl_sock_kind_name(kind));
		snprintf(text, sizeof(text), "%s%s", spec[kind], s->path);
	} else {
		snprintf(text, sizeof(text), "%s", spec[kind]);
	}
	assert_int_equal(ctl_sock_parse(text, &sp, err, sizeof(err)), 0);
	/* an ephemeral port: what the kernel picks */
	if (sp.addr.ss_family == AF_INET)
		((struct sockaddr_in *)&sp.addr)->sin_port = 0;
	else if (sp.addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&sp.addr)->sin6_port = 0;
	assert_int_equal(ctl_socks_listen(s->socks, &sp), 0);
	if (s->path[0] == '\0')
		assert_int_equal(
			ctl_socks_local(s->socks, 0, &s->addr, &s->addrlen), 0);
}

static void
srv_close(struct srv *s)
{
	ctl_socks_destroy(s->socks);
	ctl_exec_destroy(s->ex);
	ctl_sessions_destroy(s->sess);
	assert_int_equal(ctl_ports_avail(s->ports), ctl_ports_total(s->ports));
	assert_int_equal(ctl_ports_avail(s->ports6),
			 ctl_ports_total(s->ports6));
	ctl_ports_destroy(s->ports);
	ctl_ports_destroy(s->ports6);
	assert_int_equal(fake_dp_ids_in_use(), 0);
	assert_int_equal(fake_dp_errors(), 0);
	/* the unix paths go with the listeners */
	if (s->path[0] != '\0')
		assert_int_equal(access(s->path, F_OK), -1);
}

/* One round of control's loop: up to 10 ms in poll(). */
static void
srv_pump(struct srv *s)
{
	uint64_t idle;
	int n = ctl_socks_run(s->socks, s->ex, 10000000ull, &idle); /* 10 ms */

	assert_true(n >= 0);
	s->handled += n;
}

/* A client socket connected to the server. */
static int
cli_connect(const struct srv *s)
{
	int fd;

	if (s->path[0] != '\0') {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", s->path);
		assert_int_equal(
			connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	} else {
		fd = socket(s->addr.ss_family,
			    (ctl_sock_is_datagram(s->kind) ? SOCK_DGRAM :
							     SOCK_STREAM) |
				    SOCK_CLOEXEC,
			    0);
		assert_true(fd >= 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&s->addr,
					 s->addrlen),
				 0);
	}
	return fd;
}

static void
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

/*
 * Read what the server answers: pump until it handled `want` more
 * commands (a cached datagram counts) and something arrived, then take
 * what arrived (each reply is one write, so it is all there).
 * until_eof: read up to the server's close (unix one-shot).
 * @return bytes appended to out.
 */
static size_t
collect(struct srv *s, int fd, int want, bool until_eof, GString *out)
{
	int target = s->handled + want;
	size_t got = 0;
	char buf[4096];

	for (int r = 0; r < PUMP_MAX; r++) {
		ssize_t n;

		srv_pump(s);
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			g_string_append_len(out, buf, n);
			got += (size_t)n;
		}
		if (until_eof) {
			if (n == 0)
				return got;
			continue;
		}
		if (s->handled >= target && got > 0)
			return got;
	}
	fail_msg("no reply within %d rounds (%s)", PUMP_MAX,
		 ctl_sock_kind_name(s->kind));
	return got;
}

/* The golden file over one kind. */
static void
run_golden(enum ctl_sock_kind kind)
{
	struct srv s;
	struct golden_file *gf = golden_read(golden_path);
	GString *actual = g_string_new(NULL), *errs = g_string_new(NULL);
	char name[64];
	int fd = -1, nerrs = 0;

	srv_open(&s, kind);
	if (kind != CTL_SOCK_UNIX)
		fd = cli_connect(&s);
	for (guint i = 0; i < gf->steps->len; i++) {
		const struct golden_step *st = g_ptr_array_index(gf->steps, i);
		const char *cmd = st->cmd;
		GString *reply = g_string_new(NULL);

		if (st->cmd == NULL)
			fail_msg("%s:%d: no directives here", golden_path,
				 st->line);

		switch (kind) {
		case CTL_SOCK_UDP:
		case CTL_SOCK_UDP6: {
			char cookie[32];
			char *dg;

			snprintf(cookie, sizeof(cookie), "%d_%u", getpid(), i);
			dg = cmd[0] != '\0' ?
				     g_strdup_printf("%s %s", cookie, cmd) :
				     g_strdup(cookie);
			send_all(fd, dg, strlen(dg));
			g_free(dg);
			collect(&s, fd, 1, false, reply);
			/* the reply carries the cookie, then one space */
			assert_true(reply->len > strlen(cookie) &&
				    strncmp(reply->str, cookie,
					    strlen(cookie)) == 0 &&
				    reply->str[strlen(cookie)] == ' ');
			g_string_erase(reply, 0, (gssize)strlen(cookie) + 1);
			break;
		}
		case CTL_SOCK_UNIX:
			fd = cli_connect(&s);
			/* Kamailio: one write, no newline */
			send_all(fd, cmd[0] != '\0' ? cmd : " ",
				 cmd[0] != '\0' ? strlen(cmd) : 1);
			collect(&s, fd, 1, true, reply);
			close(fd);
			fd = -1;
			break;
		default: {
			char *line = g_strdup_printf("%s\n", cmd);

			send_all(fd, line, strlen(line));
			g_free(line);
			collect(&s, fd, 1, false, reply);
			break;
		}
		}
		golden_check(st, reply->str, reply->len, actual, errs, &nerrs);
		g_string_free(reply, TRUE);
	}
	if (fd >= 0)
		close(fd);
	snprintf(name, sizeof(name), "test_ctl_sock.%s.actual",
		 ctl_sock_kind_name(kind));
	golden_write_actual(gf, actual, name);
	if (nerrs > 0)
		fail_msg("%s: %d of %u commands differ (see %s):%s",
			 ctl_sock_kind_name(kind), nerrs, gf->steps->len, name,
			 errs->str);
	g_string_free(actual, TRUE);
	g_string_free(errs, TRUE);
	golden_free(gf);
	srv_close(&s);
}

static void
test_golden_udp(void **st)
{
	(void)st;
	run_golden(CTL_SOCK_UDP);
}
static void
test_golden_udp6(void **st)
{
	(void)st;
	run_golden(CTL_SOCK_UDP6);
}
static void
test_golden_tcp(void **st)
{
	(void)st;
	run_golden(CTL_SOCK_TCP);
}
static void
test_golden_tcp6(void **st)
{
	(void)st;
	run_golden(CTL_SOCK_TCP6);
}
static void
test_golden_unix(void **st)
{
	(void)st;
	run_golden(CTL_SOCK_UNIX);
}
static void
test_golden_cunix(void **st)
{
	(void)st;
	run_golden(CTL_SOCK_CUNIX);
}

/* Send s, collect the replies to want commands. */
static char *
exchange(struct srv *s, int fd, const char *text, int want)
{
	GString *r = g_string_new(NULL);

	send_all(fd, text, strlen(text));
	collect(s, fd, want, false, r);
	return g_string_free(r, FALSE);
}

/* Send text; the replies to its want commands read exactly reply. */
static void
expect_reply(struct srv *s, int fd, const char *text, int want, const char *reply)
{
	char *r = exchange(s, fd, text, want);

	assert_string_equal(r, reply);
	g_free(r);
}

/*
 * udp: a retransmission (same cookie) gets the cached reply and is not
 * run again, even with another command; every reply goes to its
 * sender; the counters show one command and one duplicate.
 */
static void
test_udp_cache(void **st)
{
	struct srv s;
	int fd, fd2;
	struct ctl_exec_counters c;

	(void)st;
	srv_open(&s, CTL_SOCK_UDP);
	fd = cli_connect(&s);
	fd2 = cli_connect(&s);
	expect_reply(&s, fd, "k1 U c1 198.51.100.1 5000 f1", 1, "k1 23838 192.0.2.1\n");
	expect_reply(&s, fd, "k1 U c1 198.51.100.1 5000 f1", 1, "k1 23838 192.0.2.1\n");
	expect_reply(&s, fd2, "k1 V", 1, "k1 23838 192.0.2.1\n");
	expect_reply(&s, fd2, "k2 V\n", 1, "k2 20040107\n");
	ctl_exec_counters(s.ex, &c);
	assert_int_equal(c.ncmds_rcvd, 2);
	assert_int_equal(c.ncmds_rcvd_ndups, 2);
	assert_int_equal(ctl_sessions_count(s.sess), 1);
	close(fd);
	close(fd2);
	srv_close(&s);
}

/*
 * udp: 40 datagrams (8 U, 32 V) from three senders waiting at once (more
 * than one recvmmsg() batch) are all answered, each to its sender with its
 * cookie, in order; the dataplane is synced once per batch, not per
 * command, and before the replies leave.
 */
static void
test_udp_batch(void **st)
{
	enum { N = 80, NCLI = 3, EVERY = 10 };
	struct srv s;
	int fd[NCLI], got[NCLI] = {0};
	char text[128], buf[512];
	uint32_t syncs0;

	(void)st;
	srv_open(&s, CTL_SOCK_UDP);
	for (int c = 0; c < NCLI; c++)
		fd[c] = cli_connect(&s);
	syncs0 = fake_dp_syncs();
	/* every 10th a new session (the pool has 10 port pairs), the rest V */
	for (int i = 0; i < N; i++) {
		if (i % EVERY == 0)
			snprintf(text, sizeof(text), "b%d U call%d 198.51.100.%d 5000 f%d", i,
				 i, 10 + i, i);
		else
			snprintf(text, sizeof(text), "b%d V", i);
		send_all(fd[i % NCLI], text, strlen(text));
	}
	for (int r = 0; r < PUMP_MAX && s.handled < N; r++)
		srv_pump(&s);
	assert_int_equal(s.handled, N);
	assert_int_equal(fake_dp_unsynced(), 0);
	assert_true(fake_dp_syncs() - syncs0 >= 2); /* 80 > one batch of 64 */
	assert_true(fake_dp_syncs() - syncs0 <= 4);
	for (int c = 0; c < NCLI; c++) {
		ssize_t n;

		while ((n = recv(fd[c], buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
			int i = c + NCLI * got[c];
			char want[16];

			buf[n] = '\0';
			snprintf(want, sizeof(want), "b%d ", i);
			assert_true(strncmp(buf, want, strlen(want)) == 0);
			assert_non_null(strstr(buf, i % EVERY == 0 ? " 192.0.2.1\n" : " 20040107\n"));
			got[c]++;
		}
		close(fd[c]);
	}
	assert_int_equal(got[0] + got[1] + got[2], N);
	assert_int_equal(ctl_sessions_count(s.sess), N / EVERY);
	srv_close(&s);
}

/*
 * unix: what one read brings is one command, a newline is whitespace
 * (rtpproxy's quirk: "U ...\nV\n" is one U whose to_tag is "V").
 */
static void
test_unix_oneshot(void **st)
{
	struct srv s;
	GString *r = g_string_new(NULL);
	int fd;

	(void)st;
	srv_open(&s, CTL_SOCK_UNIX);
	fd = cli_connect(&s);
	send_all(fd, "U c1 198.51.100.1 5000 f1\nV\n", 28);
	collect(&s, fd, 1, true, r);
	assert_string_equal(r->str, "23838 192.0.2.1\n");
	close(fd);
	/* the to_tag "V" was taken: L with it finds the session */
	fd = cli_connect(&s);
	g_string_truncate(r, 0);
	send_all(fd, "L c1 198.51.100.2 6000 f1 V", 27);
	collect(&s, fd, 1, true, r);
	assert_string_equal(r->str, "23834 192.0.2.1\n");
	close(fd);
	g_string_free(r, TRUE);
	srv_close(&s);
}

/*
 * tcp, cunix: many commands in one write, one split across writes,
 * CR LF endings; an unterminated line at EOF is not run.
 */
static void
run_continuous(enum ctl_sock_kind kind)
{
	struct srv s;
	int fd;

	srv_open(&s, kind);
	fd = cli_connect(&s);
	expect_reply(&s, fd, "V\nVF 20050322\nVF 19990101\n", 3, "20040107\n1\n0\n");
	expect_reply(&s, fd, "V\r\n", 1, "20040107\n");
	send_all(fd, "U c1 198.51", 11);
	for (int k = 0; k < 5; k++)
		srv_pump(&s);
	assert_int_equal(ctl_sessions_count(s.sess), 0);
	expect_reply(&s, fd, ".100.1 5000 f1\n", 1, "23838 192.0.2.1\n");
	/* no newline, then EOF: nothing runs, nothing is answered */
	send_all(fd, "X", 1);
	shutdown(fd, SHUT_WR);
	for (int k = 0; k < 10; k++)
		srv_pump(&s);
	assert_int_equal(ctl_sessions_count(s.sess), 1);
	assert_int_equal(recv(fd, (char[8]){ 0 }, 8, MSG_DONTWAIT), 0);
	close(fd);
	srv_close(&s);
}

static void
test_tcp_continuous(void **st)
{
	(void)st;
	run_continuous(CTL_SOCK_TCP);
}
static void
test_tcp6_continuous(void **st)
{
	(void)st;
	run_continuous(CTL_SOCK_TCP6);
}
static void
test_cunix_continuous(void **st)
{
	(void)st;
	run_continuous(CTL_SOCK_CUNIX);
}

/* Did the server close fd (EOF within a few pumps)? */
static bool
closed_by_server(struct srv *s, int fd)
{
	char b[64];

	for (int k = 0; k < 20; k++) {
		ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		srv_pump(s);
	}
	return false;
}

/*
 * Exhaustion (issue 16): a client holds at most --conn-per-peer
 * continuous connections; silent ones are closed after --conn-idle; with
 * every slot taken, the longest silent one (for 1 s) makes room; what is
 * refused is counted.
 */
static void
test_conn_limits(void **st)
{
	struct ctl_socks_counters c;
	struct srv s;
	int fd[CTL_SOCK_MAX_CONN + 1];

	(void)st;
	srv_open(&s, CTL_SOCK_TCP);
	ctl_socks_set_limits(s.socks, 60 * NS, 4);
	for (int i = 0; i < 4; i++) {
		fd[i] = cli_connect(&s);
		expect_reply(&s, fd[i], "V\n", 1, "20040107\n");
	}
	/* the fifth of 127.0.0.1 is closed at once */
	fd[4] = cli_connect(&s);
	assert_true(closed_by_server(&s, fd[4]));
	close(fd[4]);
	ctl_socks_counters(s.socks, &c);
	assert_int_equal(c.refused, 1);
	/* a command restarts the silence; 61 s later all four are closed */
	ctl_socks_tick(s.socks, ctl_now_ns() + 30 * NS);
	ctl_socks_counters(s.socks, &c);
	assert_int_equal(c.idle_closed, 0);
	ctl_socks_tick(s.socks, ctl_now_ns() + 61 * NS);
	ctl_socks_counters(s.socks, &c);
	assert_int_equal(c.idle_closed, 4);
	for (int i = 0; i < 4; i++) {
		assert_true(closed_by_server(&s, fd[i]));
		close(fd[i]);
	}
	/* every slot taken: after a second of silence the oldest makes
	 * room for a new one, which is served */
	ctl_socks_set_limits(s.socks, 0, CTL_SOCK_MAX_CONN);
	for (int i = 0; i < CTL_SOCK_MAX_CONN; i++) {
		fd[i] = cli_connect(&s);
		srv_pump(&s);
	}
	for (int k = 0; k < 5; k++)
		srv_pump(&s);
	usleep(1100 * 1000);
	/* from another client (127.0.0.2): 127.0.0.1 holds its limit */
	{
		struct sockaddr_in me = {.sin_family = AF_INET};
		int f = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		inet_pton(AF_INET, "127.0.0.2", &me.sin_addr);
		assert_int_equal(bind(f, (struct sockaddr *)&me, sizeof(me)), 0);
		assert_int_equal(connect(f, (struct sockaddr *)&s.addr, s.addrlen), 0);
		fd[CTL_SOCK_MAX_CONN] = f;
	}
	expect_reply(&s, fd[CTL_SOCK_MAX_CONN], "V\n", 1, "20040107\n");
	ctl_socks_counters(s.socks, &c);
	assert_int_equal(c.evicted, 1);
	assert_true(closed_by_server(&s, fd[0]));
	for (int i = 0; i <= CTL_SOCK_MAX_CONN; i++)
		close(fd[i]);
	srv_close(&s);
}

/* -s forms: kinds, default port, brackets, the unsupported ones. */
static void
test_parse(void **st)
{
	struct ctl_sock_spec sp;
	char err[256];

	(void)st;
	assert_int_equal(ctl_sock_parse("tcp:127.0.0.1", &sp, err, sizeof(err)),
			 0);
	assert_int_equal(sp.kind, CTL_SOCK_TCP);
	assert_int_equal(ntohs(((struct sockaddr_in *)&sp.addr)->sin_port),
			 22222);
	assert_int_equal(
		ctl_sock_parse("tcp6:[::1]:3000", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.kind, CTL_SOCK_TCP6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&sp.addr)->sin6_port),
			 3000);
	assert_int_equal(ctl_sock_parse("tcp6:::1", &sp, err, sizeof(err)), 0);
	assert_int_equal(ctl_sock_parse("udp:*:5000", &sp, err, sizeof(err)),
			 0);
	assert_int_equal(ctl_sock_parse("cunix:/tmp/x", &sp, err, sizeof(err)),
			 0);
	assert_int_equal(sp.kind, CTL_SOCK_CUNIX);
	assert_int_equal(ctl_sock_parse("/tmp/x", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.kind, CTL_SOCK_UNIX);
	assert_int_equal(ctl_sock_parse("tcp:127.0.0.1:0", &sp, err,
					sizeof(err)),
			 -EINVAL);
	assert_int_equal(ctl_sock_parse("tcp:127.0.0.1:65536", &sp, err,
					sizeof(err)),
			 -EINVAL);
	assert_int_equal(ctl_sock_parse("stdio:", &sp, err, sizeof(err)),
			 -ENOTSUP);
	assert_int_equal(ctl_sock_parse("systemd:x", &sp, err, sizeof(err)),
			 -ENOTSUP);
	assert_int_equal(ctl_sock_parse("sctp:1.2.3.4", &sp, err, sizeof(err)),
			 -EINVAL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_golden_udp),
		cmocka_unit_test(test_golden_udp6),
		cmocka_unit_test(test_golden_tcp),
		cmocka_unit_test(test_golden_tcp6),
		cmocka_unit_test(test_golden_unix),
		cmocka_unit_test(test_golden_cunix),
		cmocka_unit_test(test_udp_cache),
		cmocka_unit_test(test_udp_batch),
		cmocka_unit_test(test_unix_oneshot),
		cmocka_unit_test(test_tcp_continuous),
		cmocka_unit_test(test_tcp6_continuous),
		cmocka_unit_test(test_cunix_continuous),
		cmocka_unit_test(test_conn_limits),
	};
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s GOLDEN\n", argv[0]);
		return 2;
	}
	golden_path = argv[1];
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_ctl_sock.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	ctl_log_set_level(getenv("CTL_TEST_LOG") ? CTL_LOG_DBUG : CTL_LOG_CRIT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	/* a failed test may have left its listeners' paths */
	for (int k = CTL_SOCK_UNIX; k <= CTL_SOCK_CUNIX; k++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s.sock", tmpdir,
			 ctl_sock_kind_name((enum ctl_sock_kind)k));
		unlink(path);
	}
	rmdir(tmpdir);
	return rc;
}
