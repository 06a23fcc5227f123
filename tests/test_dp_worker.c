/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_worker.c: the fast path on two worker lcores, with RSS spreading
 * one stream's packets over both RX queues (DESIGN.md §3: one writer per
 * stream).
 *
 * The port is made of rte_rings (rte_eth_from_rings(), two RX and two TX
 * queues), so the test decides which queue each frame lands on, the way
 * a NIC's RSS would hash a new source elsewhere. Two real worker lcores
 * run dp_worker_main(); the test thread plays control (c2d messages,
 * d2c events) and the phones (frames in, frames out).
 * Every wait is bounded (WAIT_NS).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "rtpb_mirror.h"
#include "rtpb_play.h"
#include "rtpb_msg.h"
#include "rtpb_shm.h"
#include "dp_ctx.h"
#include "dp_flow.h"
#include "dp_shm.h"
#include "dp_worker.h"

struct dp_ctx dp_ctx = { .latch = DP_LATCH_CFG_DEFAULT };
atomic_bool dp_quit;

#define NQ 2
#define MAX_STREAMS 1024
#define WAIT_NS (2000000000ull)
#define RELAY 0xc0000201u  /* 192.0.2.1 */
#define GW 0xc00002feu     /* 192.0.2.254 */
#define A1 0xc000020au     /* phone A, 192.0.2.10 */
#define A2 0xc000020bu     /* phone A after the move, 192.0.2.11 */
#define EVIL 0xc0000242u   /* attacker, 192.0.2.66 */
#define B 0xc6336414u      /* phone B, 198.51.100.20 (via GW) */

static char prefix[64];
static struct rte_ring *rxr[NQ], *txr[NQ];
static struct rte_mempool *pool;
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x0a}};
static uint32_t ctl_seq;

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- control's side ---------------------------------------------- */

static uint64_t
ctl_msgs(void)
{
	uint64_t n = 0;

	for (uint32_t w = 0; w < NQ; w++)
		n += dp_ctx.workers[w].stats->ctl_msgs + dp_ctx.workers[w].stats->ctl_errors;
	return n;
}

/* Enqueue m on worker owner's c2d ring, as ctl_dp.c does, and wait
 * until it is applied: refused errs times more than before (0 or 1). */
static void
c2d_apply(uint32_t owner, struct rtpb_msg *m, uint64_t errs)
{
	uint64_t before = ctl_msgs(), t0 = mono_ns();
	uint64_t errs0 = dp_ctx.workers[owner].stats->ctl_errors;

	m->hdr.seq = ctl_seq++;
	assert_int_equal(rte_ring_sp_enqueue_elem(dp_ctx.workers[owner].c2d, m, sizeof(*m)), 0);
	while (ctl_msgs() == before && mono_ns() - t0 < WAIT_NS)
		usleep(100);
	assert_int_equal(ctl_msgs(), before + 1);
	assert_int_equal(dp_ctx.workers[owner].stats->ctl_errors, errs0 + errs);
}

/* rec_id of the next stream_add() with RTPB_STREAM_F_RECORD. */
static uint32_t next_rec_id;

/* STREAM_ADD on the owner's ring, as ctl_dp.c does; waits until applied. */
static void
stream_add(uint32_t id, uint32_t out, uint32_t rtcp_id, uint16_t port,
	   uint32_t sig_ip, uint16_t sig_port, uint32_t flags)
{
	struct rtpb_msg m;
	uint32_t owner = rtpb_stream_owner(id, NQ);

	memset(&m, 0, sizeof(m));
	m.stream.hdr.type = RTPB_MSG_STREAM_ADD;
	m.stream.hdr.len = sizeof(m.stream);
	m.stream.stream_id = id;
	m.stream.out_stream_id = out;
	m.stream.pair_stream_id = rtcp_id;
	m.stream.flags = flags;
	m.stream.learn_ms = 10000;
	rtpb_addr_set_v4(&m.stream.local, rte_cpu_to_be_32(RELAY), rte_cpu_to_be_16(port));
	if (sig_ip != 0)
		rtpb_addr_set_v4(&m.stream.signalled, rte_cpu_to_be_32(sig_ip),
				 rte_cpu_to_be_16(sig_port));
	m.stream.cookie = 0xc0de0000u + id;
	if (flags & RTPB_STREAM_F_RECORD)
		m.stream.rec_id = next_rec_id;
	c2d_apply(owner, &m, 0); /* accepted: no new ctl_errors */
}

/* Next d2c event, or type RTPB_MSG__COUNT if none within a short wait. */
static struct rtpb_msg
event(void)
{
	struct rtpb_msg m;
	uint64_t t0 = mono_ns();

	memset(&m, 0, sizeof(m));
	m.hdr.type = RTPB_MSG__COUNT;
	while (mono_ns() - t0 < WAIT_NS / 10)
		if (rte_ring_sc_dequeue_elem(dp_ctx.d2c, &m, sizeof(m)) == 0)
			break;
	return m;
}

static uint64_t
lcore_sum(size_t off)
{
	uint64_t n = 0;

	for (uint32_t w = 0; w < NQ; w++)
		n += *(const uint64_t *)((const char *)dp_ctx.workers[w].stats + off);
	return n;
}
#define LSUM(f) lcore_sum(offsetof(struct rtpb_lcore_stats, f))
/* Packets the latch dropped, whatever the reason (DESIGN.md §4). */
#define DROPS(r) lcore_sum(offsetof(struct rtpb_lcore_stats, drops) + \
			   RTPB_DROP_##r * sizeof(uint64_t))
#define LATCH_DROPPED (DROPS(NOT_PEER) + DROPS(PEER_ALIVE) + DROPS(REFUSED) + \
		       DROPS(BUDGET) + DROPS(PACE))

/* ---- the phones' side ------------------------------------------- */

/* Set to corrupt the IPv4 header checksum of the next inject(). */
static int corrupt_next;

/* One RTP packet from sip:sport to the relay's dport, on RX queue q. */
static void
inject(unsigned int q, uint32_t sip, uint16_t sport, uint16_t dport,
       uint32_t ssrc, uint16_t seq, int is_rtcp)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	uint8_t *p;
	const uint16_t plen = 172;

	assert_non_null(m);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*ip) +
							  sizeof(*udp) + plen);
	assert_non_null(eth);
	memset(eth, 0, rte_pktmbuf_data_len(m));
	rte_eth_macaddr_get(dp_ctx.port_id, &eth->dst_addr);
	eth->src_addr = peer_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + plen));
	ip->time_to_live = 60;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(sip);
	ip->dst_addr = rte_cpu_to_be_32(RELAY);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + plen));
	p = (uint8_t *)(udp + 1);
	p[0] = 0x80;
	if (is_rtcp) {
		p[1] = 200; /* SR */
		p[4] = (uint8_t)(ssrc >> 24); p[5] = (uint8_t)(ssrc >> 16);
		p[6] = (uint8_t)(ssrc >> 8); p[7] = (uint8_t)ssrc;
	} else {
		uint32_t ts = (uint32_t)seq * 160; /* 20 ms of 8 kHz per packet */

		p[2] = (uint8_t)(seq >> 8); p[3] = (uint8_t)seq;
		p[4] = (uint8_t)(ts >> 24); p[5] = (uint8_t)(ts >> 16);
		p[6] = (uint8_t)(ts >> 8); p[7] = (uint8_t)ts;
		p[8] = (uint8_t)(ssrc >> 24); p[9] = (uint8_t)(ssrc >> 16);
		p[10] = (uint8_t)(ssrc >> 8); p[11] = (uint8_t)ssrc;
	}
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	if (corrupt_next)
		ip->hdr_checksum ^= RTE_BE16(0x0101);
	corrupt_next = 0;
	assert_int_equal(rte_ring_sp_enqueue(rxr[q], m), 0);
}

/* A frame the relay sent, decoded. */
struct out {
	unsigned int q;        /**< TX queue it left on */
	uint32_t sip, dip;     /**< host order */
	uint16_t sport, dport; /**< host order */
	uint32_t ssrc;
	uint16_t seq;
	int csum_ok;
};

/* Collect exactly want frames (bounded wait), then check none follows. */
static unsigned int
collect(struct out *o, unsigned int want)
{
	unsigned int n = 0;
	uint64_t t0 = mono_ns();
	struct rte_mbuf *m;

	while (mono_ns() - t0 < (want > 0 ? WAIT_NS : WAIT_NS / 200)) {
		for (unsigned int q = 0; q < NQ; q++) {
			while (rte_ring_sc_dequeue(txr[q], (void **)&m) == 0) {
				struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
					struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
				struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
				uint8_t *p = (uint8_t *)(udp + 1);

				if (n < want + 8) {
					o[n].q = q;
					o[n].sip = rte_be_to_cpu_32(ip->src_addr);
					o[n].dip = rte_be_to_cpu_32(ip->dst_addr);
					o[n].sport = rte_be_to_cpu_16(udp->src_port);
					o[n].dport = rte_be_to_cpu_16(udp->dst_port);
					o[n].seq = (uint16_t)(p[2] << 8 | p[3]);
					o[n].ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
						    (uint32_t)p[10] << 8 | p[11];
					o[n].csum_ok = rte_ipv4_udptcp_cksum_verify(ip, udp) == 0 &&
						       rte_ipv4_cksum(ip) == 0;
				}
				n++;
				rte_pktmbuf_free(m);
			}
		}
		if (want > 0 && n >= want)
			break;
		usleep(100);
	}
	return n;
}

/* Send one packet and expect exactly one out, to dip:dport from sport. */
static void
relay_one(unsigned int q, uint32_t sip, uint16_t sport, uint16_t dport,
	  uint32_t ssrc, uint16_t seq, uint32_t dip, uint16_t to_port,
	  uint16_t from_port, unsigned int out_q)
{
	struct out o[16];

	inject(q, sip, sport, dport, ssrc, seq, 0);
	assert_int_equal(collect(o, 1), 1);
	assert_int_equal(o[0].dip, dip);
	assert_int_equal(o[0].dport, to_port);
	assert_int_equal(o[0].sip, RELAY);
	assert_int_equal(o[0].sport, from_port);
	assert_int_equal(o[0].ssrc, ssrc);
	assert_int_equal(o[0].seq, seq);
	assert_true(o[0].csum_ok);
	assert_int_equal(o[0].q, out_q);
}

/* Send one packet and expect it dropped. */
static void
drop_one(unsigned int q, uint32_t sip, uint16_t sport, uint16_t dport,
	 uint32_t ssrc, uint16_t seq)
{
	struct out o[16];
	uint64_t before = LATCH_DROPPED, t0 = mono_ns();

	inject(q, sip, sport, dport, ssrc, seq, 0);
	while (LATCH_DROPPED == before && mono_ns() - t0 < WAIT_NS)
		usleep(50);
	assert_int_equal(LATCH_DROPPED, before + 1);
	assert_int_equal(collect(o, 0), 0);
}

/* ---- setup ------------------------------------------------------- */

static void
neigh_add(uint32_t ip)
{
	int slot = dp_neigh_insert(dp_ctx.neigh, rte_cpu_to_be_32(ip));

	assert_true(slot >= 0);
	dp_neigh_confirm(dp_ctx.neigh, slot, &peer_mac, mono_ns());
}

static int
setup(void **state)
{
	char lcores[] = "--lcores=0@0,1@(0-1),2@(0-1)";
	char *argv[] = {"test_dp_worker", "--in-memory", "--no-telemetry", "--no-pci",
			"-m", "256", lcores, "--file-prefix", prefix,
			"--log-level", "lib.eal:error", NULL};
	struct rte_eth_conf conf;
	char dir[128];
	const char *err = NULL;
	struct rtpb_addr relay;
	unsigned int lcore, w = 0;
	int port, r;

	(void)state;
	snprintf(prefix, sizeof(prefix), "rtpb_tw_%d", (int)getpid());
	r = rte_eal_init((int)RTE_DIM(argv) - 1, argv);
	if (r < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	if (rte_lcore_count() < 3) {
		fprintf(stderr, "need 3 lcores\n");
		return -1;
	}
	/* dp_shm links its file in DPDK's runtime dir, which --in-memory
	 * does not create. */
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", prefix);
	mkdir("/var/run/dpdk", 0700);
	mkdir(dir, 0700);

	pool = rte_pktmbuf_pool_create("tw_pool", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	assert_non_null(pool);
	for (unsigned int q = 0; q < NQ; q++) {
		char name[32];

		snprintf(name, sizeof(name), "tw_rx%u", q);
		rxr[q] = rte_ring_create(name, 1024, (int)rte_socket_id(),
					 RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "tw_tx%u", q);
		txr[q] = rte_ring_create(name, 1024, (int)rte_socket_id(),
					 RING_F_SP_ENQ | RING_F_SC_DEQ);
		assert_non_null(rxr[q]);
		assert_non_null(txr[q]);
	}
	port = rte_eth_from_rings("net_tw", rxr, NQ, txr, NQ, (unsigned int)rte_socket_id());
	assert_true(port >= 0);
	memset(&conf, 0, sizeof(conf));
	assert_int_equal(rte_eth_dev_configure((uint16_t)port, NQ, NQ, &conf), 0);
	for (uint16_t q = 0; q < NQ; q++) {
		assert_int_equal(rte_eth_rx_queue_setup((uint16_t)port, q, 1024, 0, NULL, pool), 0);
		assert_int_equal(rte_eth_tx_queue_setup((uint16_t)port, q, 1024, 0, NULL), 0);
	}
	assert_int_equal(rte_eth_dev_start((uint16_t)port), 0);

	/* dp_ctx as dp_main.c lays it out. */
	dp_ctx.port_id = (uint16_t)port;
	dp_ctx.tx_port_id = (uint16_t)port;
	dp_ctx.pool = pool; /* fork copies (dp_fork.h), played packets (dp_play.h) */
	rte_eth_macaddr_get(dp_ctx.port_id, &dp_ctx.mac);
	dp_ctx_set_workers(NQ);
	dp_ctx.max_streams = MAX_STREAMS;
	rtpb_addr_set_v4(&relay, rte_cpu_to_be_32(RELAY), 0);
	assert_int_equal(dp_addr_add(&relay, 24), 0);
	dp_ctx.gateway = rte_cpu_to_be_32(GW);
	dp_ctx.tsc_base = rte_rdtsc();
	dp_ctx.ns_base = mono_ns();
	dp_ctx.ns_mult = (uint64_t)(((unsigned __int128)1000000000ull << 32) / rte_get_tsc_hz());
	{
		/* the recordings' UNIX time, as dp_main.c sets it */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		dp_ctx.rt_off_ns = (uint64_t)ts.tv_sec * 1000000000ull +
				   (uint64_t)ts.tv_nsec - dp_ctx.ns_base;
	}
	dp_ctx.shm = dp_shm_create(prefix, "rtpb_tw", NQ, MAX_STREAMS, &err);
	if (dp_ctx.shm == NULL) {
		fprintf(stderr, "dp_shm_create: %s: %s\n", err, strerror(errno));
		return -1;
	}
	dp_ctx.shm->n_addrs = 1;
	rtpb_addr_set_v4(&dp_ctx.shm->addrs[0], rte_cpu_to_be_32(RELAY), 0);
	dp_ctx.d2c = rtpb_shm_at(dp_ctx.shm, dp_ctx.shm->off_d2c);
	dp_ctx.streams = rtpb_shm_at(dp_ctx.shm, dp_ctx.shm->off_streams);
	dp_ctx.neigh = rte_zmalloc(NULL, sizeof(struct dp_neigh), RTE_CACHE_LINE_SIZE);
	dp_ctx.sp_rx = rte_ring_create("tw_sp_rx", 1024, 0, RING_F_SC_DEQ);
	dp_ctx.sp_tx = rte_ring_create("tw_sp_tx", 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	dp_ctx.nh_req = rte_ring_create_elem("tw_nh_req", sizeof(struct rtpb_addr), 1024, 0,
					     RING_F_SC_DEQ);
	assert_non_null(dp_ctx.streams);
	assert_non_null(dp_ctx.neigh);
	assert_int_equal(dp_flow_create(&dp_ctx.flow, dp_ctx.n_addrs, 0), 0);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct dp_worker *wk = &dp_ctx.workers[w];
		char name[32];

		if (w >= NQ)
			break;
		wk->idx = w;
		wk->lcore = lcore;
		wk->queue = (uint16_t)w;
		wk->c2d = rtpb_shm_at(dp_ctx.shm, dp_ctx.shm->off_c2d[w]);
		wk->mirror = rtpb_shm_at(dp_ctx.shm, dp_ctx.shm->off_mirror[w]);
		wk->play = rtpb_shm_at(dp_ctx.shm, dp_ctx.shm->off_play[w]);
		wk->stats = rtpb_shm_lcore_stats(dp_ctx.shm, w);
		snprintf(name, sizeof(name), "tw_handoff_%u", w);
		wk->handoff = rte_ring_create(name, 1024, 0, RING_F_SC_DEQ);
		assert_non_null(wk->handoff);
		w++;
	}
	neigh_add(A1);
	neigh_add(A2);
	neigh_add(EVIL);
	neigh_add(GW);
	for (w = 0; w < NQ; w++)
		assert_int_equal(rte_eal_remote_launch(dp_worker_main, &dp_ctx.workers[w],
						       dp_ctx.workers[w].lcore), 0);
	return 0;
}

static int
teardown(void **state)
{
	char dir[128];

	(void)state;
	atomic_store(&dp_quit, true);
	rte_eal_mp_wait_lcore();
	dp_shm_destroy(dp_ctx.shm, prefix);
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", prefix);
	rmdir(dir);
	rte_eth_dev_stop(dp_ctx.port_id);
	rte_eth_dev_close(dp_ctx.port_id);
	rte_eal_cleanup();
	return 0;
}

/* ---- the test ---------------------------------------------------- */

/*
 * One call owned by worker 1 (ids 1, 3 RTP; 5 RTCP of leg A), one owned
 * by worker 0 (ids 0, 2). Phone A's packets are spread over both RX
 * queues; all relaying of a call happens on its owner, whose TX queue
 * every packet of the call leaves on.
 */
static void
test_two_workers_one_writer(void **state)
{
	const uint16_t pa = 30000, pb = 30002, pa0 = 31000, pb0 = 31002;
	const uint32_t ssrc_a = 0xaaaa0001u, ssrc_b = 0xbbbb0001u, ssrc_a2 = 0xaaaa0002u;
	struct rtpb_msg ev;
	struct out o[64];
	uint16_t seq = 1000, bseq = 500;
	int i, k;

	(void)state;
	/* call 1: worker 1. A is behind a NAT: its SDP says port 3998, its
	 * packets come from 4000 (latched in the learning window). */
	stream_add(1, 3, 5, pa, A1, 3998, 0);
	stream_add(3, 1, RTPB_STREAM_NONE, pb, B, 5000, 0);
	stream_add(5, 7, 1, pa + 1, A1, 3999, RTPB_STREAM_F_RTCP);
	stream_add(7, 5, RTPB_STREAM_NONE, pb + 1, B, 5001, RTPB_STREAM_F_RTCP);
	/* call 2: worker 0 */
	stream_add(0, 2, RTPB_STREAM_NONE, pa0, A1, 6000, 0);
	stream_add(2, 0, RTPB_STREAM_NONE, pb0, B, 7000, 0);

	/* A's RTP alternates RX queues; B's arrives on queue 0. Every
	 * packet leaves on worker 1's TX queue. */
	for (i = 0; i < 20; i++, seq++)
		relay_one((unsigned int)i & 1, A1, 4000, pa, ssrc_a, seq, B, 5000, pb, 1);
	ev = event();
	assert_int_equal(ev.hdr.type, RTPB_MSG_EV_LATCH);
	assert_int_equal(ev.ev_latch.stream_id, 1);
	assert_int_equal(ev.ev_latch.reason, RTPB_LATCH_LEARN);
	assert_int_equal(ev.ev_latch.worker, 1);
	for (i = 0; i < 10; i++, bseq++)
		relay_one(0, B, 5000, pb, ssrc_b, bseq, A1, 4000, pa, 1);
	assert_int_equal(event().ev_latch.stream_id, 3);
	assert_int_equal(dp_ctx.workers[0].stats->handoff_out, 20);
	assert_int_equal(dp_ctx.workers[0].stats->relayed, 0);
	assert_int_equal(dp_ctx.workers[1].stats->relayed, 30);
	/* call 2 is worker 0's, whatever queue its packets arrive on */
	for (i = 0; i < 6; i++)
		relay_one((unsigned int)i & 1, A1, 6000, pa0, 0x12345678u, (uint16_t)i, B, 7000,
			  pb0, 0);
	assert_int_equal(event().ev_latch.stream_id, 0);
	assert_int_equal(dp_ctx.workers[1].stats->handoff_out, 3);

	/* A blind attacker on both queues, 9 packets (one SSRC, sequence
	 * numbers moving forward) between two of A's: never wins. */
	for (k = 0; k < 5; k++) {
		for (i = 0; i < 9; i++)
			drop_one((unsigned int)i & 1, EVIL, 4000, pa, 0x666, (uint16_t)(k * 9 + i));
		relay_one((unsigned int)k & 1, A1, 4000, pa, ssrc_a, seq++, B, 5000, pb, 1);
	}
	assert_int_equal(LATCH_DROPPED, 45);
	assert_int_equal(event().hdr.type, RTPB_MSG__COUNT);
	/* bogon sources die before the flow lookup, as in the prefilter */
	inject(0, 0x7f000001u, 4000, pa, ssrc_a, seq, 0);
	inject(1, A1, 0, pa, ssrc_a, seq, 0);
	inject(0, RELAY, 4000, pa, ssrc_a, seq, 0);
	inject(1, 0xe0000001u, 4000, pa, ssrc_a, seq, 0);
	for (uint64_t t0 = mono_ns(); LSUM(drops[RTPB_DROP_BOGON]) < 4 &&
					mono_ns() - t0 < WAIT_NS;)
		usleep(100);
	assert_int_equal(LSUM(drops[RTPB_DROP_BOGON]), 4);
	assert_int_equal(collect(o, 0), 0);
	assert_int_equal(LATCH_DROPPED, 45);

	/* Handover, same SSRC, the new source hashed to the other queue:
	 * its first packet wins and is forwarded. */
	relay_one(0, A2, 4100, pa, ssrc_a, seq++, B, 5000, pb, 1);
	ev = event();
	assert_int_equal(ev.hdr.type, RTPB_MSG_EV_LATCH);
	assert_int_equal(ev.ev_latch.stream_id, 1);
	assert_int_equal(ev.ev_latch.reason, RTPB_LATCH_SSRC);
	assert_int_equal(ev.ev_latch.dropped, 0);
	assert_int_equal(ev.ev_latch.old.ip[3], A1 & 0xff);
	assert_int_equal(ev.ev_latch.peer.ip[3], A2 & 0xff);
	/* the RTCP stream of leg A followed, to the new host at port + 1 */
	ev = event();
	assert_int_equal(ev.ev_latch.stream_id, 5);
	assert_int_equal(ev.ev_latch.reason, RTPB_LATCH_RTCP_FOLLOW);
	assert_int_equal(rte_be_to_cpu_16(ev.ev_latch.peer.port), 4101);
	/* B's media now reaches A's new address, RTCP too */
	for (i = 0; i < 4; i++, bseq++)
		relay_one((unsigned int)i & 1, B, 5000, pb, ssrc_b, bseq, A2, 4100, pa, 1);
	inject(1, B, 5001, pb + 1, ssrc_b, 0, 1);
	assert_int_equal(collect(o, 1), 1);
	assert_int_equal(o[0].dip, A2);
	assert_int_equal(o[0].dport, 4101);
	assert_int_equal(o[0].sport, pa + 1);
	assert_int_equal(event().ev_latch.stream_id, 7); /* B's RTCP latched */
	/* the old address is a candidate like any other now (a continuing
	 * SSRC from it would be a move back, and win) */
	drop_one(1, A1, 4000, pa, 0x4711u, 1);

	/* Handover with a new SSRC over both queues, at media pace (20 ms):
	 * 9 dropped, the 10th wins and is forwarded. */
	for (i = 0; i < 9; i++) {
		usleep(20000);
		drop_one((unsigned int)i & 1, A1, 4200, pa, ssrc_a2, (uint16_t)(7000 + i));
	}
	usleep(20000);
	relay_one(1, A1, 4200, pa, ssrc_a2, (uint16_t)(7000 + i), B, 5000, pb, 1);
	ev = event();
	assert_int_equal(ev.ev_latch.reason, RTPB_LATCH_PROBATION);
	assert_int_equal(ev.ev_latch.dropped, 9);
	assert_int_equal(ev.ev_latch.ssrc, ssrc_a2);
	assert_int_equal(event().ev_latch.reason, RTPB_LATCH_RTCP_FOLLOW);
	assert_int_equal(LSUM(handovers), 2);
	relay_one(0, B, 5000, pb, ssrc_b, bseq++, A1, 4200, pa, 1);

	/* A corrupt IPv4 header (the ring PMD checks no checksum): from the
	 * latched peer it is relayed, still corrupt, for the receiver to
	 * drop; from another source with the peer's SSRC (which would win a
	 * handover at once) it is dropped before it can latch. */
	corrupt_next = 1;
	inject(1, A1, 4200, pa, ssrc_a2, 7100, 0);
	assert_int_equal(collect(o, 1), 1);
	assert_int_equal(o[0].dip, B);
	assert_false(o[0].csum_ok);
	corrupt_next = 1;
	inject(1, A2, 4300, pa, ssrc_a2, 7101, 0);
	for (uint64_t t0 = mono_ns(); LSUM(drops[RTPB_DROP_BAD_CSUM]) < 1 &&
					mono_ns() - t0 < WAIT_NS;)
		usleep(100);
	assert_int_equal(LSUM(drops[RTPB_DROP_BAD_CSUM]), 1);
	assert_int_equal(collect(o, 0), 0);
	assert_int_equal(event().hdr.type, RTPB_MSG__COUNT);
	relay_one(1, A1, 4200, pa, ssrc_a2, 7102, B, 5000, pb, 1);

	/* nothing ever left on the wrong queue, nothing leaked */
	assert_int_equal(LSUM(drops[RTPB_DROP_RING_FULL]), 0);
	assert_int_equal(LSUM(drops[RTPB_DROP_TX_FULL]), 0);
	assert_int_equal(rtpb_shm_stream_ctrs(dp_ctx.shm, 1)->handovers, 2);

	/* The streams' counters as control reads them add up to the
	 * lcores': every packet relayed or dropped, relayed = in - dropped. */
	{
		static const uint32_t ids[] = {0, 1, 2, 3, 5, 7};
		struct rtpb_stream_stats st;
		uint64_t rel = 0, not_peer = 0, in = 0, dropped = 0;

		for (i = 0; i < (int)RTE_DIM(ids); i++) {
			rtpb_shm_stream_read(dp_ctx.shm, ids[i], &st);
			assert_int_equal(st.pkts_relayed + st.pkts_dropped, st.pkts_in);
			assert_int_equal(st.bytes_relayed, st.pkts_relayed * 172);
			rel += st.pkts_relayed;
			not_peer += st.drop_not_peer;
			in += st.pkts_in;
			dropped += st.pkts_dropped;
		}
		assert_int_equal(rel, LSUM(relayed));
		assert_int_equal(not_peer, LATCH_DROPPED);
		/* the corrupt packet from A2 was dropped after the lookup */
		assert_int_equal(dropped, LATCH_DROPPED + 1);
		rtpb_shm_stream_read(dp_ctx.shm, 1, &st);
		assert_true(st.last_rx_ns >= dp_ctx.ns_base);
		assert_true(in > rel);
	}
}

/*
 * Recording: a stream with RTPB_STREAM_F_RECORD copies each packet it
 * relays, as received, into its owner's mirror ring (rtpb_mirror.h);
 * the other leg's stream, which does not record, copies nothing, nor
 * does a refused source's packet.
 */
static void
test_record_mirror(void **state)
{
	const uint16_t pa = 32000, pb = 32002;
	struct rte_ring *mir;
	uint8_t elems[8][RTPB_MIRROR_ELEM_SIZE] __rte_aligned(64);
	const struct rtpb_mirror_rec *h = (const void *)elems[0];
	uint64_t copies0 = LSUM(mirror_copies);
	uint16_t seq = 100;
	uint32_t owner = rtpb_stream_owner(9, NQ), got = 0;
	int i;

	(void)state;
	next_rec_id = 77;
	stream_add(9, 11, RTPB_STREAM_NONE, pa, A1, 4000,
		   RTPB_STREAM_F_RECORD | RTPB_STREAM_F_REC_ORIG);
	stream_add(11, 9, RTPB_STREAM_NONE, pb, B, 5000, 0);
	mir = dp_ctx.workers[owner].mirror;
	for (i = 0; i < 5; i++, seq++)
		relay_one(0, A1, 4000, pa, 0x5eed0001u, seq, B, 5000, pb, owner);
	for (i = 0; i < 3; i++)
		relay_one(0, B, 5000, pb, 0x5eed0002u, (uint16_t)i, A1, 4000, pa, owner);
	drop_one(0, EVIL, 4000, pa, 0x666u, 1);
	assert_int_equal(LSUM(mirror_copies) - copies0, 5);
	assert_int_equal(LSUM(mirror_drops), 0);
	/* 172 bytes of payload: a header and three payload elements each */
	while (rte_ring_sc_dequeue_bulk_elem(mir, elems, RTPB_MIRROR_ELEM_SIZE, 4, NULL) == 4) {
		assert_int_equal(h->rec_id, 77);
		assert_int_equal(h->orig_len, 172);
		assert_int_equal(h->cap_len, 172);
		assert_int_equal(h->dir, RTPB_MIRROR_DIR_O);
		assert_int_equal(h->kind, RTPB_MIRROR_RTP);
		assert_int_equal(h->worker, owner);
		assert_int_equal(h->src.ip[3], A1 & 0xff);
		assert_int_equal(rte_be_to_cpu_16(h->src.port), 4000);
		assert_int_equal(rte_be_to_cpu_16(h->dst.port), pa);
		/* the RTP header as sent: sequence number */
		assert_int_equal((elems[1][2] << 8 | elems[1][3]), 100 + got);
		/* UNIX time: within a minute of the test's clock */
		{
			struct timespec ts;
			uint64_t rt;

			clock_gettime(CLOCK_REALTIME, &ts);
			rt = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			assert_true(h->ts_ns <= rt && h->ts_ns + 60000000000ull > rt);
		}
		got++;
	}
	assert_int_equal(got, 5);
	assert_true(rte_ring_empty(mir));
}

/* STREAM_FORK on the owner's ring, as ctl_dp.c does; waits until
 * applied; expects it accepted (ok) or refused. */
static void
stream_fork(uint32_t id, uint64_t cookie, uint16_t port, uint32_t tip,
	    uint16_t tport, bool on, bool ok)
{
	struct rtpb_msg m;

	memset(&m, 0, sizeof(m));
	m.fork.hdr.type = RTPB_MSG_STREAM_FORK;
	m.fork.hdr.len = sizeof(m.fork);
	m.fork.stream_id = id;
	m.fork.cookie = cookie;
	m.fork.flags = on ? RTPB_FORK_F_ON : 0;
	rtpb_addr_set_v4(&m.fork.local, rte_cpu_to_be_32(RELAY), rte_cpu_to_be_16(port));
	rtpb_addr_set_v4(&m.fork.target, rte_cpu_to_be_32(tip), rte_cpu_to_be_16(tport));
	c2d_apply(rtpb_stream_owner(id, NQ), &m, ok ? 0 : 1);
}

/* Take every frame the relay sent within a short wait (at most max). */
static unsigned int
take_frames(struct rte_mbuf **f, unsigned int max, unsigned int want)
{
	unsigned int n = 0;
	uint64_t t0 = mono_ns();

	while (n < want && mono_ns() - t0 < WAIT_NS) {
		for (unsigned int q = 0; q < NQ && n < max; q++)
			while (n < max && rte_ring_sc_dequeue(txr[q], (void **)&f[n]) == 0)
				n++;
		if (n < want)
			usleep(100);
	}
	usleep(2000); /* and nothing more */
	for (unsigned int q = 0; q < NQ && n < max; q++)
		while (n < max && rte_ring_sc_dequeue(txr[q], (void **)&f[n]) == 0)
			n++;
	return n;
}

/*
 * Forking (dp_fork.h): a stream with a fork sends each packet it relays
 * to the other leg and a copy, rewritten the same way (same UDP payload,
 * checksums right), from its fork socket to its target; the other leg's
 * stream, a refused source and a stopped fork copy nothing; a copy whose
 * next hop is not resolved is counted, and the packet is relayed anyway;
 * a fork message with another stream's cookie is refused.
 */
static void
test_fork_copy(void **state)
{
	const uint16_t pa = 33000, pb = 33002, pfork = 33100;
	const uint32_t target = 0xcb007109u; /* 203.0.113.9, via GW */
	const uint32_t unresolved = 0xc0000263u; /* 192.0.2.99: no ARP entry */
	uint64_t copies0 = LSUM(fork_copies), drops0 = LSUM(fork_drops);
	uint32_t owner = rtpb_stream_owner(13, NQ);
	struct rte_mbuf *f[16];
	uint16_t seq = 2000;
	unsigned int n;
	int i;

	(void)state;
	stream_add(13, 15, RTPB_STREAM_NONE, pa, A1, 4000, 0);
	stream_add(15, 13, RTPB_STREAM_NONE, pb, B, 5000, 0);
	stream_fork(13, 0xc0de0000u + 15, pfork, target, 7000, true, false);
	stream_fork(13, 0xc0de0000u + 13, pfork, target, 7000, true, true);
	for (i = 0; i < 5; i++, seq++) {
		const struct rte_udp_hdr *u[2];
		const struct rte_ipv4_hdr *ip[2];
		int relayed = -1, copy = -1;

		inject((unsigned int)i & 1, A1, 4000, pa, 0xf0f0f0f0u, seq, 0);
		n = take_frames(f, RTE_DIM(f), 2);
		assert_int_equal(n, 2);
		for (unsigned int k = 0; k < 2; k++) {
			ip[k] = rte_pktmbuf_mtod_offset(f[k], const struct rte_ipv4_hdr *,
							sizeof(struct rte_ether_hdr));
			u[k] = (const struct rte_udp_hdr *)(ip[k] + 1);
			if (rte_be_to_cpu_32(ip[k]->dst_addr) == B)
				relayed = (int)k;
			else if (rte_be_to_cpu_32(ip[k]->dst_addr) == target)
				copy = (int)k;
		}
		assert_true(relayed >= 0 && copy >= 0);
		assert_int_equal(rte_be_to_cpu_16(u[relayed]->dst_port), 5000);
		assert_int_equal(rte_be_to_cpu_16(u[relayed]->src_port), pb);
		assert_int_equal(rte_be_to_cpu_32(ip[copy]->src_addr), RELAY);
		assert_int_equal(rte_be_to_cpu_16(u[copy]->src_port), pfork);
		assert_int_equal(rte_be_to_cpu_16(u[copy]->dst_port), 7000);
		/* the same UDP payload, byte for byte, and right checksums */
		assert_int_equal(u[copy]->dgram_len, u[relayed]->dgram_len);
		assert_memory_equal(u[copy] + 1, u[relayed] + 1,
				    rte_be_to_cpu_16(u[relayed]->dgram_len) - sizeof(*u[0]));
		assert_int_equal(((const uint8_t *)(u[copy] + 1))[3], seq & 0xff);
		assert_int_equal(rte_ipv4_cksum(ip[copy]), 0);
		assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip[copy], u[copy]), 0);
		/* to the next hop's MAC (the gateway's), from the port's */
		{
			const struct rte_ether_hdr *e =
				rte_pktmbuf_mtod(f[copy], const struct rte_ether_hdr *);

			assert_true(rte_is_same_ether_addr(&e->dst_addr, &peer_mac));
			assert_true(rte_is_same_ether_addr(&e->src_addr, &dp_ctx.mac));
		}
		rte_pktmbuf_free(f[0]);
		rte_pktmbuf_free(f[1]);
	}
	assert_int_equal(LSUM(fork_copies) - copies0, 5);
	/* the other leg does not fork; a refused source copies nothing */
	for (i = 0; i < 3; i++)
		relay_one(0, B, 5000, pb, 0x0b0b0b0bu, (uint16_t)i, A1, 4000, pa, owner);
	drop_one(1, EVIL, 4000, pa, 0x666u, 1);
	assert_int_equal(LSUM(fork_copies) - copies0, 5);
	/* a target whose next hop is unknown: the packet is relayed, the
	 * copy counted as dropped (and its ARP asked for) */
	stream_fork(13, 0xc0de0000u + 13, pfork, unresolved, 7000, true, true);
	relay_one(0, A1, 4000, pa, 0xf0f0f0f0u, seq++, B, 5000, pb, owner);
	assert_int_equal(LSUM(fork_drops) - drops0, 1);
	/* stopped: relayed only */
	stream_fork(13, 0xc0de0000u + 13, pa, 0, 0, false, true);
	for (i = 0; i < 3; i++, seq++)
		relay_one(1, A1, 4000, pa, 0xf0f0f0f0u, seq, B, 5000, pb, owner);
	assert_int_equal(LSUM(fork_copies) - copies0, 5);
	assert_int_equal(LSUM(fork_drops) - drops0, 1);
	assert_int_equal(LSUM(drops[RTPB_DROP_TX_FULL]), 0);
}

/* A played packet onto stream id's owner's play ring: 12-byte RTP
 * header (seq, SSRC) and 160 bytes of payload (byte i is i). */
static void
play_put(uint32_t id, uint64_t cookie, uint16_t seq, uint32_t ssrc)
{
	struct rtpb_play_pkt e;

	memset(&e, 0, sizeof(e));
	e.stream_id = id;
	e.cookie = cookie;
	e.len = 172;
	e.rtp[0] = 0x80;
	e.rtp[2] = (uint8_t)(seq >> 8);
	e.rtp[3] = (uint8_t)seq;
	e.rtp[8] = (uint8_t)(ssrc >> 24);
	e.rtp[9] = (uint8_t)(ssrc >> 16);
	e.rtp[10] = (uint8_t)(ssrc >> 8);
	e.rtp[11] = (uint8_t)ssrc;
	for (int i = 0; i < 160; i++)
		e.rtp[12 + i] = (uint8_t)i;
	assert_int_equal(rte_ring_sp_enqueue_elem(
		dp_ctx.workers[rtpb_stream_owner(id, NQ)].play, &e, sizeof(e)), 0);
}

/* Wait (bounded) until counter expression x reaches want. */
#define WAIT_FOR(x, want) do {						\
	uint64_t t0_ = mono_ns();					\
	while ((x) < (want) && mono_ns() - t0_ < WAIT_NS)		\
		usleep(50);						\
	assert_int_equal((x), (want));					\
} while (0)

/*
 * Playback (dp_play.h): a packet on the play ring leaves from its
 * stream's relay socket to the stream's peer, headers and checksums
 * right; one for a stream whose cookie differs (deleted, id reused) or
 * with no peer is counted and not sent. A held stream
 * (RTPB_STREAM_F_HOLD) drops what it receives (drop reason held) while
 * the other leg still relays.
 */
static void
test_play_hold(void **state)
{
	const uint16_t pc = 32010, pd = 32012, pe = 32014;
	uint64_t tx0 = LSUM(play_tx), stale0 = LSUM(play_stale);
	uint64_t nopeer0 = LSUM(play_nopeer), held0 = DROPS(HELD);
	uint32_t owner = rtpb_stream_owner(13, NQ);
	struct out o[16];

	(void)state;
	stream_add(13, 15, RTPB_STREAM_NONE, pc, A1, 4100, 0);
	stream_add(15, 13, RTPB_STREAM_NONE, pd, B, 5100, RTPB_STREAM_F_HOLD);
	stream_add(17, RTPB_STREAM_NONE, RTPB_STREAM_NONE, pe, 0, 0, 0);

	/* played to A1 (stream 13's peer) from 13's socket */
	play_put(13, 0xc0de0000u + 13, 4242, 0x91a7e401u);
	assert_int_equal(collect(o, 1), 1);
	assert_int_equal(o[0].dip, A1);
	assert_int_equal(o[0].dport, 4100);
	assert_int_equal(o[0].sip, RELAY);
	assert_int_equal(o[0].sport, pc);
	assert_int_equal(o[0].seq, 4242);
	assert_int_equal(o[0].ssrc, 0x91a7e401u);
	assert_true(o[0].csum_ok);
	assert_int_equal(o[0].q, owner);
	WAIT_FOR(LSUM(play_tx), tx0 + 1);

	/* a stale cookie, a stream without a peer: nothing sent */
	play_put(13, 0xdeadu, 1, 1);
	WAIT_FOR(LSUM(play_stale), stale0 + 1);
	play_put(17, 0xc0de0000u + 17, 1, 1);
	WAIT_FOR(LSUM(play_nopeer), nopeer0 + 1);
	assert_int_equal(collect(o, 0), 0);

	/* held: B's packets to A1 are dropped; A1's still reach B */
	inject(0, B, 5100, pd, 0x5eed0003u, 1, 0);
	WAIT_FOR(DROPS(HELD), held0 + 1);
	assert_int_equal(collect(o, 0), 0);
	relay_one(0, A1, 4100, pc, 0x5eed0004u, 1, B, 5100, pd, owner);
	assert_int_equal(LSUM(play_tx), tx0 + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_workers_one_writer),
		cmocka_unit_test(test_record_mirror),
		cmocka_unit_test(test_fork_copy),
		cmocka_unit_test(test_play_hold),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_dp_worker needs root (hugepages); skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
