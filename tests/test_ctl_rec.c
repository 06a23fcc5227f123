/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_rec: the recorder's writer (control/ctl_rec.c): mirror records
 * in, rtpproxy's recording files out, in a temp dir. pcap files are read
 * back with libpcap (every header field, both checksums) and, when tshark
 * is installed, by tshark; adhoc files field by field; the spool to record
 * move at stop; hostile call-ids; write errors (a vanished spool, a file
 * size limit); the ring-element drain; and a real mirror ring between a
 * producer thread (dp_mirror.h, the worker's copy) and the drain
 * (ctl_rec_ring.c), with the copy's cost measured.
 */
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <pcap/pcap.h>
#include <pthread.h>

#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ctl_rec.h"
#include "ctl_rec_ring.h"
#include "dp_mirror.h"
#include "rtpb_mirror.h"

#define CALLID "c1@192.0.2.10"
#define TAG "ft1"
#define PORT_A 40000 /* relay port the answerer (to-tag) sends to */
#define PORT_O 40002 /* relay port the originator (from-tag) sends to */

static char root[64], recdir[128], spooldir[128];

/* One record and room for its payload, aligned as a ring element. */
struct rec_buf {
	struct rtpb_mirror_rec r;
	uint8_t data[RTPB_MIRROR_SNAPLEN];
} __attribute__((aligned(64)));

/* An address of family RTPB_AF_INET or RTPB_AF_INET6 from text. */
static void
addr(struct rtpb_addr *a, uint8_t family, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	a->port = htons(port);
	assert_int_equal(inet_pton(family == RTPB_AF_INET ? AF_INET : AF_INET6,
				   ip, a->ip), 1);
}

/*
 * A copy of an RTP packet (12-byte header, seq, then len - 12 bytes of a
 * pattern) or, for RTCP, an RR-shaped payload of len bytes; ts_ns grows
 * 20 ms per seq. The party decides the addresses: A (phone
 * 198.51.100.7:5004) to PORT_A, O (phone 203.0.113.9:6000) to PORT_O.
 */
static void
mk(struct rec_buf *b, uint32_t id, enum rtpb_mirror_dir dir,
   enum rtpb_mirror_kind kind, uint16_t seq, uint16_t len)
{
	memset(b, 0, sizeof(*b));
	b->r.ts_ns = 1790000000ull * 1000000000ull + seq * 20000000ull + 1234;
	b->r.rec_id = id;
	b->r.dir = dir;
	b->r.kind = kind;
	b->r.orig_len = len;
	b->r.cap_len = len > RTPB_MIRROR_SNAPLEN ? RTPB_MIRROR_SNAPLEN : len;
	if (dir == RTPB_MIRROR_DIR_A) {
		addr(&b->r.src, RTPB_AF_INET, "198.51.100.7", 5004 + kind);
		addr(&b->r.dst, RTPB_AF_INET, "192.0.2.1", PORT_A + kind);
	} else {
		addr(&b->r.src, RTPB_AF_INET, "203.0.113.9", 6000 + kind);
		addr(&b->r.dst, RTPB_AF_INET, "192.0.2.1", PORT_O + kind);
	}
	for (uint16_t i = 0; i < b->r.cap_len; i++)
		b->data[i] = (uint8_t)(i * 7 + seq + dir);
	if (kind == RTPB_MIRROR_RTP) {
		b->data[0] = 0x80;
		b->data[1] = 0;
		b->data[2] = (uint8_t)(seq >> 8);
		b->data[3] = (uint8_t)seq;
	} else {
		b->data[0] = 0x80;
		b->data[1] = 201; /* RR */
	}
}

static unsigned int
feed(struct ctl_rec *rec, uint32_t id, enum rtpb_mirror_dir dir,
     enum rtpb_mirror_kind kind, uint16_t seq0, unsigned int n, uint16_t len)
{
	static struct rec_buf b[8];
	const struct rtpb_mirror_rec *p[8];
	unsigned int done = 0, i, k;

	for (i = 0; i < n; i += k) {
		for (k = 0; k < 8 && i + k < n; k++) {
			mk(&b[k], id, dir, kind, (uint16_t)(seq0 + i + k), len);
			p[k] = &b[k].r;
		}
		done += ctl_rec_drain(rec, p, k);
	}
	return done;
}

static bool
exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static unsigned int
count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.' || (e->d_name[1] != '\0' &&
					     strcmp(e->d_name, "..") != 0);
	closedir(d);
	return n;
}

static void
rm_dir_files(const char *dir)
{
	char cmd[PATH_MAX];

	snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 -delete", dir);
	assert_int_equal(system(cmd), 0);
}

static int
setup(void **state)
{
	(void)state;
	umask(022); /* the mode check below: 0640 as created */
	snprintf(root, sizeof(root), "/tmp/test_ctl_rec.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(recdir, sizeof(recdir), "%s/rec", root);
	snprintf(spooldir, sizeof(spooldir), "%s/spool", root);
	assert_int_equal(mkdir(recdir, 0700), 0);
	assert_int_equal(mkdir(spooldir, 0700), 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static int
each_clean(void **state)
{
	(void)state;
	rm_dir_files(recdir);
	rm_dir_files(spooldir);
	return 0;
}

/* Ones' complement sum check of a header (RFC 1071): 0xffff when valid. */
static uint16_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * Read a pcap file back with libpcap; check every frame against what mk()
 * made (addresses, ports, lengths, checksums, payload); count frames per
 * (dir, kind) into n[2][2].
 */
static void
check_pcap(const char *path, unsigned int n[2][2])
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct pcap_pkthdr *ph;
	const u_char *f;

	memset(n, 0, sizeof(unsigned int) * 4);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	assert_int_equal(pcap_snapshot(p), 65535);
	while (pcap_next_ex(p, &ph, &f) == 1) {
		struct rec_buf b;
		const u_char *ip = f + 14, *udp = ip + 20;
		uint16_t sport, dport, seq, ulen;
		unsigned int dir, kind;

		assert_true(ph->caplen >= 42);
		assert_int_equal(f[12], 0x08); /* IPv4 */
		assert_int_equal(f[13], 0x00);
		/* MACs from the IPs (rtpproxy fake_ether_addr()) */
		assert_int_equal(f[0], 0);
		assert_int_equal(f[1], 0);
		assert_memory_equal(f + 2, ip + 16, 4);
		assert_memory_equal(f + 8, ip + 12, 4);
		assert_int_equal(ip[0], 0x45);
		assert_int_equal(ip[8], 127);
		assert_int_equal(ip[9], 17);
		assert_int_equal(sum16(ip, 20, 0), 0xffff);
		sport = (uint16_t)(udp[0] << 8 | udp[1]);
		dport = (uint16_t)(udp[2] << 8 | udp[3]);
		ulen = (uint16_t)(udp[4] << 8 | udp[5]);
		dir = sport >= 6000 ? RTPB_MIRROR_DIR_O : RTPB_MIRROR_DIR_A;
		kind = sport & 1;
		assert_int_equal(dport, (dir ? PORT_O : PORT_A) + kind);
		assert_int_equal(ph->len, 14 + 20 + ulen);
		assert_int_equal((ip[2] << 8 | ip[3]), 20 + ulen);
		seq = kind == 0 && ulen >= 20 ? (uint16_t)(udp[10] << 8 | udp[11]) : 0;
		if (kind == 0 && ulen >= 20) {
			mk(&b, 1, dir, kind, seq, (uint16_t)(ulen - 8));
			assert_memory_equal(udp + 8, b.data, ph->caplen - 42);
		}
		if (ph->caplen == ph->len) {
			/* the UDP checksum over the pseudo-header verifies */
			uint32_t s = (uint32_t)17 + ulen;

			s += sum16(ip + 12, 8, 0);
			assert_int_equal(sum16(udp, ulen, s), 0xffff);
			/* and the timestamp is mk()'s, to the microsecond */
			if (kind == 0 && ulen >= 20) {
				assert_int_equal(ph->ts.tv_sec, 1790000000 + seq / 50);
				assert_int_equal(ph->ts.tv_usec, (seq % 50) * 20000 + 1);
			}
		}
		n[dir][kind]++;
	}
	pcap_close(p);
}

/*
 * tshark's view: "udp.srcport rtp.seq" per frame, RTP decoded on the
 * relay ports, IP and UDP checksums verified by tshark. Returns the
 * frames it printed, or -1 when no tshark. Checks each line's source port
 * and that the sequence numbers of each party (from 100 for A, 300 for O)
 * only go up.
 */
static int
tshark_frames(const char *path, unsigned int per_dir[2])
{
	char cmd[PATH_MAX + 256], line[128];
	unsigned int next[2] = {100, 300};
	FILE *p;
	int n = 0;

	if (system("command -v tshark >/dev/null 2>&1") != 0)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r '%s' -d udp.port==%u,rtp -d udp.port==%u,rtp "
		 "-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "
		 "-T fields -e udp.srcport -e rtp.seq -e ip.checksum.status "
		 "-e udp.checksum.status -Y rtp 2>/dev/null",
		 path, PORT_A, PORT_O);
	p = popen(cmd, "r");
	assert_non_null(p);
	per_dir[0] = per_dir[1] = 0;
	while (fgets(line, sizeof(line), p) != NULL) {
		unsigned int sport, seq, d, ipsum, udpsum;

		/* checksum status 1: tshark verified it good */
		assert_int_equal(sscanf(line, "%u %u %u %u", &sport, &seq, &ipsum,
					&udpsum), 4);
		assert_int_equal(ipsum, 1);
		/* 3, "not present": a cut packet's 0 (no checksum) */
		assert_true(udpsum == 1 || udpsum == 3);
		assert_true(sport == 5004 || sport == 6000);
		d = sport == 6000;
		assert_true(seq >= next[d]); /* in order, none twice */
		next[d] = seq + 1;
		per_dir[d]++;
		n++;
	}
	assert_int_equal(pclose(p), 0);
	print_message("tshark read %d RTP frames of %s\n", n, path);
	return n;
}

/* R under -P -S: one file per party and kind, in the spool until stop. */
static void
test_pcap_files_spool(void **state)
{
	struct ctl_rec_conf c = {.record_dir = recdir, .spool_dir = spooldir,
				 .pcap = true};
	struct ctl_rec *rec = ctl_rec_create(&c);
	char path[PATH_MAX];
	unsigned int n[2][2], td[2];
	struct ctl_rec_stats st;

	(void)state;
	assert_non_null(rec);
	assert_int_equal(ctl_rec_start(rec, 10, CALLID, TAG, NULL, 0), 0);
	assert_int_equal(ctl_rec_start(rec, 11, CALLID, TAG, NULL, CTL_REC_ORIG), 0);
	assert_int_equal(ctl_rec_start(rec, 11, CALLID, TAG, NULL, 0), -EEXIST);
	assert_true(exists(spooldir, CALLID "=" TAG ".a.rtp"));
	assert_true(exists(spooldir, CALLID "=" TAG ".a.rtcp"));
	assert_true(exists(spooldir, CALLID "=" TAG ".o.rtp"));
	assert_true(exists(spooldir, CALLID "=" TAG ".o.rtcp"));
	assert_int_equal(count_dir(recdir), 0);
	assert_int_equal(feed(rec, 10, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTP, 100, 302, 172), 302);
	assert_int_equal(feed(rec, 11, RTPB_MIRROR_DIR_O, RTPB_MIRROR_RTP, 300, 300, 172), 300);
	assert_int_equal(feed(rec, 10, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTCP, 0, 7, 52), 7);
	assert_int_equal(feed(rec, 11, RTPB_MIRROR_DIR_O, RTPB_MIRROR_RTCP, 0, 5, 52), 5);
	/* copies of a recording nobody started are counted, not written */
	assert_int_equal(feed(rec, 99, RTPB_MIRROR_DIR_O, RTPB_MIRROR_RTP, 0, 3, 172), 0);
	assert_int_equal(ctl_rec_stop(rec, 10), 0);
	assert_int_equal(ctl_rec_stop(rec, 10), -ENOENT);
	assert_false(exists(spooldir, CALLID "=" TAG ".a.rtp"));
	assert_true(exists(recdir, CALLID "=" TAG ".a.rtp"));
	assert_true(exists(spooldir, CALLID "=" TAG ".o.rtp"));
	assert_int_equal(feed(rec, 10, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTP, 0, 2, 172), 0);
	ctl_rec_stats(rec, &st);
	assert_int_equal(st.written, 302 + 300 + 7 + 5);
	assert_int_equal(st.unknown, 3 + 2);
	assert_int_equal(st.recordings, 1);
	assert_int_equal(st.files, 2);
	ctl_rec_destroy(rec); /* stops 11 */
	assert_int_equal(count_dir(spooldir), 0);
	assert_int_equal(count_dir(recdir), 4);
	{
		struct stat fst;

		snprintf(path, sizeof(path), "%s/%s", recdir, CALLID "=" TAG ".o.rtp");
		assert_int_equal(stat(path, &fst), 0);
		assert_int_equal(fst.st_mode & 0777, 0640); /* call audio: not world-readable */
	}

	snprintf(path, sizeof(path), "%s/%s", recdir, CALLID "=" TAG ".a.rtp");
	check_pcap(path, n);
	assert_int_equal(n[0][0], 302);
	assert_int_equal(n[0][1] + n[1][0] + n[1][1], 0);
	if (tshark_frames(path, td) >= 0) {
		assert_int_equal(td[0], 302);
		assert_int_equal(td[1], 0);
	}
	snprintf(path, sizeof(path), "%s/%s", recdir, CALLID "=" TAG ".o.rtcp");
	check_pcap(path, n);
	assert_int_equal(n[1][1], 5);
	assert_int_equal(n[0][0] + n[0][1] + n[1][0], 0);
}

/* Rs under -P: one "<callid>=<tag>.pcap" for both parties, RTP and RTCP. */
static void
test_pcap_single(void **state)
{
	struct ctl_rec_conf c = {.record_dir = recdir, .pcap = true};
	struct ctl_rec *rec = ctl_rec_create(&c);
	char path[PATH_MAX];
	unsigned int n[2][2], td[2];
	int frames;

	(void)state;
	assert_non_null(rec);
	assert_int_equal(ctl_rec_start(rec, 1, CALLID, TAG, NULL, CTL_REC_SINGLE | CTL_REC_ORIG), 0);
	assert_int_equal(ctl_rec_start(rec, 2, CALLID, TAG, NULL, CTL_REC_SINGLE), 0);
	assert_int_equal(count_dir(recdir), 1);
	snprintf(path, sizeof(path), "%s/%s", recdir, CALLID "=" TAG ".pcap");
	feed(rec, 1, RTPB_MIRROR_DIR_O, RTPB_MIRROR_RTP, 300, 150, 172);
	feed(rec, 2, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTP, 100, 151, 172);
	feed(rec, 1, RTPB_MIRROR_DIR_O, RTPB_MIRROR_RTP, 450, 150, 172);
	feed(rec, 2, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTP, 251, 151, 172);
	feed(rec, 1, RTPB_MIRROR_DIR_O, RTPB_MIRROR_RTCP, 0, 4, 52);
	feed(rec, 2, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTCP, 0, 3, 52);
	/* the file stays open while one party records */
	assert_int_equal(ctl_rec_stop(rec, 1), 0);
	feed(rec, 2, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTCP, 0, 1, 52);
	assert_int_equal(ctl_rec_stop(rec, 2), 0);
	check_pcap(path, n);
	assert_int_equal(n[1][0], 300);
	assert_int_equal(n[0][0], 302);
	assert_int_equal(n[1][1], 4);
	assert_int_equal(n[0][1], 4);
	frames = tshark_frames(path, td);
	if (frames >= 0) {
		assert_int_equal(frames, 602);
		assert_int_equal(td[0], 302);
		assert_int_equal(td[1], 300);
	}
	ctl_rec_destroy(rec);
}

/* C name / Cs name; Rs without -P is R (rtpproxy RSF_MODE_DFLT()); -R. */
static void
test_names_and_modes(void **state)
{
	struct ctl_rec_conf c = {.record_dir = recdir, .pcap = true};
	struct ctl_rec *rec = ctl_rec_create(&c);
	struct ctl_rec_stats st;

	(void)state;
	assert_non_null(rec);
	assert_int_equal(ctl_rec_start(rec, 1, CALLID, TAG, "rec1", 0), 0);
	assert_int_equal(ctl_rec_start(rec, 2, CALLID, TAG, "rec1", CTL_REC_ORIG), 0);
	assert_int_equal(ctl_rec_start(rec, 3, CALLID, TAG, "rec2.pcap", CTL_REC_SINGLE), 0);
	assert_true(exists(recdir, "rec1.rtp"));
	assert_true(exists(recdir, "rec1.rtcp"));
	assert_true(exists(recdir, "rec2.pcap"));
	assert_int_equal(count_dir(recdir), 3);
	ctl_rec_stats(rec, &st);
	assert_int_equal(st.files, 3); /* the two parties of rec1 share files */
	ctl_rec_destroy(rec);
	each_clean(NULL);

	c.pcap = false;
	c.no_rtcp = true;
	rec = ctl_rec_create(&c);
	assert_non_null(rec);
	assert_int_equal(ctl_rec_start(rec, 1, CALLID, "ft;1", NULL, CTL_REC_SINGLE), 0);
	assert_true(exists(recdir, CALLID "=ft;1.a.rtp"));
	assert_int_equal(count_dir(recdir), 1);
	assert_int_equal(feed(rec, 1, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTCP, 0, 2, 52), 0);
	ctl_rec_stats(rec, &st);
	assert_int_equal(st.ignored, 2);
	ctl_rec_destroy(rec);
}

/* Read one adhoc record (rtpproxy's packed pkt_hdr_adhoc) and check it. */
static void
check_adhoc_rec(FILE *fp, const struct rec_buf *b, int family)
{
	uint8_t h[30], data[RTPB_MIRROR_SNAPLEN];
	uint16_t fam, port, plen;
	double t;

	assert_int_equal(fread(h, sizeof(h), 1, fp), 1);
	memcpy(&fam, h, 2);
	memcpy(&port, h + 2, 2);
	memcpy(&t, h + 20, 8);
	memcpy(&plen, h + 28, 2);
	assert_int_equal(fam, family);
	assert_int_equal(port, b->r.src.port);
	assert_memory_equal(h + 4, b->r.src.ip, family == AF_INET ? 4 : 16);
	if (family == AF_INET)
		assert_memory_equal(h + 8, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	assert_true(t > (double)b->r.ts_ns / 1e9 - 1e-6);
	assert_true(t < (double)b->r.ts_ns / 1e9 + 1e-6);
	assert_int_equal(plen, b->r.cap_len);
	assert_int_equal(fread(data, plen, 1, fp), 1);
	assert_memory_equal(data, b->data, plen);
}

/* R without -P: rtpproxy's adhoc format, IPv4 and IPv6, field by field. */
static void
test_adhoc(void **state)
{
	struct ctl_rec_conf c = {.record_dir = recdir};
	struct ctl_rec *rec = ctl_rec_create(&c);
	struct rec_buf b[3];
	const struct rtpb_mirror_rec *p[3] = {&b[0].r, &b[1].r, &b[2].r};
	char path[PATH_MAX];
	FILE *fp;

	(void)state;
	assert_non_null(rec);
	assert_int_equal(ctl_rec_start(rec, 7, CALLID, TAG, NULL, CTL_REC_ORIG), 0);
	mk(&b[0], 7, RTPB_MIRROR_DIR_O, RTPB_MIRROR_RTP, 1, 172);
	mk(&b[1], 7, RTPB_MIRROR_DIR_O, RTPB_MIRROR_RTP, 2, 40);
	addr(&b[1].r.src, RTPB_AF_INET6, "2001:db8::7", 6000);
	addr(&b[1].r.dst, RTPB_AF_INET6, "2001:db8::1", PORT_O);
	mk(&b[2], 7, RTPB_MIRROR_DIR_O, RTPB_MIRROR_RTP, 3, 3000); /* cut */
	assert_int_equal(ctl_rec_drain(rec, p, 3), 3);
	ctl_rec_destroy(rec);
	snprintf(path, sizeof(path), "%s/%s", recdir, CALLID "=" TAG ".o.rtp");
	fp = fopen(path, "rb");
	assert_non_null(fp);
	check_adhoc_rec(fp, &b[0], AF_INET);
	check_adhoc_rec(fp, &b[1], AF_INET6);
	check_adhoc_rec(fp, &b[2], AF_INET);
	assert_int_equal(fgetc(fp), EOF);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/%s", recdir, CALLID "=" TAG ".o.rtcp");
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fgetc(fp), EOF); /* created empty, as rtpproxy does */
	fclose(fp);
}

/* IPv6 and a cut packet in pcap: caplen < len, headers say the original. */
static void
test_pcap_v6_truncated(void **state)
{
	struct ctl_rec_conf c = {.record_dir = recdir, .pcap = true};
	struct ctl_rec *rec = ctl_rec_create(&c);
	struct rec_buf b[2];
	const struct rtpb_mirror_rec *p[2] = {&b[0].r, &b[1].r};
	char path[PATH_MAX], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *f;
	struct ctl_rec_stats st;
	pcap_t *pc;
	uint32_t s;

	(void)state;
	assert_non_null(rec);
	assert_int_equal(ctl_rec_start(rec, 5, CALLID, TAG, NULL, 0), 0);
	mk(&b[0], 5, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTP, 9, 172);
	addr(&b[0].r.src, RTPB_AF_INET6, "2001:db8::7", 5004);
	addr(&b[0].r.dst, RTPB_AF_INET6, "2001:db8::1", PORT_A);
	mk(&b[1], 5, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTP, 10, 4000);
	assert_int_equal(ctl_rec_drain(rec, p, 2), 2);
	ctl_rec_stats(rec, &st);
	assert_int_equal(st.truncated, 1);
	ctl_rec_destroy(rec);

	snprintf(path, sizeof(path), "%s/%s", recdir, CALLID "=" TAG ".a.rtp");
	pc = pcap_open_offline(path, err);
	assert_non_null(pc);
	assert_int_equal(pcap_next_ex(pc, &ph, &f), 1);
	assert_int_equal(ph->caplen, 14 + 40 + 8 + 172);
	assert_int_equal(ph->len, ph->caplen);
	assert_int_equal(f[12], 0x86);
	assert_int_equal(f[13], 0xdd);
	assert_int_equal(f[14], 0x60);
	assert_int_equal(f[14 + 6], 17);
	assert_int_equal(f[14 + 7], 64);
	assert_int_equal(f[14 + 4] << 8 | f[14 + 5], 8 + 172);
	assert_memory_equal(f + 14 + 8, b[0].r.src.ip, 16);
	assert_memory_equal(f + 14 + 24, b[0].r.dst.ip, 16);
	s = 17 + 8 + 172;
	s += sum16(f + 14 + 8, 32, 0);
	assert_int_equal(sum16(f + 54, 8 + 172, s), 0xffff);
	assert_memory_equal(f + 62, b[0].data, 172);
	assert_int_equal(pcap_next_ex(pc, &ph, &f), 1);
	assert_int_equal(ph->caplen, 14 + 20 + 8 + RTPB_MIRROR_SNAPLEN);
	assert_int_equal(ph->len, 14 + 20 + 8 + 4000);
	assert_int_equal(f[14 + 2] << 8 | f[14 + 3], 20 + 8 + 4000);
	assert_int_equal(pcap_next_ex(pc, &ph, &f), -2);
	pcap_close(pc);
}

/* Call-ids, tags and C names from the network stay in the directory. */
static void
test_hostile_names(void **state)
{
	struct ctl_rec_conf c = {.record_dir = recdir, .spool_dir = spooldir,
				 .pcap = true};
	struct ctl_rec *rec = ctl_rec_create(&c);
	char longid[400], target[PATH_MAX], link[PATH_MAX];

	(void)state;
	assert_non_null(rec);
	assert_int_equal(ctl_rec_start(rec, 1, "../../x", "t/../y", NULL, CTL_REC_SINGLE), 0);
	assert_true(exists(spooldir, "%2E.%2F..%2Fx=t%2F..%2Fy.pcap"));
	assert_int_equal(ctl_rec_start(rec, 2, "/etc/passwd", "t", NULL, CTL_REC_SINGLE), 0);
	assert_true(exists(spooldir, "%2Fetc%2Fpasswd=t.pcap"));
	assert_int_equal(ctl_rec_start(rec, 3, "id", "t", "..", CTL_REC_SINGLE), 0);
	assert_true(exists(spooldir, "%2E."));
	assert_int_equal(ctl_rec_start(rec, 4, "a\nb%c\x7f\xff\\", "t", NULL, CTL_REC_SINGLE), 0);
	assert_true(exists(spooldir, "a%0Ab%25c%7F%FF%5C=t.pcap"));
	assert_int_equal(ctl_rec_start(rec, 5, ".hidden", "t", NULL, CTL_REC_SINGLE), 0);
	assert_true(exists(spooldir, "%2Ehidden=t.pcap"));
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(ctl_rec_start(rec, 6, longid, "t", NULL, CTL_REC_SINGLE), -ENAMETOOLONG);
	assert_int_equal(ctl_rec_start(rec, 0, "id", "t", NULL, 0), -EINVAL);
	assert_int_equal(ctl_rec_start(rec, 7, NULL, "t", NULL, 0), -EINVAL);
	assert_int_equal(count_dir(spooldir), 5);
	assert_int_equal(count_dir(root), 2); /* nothing escaped */
	/* a symlink planted where a file goes is not followed */
	snprintf(target, sizeof(target), "%s/target", root);
	snprintf(link, sizeof(link), "%s/planted=t.pcap", spooldir);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(ctl_rec_start(rec, 8, "planted", "t", NULL, CTL_REC_SINGLE), -ELOOP);
	assert_false(exists(root, "target"));
	assert_int_equal(unlink(link), 0);
	ctl_rec_destroy(rec);
	assert_int_equal(count_dir(recdir), 5);
	assert_true(exists(recdir, "%2Fetc%2Fpasswd=t.pcap"));
}

/* Bounded open files; a recording that cannot open leaves nothing open. */
static void
test_bound(void **state)
{
	struct ctl_rec_conf c = {.record_dir = recdir, .max_files = 3};
	struct ctl_rec *rec = ctl_rec_create(&c);
	struct ctl_rec_stats st;

	(void)state;
	assert_non_null(rec);
	assert_int_equal(ctl_rec_start(rec, 1, "a", "t", NULL, 0), 0);
	assert_int_equal(ctl_rec_start(rec, 2, "b", "t", NULL, 0), -EMFILE);
	ctl_rec_stats(rec, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.recordings, 1);
	assert_false(ctl_rec_active(rec, 2));
	assert_int_equal(ctl_rec_stop(rec, 1), 0);
	assert_int_equal(ctl_rec_start(rec, 2, "b", "t", NULL, 0), 0);
	ctl_rec_destroy(rec);
}

/* Write errors: a vanished spool at start; a file size limit mid-call. */
static void
test_write_errors(void **state)
{
	char gone[192];
	struct ctl_rec_conf c = {.record_dir = recdir, .spool_dir = gone,
				 .pcap = true};
	struct ctl_rec *rec;
	struct ctl_rec_stats st;
	struct rlimit old, lim;
	unsigned int i;

	(void)state;
	snprintf(gone, sizeof(gone), "%s/gone", root);
	assert_null(ctl_rec_create(&c));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(mkdir(gone, 0700), 0);
	rec = ctl_rec_create(&c);
	assert_non_null(rec);
	assert_int_equal(rmdir(gone), 0);
	assert_int_equal(ctl_rec_start(rec, 1, CALLID, TAG, NULL, 0), -ENOENT);
	ctl_rec_stats(rec, &st);
	assert_int_equal(st.files, 0);
	ctl_rec_destroy(rec);

	/* a full disk: writes past RLIMIT_FSIZE fail with EFBIG */
	c.spool_dir = NULL;
	rec = ctl_rec_create(&c);
	assert_non_null(rec);
	assert_int_equal(ctl_rec_start(rec, 1, CALLID, TAG, NULL, 0), 0);
	assert_int_equal(ctl_rec_start(rec, 2, CALLID, TAG, NULL, CTL_REC_ORIG), 0);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 40000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (i = 0; i < 40; i++) {
		feed(rec, 1, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTP, (uint16_t)(100 + i * 10), 10, 1000);
		ctl_rec_flush(rec);
	}
	feed(rec, 2, RTPB_MIRROR_DIR_O, RTPB_MIRROR_RTP, 300, 10, 172);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	ctl_rec_stats(rec, &st);
	assert_int_equal(st.write_errors, 1); /* once, for that file only */
	assert_true(st.written < 400 + 10);
	assert_true(st.written >= 30 + 10);
	assert_int_equal(st.files, 3);
	/* the other party's file goes on */
	assert_int_equal(feed(rec, 2, RTPB_MIRROR_DIR_O, RTPB_MIRROR_RTP, 310, 5, 172), 5);
	assert_int_equal(feed(rec, 1, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTP, 500, 5, 172), 0);
	assert_int_equal(ctl_rec_stop(rec, 1), 0);
	assert_int_equal(ctl_rec_stop(rec, 2), 0);
	ctl_rec_stats(rec, &st);
	assert_int_equal(st.files, 0);
	assert_int_equal(st.write_errors, 1);
	ctl_rec_destroy(rec);
}

/* Ring elements as a worker enqueues them: records cut by a burst. */
static void
test_drain_elems(void **state)
{
	struct ctl_rec_conf c = {.record_dir = recdir, .pcap = true};
	struct ctl_rec *rec = ctl_rec_create(&c);
	static uint8_t ring[64 * RTPB_MIRROR_MAX_ELEMS * 4] __attribute__((aligned(64)));
	struct rec_buf b;
	size_t at = 0, ne;
	uint16_t lens[4] = {172, 0, 3000, 64};
	uint32_t need;
	long used;
	char path[PATH_MAX];
	unsigned int n[2][2], i;

	(void)state;
	assert_non_null(rec);
	assert_int_equal(rtpb_mirror_rec_elems(0), 1);
	assert_int_equal(rtpb_mirror_rec_elems(1), 2);
	assert_int_equal(rtpb_mirror_rec_elems(64), 2);
	assert_int_equal(rtpb_mirror_rec_elems(65), 3);
	assert_int_equal(rtpb_mirror_rec_elems(RTPB_MIRROR_SNAPLEN), RTPB_MIRROR_MAX_ELEMS);
	assert_int_equal(ctl_rec_start(rec, 3, CALLID, TAG, NULL, 0), 0);
	for (i = 0; i < 4; i++) {
		mk(&b, 3, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTP, (uint16_t)(100 + i), lens[i]);
		ne = rtpb_mirror_rec_elems(b.r.cap_len);
		memcpy(ring + at * 64, &b, ne * 64);
		at += ne;
	}
	/* 172 B: 4 elements, 0 B: 1, 3000 B cut: 32, 64 B: 2 */
	assert_int_equal(at, 4 + 1 + 32 + 2);
	used = ctl_rec_drain_elems(rec, ring, 10, &need);
	assert_int_equal(used, 5);
	assert_int_equal(need, 27); /* the rest of the cut record */
	used = ctl_rec_drain_elems(rec, ring + 5 * 64, 5 + need, &need);
	assert_int_equal(used, 32);
	assert_int_equal(need, 0);
	used = ctl_rec_drain_elems(rec, ring + 37 * 64, 2, &need);
	assert_int_equal(used, 2);
	assert_int_equal(need, 0);
	/* a malformed header is refused */
	((struct rtpb_mirror_rec *)ring)->cap_len = RTPB_MIRROR_SNAPLEN + 1;
	assert_int_equal(ctl_rec_drain_elems(rec, ring, 4, &need), -EPROTO);
	ctl_rec_destroy(rec);
	snprintf(path, sizeof(path), "%s/%s", recdir, CALLID "=" TAG ".a.rtp");
	check_pcap(path, n);
	assert_int_equal(n[0][0], 4);
}


/* A mirror ring in plain memory, as the dataplane lays it out in the
 * shared memory (rte_ring_init(), SP/SC), of ring_elems elements. */
static struct rte_ring *
mk_ring(uint32_t ring_elems)
{
	ssize_t sz = rte_ring_get_memsize_elem(RTPB_MIRROR_ELEM_SIZE, ring_elems);
	struct rte_ring *r;

	assert_true(sz > 0);
	r = aligned_alloc(64, (size_t)(sz + 63) & ~(size_t)63);
	assert_non_null(r);
	assert_int_equal(rte_ring_init(r, "t_mir_0", ring_elems,
				       RING_F_SP_ENQ | RING_F_SC_DEQ), 0);
	return r;
}

struct producer {
	struct rte_ring *r;
	unsigned int n;
	uint64_t full; /* -ENOBUFS seen (then retried: the test wants all) */
};

/* The worker's side: n packets of party A, lengths varying (0 to cut). */
static void *
producer_run(void *arg)
{
	static const uint16_t lens[] = {172, 0, 3000, 64, 65, 1500, 12};
	struct producer *p = arg;
	struct rec_buf b;

	for (unsigned int i = 0; i < p->n; i++) {
		mk(&b, 3, RTPB_MIRROR_DIR_A, RTPB_MIRROR_RTP, (uint16_t)(100 + i),
		   lens[i % 7]);
		b.r.cap_len = 0xffff; /* dp_mirror_copy() sets it */
		while (dp_mirror_copy(p->r, &b.r, b.data) != 0)
			p->full++;
	}
	return NULL;
}

/* Producer thread and drain at once through a small ring (it wraps and
 * fills): every record arrives, in order, whole or cut as made. */
static void
test_ring_round_trip(void **state)
{
	struct ctl_rec_conf c = {.record_dir = recdir, .pcap = true};
	struct ctl_rec *rec = ctl_rec_create(&c);
	struct rte_ring *r = mk_ring(1024);
	struct producer p = {.r = r, .n = 7000};
	struct ctl_rec_stats st;
	pthread_t t;
	char path[PATH_MAX];
	unsigned int n[2][2], td[2];
	long got, total = 0;
	int frames;

	(void)state;
	assert_non_null(rec);
	assert_int_equal(ctl_rec_start(rec, 3, CALLID, TAG, NULL, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, producer_run, &p), 0);
	for (;;) {
		bool done = pthread_tryjoin_np(t, NULL) == 0;

		got = ctl_rec_ring_drain(rec, r, 4096);
		assert_true(got >= 0);
		total += got;
		if (done && rte_ring_count(r) == 0)
			break;
	}
	ctl_rec_stats(rec, &st);
	assert_int_equal(st.written, 7000);
	assert_int_equal(st.truncated, 1000); /* every 3000-byte one */
	ctl_rec_destroy(rec);
	print_message("ring round trip: 7000 records, %ld elements, producer "
		      "found the ring full %" PRIu64 " times\n", total, p.full);
	snprintf(path, sizeof(path), "%s/%s", recdir, CALLID "=" TAG ".a.rtp");
	check_pcap(path, n);
	assert_int_equal(n[0][0], 7000);
	/* tshark: RTP ones (>= 12 bytes) in sequence order */
	frames = tshark_frames(path, td);
	if (frames >= 0)
		assert_int_equal(frames, 7000 / 7 * 6); /* all but the empty ones */
	free(r);
}

/* A full ring takes nothing and says so; what it took drains whole.
 * Measures the copy's cost (cycles per 172-byte G.711 packet). */
static void
test_ring_full_and_cost(void **state)
{
	struct ctl_rec_conf c = {.record_dir = recdir};
	struct ctl_rec *rec = ctl_rec_create(&c);
	struct rte_ring *r = mk_ring(1024); /* 1023 usable elements */
	struct ctl_rec_stats st;
	struct rec_buf b;
	uint64_t cycles = 0, copies = 0, t0, dt, best = UINT64_MAX;
	unsigned int i, round, ok;

	(void)state;
	assert_non_null(rec);
	mk(&b, 77, RTPB_MIRROR_DIR_O, RTPB_MIRROR_RTP, 1, 172);
	for (round = 0; round < 200; round++) {
		ok = 0;
		t0 = rte_rdtsc();
		for (i = 0; i < 255; i++)
			ok += dp_mirror_copy(r, &b.r, b.data) == 0;
		dt = rte_rdtsc() - t0;
		cycles += dt;
		best = dt < best ? dt : best;
		copies += ok;
		/* 255 records of 4 elements fill 1020 of 1023: one more fails */
		assert_int_equal(ok, 255);
		assert_int_equal(dp_mirror_copy(r, &b.r, b.data), -ENOBUFS);
		assert_int_equal(rte_ring_count(r), 1020);
		assert_int_equal(ctl_rec_ring_drain(rec, r, 1 << 20), 1020);
	}
	ctl_rec_stats(rec, &st);
	assert_int_equal(st.unknown, 255 * 200); /* id 77 records nothing */
	print_message("mirror copy: %.1f cycles per 172-byte packet (mean of %"
		      PRIu64 " copies), %.1f in the fastest run of 255\n",
		      (double)cycles / (double)copies, copies, (double)best / 255.0);
	ctl_rec_destroy(rec);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pcap_files_spool, each_clean),
		cmocka_unit_test_setup(test_pcap_single, each_clean),
		cmocka_unit_test_setup(test_names_and_modes, each_clean),
		cmocka_unit_test_setup(test_adhoc, each_clean),
		cmocka_unit_test_setup(test_pcap_v6_truncated, each_clean),
		cmocka_unit_test_setup(test_hostile_names, each_clean),
		cmocka_unit_test_setup(test_bound, each_clean),
		cmocka_unit_test_setup(test_write_errors, each_clean),
		cmocka_unit_test_setup(test_drain_elems, each_clean),
		cmocka_unit_test_setup(test_ring_round_trip, each_clean),
		cmocka_unit_test_setup(test_ring_full_and_cost, each_clean),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
