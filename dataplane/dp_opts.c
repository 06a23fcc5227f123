/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_opts.c: rtpbypass-dataplane's command line: --help and --version
 * before EAL starts, EAL's default --file-prefix, and the options after
 * "--" (relay addresses, gateways, ports, probation, pools), checked and
 * stored in dp_ctx (what the fast path reads) or dp_opts (what setup in
 * dp_main.c reads). Setup only: runs before any lcore is launched.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_version.h>

#include "rtpb_config.h"
#include "rtpb_addr.h"
#include "dp_ctx.h"
#include "dp_opts.h"

struct dp_opts dp_opts = {
	.port_id = 0,
	.tx_port = -1,
	.max_streams = DP_DEFAULT_MAX_STREAMS,
	.replay_wait_ms = DP_DEFAULT_REPLAY_WAIT_MS,
	.mbuf_room = RTE_MBUF_DEFAULT_BUF_SIZE,
	.ring_prefix = "rtpb",
};

static void
opts_usage(const char *prog)
{
	printf("Usage: %s EAL-ARGS -- --addr ADDR/PREFIX [--addr ...] [options]\n"
	       "\n"
	       "EAL-ARGS are DPDK's (e.g. -l 0-1 --no-pci --vdev net_af_xdp0,iface=eth1);\n"
	       "--file-prefix defaults to '%s'. After '--':\n"
	       "\n"
	       "  --addr ADDR/PREFIX  relay IPv4 or IPv6 address and on-link prefix length,\n"
	       "                      e.g. 192.0.2.1/24 or 2001:db8:a::1/64\n"
	       "                      (repeatable, up to %d; required)\n"
	       "  --gateway ADDR      IPv4 default gateway for off-link peers (default: none)\n"
	       "  --gateway6 ADDR     IPv6 default gateway for off-link peers, global or\n"
	       "                      link-local (default: none)\n"
	       "  --port N            ethdev port to use (default: 0)\n"
	       "  --tx-port N         send relayed packets on port N instead (benchmarks:\n"
	       "                      net_pcap in, net_null out); ARP/NDP stay on --port\n"
	       "  --neigh IP,MAC      static neighbour, never asked for or expired\n"
	       "                      (repeatable; benchmarks, or a gateway without ARP)\n"
	       "  --max-streams N     streams the flow tables hold (default: %d)\n"
	       "  --mbufs N           mbufs in the pool (default: what the rings, queues\n"
	       "                      and caches hold, plus a quarter, at least 8191:\n"
	       "                      14335 with one worker); benchmarks replaying a big pcap\n"
	       "                      with net_pcap's infinite_rx, which holds the whole\n"
	       "                      file in mbufs, need more\n"
	       "  --mbuf-size BYTES   mbuf data room, headroom included (default: %u);\n"
	       "                      smaller only where every frame fits (pcap replay)\n"
	       "  --ring-prefix NAME  name prefix of the shared rings and memory (default: rtpb)\n"
	       "  --replay-wait MS    at start, the workers hold RX until control has replayed\n"
	       "                      its sessions, for at most MS ms (default: %u; 0: no wait)\n"
	       "  --probation-rtp N   consecutive RTP packets with a new SSRC for a new\n"
	       "                      source to take over a latched stream (default: 10)\n"
	       "  --probation-rtcp N  the same for RTCP (default: 2)\n"
	       "  --probation-ssrc N  the same for RTP continuing the latched SSRC and\n"
	       "                      sequence, RFC 3550 A.1 (default: 1)\n"
	       "  --strict-source     a new SSRC never takes over without signalling\n"
	       "  --probation-cname-only\n"
	       "                      a new SSRC takes over only when the new source's\n"
	       "                      RTCP carries the leg's CNAME, never by count\n"
	       "  --pf-budget PPS/BURST  packets from other sources than a stream's\n"
	       "                      peer (the XDP prefilter's rule, in software;\n"
	       "                      default: 150/5)\n"
	       "  --bpf-pin-root DIR  the XDP prefilter (xdp_prog= devarg of net_af_xdp)\n"
	       "                      pins its maps in DIR (libbpf's default: /sys/fs/bpf);\n"
	       "                      remove them at a clean stop when no control process\n"
	       "                      is attached (default: leave them)\n"
	       "  --shm-group GROUP   the shared memory is GROUP's too (read-write), so a\n"
	       "                      control run as -u USER:GROUP attaches (default: root's)\n"
	       "  --neigh-file PATH   keep the resolved neighbours (IP, MAC) in PATH, so a\n"
	       "                      restarted dataplane has them at once (default:\n"
	       "                      " DP_NKEEP_DIR "/<file-prefix>.neigh; 'none': not kept)\n"
	       "  --standby           start as an HA standby: silent for the relay addresses\n"
	       "                      (no ARP/NDP answer, no relaying) until control makes it\n"
	       "                      active (rtpbypass-control --ha, rtpb-ctl HA master);\n"
	       "                      then it announces them (gratuitous ARP, unsolicited NA)\n"
	       "  --help, -h          this text (before EAL starts, anywhere on the line)\n"
	       "  --version, -V       print the version and DPDK's (the same)\n"
	       "\n"
	       "Control attaches through DPDK's --file-prefix (default '%s').\n",
	       prog, DP_DEFAULT_FILE_PREFIX, RTPB_MAX_ADDRS, DP_DEFAULT_MAX_STREAMS, RTE_MBUF_DEFAULT_BUF_SIZE,
	       DP_DEFAULT_REPLAY_WAIT_MS,
	       DP_DEFAULT_FILE_PREFIX);
}

void
dp_opts_early(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			opts_usage("rtpbypass-dataplane");
			exit(EXIT_SUCCESS);
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("rtpbypass-dataplane %s (%s)\n", RTPB_VERSION, rte_version());
			exit(EXIT_SUCCESS);
		}
	}
}

char **
dp_opts_eal_prefix(int *argc, char **argv)
{
	static char opt_prefix[] = "--file-prefix=" DP_DEFAULT_FILE_PREFIX;
	char **v;
	int i;

	for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++)
		if (strncmp(argv[i], "--file-prefix", 13) == 0 ||
		    strcmp(argv[i], "--in-memory") == 0 ||
		    strcmp(argv[i], "--no-shconf") == 0)
			return argv;
	v = calloc((size_t)*argc + 2, sizeof(*v));
	if (v == NULL)
		rte_exit(EXIT_FAILURE, "argument vector: out of memory\n");
	v[0] = argv[0];
	v[1] = opt_prefix;
	memcpy(&v[2], &argv[1], (size_t)(*argc - 1) * sizeof(*v));
	(*argc)++;
	return v;
}

/* --addr ADDR[/PREFIX]: an IPv4 or IPv6 relay address. The order of the
 * options is the addr_idx order (shared memory, flow table). */
static int
opts_addr(const char *arg)
{
	char buf[64], *slash;
	struct in_addr a;
	struct in6_addr a6;
	struct rtpb_addr ra;
	unsigned long plen = 0;
	int v6, has_plen = 0, r;

	if (strlen(arg) >= sizeof(buf)) {
		fprintf(stderr, "--addr %s: too long for an address\n", arg);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		char *end;

		*slash = '\0';
		plen = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || slash[1] < '0' || slash[1] > '9' || plen > 255) {
			fprintf(stderr, "--addr %s: bad prefix length '%s'\n", arg, slash + 1);
			return -1;
		}
		has_plen = 1;
	}
	memset(&ra, 0, sizeof(ra));
	if (inet_pton(AF_INET, buf, &a) == 1) {
		v6 = 0;
		rtpb_addr_set_v4(&ra, a.s_addr, 0);
	} else if (inet_pton(AF_INET6, buf, &a6) == 1) {
		v6 = 1;
		ra.family = RTPB_AF_INET6;
		memcpy(ra.ip, a6.s6_addr, 16);
	} else {
		fprintf(stderr, "--addr %s: '%s' is neither an IPv4 nor an IPv6 address\n",
			arg, buf);
		return -1;
	}
	if (!has_plen)
		plen = v6 ? 128 : 32;
	if (plen > (v6 ? 128u : 32u)) {
		fprintf(stderr, "--addr %s: prefix length %lu is more than %u for %s\n",
			arg, plen, v6 ? 128 : 32, v6 ? "IPv6" : "IPv4");
		return -1;
	}
	if (v6 ? (a6.s6_addr[0] == 0xff || IN6_IS_ADDR_UNSPECIFIED(&a6) ||
		  IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_V4MAPPED(&a6)) :
		 (a.s_addr == 0 || a.s_addr == INADDR_BROADCAST ||
		  IN_MULTICAST(rte_be_to_cpu_32(a.s_addr)))) {
		fprintf(stderr, "--addr %s: not a unicast address\n", arg);
		return -1;
	}
	r = dp_addr_add(&ra, (unsigned int)plen);
	if (r == -EEXIST)
		fprintf(stderr, "--addr %s: given twice\n", arg);
	else if (r == -ENOSPC)
		fprintf(stderr, "--addr %s: more than %d relay addresses\n", arg, RTPB_MAX_ADDRS);
	else if (r < 0)
		fprintf(stderr, "--addr %s: %s\n", arg, strerror(-r));
	return r < 0 ? -1 : 0;
}

/* --gateway6 ADDR: a unicast IPv6 address, link-local (the usual router
 * address, RFC 4861 §4.2) or global. */
static int
opts_gateway6(const char *arg)
{
	struct in6_addr a6;

	if (inet_pton(AF_INET6, arg, &a6) != 1) {
		fprintf(stderr, "--gateway6 %s: not an IPv6 address\n", arg);
		return -1;
	}
	if (a6.s6_addr[0] == 0xff || IN6_IS_ADDR_UNSPECIFIED(&a6) ||
	    IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_V4MAPPED(&a6)) {
		fprintf(stderr, "--gateway6 %s: not a unicast address\n", arg);
		return -1;
	}
	memcpy(dp_ctx.gateway6, a6.s6_addr, 16);
	dp_ctx.gateway6_set = true;
	return 0;
}

/* --neigh IP,MAC */
static int
opts_neigh(const char *arg)
{
	char buf[128], *comma;
	struct rtpb_addr *a = &dp_opts.neigh_ip[dp_opts.n_neigh];

	if (dp_opts.n_neigh >= RTE_DIM(dp_opts.neigh_ip)) {
		fprintf(stderr, "--neigh %s: more than %zu static neighbours\n", arg,
			RTE_DIM(dp_opts.neigh_ip));
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	comma = strrchr(buf, ',');
	if (comma == NULL || rte_ether_unformat_addr(comma + 1, &dp_opts.neigh_mac[dp_opts.n_neigh]) != 0) {
		fprintf(stderr, "--neigh %s: want IP,MAC (e.g. 192.0.2.254,02:00:00:00:00:fe)\n",
			arg);
		return -1;
	}
	*comma = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, a->ip) == 1) {
		a->family = RTPB_AF_INET;
	} else if (inet_pton(AF_INET6, buf, a->ip) == 1) {
		a->family = RTPB_AF_INET6;
	} else {
		fprintf(stderr, "--neigh %s: %s is not an IP address\n", arg, buf);
		return -1;
	}
	dp_opts.n_neigh++;
	return 0;
}

/* A decimal option value in lo..hi; says which option is wrong. */
static int
opts_ulong(const char *name, const char *arg, unsigned long lo, unsigned long hi,
	   unsigned long *v)
{
	char *end;

	*v = strtoul(arg, &end, 10);
	if (*end != '\0' || arg[0] == '\0' || *v < lo || *v > hi) {
		fprintf(stderr, "--%s %s: want %lu..%lu\n", name, arg, lo, hi);
		return -1;
	}
	return 0;
}

int
dp_opts_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"addr", required_argument, NULL, 'a'},
		{"gateway", required_argument, NULL, 'g'},
		{"gateway6", required_argument, NULL, 'G'},
		{"port", required_argument, NULL, 'p'},
		{"max-streams", required_argument, NULL, 'n'},
		{"mbufs", required_argument, NULL, 'm'},
		{"replay-wait", required_argument, NULL, 'W'},
		{"mbuf-size", required_argument, NULL, 'M'},
		{"ring-prefix", required_argument, NULL, 'r'},
		{"probation-rtp", required_argument, NULL, 'P'},
		{"probation-rtcp", required_argument, NULL, 'C'},
		{"probation-ssrc", required_argument, NULL, 'S'},
		{"strict-source", no_argument, NULL, 's'},
		{"probation-cname-only", no_argument, NULL, 'c'},
		{"pf-budget", required_argument, NULL, 'b'},
		{"bpf-pin-root", required_argument, NULL, 'B'},
		{"tx-port", required_argument, NULL, 't'},
		{"neigh", required_argument, NULL, 'N'},
		{"shm-group", required_argument, NULL, 'U'},
		/* neighbours kept across a restart (dp_nkeep.h) */
		{"neigh-file", required_argument, NULL, 'K'},
		{"standby", no_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct in_addr gw;
	unsigned long v;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (opts_addr(optarg) < 0)
				return -1;
			break;
		case 'g':
			if (inet_pton(AF_INET, optarg, &gw) != 1) {
				fprintf(stderr, "--gateway %s: not an IPv4 address%s\n", optarg,
					strchr(optarg, ':') ? " (use --gateway6)" : "");
				return -1;
			}
			if (gw.s_addr == 0 || gw.s_addr == INADDR_BROADCAST ||
			    IN_MULTICAST(rte_be_to_cpu_32(gw.s_addr))) {
				fprintf(stderr, "--gateway %s: not a unicast address\n", optarg);
				return -1;
			}
			dp_ctx.gateway = gw.s_addr;
			break;
		case 'G':
			if (opts_gateway6(optarg) < 0)
				return -1;
			break;
		case 'p':
		case 't':
			if (opts_ulong(c == 'p' ? "port" : "tx-port", optarg, 0,
				       RTE_MAX_ETHPORTS - 1, &v) != 0)
				return -1;
			if (c == 'p')
				dp_opts.port_id = (uint16_t)v;
			else
				dp_opts.tx_port = (int)v;
			break;
		case 'n':
			if (opts_ulong("max-streams", optarg, 64, 1ul << 26, &v) != 0)
				return -1;
			dp_opts.max_streams = (uint32_t)v;
			break;
		case 'm':
			if (opts_ulong("mbufs", optarg, 1024, 1ul << 24, &v) != 0)
				return -1;
			dp_opts.mbufs = (uint32_t)v;
			break;
		case 'K': /* neighbours kept across a restart */
			if (optarg[0] == '\0') {
				fprintf(stderr, "--neigh-file: empty path\n");
				return -1;
			}
			dp_opts.neigh_file = optarg;
			break;
		case 'W':
			if (opts_ulong("replay-wait", optarg, 0, 60000, &v) != 0)
				return -1;
			dp_opts.replay_wait_ms = (uint32_t)v;
			break;
		case 'M':
			if (opts_ulong("mbuf-size", optarg, RTE_PKTMBUF_HEADROOM + 256, UINT16_MAX,
				       &v) != 0)
				return -1;
			dp_opts.mbuf_room = (uint16_t)v;
			break;
		case 'r':
			if (strlen(optarg) == 0 || strlen(optarg) > 16 || strchr(optarg, '/')) {
				fprintf(stderr, "--ring-prefix %s: want 1-16 characters, no '/'\n", optarg);
				return -1;
			}
			dp_opts.ring_prefix = optarg;
			break;
		case 'P':
		case 'C':
		case 'S':
			if (opts_ulong(c == 'P' ? "probation-rtp" : c == 'C' ?
				       "probation-rtcp" : "probation-ssrc",
				       optarg, 1, 1000, &v) != 0)
				return -1;
			if (c == 'P')
				dp_ctx.latch.probation_rtp = (uint16_t)v;
			else if (c == 'C')
				dp_ctx.latch.probation_rtcp = (uint16_t)v;
			else
				dp_ctx.latch.probation_ssrc = (uint16_t)v;
			break;
		case 's':
			dp_ctx.latch.strict_source = 1;
			break;
		case 'c':
			dp_ctx.latch.cname_only = 1;
			break;
		case 'b': {
			unsigned long pps, burst;

			/* as control's --pf-budget: one rule, XDP and software */
			pps = strtoul(optarg, &end, 10);
			if (end == optarg || *end != '/' || pps < 1 || pps > 1000000) {
				fprintf(stderr, "--pf-budget %s: want PPS/BURST (1..1000000/1..1000)\n", optarg);
				return -1;
			}
			burst = strtoul(end + 1, &end, 10);
			if (*end != '\0' || burst < 1 || burst > 1000) {
				fprintf(stderr, "--pf-budget %s: want PPS/BURST (1..1000000/1..1000)\n", optarg);
				return -1;
			}
			dp_ctx.latch.budget_pps = (uint32_t)pps;
			dp_ctx.latch.budget_burst = (uint32_t)burst;
			break;
		}
		case 'N':
			if (opts_neigh(optarg) < 0)
				return -1;
			break;
		case 'B':
			if (optarg[0] != '/') {
				fprintf(stderr, "--bpf-pin-root %s: want an absolute path\n", optarg);
				return -1;
			}
			dp_opts.bpf_pin_root = optarg;
			break;
		case 'U': {
			const struct group *gr = getgrnam(optarg);

			if (gr == NULL) {
				fprintf(stderr, "--shm-group %s: no such group\n", optarg);
				return -1;
			}
			dp_opts.shm_group = optarg;
			dp_opts.shm_gid = gr->gr_gid;
			break;
		}
		case 'H':
			dp_opts.standby = true;
			break;
		case 'h':
			opts_usage(argv[0]);
			exit(EXIT_SUCCESS);
		default:
			opts_usage(argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (dp_ctx.n_addrs == 0) {
		fprintf(stderr, "at least one --addr is required\n");
		return -1;
	}
	if (dp_ctx.gateway != 0 && dp_ctx.n_addr4 == 0) {
		fprintf(stderr, "--gateway needs an IPv4 --addr to reach it from\n");
		return -1;
	}
	if (dp_ctx.gateway6_set && dp_ctx.n_addr6 == 0) {
		fprintf(stderr, "--gateway6 needs an IPv6 --addr to reach it from\n");
		return -1;
	}
	return 0;
}
