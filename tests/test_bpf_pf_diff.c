/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_bpf_pf_diff.c: the XDP prefilter in the kernel against its
 * software twin (tests/pf_twin.c, the rules of rtpb_pf_rules.h) on
 * random and mutated frames (issue 16 item 8): every frame is run with
 * bpf_prog_test_run_opts() and its verdict (the XDP action and the one
 * pf_stats counter that went up) compared with the twin's. Any
 * disagreement fails, with the frame in hex.
 *
 * The frames: templates of what reaches a relay (IPv4/IPv6 UDP to
 * sessions latched or not, from the peer, with its SSRC, from others,
 * from bogons; VLAN tags, fragments, TCP, ARP, NDP), then 0 to 3
 * mutations each (a byte set anywhere, weighted to the headers; a cut),
 * and one frame in eight of random bytes. A fixed seed (PF_DIFF_SEED
 * to change it), PF_DIFF_N frames (default 50 000). Needs root and
 * bpffs, like test_bpf_prefilter.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "rtpb_pf.h"
#include "pf_twin.h"
#include "prefilter.skel.h"

#define FRAME_MAX 256
#define PEER_SSRC 0x11223344u

static struct prefilter *skel;
static struct pf_twin twin;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32) % n;
}

static int
addr_add(int family, const char *s)
{
	struct rtpb_pf_addr_key k = {.family = (uint8_t)family};
	uint32_t idx = twin.n_addrs;

	inet_pton(family == 4 ? AF_INET : AF_INET6, s, k.ip);
	twin.addrs[twin.n_addrs++] = k;
	return bpf_map__update_elem(skel->maps.pf_addrs, &k, sizeof(k), &idx, sizeof(idx),
				    BPF_ANY);
}

static int
sock_add(int family, const char *local, uint16_t port, const char *peer, uint16_t peer_port)
{
	struct rtpb_pf_sock_key *k = &twin.keys[twin.n_socks];
	struct rtpb_pf_sock *v = &twin.socks[twin.n_socks++];

	pf_sock_entry(family, local, port, peer, peer_port, PEER_SSRC, k, v);
	return bpf_map__update_elem(skel->maps.pf_socks, k, sizeof(*k), v, sizeof(*v), BPF_ANY);
}

/* ---- frames ------------------------------------------------------ */

static const char *const src4[] = {"198.51.100.20", "203.0.113.66", "0.0.0.1",
				   "127.0.0.1", "224.0.0.5", "192.0.2.1"};
static const char *const src6[] = {"2001:db8:b::20", "2001:db8:e::66", "::", "::1",
				   "ff02::1", "2001:db8:a::1"};
static const uint16_t ports[] = {30000, 30001, 30002, 31000};

static uint32_t
put16(uint8_t *p, uint32_t off, uint16_t v)
{
	p[off] = (uint8_t)(v >> 8);
	p[off + 1] = (uint8_t)v;
	return off + 2;
}

/* Ethernet with 0-2 tags; returns the L3 offset. */
static uint32_t
eth(uint8_t *f, uint16_t type)
{
	uint32_t off = 12, tags = rnd(4) == 0 ? 1 + rnd(2) : 0, i;

	memset(f, 2, 12);
	for (i = 0; i < tags; i++) {
		off = put16(f, off, i == 0 && tags == 2 ? 0x88a8 : 0x8100);
		off = put16(f, off, (uint16_t)(100 + i));
	}
	return put16(f, off, type);
}

/* UDP header and an RTP-ish payload (the peer's SSRC one time in four). */
static uint32_t
udp(uint8_t *f, uint32_t off, uint16_t sport, uint16_t dport)
{
	static const uint8_t first[] = {0x80, 0x81, 0x00, 0x17, 0x40, 0xc0};
	uint32_t ssrc = rnd(4) == 0 ? PEER_SSRC : rnd(UINT32_MAX);

	off = put16(f, off, sport);
	off = put16(f, off, dport);
	off = put16(f, off, 8 + 40);
	off = put16(f, off, 0);
	memset(f + off, 0, 40);
	f[off] = first[rnd(sizeof(first))];
	f[off + 1] = rnd(3) == 0 ? 200 : 0;
	for (int i = 0; i < 4; i++)
		f[off + (f[off + 1] == 200 ? 4 : 8) + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	return off + 40;
}

static uint32_t
frame_udp4(uint8_t *f)
{
	uint32_t l3 = eth(f, 0x0800);
	uint8_t *ip = f + l3;
	static const uint8_t protos[] = {17, 17, 17, 6, 1};

	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip, 2, 20 + 48);
	put16(ip, 6, rnd(6) == 0 ? 0x2001 : 0x4000);
	ip[8] = 64;
	ip[9] = protos[rnd(sizeof(protos))];
	inet_pton(AF_INET, src4[rnd(6)], ip + 12);
	inet_pton(AF_INET, rnd(6) == 0 ? "192.0.2.99" : "192.0.2.1", ip + 16);
	return udp(f, l3 + 20, rnd(8) == 0 ? 0 : (rnd(2) ? 5000 : 5002), ports[rnd(4)]);
}

static uint32_t
frame_udp6(uint8_t *f)
{
	uint32_t l3 = eth(f, 0x86dd);
	uint8_t *ip6 = f + l3;
	static const uint8_t next[] = {17, 17, 17, 44, 6, 0};

	memset(ip6, 0, 40);
	ip6[0] = 0x60;
	put16(ip6, 4, 48);
	ip6[6] = next[rnd(sizeof(next))];
	ip6[7] = 64;
	inet_pton(AF_INET6, src6[rnd(6)], ip6 + 8);
	inet_pton(AF_INET6, rnd(6) == 0 ? "2001:db8:a::99" : "2001:db8:a::1", ip6 + 24);
	return udp(f, l3 + 40, rnd(8) == 0 ? 0 : (rnd(2) ? 5000 : 5002), ports[rnd(4)]);
}

static uint32_t
frame_arp(uint8_t *f)
{
	uint32_t l3 = eth(f, 0x0806);

	memset(f + l3, 0, 28);
	put16(f, l3, 1);
	put16(f, l3 + 2, 0x0800);
	f[l3 + 4] = 6;
	f[l3 + 5] = 4;
	put16(f, l3 + 6, (uint16_t)(1 + rnd(2)));
	inet_pton(AF_INET, "192.0.2.10", f + l3 + 14);
	inet_pton(AF_INET, rnd(3) == 0 ? "192.0.2.99" : "192.0.2.1", f + l3 + 24);
	return l3 + 28;
}

static uint32_t
frame_nd(uint8_t *f)
{
	uint32_t l3 = eth(f, 0x86dd);
	uint8_t *ip6 = f + l3, *icmp = ip6 + 40;

	memset(ip6, 0, 40 + 32);
	ip6[0] = 0x60;
	put16(ip6, 4, 32);
	ip6[6] = 58;
	ip6[7] = 255;
	inet_pton(AF_INET6, "fe80::2", ip6 + 8);
	inet_pton(AF_INET6, rnd(2) ? "ff02::1:ff00:1" : "2001:db8:a::1", ip6 + 24);
	icmp[0] = (uint8_t)(135 + rnd(3));
	inet_pton(AF_INET6, rnd(3) == 0 ? "2001:db8:a::99" : "2001:db8:a::1", icmp + 8);
	return l3 + 40 + 32;
}

/* A frame to try: a template, mutated, or random bytes. */
static uint32_t
frame_make(uint8_t *f)
{
	uint32_t len, n, i, at;

	if (rnd(8) == 0) {
		len = rnd(FRAME_MAX);
		for (i = 0; i < len; i++)
			f[i] = (uint8_t)rnd(256);
		if (len >= 14 && rnd(2))
			put16(f, 12, rnd(2) ? 0x0800 : 0x86dd);
		return len;
	}
	switch (rnd(6)) {
	case 0: case 1: len = frame_udp4(f); break;
	case 2: case 3: len = frame_udp6(f); break;
	case 4: len = frame_arp(f); break;
	default: len = frame_nd(f); break;
	}
	for (n = rnd(4); n > 0; n--) {
		if (rnd(4) == 0) {
			len = rnd(len + 1);
			continue;
		}
		at = rnd(3) ? rnd(len < 80 ? len + 1 : 80) : rnd(len + 1);
		if (at < len)
			f[at] = (uint8_t)rnd(256);
	}
	return len;
}

/* ---- the comparison ---------------------------------------------- */

static uint64_t
count(uint32_t v)
{
	int ncpu = libbpf_num_possible_cpus();
	struct rtpb_pf_stat st[ncpu];
	uint64_t n = 0;

	if (bpf_map__lookup_elem(skel->maps.pf_stats, &v, sizeof(v), st, sizeof(st), 0) != 0)
		return UINT64_MAX;
	for (int i = 0; i < ncpu; i++)
		n += st[i].pkts;
	return n;
}

static int
setup(const char *pin_dir)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	/* 0 packets/s, depth 1: the budget does not depend on run time */
	struct rtpb_pf_cfg cfg = {.budget_pps = 0, .budget_burst = 1};
	uint32_t zero = 0;
	struct timespec ts;

	opts.pin_root_path = pin_dir;
	skel = prefilter__open_opts(&opts);
	if (skel == NULL || prefilter__load(skel) != 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	twin.first_fills = ts.tv_sec > 1001; /* bpf_ktime_get_ns(): this clock */
	if (ts.tv_sec > 1000 && ts.tv_sec < 1002)
		return -1; /* too close to call */
	return addr_add(4, "192.0.2.1") || addr_add(6, "2001:db8:a::1") ||
	       sock_add(4, "192.0.2.1", 30000, NULL, 0) ||
	       sock_add(4, "192.0.2.1", 30001, NULL, 0) ||
	       sock_add(4, "192.0.2.1", 30002, "198.51.100.20", 5000) ||
	       sock_add(6, "2001:db8:a::1", 30000, NULL, 0) ||
	       sock_add(6, "2001:db8:a::1", 30002, "2001:db8:b::20", 5000) ||
	       bpf_map__update_elem(skel->maps.pf_cfg, &zero, sizeof(zero), &cfg,
				    sizeof(cfg), BPF_ANY);
}

/* Run frame f in the kernel; 0 if it agrees with the twin. */
static int
compare(const uint8_t *f, uint32_t len, uint64_t *seen)
{
	uint8_t in[FRAME_MAX + 64] = {0}, out[FRAME_MAX + 64];
	uint32_t want = pf_twin_verdict(&twin, f, len), got = want, v;
	/* no AF_XDP socket here: a redirect falls back to XDP_PASS */
	int action = want >= RTPB_PF_DROP_TRUNCATED ? XDP_DROP : XDP_PASS;
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = in, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	memcpy(in, f, len);
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.pf_main), &topts) != 0) {
		/* the kernel refuses frames shorter than an Ethernet header */
		return len < 14 ? 0 : -1;
	}
	if (count(want) == seen[want] + 1 && (int)topts.retval == action) {
		seen[want]++;
		return 0;
	}
	for (v = 0; v < RTPB_PF_VERDICT__COUNT; v++) {
		uint64_t c = count(v);

		if (c != seen[v])
			got = v;
		seen[v] = c;
	}
	fprintf(stderr, "disagreement: twin %s (XDP %d), kernel %s (XDP %u); frame %u bytes:",
		rtpb_pf_verdict_text(want)->name, action, rtpb_pf_verdict_text(got)->name,
		topts.retval, len);
	for (v = 0; v < len; v++)
		fprintf(stderr, "%s%02x", v % 32 ? "" : "\n  ", f[v]);
	fprintf(stderr, "\n");
	return -1;
}

int
main(void)
{
	uint64_t seen[RTPB_PF_VERDICT__COUNT] = {0};
	const char *e = getenv("PF_DIFF_N");
	long n = e != NULL ? atol(e) : 50000, i, bad = 0;
	uint8_t f[FRAME_MAX + 64];
	char pin_dir[64];
	uint32_t len;

	if (geteuid() != 0) {
		fprintf(stderr, "test_bpf_pf_diff needs root; skipped\n");
		return 77;
	}
	if ((e = getenv("PF_DIFF_SEED")) != NULL)
		rng = strtoull(e, NULL, 0) | 1;
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/rtpb_diff_%d", (int)getpid());
	if (mkdir(pin_dir, 0700) != 0) {
		fprintf(stderr, "mkdir %s: %s (is bpffs mounted?)\n", pin_dir, strerror(errno));
		return 1;
	}
	if (setup(pin_dir) != 0) {
		fprintf(stderr, "prefilter setup failed: %s\n", strerror(errno));
		bad = 1;
		n = 0;
	}
	for (i = 0; i < n && bad < 10; i++) {
		len = frame_make(f);
		if (compare(f, len, seen) != 0)
			bad++;
	}
	for (uint32_t v = 0; v < RTPB_PF_VERDICT__COUNT; v++)
		printf("  %-20s %lu\n", rtpb_pf_verdict_text(v)->name, (unsigned long)seen[v]);
	printf("%ld frames, %ld disagreements\n", i, bad);
	if (skel != NULL) {
		bpf_object__unpin_maps(skel->obj, NULL);
		prefilter__destroy(skel);
	}
	rmdir(pin_dir);
	return bad != 0;
}
