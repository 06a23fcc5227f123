/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb-pfstat: the XDP prefilter's counters, live.
 *
 *   rtpb-pfstat [--pin-root DIR] [--interval SEC] [--count N] [--once] [--json]
 *
 * Opens the pinned per-CPU counter map (DIR/pf_stats, default
 * /sys/fs/bpf, see include/rtpb_pf.h), sums it over CPUs and prints, per
 * verdict, the packets per second of each interval next to the totals;
 * --once (or --json) prints the totals once. The same numbers are in
 * `bpftool map dump pinned /sys/fs/bpf/pf_stats`.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "rtpb_config.h"
#include "rtpb_pf.h"


static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/* Totals of every verdict: packets and bytes summed over CPUs. */
static int
read_stats(int fd, int ncpu, uint64_t *pkts, uint64_t *bytes)
{
	struct rtpb_pf_stat st[ncpu];

	for (uint32_t v = 0; v < RTPB_PF_VERDICT__COUNT; v++) {
		if (bpf_map_lookup_elem(fd, &v, st) != 0)
			return -errno;
		pkts[v] = bytes[v] = 0;
		for (int c = 0; c < ncpu; c++) {
			pkts[v] += st[c].pkts;
			bytes[v] += st[c].bytes;
		}
	}
	return 0;
}

static void
usage(const char *prog)
{
	printf("Usage: %s [--pin-root DIR] [--interval SEC] [--count N] [--once] [--json]\n"
	       "  --pin-root DIR  bpffs directory of the prefilter's maps (default /sys/fs/bpf)\n"
	       "  --interval SEC  seconds between two lines (default 1)\n"
	       "  --count N       stop after N intervals (default: until SIGINT)\n"
	       "  --once          print the totals once\n"
	       "  --json          print the totals once as JSON\n"
	       "  --version       print the version\n", prog);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pin-root", required_argument, NULL, 'p'},
		{"interval", required_argument, NULL, 'i'},
		{"count", required_argument, NULL, 'c'},
		{"once", no_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *root = "/sys/fs/bpf";
	uint64_t pkts[RTPB_PF_VERDICT__COUNT], bytes[RTPB_PF_VERDICT__COUNT];
	uint64_t prev[RTPB_PF_VERDICT__COUNT];
	long interval = 1, count = -1;
	int once = 0, json = 0, c, fd, ncpu, r;
	char path[4096], *end;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			root = optarg;
			break;
		case 'i':
			interval = strtol(optarg, &end, 10);
			if (*end != '\0' || interval < 1 || interval > 3600) {
				fprintf(stderr, "--interval %s: want 1..3600 seconds\n", optarg);
				return 2;
			}
			break;
		case 'c':
			count = strtol(optarg, &end, 10);
			if (*end != '\0' || count < 1) {
				fprintf(stderr, "--count %s: want a positive number\n", optarg);
				return 2;
			}
			break;
		case 'o':
			once = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		case 'V':
			printf("rtpb-pfstat %s\n", RTPB_VERSION);
			return 0;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	snprintf(path, sizeof(path), "%s/pf_stats", root);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "%s: %s (is the prefilter loaded? see --pin-root)\n", path,
			strerror(errno));
		return 1;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		fprintf(stderr, "libbpf_num_possible_cpus: %s\n", strerror(-ncpu));
		return 1;
	}
	r = read_stats(fd, ncpu, pkts, bytes);
	if (r != 0) {
		fprintf(stderr, "%s: lookup: %s\n", path, strerror(-r));
		return 1;
	}
	if (json) {
		printf("{");
		for (uint32_t v = 0; v < RTPB_PF_VERDICT__COUNT; v++)
			printf("%s\"%s\": {\"packets\": %llu, \"bytes\": %llu}", v ? ", " : "",
			       rtpb_pf_verdict_text(v)->name, (unsigned long long)pkts[v],
			       (unsigned long long)bytes[v]);
		printf("}\n");
		return 0;
	}
	if (once) {
		for (uint32_t v = 0; v < RTPB_PF_VERDICT__COUNT; v++)
			printf("%-20s %14llu packets %16llu bytes  %s\n", rtpb_pf_verdict_text(v)->name,
			       (unsigned long long)pkts[v], (unsigned long long)bytes[v],
			       rtpb_pf_verdict_text(v)->descr);
		return 0;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!quit && count != 0) {
		memcpy(prev, pkts, sizeof(prev));
		sleep((unsigned int)interval);
		if (read_stats(fd, ncpu, pkts, bytes) != 0)
			break;
		for (uint32_t v = 0; v < RTPB_PF_VERDICT__COUNT; v++)
			if (pkts[v] != 0)
				printf("%s%s %llu/s (%llu)", v ? "  " : "", rtpb_pf_verdict_text(v)->name,
				       (unsigned long long)((pkts[v] - prev[v]) / (uint64_t)interval),
				       (unsigned long long)pkts[v]);
		printf("\n");
		fflush(stdout);
		if (count > 0)
			count--;
	}
	return 0;
}
