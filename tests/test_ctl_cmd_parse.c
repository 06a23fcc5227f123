/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_cmd_parse: the protocol golden test, as rtpproxy's
 * tests/command_parser: tests/data/cmd_parse.golden (its form in
 * tests/golden.h) is a list of steps, each a command or a harness
 * directive with the reply it must give under it:
 *
 *   > U c1 198.51.100.9 5000 f1   a command, run through ctl_exec_text()
 *   < 23838 192.0.2.1             (parse + exec) against the fake
 *   !dp msgs                      dataplane; a directive: what it
 *   < dp ADD 0 ...                outputs follows
 *
 * Each step's output must equal its '<' lines byte for byte; every step
 * that differs is reported with its line. The actual steps and output,
 * in the same form, go to test_ctl_cmd_parse.actual in the current
 * directory for diffing.
 *
 * Command forms (after "> "):
 *   CMD           a stream-mode command (no cookie)
 *   @DATAGRAM     a datagram: cookie first, reply carries it, cached
 *   ~CMD          stream command with each "\0" replaced by a NUL byte
 *   ~@DATAGRAM    the same for a datagram
 * Directives:
 *   !time S       set the clock to S seconds
 *   !tick         run the 1 s housekeeping (TTL, reply cache)
 *   !dp attach|detach|ringfull|ringok|restart
 *   !dp clear     forget the messages pushed to the fake dataplane
 *   !dp msgs      output those pushed since, one line each: "dp ADD|
 *                 UPDATE ID LOCAL peer SIGNALLED|none out ID|- [asym]
 *                 [rtcp]" or "dp DEL ID LOCAL" (IPv6 in brackets);
 *                 then forget them
 *   !dp addrs A.. the relay addresses the fake dataplane serves (at the
 *                 start: 192.0.2.1 and 2001:db8::1)
 *   !config inet4|inet6|dual|bridge|labels [pf] [notify] [W=S] [aforce]
 *                 start over (every session deleted, counters zero) as
 *                 started with -l 192.0.2.1, -6 2001:db8::1, or both;
 *                 bridge: -l 192.0.2.1/198.51.100.100 -A
 *                 10.1.1.1/203.0.113.100 (internal/external); labels:
 *                 -l 192.0.2.1 -l pub@192.0.2.2=203.0.113.2
 *                 -l lab2@192.0.2.3 -6 2001:db8::1; the fake dataplane
 *                 serves every configured address; with pf, the fake
 *                 prefilter (tests/fake_ctl_pf.c) is on, emptied; with
 *                 notify, -n unix:/tmp/rtpb-n.sock -n tcp:127.0.0.1:9
 *                 -n tcp:%%CC_SELF%%:9 (no I/O: a timeout notification
 *                 is output as "notify TARGET TAG"); W=S is -W S; aforce
 *                 is --force_asymmetric; the file starts with inet4
 *   !pf stat NAME N  the fake prefilter's counter of verdict NAME is N
 *   !pf dump      output its socket entries, sorted, "pf ADDR:PORT[
 *                 latched PEER:PORT]" each ("pf none": no entry)
 *   !latch ID PEER:PORT  the dataplane latched stream ID to PEER:PORT
 *                 (reason LEARN; IPv6 as [ADDR]:PORT)
 *   !rx ID N      stream ID: pkts_in += N, pkts_relayed += N,
 *                 last_rx_ns = now
 *   !src ADDR|none  later commands come from ADDR (IPv4 or IPv6, for
 *                 tcp:%%CC_SELF%% notify targets), or a unix socket
 * Ports are random from pools seeded with 1 (IPv4) and 2 (IPv6) over the
 * same range, so they are reproducible.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <glib.h>

#include "ctl_addrs.h"
#include "ctl_cmd_exec.h"
#include "ctl_log.h"
#include "ctl_tnotify.h"
#include "fake_ctl_dp.h"
#include "fake_ctl_pf.h"
#include "golden.h"

#define NS 1000000000ULL
#define RELAY4 "192.0.2.1"
#define RELAY6 "2001:db8::1"

static const char *golden_path;

struct golden {
	struct ctl_ports *ports;
	struct ctl_ports *ports6;
	struct ctl_sessions *sess;
	struct ctl_exec *ex;
	struct ctl_tnotify *tnotify;
	struct ctl_addrs addrs;
	uint64_t now;
	GString *out;
	struct sockaddr_storage src; /* "!src", ss_family 0: none */
};

/* What "!config" asked for. */
struct golden_cfg {
	char kind[16]; /* inet4 inet6 dual bridge labels */
	bool pf;
	bool notify;
	bool aforce;
	long setup_ttl_s;
};

/* The on_timeout callback: the notification as a line of output. */
static void
golden_notify(int target, const char *tag, const char *call_id, void *arg)
{
	struct golden *g = arg;
	char name[300];

	(void)call_id;
	g_string_append_printf(g->out, "notify %s %s\n",
			       ctl_tnotify_describe(g->tnotify, target, name,
						    sizeof(name)),
			       tag);
}

/* The relay address table of a configuration. */
static void
golden_addrs(struct golden *g, const struct golden_cfg *c)
{
	static const struct ctl_addr_arg bridge[] = {
		{"192.0.2.1/198.51.100.100", false}};
	static const struct ctl_addr_arg labels[] = {
		{"192.0.2.1", false}, {"pub@192.0.2.2=203.0.113.2", false},
		{"lab2@192.0.2.3", false}, {"2001:db8::1", true}};
	uint32_t r4 = 0;
	uint8_t r6[16];
	char err[256];
	int rc = 0;

	inet_pton(AF_INET, RELAY4, &r4);
	inet_pton(AF_INET6, RELAY6, r6);
	if (strcmp(c->kind, "bridge") == 0)
		rc = ctl_addrs_build(&g->addrs, bridge, 1,
				     "10.1.1.1/203.0.113.100", true, err,
				     sizeof(err), NULL, 0);
	else if (strcmp(c->kind, "labels") == 0)
		rc = ctl_addrs_build(&g->addrs, labels, 4, NULL, true, err,
				     sizeof(err), NULL, 0);
	else
		ctl_addrs_from_relays(&g->addrs,
				      strcmp(c->kind, "inet6") != 0 ? r4 : 0,
				      strcmp(c->kind, "inet4") != 0 ? r6 : NULL);
	if (rc != 0)
		fail_msg("!config %s: %s", c->kind, err);
}

/* A session table and an executor as configured. */
static void
golden_open(struct golden *g, const struct golden_cfg *c)
{
	struct ctl_sessions_cfg scfg = {.ttl_ns = 60 * NS,
					.learn_ms = CTL_LEARN_MS};
	struct ctl_exec_cfg ecfg = {.aforce = c->aforce};
	struct rtpb_addr served[CTL_ADDRS_MAX];
	char err[256];

	golden_addrs(g, c);
	for (uint32_t i = 0; i < g->addrs.n; i++)
		served[i] = g->addrs.a[i].ip;
	fake_dp_set_addrs(served, g->addrs.n);
	scfg.dp = ctl_dp_create("test");
	scfg.addrs = &g->addrs;
	if (ctl_addrs_default(&g->addrs, RTPB_AF_INET) >= 0)
		scfg.ports = g->ports;
	if (ctl_addrs_default(&g->addrs, RTPB_AF_INET6) >= 0)
		scfg.ports6 = g->ports6;
	scfg.setup_ttl_ns = (uint64_t)c->setup_ttl_s * NS;
	if (c->pf) {
		fake_pf_reset();
		scfg.pf = ecfg.pf = fake_pf_handle();
	}
	if (c->notify) {
		g->tnotify = ctl_tnotify_create();
		if (ctl_tnotify_add(g->tnotify, "unix:/tmp/rtpb-n.sock", err,
				    sizeof(err)) != 0 ||
		    ctl_tnotify_add(g->tnotify, "tcp:127.0.0.1:9", err,
				    sizeof(err)) != 0 ||
		    ctl_tnotify_add(g->tnotify, "tcp:%%CC_SELF%%:9", err,
				    sizeof(err)) != 0)
			fail_msg("-n: %s", err);
		ecfg.tnotify = g->tnotify;
		scfg.on_timeout = golden_notify;
		scfg.timeout_arg = g;
	}
	g->sess = ctl_sessions_create(&scfg);
	g->ex = ctl_exec_create(&ecfg, g->sess);
	ctl_sessions_bind_dp(g->sess);
}

static void
golden_close(struct golden *g)
{
	ctl_exec_destroy(g->ex);
	ctl_sessions_destroy(g->sess);
	ctl_tnotify_destroy(g->tnotify);
	g->tnotify = NULL;
	g->ex = NULL;
	g->sess = NULL;
}

/* "!dp addrs A B ...": the addresses the fake dataplane serves. */
static void
dp_addrs(const char *list)
{
	struct rtpb_addr a[RTPB_MAX_ADDRS];
	char **w = g_strsplit(list, " ", -1);
	size_t n = 0;

	for (char **p = w; *p != NULL && n < RTPB_MAX_ADDRS; p++) {
		if (**p == '\0')
			continue;
		memset(&a[n], 0, sizeof(a[n]));
		if (inet_pton(AF_INET, *p, a[n].ip) == 1)
			a[n].family = RTPB_AF_INET;
		else if (inet_pton(AF_INET6, *p, a[n].ip) == 1)
			a[n].family = RTPB_AF_INET6;
		else
			fail_msg("!dp addrs: bad address %s", *p);
		n++;
	}
	g_strfreev(w);
	fake_dp_set_addrs(a, n);
}

/* "ADDR:PORT", IPv6 as "[ADDR]:PORT", "none". */
static const char *
addr_text(const struct rtpb_addr *a, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->family == RTPB_AF_NONE) {
		snprintf(buf, n, "none");
		return buf;
	}
	inet_ntop(a->family == RTPB_AF_INET6 ? AF_INET6 : AF_INET, a->ip, ip,
		  sizeof(ip));
	snprintf(buf, n, a->family == RTPB_AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
		 ntohs(a->port));
	return buf;
}

/* "!dp msgs": what control pushed, one line each, then forget it. */
static void
dp_msgs(struct golden *g)
{
	for (size_t i = 0; i < fake_dp_nmsgs(); i++) {
		const struct rtpb_msg *m = fake_dp_msg(i);
		char l[64], p[64], o[16];

		if (m->hdr.type == RTPB_MSG_STREAM_DEL) {
			g_string_append_printf(g->out, "dp DEL %u %s\n",
					       m->del.stream_id,
					       addr_text(&m->del.local, l, sizeof(l)));
			continue;
		}
		if (m->stream.out_stream_id == RTPB_STREAM_NONE)
			snprintf(o, sizeof(o), "-");
		else
			snprintf(o, sizeof(o), "%u", m->stream.out_stream_id);
		bool asym = m->stream.flags & RTPB_STREAM_F_ASYMMETRIC;
		bool rtcp = m->stream.flags & RTPB_STREAM_F_RTCP;

		g_string_append_printf(
			g->out, "dp %s %u %s peer %s out %s%s%s\n",
			m->hdr.type == RTPB_MSG_STREAM_ADD ? "ADD" : "UPDATE",
			m->stream.stream_id,
			addr_text(&m->stream.local, l, sizeof(l)),
			addr_text(&m->stream.signalled, p, sizeof(p)), o,
			asym ? " asym" : "", rtcp ? " rtcp" : "");
	}
	fake_dp_clear_msgs();
}

/* "!latch ID PEER:PORT": a LEARN latch event of stream ID, with the
 * cookie of its last ADD/UPDATE. */
static void
latch(uint32_t id, const char *peer)
{
	const struct rtpb_msg_stream *m = fake_dp_last_stream_msg(id, -1);
	struct rtpb_msg_ev_latch ev = {.stream_id = id,
				       .reason = RTPB_LATCH_LEARN};
	const char *colon = strrchr(peer, ':');
	char ip[INET6_ADDRSTRLEN + 2];
	size_t n = colon != NULL ? (size_t)(colon - peer) : 0;

	if (m == NULL || colon == NULL || n >= sizeof(ip)) {
		fail_msg("!latch %u %s: no such stream or not ADDR:PORT", id, peer);
		return;
	}
	memcpy(ip, peer, n);
	ip[n] = '\0';
	if (n > 2 && ip[0] == '[' && ip[n - 1] == ']') {
		ip[n - 1] = '\0';
		if (inet_pton(AF_INET6, ip + 1, ev.peer.ip) != 1)
			fail_msg("!latch: bad address %s", peer);
		ev.peer.family = RTPB_AF_INET6;
	} else {
		if (inet_pton(AF_INET, ip, ev.peer.ip) != 1)
			fail_msg("!latch: bad address %s", peer);
		ev.peer.family = RTPB_AF_INET;
	}
	ev.peer.port = htons((uint16_t)atoi(colon + 1));
	ev.cookie = m->cookie;
	fake_dp_latch_ev(&ev);
}

static void
directive(struct golden *g, const char *line)
{
	unsigned id, n;
	char name[64];
	double s;

	if (sscanf(line, "!time %lf", &s) == 1) {
		g->now = (uint64_t)(s * NS);
		fake_dp_set_clock(g->now);
	} else if (strcmp(line, "!tick") == 0) {
		ctl_sessions_tick(g->sess, g->now);
		ctl_exec_tick(g->ex, g->now);
	} else if (strcmp(line, "!dp attach") == 0) {
		fake_dp_set_attached(true);
	} else if (strcmp(line, "!dp detach") == 0) {
		fake_dp_set_attached(false);
	} else if (strcmp(line, "!dp ringfull") == 0) {
		fake_dp_set_ring_full(true);
	} else if (strcmp(line, "!dp ringok") == 0) {
		fake_dp_set_ring_full(false);
		ctl_sessions_flush(g->sess);
	} else if (strcmp(line, "!dp clear") == 0) {
		fake_dp_clear_msgs();
	} else if (strcmp(line, "!dp msgs") == 0) {
		dp_msgs(g);
	} else if (strcmp(line, "!dp restart") == 0) {
		fake_dp_restart(2);
	} else if (strncmp(line, "!dp addrs ", 10) == 0) {
		dp_addrs(line + 10);
	} else if (strncmp(line, "!config ", 8) == 0) {
		struct golden_cfg c = {0};
		char **w = g_strsplit(line + 8, " ", -1);

		snprintf(c.kind, sizeof(c.kind), "%s", w[0]);
		if (!g_strv_contains((const char *const[]){"inet4", "inet6",
							    "dual", "bridge",
							    "labels", NULL},
				     c.kind))
			fail_msg("unknown config: %s", line);
		for (char **p = w + 1; *p != NULL; p++) {
			if (strcmp(*p, "pf") == 0)
				c.pf = true;
			else if (strcmp(*p, "notify") == 0)
				c.notify = true;
			else if (strcmp(*p, "aforce") == 0)
				c.aforce = true;
			else if (sscanf(*p, "W=%ld", &c.setup_ttl_s) != 1)
				fail_msg("unknown config: %s", line);
		}
		g_strfreev(w);
		golden_close(g);
		golden_open(g, &c);
	} else if (sscanf(line, "!pf stat %63s %u", name, &n) == 2) {
		uint32_t v = 0;

		while (v < RTPB_PF_VERDICT__COUNT &&
		       strcmp(ctl_pf_verdict_name(v), name) != 0)
			v++;
		if (v == RTPB_PF_VERDICT__COUNT)
			fail_msg("unknown verdict: %s", line);
		fake_pf_set_stat(v, n);
	} else if (strcmp(line, "!pf dump") == 0) {
		char *d = fake_pf_dump();

		g_string_append(g->out, d);
		g_free(d);
	} else if (sscanf(line, "!src %63s", name) == 1) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&g->src;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&g->src;

		memset(&g->src, 0, sizeof(g->src));
		if (inet_pton(AF_INET, name, &s4->sin_addr) == 1)
			s4->sin_family = AF_INET;
		else if (inet_pton(AF_INET6, name, &s6->sin6_addr) == 1)
			s6->sin6_family = AF_INET6;
		else if (strcmp(name, "none") != 0)
			fail_msg("!src: bad address %s", name);
	} else if (sscanf(line, "!latch %u %63s", &id, name) == 2) {
		latch(id, name);
	} else if (sscanf(line, "!rx %u %u", &id, &n) == 2) {
		struct rtpb_stream_stats *st = fake_dp_stats(id);

		st->pkts_in += n;
		st->pkts_relayed += n;
		st->last_rx_ns = g->now;
	} else {
		fail_msg("unknown directive: %s", line);
	}
}

/* "\0" -> NUL; returns the new length. */
static size_t
unescape_nul(char *s)
{
	size_t w = 0;

	for (size_t r = 0; s[r] != '\0'; r++) {
		if (s[r] == '\\' && s[r + 1] == '0') {
			s[w++] = '\0';
			r++;
		} else {
			s[w++] = s[r];
		}
	}
	return w;
}

/* One command (a step's text after "> "), its reply appended to g->out. */
static void
run_command(struct golden *g, char *line)
{
	static char out[CTL_CMD_BUFLEN + CTL_REPLY_MAX + 2];
	bool dgram = false;
	size_t len, n;

	if (line[0] == '@') {
		dgram = true;
		line++;
		len = strlen(line);
	} else if (line[0] == '~') {
		line++;
		if (line[0] == '@') { /* "~@": a datagram with NUL bytes */
			dgram = true;
			line++;
		}
		len = unescape_nul(line);
	} else {
		len = strlen(line);
	}
	n = ctl_exec_text_from(g->ex, line, len, dgram,
			       g->src.ss_family != 0 ? (struct sockaddr *)&g->src
						     : NULL,
			       NULL, g->now, out, sizeof(out));
	g_string_append_len(g->out, out, (gssize)n);
}

static void
test_golden(void **state)
{
	struct golden g = {0};
	struct golden_file *gf = golden_read(golden_path);
	GString *actual = g_string_new(NULL), *errs = g_string_new(NULL);
	int nerrs = 0;
	uint32_t relay;

	(void)state;
	inet_pton(AF_INET, RELAY4, &relay);
	fake_dp_reset(2, 4096, relay);
	dp_addrs(RELAY4 " " RELAY6);
	g.ports = ctl_ports_create(23820, 23840, 1);
	g.ports6 = ctl_ports_create(23820, 23840, 2);
	golden_open(&g, &(struct golden_cfg){.kind = "inet4"});
	g.out = g_string_new(NULL);
	g.now = 1000 * NS;

	for (guint i = 0; i < gf->steps->len; i++) {
		const struct golden_step *st = g_ptr_array_index(gf->steps, i);
		size_t at = g.out->len;

		if (st->cmd != NULL) {
			char *cmd = g_strdup(st->cmd); /* "\0" undone in place */

			run_command(&g, cmd);
			g_free(cmd);
		} else {
			directive(&g, st->text);
		}
		golden_check(st, g.out->str + at, g.out->len - at, actual, errs,
			     &nerrs);
	}
	golden_write_actual(gf, actual, "test_ctl_cmd_parse.actual");
	if (nerrs > 0)
		fail_msg("%d of %u steps differ (see test_ctl_cmd_parse.actual):%s",
			 nerrs, gf->steps->len, errs->str);
	assert_true(gf->steps->len > 0);
	assert_int_equal(fake_dp_errors(), 0);
	golden_close(&g);
	assert_int_equal(fake_dp_ids_in_use(), 0);
	assert_int_equal(fake_dp_errors(), 0);
	assert_int_equal(ctl_ports_avail(g.ports), ctl_ports_total(g.ports));
	assert_int_equal(ctl_ports_avail(g.ports6), ctl_ports_total(g.ports6));
	ctl_ports_destroy(g.ports);
	ctl_ports_destroy(g.ports6);
	g_string_free(g.out, TRUE);
	g_string_free(actual, TRUE);
	g_string_free(errs, TRUE);
	golden_free(gf);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s GOLDEN\n", argv[0]);
		return 2;
	}
	golden_path = argv[1];
	ctl_log_set_level(getenv("CTL_TEST_LOG") ? CTL_LOG_DBUG : CTL_LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
