/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_cmd_parse: the protocol golden test, as rtpproxy's
 * tests/command_parser: every line of tests/data/cmd_parse.input is one
 * command run through ctl_exec_text() (parse + exec) against the fake
 * dataplane; the concatenated replies must equal cmd_parse.output byte
 * for byte. The actual output is also written to
 * test_ctl_cmd_parse.actual in the current directory for diffing.
 *
 * Input line forms:
 *   CMD           a stream-mode command (no cookie); an empty line is one
 *   @DATAGRAM     a datagram: cookie first, reply carries it, cached
 *   ~CMD          stream command with each "\0" replaced by a NUL byte
 *   # text        comment, no output
 *   !time S       set the clock to S seconds
 *   !tick         run the 1 s housekeeping (TTL, reply cache)
 *   !dp attach|detach|ringfull|ringok|restart
 *   !dp addrs A.. the relay addresses the fake dataplane serves (at the
 *                 start: 192.0.2.1 and 2001:db8::1)
 *   !config inet4|inet6|dual [pf]
 *                 start over (every session deleted, counters zero) as
 *                 started with -l 192.0.2.1, -6 2001:db8::1, or both;
 *                 with pf, the fake prefilter (tests/fake_ctl_pf.c) is
 *                 on, emptied; the file starts with inet4, no prefilter
 *   !pf stat NAME N  the fake prefilter's counter of verdict NAME is N
 *   !pf dump      output its socket entries, sorted, "pf ADDR:PORT[
 *                 latched PEER:PORT]" each ("pf none": no entry)
 *   !latch ID PEER:PORT  the dataplane latched stream ID to PEER:PORT
 *                 (reason LEARN; IPv6 as [ADDR]:PORT)
 *   !rx ID N      stream ID: pkts_in += N, pkts_relayed += N,
 *                 last_rx_ns = now
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

#include "ctl_cmd_exec.h"
#include "ctl_log.h"
#include "fake_ctl_dp.h"
#include "fake_ctl_pf.h"

#define NS 1000000000ULL
#define RELAY4 "192.0.2.1"
#define RELAY6 "2001:db8::1"

static const char *input_path, *output_path;

struct golden {
	struct ctl_ports *ports;
	struct ctl_ports *ports6;
	struct ctl_sessions *sess;
	struct ctl_exec *ex;
	uint64_t now;
	GString *out;
};


/* A session table and an executor with the relay families asked for,
 * and the fake prefilter if pf. */
static void
golden_open(struct golden *g, bool v4, bool v6, bool pf)
{
	struct ctl_sessions_cfg scfg = {.ttl_ns = 60 * NS,
					.learn_ms = CTL_LEARN_MS};
	struct ctl_exec_cfg ecfg = {0};

	scfg.dp = ctl_dp_create("test");
	if (v4) {
		inet_pton(AF_INET, RELAY4, &scfg.relay_ip);
		ecfg.relay_ip = scfg.relay_ip;
		scfg.ports = g->ports;
	}
	if (v6) {
		inet_pton(AF_INET6, RELAY6, scfg.relay6);
		memcpy(ecfg.relay6, scfg.relay6, sizeof(ecfg.relay6));
		ecfg.has_relay6 = true;
		scfg.ports6 = g->ports6;
	}
	if (pf) {
		fake_pf_reset();
		scfg.pf = ecfg.pf = fake_pf_handle();
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
	} else if (strcmp(line, "!dp restart") == 0) {
		fake_dp_restart(2);
	} else if (strncmp(line, "!dp addrs ", 10) == 0) {
		dp_addrs(line + 10);
	} else if (strncmp(line, "!config ", 8) == 0) {
		char c[16] = "", pf[8] = "";

		if (sscanf(line + 8, "%15s %7s", c, pf) < 1 ||
		    (strcmp(c, "inet4") != 0 && strcmp(c, "inet6") != 0 &&
		     strcmp(c, "dual") != 0) ||
		    (pf[0] != '\0' && strcmp(pf, "pf") != 0))
			fail_msg("unknown config: %s", line);
		golden_close(g);
		golden_open(g, strcmp(c, "inet6") != 0, strcmp(c, "inet4") != 0,
			    pf[0] != '\0');
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

static void
run_line(struct golden *g, char *line)
{
	static char out[CTL_CMD_BUFLEN + CTL_REPLY_MAX + 2];
	bool dgram = false;
	size_t len, n;

	if (line[0] == '#')
		return;
	if (line[0] == '!') {
		directive(g, line);
		return;
	}
	if (line[0] == '@') {
		dgram = true;
		line++;
		len = strlen(line);
	} else if (line[0] == '~') {
		line++;
		len = unescape_nul(line);
	} else {
		len = strlen(line);
	}
	n = ctl_exec_text(g->ex, line, len, dgram, g->now, out, sizeof(out));
	g_string_append_len(g->out, out, (gssize)n);
}

static char *
slurp(const char *path, size_t *len)
{
	gchar *buf = NULL;
	gsize n = 0;

	assert_true(g_file_get_contents(path, &buf, &n, NULL));
	*len = n;
	return buf;
}

static void
test_golden(void **state)
{
	struct golden g = {0};
	size_t inlen, explen;
	char *in = slurp(input_path, &inlen), *exp = slurp(output_path, &explen);
	char **lines;
	uint32_t relay;

	(void)state;
	inet_pton(AF_INET, RELAY4, &relay);
	fake_dp_reset(2, 4096, relay);
	dp_addrs(RELAY4 " " RELAY6);
	g.ports = ctl_ports_create(23820, 23840, 1);
	g.ports6 = ctl_ports_create(23820, 23840, 2);
	golden_open(&g, true, false, false);
	g.out = g_string_new(NULL);
	g.now = 1000 * NS;

	/* the input's final newline ends the last line, it is not a line */
	if (inlen > 0 && in[inlen - 1] == '\n')
		in[inlen - 1] = '\0';
	lines = g_strsplit(in, "\n", -1);
	for (char **l = lines; *l != NULL; l++)
		run_line(&g, *l);
	g_file_set_contents("test_ctl_cmd_parse.actual", g.out->str,
			    (gssize)g.out->len, NULL);
	if (g.out->len != explen || memcmp(g.out->str, exp, explen) != 0) {
		char **a = g_strsplit(g.out->str, "\n", -1);
		char **e = g_strsplit(exp, "\n", -1);
		int i = 0;

		while (a[i] != NULL && e[i] != NULL && strcmp(a[i], e[i]) == 0)
			i++;
		fail_msg("output differs at output line %d: got '%s', want '%s' "
			 "(see test_ctl_cmd_parse.actual)", i + 1,
			 a[i] ? a[i] : "<end>", e[i] ? e[i] : "<end>");
	}
	assert_int_equal(fake_dp_errors(), 0);
	g_strfreev(lines);
	golden_close(&g);
	assert_int_equal(fake_dp_ids_in_use(), 0);
	assert_int_equal(fake_dp_errors(), 0);
	assert_int_equal(ctl_ports_avail(g.ports), ctl_ports_total(g.ports));
	assert_int_equal(ctl_ports_avail(g.ports6), ctl_ports_total(g.ports6));
	ctl_ports_destroy(g.ports);
	ctl_ports_destroy(g.ports6);
	g_string_free(g.out, TRUE);
	g_free(in);
	g_free(exp);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s INPUT OUTPUT\n", argv[0]);
		return 2;
	}
	input_path = argv[1];
	output_path = argv[2];
	ctl_log_set_level(getenv("CTL_TEST_LOG") ? CTL_LOG_DBUG : CTL_LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
