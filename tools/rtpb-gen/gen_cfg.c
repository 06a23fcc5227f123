/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_cfg.c: rtpb-gen's command line (see gen_cfg.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "gen_cfg.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: rtpb-gen EAL-ARGS -- [options]\n"
		"Emulates concurrent calls through the rtpbypass relay: sets them up over\n"
		"control's rtpproxy socket (U and L per call), sends 20 ms G.711-sized RTP\n"
		"(172-byte UDP payload, real SSRCs, sequence numbers and timestamps) on both\n"
		"legs with RTCP every 5 s, and reports per direction the received rate, loss,\n"
		"reordering and added latency (p50/p99/p99.9), one line per second.\n"
		"EAL: always --no-pci or an allow-list, e.g. --no-pci --vdev net_memif0,...\n"
		"\n"
		"  --calls N            concurrent calls, two legs each (default 100)\n"
		"  --duration S         seconds of traffic (default 10; 0: setup only)\n"
		"  --rate natural|max   each leg every ptime (default), or as fast as the\n"
		"                       port takes frames\n"
		"  --pps N              total RTP frames/s instead (both directions)\n"
		"  --ptime MS           packetisation time (default 20)\n"
		"  --rtcp-interval S    RTCP SR+SDES per leg every S s (default 5; 0: none)\n"
		"  --drain-ms MS        receive time after the last frame (default 200)\n"
		"  --port N             ethdev port (default 0)\n"
		"  --queues N           RX/TX queue pairs, legs hashed over them as RSS would\n"
		"                       (default 1; one lcore serves them all)\n"
		"  --gw IP              the generator's address on the link: the relay's\n"
		"                       --gateway (default 198.51.100.254)\n"
		"  --phone-net IP/LEN   the phones' network behind it (default 198.18.0.0/15,\n"
		"                       RFC 2544); the generator answers ARP for all of it\n"
		"  --relay-mac MAC      the relay's MAC (default: resolved by ARP)\n"
		"  --src-mac MAC        source MAC in --write-pcap (default: the port's)\n"
		"  --ctl udp:HOST:PORT  control's rtpproxy socket (default udp:127.0.0.1:22222)\n"
		"  --ctl-local IP       relay address for U/L ('l' modifier), repeatable: the\n"
		"                       calls are spread over them in blocks\n"
		"  --ctl-window N       commands in flight (default 16: rtpproxy's, and\n"
		"                       control's, 16 KiB socket buffer holds about 25)\n"
		"  --ctl-retries N      sends per command (default 5)\n"
		"  --ctl-timeout-ms MS  wait per send (default 500)\n"
		"  --call-prefix S      call-id prefix (default rtpbgen<pid>)\n"
		"  --record             after its L, R for both parties of every call (the\n"
		"                       relay's control needs -r DIR): every stream records\n"
		"  --fork udp:IP:PORT   after its L, C callid udp:IP:PORT for both parties of\n"
		"                       every call: every stream forks a copy to IP:PORT\n"
		"  --tos N              '&& S tos=N' after every U and L: the relay sends every\n"
		"                       stream's packets with IPv4 TOS N (1..255)\n"
		"  --keep-sessions      no D at exit\n"
		"  --delete-only        only D the --calls calls of --call-prefix (what a\n"
		"                       --keep-sessions run left)\n"
		"  --layout IP[,IP...]  no control: relay ports 1024, 1026, ... of these\n"
		"                       addresses in turn (32 256 legs each)\n"
		"  --baseline           no relay, no setup: each leg sends to its peer phone\n"
		"                       directly, for a plain forwarder on the link (e.g.\n"
		"                       dpdk-testpmd --forward-mode=io): the latency floor of\n"
		"                       the link and the generator\n"
		"  --install PREFIX     with --layout: push the streams straight into the\n"
		"                       rings of the dataplane of DPDK file prefix PREFIX\n"
		"                       (benchmarks only; no control may be attached)\n"
		"  --write-pcap FILE    after the setup, write the RTP frames (an ARP request\n"
		"                       to the relay first) to FILE (pcap); not when control\n"
		"                       set up fewer than --calls calls (see below)\n"
		"  --pcap-rounds N      frames per leg in the pcap (default 1)\n"
		"  --pcap-frames N      N RTP frames instead: rounds over the legs or, if\n"
		"                       fewer, both legs of N/2 calls spread evenly over all\n"
		"                       (net_pcap's infinite_rx holds the whole file in the\n"
		"                       port's mbuf pool)\n"
		"  --pcap-queues N      N > 1: write FILE.q0 .. FILE.q<N-1> instead of FILE,\n"
		"                       one per RX queue of a relay with N workers: call c's\n"
		"                       frames in FILE.q<c %% N>, the queue of the worker that\n"
		"                       owns its streams after --install (RSS steering each\n"
		"                       relay port to its owner: no hand-off); each file\n"
		"                       starts with the ARP request (default 1)\n"
		"  --pcap-split owner|flow\n"
		"                       which file a frame goes to: owner (above), or flow:\n"
		"                       the Toeplitz hash of its 5-tuple (the usual default\n"
		"                       RSS key) modulo N, as a NIC's plain RSS spreads it\n"
		"  --no-udp-csum        send UDP checksum 0\n"
		"  --seed N             SSRC/sequence seed (default: from the clock)\n"
		"  --json               final summary as one JSON object on stdout\n"
		"  --quiet              no progress lines\n"
		"  --help               this text\n"
		"\n"
		"When control sets up fewer calls than --calls (its -m/-M port range too\n"
		"small for them, say), rtpb-gen says so, writes no pcap, sends no traffic,\n"
		"deletes the calls it did set up (--keep-sessions or not) and exits 1.\n");
}

static void __attribute__((noreturn))
bad(const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "rtpb-gen: %s %s: %s (see --help)\n", opt, arg, why);
	exit(2);
}

static double
num(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		char why[96];

		snprintf(why, sizeof(why), "want a number in %g..%g", lo, hi);
		bad(opt, s, why);
	}
	return v;
}

static uint32_t
ip4(const char *opt, const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		bad(opt, s, "not an IPv4 address");
	return a.s_addr;
}

static void
mac(const char *opt, const char *s, struct rte_ether_addr *m)
{
	if (rte_ether_unformat_addr(s, m) != 0)
		bad(opt, s, "not a MAC address");
}

static uint32_t
ip_list(const char *opt, const char *s, uint32_t *out)
{
	char buf[1024], *save = NULL, *t;
	uint32_t n = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (t = strtok_r(buf, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		if (n == GEN_MAX_RELAY_ADDRS)
			bad(opt, s, "more than 16 addresses");
		out[n++] = ip4(opt, t);
	}
	if (n == 0)
		bad(opt, s, "no address");
	return n;
}

double
gen_cfg_pps(const struct gen_cfg *c)
{
	switch (c->rate_mode) {
	case GEN_RATE_MAX:
		return 0;
	case GEN_RATE_PPS:
		return c->pps;
	default:
		return 2.0 * c->calls * 1000.0 / c->ptime_ms;
	}
}

void
gen_cfg_parse(struct gen_cfg *c, int argc, char **argv)
{
	enum {
		O_CALLS = 256,
		O_DURATION,
		O_RATE,
		O_PPS,
		O_PTIME,
		O_RTCP,
		O_DRAIN,
		O_PORT,
		O_QUEUES,
		O_GW,
		O_PHONE,
		O_RELAY_MAC,
		O_SRC_MAC,
		O_CTL,
		O_CTL_LOCAL,
		O_CTL_WINDOW,
		O_CTL_RETRIES,
		O_CTL_TIMEOUT,
		O_PREFIX,
		O_RECORD,
		O_FORK,
		O_TOS,
		O_KEEP,
		O_DELETE,
		O_LAYOUT,
		O_BASELINE,
		O_INSTALL,
		O_PCAP,
		O_PCAP_ROUNDS,
		O_PCAP_FRAMES,
		O_PCAP_QUEUES,
		O_PCAP_SPLIT,
		O_NO_CSUM,
		O_SEED,
		O_JSON,
		O_QUIET,
		O_HELP,
	};
	static const struct option lo[] = {
		{ "calls", required_argument, NULL, O_CALLS },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "rate", required_argument, NULL, O_RATE },
		{ "pps", required_argument, NULL, O_PPS },
		{ "ptime", required_argument, NULL, O_PTIME },
		{ "rtcp-interval", required_argument, NULL, O_RTCP },
		{ "drain-ms", required_argument, NULL, O_DRAIN },
		{ "port", required_argument, NULL, O_PORT },
		{ "queues", required_argument, NULL, O_QUEUES },
		{ "gw", required_argument, NULL, O_GW },
		{ "phone-net", required_argument, NULL, O_PHONE },
		{ "relay-mac", required_argument, NULL, O_RELAY_MAC },
		{ "src-mac", required_argument, NULL, O_SRC_MAC },
		{ "ctl", required_argument, NULL, O_CTL },
		{ "ctl-local", required_argument, NULL, O_CTL_LOCAL },
		{ "ctl-window", required_argument, NULL, O_CTL_WINDOW },
		{ "ctl-retries", required_argument, NULL, O_CTL_RETRIES },
		{ "ctl-timeout-ms", required_argument, NULL, O_CTL_TIMEOUT },
		{ "call-prefix", required_argument, NULL, O_PREFIX },
		{ "record", no_argument, NULL, O_RECORD },
		{ "fork", required_argument, NULL, O_FORK },
		{ "tos", required_argument, NULL, O_TOS },
		{ "keep-sessions", no_argument, NULL, O_KEEP },
		{ "delete-only", no_argument, NULL, O_DELETE },
		{ "layout", required_argument, NULL, O_LAYOUT },
		{ "baseline", no_argument, NULL, O_BASELINE },
		{ "install", required_argument, NULL, O_INSTALL },
		{ "write-pcap", required_argument, NULL, O_PCAP },
		{ "pcap-rounds", required_argument, NULL, O_PCAP_ROUNDS },
		{ "pcap-frames", required_argument, NULL, O_PCAP_FRAMES },
		{ "pcap-queues", required_argument, NULL, O_PCAP_QUEUES },
		{ "pcap-split", required_argument, NULL, O_PCAP_SPLIT },
		{ "no-udp-csum", no_argument, NULL, O_NO_CSUM },
		{ "seed", required_argument, NULL, O_SEED },
		{ "json", no_argument, NULL, O_JSON },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	static char prefix[32];
	char buf[64], *slash;
	int o;

	memset(c, 0, sizeof(*c));
	c->calls = 100;
	c->duration_s = 10;
	c->ptime_ms = 20;
	c->rtcp_s = 5;
	c->drain_ms = 200;
	c->queues = 1;
	c->udp_csum = true;
	c->gw_ip = htonl(0xc63364feu); /* 198.51.100.254 */
	c->phone_net = 0xc6120000u; /* 198.18.0.0/15 */
	c->phone_plen = 15;
	c->ctl = "udp:127.0.0.1:22222";
	c->ctl_window = 16;
	c->ctl_retries = 5;
	c->ctl_timeout_ms = 500;
	c->pcap_rounds = 1;
	c->pcap_queues = 1;
	snprintf(prefix, sizeof(prefix), "rtpbgen%d", (int)getpid());
	c->call_prefix = prefix;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case O_CALLS:
			c->calls = (uint32_t)num("--calls", optarg, 1, 1 << 24);
			break;
		case O_DURATION:
			c->duration_s = num("--duration", optarg, 0, 86400);
			break;
		case O_RATE:
			if (strcmp(optarg, "natural") == 0)
				c->rate_mode = GEN_RATE_NATURAL;
			else if (strcmp(optarg, "max") == 0)
				c->rate_mode = GEN_RATE_MAX;
			else
				bad("--rate", optarg, "want natural or max");
			break;
		case O_PPS:
			c->rate_mode = GEN_RATE_PPS;
			c->pps = num("--pps", optarg, 1, 1e9);
			break;
		case O_PTIME:
			c->ptime_ms = (uint32_t)num("--ptime", optarg, 1, 1000);
			break;
		case O_RTCP:
			c->rtcp_s = (uint32_t)num("--rtcp-interval", optarg, 0,
						  3600);
			break;
		case O_DRAIN:
			c->drain_ms =
				(uint32_t)num("--drain-ms", optarg, 0, 60000);
			break;
		case O_PORT:
			c->port_id = (uint16_t)num("--port", optarg, 0, 1023);
			break;
		case O_QUEUES:
			c->queues = (uint16_t)num("--queues", optarg, 1,
						  GEN_MAX_QUEUES);
			break;
		case O_GW:
			c->gw_ip = ip4("--gw", optarg);
			break;
		case O_PHONE:
			snprintf(buf, sizeof(buf), "%s", optarg);
			slash = strchr(buf, '/');
			if (slash == NULL)
				bad("--phone-net", optarg, "want IP/LEN");
			*slash = '\0';
			c->phone_plen =
				(uint32_t)num("--phone-net", slash + 1, 8, 30);
			c->phone_net = ntohl(ip4("--phone-net", buf)) &
				       (~0u << (32 - c->phone_plen));
			break;
		case O_RELAY_MAC:
			mac("--relay-mac", optarg, &c->relay_mac);
			c->relay_mac_set = true;
			break;
		case O_SRC_MAC:
			mac("--src-mac", optarg, &c->src_mac);
			c->src_mac_set = true;
			break;
		case O_CTL:
			if (strncmp(optarg, "udp:", 4) != 0 &&
			    strncmp(optarg, "udp6:", 5) != 0)
				bad("--ctl", optarg,
				    "want udp:HOST:PORT or udp6:[HOST]:PORT");
			c->ctl = optarg;
			break;
		case O_CTL_LOCAL:
			if (c->n_ctl_local == GEN_MAX_RELAY_ADDRS)
				bad("--ctl-local", optarg, "more than 16");
			c->ctl_local[c->n_ctl_local++] =
				ip4("--ctl-local", optarg);
			break;
		case O_CTL_WINDOW:
			c->ctl_window =
				(uint32_t)num("--ctl-window", optarg, 1, 4096);
			break;
		case O_CTL_RETRIES:
			c->ctl_retries =
				(uint32_t)num("--ctl-retries", optarg, 1, 100);
			break;
		case O_CTL_TIMEOUT:
			c->ctl_timeout_ms = (uint32_t)num("--ctl-timeout-ms",
							  optarg, 1, 60000);
			break;
		case O_PREFIX:
			if (optarg[0] == '\0' || strlen(optarg) > 64 ||
			    strpbrk(optarg, " \t\r\n;"))
				bad("--call-prefix", optarg,
				    "want 1-64 characters, no blanks or ';'");
			c->call_prefix = optarg;
			break;
		case O_RECORD:
			c->ctl_record = true;
			break;
		case O_FORK:
			if (strncmp(optarg, "udp:", 4) != 0 ||
			    strlen(optarg) > 64 || strpbrk(optarg, " \t\r\n"))
				bad("--fork", optarg, "want udp:IP:PORT");
			c->ctl_fork = optarg;
			break;
		case O_TOS:
			c->ctl_tos = (uint32_t)num("--tos", optarg, 1, 255);
			break;
		case O_KEEP:
			c->keep_sessions = true;
			break;
		case O_DELETE:
			c->delete_only = true;
			break;
		case O_LAYOUT:
			c->setup = GEN_SETUP_LAYOUT;
			c->n_layout = ip_list("--layout", optarg, c->layout);
			break;
		case O_BASELINE:
			c->setup = GEN_SETUP_BASELINE;
			break;
		case O_INSTALL:
			c->install = optarg;
			break;
		case O_PCAP:
			c->pcap_path = optarg;
			break;
		case O_PCAP_ROUNDS:
			c->pcap_rounds = (uint32_t)num("--pcap-rounds", optarg,
						       1, 1 << 20);
			break;
		case O_PCAP_FRAMES:
			c->pcap_frames = (uint32_t)num("--pcap-frames", optarg,
						       1, 1 << 30);
			break;
		case O_PCAP_QUEUES:
			c->pcap_queues = (uint16_t)num("--pcap-queues", optarg,
						       1, GEN_MAX_PCAP_QUEUES);
			break;
		case O_PCAP_SPLIT:
			if (strcmp(optarg, "owner") == 0)
				c->pcap_split_flow = false;
			else if (strcmp(optarg, "flow") == 0)
				c->pcap_split_flow = true;
			else
				bad("--pcap-split", optarg, "owner or flow");
			break;
		case O_NO_CSUM:
			c->udp_csum = false;
			break;
		case O_SEED:
			c->seed = (uint64_t)num("--seed", optarg, 0, 1e18);
			break;
		case O_JSON:
			c->json = true;
			break;
		case O_QUIET:
			c->quiet = true;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc)
		bad("argument", argv[optind], "unexpected");
	if (c->delete_only) {
		if (c->setup != GEN_SETUP_CTL || c->keep_sessions ||
		    c->pcap_path != NULL)
			bad("--delete-only", "", "goes with --ctl only");
		c->duration_s = 0;
	}
	if (c->pcap_queues > 1 && c->pcap_path == NULL)
		bad("--pcap-queues", "", "goes with --write-pcap");
	if (c->install != NULL && c->setup != GEN_SETUP_LAYOUT)
		bad("--install", c->install, "needs --layout");
	if (c->setup == GEN_SETUP_LAYOUT && c->n_ctl_local > 0)
		bad("--ctl-local", "", "is for control, not --layout");
	if (c->setup != GEN_SETUP_CTL &&
	    (c->ctl_record || c->ctl_fork != NULL || c->ctl_tos != 0))
		bad("--record/--fork/--tos", "", "are for control, not --layout "
		    "or --baseline");
	if ((uint64_t)c->calls * 2 > (uint64_t)GEN_MAX_RELAY_ADDRS * 32256u * 2)
		bad("--calls", "", "too many");
}
