/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_session: the session table (control/ctl_session.c) and what
 * it pushes to the dataplane, through the protocol (ctl_exec_text) and
 * the fake dataplane (tests/fake_ctl_dp.c). Time is injected; no sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "ctl_cmd_exec.h"
#include "ctl_log.h"
#include "fake_ctl_dp.h"

#define NS 1000000000ULL
#define RELAY "192.0.2.1"
#define T0 (1000 * NS)

struct fx {
	uint32_t relay;
	struct ctl_ports *ports;
	struct ctl_sessions *sess;
	struct ctl_exec *ex;
	char out[CTL_CMD_BUFLEN + CTL_REPLY_MAX + 2];
	uint32_t latches;
};



static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ctl_sessions_cfg scfg = {.ttl_ns = 60 * NS,
					.learn_ms = CTL_LEARN_MS};
	struct ctl_exec_cfg ecfg;

	inet_pton(AF_INET, RELAY, &f->relay);
	fake_dp_reset(4, 4096, f->relay);
	f->ports = ctl_ports_create(30000, 30098, 42); /* 50 pairs */
	scfg.dp = ctl_dp_create("test");
	scfg.ports = f->ports;
	scfg.relay_ip = f->relay;
	f->sess = ctl_sessions_create(&scfg);
	ecfg = (struct ctl_exec_cfg){.relay_ip = f->relay};
	f->ex = ctl_exec_create(&ecfg, f->sess);
	ctl_sessions_bind_dp(f->sess);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	ctl_exec_destroy(f->ex);
	ctl_sessions_destroy(f->sess);
	/* nothing leaks: every id back, every stream deleted, every port */
	assert_int_equal(fake_dp_ids_in_use(), 0);
	assert_int_equal(fake_dp_live_streams(), 0);
	assert_int_equal(fake_dp_errors(), 0);
	assert_int_equal(ctl_ports_avail(f->ports), ctl_ports_total(f->ports));
	ctl_ports_destroy(f->ports);
	free(f);
	return 0;
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

/* The port of a "<port> <addr>\n" reply, checking the address. */
static uint16_t
reply_port(const char *r)
{
	unsigned port;
	char addr[64];

	assert_int_equal(sscanf(r, "%u %63s", &port, addr), 2);
	assert_string_equal(addr, RELAY);
	return (uint16_t)port;
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

	p0 = reply_port(cmd(f, "U c1 10.0.0.1 5000 ft1"));
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
	assert_int_equal(rtp->learn_ms, 10000);
	assert_int_equal(rtpb_stream_owner(rtp->stream_id, 4),
			 rtpb_stream_owner(rtcp->stream_id, 4));
	assert_int_not_equal(rtp->cookie, rtcp->cookie);
	/* U again: same port, nothing new for the dataplane */
	assert_int_equal(reply_port(cmd(f, "U c1 10.0.0.1 5000 ft1")), p0);
	assert_int_equal(fake_dp_nmsgs(), 2);
	/* L for an unknown session or tag: "0" */
	assert_string_equal(cmd(f, "L c2 10.0.0.2 6000 ft1 tt1"), "0\n");
	assert_string_equal(cmd(f, "L c1 10.0.0.2 6000 nope tt1"), "0\n");
	assert_int_equal(ctl_sessions_count(f->sess), 1);
}

static void
test_l_opens_leg1(void **state)
{
	struct fx *f = *state;
	const struct rtpb_msg_stream *a0, *a1, *u0, *u1;
	uint16_t p0, p1;
	uint32_t owner;

	p0 = reply_port(cmd(f, "U c1 10.0.0.1 5000 ft1"));
	a0 = msg_stream(0, RTPB_MSG_STREAM_ADD);
	owner = rtpb_stream_owner(a0->stream_id, 4);
	uint32_t rtp0 = a0->stream_id, rtcp0 = msg_stream(1, RTPB_MSG_STREAM_ADD)->stream_id;

	fake_dp_clear_msgs();
	p1 = reply_port(cmd(f, "LA c1 10.0.0.2 6000 ft1 tt1"));
	assert_int_not_equal(p0, p1);
	assert_int_equal(fake_dp_nmsgs(), 4);
	/* leg 1 (faces the offerer): ADDs with the offerer's address */
	a0 = msg_stream(0, RTPB_MSG_STREAM_ADD);
	a1 = msg_stream(1, RTPB_MSG_STREAM_ADD);
	assert_v4(&a0->local, RELAY, p1);
	assert_v4(&a0->signalled, "10.0.0.1", 5000);
	assert_v4(&a1->local, RELAY, p1 + 1);
	assert_v4(&a1->signalled, "10.0.0.1", 5001);
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
	assert_v4(&u0->signalled, "10.0.0.2", 6000);
	assert_v4(&u1->signalled, "10.0.0.2", 6001);
	assert_int_equal(u0->flags, RTPB_STREAM_F_ASYMMETRIC);
	assert_int_equal(u1->flags, RTPB_STREAM_F_ASYMMETRIC | RTPB_STREAM_F_RTCP);
	/* L again: same port, no change, no message */
	fake_dp_clear_msgs();
	assert_int_equal(reply_port(cmd(f, "LA c1 10.0.0.2 6000 ft1 tt1")), p1);
	assert_int_equal(fake_dp_nmsgs(), 0);
	/* re-offer from the offerer with a new address: one UPDATE pair */
	assert_int_equal(reply_port(cmd(f, "U c1 10.0.0.9 7000 ft1 tt1")), p0);
	assert_int_equal(fake_dp_nmsgs(), 2);
	assert_v4(&msg_stream(0, RTPB_MSG_STREAM_UPDATE)->signalled,
		  "10.0.0.9", 7000);
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

	p0 = reply_port(cmd(f, "U c1 10.0.0.1 5000 a;1"));
	reply_port(cmd(f, "U c1 10.0.0.1 5002 a;2"));
	assert_int_equal(ctl_sessions_count(f->sess), 2);
	/* callee's re-INVITE: U with tags swapped returns P1 (opens it) */
	p1 = reply_port(cmd(f, "U c1 10.0.0.2 6000 b;1 a;1"));
	assert_int_not_equal(p0, p1);
	assert_int_equal(reply_port(cmd(f, "L c1 10.0.0.2 6000 a;1 b;1")), p1);
	assert_int_equal(reply_port(cmd(f, "L c1 10.0.0.1 5000 b;1 a;1")), p0);
	/* to_tag without medianum matches if from_tag has the same ;N */
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "b;1", "a", &s), 1);
	assert_string_equal(s->from_tag, "a;1");
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "b;2", "a", &s), 1);
	assert_string_equal(s->from_tag, "a;2");
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "b", "a", &s), -1);
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "a;2", NULL, &s), 0);
	assert_int_equal(ctl_sessions_find(f->sess, "c9", "a;2", NULL, &s), -1);
	/* the swapped U on a session the callee did not create: new one */
	reply_port(cmd(f, "U c1 10.0.0.2 6000 z;1 y;1"));
	assert_int_equal(ctl_sessions_count(f->sess), 3);
}

static void
test_delete(void **state)
{
	struct fx *f = *state;
	uint32_t total = ctl_ports_total(f->ports);
	size_t ndel = 0;

	cmd(f, "U c1 10.0.0.1 5000 a;1");
	cmd(f, "L c1 10.0.0.2 6000 a;1 b;1");
	cmd(f, "U c1 10.0.0.1 5002 a;2");
	cmd(f, "U c1 10.0.0.1 5004 other");
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

static void
test_ttl(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	uint32_t id;

	cmd(f, "U c1 10.0.0.1 5000 ft1");
	cmd(f, "U c2 10.0.0.1 5002 ft2");
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "ft1", NULL, &s), 0);
	id = s->leg[0].rtcp.id;
	/* packets on c1's RTCP stream at T0+50 s keep it alive */
	fake_dp_stats(id)->last_rx_ns = T0 + 50 * NS;
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 60 * NS), 0);
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 61 * NS), 1);
	assert_int_equal(ctl_sessions_find(f->sess, "c2", "ft2", NULL, &s), -1);
	/* a U/L restarts the timer too */
	cmd_at(f, T0 + 100 * NS, "U c1 10.0.0.1 5000 ft1");
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 150 * NS), 0);
	assert_string_equal(cmd_at(f, T0 + 150 * NS, "Q c1 ft1"),
			    "10 0 0 0 0\n");
	assert_int_equal(ctl_sessions_tick(f->sess, T0 + 161 * NS), 1);
	assert_int_equal(ctl_sessions_count(f->sess), 0);
	assert_string_equal(cmd(f, "G nsess_timeout nsess_created"), "2 2\n");
}

static void
test_not_attached(void **state)
{
	struct fx *f = *state;
	uint32_t total = ctl_ports_total(f->ports);

	fake_dp_set_attached(false);
	assert_string_equal(cmd(f, "U c1 10.0.0.1 5000 ft1"), "E72\n");
	assert_int_equal(ctl_ports_avail(f->ports), total);
	fake_dp_set_attached(true);
	reply_port(cmd(f, "U c1 10.0.0.1 5000 ft1"));
	fake_dp_set_attached(false);
	assert_string_equal(cmd(f, "L c1 10.0.0.2 6000 ft1 tt1"), "E71\n");
	assert_int_equal(ctl_ports_avail(f->ports), total - 1);
	fake_dp_set_attached(true);
}

static void
test_ring_full(void **state)
{
	struct fx *f = *state;
	uint32_t total = ctl_ports_total(f->ports);

	fake_dp_set_ring_full(true);
	assert_string_equal(cmd(f, "U c1 10.0.0.1 5000 ft1"), "E72\n");
	assert_int_equal(ctl_ports_avail(f->ports), total);
	assert_int_equal(fake_dp_ids_in_use(), 0);
	fake_dp_set_ring_full(false);
	/* RTP ADD taken, RTCP ADD refused, rollback DEL refused too: the id
	 * and port stay taken until the DEL goes through */
	fake_dp_set_push_budget(1);
	assert_string_equal(cmd(f, "U c1 10.0.0.1 5000 ft1"), "E72\n");
	assert_int_equal(ctl_sessions_count(f->sess), 0);
	assert_int_equal(fake_dp_live_streams(), 1);
	assert_int_equal(ctl_ports_avail(f->ports), total - 1);
	fake_dp_set_push_budget(-1);
	ctl_sessions_flush(f->sess);
	assert_int_equal(fake_dp_live_streams(), 0);
	assert_int_equal(fake_dp_ids_in_use(), 0);
	assert_int_equal(ctl_ports_avail(f->ports), total);
	/* L: leg 1's ADDs refused -> E71, leg 1 has no port, call goes on */
	reply_port(cmd(f, "U c1 10.0.0.1 5000 ft1"));
	fake_dp_set_ring_full(true);
	assert_string_equal(cmd(f, "L c1 10.0.0.2 6000 ft1 tt1"), "E71\n");
	assert_int_equal(ctl_ports_avail(f->ports), total - 1);
	/* a re-offer UPDATE refused: answered, retried by flush */
	assert_int_equal(fake_dp_nmsgs() > 0, 1);
	fake_dp_set_ring_full(false);
	reply_port(cmd(f, "L c1 10.0.0.2 6000 ft1 tt1"));
	fake_dp_set_ring_full(true);
	fake_dp_clear_msgs();
	reply_port(cmd(f, "U c1 10.0.0.7 5000 ft1 tt1"));
	assert_int_equal(fake_dp_nmsgs(), 0);
	fake_dp_set_ring_full(false);
	ctl_sessions_flush(f->sess);
	assert_int_equal(fake_dp_nmsgs(), 2);
	assert_v4(&msg_stream(0, RTPB_MSG_STREAM_UPDATE)->signalled,
		  "10.0.0.7", 5000);
}

static void
test_replay(void **state)
{
	struct fx *f = *state;
	size_t nadd = 0;

	cmd(f, "U c1 10.0.0.1 5000 ft1");
	cmd(f, "L c1 10.0.0.2 6000 ft1 tt1");
	cmd(f, "U c2 10.0.0.3 5000 ft2");
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
	assert_int_equal(rtpb_stream_owner(s->leg[0].rtp.id, 3),
			 rtpb_stream_owner(s->leg[1].rtcp.id, 3));
	assert_int_equal(fake_dp_last_stream_msg(s->leg[0].rtp.id, -1)->out_stream_id,
			 s->leg[1].rtp.id);
	assert_int_equal(fake_dp_last_stream_msg(s->leg[1].rtcp.id, -1)->out_stream_id,
			 s->leg[0].rtcp.id);
	assert_v4(&fake_dp_last_stream_msg(s->leg[1].rtp.id, -1)->signalled,
		  "10.0.0.1", 5000);
}

static void
test_latch(void **state)
{
	struct fx *f = *state;
	struct ctl_session *s;
	struct rtpb_addr peer;
	struct ctl_sessions_counters c;

	cmd(f, "U c1 10.0.0.1 5000 ft1");
	assert_int_equal(ctl_sessions_find(f->sess, "c1", "ft1", NULL, &s), 0);
	rtpb_addr_set_v4(&peer, htonl(0x0a000063), htons(40000));
	fake_dp_latch(s->leg[0].rtp.id,
		      fake_dp_last_stream_msg(s->leg[0].rtp.id, -1)->cookie,
		      &peer);
	/* a stale event (wrong id for the cookie) is ignored */
	fake_dp_latch(s->leg[0].rtp.id + 1,
		      fake_dp_last_stream_msg(s->leg[0].rtp.id, -1)->cookie,
		      &peer);
	ctl_sessions_counters(f->sess, &c);
	assert_int_equal(c.latches, 1);
	assert_int_equal(s->latches, 1);
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

		snprintf(buf, sizeof(buf), "U%c c 1.2.3.4 5 f", c ? c : 'x');
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
		cmocka_unit_test_setup_teardown(test_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_attached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	};

	ctl_log_set_level(getenv("CTL_TEST_LOG") ? CTL_LOG_DBUG : CTL_LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
