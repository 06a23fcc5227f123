/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_rec.c: the recorder's writer (ctl_rec.h): recordings, their files,
 * the two formats.
 *
 * Owned by the recorder thread: nothing here is shared or locked. A
 * recording (struct rec_leg, by id) points at one or two files (struct
 * rec_file, by spool path, reference-counted); files are FILE streams with
 * a 16 KiB buffer, written either in rtpproxy's adhoc format or through
 * libpcap's dumper (pcap_dump_fopen(): libpcap writes the file header and
 * each record header, we make the frame). Files are created with openat()
 * in the spool or record directory opened at creation, O_NOFOLLOW, mode
 * 0640 (recordings are call audio: not world-readable; rtpproxy leaves it
 * to the umask), names escaped (rec_escape()).
 *
 * Formats, as rtpproxy 3.2 writes them (src/rtpp_record.c,
 * src/rtpp_record_adhoc.h, src/rtpp_record_private.h):
 * - adhoc: per packet a packed 30-byte header (the source address as a
 *   stripped sockaddr: family, host order, 2 bytes; port, network order;
 *   4 or 16 address bytes, in a 20-byte union; the arrival time, a host
 *   double of UNIX seconds; the payload length, a host unsigned short),
 *   then the payload. No file header.
 * - pcap: DLT_EN10MB, snaplen 65535; per packet an Ethernet header whose
 *   MACs are made from the IP addresses (IPv4: 00:00:a:b:c:d; IPv6: the
 *   16 bytes folded by XOR into 6), an IPv4 header (id counting up from
 *   0 per recorder, TTL 127, checksum) or IPv6 header (hop limit 64) and a
 *   UDP header with its checksum, source = the sender, destination = the
 *   relay socket it reached.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <glib.h>
#include <pcap/pcap.h>

#include "ctl_log.h"
#include "ctl_rec.h"

#define REC_FILE_MODE 0640
#define REC_BUF_SIZE 16384
/* DLT_EN10MB frame headers before the UDP payload */
#define REC_ETH_LEN 14
#define REC_IP4_LEN 20
#define REC_IP6_LEN 40
#define REC_UDP_LEN 8
#define REC_HDR_MAX (REC_ETH_LEN + REC_IP6_LEN + REC_UDP_LEN)
#define REC_TTL4 127 /* rtpproxy: ip_ttl = 127 */
#define REC_HLIM6 64 /* rtpproxy: IPV6_DEFHLIM */

/* rtpproxy's struct pkt_hdr_adhoc, packed, in the host's byte order. */
struct rec_adhoc_hdr {
	union {
		struct {
			uint16_t family; /* AF_INET */
			uint16_t port;   /* network order */
			uint8_t addr[4];
		} in4;
		struct {
			uint16_t family; /* AF_INET6 */
			uint16_t port;
			uint8_t addr[16];
		} in6;
	} addr;
	double time;   /* arrival, UNIX seconds */
	uint16_t plen; /* bytes that follow */
} __attribute__((packed));

_Static_assert(sizeof(struct rec_adhoc_hdr) == 30, "rtpproxy's pkt_hdr_adhoc");

struct rec_file {
	char *name;      /* escaped file name, in both directories */
	char *call_id;   /* for the log */
	FILE *fp;        /* NULL once failed or closed */
	pcap_dumper_t *pd; /* -P: owns fp */
	unsigned int refs;
	bool failed;
};

struct rec_leg {
	uint32_t id;
	struct rec_file *f[2]; /* enum rtpb_mirror_kind; both the same when single */
};

struct ctl_rec {
	struct ctl_rec_conf conf;
	int record_fd;
	int spool_fd; /* record_fd when no spool */
	pcap_t *pcap_dead;
	GHashTable *legs;  /* id -> struct rec_leg */
	GHashTable *files; /* name -> struct rec_file */
	uint16_t ip_id;
	struct ctl_rec_stats st;
	char frame[REC_HDR_MAX + RTPB_MIRROR_SNAPLEN];
};

/*
 * Escape a network-supplied string into a file name component: bytes
 * outside 0x20..0x7e, '/', '%', '\\' and a leading '.' become "%XX".
 * Returns the length written, or -ENAMETOOLONG (out too small).
 */
static int
rec_escape(char *out, size_t size, size_t at, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		bool esc = c < 0x20 || c > 0x7e || c == '/' || c == '%' ||
			   c == '\\' || (c == '.' && at == 0);

		if (at + (esc ? 3 : 1) >= size)
			return -ENAMETOOLONG;
		if (esc) {
			out[at++] = '%';
			out[at++] = hex[c >> 4];
			out[at++] = hex[c & 0xf];
		} else {
			out[at++] = (char)c;
		}
	}
	out[at] = '\0';
	return (int)at;
}

/* Append a literal suffix; -ENAMETOOLONG if it does not fit. */
static int
rec_append(char *out, size_t size, int at, const char *suffix)
{
	size_t n = strlen(suffix);

	if (at < 0)
		return at;
	if ((size_t)at + n >= size)
		return -ENAMETOOLONG;
	memcpy(out + at, suffix, n + 1);
	return at + (int)n;
}

/*
 * The file name of one kind of a recording (rtpp_record.c
 * rtpp_record_ctor()): "<callid>=<tag>" or the C name, then ".a"/".o"
 * and ".rtp"/".rtcp", or for a single file ".pcap" (R) or nothing (C).
 */
static int
rec_filename(char out[NAME_MAX + 1], const char *call_id, const char *tag,
	     const char *name, unsigned int flags, bool single,
	     enum rtpb_mirror_kind kind)
{
	const size_t size = NAME_MAX + 1;
	int at;

	if (name != NULL) {
		at = rec_escape(out, size, 0, name);
	} else {
		at = rec_escape(out, size, 0, call_id);
		at = rec_append(out, size, at, "=");
		if (at >= 0)
			at = rec_escape(out, size, (size_t)at, tag);
	}
	if (single)
		return name == NULL ? rec_append(out, size, at, ".pcap") : at;
	if (name == NULL)
		at = rec_append(out, size, at, (flags & CTL_REC_ORIG) ? ".o" : ".a");
	return rec_append(out, size, at, kind == RTPB_MIRROR_RTP ? ".rtp" : ".rtcp");
}

/* Close a file's stream; 0 or the errno of the failed flush/close. */
static int
rec_file_close_stream(struct rec_file *f)
{
	int err = 0;

	if (f->fp == NULL)
		return 0;
	if (fflush(f->fp) != 0 || ferror(f->fp))
		err = errno != 0 ? errno : EIO;
	if (f->pd != NULL)
		pcap_dump_close(f->pd); /* fcloses fp */
	else if (fclose(f->fp) != 0 && err == 0)
		err = errno;
	f->pd = NULL;
	f->fp = NULL;
	return err;
}

/* A write to f failed: log once with the call-id, count, stop the file. */
static void
rec_file_fail(struct ctl_rec *rec, struct rec_file *f, int err)
{
	if (f->failed)
		return;
	f->failed = true;
	rec->st.write_errors++;
	ctl_log_call(CTL_LOG_ERR, f->call_id,
		     "recording %s: write failed: %s; this file stops here",
		     f->name, strerror(err != 0 ? err : EIO));
	if (f->fp != NULL) {
		rec_file_close_stream(f);
		rec->st.files--;
	}
}

static void
rec_file_free(struct rec_file *f)
{
	free(f->name);
	free(f->call_id);
	free(f);
}

/* Drop a reference; the last one closes the file and moves it out of the spool. */
static void
rec_file_put(struct ctl_rec *rec, struct rec_file *f)
{
	int err;

	if (f == NULL || --f->refs > 0)
		return;
	if (f->fp != NULL) {
		err = rec_file_close_stream(f);
		rec->st.files--;
		if (err != 0)
			rec_file_fail(rec, f, err);
	}
	/* rtpproxy moves what is there even after a write error */
	if (rec->spool_fd != rec->record_fd &&
	    renameat(rec->spool_fd, f->name, rec->record_fd, f->name) != 0) {
		rec->st.move_errors++;
		ctl_log_call(CTL_LOG_ERR, f->call_id,
			     "recording %s: can't move from %s to %s: %s",
			     f->name, rec->conf.spool_dir, rec->conf.record_dir,
			     strerror(errno));
	}
	g_hash_table_remove(rec->files, f->name);
	rec_file_free(f);
}

/*
 * Get the file of that name, shared, or create it: open(2) with
 * O_TRUNC as rtpproxy, then the pcap file header under -P.
 */
static int
rec_file_get(struct ctl_rec *rec, const char *name, const char *call_id,
	     struct rec_file **out)
{
	struct rec_file *f = g_hash_table_lookup(rec->files, name);
	int fd, err;

	if (f != NULL) {
		f->refs++;
		*out = f;
		return 0;
	}
	if (rec->st.files >= rec->conf.max_files)
		return -EMFILE;
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->name = strdup(name)) == NULL ||
	    (f->call_id = strdup(call_id)) == NULL) {
		err = -ENOMEM;
		goto err_free;
	}
	fd = openat(rec->spool_fd, name,
		    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    REC_FILE_MODE);
	if (fd < 0) {
		err = -errno;
		goto err_free;
	}
	f->fp = fdopen(fd, "wb");
	if (f->fp == NULL) {
		err = -errno;
		close(fd);
		goto err_unlink;
	}
	setvbuf(f->fp, NULL, _IOFBF, REC_BUF_SIZE);
	if (rec->conf.pcap) {
		f->pd = pcap_dump_fopen(rec->pcap_dead, f->fp);
		if (f->pd == NULL) {
			err = -EIO;
			fclose(f->fp);
			goto err_unlink;
		}
	}
	f->refs = 1;
	g_hash_table_insert(rec->files, f->name, f);
	rec->st.files++;
	*out = f;
	return 0;
err_unlink:
	unlinkat(rec->spool_fd, name, 0);
err_free:
	if (f != NULL)
		rec_file_free(f);
	return err;
}

int
ctl_rec_start(struct ctl_rec *rec, uint32_t id, const char *call_id,
	      const char *tag, const char *name, unsigned int flags)
{
	bool single = (flags & CTL_REC_SINGLE) && rec->conf.pcap;
	char fname[NAME_MAX + 1];
	struct rec_leg *leg;
	int k, ret;

	if (id == 0 || call_id == NULL || tag == NULL)
		return -EINVAL;
	if (g_hash_table_contains(rec->legs, GUINT_TO_POINTER(id)))
		return -EEXIST;
	leg = calloc(1, sizeof(*leg));
	if (leg == NULL)
		return -ENOMEM;
	leg->id = id;
	for (k = RTPB_MIRROR_RTP; k <= RTPB_MIRROR_RTCP; k++) {
		if (k == RTPB_MIRROR_RTCP && rec->conf.no_rtcp)
			break;
		if (k == RTPB_MIRROR_RTCP && single) {
			leg->f[k] = leg->f[RTPB_MIRROR_RTP];
			leg->f[k]->refs++;
			break;
		}
		ret = rec_filename(fname, call_id, tag, name, flags, single, k);
		if (ret < 0)
			goto err;
		ret = rec_file_get(rec, fname, call_id, &leg->f[k]);
		if (ret < 0)
			goto err;
	}
	g_hash_table_insert(rec->legs, GUINT_TO_POINTER(id), leg);
	rec->st.recordings++;
	ctl_log_call(CTL_LOG_INFO, call_id, "recording started: %s%s%s",
		     leg->f[0]->name, leg->f[1] && leg->f[1] != leg->f[0] ? ", " : "",
		     leg->f[1] && leg->f[1] != leg->f[0] ? leg->f[1]->name : "");
	return 0;
err:
	ctl_log_call(CTL_LOG_ERR, call_id, "can't start recording in %s: %s",
		     rec->conf.spool_dir ? rec->conf.spool_dir : rec->conf.record_dir,
		     strerror(-ret));
	rec_file_put(rec, leg->f[RTPB_MIRROR_RTP]);
	free(leg);
	return ret;
}

/* Release a leg's files (the hash table's value destructor). */
static void
rec_leg_release(struct ctl_rec *rec, struct rec_leg *leg)
{
	struct rec_file *f0 = leg->f[0], *f1 = leg->f[1];

	rec_file_put(rec, f1);
	rec_file_put(rec, f0);
	free(leg);
}

int
ctl_rec_stop(struct ctl_rec *rec, uint32_t id)
{
	struct rec_leg *leg = g_hash_table_lookup(rec->legs, GUINT_TO_POINTER(id));

	if (leg == NULL)
		return -ENOENT;
	g_hash_table_steal(rec->legs, GUINT_TO_POINTER(id));
	rec->st.recordings--;
	rec_leg_release(rec, leg);
	return 0;
}

bool
ctl_rec_active(const struct ctl_rec *rec, uint32_t id)
{
	return g_hash_table_contains(rec->legs, GUINT_TO_POINTER(id));
}

/* rtpproxy's fake_ether_addr(): a MAC made from an IP address. */
static void
rec_fake_mac(uint8_t mac[6], const struct rtpb_addr *a)
{
	int i;

	if (a->family == RTPB_AF_INET) {
		mac[0] = mac[1] = 0;
		memcpy(mac + 2, a->ip, 4);
		return;
	}
	memcpy(mac, a->ip, 6);
	for (i = 6; i < 16; i++)
		mac[i % 6] ^= a->ip[i];
}

/* Ones' complement sum of 16-bit big-endian words (RFC 1071). */
static uint32_t
rec_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
rec_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
put16(uint8_t *p, uint16_t v) /* v in host order, p big-endian */
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Make the Ethernet/IP/UDP frame of r in rec->frame (rtpp_record.c
 * prepare_pkt_hdr_pcap(), face 0: sender to relay socket).
 * Returns the header length; the frame is that plus cap_len bytes.
 */
static size_t
rec_pcap_frame(struct ctl_rec *rec, const struct rtpb_mirror_rec *r)
{
	uint8_t *eth = (uint8_t *)rec->frame, *ip = eth + REC_ETH_LEN, *udp;
	bool v4 = r->src.family == RTPB_AF_INET;
	size_t alen = v4 ? 4 : 16, iplen = v4 ? REC_IP4_LEN : REC_IP6_LEN;
	uint16_t ulen = (uint16_t)(REC_UDP_LEN + r->orig_len);
	uint32_t sum;

	rec_fake_mac(eth, &r->dst);
	rec_fake_mac(eth + 6, &r->src);
	put16(eth + 12, v4 ? 0x0800 : 0x86dd);
	memset(ip, 0, iplen);
	if (v4) {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(REC_IP4_LEN + ulen));
		put16(ip + 4, rec->ip_id++);
		ip[8] = REC_TTL4;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, r->src.ip, 4);
		memcpy(ip + 16, r->dst.ip, 4);
		put16(ip + 10, rec_csum_fold(rec_csum_add(0, ip, REC_IP4_LEN)));
	} else {
		ip[0] = 0x60;
		put16(ip + 4, ulen);
		ip[6] = IPPROTO_UDP;
		ip[7] = REC_HLIM6;
		memcpy(ip + 8, r->src.ip, 16);
		memcpy(ip + 24, r->dst.ip, 16);
	}
	udp = ip + iplen;
	memcpy(udp, &r->src.port, 2);
	memcpy(udp + 2, &r->dst.port, 2);
	put16(udp + 4, ulen);
	udp[6] = udp[7] = 0;
	memcpy(udp + REC_UDP_LEN, r->data, r->cap_len);
	/* UDP checksum over the pseudo-header (RFC 768, RFC 8200 8.1) when
	 * the whole payload is there; a cut one keeps 0 ("none" in IPv4). */
	if (r->cap_len == r->orig_len) {
		sum = rec_csum_add(0, r->src.ip, alen);
		sum = rec_csum_add(sum, r->dst.ip, alen);
		sum += IPPROTO_UDP + ulen;
		sum = rec_csum_add(sum, udp, ulen);
		uint16_t c = rec_csum_fold(sum);
		put16(udp + 6, c == 0 ? 0xffff : c);
	}
	return REC_ETH_LEN + iplen + REC_UDP_LEN;
}

static void
rec_write_pcap(struct ctl_rec *rec, struct rec_file *f,
	       const struct rtpb_mirror_rec *r)
{
	struct pcap_pkthdr ph;
	size_t hl = rec_pcap_frame(rec, r);

	ph.ts.tv_sec = (time_t)(r->ts_ns / 1000000000u);
	ph.ts.tv_usec = (suseconds_t)(r->ts_ns % 1000000000u / 1000u);
	ph.caplen = (bpf_u_int32)(hl + r->cap_len);
	ph.len = (bpf_u_int32)(hl + r->orig_len);
	pcap_dump((u_char *)f->pd, &ph, (const u_char *)rec->frame);
}

static void
rec_write_adhoc(struct rec_file *f, const struct rtpb_mirror_rec *r)
{
	struct rec_adhoc_hdr h;

	memset(&h, 0, sizeof(h));
	if (r->src.family == RTPB_AF_INET) {
		h.addr.in4.family = AF_INET;
		h.addr.in4.port = r->src.port;
		memcpy(h.addr.in4.addr, r->src.ip, 4);
	} else {
		h.addr.in6.family = AF_INET6;
		h.addr.in6.port = r->src.port;
		memcpy(h.addr.in6.addr, r->src.ip, 16);
	}
	h.time = (double)(r->ts_ns / 1000000000u) +
		 (double)(r->ts_ns % 1000000000u) / 1e9;
	h.plen = r->cap_len; /* what follows; a cut packet loses its tail */
	if (fwrite(&h, sizeof(h), 1, f->fp) == 1 && r->cap_len > 0)
		fwrite(r->data, r->cap_len, 1, f->fp);
}

/* Write one record; true if it reached a file's buffer. */
static bool
rec_write(struct ctl_rec *rec, const struct rtpb_mirror_rec *r)
{
	struct rec_leg *leg = g_hash_table_lookup(rec->legs,
						  GUINT_TO_POINTER(r->rec_id));
	struct rec_file *f;

	if (leg == NULL) {
		rec->st.unknown++;
		return false;
	}
	f = leg->f[r->kind == RTPB_MIRROR_RTCP];
	if (f == NULL) {
		rec->st.ignored++;
		return false;
	}
	if (f->failed || f->fp == NULL || r->cap_len > r->orig_len ||
	    r->cap_len > RTPB_MIRROR_SNAPLEN ||
	    (r->src.family != RTPB_AF_INET && r->src.family != RTPB_AF_INET6) ||
	    r->dst.family != r->src.family)
		return false;
	errno = 0;
	if (f->pd != NULL)
		rec_write_pcap(rec, f, r);
	else
		rec_write_adhoc(f, r);
	if (ferror(f->fp)) {
		rec_file_fail(rec, f, errno);
		return false;
	}
	rec->st.written++;
	if (r->cap_len < r->orig_len)
		rec->st.truncated++;
	return true;
}

unsigned int
ctl_rec_drain(struct ctl_rec *rec, const struct rtpb_mirror_rec *const recs[],
	      unsigned int n)
{
	unsigned int i, done = 0;

	for (i = 0; i < n; i++)
		done += rec_write(rec, recs[i]);
	return done;
}

long
ctl_rec_drain_elems(struct ctl_rec *rec, const void *elems, size_t n_elems,
		    uint32_t *need)
{
	const uint8_t *p = elems;
	size_t at = 0;

	*need = 0;
	while (at < n_elems) {
		const struct rtpb_mirror_rec *r =
			(const void *)(p + at * RTPB_MIRROR_ELEM_SIZE);
		uint32_t ne;

		if (r->cap_len > RTPB_MIRROR_SNAPLEN || r->cap_len > r->orig_len)
			return -EPROTO;
		ne = rtpb_mirror_rec_elems(r->cap_len);
		if (at + ne > n_elems) {
			*need = (uint32_t)(at + ne - n_elems);
			break;
		}
		rec_write(rec, r);
		at += ne;
	}
	return (long)at;
}

void
ctl_rec_flush(struct ctl_rec *rec)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, rec->files);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct rec_file *f = v;

		errno = 0;
		if (f->fp != NULL && (fflush(f->fp) != 0 || ferror(f->fp)))
			rec_file_fail(rec, f, errno);
	}
}

void
ctl_rec_stats(const struct ctl_rec *rec, struct ctl_rec_stats *st)
{
	*st = rec->st;
}

struct ctl_rec *
ctl_rec_create(const struct ctl_rec_conf *conf)
{
	struct ctl_rec *rec;
	int err;

	if (conf->record_dir == NULL) {
		errno = EINVAL;
		return NULL;
	}
	rec = calloc(1, sizeof(*rec));
	if (rec == NULL)
		return NULL;
	rec->conf = *conf;
	rec->conf.record_dir = strdup(conf->record_dir);
	rec->conf.spool_dir = conf->spool_dir ? strdup(conf->spool_dir) : NULL;
	if (rec->conf.max_files == 0)
		rec->conf.max_files = CTL_REC_MAX_FILES;
	rec->record_fd = rec->spool_fd = -1;
	if (rec->conf.record_dir == NULL ||
	    (conf->spool_dir != NULL && rec->conf.spool_dir == NULL)) {
		err = ENOMEM;
		goto err_free;
	}
	rec->record_fd = open(conf->record_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rec->record_fd < 0) {
		err = errno;
		goto err_free;
	}
	rec->spool_fd = rec->record_fd;
	if (conf->spool_dir != NULL) {
		rec->spool_fd = open(conf->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rec->spool_fd < 0) {
			err = errno;
			goto err_free;
		}
	}
	rec->pcap_dead = pcap_open_dead(DLT_EN10MB, 65535); /* rtpproxy's snaplen */
	if (rec->pcap_dead == NULL) {
		err = ENOMEM;
		goto err_free;
	}
	rec->legs = g_hash_table_new(g_direct_hash, g_direct_equal);
	rec->files = g_hash_table_new(g_str_hash, g_str_equal);
	return rec;
err_free:
	if (rec->spool_fd >= 0 && rec->spool_fd != rec->record_fd)
		close(rec->spool_fd);
	if (rec->record_fd >= 0)
		close(rec->record_fd);
	free((char *)rec->conf.record_dir);
	free((char *)rec->conf.spool_dir);
	free(rec);
	errno = err;
	return NULL;
}

void
ctl_rec_destroy(struct ctl_rec *rec)
{
	GHashTableIter it;
	gpointer v;

	if (rec == NULL)
		return;
	g_hash_table_iter_init(&it, rec->legs);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		g_hash_table_iter_steal(&it);
		rec_leg_release(rec, v);
	}
	g_hash_table_destroy(rec->legs);
	g_hash_table_destroy(rec->files);
	pcap_close(rec->pcap_dead);
	if (rec->spool_fd != rec->record_fd)
		close(rec->spool_fd);
	close(rec->record_fd);
	free((char *)rec->conf.record_dir);
	free((char *)rec->conf.spool_dir);
	free(rec);
}
