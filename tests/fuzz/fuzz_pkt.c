/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_pkt.c: libFuzzer target over the dataplane's packet path (issue
 * 16 item 8): dp_parse, dp_latch (RTP, RTCP and its SDES CNAME), the
 * rewrite re-parsed, ARP and NDP.
 *
 * An input is one configuration byte, then records of one frame each:
 *
 *   byte 0       the stream table's setup (fuzz_pkt_latch.c: modes,
 *                thresholds, the clock's start, what leg A signalled)
 *   per record:  sel, dt, len (2 bytes, big-endian), len bytes of frame
 *                (fewer if the input ends first; at most 2048 are kept,
 *                what an mbuf of the dataplane's pool holds)
 *     sel bits 0-1  the stream (0..3) a UDP frame arrived on; for ARP
 *                   and NDP bit 0: the known neighbours are resolved
 *         bits 2-3  the PMD's IPv4 checksum flag: GOOD, UNKNOWN, BAD,
 *                   NONE
 *         bits 4-5  a signalling event on the stream first (0 none,
 *                   1 re-offer with the frame's source, 2 re-offer
 *                   with none, 3 a replay restoring it as the peer)
 *         bits 6-7  where the rewrite sends it: 0 the out stream's peer
 *                   (else a fixed peer), 1 a fixed IPv4 peer, 2 a fixed
 *                   IPv6 peer, 3 back to its source
 *     dt            the clock moves first: dt ms below 128, else
 *                   (dt - 127) * 256 ms
 *
 * So the state of the streams carries from one frame to the next of an
 * input (probation needs ten packets at media pace), and is rebuilt
 * for every input: a crash reproduces from its input alone.
 *
 * Each frame sits in a buffer of its exact length between a headroom
 * and a tailroom that ASan poisons while nothing may touch them (parse,
 * latch); the rewrite may prepend into the headroom, an NA may grow
 * into the tailroom. A read past the frame is an ASan report.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "fuzz_pkt.h"

#define HEADROOM RTE_PKTMBUF_HEADROOM
#define TAILROOM 64
#define FRAME_MAX 2048   /* RTE_MBUF_DEFAULT_DATAROOM */
#define RECORDS_MAX 64   /* frames per input */
#define REC_HDR 4

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int fuzz_pkt_trace;

void
fuzz_pkt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_pkt: invariant broken (%s:%d): ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

int
fuzz_addr_ok(const struct rtpb_addr *a)
{
	static const uint8_t zero[12];

	if (a->reserved != 0)
		return 0;
	if (a->family == RTPB_AF_INET)
		return memcmp(a->ip + 4, zero, sizeof(zero)) == 0;
	return a->family == RTPB_AF_NONE || a->family == RTPB_AF_INET6;
}

int
fuzz_udp_csum_ok(const struct rte_mbuf *m, const struct dp_pkt_meta *pm)
{
	const struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m,
		const struct rte_udp_hdr *, pm->l4_off);
	uint16_t ulen = rte_be_to_cpu_16(udp->dgram_len);
	uint32_t alen = pm->src.family == RTPB_AF_INET6 ? 16 : 4;
	uint32_t sum;

	if (udp->dgram_cksum == 0)
		return 0;
	/* pseudo-header words as they lie in memory, like the datagram */
	sum = rte_raw_cksum(pm->src.ip, alen) + rte_raw_cksum(pm->dst.ip, alen) +
	      rte_cpu_to_be_16(IPPROTO_UDP) + udp->dgram_len;
	sum += rte_raw_cksum(udp, ulen);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

void
fuzz_check_meta(const struct rte_mbuf *m, const struct dp_pkt_meta *pm,
		enum dp_pkt_kind kind)
{
	uint32_t len = rte_pktmbuf_data_len(m), l3 = pm->l3_off, l4 = pm->l4_off;

	FUZZ_CHECK(kind == pm->kind, "returned kind %d, meta says %d", kind, pm->kind);
	if (kind == DP_PKT_DROP) {
		/* 0 is RTPB_DROP_NONE: the worker would take the frame on */
		FUZZ_CHECK(pm->drop > RTPB_DROP_NONE && pm->drop < RTPB_DROP__COUNT,
			   "drop reason %u", pm->drop);
		return;
	}
	FUZZ_CHECK(kind == DP_PKT_UDP || kind == DP_PKT_ARP || kind == DP_PKT_ND,
		   "kind %d", kind);
	/* Ethernet and up to two tags */
	FUZZ_CHECK(l3 >= 14 && l3 <= 22 && (l3 - 14) % 4 == 0, "l3_off %u", l3);
	if (kind == DP_PKT_ARP) {
		FUZZ_CHECK(l3 + sizeof(struct rte_arp_hdr) <= len, "ARP past the frame");
		return;
	}
	FUZZ_CHECK(fuzz_addr_ok(&pm->src) && fuzz_addr_ok(&pm->dst) &&
		   pm->src.family == pm->dst.family && pm->src.family != RTPB_AF_NONE,
		   "addresses (families %u %u)", pm->src.family, pm->dst.family);
	if (pm->src.family == RTPB_AF_INET6)
		FUZZ_CHECK(l4 == l3 + 40, "IPv6 l4_off %u l3_off %u", l4, l3);
	else
		FUZZ_CHECK(l4 >= l3 + 20 && l4 <= l3 + 60 && kind == DP_PKT_UDP,
			   "IPv4 l4_off %u l3_off %u", l4, l3);
	if (kind == DP_PKT_ND) {
		FUZZ_CHECK(pm->payload_len >= DP_ND_MIN_LEN && l4 + pm->payload_len <= len &&
			   pm->src.port == 0 && pm->dst.port == 0,
			   "ND: %u bytes at %u of %u", pm->payload_len, l4, len);
		return;
	}
	FUZZ_CHECK(l4 + sizeof(struct rte_udp_hdr) + pm->payload_len <= len,
		   "UDP: %u bytes at %u of %u", pm->payload_len, l4, len);
}

void
fuzz_relay_addr(uint8_t family, uint16_t port, struct rtpb_addr *out)
{
	/* 192.0.2.1 and 2001:db8:a::1, as fuzz_slow_init() serves them */
	static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, [15] = 1};

	if (family == RTPB_AF_INET) {
		rtpb_addr_set_v4(out, RTE_BE32(0xc0000201), port);
		return;
	}
	memset(out, 0, sizeof(*out));
	out->family = RTPB_AF_INET6;
	out->port = port;
	memcpy(out->ip, ip6, 16);
}

/* A fixed peer of a family: 203.0.113.30:7000 or [2001:db8:c::30]:7000. */
static void
fixed_peer(uint8_t family, struct rtpb_addr *out)
{
	static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0c, [15] = 0x30};

	if (family == RTPB_AF_INET) {
		rtpb_addr_set_v4(out, RTE_BE32(0xcb00711e), RTE_BE16(7000));
		return;
	}
	memset(out, 0, sizeof(*out));
	out->family = RTPB_AF_INET6;
	out->port = RTE_BE16(7000);
	memcpy(out->ip, ip6, 16);
}

/* One frame in its own buffer, headroom and tailroom poisoned. */
struct frame {
	struct rte_mbuf m;
	uint8_t *buf;
};

static void
frame_open(struct frame *f, const uint8_t *data, uint16_t len, uint64_t ol)
{
	f->buf = malloc(HEADROOM + len + TAILROOM);
	FUZZ_CHECK(f->buf != NULL, "malloc");
	memcpy(f->buf + HEADROOM, data, len);
	memset(&f->m, 0, sizeof(f->m));
	f->m.buf_addr = f->buf;
	f->m.buf_len = HEADROOM + len + TAILROOM;
	f->m.data_off = HEADROOM;
	f->m.data_len = len;
	f->m.pkt_len = len;
	f->m.nb_segs = 1;
	f->m.ol_flags = ol;
	rte_mbuf_refcnt_set(&f->m, 1);
	ASAN_POISON_MEMORY_REGION(f->buf, HEADROOM);
	ASAN_POISON_MEMORY_REGION(f->buf + HEADROOM + len, TAILROOM);
}

static void
frame_close(struct frame *f)
{
	ASAN_UNPOISON_MEMORY_REGION(f->buf, f->m.buf_len);
	free(f->buf);
}

/* The rewrite of a UDP frame, to where sel bits 6-7 say. */
static void
relay(struct fuzz_latch *l, struct frame *f, const struct dp_pkt_meta *pm,
      uint32_t id, uint8_t sel)
{
	struct rtpb_addr from, to;

	switch (sel >> 6) {
	case 0:
		if (fuzz_latch_route(l, id, &from, &to))
			break;
		/* fall through: no destination known, a fixed one */
	case 1:
	case 2:
		fixed_peer((sel >> 6) == 2 ? RTPB_AF_INET6 :
			   (sel >> 6) == 1 ? RTPB_AF_INET : pm->src.family, &to);
		fuzz_relay_addr(to.family, RTE_BE16(35000), &from);
		break;
	default:
		to = pm->src;
		fuzz_relay_addr(to.family, pm->dst.port, &from);
	}
	/* the rewrite may prepend (bridging to IPv6) */
	ASAN_UNPOISON_MEMORY_REGION(f->buf, HEADROOM);
	fuzz_rewrite(&f->m, pm, &from, &to);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_pkt_trace = getenv("FUZZ_PKT_TRACE") != NULL;
	fuzz_slow_init();
	return 0;
}

/* dp_parse_burst() (what the workers run: a short path for untagged
 * IPv4/UDP, the general parser otherwise) must agree with dp_parse_pkt()
 * on every frame: the same kind, and for UDP the same offsets, lengths,
 * checksum state and addresses; for a drop, the same reason. */
static void
check_parse_burst(struct rte_mbuf *m, const struct dp_pkt_meta *want)
{
	struct dp_pkt_meta got;
	struct rte_mbuf *one[1] = {m};

	memset(&got, 0x5a, sizeof(got));
	FUZZ_CHECK(dp_parse_burst(one, 1, &got) == rte_pktmbuf_pkt_len(m),
		   "dp_parse_burst: bytes are not the frame's length");
	FUZZ_CHECK(got.kind == want->kind, "dp_parse_burst: kind %u, dp_parse_pkt %u",
		   got.kind, want->kind);
	if (want->kind == DP_PKT_DROP)
		FUZZ_CHECK(got.drop == want->drop, "dp_parse_burst: drop %u, dp_parse_pkt %u",
			   got.drop, want->drop);
	if (want->kind != DP_PKT_UDP)
		return;
	FUZZ_CHECK(got.l3_off == want->l3_off && got.l4_off == want->l4_off &&
		   got.payload_len == want->payload_len &&
		   got.l3_unverified == want->l3_unverified &&
		   memcmp(&got.src, &want->src, sizeof(got.src)) == 0 &&
		   memcmp(&got.dst, &want->dst, sizeof(got.dst)) == 0,
		   "dp_parse_burst and dp_parse_pkt disagree on a UDP frame");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t ol[4] = {
		RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN,
		RTE_MBUF_F_RX_IP_CKSUM_BAD, RTE_MBUF_F_RX_IP_CKSUM_NONE};
	struct fuzz_latch *l;
	struct dp_pkt_meta pm;
	enum dp_pkt_kind kind;
	struct frame f;
	size_t off = 1, len;
	uint8_t sel;
	int n;

	if (size < 1)
		return 0;
	l = fuzz_latch_reset(data[0]);
	for (n = 0; n < RECORDS_MAX && off + REC_HDR <= size; n++) {
		sel = data[off];
		fuzz_latch_step(l, data[off + 1]);
		len = (size_t)data[off + 2] << 8 | data[off + 3];
		off += REC_HDR;
		if (len > size - off)
			len = size - off;
		frame_open(&f, data + off, (uint16_t)RTE_MIN(len, (size_t)FRAME_MAX),
			   ol[(sel >> 2) & 3]);
		off += len;

		memset(&pm, 0xa5, sizeof(pm)); /* what parse leaves unset shows */
		kind = dp_parse_pkt(&f.m, &pm);
		fuzz_check_meta(&f.m, &pm, kind);
		check_parse_burst(&f.m, &pm);
		if (kind == DP_PKT_UDP) {
			fuzz_latch_signal(l, sel & 3, (sel >> 4) & 3, &pm.src);
			fuzz_latch_frame(l, sel & 3, &f.m, &pm);
			relay(l, &f, &pm, sel & 3, sel);
		} else if (kind == DP_PKT_ARP || kind == DP_PKT_ND) {
			ASAN_UNPOISON_MEMORY_REGION(f.buf + HEADROOM + f.m.data_len, TAILROOM);
			fuzz_slow_frame(&f.m, &pm, sel, fuzz_latch_now(l));
		}
		frame_close(&f);
	}
	return 0;
}
