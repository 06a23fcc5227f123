/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_main.c: rtpb-gen, the traffic generator of the rtpbypass relay.
 *
 * Order: EAL and options; the call table; the port (one RX/TX queue
 * pair, promiscuous); the setup (through control, or a fixed layout,
 * optionally installed straight into a dataplane); the pcap if asked;
 * the relay's MAC by ARP; the traffic loop on the main lcore; the
 * summary; the teardown (D per call) unless --keep-sessions.
 * A setup short of --calls ends the run after the setup: no pcap, no
 * traffic, the calls set up deleted, exit 1 (setup_incomplete()).
 * SIGINT/SIGTERM end the traffic early and still report and tear down.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "gen_calls.h"
#include "gen_cfg.h"
#include "gen_ctl.h"
#include "gen_loop.h"
#include "gen_pcap.h"
#include "gen_run.h"
#include "gen_shm.h"
#include "gen_stats.h"

#define GEN_RXD 1024
#define GEN_TXD 1024
#define GEN_MBUFS 16383
#define GEN_LEARN_MS 10000 /* control's CTL_LEARN_MS */

static void
on_signal(int sig)
{
	(void)sig;
	gen_quit = true;
}

static void
port_init(struct gen_run *r)
{
	struct rte_eth_conf conf = { 0 };
	uint16_t rxd = GEN_RXD, txd = GEN_TXD, p = r->port, q;
	int ret;

	ret = rte_eth_dev_configure(p, r->n_queues, r->n_queues, &conf);
	if (ret != 0)
		rte_exit(EXIT_FAILURE, "rte_eth_dev_configure(port %u): %s\n",
			 p, rte_strerror(-ret));
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(p, &rxd, &txd);
	if (ret != 0)
		rte_exit(EXIT_FAILURE,
			 "rte_eth_dev_adjust_nb_rx_tx_desc(port %u): %s\n", p,
			 rte_strerror(-ret));
	for (q = 0; q < r->n_queues; q++) {
		ret = rte_eth_rx_queue_setup(
			p, q, rxd, rte_eth_dev_socket_id(p), NULL, r->pool);
		if (ret != 0)
			rte_exit(
				EXIT_FAILURE,
				"rte_eth_rx_queue_setup(port %u, queue %u): %s\n",
				p, q, rte_strerror(-ret));
		ret = rte_eth_tx_queue_setup(p, q, txd,
					     rte_eth_dev_socket_id(p), NULL);
		if (ret != 0)
			rte_exit(
				EXIT_FAILURE,
				"rte_eth_tx_queue_setup(port %u, queue %u): %s\n",
				p, q, rte_strerror(-ret));
	}
	ret = rte_eth_dev_start(p);
	if (ret != 0)
		rte_exit(EXIT_FAILURE, "rte_eth_dev_start(port %u): %s\n", p,
			 rte_strerror(-ret));
	rte_eth_promiscuous_enable(p); /* software PMDs may refuse: harmless */
	if (!r->cfg->src_mac_set && rte_eth_macaddr_get(p, &r->pc.src_mac) != 0)
		rte_exit(EXIT_FAILURE, "rte_eth_macaddr_get(port %u) failed\n",
			 p);
}

/* Fisher-Yates with the run's seed: frames of consecutive legs do not
 * hit consecutive relay ports and stream ids, as real calls do not (a
 * sequential order would flatter the relay's caches and prefetchers). */
static void
shuffle(uint32_t *v, uint32_t n, uint64_t seed)
{
	uint64_t s = seed | 1;
	uint32_t i, j, t;

	for (i = n; i > 1; i--) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		j = (uint32_t)(s % i);
		t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/*
 * The pcap: an ARP request to the relay (it learns the generator's MAC,
 * RFC 826 merge), then the RTP frames in sending order: pcap_rounds
 * rounds over the ok legs, or pcap_frames frames: rounds over the legs,
 * or, when fewer than the legs, both legs of pcap_frames / 2 calls spread
 * evenly over all calls (so the streams a frame is relayed to are in the
 * file too, as in a real call), shuffled.
 * With --pcap-queues N > 1: N files FILE.q0 .. FILE.q<N-1>, each with the
 * ARP request first; a frame of call c goes to FILE.q<c % N>, the RX
 * queue of the worker owning the call after --install (gen_shm.c), and
 * the calls picked are balanced over the files (gen_pcap_call()); with
 * --pcap-split flow, the queue a NIC's plain RSS would pick instead
 * (gen_queue_of_flow()): frames of one call on both queues.
 * @return the frames written, per file in per_q[].
 */
static uint64_t
write_pcap(struct gen_run *r, uint64_t per_q[GEN_MAX_PCAP_QUEUES])
{
	const struct gen_cfg *c = r->cfg;
	uint8_t buf[GEN_FRAME_MAX];
	struct gen_pcap *p[GEN_MAX_PCAP_QUEUES];
	char path[4096];
	uint64_t frames = 0, t = 0, step, want, j;
	uint32_t *sel = r->order, n_sel = r->n_order, k, nq = c->pcap_queues;
	uint32_t q, len;
	int err = 0;

	for (q = 0; q < nq; q++) {
		if (nq > 1)
			snprintf(path, sizeof(path), "%s.q%u", c->pcap_path, q);
		else
			snprintf(path, sizeof(path), "%s", c->pcap_path);
		p[q] = gen_pcap_open(path);
		if (p[q] == NULL)
			rte_exit(EXIT_FAILURE, "--write-pcap %s: %s\n", path,
				 strerror(errno));
		per_q[q] = 0;
	}
	want = c->pcap_frames ? c->pcap_frames :
				(uint64_t)c->pcap_rounds * r->n_order;
	if (want < r->n_order) {
		uint32_t calls = r->n_legs / 2, pick = (uint32_t)(want + 1) / 2;

		sel = malloc(sizeof(uint32_t) * 2 * (size_t)pick);
		if (sel == NULL)
			rte_exit(EXIT_FAILURE, "out of memory for the pcap\n");
		n_sel = 0;
		for (k = 0; k < pick; k++) {
			uint32_t call = gen_pcap_call(k, pick, calls, nq);

			if (r->legs[2 * call].ok) {
				sel[n_sel++] = 2 * call;
				sel[n_sel++] = 2 * call + 1;
			}
		}
		shuffle(sel, n_sel, c->seed + 1);
		want = RTE_MIN(want, (uint64_t)n_sel);
	}
	step = n_sel ? (uint64_t)c->ptime_ms * 1000000ull /
			       RTE_MIN((uint64_t)n_sel, want) :
		       0;
	len = gen_pkt_arp_request(buf, &r->pc.src_mac, c->gw_ip, r->relay_ip);
	for (q = 0; q < nq && err == 0; q++) {
		err = gen_pcap_write(p[q], buf, len, 0);
		per_q[q]++;
		frames++;
	}
	for (j = 0; j < want && n_sel > 0 && err == 0; j++, t += step) {
		uint32_t li = sel[j % n_sel];

		q = c->pcap_split_flow ? gen_queue_of_flow(&r->legs[li], nq) :
					 gen_queue_of_call(li / 2, nq);
		err = gen_pcap_write(p[q], buf,
				     gen_pkt_rtp(buf, &r->pc, &r->legs[li], li,
						 (uint32_t)(j / n_sel), 0),
				     t);
		per_q[q]++;
		frames++;
	}
	if (sel != r->order)
		free(sel);
	for (q = 0; q < nq; q++) {
		int e = gen_pcap_close(p[q]); /* 0 or -errno */

		if (err == 0)
			err = e;
	}
	if (err != 0)
		rte_exit(EXIT_FAILURE, "--write-pcap %s: write failed: %s\n",
			 c->pcap_path, strerror(-err));
	return frames;
}

/*
 * Control set up fewer calls than asked for (its port range too small
 * for them, its limits, or errors): a pcap or a measurement of the calls
 * that did get set up would pass for one of all of them (a Pktgen replay
 * offering the rate of --calls over fewer streams). Say so, and what
 * usually fixes it; the caller then writes no pcap, sends no traffic and
 * deletes the calls that were set up, --keep-sessions or not.
 */
static void
setup_incomplete(const struct gen_cfg *c, const struct gen_ctl_stats *st)
{
	fprintf(stderr,
		"rtpb-gen: error: control set up %u of the %u calls asked for "
		"(first failure: %s)\n"
		"rtpb-gen: each call takes two RTP/RTCP port pairs (four with "
		"--fork; --record needs control's -r) of control's "
		"-m/-M range per relay address (the default 35000-65000 holds "
		"at most 7 500 calls): start control with -m 1024 -M 65535 "
		"(about 16 000 calls per address), or with several -l addresses "
		"and --port-spill\n"
		"rtpb-gen: %s; deleting the %u sessions control holds for them "
		"(answered U, whatever their L got)\n",
		st->calls_ok, c->calls, st->first_error,
		c->pcap_path != NULL ? "no pcap written, no traffic sent" :
				       "no traffic sent",
		st->sessions);
}

int
main(int argc, char **argv)
{
	struct gen_cfg cfg;
	struct gen_run run;
	struct gen_summary sum;
	struct gen_ctl_stats setup = { 0 }, teardown = { 0 };
	struct gen_shm_stats install;
	struct timespec ts;
	uint32_t l;
	bool incomplete = false;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE,
			 "rte_eal_init: %s (see the EAL messages above)\n",
			 rte_strerror(rte_errno));
	argc -= ret;
	argv += ret;
	argv[0] = (char *)"rtpb-gen";
	gen_cfg_parse(&cfg, argc, argv);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (cfg.seed == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		cfg.seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20);
	}
	cfg.have_port = rte_eth_dev_is_valid_port(cfg.port_id);
	if (!cfg.have_port && cfg.duration_s > 0)
		rte_exit(
			EXIT_FAILURE,
			"port %u: no such ethdev port (%u ports): give a --vdev "
			"or an allow-listed NIC, or --duration 0 for setup/pcap only\n",
			cfg.port_id, rte_eth_dev_count_avail());

	memset(&run, 0, sizeof(run));
	memset(&sum, 0, sizeof(sum));
	run.cfg = &cfg;
	run.port = cfg.port_id;
	run.n_queues = cfg.queues;
	run.hz = rte_get_tsc_hz();
	run.ns_mult =
		(uint64_t)(((unsigned __int128)1000000000ull << 32) / run.hz);
	run.rtcp_every = cfg.rtcp_s ? cfg.rtcp_s * 1000u / cfg.ptime_ms : 0;
	run.pc.udp_csum = cfg.udp_csum;
	run.pc.src_mac = cfg.src_mac;
	if (!cfg.src_mac_set)
		rte_eth_random_addr(run.pc.src_mac.addr_bytes);
	/* a default no relay checks (the dataplane does not filter on MACs) */
	run.pc.dst_mac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, 0x01 } };
	if (cfg.relay_mac_set) {
		run.pc.dst_mac = cfg.relay_mac;
		run.relay_mac_known = true;
	}
	run.n_legs = 2 * cfg.calls;
	run.legs = gen_calls_create(cfg.calls, cfg.phone_net, cfg.phone_plen,
				    cfg.seed);
	if (run.legs == NULL)
		rte_exit(
			EXIT_FAILURE,
			"%u calls: %s (phone network /%u too small, or memory)\n",
			cfg.calls, strerror(errno), cfg.phone_plen);
	sum.calls = cfg.calls;

	if (cfg.have_port) {
		run.pool = rte_pktmbuf_pool_create("gen_mbufs", GEN_MBUFS, 256,
						   0, RTE_MBUF_DEFAULT_BUF_SIZE,
						   (int)rte_socket_id());
		if (run.pool == NULL)
			rte_exit(EXIT_FAILURE, "rte_pktmbuf_pool_create: %s\n",
				 rte_strerror(rte_errno));
		port_init(&run);
	}

	if (cfg.delete_only) {
		for (l = 0; l < run.n_legs; l++)
			run.legs[l].ok = run.legs[l].in_ctl = 1;
	} else if (cfg.setup == GEN_SETUP_CTL) {
		ret = gen_ctl_setup(&cfg, run.legs, cfg.calls, &setup);
		if (ret != 0)
			rte_exit(EXIT_FAILURE, "--ctl %s: %s\n", cfg.ctl,
				 strerror(-ret));
		sum.setup = &setup;
		if (!cfg.quiet)
			fprintf(stderr,
				"rtpb-gen: setup: %u/%u calls in %.3f s (%.0f U+L pairs/s)%s%s\n",
				setup.calls_ok, cfg.calls, setup.seconds,
				setup.seconds > 0 ?
					setup.calls_ok / setup.seconds :
					0,
				setup.first_error[0] ? "; first failure: " : "",
				setup.first_error);
		if (setup.calls_failed != 0) {
			setup_incomplete(&cfg, &setup);
			incomplete = true;
		}
	} else if (cfg.setup == GEN_SETUP_BASELINE) {
		gen_calls_baseline(run.legs, run.n_legs);
		/* nobody to resolve: the forwarder sends back what it gets */
		run.relay_mac_known = true;
	} else {
		ret = gen_calls_layout(run.legs, run.n_legs, cfg.layout,
				       cfg.n_layout);
		if (ret != 0)
			rte_exit(
				EXIT_FAILURE,
				"--layout: %u calls need %u legs, %u addresses hold "
				"%u\n",
				cfg.calls, run.n_legs, cfg.n_layout,
				cfg.n_layout * GEN_LAYOUT_PAIRS);
		if (cfg.install != NULL) {
			char err[256] = "";

			ret = gen_shm_install(cfg.install, run.legs, cfg.calls,
					      GEN_LEARN_MS, &install, err,
					      sizeof(err));
			if (ret != 0)
				rte_exit(EXIT_FAILURE, "--install %s: %s\n",
					 cfg.install, err);
			sum.install = &install;
			if (!cfg.quiet)
				fprintf(stderr,
					"rtpb-gen: installed %lu streams in %.3f s\n",
					(unsigned long)install.streams,
					install.seconds);
		}
	}
	run.order = malloc(sizeof(uint32_t) * run.n_legs);
	if (run.order == NULL)
		rte_exit(EXIT_FAILURE, "out of memory for %u legs\n",
			 run.n_legs);
	for (l = 0; l < run.n_legs; l++)
		if (run.legs[l].ok) {
			run.order[run.n_order++] = l;
			if (run.relay_ip == 0)
				run.relay_ip = run.legs[l].relay_ip;
		}
	shuffle(run.order, run.n_order, cfg.seed);

	if (cfg.have_port && !run.relay_mac_known && run.relay_ip != 0 &&
	    !incomplete && (cfg.duration_s > 0 || cfg.pcap_path != NULL)) {
		if (gen_loop_resolve(&run, 5.0) != 0) {
			struct in_addr a = { .s_addr = run.relay_ip };

			fprintf(stderr,
				"rtpb-gen: the relay %s did not answer ARP in 5 s "
				"(give --relay-mac?)\n",
				inet_ntoa(a));
			if (cfg.duration_s > 0)
				gen_quit = true;
		}
	}
	if (cfg.pcap_path != NULL && !incomplete) {
		sum.pcap = cfg.pcap_path;
		sum.pcap_queues = cfg.pcap_queues;
		sum.pcap_frames = write_pcap(&run, sum.pcap_frames_q);
	}
	if (cfg.have_port && cfg.duration_s > 0 && !gen_quit && !incomplete) {
		ret = gen_loop_run(&run);
		if (ret != 0)
			rte_exit(EXIT_FAILURE, "traffic loop: %s\n",
				 strerror(-ret));
		sum.traffic = 1;
	}
	if (cfg.setup == GEN_SETUP_CTL && (!cfg.keep_sessions || incomplete)) {
		ret = gen_ctl_teardown(&cfg, run.legs, cfg.calls, &teardown);
		if (ret == 0)
			sum.teardown = &teardown;
		else
			fprintf(stderr, "rtpb-gen: teardown: %s\n",
				strerror(-ret));
	}
	gen_stats_summary(&run, &sum, stdout, cfg.json);

	gen_stats_free(&run);
	if (cfg.have_port) {
		rte_eth_dev_stop(run.port);
		rte_eth_dev_close(run.port);
	}
	free(run.order);
	free(run.legs);
	rte_eal_cleanup();
	if (sum.setup != NULL && setup.calls_failed != 0)
		return 1;
	return sum.teardown != NULL && teardown.calls_failed != 0 ? 1 : 0;
}
