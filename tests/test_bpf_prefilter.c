/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_bpf_prefilter.c: the XDP prefilter's verdict table (DESIGN.md §5),
 * run in the kernel with bpf_prog_test_run_opts(), as Katran's and
 * xdp-tools' tests do. Each case is a crafted frame, the XDP action the
 * program returns and the one pf_stats counter that must go up by one
 * (and no other). Needs root and bpffs on /sys/fs/bpf; the maps are
 * pinned under a private directory that the test removes.
 *
 * Redirect cases: with no AF_XDP socket in xsks_map (there is no NIC
 * queue here), bpf_redirect_map() returns its fallback XDP_PASS, so the
 * counter, not the return code, tells a redirect from a pass.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "rtpb_pf.h"
#include "pf_twin.h"
#include "prefilter.skel.h"

#define PEER_SSRC 0x11223344u /* SSRC of the latched peer of 192.0.2.1:30002 */

static struct prefilter *skel;
static char pin_dir[64];

/* ---- frames ------------------------------------------------------ */

struct frame {
	uint8_t b[256];
	uint32_t len;
};

static void
put(struct frame *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void
put16(struct frame *f, uint16_t v)
{
	v = htons(v);
	put(f, &v, 2);
}

static void
eth(struct frame *f, uint16_t type, int vlans)
{
	static const uint8_t dst[6] = {2, 0, 0, 0, 0, 1}, src[6] = {2, 0, 0, 0, 0, 2};

	f->len = 0;
	put(f, dst, 6);
	put(f, src, 6);
	for (int i = 0; i < vlans; i++) {
		put16(f, i == 0 && vlans == 2 ? 0x88a8 : 0x8100);
		put16(f, 100 + i);
	}
	put16(f, type);
}

/* IPv4 header (checksum left 0: the prefilter does not check it, the
 * dataplane does). */
static void
ip4(struct frame *f, const char *src, const char *dst, uint8_t proto,
    uint16_t paylen, uint8_t ihl, uint16_t frag)
{
	uint8_t h[20] = {0};
	uint32_t a;

	h[0] = (uint8_t)(0x40 | ihl);
	h[2] = (uint8_t)((20 + paylen) >> 8);
	h[3] = (uint8_t)(20 + paylen);
	h[6] = (uint8_t)(frag >> 8);
	h[7] = (uint8_t)frag;
	h[8] = 64;
	h[9] = proto;
	inet_pton(AF_INET, src, &a);
	memcpy(h + 12, &a, 4);
	inet_pton(AF_INET, dst, &a);
	memcpy(h + 16, &a, 4);
	put(f, h, 20);
}

static void
ip6(struct frame *f, const char *src, const char *dst, uint8_t next, uint16_t paylen)
{
	uint8_t h[40] = {0x60};

	h[4] = (uint8_t)(paylen >> 8);
	h[5] = (uint8_t)paylen;
	h[6] = next;
	h[7] = 255;
	inet_pton(AF_INET6, src, h + 8);
	inet_pton(AF_INET6, dst, h + 24);
	put(f, h, 40);
}

/* SSRC written into RTP payloads (bytes 8-11), host order. */
static uint32_t payload_ssrc = 0x0a0b0c0d;

static void
udp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t first, uint16_t paylen)
{
	uint8_t p[172] = {0};

	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + paylen));
	put16(f, 0);
	p[0] = first;
	p[1] = 0;
	p[8] = (uint8_t)(payload_ssrc >> 24);
	p[9] = (uint8_t)(payload_ssrc >> 16);
	p[10] = (uint8_t)(payload_ssrc >> 8);
	p[11] = (uint8_t)payload_ssrc;
	put(f, p, paylen);
}

/* RTP with the given SSRC: a frame built with payload_ssrc set. */
static struct frame u4(const char *src, uint16_t sport, const char *dst, uint16_t dport,
		       uint8_t first);

static struct frame
u4_ssrc(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint32_t ssrc)
{
	uint32_t keep = payload_ssrc;
	struct frame f;

	payload_ssrc = ssrc;
	f = u4(src, sport, dst, dport, 0x80);
	payload_ssrc = keep;
	return f;
}

/* UDP over IPv4: the common case of the table. */
static struct frame
u4(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t first)
{
	struct frame f;

	eth(&f, 0x0800, 0);
	ip4(&f, src, dst, 17, 8 + 172, 5, 0x4000 /* DF */);
	udp(&f, sport, dport, first, 172);
	return f;
}

static struct frame
u6(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t first)
{
	struct frame f;

	eth(&f, 0x86dd, 0);
	ip6(&f, src, dst, 17, 8 + 172);
	udp(&f, sport, dport, first, 172);
	return f;
}

static struct frame
arp(uint16_t op, const char *spa, const char *tpa)
{
	struct frame f;
	uint8_t h[28] = {0, 1, 8, 0, 6, 4};
	uint32_t a;

	eth(&f, 0x0806, 0);
	h[7] = (uint8_t)op;
	inet_pton(AF_INET, spa, &a);
	memcpy(h + 14, &a, 4);
	inet_pton(AF_INET, tpa, &a);
	memcpy(h + 24, &a, 4);
	put(&f, h, 28);
	return f;
}

/* ICMPv6 neighbour solicitation (135) or advertisement (136). */
static struct frame
nd(uint8_t type, const char *src, const char *dst, const char *target)
{
	struct frame f;
	uint8_t h[24] = {type};

	eth(&f, 0x86dd, 0);
	ip6(&f, src, dst, 58, 24);
	inet_pton(AF_INET6, target, h + 8);
	put(&f, h, 24);
	return f;
}

/* ---- maps -------------------------------------------------------- */

static void
addr_add(int family, const char *s)
{
	struct rtpb_pf_addr_key k = {.family = (uint8_t)family};
	uint32_t idx = 0;

	inet_pton(family == 4 ? AF_INET : AF_INET6, s, k.ip);
	assert_int_equal(bpf_map__update_elem(skel->maps.pf_addrs, &k, sizeof(k), &idx,
					      sizeof(idx), BPF_ANY), 0);
}

static void
sock_add(int family, const char *local, uint16_t port, const char *peer,
	 uint16_t peer_port)
{
	struct rtpb_pf_sock_key k;
	struct rtpb_pf_sock v;

	pf_sock_entry(family, local, port, peer, peer_port, PEER_SSRC, &k, &v);
	assert_int_equal(bpf_map__update_elem(skel->maps.pf_socks, &k, sizeof(k), &v,
					      sizeof(v), BPF_ANY), 0);
}

/* Sum of one verdict's packet counter over CPUs. */
static uint64_t
verdict_count(uint32_t v)
{
	int ncpu = libbpf_num_possible_cpus();
	struct rtpb_pf_stat st[ncpu];
	uint64_t n = 0;

	assert_int_equal(bpf_map__lookup_elem(skel->maps.pf_stats, &v, sizeof(v), st,
					      sizeof(st), 0), 0);
	for (int i = 0; i < ncpu; i++)
		n += st[i].pkts;
	return n;
}

/* ---- the table --------------------------------------------------- */

#define R4 "192.0.2.1"
#define R6 "2001:db8:a::1"
#define PA "192.0.2.10"
#define PB "198.51.100.20"
#define PB6 "2001:db8:b::20"
#define EVIL "203.0.113.66"
#define EVIL6 "2001:db8:e::66"

struct verdict_case {
	const char *what;
	struct frame f;
	int action;    /**< XDP_* the program returns */
	uint32_t verdict; /**< the counter that goes up by one */
};

static void
run_case(const struct verdict_case *c)
{
	uint8_t out[512];
	uint64_t before[RTPB_PF_VERDICT__COUNT];
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = c->f.b, .data_size_in = c->f.len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	for (uint32_t v = 0; v < RTPB_PF_VERDICT__COUNT; v++)
		before[v] = verdict_count(v);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.pf_main), &topts), 0);
	if ((int)topts.retval != c->action || verdict_count(c->verdict) != before[c->verdict] + 1)
		fail_msg("%s: action %u (want %d), %s +%lu (want +1)", c->what, topts.retval,
			 c->action, rtpb_pf_verdict_text(c->verdict)->name,
			 (unsigned long)(verdict_count(c->verdict) - before[c->verdict]));
	for (uint32_t v = 0; v < RTPB_PF_VERDICT__COUNT; v++)
		if (v != c->verdict && verdict_count(v) != before[v])
			fail_msg("%s: %s moved too", c->what, rtpb_pf_verdict_text(v)->name);
}

static void
test_verdicts(void **state)
{
	struct frame f;
	/* filled in order; frames that need editing are built below */
	struct verdict_case cases[128];
	int n = 0;

	(void)state;
#define CASE(w, fr, act, v) cases[n++] = (struct verdict_case){w, fr, act, RTPB_PF_##v}
	/* IPv4 UDP to a relay address */
	CASE("v4 RTP to a session", u4(PA, 4000, R4, 30000, 0x80), XDP_PASS, REDIRECT);
	CASE("v4 RTCP to a session", u4(PA, 4001, R4, 30001, 0x81), XDP_PASS, REDIRECT);
	CASE("v4 STUN (0)", u4(PA, 4000, R4, 30000, 0x00), XDP_PASS, REDIRECT);
	CASE("v4 STUN (3)", u4(PA, 4000, R4, 30000, 0x03), XDP_PASS, REDIRECT);
	CASE("v4 DTLS (22)", u4(PA, 4000, R4, 30000, 22), XDP_PASS, REDIRECT);
	CASE("v4 first byte 4", u4(PA, 4000, R4, 30000, 4), XDP_DROP, DROP_CLASS);
	CASE("v4 first byte 64 (RTP v1)", u4(PA, 4000, R4, 30000, 64), XDP_DROP, DROP_CLASS);
	CASE("v4 first byte 192 (RTP v3)", u4(PA, 4000, R4, 30000, 192), XDP_DROP, DROP_CLASS);
	CASE("v4 first byte 255", u4(PA, 4000, R4, 30000, 255), XDP_DROP, DROP_CLASS);
	CASE("v4 first byte 19", u4(PA, 4000, R4, 30000, 19), XDP_DROP, DROP_CLASS);
	CASE("v4 no session on the port", u4(PA, 4000, R4, 30004, 0x80), XDP_DROP, DROP_NO_SESSION);
	CASE("v4 no session, bad class too", u4(PA, 4000, R4, 30004, 7), XDP_DROP, DROP_NO_SESSION);
	CASE("v4 source 0.0.0.5", u4("0.0.0.5", 4000, R4, 30000, 0x80), XDP_DROP, DROP_BOGON);
	CASE("v4 source 127.0.0.1", u4("127.0.0.1", 4000, R4, 30000, 0x80), XDP_DROP, DROP_BOGON);
	CASE("v4 source multicast", u4("224.0.0.1", 4000, R4, 30000, 0x80), XDP_DROP, DROP_BOGON);
	CASE("v4 source 240/4", u4("240.0.0.1", 4000, R4, 30000, 0x80), XDP_DROP, DROP_BOGON);
	CASE("v4 source broadcast", u4("255.255.255.255", 4000, R4, 30000, 0x80), XDP_DROP,
	     DROP_BOGON);
	CASE("v4 source is the relay", u4(R4, 4000, R4, 30000, 0x80), XDP_DROP, DROP_BOGON);
	CASE("v4 source port 0", u4(PA, 0, R4, 30000, 0x80), XDP_DROP, DROP_BOGON);
	CASE("v4 bogon, no session too", u4("127.0.0.1", 4000, R4, 30004, 0x80), XDP_DROP,
	     DROP_BOGON);
	f = u4(PA, 4000, R4, 30000, 0x80);
	f.len = 14 + 20 + 4;
	CASE("v4 UDP header cut", f, XDP_DROP, DROP_TRUNCATED);
	f = u4(PA, 4000, R4, 30000, 0x80);
	f.len = 14 + 20 + 8;
	CASE("v4 empty UDP payload", f, XDP_DROP, DROP_CLASS);
	eth(&f, 0x0800, 0);
	ip4(&f, PA, R4, 17, 180, 4, 0);
	udp(&f, 4000, 30000, 0x80, 172);
	CASE("v4 IHL 4", f, XDP_DROP, DROP_TRUNCATED);
	eth(&f, 0x0800, 0);
	ip4(&f, PA, R4, 17, 180, 15, 0);
	f.len = 14 + 20 + 8;
	CASE("v4 IHL 15 past the end", f, XDP_DROP, DROP_TRUNCATED);
	eth(&f, 0x0800, 0);
	ip4(&f, PA, R4, 17, 180, 5, 0x2000);
	udp(&f, 4000, 30000, 0x80, 172);
	CASE("v4 first fragment (MF)", f, XDP_DROP, DROP_FRAGMENT);
	eth(&f, 0x0800, 0);
	ip4(&f, PA, R4, 17, 180, 5, 0x0010);
	udp(&f, 4000, 30000, 0x80, 172);
	CASE("v4 later fragment", f, XDP_DROP, DROP_FRAGMENT);
	eth(&f, 0x0800, 0);
	ip4(&f, PA, R4, 6, 40, 5, 0);
	udp(&f, 4000, 22, 0, 32);
	CASE("v4 TCP to the relay", f, XDP_PASS, PASS_OTHER);
	eth(&f, 0x0800, 0);
	ip4(&f, PA, R4, 1, 64, 5, 0);
	udp(&f, 0x0800, 0, 0, 56);
	CASE("v4 ICMP to the relay", f, XDP_PASS, PASS_OTHER);
	CASE("v4 UDP to another host", u4(PA, 4000, "192.0.2.99", 30000, 0x80), XDP_PASS, PASS);
	CASE("v4 SSH-like to another host", u4(PA, 50000, "192.0.2.2", 22, 0x53), XDP_PASS, PASS);
	f = u4(PA, 4000, R4, 30000, 0x80);
	f.len = 14 + 12;
	CASE("v4 header cut", f, XDP_PASS, PASS);
	eth(&f, 0x0800, 1);
	ip4(&f, PA, R4, 17, 180, 5, 0);
	udp(&f, 4000, 30000, 0x80, 172);
	CASE("v4 RTP in 802.1Q", f, XDP_PASS, REDIRECT);
	eth(&f, 0x0800, 2);
	ip4(&f, PA, R4, 17, 180, 5, 0);
	udp(&f, 4000, 30000, 0x80, 172);
	CASE("v4 RTP in QinQ", f, XDP_PASS, REDIRECT);
	eth(&f, 0x0800, 2);
	ip4(&f, PA, R4, 17, 180, 5, 0);
	udp(&f, 4000, 30004, 0x80, 172);
	CASE("v4 QinQ, no session", f, XDP_DROP, DROP_NO_SESSION);
	/* latched stream 30002 <- PB:5000 */
	CASE("v4 latched, from the peer", u4(PB, 5000, R4, 30002, 0x80), XDP_PASS, REDIRECT);
	for (int i = 0; i < RTPB_PF_BUDGET_BURST; i++)
		CASE("v4 latched, other source in budget", u4(EVIL, 5000, R4, 30002, 0x80),
		     XDP_PASS, REDIRECT_CANDIDATE);
	CASE("v4 latched, other source over budget", u4(EVIL, 5000, R4, 30002, 0x80), XDP_DROP,
	     DROP_BUDGET);
	CASE("v4 latched, peer's host, other port", u4(PB, 5002, R4, 30002, 0x80), XDP_DROP,
	     DROP_BUDGET);
	CASE("v4 latched, over budget but the peer's SSRC (a move)",
	     u4_ssrc("192.0.2.11", 4002, R4, 30002, PEER_SSRC), XDP_PASS, REDIRECT_SSRC);
	CASE("v4 latched, over budget, another SSRC", u4_ssrc("192.0.2.11", 4002, R4, 30002,
							      PEER_SSRC + 1), XDP_DROP, DROP_BUDGET);
	f = u4_ssrc("192.0.2.11", 4002, R4, 30002, PEER_SSRC);
	f.len = 14 + 20 + 8 + 11;
	CASE("v4 latched, the peer's SSRC cut short", f, XDP_DROP, DROP_BUDGET);
	CASE("v4 latched, from the peer again", u4(PB, 5000, R4, 30002, 0x80), XDP_PASS, REDIRECT);
	/* ARP */
	CASE("ARP request for the relay", arp(1, PA, R4), XDP_PASS, REDIRECT_ARP);
	CASE("ARP reply to the relay", arp(2, "192.0.2.254", R4), XDP_PASS, REDIRECT_ARP);
	CASE("ARP request for another host", arp(1, PA, "192.0.2.99"), XDP_PASS, PASS);
	f = arp(1, PA, R4);
	f.len = 14 + 20;
	CASE("ARP cut", f, XDP_PASS, PASS);
	eth(&f, 0x88cc, 0);
	put(&f, "lldp-ish frame....", 18);
	CASE("LLDP", f, XDP_PASS, PASS);
	/* IPv6 */
	CASE("v6 RTP to a session", u6(PB6, 5000, R6, 30000, 0x80), XDP_PASS, REDIRECT);
	CASE("v6 DTLS", u6(PB6, 5000, R6, 30000, 23), XDP_PASS, REDIRECT);
	CASE("v6 first byte 100", u6(PB6, 5000, R6, 30000, 100), XDP_DROP, DROP_CLASS);
	CASE("v6 no session", u6(PB6, 5000, R6, 31000, 0x80), XDP_DROP, DROP_NO_SESSION);
	CASE("v6 source ::", u6("::", 5000, R6, 30000, 0x80), XDP_DROP, DROP_BOGON);
	CASE("v6 source ::1", u6("::1", 5000, R6, 30000, 0x80), XDP_DROP, DROP_BOGON);
	CASE("v6 source multicast", u6("ff02::1", 5000, R6, 30000, 0x80), XDP_DROP, DROP_BOGON);
	CASE("v6 source is the relay", u6(R6, 5000, R6, 30000, 0x80), XDP_DROP, DROP_BOGON);
	CASE("v6 source port 0", u6(PB6, 0, R6, 30000, 0x80), XDP_DROP, DROP_BOGON);
	f = u6(PB6, 5000, R6, 30000, 0x80);
	f.len = 14 + 40 + 6;
	CASE("v6 UDP header cut", f, XDP_DROP, DROP_TRUNCATED);
	eth(&f, 0x86dd, 0);
	ip6(&f, PB6, R6, 44, 8 + 8 + 172);
	put(&f, (uint8_t[8]){17, 0, 0, 1}, 8);
	udp(&f, 5000, 30000, 0x80, 172);
	CASE("v6 fragment header", f, XDP_DROP, DROP_FRAGMENT);
	eth(&f, 0x86dd, 0);
	ip6(&f, PB6, R6, 6, 40);
	udp(&f, 5000, 22, 0, 32);
	CASE("v6 TCP to the relay", f, XDP_PASS, PASS_OTHER);
	CASE("v6 UDP to another host", u6(PB6, 5000, "2001:db8:a::99", 30000, 0x80), XDP_PASS,
	     PASS);
	f = u6(PB6, 5000, R6, 30000, 0x80);
	f.len = 14 + 30;
	CASE("v6 header cut", f, XDP_PASS, PASS);
	CASE("v6 latched, from the peer", u6(PB6, 5000, R6, 30002, 0x80), XDP_PASS, REDIRECT);
	CASE("v6 latched, other source", u6(EVIL6, 5000, R6, 30002, 0x80), XDP_PASS,
	     REDIRECT_CANDIDATE);
	CASE("NS for the relay (solicited-node)", nd(135, "fe80::2", "ff02::1:ff00:1", R6),
	     XDP_PASS, REDIRECT_ND);
	CASE("NA to the relay", nd(136, "2001:db8:a::fe", R6, "2001:db8:a::fe"), XDP_PASS,
	     REDIRECT_ND);
	CASE("NS for another host", nd(135, "fe80::2", "ff02::1:ff00:99", "2001:db8:a::99"),
	     XDP_PASS, PASS);
	f = nd(135, "fe80::2", "ff02::1:ff00:1", R6);
	f.len -= 8;
	CASE("NS cut before the target", f, XDP_PASS, PASS);
#undef CASE
	assert_true(n >= 40);
	assert_true(n <= (int)(sizeof(cases) / sizeof(cases[0])));
	for (int i = 0; i < n; i++)
		run_case(&cases[i]);
	printf("%d verdict cases\n", n);
}

static int
setup(void **state)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct rtpb_pf_cfg cfg = {.budget_pps = 1, .budget_burst = RTPB_PF_BUDGET_BURST};
	uint32_t zero = 0;

	(void)state;
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/rtpb_test_%d", (int)getpid());
	if (mkdir(pin_dir, 0700) != 0) {
		fprintf(stderr, "mkdir %s: %s (is bpffs mounted?)\n", pin_dir, strerror(errno));
		return -1;
	}
	opts.pin_root_path = pin_dir;
	skel = prefilter__open_opts(&opts);
	if (skel == NULL || prefilter__load(skel) != 0) {
		fprintf(stderr, "prefilter: open/load failed: %s\n", strerror(errno));
		return -1;
	}
	addr_add(4, R4);
	addr_add(6, R6);
	sock_add(4, R4, 30000, NULL, 0);
	sock_add(4, R4, 30001, NULL, 0);
	sock_add(4, R4, 30002, PB, 5000);
	sock_add(6, R6, 30000, NULL, 0);
	sock_add(6, R6, 30002, PB6, 5000);
	/* 1 packet/s: the budget test does not depend on how fast it runs */
	assert_int_equal(bpf_map__update_elem(skel->maps.pf_cfg, &zero, sizeof(zero), &cfg,
					      sizeof(cfg), BPF_ANY), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (skel != NULL) {
		bpf_object__unpin_maps(skel->obj, NULL);
		prefilter__destroy(skel);
	}
	rmdir(pin_dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_bpf_prefilter needs root; skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
