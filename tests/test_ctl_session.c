/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_session: the session table (control/ctl_session.c) and what
 * it pushes to the dataplane, through the protocol (ctl_exec_text) and
 * the fake dataplane (tests/fake_ctl_dp.c). Time is injected; no sleeps.
 * The relay runs with both families (-l 192.0.2.1 -6 2001:db8::1), one
 * pool each over the same 50 port pairs, and with the fake prefilter
 * (tests/fake_ctl_pf.c): after every test it holds exactly the two
 * entries of each leg with a port, and none once the table is gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <glib.h>

#include "ctl_cmd_exec.h"
#include "ctl_durable.h"
#include "ctl_journal.h"
#include "ctl_log.h"
#include "fake_ctl_dp.h"
#include "fake_ctl_pf.h"

#define NS 1000000000ULL
#define RELAY "192.0.2.1"
#define RELAY6 "2001:db8::1"
#define T0 (1000 * NS)

struct fx {
	uint32_t relay;
	uint8_t relay6[16];
	struct ctl_ports *ports;
	struct ctl_ports *ports6;
	struct ctl_sessions *sess;
	struct ctl_exec *ex;
	char out[CTL_CMD_BUFLEN + CTL_REPLY_MAX + 2];
	struct ctl_ports *extra[2]; /* setup_multi: pools of b and c */
	uint32_t latches;
	struct ctl_sessions_cfg scfg; /* what made sess and ex, for a restart */
	struct ctl_exec_cfg ecfg;
	GString *log; /* captured log lines, "\n" after each */
};

/* The log hook: keep every line (tests read f->log). */
static void
log_capture(enum ctl_log_level level, const char *line, void *arg)
{
	struct fx *f = arg;

	(void)level;
	g_string_append_printf(f->log, "%s\n", line);
}



/* setup_journal(): the journal the next setup() gives the table */
static struct ctl_journal *g_journal;
static char g_jdir[64], g_jpath[128];

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ctl_sessions_cfg scfg = {.ttl_ns = 60 * NS,
					.learn_ms = CTL_LEARN_MS};
	struct ctl_exec_cfg ecfg;

	struct rtpb_addr a6 = {.family = RTPB_AF_INET6};

	inet_pton(AF_INET, RELAY, &f->relay);
	inet_pton(AF_INET6, RELAY6, f->relay6);
	fake_dp_reset(4, 4096, f->relay);
	fake_pf_reset();
	memcpy(a6.ip, f->relay6, 16);
	fake_dp_add_addr(&a6);
	f->ports = ctl_ports_create(30000, 30098, 42); /* 50 pairs */
	f->ports6 = ctl_ports_create(30000, 30098, 43); /* the same 50 */
	scfg.dp = ctl_dp_create("test");
	scfg.ports = f->ports;
	scfg.relay_ip = f->relay;
	scfg.ports6 = f->ports6;
	scfg.pf = fake_pf_handle();
	memcpy(scfg.relay6, f->relay6, 16);
	scfg.journal = g_journal;
	f->sess = ctl_sessions_create(&scfg);
	ecfg = (struct ctl_exec_cfg){.relay_ip = f->relay, .has_relay6 = true,
				     .pf = fake_pf_handle()};
	memcpy(ecfg.relay6, f->relay6, 16);
	f->ex = ctl_exec_create(&ecfg, f->sess);
	f->scfg = scfg;
	f->ecfg = ecfg;
	f->log = g_string_new(NULL);
	ctl_sessions_bind_dp(f->sess);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	struct ctl_sessions_counters c;

	ctl_log_set_hook(NULL, NULL);
	/* the prefilter mirrors the sockets: two entries per leg with a port */
	ctl_sessions_counters(f->sess, &c);
	assert_int_equal(fake_pf_nsocks(), 2 * c.legs);
	ctl_exec_destroy(f->ex);
	ctl_sessions_destroy(f->sess);
	/* a clean stop leaves no entry behind, and nothing was misused */
	assert_int_equal(fake_pf_nsocks(), 0);
	assert_int_equal(fake_pf_errors(), 0);
	/* nothing leaks: every id back, every stream deleted, every port */
	assert_int_equal(fake_dp_ids_in_use(), 0);
	assert_int_equal(fake_dp_live_streams(), 0);
	assert_int_equal(fake_dp_errors(), 0);
	assert_int_equal(ctl_ports_avail(f->ports), ctl_ports_total(f->ports));
	assert_int_equal(ctl_ports_avail(f->ports6), ctl_ports_total(f->ports6));
	ctl_ports_destroy(f->ports);
	ctl_ports_destroy(f->ports6);
	g_string_free(f->log, TRUE);
	free(f);
	return 0;
}

/* setup() with a journal in a temp dir. */
static int
setup_journal(void **state)
{
	char err[256];

	snprintf(g_jdir, sizeof(g_jdir), "/tmp/test_ctl_session.XXXXXX");
	if (mkdtemp(g_jdir) == NULL)
		return -1;
	snprintf(g_jpath, sizeof(g_jpath), "%s/s.journal", g_jdir);
	g_journal = ctl_journal_open(g_jpath, 64, err, sizeof(err));
	if (g_journal == NULL)
		return -1;
	return setup(state);
}

static int
teardown_journal(void **state)
{
	int rc = teardown(state);

	/* a clean stop ended every call: no record left */
	assert_int_equal(ctl_journal_used(g_journal), 0);
	ctl_journal_close(g_journal);
	g_journal = NULL;
	unlink(g_jpath);
	rmdir(g_jdir);
	return rc;
}

/* Run one stream-mode command at time now; the reply, NUL-terminated. */
static const char *
cmd_at(struct fx *f, uint64_t now, const char *text)
{
	size_t n = ctl_exec_text(f->ex, text, strlen(text), false, now, f->out,
				 sizeof(f->out) - 1);

	f->out[n] = '\0';
	return f->out;
}

static const char *
cmd(struct fx *f, const char *text)
{
	return cmd_at(f, T0, text);
}

/* The port of a "<port> <addr>\n" reply on relay address ip. */
static uint16_t
reply_port_on(const char *r, const char *ip)
{
	unsigned port;
	char addr[64];

	assert_int_equal(sscanf(r, "%u %63s", &port, addr), 2);
	assert_string_equal(addr, ip);
	return (uint16_t)port;
}

/* The port of a "<port> <addr>\n" reply, checking the address. */
static uint16_t
reply_port(const char *r)
{
	return reply_port_on(r, RELAY);
}

/* The port of a "<port> <IPv6> 6\n" reply, checking the address. */
static uint16_t
reply_port6(const char *r)
{
	unsigned port;
	char addr[64], six[4];

	assert_int_equal(sscanf(r, "%u %63s %3s", &port, addr, six), 3);
	assert_string_equal(addr, RELAY6);
	assert_string_equal(six, "6");
	assert_int_equal(r[strlen(r) - 1], '\n');
	return (uint16_t)port;
}

static void
assert_v6(const struct rtpb_addr *a, const char *ip, uint16_t port)
{
	uint8_t want[16];

	assert_int_equal(inet_pton(AF_INET6, ip, want), 1);
	assert_int_equal(a->family, RTPB_AF_INET6);
	assert_memory_equal(a->ip, want, 16);
	assert_int_equal(ntohs(a->port), port);
}

static void
assert_v4(const struct rtpb_addr *a, const char *ip, uint16_t port)
{
	uint32_t want;

	inet_pton(AF_INET, ip, &want);
	assert_int_equal(a->family, RTPB_AF_INET);
	assert_int_equal(rtpb_addr_v4(a), want);
	assert_int_equal(ntohs(a->port), port);
}

/* Message i as a stream message of the given type. */
static const struct rtpb_msg_stream *
msg_stream(size_t i, int type)
{
	const struct rtpb_msg *m = fake_dp_msg(i);

	assert_int_equal(m->hdr.type, type);
	assert_int_equal(m->hdr.len, sizeof(struct rtpb_msg_stream));
	return &m->stream;
}

static void
test_u_creates_and_reuses(void **state)
{
	struct fx *f = *state;
	const struct rtpb_msg_stream *rtp, *rtcp;
	uint16_t p0;

	p0 = reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1"));
	assert_int_equal(p0 % 2, 0);
	assert_int_equal(fake_dp_nmsgs(), 2);
	rtp = msg_stream(0, RTPB_MSG_STREAM_ADD);
	rtcp = msg_stream(1, RTPB_MSG_STREAM_ADD);
	assert_v4(&rtp->local, RELAY, p0);
	assert_v4(&rtcp->local, RELAY, p0 + 1);
	/* leg 0's peer (the answerer) is not known yet */
	assert_int_equal(rtp->signalled.family, RTPB_AF_NONE);
	assert_int_equal(rtp->out_stream_id, RTPB_STREAM_NONE);
	assert_int_equal(rtcp->out_stream_id, RTPB_STREAM_NONE);
	assert_int_equal(rtp->flags, 0);
	assert_int_equal(rtcp->flags, RTPB_STREAM_F_RTCP);
	/* each stream names the leg's other one from its first ADD on */
	assert_int_equal(rtp->pair_stream_id, rtcp->stream_id);
	assert_int_equal(rtcp->pair_stream_id, rtp->stream_id);
	assert_int_equal(rtp->learn_ms, 10000);
	assert_int_equal(rtpb_stream_owner(rtp->stream_id, 4),
			 rtpb_stream_owner(rtcp->stream_id, 4));
	assert_int_not_equal(rtp->cookie, rtcp->cookie);
	/* U again: same port, nothing new for the dataplane */
	assert_int_equal(reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1")), p0);
	assert_int_equal(fake_dp_nmsgs(), 2);
	/* L for an unknown session or tag: "0" */
	assert_string_equal(cmd(f, "L c2 198.51.100.2 6000 ft1 tt1"), "0\n");
	assert_string_equal(cmd(f, "L c1 198.51.100.2 6000 nope tt1"), "0\n");
	assert_int_equal(ctl_sessions_count(f->sess), 1);
}

static void
test_l_opens_leg1(void **state)
{
	struct fx *f = *state;
	const struct rtpb_msg_stream *a0, *a1, *u0, *u1;
	uint16_t p0, p1;
	uint32_t owner;

	p0 = reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1"));
	a0 = msg_stream(0, RTPB_MSG_STREAM_ADD);
	owner = rtpb_stream_owner(a0->stream_id, 4);
	uint32_t rtp0 = a0->stream_id, rtcp0 = msg_stream(1, RTPB_MSG_STREAM_ADD)->stream_id;

	fake_dp_clear_msgs();
	p1 = reply_port(cmd(f, "LA c1 198.51.100.2 6000 ft1 tt1"));
	assert_int_not_equal(p0, p1);
	assert_int_equal(fake_dp_nmsgs(), 4);
	/* leg 1 (faces the offerer): ADDs with the offerer's address */
	a0 = msg_stream(0, RTPB_MSG_STREAM_ADD);
	a1 = msg_stream(1, RTPB_MSG_STREAM_ADD);
	assert_v4(&a0->local, RELAY, p1);
	assert_v4(&a0->signalled, "198.51.100.1", 5000);
	assert_v4(&a1->local, RELAY, p1 + 1);
	assert_v4(&a1->signalled, "198.51.100.1", 5001);
	assert_int_equal(a0->out_stream_id, rtp0);
	assert_int_equal(a1->out_stream_id, rtcp0);
	assert_int_equal(a0->flags, 0);
	assert_int_equal(a1->flags, RTPB_STREAM_F_RTCP);
	assert_int_equal(rtpb_stream_owner(a0->stream_id, 4), owner);
	assert_int_equal(rtpb_stream_owner(a1->stream_id, 4), owner);
	/* leg 0: UPDATEs with the new out ids and the answerer's address,
	 * asymmetric as the L asked ('A' applies to the sender's leg) */
	u0 = msg_stream(2, RTPB_MSG_STREAM_UPDATE);
	u1 = msg_stream(3, RTPB_MSG_STREAM_UPDATE);
	assert_int_equal(u0->stream_id, rtp0);
	assert_int_equal(u1->stream_id, rtcp0);
	assert_int_equal(u0->out_stream_id, a0->stream_id);
	assert_int_equal(u1->out_stream_id, a1->stream_id);
	assert_v4(&u0->signalled, "198.51.100.2", 6000);
	assert_v4(&u1->signalled, "198.51.100.2", 6001);
	assert_int_equal(u0->flags, RTPB_STREAM_F_ASYMMETRIC);
	assert_int_equal(u1->flags, RTPB_STREAM_F_ASYMMETRIC | RTPB_STREAM_F_RTCP);
	/* L again: same port, nothing changed but a new learning window:
	 * an UPDATE pair */
	fake_dp_clear_msgs();
	assert_int_equal(reply_port(cmd(f, "LA c1 198.51.100.2 6000 ft1 tt1")), p1);
	assert_int_equal(fake_dp_nmsgs(), 2);
	msg_stream(0, RTPB_MSG_STREAM_UPDATE);
	fake_dp_clear_msgs();
	/* re-offer from the offerer with a new address: one UPDATE pair */
	assert_int_equal(reply_port(cmd(f, "U c1 198.51.100.9 7000 ft1 tt1")), p0);
	assert_int_equal(fake_dp_nmsgs(), 2);
	assert_v4(&msg_stream(0, RTPB_MSG_STREAM_UPDATE)->signalled,
		  "198.51.100.9", 7000);
	/* on hold: the signalled peer goes away */
	fake_dp_clear_msgs();
	cmd(f, "U c1 0.0.0.0 7000 ft1 tt1");
	assert_int_equal(msg_stream(0, RTPB_MSG_STREAM_UPDATE)->signalled.family,
			 RTPB_AF_NONE);
}

static void
test_direction_and_medianum(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	uint16_t p0, p1;

	p0 = reply_port(cmd(f, "U c1 198.51.100.1 5000 a;1"));
	reply_port(cmd(f, "U c1 198.51.100.1 5002 a;2"));
	assert_int_equal(ctl_sessions_count(f->sess), 2);
	/* callee's re-INVITE: U with tags swapped returns P1 (opens it) */
	p1 = reply_port(cmd(f, "U c1 198.51.100.2 6000 b;1 a;1"));
	assert_int_not_equal(p0, p1);
	assert_int_equal(reply_port(cmd(f, "L c1 198.51.100.2 6000 a;1 b;1")), p1);
	assert_int_equal(reply_port(cmd(f, "L c1 198.51.100.1 5000 b;1 a;1")), p0);
	/* to_tag without medianum matches if from_tag has the same ;N */
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "b;1", "a", &s), 1);
	assert_string_equal(s->from_tag, "a;1");
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "b;2", "a", &s), 1);
	assert_string_equal(s->from_tag, "a;2");
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "b", "a", &s), -1);
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "a;2", NULL, &s), 0);
	assert_int_equal(ctl_sessions_find(f->sess, "c9", "a;2", NULL, &s), -1);
	/* the swapped U on a session the callee did not create: new one */
	reply_port(cmd(f, "U c1 198.51.100.2 6000 z;1 y;1"));
	assert_int_equal(ctl_sessions_count(f->sess), 3);
}

static struct ctl_session *find(struct fx *f, const char *call_id,
				const char *from_tag);

/* What the journal holds, as parsed records (slot order). */
struct jseen {
	uint32_t n;
	struct ctl_durable d[8];
	uint8_t rec[8][CTL_JOURNAL_PAYLOAD];
};

static int
jcollect(uint32_t slot, const void *rec, size_t len, void *arg)
{
	struct jseen *j = arg;

	(void)slot;
	assert_true(j->n < 8);
	memcpy(j->rec[j->n], rec, len);
	assert_int_equal(ctl_durable_parse(j->rec[j->n], len, &j->d[j->n]), 0);
	j->n++;
	return 0;
}

/* Reopen the journal file (a restarted control) and read it. */
static void
jread(struct jseen *j)
{
	char err[256];
	struct ctl_journal *r = ctl_journal_open(g_jpath, 64, err, sizeof(err));

	assert_non_null(r);
	memset(j, 0, sizeof(*j));
	ctl_journal_load(r, jcollect, j, NULL);
	ctl_journal_close(r);
}

static bool
jstr_is(const struct ctl_durable_str *s, const char *want)
{
	return s->len == strlen(want) && memcmp(s->p, want, s->len) == 0;
}

/* The journal follows the session's durable state (U, L, latch, S ttl=,
 * a D that leaves it alive) and loses it when the session ends. */
static void
test_journal(void **state)
{
	struct fx *f = *state;
	struct jseen j;
	struct ctl_session *s;
	struct rtpb_msg_ev_latch ev = {.reason = RTPB_LATCH_LEARN};
	uint16_t p0, p1;

	assert_int_equal(ctl_journal_used(g_journal), 0);
	p0 = reply_port(cmd_at(f, T0, "U c1 198.51.100.1 5000 ft1"));
	jread(&j);
	assert_int_equal(j.n, 1);
	assert_true(jstr_is(&j.d[0].call_id, "c1"));
	assert_true(jstr_is(&j.d[0].from_tag, "ft1"));
	assert_int_equal(j.d[0].leg[0].port, p0);
	assert_int_equal(j.d[0].leg[1].port, 0);
	assert_true(j.d[0].created_ns == T0);
	assert_int_equal(j.d[0].flags & CTL_DURABLE_F_COMPLETE, 0);

	p1 = reply_port(cmd_at(f, T0 + NS, "Lc0,8 c1 198.51.100.2 6000 ft1 tt1"));
	s = find(f, "c1", "ft1");
	jread(&j);
	assert_int_equal(j.n, 1);
	assert_int_equal(j.d[0].leg[1].port, p1);
	assert_true(j.d[0].last_ns == T0 + NS);
	assert_true(j.d[0].flags & CTL_DURABLE_F_COMPLETE);
	assert_true(j.d[0].leg[0].flags & CTL_DURABLE_LEG_HAS_REMOTE);
	assert_v4(&j.d[0].leg[0].remote, "198.51.100.2", 6000);
	assert_true(jstr_is(&j.d[0].leg[0].codecs, "0,8"));
	assert_int_equal(j.d[0].leg[1].st[0].id, s->leg[1].sock.rtp.id);
	assert_true(j.d[0].leg[1].st[0].cookie ==
		    fake_dp_last_stream_msg(s->leg[1].sock.rtp.id, -1)->cookie);

	/* a latch event: the peer and SSRC are kept */
	ev.stream_id = s->leg[1].sock.rtp.id;
	ev.cookie = j.d[0].leg[1].st[0].cookie;
	ev.peer.family = RTPB_AF_INET;
	ev.peer.port = htons(6002);
	inet_pton(AF_INET, "198.51.100.9", ev.peer.ip);
	ev.ssrc = 0x1234;
	ctl_sessions_latch(f->sess, &ev);
	jread(&j);
	assert_v4(&j.d[0].leg[1].st[0].latched, "198.51.100.9", 6002);
	assert_int_equal(j.d[0].leg[1].st[0].latched_ssrc, 0x1234);

	/* latch events inside the bracket around the dataplane's events:
	 * nothing written until it closes, then one write with the last
	 * state of both streams */
	{
		struct ctl_sessions_counters c0, c1;
		struct rtpb_msg_ev_latch ev2 = ev;

		ctl_sessions_counters(f->sess, &c0);
		ctl_sessions_journal_defer(f->sess, true);
		ev.peer.port = htons(6004);
		ctl_sessions_latch(f->sess, &ev);
		ev2.stream_id = s->leg[1].sock.rtcp.id;
		ev2.cookie = j.d[0].leg[1].st[1].cookie;
		ev2.peer.port = htons(6005);
		ctl_sessions_latch(f->sess, &ev2);
		ctl_sessions_counters(f->sess, &c1);
		assert_true(c1.journal_writes == c0.journal_writes);
		jread(&j);
		assert_v4(&j.d[0].leg[1].st[0].latched, "198.51.100.9", 6002);
		ctl_sessions_journal_defer(f->sess, false);
		ctl_sessions_counters(f->sess, &c1);
		assert_true(c1.journal_writes == c0.journal_writes + 1);
		jread(&j);
		assert_v4(&j.d[0].leg[1].st[0].latched, "198.51.100.9", 6004);
		assert_v4(&j.d[0].leg[1].st[1].latched, "198.51.100.9", 6005);
		/* closed again with nothing waiting: nothing written */
		ctl_sessions_journal_defer(f->sess, true);
		ctl_sessions_journal_defer(f->sess, false);
		ctl_sessions_counters(f->sess, &c0);
		assert_true(c0.journal_writes == c1.journal_writes);
	}

	/* a second session, then S ttl= on the first */
	cmd_at(f, T0 + 2 * NS, "U c2 198.51.100.1 5010 ft2");
	cmd_at(f, T0 + 3 * NS, "U c1 198.51.100.1 5000 ft1 tt1 && S ttl=90");
	jread(&j);
	assert_int_equal(j.n, 2);
	for (uint32_t i = 0; i < j.n; i++)
		if (jstr_is(&j.d[i].call_id, "c1"))
			assert_true(j.d[i].ttl_ns == 90 * NS);

	/* D ends c1: its slot goes, c2's stays */
	assert_string_equal(cmd_at(f, T0 + 4 * NS, "D c1 ft1 tt1"), "0\n");
	jread(&j);
	assert_int_equal(j.n, 1);
	assert_true(jstr_is(&j.d[0].call_id, "c2"));
	/* a timeout too */
	ctl_sessions_tick(f->sess, T0 + 200 * NS);
	assert_int_equal(ctl_journal_used(g_journal), 0);
	jread(&j);
	assert_int_equal(j.n, 0);
}

/* The streams of s as the dataplane holds them, appended at found[*n]. */
static void
found_of(const struct ctl_session *s, struct ctl_dp_found *found, size_t *n)
{
	for (int li = 0; li < 2; li++) {
		const struct ctl_sock *k = &s->leg[li].sock;

		if (k->port == 0)
			continue;
		found[(*n)++] = (struct ctl_dp_found){.id = k->rtp.id,
			.ident = {.local = k->rtp.sent.local,
				  .cookie = k->rtp.sent.cookie}};
		found[(*n)++] = (struct ctl_dp_found){.id = k->rtcp.id,
			.ident = {.local = k->rtcp.sent.local,
				  .cookie = k->rtcp.sent.cookie}};
	}
}

/* Control dies: its table freed with nothing deleted, the journal file
 * reopened as a new process would (f->scfg.journal). The fake: control's
 * handle lets go of the dataplane first, as a dying process does,
 * without a detach (a SIGKILLed control reads nothing more); the
 * streams stay, found at the reattach. */
static void
crash(struct fx *f)
{
	char err[256];

	ctl_dp_set_callbacks(fake_dp_handle(), NULL, NULL, NULL, NULL);
	fake_dp_set_attached(false);
	ctl_exec_destroy(f->ex);
	ctl_sessions_abandon(f->sess);
	ctl_journal_close(g_journal);
	g_journal = ctl_journal_open(g_jpath, 64, err, sizeof(err));
	assert_non_null(g_journal);
	f->scfg.journal = g_journal;
}

/* A control SIGKILLed and started again: the new table rebuilds the
 * session from the journal, takes its streams back from the dataplane
 * (no orphan), and D, Q and a re-offer work on it. */
static void
test_journal_restart(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	struct ctl_dp_found found[6];
	char q[80];
	uint16_t p0, p1;
	uint64_t serial;
	size_t n = 0;

	p0 = reply_port(cmd_at(f, T0, "U c1 198.51.100.1 5000 ft1 && S ttl=90"));
	p1 = reply_port(cmd_at(f, T0 + NS, "L c1 198.51.100.2 6000 ft1 tt1"));
	cmd_at(f, T0 + NS, "U c2 198.51.100.1 5010 ft2");
	s = find(f, "c1", "ft1");
	serial = s->serial;
	found_of(s, found, &n);
	found_of(find(f, "c2", "ft2"), found, &n);
	strcpy(q, cmd_at(f, T0 + 2 * NS, "Q c1 ft1 tt1"));
	/* the crash: nothing deleted, the journal file stays */
	crash(f);
	f->sess = ctl_sessions_create(&f->scfg);
	assert_int_equal(ctl_sessions_journal_load(f->sess, T0 + 3 * NS), 2);
	f->ex = ctl_exec_create(&f->ecfg, f->sess);
	ctl_sessions_bind_dp(f->sess);
	/* their ports are out of the pools before the dataplane is back */
	assert_int_equal(ctl_ports_take(f->ports, p0), -EBUSY);
	assert_int_equal(ctl_ports_take(f->ports, p1), -EBUSY);
	ctl_sessions_now(f->sess, T0 + 3 * NS);
	fake_dp_reattach(found, n);
	assert_string_equal(cmd_at(f, T0 + 3 * NS, "G nadopted norphans"),
			    "0 0\n");
	s = find(f, "c1", "ft1");
	assert_true(s->serial == serial);
	assert_v4(&s->leg[0].remote, "198.51.100.2", 6000);
	/* a new session does not reuse a restored serial */
	cmd_at(f, T0 + 3 * NS, "U c3 198.51.100.1 5020 ft3");
	assert_true(find(f, "c3", "ft3")->serial > serial);
	/* Q answers (same counters: the fake counts nothing), a re-offer
	 * keeps the ports, D finds the call */
	/* ttl left: 60 s from the L at T0 + 1 s */
	assert_string_equal(strchr(cmd_at(f, T0 + 3 * NS, "Q c1 ft1 tt1"), ' '),
			    strchr(q, ' '));
	assert_int_equal(atoi(f->out), 58);
	assert_int_equal(reply_port(cmd_at(f, T0 + 4 * NS,
					   "U c1 198.51.100.1 5000 ft1 tt1")), p0);
	assert_int_equal(reply_port(cmd_at(f, T0 + 4 * NS,
					   "L c1 198.51.100.2 6000 ft1 tt1")), p1);
	assert_string_equal(cmd_at(f, T0 + 5 * NS, "D c1 ft1 tt1"), "0\n");
	assert_string_equal(cmd_at(f, T0 + 5 * NS, "D c2 ft2"), "0\n");
	assert_int_equal(ctl_sessions_count(f->sess), 1);
}

/* A control started again after crash(): a new table from the journal,
 * its commands and the dataplane bound, its clock at now; nothing
 * attached yet. @return the sessions restored. */
static uint32_t
restart(struct fx *f, uint64_t now)
{
	uint32_t n;

	crash(f);
	f->sess = ctl_sessions_create(&f->scfg);
	n = ctl_sessions_journal_load(f->sess, now);
	f->ex = ctl_exec_create(&f->ecfg, f->sess);
	ctl_sessions_bind_dp(f->sess);
	ctl_sessions_now(f->sess, now);
	return n;
}

/* Messages pushed since the last fake_dp_clear_msgs(), by type. */
static void
msg_counts(int *add, int *upd, int *del)
{
	*add = *upd = *del = 0;
	for (size_t i = 0; i < fake_dp_nmsgs(); i++) {
		int ty = fake_dp_msg(i)->hdr.type;

		*add += ty == RTPB_MSG_STREAM_ADD;
		*upd += ty == RTPB_MSG_STREAM_UPDATE;
		*del += ty == RTPB_MSG_STREAM_DEL;
	}
}

/* A control restart keeps the restored session's streams in the
 * dataplane in place (issue 16: no DEL/ADD, so no packet is lost): no
 * message at the attach, the same ids, the counters go on from the
 * dataplane's own; a D afterwards deletes them. The journal counters
 * (G njournal_*, nstreams_kept) say so. */
static void
test_journal_keep_in_place(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	struct ctl_dp_found found[4];
	uint32_t ids[4];
	size_t n = 0;
	int add, upd, del;

	reply_port(cmd_at(f, T0, "U c1 198.51.100.1 5000 ft1"));
	reply_port(cmd_at(f, T0 + NS, "L c1 198.51.100.2 6000 ft1 tt1"));
	s = find(f, "c1", "ft1");
	*fake_dp_stats(s->leg[0].sock.rtp.id) = (struct rtpb_stream_stats){
		.pkts_in = 40, .pkts_relayed = 40, .last_rx_ns = T0 + NS};
	*fake_dp_stats(s->leg[1].sock.rtp.id) = (struct rtpb_stream_stats){
		.pkts_in = 30, .pkts_relayed = 29, .pkts_dropped = 1,
		.last_rx_ns = T0 + NS};
	found_of(s, found, &n);
	for (int i = 0; i < 4; i++)
		ids[i] = found[i].id;
	assert_string_equal(cmd_at(f, T0 + 2 * NS, "Q c1 ft1 tt1"),
			    "59 30 40 69 1\n");
	assert_string_equal(cmd(f, "G njournal_slots_used njournal_slots_free "
				"njournal_restored nstreams_kept"), "1 63 0 0\n");
	assert_int_equal(restart(f, T0 + 3 * NS), 1);
	fake_dp_clear_msgs();
	fake_dp_reattach(found, n);
	msg_counts(&add, &upd, &del);
	assert_int_equal(add + upd + del, 0);
	assert_string_equal(cmd(f, "G nstreams_kept njournal_restored "
				"nadopted njournal_slots_used"), "4 1 0 1\n");
	s = find(f, "c1", "ft1");
	assert_int_equal(s->leg[0].sock.rtp.id, ids[0]);
	assert_int_equal(s->leg[0].sock.rtcp.id, ids[1]);
	assert_int_equal(s->leg[1].sock.rtp.id, ids[2]);
	assert_int_equal(s->leg[1].sock.rtcp.id, ids[3]);
	/* the counts are the dataplane's, not doubled into the past */
	assert_string_equal(cmd_at(f, T0 + 3 * NS, "Q c1 ft1 tt1"),
			    "58 30 40 69 1\n");
	fake_dp_stats(ids[2])->pkts_in += 5;
	assert_string_equal(cmd_at(f, T0 + 3 * NS, "Q c1 ft1 tt1"),
			    "58 35 40 69 1\n");
	/* a second restart keeps them again: the journal was rewritten
	 * with the kept ids */
	assert_int_equal(restart(f, T0 + 3 * NS), 1);
	fake_dp_clear_msgs();
	fake_dp_reattach(found, n);
	msg_counts(&add, &upd, &del);
	assert_int_equal(add + upd + del, 0);
	assert_string_equal(cmd(f, "G nstreams_kept"), "4\n");
	assert_string_equal(cmd_at(f, T0 + 3 * NS, "Q c1 ft1 tt1"),
			    "58 35 40 69 1\n");
	/* a re-offer of what the journal holds changes nothing but opens a
	 * learning window: UPDATE, no ADD */
	fake_dp_clear_msgs();
	cmd_at(f, T0 + 4 * NS, "U c1 198.51.100.1 5000 ft1 tt1");
	msg_counts(&add, &upd, &del);
	assert_int_equal(add + del, 0);
	assert_string_equal(cmd_at(f, T0 + 5 * NS, "D c1 ft1 tt1"), "0\n");
	msg_counts(&add, &upd, &del);
	assert_int_equal(del, 4);
	assert_int_equal(fake_dp_errors(), 0);
}

/* Only some of a restored session's streams are found as the journal
 * names them: those are kept; the others are added again with new ids
 * (leg 1's RTP id is held by another control's stream on its socket,
 * adopted, doomed; leg 1's RTCP is gone), and a kept stream whose out
 * or pair id changed gets an UPDATE, never an ADD. */
static void
test_journal_keep_partial(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	struct ctl_dp_found found[4];
	size_t n = 0;
	int add = 0, upd = 0, del = 0;

	reply_port(cmd_at(f, T0, "U c1 198.51.100.1 5000 ft1"));
	reply_port(cmd_at(f, T0 + NS, "L c1 198.51.100.2 6000 ft1 tt1"));
	s = find(f, "c1", "ft1");
	found_of(s, found, &n);
	assert_int_equal(restart(f, T0 + 3 * NS), 1);
	fake_dp_clear_msgs();
	found[2].ident.cookie = 999u << 2;
	fake_dp_reattach(found, 3);
	for (size_t i = 0; i < fake_dp_nmsgs(); i++) {
		const struct rtpb_msg *m = fake_dp_msg(i);
		bool kept = m->stream.stream_id == found[0].id ||
			    m->stream.stream_id == found[1].id;

		if (m->hdr.type == RTPB_MSG_STREAM_ADD) {
			assert_false(kept);
			add++;
		} else if (m->hdr.type == RTPB_MSG_STREAM_UPDATE) {
			assert_true(kept);
			upd++;
		} else {
			del++;
		}
	}
	assert_int_equal(add, 2);
	assert_int_equal(del, 0);
	/* leg 0's RTP relays to leg 1's RTP, under a new id now */
	assert_true(upd >= 1);
	s = find(f, "c1", "ft1");
	assert_int_not_equal(s->leg[1].sock.rtp.id, found[2].id);
	assert_int_equal(s->leg[0].sock.rtp.id, found[0].id);
	assert_string_equal(cmd(f, "G nstreams_kept nadopted"), "2 1\n");
	assert_string_equal(cmd_at(f, T0 + 5 * NS, "D c1 ft1 tt1"), "0\n");
	ctl_sessions_tick(f->sess, T0 + 6 * NS);
	assert_int_equal(fake_dp_live_streams(), 0);
	assert_int_equal(fake_dp_errors(), 0);
}

/* A record whose relay address is gone is dropped, naming the call. */
static void
test_journal_restore_dropped(void **state)
{
	struct fx *f = *state;
	struct jseen j;

	reply_port6(cmd_at(f, T0, "U6 c9 2001:db8::5 5000 ft9"));
	jread(&j);
	assert_int_equal(j.n, 1);
	crash(f);
	/* restarted with IPv4 only */
	f->scfg.ports6 = NULL;
	memset(f->scfg.relay6, 0, 16);
	f->sess = ctl_sessions_create(&f->scfg);
	ctl_log_set_level(CTL_LOG_INFO);
	ctl_log_set_hook(log_capture, f);
	assert_int_equal(ctl_sessions_journal_load(f->sess, T0 + NS), 0);
	ctl_log_set_hook(NULL, NULL);
	ctl_log_set_level(CTL_LOG_CRIT);
	if (strstr(f->log->str, "journal: session not restored") == NULL)
		fail_msg("log: %s", f->log->str);
	assert_non_null(strstr(f->log->str, "c9"));
	assert_int_equal(ctl_journal_used(g_journal), 0);
	f->ex = ctl_exec_create(&f->ecfg, f->sess);
	assert_string_equal(cmd(f, "G njournal_restored njournal_dropped"),
			    "0 1\n");
	ctl_sessions_bind_dp(f->sess);
	/* (its IPv6 streams went with the old dataplane's address) */
	fake_dp_reattach(NULL, 0);
	assert_int_equal(ctl_sessions_count(f->sess), 0);
}

/* A call-id too large for a slot: the session works, is not journalled,
 * and is counted. */
static void
test_journal_too_large(void **state)
{
	struct fx *f = *state;
	struct ctl_sessions_counters c;
	char text[CTL_JOURNAL_PAYLOAD + 64];
	int n;

	n = snprintf(text, sizeof(text), "U ");
	memset(text + n, 'x', CTL_JOURNAL_PAYLOAD);
	n += CTL_JOURNAL_PAYLOAD;
	snprintf(text + n, sizeof(text) - (size_t)n, " 198.51.100.1 5000 ft");
	reply_port(cmd(f, text));
	ctl_sessions_counters(f->sess, &c);
	assert_int_equal(ctl_sessions_count(f->sess), 1);
	assert_int_equal(c.journal_skipped, 1);
	/* each write attempt of it (two for a U) */
	assert_int_equal(c.journal_write_errors, 2);
	assert_int_equal(ctl_journal_used(g_journal), 0);
	cmd(f, "U c1 198.51.100.1 5002 ft");
	assert_int_equal(ctl_journal_used(g_journal), 1);
	assert_string_equal(cmd(f, "G njournal_write_errors njournal_slots_used "
				"njournal_slots_free"), "2 1 63\n");
	/* I says it in a line of its own */
	assert_non_null(strstr(cmd(f, "I"), "journal: "));
	assert_non_null(strstr(f->out, "2 write errors, slots 1 used 63 free"));
}

static void
test_delete(void **state)
{
	struct fx *f = *state;
	uint32_t total = ctl_ports_total(f->ports);
	size_t ndel = 0;

	cmd(f, "U c1 198.51.100.1 5000 a;1");
	cmd(f, "L c1 198.51.100.2 6000 a;1 b;1");
	cmd(f, "U c1 198.51.100.1 5002 a;2");
	cmd(f, "U c1 198.51.100.1 5004 other");
	assert_int_equal(ctl_ports_avail(f->ports), total - 4);
	assert_int_equal(fake_dp_ids_in_use(), 8);
	fake_dp_clear_msgs();
	assert_string_equal(cmd(f, "D c1 nosuch"), "E50\n");
	assert_string_equal(cmd(f, "D c2 a"), "E50\n");
	/* prefix match: every m-line of tag a, not "other" */
	assert_string_equal(cmd(f, "D c1 a"), "0\n");
	for (size_t i = 0; i < fake_dp_nmsgs(); i++)
		ndel += fake_dp_msg(i)->hdr.type == RTPB_MSG_STREAM_DEL;
	assert_int_equal(ndel, 6);
	assert_int_equal(ctl_sessions_count(f->sess), 1);
	assert_int_equal(ctl_ports_avail(f->ports), total - 1);
	assert_int_equal(fake_dp_ids_in_use(), 2);
	assert_string_equal(cmd(f, "D c1 a"), "E50\n");
	/* by to_tag */
	assert_string_equal(cmd(f, "D c1 x other"), "0\n");
	assert_int_equal(ctl_sessions_count(f->sess), 0);
}

/*
 * RTP analysis (issue 17 item 4, issue 18 item 1): Q's rtpa_* names read
 * leg idx's RTP stream (as npkts_ina), G's rtpa_* grow at session end,
 * and the session's end logs both directions' quality and counts them in
 * the per-call histograms.
 */
static void
test_quality(void **state)
{
	struct fx *f = *state;
	struct ctl_sessions_counters c;
	struct ctl_session *s;

	cmd(f, "U c1 198.51.100.1 5000 ft1");
	cmd(f, "L c1 198.51.100.2 6000 ft1 tt1");
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "ft1", NULL, &s), 0);
	/* leg 1: 1000 sent, 990 received (10 lost), 5 duplicates, jitter
	 * 2 ms at 8 kHz (16 ts units = 256/16); the other phone's RR: 5/256
	 * lost, 7 cumulative, 24 ts units (3 ms) */
	*fake_dp_rtpa(s->leg[1].sock.rtp.id) = (struct rtpb_rtpa){
		.nsent = 1000, .nrcvd = 990, .ndups = 5, .nreordered = 2,
		.jitter = 256, .jmax = 320, .jsum = 2560, .njitter = 10,
		.clock_rate = 8000, .longest_ipi_ns = 60000000,
		.rr = {.nrr = 3, .fraction_lost = 5, .cum_lost = 7, .jitter = 24}};
	/* leg 0: clean */
	*fake_dp_rtpa(s->leg[0].sock.rtp.id) = (struct rtpb_rtpa){
		.nsent = 500, .nrcvd = 500, .clock_rate = 8000};
	assert_string_equal(cmd(f, "Qv c1 ft1 tt1 rtpa_nsent rtpa_nrcvd rtpa_nlost "
				   "rtpa_ndups rtpa_perrs"),
			    "rtpa_nsent=1000 rtpa_nrcvd=990 rtpa_nlost=10 "
			    "rtpa_ndups=5 rtpa_perrs=0\n");
	assert_string_equal(cmd(f, "Q c1 ft1 tt1 ttl rtpa_jlast rtpa_jmax rtpa_javg longest_ipi"),
			    "60 16.000000 20.000000 16.000000 0.060000\n");
	assert_string_equal(cmd(f, "Q c1 tt1 ft1 rtpa_nlost"), "0\n");
	assert_string_equal(cmd(f, "Q c1 ft1 tt1 rtpa_nosuch"), "E62\n");
	assert_string_equal(cmd(f, "G rtpa_nsent"), "0\n");

	ctl_log_set_level(CTL_LOG_INFO);
	ctl_log_set_hook(log_capture, f);
	assert_string_equal(cmd(f, "D c1 ft1 tt1"), "0\n");
	ctl_log_set_hook(NULL, NULL);
	ctl_log_set_level(getenv("CTL_TEST_LOG") ? CTL_LOG_DBUG : CTL_LOG_CRIT);
	assert_non_null(strstr(f->log->str,
			       "[c1] quality: leg0: pkts=500 lost=0 dups=0 reordered=0 "
			       "jitter_ms=0.000 rr=0 "));
	assert_non_null(strstr(f->log->str,
			       "leg1: pkts=990 lost=10 dups=5 reordered=2 jitter_ms=2.000 "
			       "rr=3 rr_fraction_lost=0.0195 rr_cum_lost=7 "
			       "rr_jitter_ms=3.000"));
	assert_string_equal(cmd(f, "Gv rtpa_nsent rtpa_nrcvd rtpa_ndups rtpa_nlost rtpa_perrs"),
			    "rtpa_nsent=1500 rtpa_nrcvd=1490 rtpa_ndups=5 "
			    "rtpa_nlost=10 rtpa_perrs=0\n");
	ctl_sessions_counters(f->sess, &c);
	assert_int_equal(c.q_count, 2);
	/* loss 0 in the first bucket (le 0), 1 % in le 0.01 (index 3) */
	assert_int_equal(c.q_loss_bucket[0], 1);
	assert_int_equal(c.q_loss_bucket[3], 1);
	/* jitter 0 in le 0.001, 2 ms in le 0.005 */
	assert_int_equal(c.q_jitter_bucket[0], 1);
	assert_int_equal(c.q_jitter_bucket[1], 1);
}

static void
test_ttl(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	uint32_t id;

	cmd(f, "U c1 198.51.100.1 5000 ft1");
	cmd(f, "U c2 198.51.100.1 5002 ft2");
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "ft1", NULL, &s), 0);
	id = s->leg[0].sock.rtcp.id;
	/* packets on c1's RTCP stream at T0+50 s keep it alive */
	fake_dp_stats(id)->last_rx_ns = T0 + 50 * NS;
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 60 * NS), 0);
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 61 * NS), 1);
	assert_int_equal(ctl_sessions_find(f->sess, "c2", "ft2", NULL, &s), -1);
	/* a U/L restarts the timer too */
	cmd_at(f, T0 + 100 * NS, "U c1 198.51.100.1 5000 ft1");
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 150 * NS), 0);
	assert_string_equal(cmd_at(f, T0 + 150 * NS, "Q c1 ft1"),
			    "10 0 0 0 0\n");
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 161 * NS), 1);
	assert_int_equal(ctl_sessions_count(f->sess), 0);
	assert_string_equal(cmd(f, "G nsess_timeout nsess_created"), "2 2\n");
}

/*
 * Issue 16: time without a dataplane is not time without media, and Q, I
 * and G go on from what the lost dataplane counted.
 */
static void
test_dp_lost_no_aging(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;

	cmd(f, "U c1 198.51.100.1 5000 ft1");
	cmd(f, "L c1 198.51.100.2 6000 ft1 tt1");
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "ft1", NULL, &s), 0);
	*fake_dp_stats(s->leg[0].sock.rtp.id) = (struct rtpb_stream_stats){
		.pkts_in = 100, .pkts_relayed = 98, .pkts_dropped = 2,
		.last_rx_ns = T0 + 30 * NS};
	*fake_dp_stats(s->leg[1].sock.rtp.id) = (struct rtpb_stream_stats){
		.pkts_in = 50, .pkts_relayed = 50, .last_rx_ns = T0 + 30 * NS};
	assert_string_equal(cmd_at(f, T0 + 40 * NS, "Q c1 ft1 tt1"),
			    "50 50 100 148 2\n");
	/* the dataplane dies at T0+40 s; 100 s without one: no timeout, and
	 * Q's ttl stands still */
	fake_dp_set_clock(T0 + 40 * NS);
	fake_dp_set_attached(false);
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 140 * NS), 0);
	assert_string_equal(cmd_at(f, T0 + 140 * NS, "Q c1 ft1 tt1"),
			    "50 50 100 148 2\n");
	/* a new one at T0+140 s: replayed, counters go on from there */
	fake_dp_set_clock(T0 + 140 * NS);
	fake_dp_restart(4);
	assert_string_equal(cmd_at(f, T0 + 140 * NS, "Q c1 ft1 tt1"),
			    "50 50 100 148 2\n");
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "ft1", NULL, &s), 0);
	*fake_dp_stats(s->leg[0].sock.rtp.id) = (struct rtpb_stream_stats){
		.pkts_in = 7, .pkts_relayed = 7};
	assert_string_equal(cmd_at(f, T0 + 141 * NS, "Q c1 ft1 tt1"),
			    "49 50 107 155 2\n");
	assert_string_equal(cmd(f, "G npkts_rcvd npkts_relayed npkts_discard"),
			    "157 155 2\n");
	/* the clock was pushed forward by the 100 s: last activity T0+130 s */
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 190 * NS), 0);
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 191 * NS), 1);
	/* the deleted streams keep every generation's packets in I and G */
	assert_string_equal(cmd(f, "G nsess_timeout npkts_rcvd npkts_relayed"),
			    "1 157 155\n");
}

static void
test_not_attached(void **state)
{
	struct fx *f = *state;
	uint32_t total = ctl_ports_total(f->ports);

	fake_dp_set_attached(false);
	assert_string_equal(cmd(f, "U c1 198.51.100.1 5000 ft1"), "E72\n");
	assert_int_equal(ctl_ports_avail(f->ports), total);
	fake_dp_set_attached(true);
	reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1"));
	fake_dp_set_attached(false);
	assert_string_equal(cmd(f, "L c1 198.51.100.2 6000 ft1 tt1"), "E71\n");
	assert_int_equal(ctl_ports_avail(f->ports), total - 1);
	fake_dp_set_attached(true);
}

static void
test_ring_full(void **state)
{
	struct fx *f = *state;
	uint32_t total = ctl_ports_total(f->ports);

	fake_dp_set_ring_full(true);
	assert_string_equal(cmd(f, "U c1 198.51.100.1 5000 ft1"), "E72\n");
	assert_int_equal(ctl_ports_avail(f->ports), total);
	assert_int_equal(fake_dp_ids_in_use(), 0);
	fake_dp_set_ring_full(false);
	/* RTP ADD taken, RTCP ADD refused, rollback DEL refused too: the id
	 * and port stay taken until the DEL goes through */
	fake_dp_set_push_budget(1);
	assert_string_equal(cmd(f, "U c1 198.51.100.1 5000 ft1"), "E72\n");
	assert_int_equal(ctl_sessions_count(f->sess), 0);
	assert_int_equal(fake_dp_live_streams(), 1);
	assert_int_equal(ctl_ports_avail(f->ports), total - 1);
	fake_dp_set_push_budget(-1);
	ctl_sessions_flush(f->sess);
	assert_int_equal(fake_dp_live_streams(), 0);
	assert_int_equal(fake_dp_ids_in_use(), 0);
	assert_int_equal(ctl_ports_avail(f->ports), total);
	/* L: leg 1's ADDs refused -> E71, leg 1 has no port, call goes on */
	reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1"));
	fake_dp_set_ring_full(true);
	assert_string_equal(cmd(f, "L c1 198.51.100.2 6000 ft1 tt1"), "E71\n");
	assert_int_equal(ctl_ports_avail(f->ports), total - 1);
	/* a re-offer UPDATE refused: answered, retried by flush */
	assert_int_equal(fake_dp_nmsgs() > 0, 1);
	fake_dp_set_ring_full(false);
	reply_port(cmd(f, "L c1 198.51.100.2 6000 ft1 tt1"));
	fake_dp_set_ring_full(true);
	fake_dp_clear_msgs();
	reply_port(cmd(f, "U c1 198.51.100.7 5000 ft1 tt1"));
	assert_int_equal(fake_dp_nmsgs(), 0);
	fake_dp_set_ring_full(false);
	ctl_sessions_flush(f->sess);
	assert_int_equal(fake_dp_nmsgs(), 2);
	assert_v4(&msg_stream(0, RTPB_MSG_STREAM_UPDATE)->signalled,
		  "198.51.100.7", 5000);
}

static void
test_replay(void **state)
{
	struct fx *f = *state;
	size_t nadd = 0;

	cmd(f, "U c1 198.51.100.1 5000 ft1");
	cmd(f, "L c1 198.51.100.2 6000 ft1 tt1");
	cmd(f, "U c2 198.51.100.3 5000 ft2");
	fake_dp_clear_msgs();
	fake_dp_restart(3);
	for (size_t i = 0; i < fake_dp_nmsgs(); i++) {
		const struct rtpb_msg_stream *m = msg_stream(i, RTPB_MSG_STREAM_ADD);

		nadd++;
		assert_true(m->stream_id < 4096);
	}
	assert_int_equal(nadd, 6);
	assert_int_equal(fake_dp_live_streams(), 6);
	assert_int_equal(fake_dp_errors(), 0);
	/* the complete call's legs point at each other with the new ids */
	struct ctl_session *s;

	assert_int_equal(ctl_sessions_find(f->sess, "c1", "ft1", NULL, &s), 0);
	assert_int_equal(rtpb_stream_owner(s->leg[0].sock.rtp.id, 3),
			 rtpb_stream_owner(s->leg[1].sock.rtcp.id, 3));
	assert_int_equal(fake_dp_last_stream_msg(s->leg[0].sock.rtp.id, -1)->out_stream_id,
			 s->leg[1].sock.rtp.id);
	assert_int_equal(fake_dp_last_stream_msg(s->leg[1].sock.rtcp.id, -1)->out_stream_id,
			 s->leg[0].sock.rtcp.id);
	assert_v4(&fake_dp_last_stream_msg(s->leg[1].sock.rtp.id, -1)->signalled,
		  "198.51.100.1", 5000);
}

static void
test_latch(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	struct rtpb_addr peer;
	struct ctl_sessions_counters c;

	cmd(f, "U c1 198.51.100.1 5000 ft1");
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "ft1", NULL, &s), 0);
	inet_pton(AF_INET, "198.51.100.99", peer.ip);
	rtpb_addr_set_v4(&peer, rtpb_addr_v4(&peer), htons(40000));
	fake_dp_latch(s->leg[0].sock.rtp.id,
		      fake_dp_last_stream_msg(s->leg[0].sock.rtp.id, -1)->cookie,
		      &peer);
	/* a stale event (wrong id for the cookie) is ignored */
	fake_dp_latch(s->leg[0].sock.rtp.id + 1,
		      fake_dp_last_stream_msg(s->leg[0].sock.rtp.id, -1)->cookie,
		      &peer);
	ctl_sessions_counters(f->sess, &c);
	assert_int_equal(c.latches, 1);
	assert_int_equal(s->latches, 1);
}

/* The session of call_id/from_tag (which must exist). */
static struct ctl_session *
find(struct fx *f, const char *call_id, const char *from_tag)
{
	struct ctl_session *s = NULL;

	assert_int_equal(ctl_sessions_find(f->sess, call_id, from_tag, NULL, &s),
			 0);
	return s;
}

/* Messages of a type among fake_dp_msg(from..). */
static size_t
count_type(size_t from, int type)
{
	size_t n = 0;

	for (size_t i = from; i < fake_dp_nmsgs(); i++)
		n += fake_dp_msg(i)->hdr.type == type;
	return n;
}

static void
test_ipv6_legs(void **state)
{
	struct fx *f = *state;
	const struct rtpb_msg_stream *rtp, *rtcp, *u0, *u1;
	uint16_t p0, p1;
	uint32_t avail6 = ctl_ports_avail(f->ports6);

	/* '6': an IPv6 offer; leg 0 (the answerer, unknown) takes the
	 * command's family, the reply is rtpproxy's "<port> <addr> 6" */
	p0 = reply_port6(cmd(f, "U6 c1 2001:db8::10 5000 ft1"));
	assert_int_equal(ctl_ports_avail(f->ports6), avail6 - 1);
	assert_int_equal(ctl_ports_avail(f->ports), ctl_ports_total(f->ports));
	assert_int_equal(fake_dp_nmsgs(), 2);
	rtp = msg_stream(0, RTPB_MSG_STREAM_ADD);
	rtcp = msg_stream(1, RTPB_MSG_STREAM_ADD);
	assert_v6(&rtp->local, RELAY6, p0);
	assert_v6(&rtcp->local, RELAY6, p0 + 1);
	assert_int_equal(rtp->pair_stream_id, rtcp->stream_id);
	/* the answer, IPv6 too: leg 1 in the offerer's family, with its
	 * address (RTCP: port + 1); leg 0 gets the answerer's */
	fake_dp_clear_msgs();
	p1 = reply_port6(cmd(f, "L6 c1 2001:db8::20 6000 ft1 tt1"));
	assert_int_not_equal(p0, p1);
	assert_int_equal(fake_dp_nmsgs(), 4);
	rtp = msg_stream(0, RTPB_MSG_STREAM_ADD);
	rtcp = msg_stream(1, RTPB_MSG_STREAM_ADD);
	assert_v6(&rtp->local, RELAY6, p1);
	assert_v6(&rtp->signalled, "2001:db8::10", 5000);
	assert_v6(&rtcp->signalled, "2001:db8::10", 5001);
	u0 = msg_stream(2, RTPB_MSG_STREAM_UPDATE);
	u1 = msg_stream(3, RTPB_MSG_STREAM_UPDATE);
	assert_v6(&u0->signalled, "2001:db8::20", 6000);
	assert_v6(&u1->signalled, "2001:db8::20", 6001);
	assert_int_equal(u0->out_stream_id, rtp->stream_id);
	assert_int_equal(rtp->out_stream_id, u0->stream_id);
	/* a U again: same port, same family: only the learning window's
	 * UPDATE pair */
	fake_dp_clear_msgs();
	assert_int_equal(reply_port6(cmd(f, "U6 c1 2001:db8::10 5000 ft1 tt1")),
			 p0);
	assert_int_equal(fake_dp_nmsgs(), 2);
	fake_dp_clear_msgs();
	/* an IPv4 address with '6' is E37, a '6' re-offer on hold clears */
	assert_string_equal(cmd(f, "U6 c1 198.51.100.1 5000 ft1 tt1"), "E37\n");
	cmd(f, "U6 c1 :: 5000 ft1 tt1");
	assert_int_equal(msg_stream(0, RTPB_MSG_STREAM_UPDATE)->signalled.family,
			 RTPB_AF_NONE);
	assert_int_equal(fake_dp_nmsgs(), 2);
}

static void
test_bridge(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	const struct rtpb_msg_stream *a0, *a1;
	uint16_t p0, p1, p0v6;
	uint32_t old_rtp, old_rtcp;
	size_t n;

	/* an IPv4 offerer, an IPv6 answerer */
	p0 = reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1"));
	p1 = reply_port(cmd(f, "L6 c1 2001:db8::2 6000 ft1 tt1"));
	s = find(f, "c1", "ft1");
	/* leg 1 faces the offerer: IPv4 like it */
	assert_int_equal(s->leg[1].sock.family, RTPB_AF_INET);
	/* leg 0's port went to the answerer in the offer: it stays IPv4,
	 * and the dataplane gets no IPv6 peer for an IPv4 socket */
	assert_int_equal(s->leg[0].sock.family, RTPB_AF_INET);
	assert_int_equal(s->leg[0].sock.port, p0);
	assert_int_equal(
		fake_dp_last_stream_msg(s->leg[0].sock.rtp.id, -1)->signalled.family,
		RTPB_AF_NONE);
	old_rtp = s->leg[0].sock.rtp.id;
	old_rtcp = s->leg[0].sock.rtcp.id;
	/* the next offer returns leg 0 to the answerer: IPv6 now */
	fake_dp_clear_msgs();
	p0v6 = reply_port6(cmd(f, "U c1 198.51.100.1 5000 ft1 tt1"));
	assert_int_equal(s->leg[0].sock.family, RTPB_AF_INET6);
	assert_int_equal(s->leg[1].sock.family, RTPB_AF_INET);
	n = fake_dp_nmsgs();
	assert_int_equal(n, 6);
	a0 = msg_stream(0, RTPB_MSG_STREAM_ADD);
	a1 = msg_stream(1, RTPB_MSG_STREAM_ADD);
	assert_v6(&a0->local, RELAY6, p0v6);
	assert_v6(&a1->local, RELAY6, p0v6 + 1);
	assert_v6(&a0->signalled, "2001:db8::2", 6000);
	assert_v6(&a1->signalled, "2001:db8::2", 6001);
	/* the legs point at each other, across families */
	assert_int_equal(a0->out_stream_id, s->leg[1].sock.rtp.id);
	assert_int_equal(a1->out_stream_id, s->leg[1].sock.rtcp.id);
	assert_int_equal(msg_stream(2, RTPB_MSG_STREAM_UPDATE)->out_stream_id,
			 a0->stream_id);
	assert_int_equal(msg_stream(3, RTPB_MSG_STREAM_UPDATE)->out_stream_id,
			 a1->stream_id);
	assert_v4(&msg_stream(2, RTPB_MSG_STREAM_UPDATE)->signalled,
		  "198.51.100.1", 5000);
	assert_int_equal(fake_dp_msg(4)->hdr.type, RTPB_MSG_STREAM_DEL);
	assert_int_equal(fake_dp_msg(4)->del.stream_id, old_rtp);
	assert_v4(&fake_dp_msg(4)->del.local, RELAY, p0);
	assert_int_equal(fake_dp_msg(5)->del.stream_id, old_rtcp);
	assert_v4(&fake_dp_msg(5)->del.local, RELAY, p0 + 1);
	/* all streams on the session's owner worker */
	for (int li = 0; li < 2; li++) {
		assert_int_equal(rtpb_stream_owner(s->leg[li].sock.rtp.id, 4), s->owner);
		assert_int_equal(rtpb_stream_owner(s->leg[li].sock.rtcp.id, 4),
				 s->owner);
	}
	/* the answer's L: leg 1 as before */
	assert_int_equal(reply_port(cmd(f, "L6 c1 2001:db8::2 6000 ft1 tt1")), p1);
	/* a U from the callee (re-INVITE) whose leg moves to IPv4 returns
	 * P1 (the offerer's leg); the answerer's leg moves at once */
	fake_dp_clear_msgs();
	assert_int_equal(reply_port(cmd(f, "U c1 198.51.100.2 6002 tt1 ft1")), p1);
	assert_int_equal(s->leg[0].sock.family, RTPB_AF_INET);
	assert_int_equal(count_type(0, RTPB_MSG_STREAM_ADD), 2);
	assert_int_equal(count_type(0, RTPB_MSG_STREAM_DEL), 2);
	assert_int_equal(fake_dp_live_streams(), 4);
	assert_int_equal(ctl_ports_avail(f->ports6), ctl_ports_total(f->ports6));
	assert_int_equal(ctl_ports_avail(f->ports), ctl_ports_total(f->ports) - 2);
	/* the offerer's answer returns the moved leg: IPv4 */
	assert_int_equal(reply_port(cmd(f, "L c1 198.51.100.1 5000 tt1 ft1")),
			 s->leg[0].sock.port);
	assert_string_equal(cmd(f, "G nfamily_moves"), "2\n");
}

static void
test_reoffer_family_change(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	const struct rtpb_msg_stream *a0, *a1, *u0, *u1;
	struct rtpb_msg_ev_latch ev = {.reason = RTPB_LATCH_LEARN};
	uint16_t p0, p1, p1v6;
	uint32_t old_rtp, old_rtcp, total = ctl_ports_total(f->ports);
	uint64_t cookie;

	p0 = reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1"));
	p1 = reply_port(cmd(f, "L c1 198.51.100.2 6000 ft1 tt1"));
	s = find(f, "c1", "ft1");
	old_rtp = s->leg[1].sock.rtp.id;
	old_rtcp = s->leg[1].sock.rtcp.id;
	cookie = fake_dp_last_stream_msg(old_rtp, -1)->cookie;
	/* the offerer moves to IPv6 (pjsua_handle_ip_change, re-INVITE):
	 * its leg gets an IPv6 socket at once; the reply is still P0 */
	fake_dp_clear_msgs();
	assert_int_equal(reply_port(cmd(f, "U6 c1 2001:db8::1:5 5004 ft1 tt1")),
			 p0);
	assert_int_equal(fake_dp_nmsgs(), 6);
	/* ADD the new streams, re-point the other leg, then DEL the old:
	 * no stream ever points at a deleted one */
	a0 = msg_stream(0, RTPB_MSG_STREAM_ADD);
	a1 = msg_stream(1, RTPB_MSG_STREAM_ADD);
	p1v6 = (uint16_t)ntohs(a0->local.port);
	assert_v6(&a0->local, RELAY6, p1v6);
	assert_v6(&a1->local, RELAY6, p1v6 + 1);
	assert_v6(&a0->signalled, "2001:db8::1:5", 5004);
	assert_v6(&a1->signalled, "2001:db8::1:5", 5005);
	assert_int_not_equal(a0->stream_id, old_rtp);
	assert_int_equal(a0->pair_stream_id, a1->stream_id);
	assert_int_equal(a0->out_stream_id, s->leg[0].sock.rtp.id);
	assert_int_equal(a1->out_stream_id, s->leg[0].sock.rtcp.id);
	u0 = msg_stream(2, RTPB_MSG_STREAM_UPDATE);
	u1 = msg_stream(3, RTPB_MSG_STREAM_UPDATE);
	assert_int_equal(u0->stream_id, s->leg[0].sock.rtp.id);
	assert_int_equal(u0->out_stream_id, a0->stream_id);
	assert_int_equal(u1->out_stream_id, a1->stream_id);
	assert_v4(&u0->local, RELAY, p0);
	assert_int_equal(fake_dp_msg(4)->hdr.type, RTPB_MSG_STREAM_DEL);
	assert_int_equal(fake_dp_msg(4)->del.stream_id, old_rtp);
	assert_v4(&fake_dp_msg(4)->del.local, RELAY, p1);
	assert_int_equal(fake_dp_msg(5)->hdr.type, RTPB_MSG_STREAM_DEL);
	assert_int_equal(fake_dp_msg(5)->del.stream_id, old_rtcp);
	/* the old port is back in the IPv4 pool, the new one from IPv6 */
	assert_int_equal(ctl_ports_avail(f->ports), total - 1);
	assert_int_equal(ctl_ports_avail(f->ports6), total - 1);
	assert_int_equal(fake_dp_live_streams(), 4);
	assert_int_equal(rtpb_stream_owner(a0->stream_id, 4), s->owner);
	assert_int_equal(rtpb_stream_owner(a1->stream_id, 4), s->owner);
	/* the answer's L carries the new port and address to the offerer */
	fake_dp_clear_msgs();
	assert_int_equal(reply_port6(cmd(f, "L c1 198.51.100.2 6000 ft1 tt1")),
			 p1v6);
	/* (the answerer's leg: its learning window's UPDATE pair) */
	assert_int_equal(fake_dp_nmsgs(), 2);
	/* an event of the old stream is stale: ignored */
	inet_pton(AF_INET, "198.51.100.1", ev.peer.ip);
	ev.peer.family = RTPB_AF_INET;
	ev.peer.port = htons(5000);
	ev.stream_id = old_rtp;
	ev.cookie = cookie;
	fake_dp_latch_ev(&ev);
	assert_int_equal(s->latches, 0);
	/* and back to IPv4, with the ring full after the first ADD: E71,
	 * the leg keeps its IPv6 socket, the half-made one is undone */
	fake_dp_clear_msgs();
	fake_dp_set_push_budget(1);
	assert_string_equal(cmd(f, "U c1 198.51.100.9 5000 ft1 tt1"), "E71\n");
	fake_dp_set_push_budget(-1);
	ctl_sessions_flush(f->sess);
	assert_int_equal(s->leg[1].sock.family, RTPB_AF_INET6);
	assert_int_equal(s->leg[1].sock.port, p1v6);
	assert_v6(&s->leg[1].remote, "2001:db8::1:5", 5004);
	assert_int_equal(fake_dp_live_streams(), 4);
	assert_int_equal(ctl_ports_avail(f->ports), total - 1);
	assert_int_equal(ctl_ports_avail(f->ports6), total - 1);
	/* the same with the re-pointing UPDATE refused: the old streams'
	 * DELs wait behind it (flush: UPDATEs, then DELs) */
	fake_dp_clear_msgs();
	fake_dp_set_push_budget(2);
	assert_int_equal(reply_port(cmd(f, "U c1 198.51.100.9 5000 ft1 tt1")), p0);
	assert_int_equal(fake_dp_nmsgs(), 2);
	assert_int_equal(s->leg[1].sock.family, RTPB_AF_INET);
	assert_int_equal(ctl_ports_avail(f->ports6), total - 1); /* buried */
	fake_dp_set_push_budget(-1);
	ctl_sessions_flush(f->sess);
	assert_int_equal(fake_dp_nmsgs(), 6);
	assert_int_equal(fake_dp_msg(2)->hdr.type, RTPB_MSG_STREAM_UPDATE);
	assert_int_equal(fake_dp_msg(3)->hdr.type, RTPB_MSG_STREAM_UPDATE);
	assert_int_equal(fake_dp_msg(4)->hdr.type, RTPB_MSG_STREAM_DEL);
	assert_int_equal(fake_dp_msg(5)->hdr.type, RTPB_MSG_STREAM_DEL);
	assert_int_equal(ctl_ports_avail(f->ports6), total);
	assert_int_equal(fake_dp_live_streams(), 4);
	assert_string_equal(cmd(f, "G nfamily_moves"), "2\n");
}

static void
test_family_pools(void **state)
{
	struct fx *f = *state;
	uint32_t total = ctl_ports_total(f->ports);
	char buf[64];

	/* every IPv4 pair taken: IPv4 refused (E72), IPv6 still fine, and
	 * a port number may be used once per address */
	for (uint32_t i = 0; i < total; i++) {
		snprintf(buf, sizeof(buf), "U c%u 198.51.100.1 5000 f", i);
		reply_port(cmd(f, buf));
	}
	assert_string_equal(cmd(f, "U cx 198.51.100.1 5000 f"), "E72\n");
	assert_int_equal(ctl_ports_avail(f->ports), 0);
	reply_port6(cmd(f, "U6 cy 2001:db8::1:1 5000 f"));
	assert_int_equal(ctl_ports_avail(f->ports6), total - 1);
	/* a re-offer moving a leg to the full family: E71, nothing moved */
	reply_port6(cmd(f, "L6 cy 2001:db8::1:2 6000 f t"));
	assert_string_equal(cmd(f, "U cy 198.51.100.3 5000 f t"), "E71\n");
	assert_int_equal(find(f, "cy", "f")->leg[1].sock.family, RTPB_AF_INET6);
	assert_v6(&find(f, "cy", "f")->leg[1].remote, "2001:db8::1:1", 5000);
	cmd(f, "X");
}

/*
 * Three IPv4 relay addresses (-l 192.0.2.1 -l b@192.0.2.2 -l c@192.0.2.3),
 * each with a pool of its own (ctl_main's layout): 4 pairs each.
 */
#define MULTI_N 3

static const char *const multi_ip[MULTI_N] = {RELAY, "192.0.2.2", "192.0.2.3"};

static int
setup_multi(void **state, bool spill)
{
	static const char *const args_s[MULTI_N] = {RELAY, "b@192.0.2.2",
						     "c@192.0.2.3"};
	struct fx *f = calloc(1, sizeof(*f));
	struct ctl_sessions_cfg scfg = {.ttl_ns = 60 * NS,
					.learn_ms = CTL_LEARN_MS, .spill = spill};
	struct ctl_addr_arg args[MULTI_N];
	struct ctl_exec_cfg ecfg = {0};
	struct ctl_addrs addrs;
	char err[128], warn[128];

	for (int i = 0; i < MULTI_N; i++)
		args[i] = (struct ctl_addr_arg){.s = args_s[i]};
	assert_int_equal(ctl_addrs_build(&addrs, args, MULTI_N, NULL, true, err,
					 sizeof(err), warn, sizeof(warn)), 0);
	inet_pton(AF_INET, RELAY, &f->relay);
	fake_dp_reset(4, 4096, f->relay);
	fake_pf_reset();
	for (int i = 1; i < MULTI_N; i++) {
		struct rtpb_addr a;
		uint32_t ip;

		inet_pton(AF_INET, multi_ip[i], &ip);
		rtpb_addr_set_v4(&a, ip, 0);
		fake_dp_add_addr(&a);
	}
	for (int i = 0; i < MULTI_N; i++)
		scfg.addr_ports[i] = ctl_ports_create(30000, 30006, 50 + i);
	/* the fixture's teardown checks ports and ports6 */
	f->ports = scfg.addr_ports[0];
	f->ports6 = ctl_ports_create(30000, 30006, 60);
	scfg.addrs = &addrs;
	scfg.dp = ctl_dp_create("test");
	scfg.pf = fake_pf_handle();
	f->sess = ctl_sessions_create(&scfg);
	f->ex = ctl_exec_create(&ecfg, f->sess);
	f->log = g_string_new(NULL);
	ctl_sessions_bind_dp(f->sess);
	/* pools 1 and 2 are reached through the table's copy only */
	f->extra[0] = scfg.addr_ports[1];
	f->extra[1] = scfg.addr_ports[2];
	*state = f;
	return 0;
}

static int
setup_multi_strict(void **state)
{
	return setup_multi(state, false);
}

static int
setup_multi_spill(void **state)
{
	return setup_multi(state, true);
}

static int
teardown_multi(void **state)
{
	struct fx *f = *state;
	struct ctl_ports *extra[2] = {f->extra[0], f->extra[1]};

	assert_int_equal(teardown(state), 0);
	/* every pair back to its own address's pool */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ctl_ports_avail(extra[i]), ctl_ports_total(extra[i]));
		ctl_ports_destroy(extra[i]);
	}
	return 0;
}

static void
test_addr_pools(void **state)
{
	struct fx *f = *state;
	char buf[80];

	/* a pool per address: 4 sessions on the default address, and the
	 * same port numbers again on b, pinned with l{b} */
	for (int i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), "U c%d 198.51.100.1 5000 f", i);
		reply_port_on(cmd(f, buf), RELAY);
	}
	assert_int_equal(ctl_ports_avail(f->ports), 0);
	for (int i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), "Ul{b} cb%d 198.51.100.1 5000 f", i);
		reply_port_on(cmd(f, buf), "192.0.2.2");
	}
	assert_int_equal(ctl_ports_avail(f->extra[0]), 0);
	assert_int_equal(ctl_ports_avail(f->extra[1]), 4);
	/* without --port-spill a full default address is E71/E72, as in
	 * rtpproxy, though c has pairs; so is a full pinned address */
	assert_string_equal(cmd(f, "U cx 198.51.100.1 5000 f"), "E72\n");
	assert_string_equal(cmd(f, "Ul{b} cy 198.51.100.1 5000 f"), "E72\n");
	assert_int_equal(ctl_ports_avail(f->extra[1]), 4);
	/* a pair freed on b goes back to b's pool, not the default's */
	cmd(f, "D cb0 f");
	assert_int_equal(ctl_ports_avail(f->extra[0]), 1);
	assert_int_equal(ctl_ports_avail(f->ports), 0);
	assert_string_equal(cmd(f, "G nport_spills"), "0\n");
	cmd(f, "X");
}

static void
test_port_spill(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	char buf[80];
	uint16_t p;

	/* fill the default address (2 sessions x 2 legs) */
	for (int i = 0; i < 2; i++) {
		snprintf(buf, sizeof(buf), "U c%d 198.51.100.1 5000 f", i);
		reply_port_on(cmd(f, buf), RELAY);
		snprintf(buf, sizeof(buf), "L c%d 198.51.100.2 6000 f t", i);
		reply_port_on(cmd(f, buf), RELAY);
	}
	assert_int_equal(ctl_ports_avail(f->ports), 0);
	/* the next call spills to b, both legs, and its streams are there */
	fake_dp_clear_msgs();
	p = reply_port_on(cmd(f, "U c2 198.51.100.1 5000 f"), "192.0.2.2");
	assert_v4(&msg_stream(0, RTPB_MSG_STREAM_ADD)->local, "192.0.2.2", p);
	assert_v4(&msg_stream(1, RTPB_MSG_STREAM_ADD)->local, "192.0.2.2", p + 1);
	reply_port_on(cmd(f, "L c2 198.51.100.2 6000 f t"), "192.0.2.2");
	s = find(f, "c2", "f");
	assert_int_equal(s->leg[0].sock.laddr, 1);
	assert_int_equal(s->leg[1].sock.laddr, 1);
	assert_int_equal(ctl_ports_avail(f->extra[0]), 2);
	/* a pinned leg does not spill: the command chose its address */
	assert_string_equal(cmd(f, "Ul192.0.2.1 cp 198.51.100.1 5000 f"), "E72\n");
	/* fill b and c: then the family is full */
	for (int i = 3; i < 6; i++) {
		snprintf(buf, sizeof(buf), "U c%d 198.51.100.1 5000 f", i);
		reply_port_on(cmd(f, buf), i < 4 ? "192.0.2.2" : "192.0.2.3");
		snprintf(buf, sizeof(buf), "L c%d 198.51.100.2 6000 f t", i);
		reply_port_on(cmd(f, buf), i < 4 ? "192.0.2.2" : "192.0.2.3");
	}
	assert_string_equal(cmd(f, "U cz 198.51.100.1 5000 f"), "E72\n");
	assert_string_equal(cmd(f, "G nport_spills"), "8\n");
	/* a freed default pair is used first again */
	cmd(f, "D c0 f");
	reply_port_on(cmd(f, "U c6 198.51.100.1 5000 f"), RELAY);
	/* a new port ('n') for a spilled leg comes from the default
	 * address when it has one */
	reply_port_on(cmd(f, "Un c2 198.51.100.1 5000 f t"), RELAY);
	assert_int_equal(s->leg[0].sock.laddr, 0);
	assert_int_equal(ctl_ports_avail(f->extra[0]), 1);
	cmd(f, "X");
}

/* A stream an earlier control added: RELAY:port, cookie serial/leg/rtcp. */
static struct ctl_dp_found
found_stream(struct fx *f, uint32_t id, uint16_t port, uint64_t serial, int leg,
	     bool rtcp)
{
	struct ctl_dp_found x = {.id = id};

	rtpb_addr_set_v4(&x.ident.local, f->relay, htons(port));
	x.ident.cookie = serial << 2 | (uint64_t)leg << 1 | (rtcp ? 1 : 0);
	return x;
}

static void
test_control_restart(void **state)
{
	struct fx *f = *state;
	/* an earlier control's call: leg 0 on 30000/30001, leg 1's RTCP on
	 * 30011 (its RTP stream gone already) */
	struct ctl_dp_found found[3] = {
		found_stream(f, 5, 30000, 77, 0, false),
		found_stream(f, 9, 30001, 77, 0, true),
		found_stream(f, 13, 30011, 77, 1, true),
	};
	uint32_t total = ctl_ports_total(f->ports);
	char buf[80];

	ctl_sessions_now(f->sess, T0);
	fake_dp_reattach(found, 3);
	/* kept: their ids taken, their two pairs out of the pool, their
	 * prefilter entries back */
	assert_string_equal(cmd(f, "G nadopted norphans"), "3 3\n");
	assert_int_equal(fake_dp_ids_in_use(), 3);
	assert_int_equal(ctl_ports_avail(f->ports), total - 2);
	assert_int_equal(ctl_ports_take(f->ports, 30000), -EBUSY);
	assert_int_equal(ctl_ports_take(f->ports, 30010), -EBUSY);
	assert_int_equal(fake_pf_nsocks(), 3);
	/* new calls take every other pair and never theirs */
	for (uint32_t i = 0; i < (total - 2) / 2; i++) {
		uint16_t p0, p1;

		snprintf(buf, sizeof(buf), "U n%u 198.51.100.1 5000 f", i);
		p0 = reply_port(cmd(f, buf));
		snprintf(buf, sizeof(buf), "L n%u 198.51.100.2 6000 f t", i);
		p1 = reply_port(cmd(f, buf));
		assert_true(p0 != 30000 && p0 != 30010 && p1 != 30000 && p1 != 30010);
	}
	assert_string_equal(cmd(f, "U nx 198.51.100.1 5000 f"), "E72\n");
	cmd(f, "X");
	/* leg 0's RTP still receives; the RTCP streams do not */
	fake_dp_stats(5)->last_rx_ns = T0 + 50 * NS;
	fake_dp_clear_msgs();
	ctl_sessions_tick(f->sess, T0 + 61 * NS);
	assert_int_equal(fake_dp_nmsgs(), 2);
	assert_int_equal(fake_dp_msg(0)->del.stream_id, 9);
	assert_int_equal(fake_dp_msg(1)->del.stream_id, 13);
	assert_v4(&fake_dp_msg(1)->del.local, RELAY, 30011);
	assert_string_equal(cmd(f, "G norphans"), "1\n");
	/* 30000's pair stays while stream 5 is kept; 30010's is back */
	assert_int_equal(ctl_ports_avail(f->ports), total - 1);
	assert_int_equal(fake_pf_nsocks(), 1);
	ctl_sessions_tick(f->sess, T0 + 100 * NS);
	assert_string_equal(cmd(f, "G norphans"), "1\n");
	ctl_sessions_tick(f->sess, T0 + 111 * NS);
	assert_string_equal(cmd(f, "G norphans"), "0\n");
	assert_int_equal(ctl_ports_avail(f->ports), total);
	assert_int_equal(fake_dp_ids_in_use(), 0);
	assert_int_equal(fake_dp_live_streams(), 0);
}

static void
test_reattach_own(void **state)
{
	struct fx *f = *state;
	struct ctl_dp_found found[4];
	struct ctl_session *s;
	uint32_t old[4];
	size_t n = 0;

	reply_port(cmd(f, "U c1 198.51.100.1 5000 f"));
	reply_port(cmd(f, "L c1 198.51.100.2 6000 f t"));
	s = find(f, "c1", "f");
	/* the dataplane comes back holding exactly this session's streams
	 * (control lost it for a while): they are deleted and added again,
	 * nothing is adopted, no id or stream leaks */
	for (int li = 0; li < 2; li++) {
		const struct ctl_stream *st[2] = {&s->leg[li].sock.rtp, &s->leg[li].sock.rtcp};

		for (int k = 0; k < 2; k++) {
			const struct rtpb_msg_stream *m =
				fake_dp_last_stream_msg(st[k]->id, RTPB_MSG_STREAM_ADD);

			old[n] = st[k]->id;
			found[n].id = st[k]->id;
			found[n].ident.local = m->local;
			found[n++].ident.cookie = m->cookie;
		}
	}
	fake_dp_clear_msgs();
	fake_dp_reattach(found, n);
	assert_int_equal(count_type(0, RTPB_MSG_STREAM_DEL), 4);
	assert_int_equal(count_type(0, RTPB_MSG_STREAM_ADD), 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(fake_dp_msg(i)->del.stream_id, old[i]);
	assert_string_equal(cmd(f, "G nadopted norphans"), "0 0\n");
	assert_int_equal(fake_dp_live_streams(), 4);
	assert_int_equal(fake_dp_ids_in_use(), 4);
	assert_int_equal(fake_dp_errors(), 0);
	cmd(f, "X");
}

/* The fake NIC: destination-only RSS, 128 RETA entries over 4 workers. */
static void
steer_on(struct rtpb_steer *st)
{
	static const uint8_t key[RTPB_STEER_KEY_MAX] = RTPB_STEER_KEY_INIT;

	memset(st, 0, sizeof(*st));
	st->mode = RTPB_STEER_RSS_DST;
	st->key_len = 40;
	memcpy(st->key, key, sizeof(key));
	st->reta_size = 128;
	for (int i = 0; i < 128; i++)
		st->reta[i] = (uint8_t)(i % 4);
	fake_dp_set_steer(st);
}

/* The worker st steers RELAY:port to. */
static int
steered(const struct rtpb_steer *st, struct fx *f, uint16_t port)
{
	struct rtpb_addr a;

	rtpb_addr_set_v4(&a, f->relay, htons(port));
	return rtpb_steer_worker(st, &a);
}

static void
test_steer(void **state)
{
	struct fx *f = *state;
	struct rtpb_steer st;
	uint32_t per_worker[4] = {0};
	char buf[80];
	uint16_t p0, p1;

	steer_on(&st);
	/* 20 calls: each session's worker is the one both RTP ports reach,
	 * and its streams are that worker's */
	for (int i = 0; i < 20; i++) {
		struct ctl_session *s;

		snprintf(buf, sizeof(buf), "U c%d 198.51.100.1 5000 f", i);
		p0 = reply_port(cmd(f, buf));
		snprintf(buf, sizeof(buf), "L c%d 198.51.100.2 6000 f t", i);
		p1 = reply_port(cmd(f, buf));
		snprintf(buf, sizeof(buf), "c%d", i);
		s = find(f, buf, "f");
		assert_int_equal(steered(&st, f, p0), (int)s->owner);
		assert_int_equal(steered(&st, f, p1), (int)s->owner);
		for (int li = 0; li < 2; li++)
			assert_int_equal(rtpb_stream_owner(s->leg[li].sock.rtp.id, 4), s->owner);
		per_worker[s->owner]++;
	}
	/* leg 0's random port spreads the sessions over the workers */
	for (int w = 0; w < 4; w++)
		assert_true(per_worker[w] > 0);
	/* a new port ('n') keeps to the session's worker */
	p1 = reply_port(cmd(f, "Ln c3 198.51.100.2 6000 f t"));
	assert_int_equal(steered(&st, f, p1), (int)find(f, "c3", "f")->owner);
	assert_string_equal(cmd(f, "G nsteer_misses"), "0\n");
	/* a new dataplane: each session's worker comes from its ports */
	fake_dp_restart(4);
	for (int i = 0; i < 20; i++) {
		struct ctl_session *s;

		snprintf(buf, sizeof(buf), "c%d", i);
		s = find(f, buf, "f");
		assert_int_equal(steered(&st, f, s->leg[0].sock.port), (int)s->owner);
		assert_int_equal(rtpb_stream_owner(s->leg[1].sock.rtcp.id, 4), s->owner);
	}
	/* without steering, round robin as before */
	memset(&st, 0, sizeof(st));
	fake_dp_set_steer(&st);
	reply_port(cmd(f, "U r1 198.51.100.1 5000 f"));
	reply_port(cmd(f, "U r2 198.51.100.1 5000 f"));
	assert_int_equal((find(f, "r1", "f")->owner + 1) % 4, find(f, "r2", "f")->owner);
	cmd(f, "X");
}

/* 8 new sessions (call-ids tag0..tag7), none owned by worker `avoid';
 * with st, each owned by the worker its leg 0 port is steered to. */
static void
new_sessions_avoid(struct fx *f, const char *tag, uint32_t avoid,
		   const struct rtpb_steer *st)
{
	struct ctl_session *s;
	char c[64];

	for (int i = 0; i < 8; i++) {
		snprintf(c, sizeof(c), "U %s%d 198.51.100.1 5000 ft", tag, i);
		reply_port(cmd(f, c));
		snprintf(c, sizeof(c), "%s%d", tag, i);
		assert_int_equal(ctl_sessions_find(f->sess, c, "ft", NULL, &s), 0);
		assert_int_not_equal(s->owner, avoid);
		if (st != NULL)
			assert_int_equal(steered(st, f, s->leg[0].sock.port), (int)s->owner);
	}
}

/* Issue 16: new sessions go to workers that run, not to a stalled one. */
static void
test_stalled_worker_skipped(void **state)
{
	struct fx *f = *state;
	struct rtpb_steer st;

	fake_dp_set_stalled(1u << 1);
	new_sessions_avoid(f, "st", 1, NULL);
	/* every worker stalled: round robin as before */
	fake_dp_set_stalled(0xf);
	reply_port(cmd(f, "U st-all 198.51.100.1 5000 ft"));
	/* with NIC steering, leg 0 takes a pair steered to a running one */
	steer_on(&st);
	fake_dp_set_stalled(1u << 2);
	new_sessions_avoid(f, "sts", 2, &st);
	memset(&st, 0, sizeof(st));
	fake_dp_set_steer(&st);
	fake_dp_set_stalled(0);
	assert_string_equal(cmd(f, "X"), "0\n");
}

static void
test_relay_not_served(void **state)
{
	struct fx *f = *state;
	struct rtpb_addr a;

	/* the dataplane serves only the IPv4 address */
	rtpb_addr_set_v4(&a, f->relay, 0);
	fake_dp_set_addrs(&a, 1);
	ctl_log_set_level(CTL_LOG_INFO);
	ctl_log_set_hook(log_capture, f);
	assert_string_equal(cmd(f, "U6 c1 2001:db8::1:1 5000 ft1"), "E72\n");
	assert_string_equal(f->log->str,
			    "[c1] U6: relay address 2001:db8::1 not served by the "
			    "dataplane (E72)\n");
	assert_int_equal(ctl_ports_avail(f->ports6), ctl_ports_total(f->ports6));
	assert_int_equal(fake_dp_ids_in_use(), 0);
	assert_int_equal(ctl_sessions_count(f->sess), 0);
	/* a replay (re-attach) says so once per missing address */
	g_string_truncate(f->log, 0);
	fake_dp_restart(4);
	assert_non_null(strstr(f->log->str, "relay address 2001:db8::1 not "
					    "served by the dataplane"));
	ctl_log_set_hook(NULL, NULL);
	ctl_log_set_level(getenv("CTL_TEST_LOG") ? CTL_LOG_DBUG : CTL_LOG_CRIT);
}

static void
test_handover_events(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	struct ctl_sessions_counters c;
	struct rtpb_msg_ev_latch ev = {0};
	const char *want;

	cmd(f, "U c1 198.51.100.1 5000 ft1");
	cmd(f, "L6 c1 2001:db8::2 6000 ft1 tt1");
	cmd(f, "U c1 198.51.100.1 5000 ft1 tt1"); /* leg 0 now IPv6 */
	s = find(f, "c1", "ft1");
	ctl_log_set_level(CTL_LOG_INFO);
	ctl_log_set_hook(log_capture, f);
	/* leg 1 (IPv4) first latch */
	ev.stream_id = s->leg[1].sock.rtp.id;
	ev.cookie = fake_dp_last_stream_msg(ev.stream_id, -1)->cookie;
	ev.reason = RTPB_LATCH_LEARN;
	inet_pton(AF_INET, "198.51.100.1", ev.peer.ip);
	ev.peer.family = RTPB_AF_INET;
	ev.peer.port = htons(5000);
	fake_dp_latch_ev(&ev);
	/* the phone moves: same SSRC, no packet lost */
	ev.old = ev.peer;
	inet_pton(AF_INET, "203.0.113.7", ev.peer.ip);
	ev.peer.port = htons(41000);
	ev.reason = RTPB_LATCH_SSRC;
	ev.ssrc = 0x1234abcd;
	fake_dp_latch_ev(&ev);
	/* leg 0 (IPv6): a new SSRC won its probation, 9 packets dropped */
	ev.stream_id = s->leg[0].sock.rtp.id;
	ev.cookie = fake_dp_last_stream_msg(ev.stream_id, -1)->cookie;
	memset(&ev.old, 0, sizeof(ev.old));
	ev.old.family = RTPB_AF_INET6;
	inet_pton(AF_INET6, "2001:db8::2", ev.old.ip);
	ev.old.port = htons(6000);
	ev.peer = ev.old;
	inet_pton(AF_INET6, "2001:db8:0:1::9", ev.peer.ip);
	ev.peer.port = htons(6100);
	ev.reason = RTPB_LATCH_PROBATION;
	ev.ssrc = 0xdeadbeef;
	ev.dropped = 9;
	fake_dp_latch_ev(&ev);
	/* its RTCP follows; then a re-offer of leg 0's RTCP */
	ev.stream_id = s->leg[0].sock.rtcp.id;
	ev.cookie = fake_dp_last_stream_msg(ev.stream_id, -1)->cookie;
	ev.old.port = htons(6001);
	ev.peer.port = htons(6101);
	ev.reason = RTPB_LATCH_RTCP_FOLLOW;
	ev.dropped = 0;
	fake_dp_latch_ev(&ev);
	ev.reason = RTPB_LATCH_REOFFER;
	ev.old = ev.peer;
	inet_pton(AF_INET6, "2001:db8::3", ev.peer.ip);
	fake_dp_latch_ev(&ev);
	/* RTCP handover by probation (a new SSRC) */
	ev.reason = RTPB_LATCH_PROBATION;
	ev.old = ev.peer;
	ev.peer.port = htons(7001);
	ev.ssrc = 0x00000042;
	ev.dropped = 2;
	fake_dp_latch_ev(&ev);
	want = "[c1] leg 1 stream latched to 198.51.100.1:5000\n"
	       "[c1] leg 1 handover from 198.51.100.1:5000 to "
	       "203.0.113.7:41000 (same SSRC), 0 packets dropped in "
	       "probation\n"
	       "[c1] leg 0 handover from [2001:db8::2]:6000 to "
	       "[2001:db8:0:1::9]:6100 (new SSRC 0xdeadbeef), 9 packets "
	       "dropped in probation\n"
	       "[c1] leg 0 RTCP follows RTP to [2001:db8:0:1::9]:6101 (was "
	       "[2001:db8::2]:6001)\n"
	       "[c1] leg 0 RTCP stream re-offer: peer [2001:db8::3]:6101 (was "
	       "[2001:db8:0:1::9]:6101)\n"
	       "[c1] leg 0 RTCP handover from [2001:db8::3]:6101 to "
	       "[2001:db8::3]:7001 (new SSRC 0x00000042), 2 packets dropped "
	       "in probation\n";
	assert_string_equal(f->log->str, want);
	ctl_log_set_hook(NULL, NULL);
	ctl_log_set_level(getenv("CTL_TEST_LOG") ? CTL_LOG_DBUG : CTL_LOG_CRIT);
	/* per session and in the totals */
	assert_int_equal(s->latches, 6);
	assert_int_equal(s->handovers, 3);
	assert_int_equal(s->rtcp_follows, 1);
	assert_int_equal(s->reoffers, 1);
	ctl_sessions_counters(f->sess, &c);
	assert_int_equal(c.latches, 6);
	assert_int_equal(c.handovers, 3);
	assert_int_equal(c.handover_dropped, 11);
	assert_int_equal(c.rtcp_follows, 1);
	assert_int_equal(c.reoffers, 1);
	/* in I (its own line) and G */
	assert_non_null(strstr(cmd(f, "I"), "\nhandovers: 3\n"));
	assert_string_equal(cmd(f, "Gv nlatches nhandovers nhandovers_dropped "
				   "nrtcp_follows nreoffers"),
			    "nlatches=6 nhandovers=3 nhandovers_dropped=11 "
			    "nrtcp_follows=1 nreoffers=1\n");
	/* the totals outlive the session */
	cmd(f, "D c1 ft1");
	assert_string_equal(cmd(f, "G nhandovers"), "3\n");
}

/* --- the prefilter's entries (tests/fake_ctl_pf.c) --- */

/* The relay socket RELAY:port. */
static struct rtpb_addr
relay4(const struct fx *f, unsigned port)
{
	struct rtpb_addr a;

	rtpb_addr_set_v4(&a, f->relay, htons((uint16_t)port));
	return a;
}

/* The relay socket [RELAY6]:port. */
static struct rtpb_addr
relay6(const struct fx *f, unsigned port)
{
	struct rtpb_addr a = {.family = RTPB_AF_INET6, .port = htons((uint16_t)port)};

	memcpy(a.ip, f->relay6, 16);
	return a;
}

/* The fake prefilter's entry of a relay socket, which must exist. */
static const struct fake_pf_sock *
pf_entry(const struct rtpb_addr a)
{
	const struct fake_pf_sock *e = fake_pf_sock(&a);

	assert_non_null(e);
	return e;
}

static bool
pf_has(const struct rtpb_addr a)
{
	return fake_pf_sock(&a) != NULL;
}

/* The entry of a exists and is latched to ip:port. */
static void
assert_latched(const struct rtpb_addr a, const char *ip, uint16_t port)
{
	const struct fake_pf_sock *e = pf_entry(a);

	assert_true(e->latched);
	if (strchr(ip, ':') != NULL)
		assert_v6(&e->peer, ip, port);
	else
		assert_v4(&e->peer, ip, port);
}

/* A latch event of leg li's RTP or RTCP stream of s, to ip:port. */
static void
latch_ev(const struct ctl_session *s, int li, bool rtcp, int reason,
	 const char *ip, uint16_t port)
{
	struct rtpb_msg_ev_latch ev = {.reason = (uint32_t)reason};
	const struct ctl_stream *st = rtcp ? &s->leg[li].sock.rtcp : &s->leg[li].sock.rtp;

	ev.stream_id = st->id;
	ev.cookie = fake_dp_last_stream_msg(st->id, -1)->cookie;
	if (inet_pton(AF_INET, ip, ev.peer.ip) == 1)
		ev.peer.family = RTPB_AF_INET;
	else if (inet_pton(AF_INET6, ip, ev.peer.ip) == 1)
		ev.peer.family = RTPB_AF_INET6;
	ev.peer.port = htons(port);
	fake_dp_latch_ev(&ev);
}

static void
test_pf_sockets(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	struct rtpb_addr stale;
	unsigned p0, p1;
	char want[256];

	/* U: leg 0's RTP and RTCP sockets get entries, without a peer */
	p0 = reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1"));
	snprintf(want, sizeof(want), "add %s:%u\nadd %s:%u\n", RELAY, p0, RELAY,
		 p0 + 1);
	assert_string_equal(fake_pf_log(), want);
	assert_false(pf_entry(relay4(f, p0))->latched);
	assert_false(pf_entry(relay4(f, p0 + 1))->latched);
	/* the same U again: nothing new */
	fake_pf_clear_log();
	cmd(f, "U c1 198.51.100.1 5000 ft1");
	assert_string_equal(fake_pf_log(), "");
	/* L: leg 1's */
	p1 = reply_port(cmd(f, "L c1 198.51.100.2 6000 ft1 tt1"));
	snprintf(want, sizeof(want), "add %s:%u\nadd %s:%u\n", RELAY, p1, RELAY,
		 p1 + 1);
	assert_string_equal(fake_pf_log(), want);
	assert_int_equal(fake_pf_nsocks(), 4);
	/* latch events: the stream's entry takes the event's peer */
	s = find(f, "c1", "ft1");
	latch_ev(s, 0, false, RTPB_LATCH_LEARN, "198.51.100.2", 6000);
	latch_ev(s, 1, true, RTPB_LATCH_LEARN, "203.0.113.5", 7001);
	assert_latched(relay4(f, p0), "198.51.100.2", 6000);
	assert_false(pf_entry(relay4(f, p0 + 1))->latched);
	assert_false(pf_entry(relay4(f, p1))->latched);
	assert_latched(relay4(f, p1 + 1), "203.0.113.5", 7001);
	/* a handover, its RTCP following, a re-offer: each moves it */
	latch_ev(s, 0, false, RTPB_LATCH_PROBATION, "203.0.113.9", 41000);
	latch_ev(s, 0, true, RTPB_LATCH_RTCP_FOLLOW, "203.0.113.9", 41001);
	assert_latched(relay4(f, p0), "203.0.113.9", 41000);
	assert_latched(relay4(f, p0 + 1), "203.0.113.9", 41001);
	latch_ev(s, 1, false, RTPB_LATCH_REOFFER, "198.51.100.7", 5000);
	assert_latched(relay4(f, p1), "198.51.100.7", 5000);
	/* an event of a stream that is gone changes nothing */
	fake_pf_clear_log();
	stale = relay4(f, 40000);
	fake_dp_latch(s->leg[0].sock.rtp.id + 1,
		      fake_dp_last_stream_msg(s->leg[0].sock.rtp.id, -1)->cookie, &stale);
	assert_string_equal(fake_pf_log(), "");
	/* D: the four entries go */
	assert_string_equal(cmd(f, "D c1 ft1 tt1"), "0\n");
	assert_int_equal(fake_pf_nsocks(), 0);
	assert_int_equal(fake_pf_errors(), 0);
}

static void
test_pf_ring_full_delete(void **state)
{
	struct fx *f = *state;

	cmd(f, "U c1 198.51.100.1 5000 ft1");
	cmd(f, "L c1 198.51.100.2 6000 ft1 tt1");
	assert_int_equal(fake_pf_nsocks(), 4);
	/* the DELs wait for the ring, the prefilter closes at once */
	fake_dp_set_ring_full(true);
	assert_string_equal(cmd(f, "D c1 ft1 tt1"), "0\n");
	assert_int_equal(fake_pf_nsocks(), 0);
	assert_int_equal(fake_dp_live_streams(), 4);
	fake_dp_set_ring_full(false);
	ctl_sessions_flush(f->sess);
	assert_int_equal(fake_dp_live_streams(), 0);
	assert_int_equal(fake_pf_nsocks(), 0);
}

static void
test_pf_timeout(void **state)
{
	struct fx *f = *state;
	unsigned p0, p1;

	p0 = reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1"));
	p1 = reply_port6(cmd(f, "U6 c2 2001:db8::7 5000 ft2"));
	assert_true(pf_has(relay6(f, p1)));
	assert_true(pf_has(relay6(f, p1 + 1)));
	cmd_at(f, T0 + 30 * NS, "U c1 198.51.100.1 5000 ft1");
	/* c2 times out, c1 stays */
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 61 * NS), 1);
	assert_int_equal(fake_pf_nsocks(), 2);
	assert_false(pf_has(relay6(f, p1)));
	assert_false(pf_has(relay6(f, p1 + 1)));
	assert_true(pf_has(relay4(f, p0)));
	assert_true(pf_has(relay4(f, p0 + 1)));
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 91 * NS), 1);
	assert_int_equal(fake_pf_nsocks(), 0);
}

static void
test_pf_family_move(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	unsigned p1, p1v6;
	char want[512];

	reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1"));
	p1 = reply_port(cmd(f, "L c1 198.51.100.2 6000 ft1 tt1"));
	s = find(f, "c1", "ft1");
	latch_ev(s, 1, false, RTPB_LATCH_LEARN, "198.51.100.1", 5000);
	assert_latched(relay4(f, p1), "198.51.100.1", 5000);
	/* the offerer moves to IPv6: the new socket's entries (no peer
	 * yet) once its ADDs went, then the old socket's go */
	fake_pf_clear_log();
	assert_int_equal(reply_port(cmd(f, "U6 c1 2001:db8::1:5 5004 ft1 tt1")),
			 s->leg[0].sock.port);
	assert_int_equal(s->leg[1].sock.family, RTPB_AF_INET6);
	p1v6 = s->leg[1].sock.port;
	snprintf(want, sizeof(want),
		 "add [%s]:%u\nadd [%s]:%u\ndel %s:%u\ndel %s:%u\n", RELAY6, p1v6,
		 RELAY6, p1v6 + 1, RELAY, p1, RELAY, p1 + 1);
	assert_string_equal(fake_pf_log(), want);
	assert_false(pf_entry(relay6(f, p1v6))->latched);
	assert_false(pf_entry(relay6(f, p1v6 + 1))->latched);
	assert_int_equal(fake_pf_nsocks(), 4);
	/* the new socket latches on the phone's IPv6 address */
	latch_ev(s, 1, false, RTPB_LATCH_LEARN, "2001:db8::1:5", 5004);
	assert_latched(relay6(f, p1v6), "2001:db8::1:5", 5004);
	/* a move back refused by the ring: E71, the entries as they were */
	fake_pf_clear_log();
	fake_dp_set_push_budget(1);
	assert_string_equal(cmd(f, "U c1 198.51.100.9 5000 ft1 tt1"), "E71\n");
	fake_dp_set_push_budget(-1);
	ctl_sessions_flush(f->sess);
	assert_string_equal(fake_pf_log(), "");
	assert_latched(relay6(f, p1v6), "2001:db8::1:5", 5004);
	assert_int_equal(fake_pf_nsocks(), 4);
	/* a move back with the old socket's DELs waiting for the ring:
	 * its entries go at once all the same */
	fake_dp_set_push_budget(2);
	reply_port(cmd(f, "U c1 198.51.100.9 5000 ft1 tt1"));
	assert_int_equal(s->leg[1].sock.family, RTPB_AF_INET);
	assert_false(pf_has(relay6(f, p1v6)));
	assert_false(pf_has(relay6(f, p1v6 + 1)));
	assert_true(pf_has(relay4(f, s->leg[1].sock.port)));
	assert_int_equal(fake_pf_nsocks(), 4);
	fake_dp_set_push_budget(-1);
	ctl_sessions_flush(f->sess);
	assert_int_equal(fake_dp_live_streams(), 4);
}

static void
test_pf_asymmetric(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	unsigned p0, p1;

	/* leg 1 asymmetric (the offerer's 'A'), leg 0 symmetric */
	p0 = reply_port(cmd(f, "UA c1 198.51.100.1 5000 ft1"));
	p1 = reply_port(cmd(f, "L c1 198.51.100.2 6000 ft1 tt1"));
	s = find(f, "c1", "ft1");
	assert_true(s->leg[1].asymmetric);
	/* no latched peer for the asymmetric leg, whatever the event */
	fake_pf_clear_log();
	latch_ev(s, 1, false, RTPB_LATCH_SIGNALLED, "198.51.100.1", 5000);
	latch_ev(s, 1, true, RTPB_LATCH_REOFFER, "198.51.100.1", 5001);
	assert_string_equal(fake_pf_log(), "");
	assert_false(pf_entry(relay4(f, p1))->latched);
	assert_false(pf_entry(relay4(f, p1 + 1))->latched);
	latch_ev(s, 0, false, RTPB_LATCH_LEARN, "198.51.100.2", 6000);
	latch_ev(s, 0, true, RTPB_LATCH_LEARN, "198.51.100.2", 6001);
	assert_latched(relay4(f, p0), "198.51.100.2", 6000);
	/* leg 0 turns asymmetric (the answerer's 'A'): its peers go */
	cmd(f, "LA c1 198.51.100.2 6000 ft1 tt1");
	assert_true(s->leg[0].asymmetric);
	assert_false(pf_entry(relay4(f, p0))->latched);
	assert_false(pf_entry(relay4(f, p0 + 1))->latched);
	/* again: nothing to clear */
	fake_pf_clear_log();
	cmd(f, "LA c1 198.51.100.2 6000 ft1 tt1");
	assert_string_equal(fake_pf_log(), "");
	/* symmetric again: the next latch event sets the peer */
	cmd(f, "L c1 198.51.100.2 6000 ft1 tt1");
	latch_ev(s, 0, false, RTPB_LATCH_LEARN, "198.51.100.2", 6000);
	assert_latched(relay4(f, p0), "198.51.100.2", 6000);
}

/* A U/L that changes nothing still opens a new learning window in the
 * dataplane (an UPDATE for each of the leg's streams), as rtpproxy
 * re-learns after every update: a phone whose NAT binding changed keeps
 * its SDP. */
static void
test_reoffer_same_reopens_window(void **state)
{
	struct fx *f = *state;

	reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1"));
	reply_port(cmd(f, "L c1 198.51.100.2 6000 ft1 tt1"));
	fake_dp_clear_msgs();
	reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1 tt1"));
	assert_int_equal(fake_dp_nmsgs(), 2);
	assert_int_equal(msg_stream(0, RTPB_MSG_STREAM_UPDATE)->learn_ms, 10000);
	assert_int_equal(msg_stream(1, RTPB_MSG_STREAM_UPDATE)->flags, RTPB_STREAM_F_RTCP);
	/* a command that signals nothing (Q) pushes nothing */
	fake_dp_clear_msgs();
	cmd(f, "Q c1 ft1 tt1");
	assert_int_equal(fake_dp_nmsgs(), 0);
}

static void
test_pf_replay(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	unsigned p0;

	p0 = reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1"));
	s = find(f, "c1", "ft1");
	latch_ev(s, 0, false, RTPB_LATCH_LEARN, "198.51.100.2", 6000);
	assert_latched(relay4(f, p0), "198.51.100.2", 6000);
	/* a new dataplane gets the latched peer back with the ADD (§4.9):
	 * the entries keep it meanwhile; the RTCP stream had latched nothing */
	fake_dp_clear_msgs();
	fake_dp_restart(2);
	assert_int_equal(fake_pf_nsocks(), 2);
	assert_latched(relay4(f, p0), "198.51.100.2", 6000);
	assert_false(pf_entry(relay4(f, p0 + 1))->latched);
	{
		bool found = false;

		for (size_t i = 0; i < fake_dp_nmsgs(); i++) {
			const struct rtpb_msg_stream *m = &fake_dp_msg(i)->stream;

			if (m->hdr.type != RTPB_MSG_STREAM_ADD || (m->flags & RTPB_STREAM_F_RTCP))
				continue;
			assert_int_equal(m->peer.family, RTPB_AF_INET);
			assert_int_equal(ntohs(m->peer.port), 6000);
			found = true;
		}
		assert_true(found);
	}
	latch_ev(s, 0, false, RTPB_LATCH_LEARN, "198.51.100.2", 6000);
	assert_latched(relay4(f, p0), "198.51.100.2", 6000);
}

static void
test_pf_reconcile(void **state)
{
	struct fx *f = *state;
	struct rtpb_addr peer;
	unsigned p0, p1;

	/* left by a control that crashed: a peerless and a latched entry */
	rtpb_addr_set_v4(&peer, f->relay, htons(9));
	fake_pf_insert(&(struct rtpb_addr){0}, NULL);
	fake_pf_insert((const struct rtpb_addr[]){relay4(f, 30010)}, NULL);
	fake_pf_insert((const struct rtpb_addr[]){relay6(f, 30011)}, &peer);
	assert_int_equal(ctl_sessions_pf_reconcile(f->sess), 3);
	assert_int_equal(fake_pf_nsocks(), 0);
	/* live sessions' entries are kept, others go */
	p0 = reply_port(cmd(f, "U c1 198.51.100.1 5000 ft1"));
	p1 = reply_port6(cmd(f, "U6 c2 2001:db8::7 5000 ft2"));
	fake_pf_insert((const struct rtpb_addr[]){relay4(f, p1)}, NULL);
	fake_pf_insert((const struct rtpb_addr[]){relay6(f, p0)}, NULL);
	assert_int_equal(ctl_sessions_pf_reconcile(f->sess), 2);
	assert_int_equal(fake_pf_nsocks(), 4);
	assert_true(pf_has(relay4(f, p0)));
	assert_true(pf_has(relay4(f, p0 + 1)));
	assert_true(pf_has(relay6(f, p1)));
	assert_true(pf_has(relay6(f, p1 + 1)));
}

/* The dataplane is attached again still holding an earlier control's
 * streams (adopted as orphans): the orphans' prefilter entries keep the
 * peer they were latched to, and the entry of a stream the dataplane no
 * longer holds goes. */
static void
test_pf_reattach_orphans(void **state)
{
	struct fx *f = *state;
	struct ctl_dp_found found[2] = {
		found_stream(f, 5, 30000, 77, 0, false),
		found_stream(f, 9, 30001, 77, 0, true),
	};
	struct rtpb_addr peer;

	rtpb_addr_set_v4(&peer, inet_addr("198.51.100.1"), htons(5000));
	fake_pf_insert((const struct rtpb_addr[]){relay4(f, 30000)}, &peer);
	ctl_sessions_now(f->sess, T0);
	fake_dp_reattach(found, 2);
	assert_string_equal(cmd(f, "G nadopted norphans"), "2 2\n");
	assert_latched(relay4(f, 30000), "198.51.100.1", 5000);
	assert_true(pf_has(relay4(f, 30001)));
	/* attached again: stream 9 is gone, stream 5 is adopted again */
	fake_pf_clear_log();
	fake_dp_reattach(found, 1);
	assert_string_equal(cmd(f, "G nadopted norphans"), "3 1\n");
	assert_latched(relay4(f, 30000), "198.51.100.1", 5000);
	assert_false(pf_has(relay4(f, 30001)));
	assert_int_equal(fake_pf_nsocks(), 1);
	assert_int_equal(fake_pf_errors(), 0);
	assert_int_equal(fake_dp_ids_in_use(), 1);
	/* idle for -T: deleted, entry and all */
	ctl_sessions_tick(f->sess, T0 + 61 * NS);
	assert_string_equal(cmd(f, "G norphans"), "0\n");
	assert_int_equal(fake_pf_nsocks(), 0);
}

static void
test_pf_refused(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	uint32_t total = ctl_ports_total(f->ports);

	ctl_log_set_level(CTL_LOG_INFO);
	ctl_log_set_hook(log_capture, f);
	/* the map refuses the RTP entry: E72, the ADDs are taken back */
	fake_pf_fail_add(0, -E2BIG);
	assert_string_equal(cmd(f, "U c1 198.51.100.1 5000 ft1"), "E72\n");
	assert_non_null(strstr(f->log->str, "[c1] U: prefilter: pf_socks entry of "
					   "IPv4 port "));
	assert_non_null(strstr(f->log->str, " refused: Argument list too long "
					   "(E72)\n"));
	assert_int_equal(ctl_sessions_count(f->sess), 0);
	assert_int_equal(fake_dp_live_streams(), 0);
	assert_int_equal(fake_dp_ids_in_use(), 0);
	assert_int_equal(ctl_ports_avail(f->ports), total);
	assert_int_equal(fake_pf_nsocks(), 0);
	/* the RTCP entry refused on L: E71, the RTP entry goes again */
	reply_port(cmd(f, "U c2 198.51.100.1 5000 ft2"));
	s = find(f, "c2", "ft2");
	fake_pf_fail_add(1, -ENOMEM);
	assert_string_equal(cmd(f, "L c2 198.51.100.2 6000 ft2 tt2"), "E71\n");
	assert_int_equal(s->leg[1].sock.port, 0);
	assert_int_equal(fake_pf_nsocks(), 2);
	assert_int_equal(fake_dp_live_streams(), 2);
	assert_int_equal(ctl_ports_avail(f->ports), total - 1);
	/* a family move refused by the map: E71, nothing moved */
	reply_port(cmd(f, "L c2 198.51.100.2 6000 ft2 tt2"));
	fake_pf_fail_add(0, -E2BIG);
	assert_string_equal(cmd(f, "U6 c2 2001:db8::1:5 5004 ft2 tt2"), "E71\n");
	assert_int_equal(s->leg[1].sock.family, RTPB_AF_INET);
	assert_v4(&s->leg[1].remote, "198.51.100.1", 5000);
	assert_int_equal(fake_pf_nsocks(), 4);
	assert_true(pf_has(relay4(f, s->leg[1].sock.port)));
	assert_int_equal(fake_dp_live_streams(), 4);
	assert_int_equal(ctl_ports_avail(f->ports6), ctl_ports_total(f->ports6));
	ctl_log_set_hook(NULL, NULL);
	ctl_log_set_level(getenv("CTL_TEST_LOG") ? CTL_LOG_DBUG : CTL_LOG_CRIT);
}

static void
test_pf_counters(void **state)
{
	struct fx *f = *state;
	const char *r;

	fake_pf_set_stat(RTPB_PF_REDIRECT, 1000);
	fake_pf_set_stat(RTPB_PF_DROP_BUDGET, 42);
	fake_pf_set_stat(RTPB_PF_DROP_NO_SESSION, 7);
	/* I: rtpproxy's lines (with its load line), then the handovers and
	 * one line per verdict */
	r = cmd(f, "Il");
	assert_non_null(strstr(r, "\naverage load: "));
	assert_true(strstr(r, "\naverage load: ") < strstr(r, "\nhandovers: "));
	assert_non_null(strstr(r, "handovers: 0\nprefilter pass: 0\n"
				  "prefilter redirect: 1000\n"));
	assert_non_null(strstr(r, "\nprefilter drop_no_session: 7\n"));
	assert_non_null(strstr(r, "\nprefilter drop_budget: 42\n"));
	/* G: npf_<verdict> */
	assert_string_equal(cmd(f, "Gv npf_redirect npf_drop_budget nsess_created "
				   "npf_redirect_candidate"),
			    "npf_redirect=1000 npf_drop_budget=42 nsess_created=0 "
			    "npf_redirect_candidate=0\n");
	assert_string_equal(cmd(f, "G npf_nosuch"), "E68\n");
	/* unreadable counters: no lines in I, zeros in G */
	fake_pf_fail_stats(-EPERM);
	r = cmd(f, "I");
	assert_null(strstr(r, "prefilter"));
	assert_non_null(strstr(r, "handovers: 0\n"));
	assert_string_equal(cmd(f, "G npf_redirect"), "0\n");
	fake_pf_fail_stats(0);
}

static void
test_limits(void **state)
{
	struct fx *f = *state;
	char *big = malloc(CTL_CMD_BUFLEN + 10);
	size_t n;

	memset(big, 'a', CTL_CMD_BUFLEN + 10);
	memcpy(big, "ck V ", 5);
	n = ctl_exec_text(f->ex, big, CTL_CMD_BUFLEN + 1, true, T0, f->out,
			  sizeof(f->out));
	f->out[n] = '\0';
	assert_string_equal(f->out, "ck E5\n");
	big[1] = 'x'; /* a new cookie: "ck" is cached now */
	n = ctl_exec_text(f->ex, big, CTL_CMD_BUFLEN, true, T0, f->out,
			  sizeof(f->out));
	f->out[n] = '\0';
	assert_string_equal(f->out, "cx E1\n");
	free(big);
	/* every byte value, no crash, one reply each */
	for (int c = 0; c < 256; c++) {
		char buf[40];

		snprintf(buf, sizeof(buf), "U%c c 192.0.2.4 5 f", c ? c : 'x');
		assert_true(ctl_exec_text(f->ex, buf, strlen(buf), false, T0,
					  f->out, sizeof(f->out)) > 0);
	}
	cmd(f, "X");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_u_creates_and_reuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_l_opens_leg1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direction_and_medianum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal, setup_journal,
						teardown_journal),
		cmocka_unit_test_setup_teardown(test_journal_restart,
						setup_journal, teardown_journal),
		cmocka_unit_test_setup_teardown(test_journal_keep_in_place,
						setup_journal, teardown_journal),
		cmocka_unit_test_setup_teardown(test_journal_keep_partial,
						setup_journal, teardown_journal),
		cmocka_unit_test_setup_teardown(test_journal_restore_dropped,
						setup_journal, teardown_journal),
		cmocka_unit_test_setup_teardown(test_journal_too_large,
						setup_journal, teardown_journal),
		cmocka_unit_test_setup_teardown(test_quality, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_attached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_legs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reoffer_family_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_family_pools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_not_served, setup, teardown),
		cmocka_unit_test_setup_teardown(test_steer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reattach_own, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_pools, setup_multi_strict,
						teardown_multi),
		cmocka_unit_test_setup_teardown(test_port_spill, setup_multi_spill,
						teardown_multi),
		cmocka_unit_test_setup_teardown(test_handover_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pf_sockets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pf_ring_full_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pf_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pf_family_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pf_asymmetric, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pf_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reoffer_same_reopens_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pf_reconcile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pf_reattach_orphans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pf_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pf_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dp_lost_no_aging, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stalled_worker_skipped, setup,
						teardown),
	};

	ctl_log_set_level(getenv("CTL_TEST_LOG") ? CTL_LOG_DBUG : CTL_LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
