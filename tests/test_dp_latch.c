/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_latch.c: latching, handover probation, liveness, proof and
 * revert (DESIGN.md §4), the pure state machine of dp_latch.c, with time
 * as a parameter.
 *
 * Most cases are rows of one table: a call state built by a prologue
 * (a phone that talked and sent RTCP with its CNAME every second), then
 * steps of (stream, source, packet, time) -> verdict, drop reason and
 * latch reason. The worker's part (RTCP following an RTP handover,
 * DESIGN.md §4.6) is played by the runner as dp_worker.c does it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_byteorder.h>

#include "rtpb_msg.h"
#include "rtpb_pf_rules.h"
#include "dp_latch.h"

#define S (1000000000ull)
#define MS (1000000ull)
#define SSRC_A 0x11223344u /* the phone */
#define SSRC_N 0x5eed5eedu /* the phone after a move with a new SSRC */
#define SSRC_X 0x0badf00du /* an attacker's */

static const struct rtpb_addr none;

static struct rtpb_addr
addr(uint32_t host_ip, uint16_t port)
{
	struct rtpb_addr a;

	rtpb_addr_set_v4(&a, rte_cpu_to_be_32(host_ip), rte_cpu_to_be_16(port));
	return a;
}

/* Sources (documentation addresses). */
enum src {
	PHONE,      /* 198.51.100.10:4000, RTCP :4001 */
	PHONE_C,
	PHONE2,     /* the phone after a move: 203.0.113.20:5000, RTCP :5001 */
	PHONE2_C,
	EVIL,       /* 192.0.2.66:6666, RTCP :6667 */
	EVIL_C,
	EVIL2,      /* 192.0.2.67:7000 */
	SRC__N,
};

static struct rtpb_addr srcs[SRC__N];

static void
srcs_init(void)
{
	srcs[PHONE] = addr(0xc633640a, 4000);
	srcs[PHONE_C] = addr(0xc633640a, 4001);
	srcs[PHONE2] = addr(0xcb007114, 5000);
	srcs[PHONE2_C] = addr(0xcb007114, 5001);
	srcs[EVIL] = addr(0xc0000242, 6666);
	srcs[EVIL_C] = addr(0xc0000242, 6667);
	srcs[EVIL2] = addr(0xc0000243, 7000);
}

/* RTCP compound packets: SR (RFC 3550 6.4.1, no report blocks) + SDES
 * with one chunk (6.5) carrying a CNAME item. */
static uint16_t
rtcp_build(uint8_t *p, uint32_t ssrc, const char *cname)
{
	uint16_t n = 0, sdes, len = (uint16_t)strlen(cname), words;

	memset(p, 0, 128);
	p[n++] = 0x80;
	p[n++] = 200;
	p[n++] = 0;
	p[n++] = 6; /* 7 words */
	p[n++] = (uint8_t)(ssrc >> 24); p[n++] = (uint8_t)(ssrc >> 16);
	p[n++] = (uint8_t)(ssrc >> 8); p[n++] = (uint8_t)ssrc;
	n += 20; /* NTP, RTP timestamps, counts */
	if (cname[0] == '\0')
		return n;
	sdes = n;
	p[n++] = 0x81; /* one chunk */
	p[n++] = 202;
	n += 2;
	p[n++] = (uint8_t)(ssrc >> 24); p[n++] = (uint8_t)(ssrc >> 16);
	p[n++] = (uint8_t)(ssrc >> 8); p[n++] = (uint8_t)ssrc;
	p[n++] = 1; /* CNAME */
	p[n++] = (uint8_t)len;
	memcpy(p + n, cname, len);
	n = (uint16_t)(n + len);
	p[n++] = 0; /* END */
	while ((n - sdes) % 4)
		p[n++] = 0;
	words = (uint16_t)((n - sdes) / 4 - 1);
	p[sdes + 2] = (uint8_t)(words >> 8);
	p[sdes + 3] = (uint8_t)words;
	return n;
}

/* Packet kinds of a step. */
enum kind { K_RTP, K_RTCP, K_STUN };
/* CNAME carried by a K_RTCP step. */
enum cn { CN_PHONE, CN_NONE, CN_OTHER };
/* Which stream a step goes to. */
enum on { ON_RTP, ON_RTCP };
/* What a step does besides a packet. */
enum act { A_PKT, A_REOFFER, A_RESTORE };
/* Expected latch reason, or none. */
#define R_NONE 0xff

/*
 * One step: n packets (n = 0 means 1) from src to stream on, the first at
 * t_ms, then every dt_ms, sequence numbers +1 and timestamps +160 from
 * seq/ts. Every packet but the last must give want (drop reason drop if
 * DROP); the last gives last/last_drop/last_reason (last = 0 means
 * "as want"). A step with the "any" flag only checks the last packet;
 * "phone" and "phone_rtcp" interleave the phone's own packets.
 */
struct step {
	uint8_t act, on, src, kind, cn, any;
	uint8_t phone;      /* the phone's RTP 10 ms before each packet (talking) */
	uint8_t phone_rtcp; /* the phone's RTCP at each whole second crossed */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	uint32_t t_ms, n, dt_ms;
	uint8_t want, drop;
	uint8_t last, last_drop, last_reason;
};

/* Call states a case starts from (built by prologue()). */
enum setup {
	TALKING, /* phone latched on both streams, talked 0-2 s (seq 0..99), RTCP at 0, 1, 2 s */
	NEW_CALL, /* streams added at 0 with no signalled address */
	NEW_CALL_SIG, /* streams added at 0, PHONE2 signalled */
};

struct latch_case {
	const char *name;
	enum setup setup;
	uint8_t strict, cname_only;
	struct step steps[12];
};

#define V_ACC DP_LATCH_ACCEPT
#define V_NEW DP_LATCH_NEW_PEER
#define V_DROP DP_LATCH_DROP
#define D(x) RTPB_DROP_##x
#define L(x) RTPB_LATCH_##x

/* Phone RTP on the RTP stream at t (its seq/ts continue the prologue's). */
#define PHONE_RTP(t, cnt, want_) {.on = ON_RTP, .src = PHONE, .kind = K_RTP, .ssrc = SSRC_A, \
	.seq = (uint16_t)((t) / 20), .ts = (t) / 20 * 160, .t_ms = (t), .n = (cnt), .dt_ms = 20, \
	.want = (want_), .last_reason = R_NONE}
#define PHONE_RTCP(t, want_, reason_) {.on = ON_RTCP, .src = PHONE_C, .kind = K_RTCP, \
	.ssrc = SSRC_A, .t_ms = (t), .want = (want_), .last_reason = (reason_)}

static const struct latch_case cases[] = {
	{"talking: paced new SSRC interleaved never wins", TALKING, 0, 0, {
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7000, .ts = 90000,
		 .t_ms = 2030, .n = 50, .dt_ms = 20, .phone = 1, .phone_rtcp = 1,
		 .want = V_DROP, .drop = D(NOT_PEER), .last_reason = R_NONE},
		PHONE_RTP(3020, 1, V_ACC),
	}},
	{"talking: a burst never counts (pace, then budget)", TALKING, 0, 0, {
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7000, .t_ms = 2021,
		 .want = V_DROP, .drop = D(NOT_PEER), .last_reason = R_NONE},
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7001, .ts = 160, .t_ms = 2021, .n = 4,
		 .want = V_DROP, .drop = D(PACE), .last_reason = R_NONE},
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7005, .ts = 800, .t_ms = 2021, .n = 20,
		 .want = V_DROP, .drop = D(BUDGET), .last_reason = R_NONE},
		PHONE_RTP(2040, 3, V_ACC),
	}},
	{"DTX: paced new SSRC during the silence, RTCP alive: never wins", TALKING, 0, 0, {
		PHONE_RTCP(3000, V_ACC, R_NONE),
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7000, .ts = 5000,
		 .t_ms = 3010, .n = 350, .dt_ms = 20, .phone_rtcp = 1, .want = V_DROP,
		 .drop = D(PEER_ALIVE), .last_reason = R_NONE},
		/* the phone's first RTP after the silence */
		PHONE_RTP(10000, 5, V_ACC),
	}},
	{"hold: 30 s of RTCP only, a paced new SSRC throughout: never wins", TALKING, 0, 0, {
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7000, .ts = 5000,
		 .t_ms = 2500, .n = 1500, .dt_ms = 20, .phone_rtcp = 1, .want = V_DROP,
		 .drop = D(PEER_ALIVE), .last_reason = R_NONE},
		PHONE_RTP(33000, 5, V_ACC),
	}},
	{"DTX onset: provisional win, the phone's RTCP wins back, attacker refused", TALKING, 0, 0, {
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7000, .ts = 5000,
		 .t_ms = 2010, .n = 10, .dt_ms = 20, .want = V_DROP, .drop = D(NOT_PEER),
		 .last = V_NEW, .last_reason = L(PROBATION)},
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7010, .ts = 6600,
		 .t_ms = 2210, .n = 30, .dt_ms = 20, .want = V_ACC, .last_reason = R_NONE},
		/* RTCP followed the attacker; the phone's RTCP is the RTCP
		 * stream's previous peer showing life: both streams revert */
		PHONE_RTCP(3000, V_NEW, L(REVERT)),
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7040, .ts = 11400,
		 .t_ms = 3010, .n = 100, .dt_ms = 20, .want = V_DROP, .drop = D(REFUSED),
		 .last_reason = R_NONE},
		PHONE_RTP(6000, 3, V_ACC),
	}},
	{"DTX onset: the phone's RTP wins back", TALKING, 0, 0, {
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7000, .ts = 5000,
		 .t_ms = 2010, .n = 10, .dt_ms = 20, .want = V_DROP, .drop = D(NOT_PEER),
		 .last = V_NEW, .last_reason = L(PROBATION)},
		{.src = PHONE, .kind = K_RTP, .ssrc = SSRC_A, .seq = 130, .ts = 130 * 160,
		 .t_ms = 2600, .want = V_NEW, .last_reason = L(REVERT)},
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7010, .ts = 6600,
		 .t_ms = 2610, .n = 20, .dt_ms = 20, .want = V_DROP, .drop = D(REFUSED),
		 .last_reason = R_NONE},
	}},
	{"observer with the real SSRC and sequence: the phone's next packet wins back", TALKING, 0, 0, {
		PHONE_RTP(2000, 1, V_ACC),
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_A, .seq = 101, .ts = 101 * 160,
		 .t_ms = 2005, .want = V_NEW, .last_reason = L(SSRC)},
		{.src = PHONE, .kind = K_RTP, .ssrc = SSRC_A, .seq = 101, .ts = 101 * 160,
		 .t_ms = 2020, .want = V_NEW, .last_reason = L(REVERT)},
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_A, .seq = 102, .ts = 102 * 160,
		 .t_ms = 2025, .n = 50, .dt_ms = 20, .want = V_DROP, .drop = D(REFUSED),
		 .last_reason = R_NONE},
		PHONE_RTP(2040, 20, V_ACC),
	}},
	{"re-offer: a third host in the learning window of a live leg gets nothing", TALKING, 0, 0, {
		{.act = A_REOFFER, .t_ms = 2010},
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 1, .t_ms = 2015,
		 .want = V_DROP, .drop = D(NOT_PEER), .last_reason = R_NONE},
		{.src = EVIL, .kind = K_STUN, .t_ms = 2016, .want = V_DROP, .drop = D(NOT_PEER),
		 .last_reason = R_NONE},
		{.on = ON_RTCP, .src = EVIL_C, .kind = K_RTCP, .ssrc = SSRC_X, .cn = CN_OTHER,
		 .t_ms = 2017, .want = V_DROP, .drop = D(NOT_PEER), .last_reason = R_NONE},
		PHONE_RTP(2020, 5, V_ACC),
	}},
	{"replay: a restored stream is latched and alive", NEW_CALL, 0, 0, {
		{.act = A_RESTORE, .t_ms = 100},
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 1, .t_ms = 101,
		 .want = V_DROP, .drop = D(NOT_PEER), .last_reason = R_NONE},
		{.src = EVIL, .kind = K_STUN, .t_ms = 102, .want = V_DROP, .drop = D(NOT_PEER),
		 .last_reason = R_NONE},
		{.src = PHONE, .kind = K_RTP, .ssrc = SSRC_A, .seq = 500, .t_ms = 110,
		 .want = V_ACC, .last_reason = R_NONE},
	}},
	{"new call: the first packet in the window latches", NEW_CALL, 0, 0, {
		{.src = PHONE, .kind = K_STUN, .t_ms = 100, .want = V_ACC, .last_reason = R_NONE},
		{.src = PHONE, .kind = K_RTP, .ssrc = SSRC_A, .seq = 1, .t_ms = 120,
		 .want = V_NEW, .last_reason = L(LEARN)},
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 1, .t_ms = 125,
		 .want = V_DROP, .drop = D(NOT_PEER), .last_reason = R_NONE},
	}},
	{"legit: same-SSRC move while talking loses nothing", TALKING, 0, 0, {
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_A, .seq = 100, .ts = 16000,
		 .t_ms = 2000, .want = V_NEW, .last_reason = L(SSRC)},
		/* a late packet of the old path: dropped, nothing refused */
		{.src = PHONE, .kind = K_RTP, .ssrc = SSRC_A, .seq = 98, .ts = 98 * 160,
		 .t_ms = 2005, .want = V_DROP, .drop = D(NOT_PEER), .last_reason = R_NONE},
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_A, .seq = 101, .ts = 16160,
		 .t_ms = 2020, .n = 50, .dt_ms = 20, .want = V_ACC, .last_reason = R_NONE},
	}},
	{"legit: same-SSRC move after a silence", TALKING, 0, 0, {
		PHONE_RTCP(3000, V_ACC, R_NONE),
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_A, .seq = 100, .ts = 96000,
		 .t_ms = 3500, .want = V_NEW, .last_reason = L(SSRC)},
	}},
	{"legit: new-SSRC move while talking, old address quiet: 9 dropped", TALKING, 0, 0, {
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_N, .seq = 30000, .ts = 1000,
		 .t_ms = 2000, .n = 10, .dt_ms = 20, .want = V_DROP, .drop = D(NOT_PEER),
		 .last = V_NEW, .last_reason = L(PROBATION)},
		{.on = ON_RTCP, .src = PHONE2_C, .kind = K_RTCP, .ssrc = SSRC_N, .t_ms = 2300,
		 .want = V_ACC, .last_reason = R_NONE},
	}},
	{"legit: new-SSRC move in a silence follows the CNAME", TALKING, 0, 0, {
		PHONE_RTCP(3000, V_ACC, R_NONE),
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_N, .seq = 30000, .ts = 1000,
		 .t_ms = 3200, .n = 20, .dt_ms = 20, .any = 1, .want = V_DROP,
		 .last_drop = D(PEER_ALIVE), .last_reason = R_NONE},
		{.on = ON_RTCP, .src = PHONE2_C, .kind = K_RTCP, .ssrc = SSRC_N, .t_ms = 3700,
		 .want = V_NEW, .last_reason = L(CNAME)},
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_N, .seq = 30020, .ts = 4200,
		 .t_ms = 3720, .want = V_NEW, .last_reason = L(CNAME)},
	}},
	{"legit: new-SSRC move in a silence, no RTCP: wins once the old RTCP is overdue", TALKING, 0, 0, {
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_N, .seq = 30000, .ts = 1000,
		 .t_ms = 2500, .n = 85, .dt_ms = 20, .want = V_DROP, .drop = D(PEER_ALIVE),
		 .last_reason = R_NONE},
		/* RTCP interval 1 s, last at 2 s: overdue after about 2.25 s */
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_N, .seq = 30085, .ts = 14600,
		 .t_ms = 4300, .want = V_NEW, .last_reason = L(PROBATION)},
	}},
	{"wrong CNAME in a silence: no proof", TALKING, 0, 0, {
		PHONE_RTCP(3000, V_ACC, R_NONE),
		{.on = ON_RTCP, .src = EVIL_C, .kind = K_RTCP, .ssrc = SSRC_X, .cn = CN_OTHER,
		 .t_ms = 3100, .n = 20, .dt_ms = 20, .want = V_DROP, .drop = D(NOT_PEER),
		 .last_reason = R_NONE},
	}},
	{"--probation-cname-only: no win by count, a CNAME proof still moves", TALKING, 0, 1, {
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_N, .seq = 30000, .ts = 1000,
		 .t_ms = 2000, .n = 50, .dt_ms = 20, .want = V_DROP, .drop = D(NOT_PEER),
		 .last_reason = R_NONE},
		{.on = ON_RTCP, .src = PHONE2_C, .kind = K_RTCP, .ssrc = SSRC_N, .t_ms = 3010,
		 .want = V_NEW, .last_reason = L(CNAME)},
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_N, .seq = 30051, .ts = 9160,
		 .t_ms = 3020, .want = V_NEW, .last_reason = L(CNAME)},
	}},
	{"--strict-source: not even a CNAME moves a new SSRC; the same SSRC does", TALKING, 1, 0, {
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_N, .seq = 30000, .ts = 1000,
		 .t_ms = 2000, .n = 50, .dt_ms = 20, .want = V_DROP, .drop = D(NOT_PEER),
		 .last_reason = R_NONE},
		{.on = ON_RTCP, .src = PHONE2_C, .kind = K_RTCP, .ssrc = SSRC_N, .t_ms = 3010,
		 .want = V_DROP, .drop = D(NOT_PEER), .last_reason = R_NONE},
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_A, .seq = 100, .ts = 16000,
		 .t_ms = 3020, .want = V_NEW, .last_reason = L(SSRC)},
	}},
	{"the signalled address is authoritative and never refused", NEW_CALL_SIG, 0, 0, {
		{.src = PHONE, .kind = K_RTP, .ssrc = SSRC_A, .seq = 1, .t_ms = 100,
		 .want = V_NEW, .last_reason = L(LEARN)},
		{.src = PHONE2, .kind = K_RTP, .ssrc = 0x55, .seq = 9, .t_ms = 60000,
		 .want = V_NEW, .last_reason = L(SIGNALLED)},
		/* the NAT'd phone latched in the window: it is the previous
		 * peer and wins back on its next packet; PHONE2 is the
		 * signalled address, so it is not refused */
		{.src = PHONE, .kind = K_RTP, .ssrc = SSRC_A, .seq = 2, .t_ms = 60100,
		 .want = V_NEW, .last_reason = L(REVERT)},
		/* PHONE2 is the signalled address: never refused */
		{.src = PHONE2, .kind = K_RTP, .ssrc = 0x55, .seq = 10, .t_ms = 60200,
		 .want = V_NEW, .last_reason = L(SIGNALLED)},
	}},
	{"the phone at its signalled address wins back: the attacker is refused", NEW_CALL_SIG, 0, 0, {
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_A, .seq = 0, .ts = 0, .t_ms = 80,
		 .want = V_NEW, .last_reason = L(SIGNALLED)},
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_A, .seq = 1, .ts = 160, .t_ms = 100,
		 .n = 50, .dt_ms = 20, .want = V_ACC, .last_reason = R_NONE},
		/* onset of a silence: a paced attacker wins provisionally */
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7000, .ts = 5000,
		 .t_ms = 1110, .n = 10, .dt_ms = 20, .want = V_DROP, .drop = D(NOT_PEER),
		 .last = V_NEW, .last_reason = L(PROBATION)},
		/* the phone (signalled, the previous peer) speaks: revert */
		{.src = PHONE2, .kind = K_RTP, .ssrc = SSRC_A, .seq = 51, .ts = 51 * 160,
		 .t_ms = 1500, .want = V_NEW, .last_reason = L(REVERT)},
		{.src = EVIL, .kind = K_RTP, .ssrc = SSRC_X, .seq = 7010, .ts = 6600,
		 .t_ms = 1510, .n = 30, .dt_ms = 20, .want = V_DROP, .drop = D(REFUSED),
		 .last_reason = R_NONE},
		/* the RTCP stream had followed the attacker: it went back too
		 * (its phone sent no RTCP yet: not known alive, so a plain
		 * not_peer drop) */
		{.on = ON_RTCP, .src = EVIL_C, .kind = K_RTCP, .ssrc = SSRC_X, .cn = CN_OTHER,
		 .t_ms = 2200, .want = V_DROP, .drop = D(NOT_PEER), .last_reason = R_NONE},
		{.on = ON_RTCP, .src = PHONE2_C, .kind = K_RTCP, .ssrc = SSRC_A, .t_ms = 2210,
		 .want = V_ACC, .last_reason = R_NONE},
	}},
};

/* The leg's two streams, ids 0 (RTP) and 1 (RTCP), paired. */
static struct dp_stream leg[2];
#define rtp_s (leg[0])
#define rtcp_s (leg[1])
static struct dp_latch_cfg cfg;
static uint8_t buf[600];

/* The RTP and RTCP streams of one leg, paired, as control adds them. */
static void
leg_add(const struct rtpb_addr *sig, uint64_t now)
{
	struct rtpb_addr sig_c = *sig;

	memset(&rtp_s, 0, sizeof(rtp_s));
	memset(&rtcp_s, 0, sizeof(rtcp_s));
	rtp_s.pair_stream_id = 1;
	rtcp_s.pair_stream_id = 0;
	rtcp_s.flags = RTPB_STREAM_F_RTCP;
	if (sig->family != RTPB_AF_NONE)
		sig_c.port = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(sig->port) + 1));
	dp_latch_signal(&rtp_s, sig, 10 * S, now);
	dp_latch_signal(&rtcp_s, &sig_c, 10 * S, now);
}

/* One packet through dp_latch_rx(), and the worker's RTCP follow. */
static enum dp_latch_verdict
feed(int on, int src, int kind, int cn, uint32_t ssrc, uint16_t seq, uint32_t ts,
     uint64_t now, struct dp_latch_ev *ev)
{
	struct dp_latch_pkt p;
	enum dp_latch_verdict v;
	uint16_t len;

	if (kind == K_RTCP) {
		len = rtcp_build(buf, ssrc, cn == CN_PHONE ? "phone-a@198.51.100.10" :
					    cn == CN_OTHER ? "evil@192.0.2.66" : "");
	} else if (kind == K_RTP) {
		memset(buf, 0, 172);
		buf[0] = 0x80;
		buf[2] = (uint8_t)(seq >> 8); buf[3] = (uint8_t)seq;
		buf[4] = (uint8_t)(ts >> 24); buf[5] = (uint8_t)(ts >> 16);
		buf[6] = (uint8_t)(ts >> 8); buf[7] = (uint8_t)ts;
		buf[8] = (uint8_t)(ssrc >> 24); buf[9] = (uint8_t)(ssrc >> 16);
		buf[10] = (uint8_t)(ssrc >> 8); buf[11] = (uint8_t)ssrc;
		len = 172;
	} else {
		memset(buf, 0, 20);
		buf[1] = 0x01; /* STUN binding request */
		len = 20;
	}
	dp_latch_parse(buf, len, &p);
	v = dp_latch_rx(leg, 2, on == ON_RTCP ? 1 : 0, &cfg, &srcs[src], &p, now, ev);
	if (v == DP_LATCH_NEW_PEER && on == ON_RTP && !ev->pair_moved &&
	    (ev->reason == RTPB_LATCH_SSRC || ev->reason == RTPB_LATCH_PROBATION ||
	     ev->reason == RTPB_LATCH_CNAME))
		dp_latch_rtcp_follow(&rtcp_s, &rtp_s, now);
	return v;
}

/* TALKING: the phone latched both streams and talked for 2 s with RTCP
 * (and its CNAME) at 0, 1 and 2 s. */
static void
prologue(enum setup setup)
{
	struct dp_latch_ev ev;

	leg_add(setup == NEW_CALL_SIG ? &srcs[PHONE2] : &none, 0);
	if (setup != TALKING)
		return;
	for (uint32_t i = 0; i < 100; i++)
		assert_int_not_equal(feed(ON_RTP, PHONE, K_RTP, 0, SSRC_A, (uint16_t)i,
					  i * 160, (uint64_t)i * 20 * MS, &ev), DP_LATCH_DROP);
	for (uint32_t i = 0; i <= 2; i++)
		assert_int_not_equal(feed(ON_RTCP, PHONE_C, K_RTCP, CN_PHONE, SSRC_A, 0, 0,
					  (uint64_t)i * S + 5 * MS, &ev), DP_LATCH_DROP);
	assert_true(rtpb_addr_eq(&rtp_s.peer, &srcs[PHONE]));
	assert_true(rtpb_addr_eq(&rtcp_s.peer, &srcs[PHONE_C]));
	assert_int_not_equal(rtcp_s.cname, 0);
	assert_int_not_equal(rtcp_s.rtcp_ivl, 0);
}

static void
run_case(const struct latch_case *c)
{
	struct dp_latch_ev ev;

	cfg = (struct dp_latch_cfg)DP_LATCH_CFG_DEFAULT;
	cfg.strict_source = c->strict;
	cfg.cname_only = c->cname_only;
	prologue(c->setup);
	for (size_t k = 0; k < RTE_DIM(c->steps); k++) {
		const struct step *st = &c->steps[k];
		uint32_t n = st->n ? st->n : 1;

		if (st->act == A_REOFFER) {
			dp_latch_signal(&rtp_s, &none, 10 * S, st->t_ms * MS);
			continue;
		}
		if (st->act == A_RESTORE) {
			dp_latch_restore(&rtp_s, &srcs[PHONE], SSRC_A, st->t_ms * MS);
			dp_latch_restore(&rtcp_s, &srcs[PHONE_C], SSRC_A, st->t_ms * MS);
			continue;
		}
		if (st->want == 0 && st->t_ms == 0 && st->kind == 0 && st->ssrc == 0)
			break; /* end of the steps */
		for (uint32_t i = 0; i < n; i++) {
			int last = i == n - 1;
			uint8_t want = last && st->last ? st->last : st->want;
			uint8_t drop = last && st->last_drop ? st->last_drop : st->drop;
			enum dp_latch_verdict v;

			uint64_t t = (uint64_t)st->t_ms + (uint64_t)st->dt_ms * i;

			if (st->phone_rtcp && i > 0 && t / 1000 != (t - st->dt_ms) / 1000 &&
			    feed(ON_RTCP, PHONE_C, K_RTCP, CN_PHONE, SSRC_A, 0, 0,
				 t / 1000 * 1000 * MS, &ev) != DP_LATCH_ACCEPT)
				fail_msg("%s: step %zu: the phone's RTCP at %llu ms refused",
					 c->name, k, (unsigned long long)(t / 1000 * 1000));
			if (st->phone &&
			    feed(ON_RTP, PHONE, K_RTP, 0, SSRC_A, (uint16_t)((t - 10) / 20),
				 (uint32_t)((t - 10) / 20 * 160), (t - 10) * MS, &ev) != DP_LATCH_ACCEPT)
				fail_msg("%s: step %zu: the phone's RTP at %llu ms refused",
					 c->name, k, (unsigned long long)(t - 10));
			memset(&ev, 0, sizeof(ev));
			v = feed(st->on, st->src, st->kind, st->cn, st->ssrc,
				 (uint16_t)(st->seq + i), st->ts + 160 * i,
				 ((uint64_t)st->t_ms + (uint64_t)st->dt_ms * i) * MS, &ev);
			if (st->any && !last)
				continue;
			if (v != want || (v == DP_LATCH_DROP && ev.drop != drop) ||
			    (last && v == DP_LATCH_NEW_PEER && st->last_reason != R_NONE &&
			     ev.reason != st->last_reason))
				fail_msg("%s: step %zu packet %u: verdict %d drop %u reason %u, "
					 "want %u drop %u reason %u", c->name, k, i, v, ev.drop,
					 ev.reason, want, drop, st->last_reason);
		}
	}
}

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		print_message("  %s\n", cases[i].name);
		run_case(&cases[i]);
	}
}

/* After the DTX-onset revert, each stream's peer is the phone again and
 * the attacker sits in both refusal sets. */
static void
test_revert_state(void **state)
{
	struct dp_latch_ev ev;
	uint32_t i;

	(void)state;
	cfg = (struct dp_latch_cfg)DP_LATCH_CFG_DEFAULT;
	prologue(TALKING);
	for (i = 0; i < 10; i++)
		feed(ON_RTP, EVIL, K_RTP, 0, SSRC_X, (uint16_t)(7000 + i), 5000 + 160 * i,
		     (2010 + 20 * i) * MS, &ev);
	assert_true(rtpb_addr_eq(&rtp_s.peer, &srcs[EVIL]));
	assert_true(rtpb_addr_eq(&rtcp_s.peer, &srcs[EVIL_C]));
	assert_true(rtpb_addr_eq(&rtp_s.prev, &srcs[PHONE]));
	assert_int_equal(feed(ON_RTCP, PHONE_C, K_RTCP, CN_PHONE, SSRC_A, 0, 0, 3 * S, &ev),
			 DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_REVERT);
	assert_true(rtpb_addr_eq(&ev.refused, &srcs[EVIL_C]));
	assert_int_equal(ev.pair_moved, 1);
	assert_true(rtpb_addr_eq(&ev.pair_old, &srcs[EVIL]));
	assert_true(rtpb_addr_eq(&ev.pair_refused, &srcs[EVIL]));
	assert_true(rtpb_addr_eq(&rtp_s.peer, &srcs[PHONE]));
	assert_true(rtpb_addr_eq(&rtcp_s.peer, &srcs[PHONE_C]));
	assert_int_equal(rtp_s.ssrc, SSRC_A);
	assert_int_equal(rtp_s.seq, 99);
	assert_int_equal(rtp_s.prev.family, RTPB_AF_NONE);
}

/* Alternating with the talking phone, intruders from two sources send
 * pseudo-random packets: half with a random SSRC, half with the phone's
 * SSRC and a random sequence number outside the RFC 3550 A.1 window of
 * the phone's (so the window check, not the SSRC, refuses them); random
 * timestamps. Nothing adds up to a win. Then the same SSRC inside the
 * window does win at once: the window decided. */
static void
test_never_adds_up(void **state)
{
	const uint32_t outside = 65536u - DP_LATCH_MAX_DROPOUT - DP_LATCH_MAX_MISORDER;
	struct dp_latch_ev ev;
	uint32_t x = 12345, ssrc;
	uint16_t seq;
	int i, n_phone_ssrc = 0;

	(void)state;
	cfg = (struct dp_latch_cfg)DP_LATCH_CFG_DEFAULT;
	prologue(TALKING);
	for (i = 0; i < 2000; i++) {
		uint64_t t = 2 * S + (uint64_t)i * 10 * MS;

		x = x * 1103515245u + 12345u; /* LCG: use its high bits */
		if (i % 2 == 0) {
			assert_int_equal(feed(ON_RTP, PHONE, K_RTP, 0, SSRC_A,
					      (uint16_t)(100 + i / 2), (100 + i / 2) * 160u, t, &ev),
					 DP_LATCH_ACCEPT);
			continue;
		}
		if ((x >> 30) & 1) {
			ssrc = SSRC_A;
			seq = (uint16_t)(rtp_s.seq + DP_LATCH_MAX_DROPOUT + (x >> 8) % outside);
			n_phone_ssrc++;
		} else {
			ssrc = x >> 1 == SSRC_A >> 1 ? SSRC_X : x;
			seq = (uint16_t)(x >> 12);
		}
		assert_int_equal(feed(ON_RTP, (x >> 31) & 1 ? EVIL : EVIL2, K_RTP, 0,
				      ssrc, seq, x * 7u, t, &ev), DP_LATCH_DROP);
		assert_int_not_equal(ev.drop, RTPB_DROP_NONE);
	}
	assert_true(n_phone_ssrc > 100 && n_phone_ssrc < 900);
	assert_true(rtpb_addr_eq(&rtp_s.peer, &srcs[PHONE]));
	/* the real SSRC outside the A.1 window: not a continuation */
	assert_int_equal(feed(ON_RTP, EVIL, K_RTP, 0, SSRC_A, (uint16_t)(rtp_s.seq + 3000), 0,
			      30 * S, &ev), DP_LATCH_DROP);
	assert_int_equal(feed(ON_RTP, EVIL, K_RTP, 0, SSRC_A, (uint16_t)(rtp_s.seq - 100), 0,
			      30 * S + 10 * MS, &ev), DP_LATCH_DROP);
	/* inside it: a continuation (a move, probation_ssrc 1) */
	assert_int_equal(feed(ON_RTP, EVIL, K_RTP, 0, SSRC_A, (uint16_t)(rtp_s.seq + 1), 0,
			      30 * S + 20 * MS, &ev), DP_LATCH_NEW_PEER);
	assert_int_equal(ev.reason, RTPB_LATCH_SSRC);
	assert_true(rtpb_addr_eq(&rtp_s.peer, &srcs[EVIL]));
}

static void
test_parse(void **state)
{
	uint8_t p[20] = {0x80, 0x08, 0x12, 0x34, 0, 0, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44};
	struct dp_latch_pkt k;

	(void)state;
	dp_latch_parse(p, 12, &k);
	assert_int_equal(k.kind, DP_LATCH_PKT_RTP);
	assert_int_equal(k.seq, 0x1234);
	assert_int_equal(k.ts, 0x100);
	assert_int_equal(k.ssrc, SSRC_A);
	assert_ptr_equal(k.p, p);
	assert_int_equal(k.len, 12);
	dp_latch_parse(p, 11, &k); /* shorter than an RTP header */
	assert_int_equal(k.kind, DP_LATCH_PKT_OTHER);
	p[1] = 200; /* RTCP SR (RFC 5761 §4: 72 with the marker bit) */
	p[4] = 0xaa; p[5] = 0xbb; p[6] = 0xcc; p[7] = 0xdd;
	dp_latch_parse(p, 8, &k);
	assert_int_equal(k.kind, DP_LATCH_PKT_RTCP);
	assert_int_equal(k.ssrc, 0xaabbccdd);
	p[0] = 0x00; /* STUN */
	dp_latch_parse(p, 20, &k);
	assert_int_equal(k.kind, DP_LATCH_PKT_OTHER);
	p[0] = 0x40; /* RTP version 1 */
	dp_latch_parse(p, 20, &k);
	assert_int_equal(k.kind, DP_LATCH_PKT_OTHER);
}

/* CNAME parsing: a table of compound packets, well-formed and broken. */
static void
test_cname(void **state)
{
	uint8_t p[600], q[600];
	uint16_t n, m;
	uint32_t h, seed = 0x5eed;

	(void)state;
	n = rtcp_build(p, SSRC_A, "phone-a@198.51.100.10");
	h = dp_latch_rtcp_cname(p, n, seed);
	assert_int_not_equal(h, 0);
	/* the same CNAME under another SSRC hashes the same; another CNAME not */
	m = rtcp_build(q, SSRC_N, "phone-a@198.51.100.10");
	assert_int_equal(dp_latch_rtcp_cname(q, m, seed), h);
	m = rtcp_build(q, SSRC_A, "phone-b@198.51.100.10");
	assert_int_not_equal(dp_latch_rtcp_cname(q, m, seed), h);
	/* another key, another hash (nobody outside can precompute it) */
	assert_int_not_equal(dp_latch_rtcp_cname(p, n, seed + 1), h);
	/* no SDES, or an SR alone */
	m = rtcp_build(q, SSRC_A, "");
	assert_int_equal(dp_latch_rtcp_cname(q, m, seed), 0);
	/* every truncation of the compound: no CNAME, no read past the end */
	for (m = 0; m < n; m++)
		assert_int_equal(dp_latch_rtcp_cname(p, m, seed), 0);
	/* SDES chunk for another SSRC than the sender's */
	memcpy(q, p, n);
	q[32] ^= 0xff;
	assert_int_equal(dp_latch_rtcp_cname(q, n, seed), 0);
	/* item length beyond the packet's length */
	memcpy(q, p, n);
	q[37] = 200;
	assert_int_equal(dp_latch_rtcp_cname(q, n, seed), 0);
	/* packet length beyond the datagram */
	memcpy(q, p, n);
	q[31] = 60;
	assert_int_equal(dp_latch_rtcp_cname(q, n, seed), 0);
	/* a zero-length CNAME */
	memcpy(q, p, n);
	q[37] = 0;
	assert_int_equal(dp_latch_rtcp_cname(q, n, seed), 0);
	/* a bad version in the second packet */
	memcpy(q, p, n);
	q[28] = 0x41;
	assert_int_equal(dp_latch_rtcp_cname(q, n, seed), 0);
	/* a chunk count larger than the chunks present */
	memcpy(q, p, n);
	q[28] = 0x9f;
	assert_int_equal(dp_latch_rtcp_cname(q, n, seed), h);
	/* the longest CNAME (255 bytes) */
	{
		char longname[256];

		memset(longname, 'x', 255);
		longname[255] = '\0';
		m = rtcp_build(q, SSRC_A, longname);
		assert_true(m < sizeof(q));
		assert_int_not_equal(dp_latch_rtcp_cname(q, m, seed), 0);
	}
	/* 17 items before the CNAME: beyond what is read */
	{
		uint16_t k = 28, words;

		memcpy(q, p, 28);
		q[k++] = 0x81; q[k++] = 202; k += 2;
		q[k++] = 0x11; q[k++] = 0x22; q[k++] = 0x33; q[k++] = 0x44;
		for (int i = 0; i < 17; i++) {
			q[k++] = 6; /* TOOL */
			q[k++] = 1;
			q[k++] = 't';
		}
		q[k++] = 1; q[k++] = 1; q[k++] = 'c';
		q[k++] = 0;
		while ((k - 28) % 4)
			q[k++] = 0;
		words = (uint16_t)((k - 28) / 4 - 1);
		q[30] = (uint8_t)(words >> 8);
		q[31] = (uint8_t)words;
		assert_int_equal(dp_latch_rtcp_cname(q, k, seed), 0);
	}
	/* more than 8 packets in the compound: the CNAME is in the 9th */
	{
		uint16_t k = 0;

		for (int i = 0; i < 8; i++) {
			q[k++] = 0x80; q[k++] = 201; q[k++] = 0; q[k++] = 1; /* RR, 2 words */
			q[k++] = 0x11; q[k++] = 0x22; q[k++] = 0x33; q[k++] = 0x44;
		}
		memcpy(q + k, p + 28, n - 28);
		k = (uint16_t)(k + n - 28);
		assert_int_equal(dp_latch_rtcp_cname(q, k, seed), 0);
	}
}

static void
test_asymmetric(void **state)
{
	struct rtpb_addr sig = addr(0xc633640a, 4000);
	struct dp_stream s;
	struct dp_latch_pkt p;
	struct dp_latch_ev ev;
	uint8_t b[12] = {0x80, 0, 0, 1, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44};

	(void)state;
	cfg = (struct dp_latch_cfg)DP_LATCH_CFG_DEFAULT;
	memset(&s, 0, sizeof(s));
	s.flags = RTPB_STREAM_F_ASYMMETRIC;
	s.pair_stream_id = RTPB_STREAM_NONE;
	dp_latch_signal(&s, &sig, 10 * S, 0);
	assert_int_equal(s.state, DP_LATCH_LATCHED);
	dp_latch_parse(b, sizeof(b), &p);
	/* the signalled host on any port is accepted, nothing latches */
	assert_int_equal(dp_latch_rx(&s, 1, 0, &cfg, &srcs[PHONE_C], &p, S, &ev), DP_LATCH_ACCEPT);
	for (int i = 0; i < 100; i++)
		assert_int_equal(dp_latch_rx(&s, 1, 0, &cfg, &srcs[PHONE2], &p, 2 * S, &ev),
				 DP_LATCH_DROP);
	assert_true(rtpb_addr_eq(&s.peer, &sig));
	/* a restore never latches an asymmetric stream */
	dp_latch_restore(&s, &srcs[EVIL], 1, 3 * S);
	assert_true(rtpb_addr_eq(&s.peer, &sig));
}

static void
test_reoffer(void **state)
{
	struct dp_latch_ev ev;
	struct rtpb_addr sig2 = srcs[PHONE2];

	(void)state;
	cfg = (struct dp_latch_cfg)DP_LATCH_CFG_DEFAULT;
	prologue(TALKING);
	/* a re-offer with a new address: it is the peer at once, no previous
	 * peer to revert to (the signalling is the authority) */
	assert_int_equal(dp_latch_signal(&rtp_s, &sig2, 10 * S, 2 * S), 1);
	assert_true(rtpb_addr_eq(dp_latch_dest(&rtp_s), &sig2));
	assert_int_equal(rtp_s.prev.family, RTPB_AF_NONE);
	assert_int_equal(rtp_s.state, DP_LATCH_LEARNING);
	assert_int_equal(feed(ON_RTP, PHONE2, K_RTP, 0, SSRC_A, 100, 16000, 2 * S + 20 * MS, &ev),
			 DP_LATCH_ACCEPT);
	assert_int_equal(rtp_s.state, DP_LATCH_LATCHED);
	/* the same address again: no change of peer */
	assert_int_equal(dp_latch_signal(&rtp_s, &sig2, 10 * S, 3 * S), 0);
	/* re-offer to another family */
	{
		struct rtpb_addr v6 = {.family = RTPB_AF_INET6, .port = rte_cpu_to_be_16(4000),
				       .ip = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x0a}};
		struct dp_latch_pkt p;
		uint8_t b[12] = {0x80, 0, 0, 101, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44};

		assert_int_equal(dp_latch_signal(&rtp_s, &v6, 10 * S, 4 * S), 1);
		dp_latch_parse(b, sizeof(b), &p);
		assert_int_equal(dp_latch_rx(leg, 2, 0, &cfg, &v6, &p, 4 * S, &ev),
				 DP_LATCH_ACCEPT);
		assert_true(rtpb_addr_eq(&rtp_s.peer, &v6));
	}
}

static void
test_rtcp_follow(void **state)
{
	struct dp_latch_ev ev;
	struct rtpb_addr want;

	(void)state;
	cfg = (struct dp_latch_cfg)DP_LATCH_CFG_DEFAULT;
	prologue(TALKING);
	/* RTP moves with the same SSRC: RTCP goes to the new host, port + 1,
	 * and remembers where it was */
	assert_int_equal(feed(ON_RTP, PHONE2, K_RTP, 0, SSRC_A, 100, 16000, 2 * S, &ev),
			 DP_LATCH_NEW_PEER);
	want = srcs[PHONE2_C];
	assert_true(rtpb_addr_eq(&rtcp_s.peer, &want));
	assert_true(rtpb_addr_eq(&rtcp_s.prev, &srcs[PHONE_C]));
	/* already there: nothing to do */
	assert_int_equal(dp_latch_rtcp_follow(&rtcp_s, &rtp_s, 3 * S), 0);
	/* rtcp-mux: RTCP on the RTP port sets MUX_SEEN, and no RTCP stream
	 * follows a muxed leg */
	assert_int_equal(feed(ON_RTP, PHONE2, K_RTCP, CN_PHONE, SSRC_A, 0, 0, 4 * S, &ev),
			 DP_LATCH_ACCEPT);
	assert_true(rtp_s.flags & DP_STREAM_F_MUX_SEEN);
	assert_int_equal(dp_latch_rtcp_follow(&rtcp_s, &rtp_s, 5 * S), 0);
}

/* The software budget is the prefilter's rule: 150/s, depth 5. */
static void
test_budget(void **state)
{
	uint32_t tokens = 0;
	int ok = 0, i;

	(void)state;
	for (i = 0; i < 100; i++)
		ok += rtpb_pf_budget_take(i == 0 ? UINT64_MAX : 0, &tokens, 150, 5);
	assert_int_equal(ok, 5);
	/* 1 s later: 150 more would be due, the depth keeps 5 */
	ok = 0;
	for (i = 0; i < 100; i++)
		ok += rtpb_pf_budget_take(i == 0 ? S : 0, &tokens, 150, 5);
	assert_int_equal(ok, 5);
	/* 20 ms: 3 packets */
	ok = 0;
	for (i = 0; i < 100; i++)
		ok += rtpb_pf_budget_take(i == 0 ? 20 * MS : 0, &tokens, 150, 5);
	assert_int_equal(ok, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_cname),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_revert_state),
		cmocka_unit_test(test_never_adds_up),
		cmocka_unit_test(test_asymmetric),
		cmocka_unit_test(test_reoffer),
		cmocka_unit_test(test_rtcp_follow),
		cmocka_unit_test(test_budget),
	};

	srcs_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
