/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ctl.c: libFuzzer target over control's protocol path (issue 4).
 *
 * Each input is a script, one line per step, run through what control
 * runs for a command off a socket: ctl_exec_text_from() (reply cache check,
 * ctl_cmd_parse(), ctl_exec_cmd() against the session table, the port
 * pools and the fake dataplane and prefilter of tests/fake_ctl_dp.c and
 * tests/fake_ctl_pf.c, reply formatting, caching). The lines:
 *
 *   @DATAGRAM   one udp: datagram (cookie first; the reply is cached)
 *   !DIRECTIVE  a harness step (below); an unknown one does nothing
 *   anything    one stream command, as a cunix: line (an empty line is
 *               one, answered E5); NUL bytes are kept, the bytes are
 *               handed over in a buffer of exactly their length
 *
 * The directives are those of tests/data/cmd_parse.golden (so its blocks
 * are seeds, tests/fuzz/gen_seeds.py), made total: bad arguments are ignored.
 *   !time S           clock to S seconds (never backwards; starts at 1000)
 *   !wait S           clock forward S seconds, then the 1 s tick
 *   !tick             the 1 s housekeeping: TTL expiry, reply cache expiry
 *   !dp detach        the dataplane goes away (pushes give -ENOTCONN)
 *   !dp attach|restart [N]  a new dataplane with N (1..4) workers is
 *                     attached and the sessions replayed: what control's
 *                     ctl_dp does on every attach
 *   !dp ringfull|ringok|budget N  pushes refused / accepted (then the
 *                     retries run, as control's loop does) / N more taken
 *   !dp addrs A B..   the relay addresses the dataplane serves
 *   !dp clear|msgs    forget the messages pushed so far
 *   !config inet4|inet6|dual|bridge|labels [pf] [notify] [aforce] [W=S]
 *                     start over as the golden test configures it: relay
 *                     addresses (bridge: INT/EXT sides; labels: labelled
 *                     and advertised ones), the fake prefilter, three -n
 *                     targets, --force_asymmetric, -W S. Each input
 *                     starts as "labels pf notify".
 *   !src ADDR|none    later commands come from ADDR (%%CC_SELF%% targets)
 *   !pf stat NAME N | failadd AFTER | failstats on|off | reconcile | dump
 *   !latch ID PEER [REASON [OLD [DROPPED]]]  a latch event of stream ID,
 *                     with the cookie of its last ADD/UPDATE
 *   !rx ID N          stream ID received and relayed N packets now
 *   !drain on|off     SIGHUP draining;   !load X   the I 'l' load
 *
 * State is rebuilt for every input (pools seeded as the golden test, the
 * fakes reset), so a crash reproduces from its input alone, and freed
 * after it, so LeakSanitizer sees what control leaks. Beyond the
 * sanitizers, these are checked and abort() when broken:
 *  - every command gets a reply: non-empty, ending in '\n', starting
 *    with "<cookie> " for a datagram with a cookie (rtpproxy clients
 *    read one line and match the cookie);
 *  - a timeout notification names a target of the -n set;
 *  - control never misuses the dataplane or the prefilter (the fakes'
 *    error counters: a DEL of a dead stream, an id freed twice, an entry
 *    added twice...), and a reconcile deletes no entry of a live session;
 *  - after the session table is destroyed, no stream id, port pair,
 *    dataplane stream or prefilter entry is left;
 *  - no log line holds a CR or LF (a forged line in the log), nor, with
 *    FUZZ_CTL_STRICT_LOG set, any other control byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <glib.h>

#include "ctl_addrs.h"
#include "ctl_cmd_exec.h"
#include "ctl_log.h"
#include "ctl_ports.h"
#include "ctl_session.h"
#include "ctl_tnotify.h"
#include "fake_ctl_dp.h"
#include "fake_ctl_pf.h"

#define NS 1000000000ULL
#define RELAY4 "192.0.2.1"
#define RELAY6 "2001:db8::1"
/* small pools, so running out of ports and stream ids is reachable */
#define PORT_LO 23820
#define PORT_HI 23840
#define MAX_STREAMS 48
#define N_WORKERS 2
/* control's reply buffer (ctl_sock.c OUT_MAX): cookie + reply */
#define OUT_MAX (CTL_CMD_BUFLEN + CTL_REPLY_MAX + 2)
#define DIRECTIVE_MAX 256
#define TIME_MAX (1ULL << 62) /* ns; "!wait" stops there */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant: when broken, say which and abort (a crash to libFuzzer). */
#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fflush(stdout);                                      \
			fprintf(stderr,                                      \
				"fuzz_ctl: invariant broken: " __VA_ARGS__); \
			fprintf(stderr, "\n");                               \
			abort();                                             \
		}                                                            \
	} while (0)

/* What "!config" asks for (the golden test's configurations). */
struct wcfg {
	char kind[8];     /* inet4 inet6 dual bridge labels */
	bool pf;          /* the fake prefilter */
	bool notify;      /* -n targets, timeouts notified */
	bool aforce;      /* --force_asymmetric */
	long setup_ttl_s; /* -W; 0: -T */
};

/* Everything one input runs against. */
struct world {
	struct ctl_ports *ports;
	struct ctl_ports *ports6;
	struct ctl_addrs addrs;
	struct ctl_tnotify *tnotify;
	struct ctl_sessions *sess;
	struct ctl_exec *ex;
	bool attached; /* the fake dataplane is attached */
	uint64_t now;
	struct sockaddr_storage src; /* "!src"; ss_family 0: a unix socket */
	char *out;     /* OUT_MAX bytes */
};

/* The configuration each input starts with: every feature on. */
static const struct wcfg cfg_default = {.kind = "labels", .pf = true,
					 .notify = true};

/* FUZZ_CTL_ECHO set: replies go to stdout, to compare a run of the
 * golden steps with tests/data/cmd_parse.golden's replies */
static bool echo;

/* FUZZ_CTL_STRICT_LOG set: no control byte at all in a log line (what
 * ctl_log.h promises for call-ids and tags); off by default, as tags
 * are still logged unescaped */
static bool strict_log;

/* Lines are formatted (escaping, addresses) but go nowhere. */
static void
log_hook(enum ctl_log_level level, const char *line, void *arg)
{
	(void)level;
	(void)arg;
	CHECK(strpbrk(line, "\r\n") == NULL, "log line with CR/LF: %s", line);
	for (const char *c = line; strict_log && *c != '\0'; c++)
		CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
		      "log line with control byte 0x%02x: %s",
		      (unsigned char)*c, line);
}

/* Control used the dataplane and the prefilter as their contracts say. */
static void
check_fakes(void)
{
	CHECK(fake_dp_errors() == 0, "dataplane misused (%u)", fake_dp_errors());
	CHECK(fake_pf_errors() == 0,
	      "prefilter misused (%u); its calls so far:\n%s", fake_pf_errors(),
	      fake_pf_log());
}

/* A timeout notification: a target of the set, a tag, a call-id. */
static void
on_timeout(int target, const char *tag, const char *call_id, void *arg)
{
	struct world *w = arg;
	char name[300];
	const char *d;
	volatile size_t n;

	CHECK(ctl_tnotify_get(w->tnotify, target) != NULL,
	      "timeout notification to target %d of %u", target,
	      ctl_tnotify_count(w->tnotify));
	CHECK(tag != NULL && call_id != NULL, "notification without tag");
	d = ctl_tnotify_describe(w->tnotify, target, name, sizeof(name));
	/* read them whole: a freed tag or call-id is an ASan report */
	n = strlen(d) + strlen(tag) + strlen(call_id);
	(void)n;
	if (echo)
		printf("notify %s %s\n", d, tag);
}

/* The relay address table of a configuration (tests/test_ctl_cmd_parse.c). */
static void
build_addrs(struct ctl_addrs *t, const char *kind)
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
	if (strcmp(kind, "bridge") == 0)
		rc = ctl_addrs_build(t, bridge, 1, "10.1.1.1/203.0.113.100",
				     true, err, sizeof(err), NULL, 0);
	else if (strcmp(kind, "labels") == 0)
		rc = ctl_addrs_build(t, labels, 4, NULL, true, err,
				     sizeof(err), NULL, 0);
	else
		ctl_addrs_from_relays(t, strcmp(kind, "inet6") != 0 ? r4 : 0,
				      strcmp(kind, "inet4") != 0 ? r6 : NULL);
	CHECK(rc == 0, "ctl_addrs_build(%s): %s", kind, err);
}

/* A session table and an executor as configured; the fake dataplane
 * serves every relay address. */
static void
world_open(struct world *w, const struct wcfg *c)
{
	struct ctl_sessions_cfg scfg = {.ttl_ns = 60 * NS,
					.learn_ms = CTL_LEARN_MS};
	struct ctl_exec_cfg ecfg = {.aforce = c->aforce};
	struct rtpb_addr served[CTL_ADDRS_MAX];
	char err[256];

	build_addrs(&w->addrs, c->kind);
	for (uint32_t i = 0; i < w->addrs.n; i++)
		served[i] = w->addrs.a[i].ip;
	fake_dp_set_addrs(served, w->addrs.n);
	scfg.dp = ctl_dp_create("fuzz");
	scfg.addrs = &w->addrs;
	if (ctl_addrs_default(&w->addrs, RTPB_AF_INET) >= 0)
		scfg.ports = w->ports;
	if (ctl_addrs_default(&w->addrs, RTPB_AF_INET6) >= 0)
		scfg.ports6 = w->ports6;
	scfg.setup_ttl_ns = (uint64_t)c->setup_ttl_s * NS;
	fake_pf_reset();
	if (c->pf)
		scfg.pf = ecfg.pf = fake_pf_handle();
	if (c->notify) {
		w->tnotify = ctl_tnotify_create();
		CHECK(w->tnotify != NULL, "ctl_tnotify_create");
		CHECK(ctl_tnotify_add(w->tnotify, "unix:/tmp/rtpb-n.sock", err,
				      sizeof(err)) == 0 &&
		      ctl_tnotify_add(w->tnotify, "tcp:127.0.0.1:9", err,
				      sizeof(err)) == 0 &&
		      ctl_tnotify_add(w->tnotify, "tcp:%%CC_SELF%%:9", err,
				      sizeof(err)) == 0, "-n: %s", err);
		ecfg.tnotify = w->tnotify;
		scfg.on_timeout = on_timeout;
		scfg.timeout_arg = w;
	}
	w->sess = ctl_sessions_create(&scfg);
	w->ex = ctl_exec_create(&ecfg, w->sess);
	CHECK(w->sess != NULL && w->ex != NULL, "create failed");
	ctl_sessions_bind_dp(w->sess);
}

/*
 * Destroy the table as control does at exit, after the dataplane is
 * back and its ring has room (else the DELs wait and ports stay taken,
 * by design), then check that nothing is left behind.
 */
static void
world_close(struct world *w)
{
	if (!w->attached) {
		fake_dp_restart(N_WORKERS);
		w->attached = true;
	}
	fake_dp_set_ring_full(false);
	fake_dp_set_push_budget(-1);
	fake_pf_fail_add(0, 0);
	ctl_sessions_flush(w->sess);
	ctl_exec_destroy(w->ex);
	ctl_sessions_destroy(w->sess);
	ctl_tnotify_destroy(w->tnotify);
	w->ex = NULL;
	w->sess = NULL;
	w->tnotify = NULL;
	check_fakes();
	CHECK(fake_dp_ids_in_use() == 0, "%u stream ids left",
	      fake_dp_ids_in_use());
	CHECK(fake_dp_live_streams() == 0, "%u dataplane streams left",
	      fake_dp_live_streams());
	CHECK(ctl_ports_avail(w->ports) == ctl_ports_total(w->ports),
	      "%u IPv4 port pairs left",
	      ctl_ports_total(w->ports) - ctl_ports_avail(w->ports));
	CHECK(ctl_ports_avail(w->ports6) == ctl_ports_total(w->ports6),
	      "%u IPv6 port pairs left",
	      ctl_ports_total(w->ports6) - ctl_ports_avail(w->ports6));
	CHECK(fake_pf_nsocks() == 0, "%u prefilter entries left",
	      fake_pf_nsocks());
}

/* "ADDR:PORT" or "[ADDR6]:PORT" into a; false if it is neither. */
static bool
parse_peer(const char *s, struct rtpb_addr *a)
{
	const char *colon = strrchr(s, ':');
	char ip[INET6_ADDRSTRLEN + 2];
	size_t n = colon != NULL ? (size_t)(colon - s) : 0;
	char *end;
	unsigned long port;

	memset(a, 0, sizeof(*a));
	if (colon == NULL || n == 0 || n >= sizeof(ip))
		return false;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port > 65535)
		return false;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (n > 2 && ip[0] == '[' && ip[n - 1] == ']') {
		ip[n - 1] = '\0';
		if (inet_pton(AF_INET6, ip + 1, a->ip) != 1)
			return false;
		a->family = RTPB_AF_INET6;
	} else {
		if (inet_pton(AF_INET, ip, a->ip) != 1)
			return false;
		a->family = RTPB_AF_INET;
	}
	a->port = htons((uint16_t)port);
	return true;
}

/* A number of seconds in [0, 1e7], or -1. */
static double
parse_secs(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || !(v >= 0 && v <= 1e7))
		return -1;
	return v;
}

static void
tick(struct world *w)
{
	ctl_sessions_tick(w->sess, w->now);
	ctl_exec_tick(w->ex, w->now);
}

static void
dir_dp(struct world *w, char **tok, int ntok)
{
	if (ntok < 2)
		return;
	if (strcmp(tok[1], "detach") == 0) {
		fake_dp_set_attached(false);
		w->attached = false;
	} else if (strcmp(tok[1], "attach") == 0 ||
		   strcmp(tok[1], "restart") == 0) {
		long n = ntok > 2 ? strtol(tok[2], NULL, 10) : N_WORKERS;

		fake_dp_restart(n >= 1 && n <= 4 ? (uint32_t)n : N_WORKERS);
		w->attached = true;
	} else if (strcmp(tok[1], "ringfull") == 0) {
		fake_dp_set_ring_full(true);
	} else if (strcmp(tok[1], "ringok") == 0) {
		fake_dp_set_ring_full(false);
		fake_dp_set_push_budget(-1);
		ctl_sessions_flush(w->sess);
	} else if (strcmp(tok[1], "budget") == 0 && ntok > 2) {
		long n = strtol(tok[2], NULL, 10);

		fake_dp_set_push_budget(n >= 0 && n <= 1000 ? (int)n : -1);
	} else if (strcmp(tok[1], "clear") == 0 ||
		   strcmp(tok[1], "msgs") == 0) {
		fake_dp_clear_msgs();
	} else if (strcmp(tok[1], "addrs") == 0) {
		struct rtpb_addr a[RTPB_MAX_ADDRS];
		size_t n = 0;

		for (int i = 2; i < ntok && n < RTPB_MAX_ADDRS; i++) {
			memset(&a[n], 0, sizeof(a[n]));
			if (inet_pton(AF_INET, tok[i], a[n].ip) == 1)
				a[n++].family = RTPB_AF_INET;
			else if (inet_pton(AF_INET6, tok[i], a[n].ip) == 1)
				a[n++].family = RTPB_AF_INET6;
		}
		fake_dp_set_addrs(a, n);
	}
}

static void
dir_pf(struct world *w, char **tok, int ntok)
{
	if (ntok < 2)
		return;
	if (strcmp(tok[1], "stat") == 0 && ntok > 3) {
		for (uint32_t v = 0; v < RTPB_PF_VERDICT__COUNT; v++)
			if (strcmp(ctl_pf_verdict_name(v), tok[2]) == 0)
				fake_pf_set_stat(v, strtoull(tok[3], NULL, 10));
	} else if (strcmp(tok[1], "failadd") == 0 && ntok > 2) {
		long n = strtol(tok[2], NULL, 10);

		if (n >= 0 && n <= 64)
			fake_pf_fail_add((int)n, -ENOSPC);
	} else if (strcmp(tok[1], "failstats") == 0 && ntok > 2) {
		fake_pf_fail_stats(strcmp(tok[2], "on") == 0 ? -EIO : 0);
	} else if (strcmp(tok[1], "dump") == 0 && echo) {
		char *d = fake_pf_dump();

		fputs(d, stdout);
		g_free(d);
	} else if (strcmp(tok[1], "reconcile") == 0) {
		uint32_t n = ctl_sessions_pf_reconcile(w->sess);

		/* every entry belongs to a live session's socket */
		CHECK(n == 0, "reconcile deleted %u entries of live sessions", n);
	}
}

/* "!config KIND [pf] [notify] [aforce] [W=S]": start over. */
static void
dir_config(struct world *w, char **tok, int ntok)
{
	static const char *const kinds[] = {"inet4", "inet6", "dual", "bridge",
					    "labels"};
	struct wcfg c = {0};
	long v;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(tok[1], kinds[i]) == 0)
			snprintf(c.kind, sizeof(c.kind), "%s", kinds[i]);
	if (c.kind[0] == '\0')
		return;
	for (int i = 2; i < ntok; i++) {
		if (strcmp(tok[i], "pf") == 0)
			c.pf = true;
		else if (strcmp(tok[i], "notify") == 0)
			c.notify = true;
		else if (strcmp(tok[i], "aforce") == 0)
			c.aforce = true;
		else if (sscanf(tok[i], "W=%ld", &v) == 1 && v >= 0 && v <= 100000)
			c.setup_ttl_s = v;
	}
	world_close(w);
	world_open(w, &c);
}

/* "!latch ID PEER [REASON [OLD [DROPPED]]]", as the dataplane sends it. */
static void
dir_latch(char **tok, int ntok)
{
	struct rtpb_msg_ev_latch ev;
	const struct rtpb_msg_stream *m;
	unsigned long id;

	if (ntok < 3)
		return;
	id = strtoul(tok[1], NULL, 10);
	if (id >= MAX_STREAMS)
		return;
	m = fake_dp_last_stream_msg((uint32_t)id, -1);
	if (m == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.stream_id = (uint32_t)id;
	ev.cookie = m->cookie;
	if (!parse_peer(tok[2], &ev.peer))
		return;
	ev.reason = RTPB_LATCH_LEARN;
	if (ntok > 3)
		ev.reason = (uint32_t)(strtoul(tok[3], NULL, 10) %
				      (RTPB_LATCH_REOFFER + 1));
	if (ntok > 4 && !parse_peer(tok[4], &ev.old))
		memset(&ev.old, 0, sizeof(ev.old));
	if (ntok > 5)
		ev.dropped = strtoull(tok[5], NULL, 10);
	ev.ssrc = (uint32_t)id * 0x9e3779b9u;
	fake_dp_latch_ev(&ev);
}

static void
directive(struct world *w, const uint8_t *p, size_t len)
{
	char buf[DIRECTIVE_MAX];
	char *tok[16], *save = NULL;
	int ntok = 0;
	double s;

	if (len >= sizeof(buf) || memchr(p, '\0', len) != NULL)
		return;
	memcpy(buf, p, len);
	buf[len] = '\0';
	for (char *t = strtok_r(buf, " \t\r", &save); t != NULL && ntok < 16;
	     t = strtok_r(NULL, " \t\r", &save))
		tok[ntok++] = t;
	if (ntok == 0)
		return;
	if (strcmp(tok[0], "time") == 0 && ntok > 1) {
		s = parse_secs(tok[1]);
		if (s >= 0 && (uint64_t)(s * NS) > w->now)
			w->now = (uint64_t)(s * NS);
	} else if (strcmp(tok[0], "wait") == 0 && ntok > 1) {
		s = parse_secs(tok[1]);
		if (s >= 0 && w->now < TIME_MAX) { /* time never wraps */
			w->now += (uint64_t)(s * NS);
			tick(w);
		}
	} else if (strcmp(tok[0], "tick") == 0) {
		tick(w);
	} else if (strcmp(tok[0], "dp") == 0) {
		dir_dp(w, tok, ntok);
	} else if (strcmp(tok[0], "pf") == 0) {
		dir_pf(w, tok, ntok);
	} else if (strcmp(tok[0], "config") == 0 && ntok > 1) {
		dir_config(w, tok, ntok);
	} else if (strcmp(tok[0], "src") == 0 && ntok > 1) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&w->src;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&w->src;

		memset(&w->src, 0, sizeof(w->src));
		if (inet_pton(AF_INET, tok[1], &s4->sin_addr) == 1)
			s4->sin_family = AF_INET;
		else if (inet_pton(AF_INET6, tok[1], &s6->sin6_addr) == 1)
			s6->sin6_family = AF_INET6;
	} else if (strcmp(tok[0], "latch") == 0) {
		dir_latch(tok, ntok);
	} else if (strcmp(tok[0], "rx") == 0 && ntok > 2) {
		unsigned long id = strtoul(tok[1], NULL, 10);
		uint64_t n = strtoull(tok[2], NULL, 10);

		if (id < MAX_STREAMS) {
			struct rtpb_stream_stats *st = fake_dp_stats((uint32_t)id);

			st->pkts_in += n;
			st->pkts_relayed += n;
			st->last_rx_ns = w->now;
		}
	} else if (strcmp(tok[0], "drain") == 0 && ntok > 1) {
		ctl_exec_set_draining(w->ex, strcmp(tok[1], "on") == 0);
	} else if (strcmp(tok[0], "load") == 0 && ntok > 1) {
		s = parse_secs(tok[1]);
		if (s >= 0)
			ctl_exec_set_load(w->ex, s);
	}
}

static bool
is_sep(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A datagram's first token (its cookie), NUL bytes included, within
 * the bytes the parser reads. @return its length. */
static size_t
first_token(const uint8_t *p, size_t len, const uint8_t **tok)
{
	size_t i = 0, n;

	if (len > CTL_CMD_BUFLEN)
		len = CTL_CMD_BUFLEN;
	while (i < len && is_sep(p[i]))
		i++;
	for (n = i; n < len && !is_sep(p[n]); n++)
		;
	*tok = p + i;
	return n - i;
}

/* "E<n>\n": an error reply without a cookie. */
static bool
bare_error(const char *r, size_t n)
{
	size_t i = 1;

	if (n < 3 || r[0] != 'E')
		return false;
	while (i < n - 1 && r[i] >= '0' && r[i] <= '9')
		i++;
	return i > 1 && i == n - 1 && r[i] == '\n';
}

/*
 * One command off a socket; its reply is checked: one line or more,
 * ended by a newline, and for a datagram, "<cookie> " first. A cookie
 * token with a NUL byte may be refused as a whole (E5, no cookie) or
 * cut at the NUL; a datagram without a token gets a bare error.
 */
static void
command(struct world *w, const uint8_t *p, size_t len, bool datagram)
{
	/* exactly len bytes: a read past the command is an overflow */
	char *in = malloc(len > 0 ? len : 1);
	const struct sockaddr *src =
		w->src.ss_family != 0 ? (const struct sockaddr *)&w->src : NULL;
	const uint8_t *tok, *nul;
	size_t tlen, clen, n;
	bool cookie_ok;

	CHECK(in != NULL, "malloc");
	memcpy(in, p, len);
	n = ctl_exec_text_from(w->ex, in, len, datagram, src, NULL, w->now,
			       w->out, OUT_MAX);
	free(in);
	if (echo)
		fwrite(w->out, 1, n, stdout);
	CHECK(n > 0 && n <= OUT_MAX, "no reply (%zu bytes)", n);
	CHECK(w->out[n - 1] == '\n', "reply not ended by a newline");
	if (datagram) {
		tlen = first_token(p, len, &tok);
		nul = memchr(tok, '\0', tlen);
		clen = nul != NULL ? (size_t)(nul - tok) : tlen;
		cookie_ok = clen > 0 && n > clen + 1 &&
			    memcmp(w->out, tok, clen) == 0 && w->out[clen] == ' ';
		CHECK(cookie_ok || ((nul != NULL || tlen == 0) &&
				    bare_error(w->out, n)),
		      "datagram reply without its cookie");
	}
	check_fakes();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	echo = getenv("FUZZ_CTL_ECHO") != NULL;
	strict_log = getenv("FUZZ_CTL_STRICT_LOG") != NULL;
	if (echo)
		setvbuf(stdout, NULL, _IOLBF, 0);
	/* every line is formatted (call-id escaping included), none kept */
	ctl_log_set_level(CTL_LOG_DBUG);
	ctl_log_set_hook(log_hook, NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[OUT_MAX];
	struct world w = {.now = 1000 * NS, .attached = true, .out = out};
	size_t i = 0;

	fake_dp_reset(N_WORKERS, MAX_STREAMS, 0);
	w.ports = ctl_ports_create(PORT_LO, PORT_HI, 1);
	w.ports6 = ctl_ports_create(PORT_LO, PORT_HI, 2);
	CHECK(w.ports != NULL && w.ports6 != NULL, "ctl_ports_create");
	world_open(&w, &cfg_default);

	while (i < size) {
		const uint8_t *line = data + i;
		const uint8_t *nl = memchr(line, '\n', size - i);
		size_t len = nl != NULL ? (size_t)(nl - line) : size - i;

		i += len + 1;
		if (len > 0 && line[0] == '!')
			directive(&w, line + 1, len - 1);
		else if (len > 0 && line[0] == '@')
			command(&w, line + 1, len - 1, true);
		else
			command(&w, line, len, false);
	}

	world_close(&w);
	ctl_ports_destroy(w.ports);
	ctl_ports_destroy(w.ports6);
	fake_dp_clear_msgs();
	return 0;
}
