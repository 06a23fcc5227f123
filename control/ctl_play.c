/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_play.c: prompts, the choice of codec and the pacer of playback, see
 * ctl_play.h. Source: sippy/rtpproxy 3.2 src/rtpp_server.c (framing,
 * header, loops), src/rtpp_stream.c handle_play() (codec list),
 * makeann/makeann.c (file format).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_play.h"

/* RTP header without CSRC or extension (RFC 3550 5.1). */
#define RTP_HDR_LEN 12
/* RTP clock of every codec below, Hz: 8 ticks per ms. */
#define PLAY_CLOCK_PER_MS 8
#define PLAY_PTIME_MAX 1000

/* rtpp_server.c rtpp_server_get(): bytes and ms per frame. */
static const struct ctl_play_codec codecs[] = {
	{.pt = 0, .frame_ms = 1, .frame_bytes = 8, .name = "PCMU"},
	{.pt = 3, .frame_ms = 20, .frame_bytes = 33, .name = "GSM"},
	{.pt = 4, .frame_ms = 30, .frame_bytes = 24, .name = "G723"},
	{.pt = 8, .frame_ms = 1, .frame_bytes = 8, .name = "PCMA"},
	{.pt = 9, .frame_ms = 1, .frame_bytes = 8, .name = "G722"},
	{.pt = 18, .frame_ms = 10, .frame_bytes = 10, .name = "G729"},
};

const struct ctl_play_codec *
ctl_play_codec(int pt)
{
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (codecs[i].pt == pt)
			return &codecs[i];
	return NULL;
}

struct ctl_play_dir {
	int fd;
	GHashTable *cache; /* "<name>.<pt>" -> struct ctl_play_prompt (one ref) */
	size_t path_len;
	char path[PATH_MAX];
};

static void
cache_put(gpointer p)
{
	ctl_play_prompt_put(p);
}

struct ctl_play_dir *
ctl_play_dir_open(const char *path)
{
	size_t n = strlen(path);
	struct ctl_play_dir *d;

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= sizeof(d->path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	memcpy(d->path, path, n);
	d->path_len = n;
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0) {
		int e = errno;

		free(d);
		errno = e;
		return NULL;
	}
	d->cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cache_put);
	return d;
}

void
ctl_play_dir_close(struct ctl_play_dir *d)
{
	if (d == NULL)
		return;
	g_hash_table_destroy(d->cache);
	close(d->fd);
	free(d);
}

/* One plain file name: see ctl_play_file_name(). */
static bool
plain_name(const char *f)
{
	size_t n = strlen(f);

	if (n == 0 || n > CTL_PLAY_NAME_MAX || f[0] == '.' || strstr(f, "..") != NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f[i];

		if (c == '/' || c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

const char *
ctl_play_file_name(const struct ctl_play_dir *d, const char *name)
{
	/* rtpproxy opens the name as given; here an absolute name must be
	 * inside the prompt directory, and then only its last part counts. */
	if (name[0] == '/') {
		if (d->path[0] != '/' || strncmp(name, d->path, d->path_len) != 0)
			return NULL;
		name += d->path_len;
		if (d->path_len > 1) { /* "/" itself ends in the separator */
			if (name[0] != '/')
				return NULL;
			name++;
		}
	}
	return plain_name(name) ? name : NULL;
}

struct ctl_play_prompt *
ctl_play_prompt_new(const void *data, size_t len, int pt)
{
	struct ctl_play_prompt *p;

	if (ctl_play_codec(pt) == NULL) {
		errno = EPROTONOSUPPORT;
		return NULL;
	}
	if (len == 0 || len > CTL_PLAY_FILE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->data = malloc(len);
	if (p->data == NULL) {
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	memcpy(p->data, data, len);
	p->len = len;
	p->pt = (uint8_t)pt;
	p->refs = 1;
	return p;
}

void
ctl_play_prompt_put(struct ctl_play_prompt *p)
{
	if (p == NULL || --p->refs > 0)
		return;
	free(p->data);
	free(p);
}

/* Read all of regular file fd (size bytes) into a new buffer. */
static int
read_all(int fd, size_t size, uint8_t **out)
{
	uint8_t *buf = malloc(size > 0 ? size : 1);
	size_t got = 0;

	if (buf == NULL)
		return -ENOMEM;
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return r < 0 ? -errno : -EIO;
		}
		got += (size_t)r;
	}
	*out = buf;
	return 0;
}

int
ctl_play_prompt_load(struct ctl_play_dir *d, const char *name, int pt,
		     struct ctl_play_prompt **out)
{
	const char *f = ctl_play_file_name(d, name);
	char fname[CTL_PLAY_NAME_MAX + 8];
	struct ctl_play_prompt *p;
	struct stat st;
	uint8_t *data = NULL;
	uint64_t mtime_ns;
	int fd, rc = 0;

	if (f == NULL)
		return -EINVAL;
	if (ctl_play_codec(pt) == NULL)
		return -EPROTONOSUPPORT;
	snprintf(fname, sizeof(fname), "%s.%d", f, pt);
	/* O_NONBLOCK: a FIFO put there must not stall control in open() */
	fd = openat(d->fd, fname, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out_close;
	}
	if ((uint64_t)st.st_size > CTL_PLAY_FILE_MAX) {
		rc = -EFBIG;
		goto out_close;
	}
	mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	p = g_hash_table_lookup(d->cache, fname);
	if (p != NULL && p->dev == st.st_dev && p->ino == st.st_ino &&
	    p->len == (size_t)st.st_size && p->mtime_ns == mtime_ns) {
		p->refs++;
		*out = p;
		goto out_close;
	}
	rc = read_all(fd, (size_t)st.st_size, &data);
	if (rc != 0)
		goto out_close;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		free(data);
		rc = -ENOMEM;
		goto out_close;
	}
	p->data = data;
	p->len = (size_t)st.st_size;
	p->pt = (uint8_t)pt;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->mtime_ns = mtime_ns;
	p->refs = 2; /* the caller's and the cache's */
	/* a changed file replaces its entry; players keep the old copy */
	g_hash_table_replace(d->cache, g_strdup(fname), p);
	*out = p;
out_close:
	close(fd);
	return rc;
}

int
ctl_play_select(struct ctl_play_dir *d, const char *name, const char *codecs_list,
		struct ctl_play_prompt **out)
{
	const char *c = codecs_list;

	if (ctl_play_file_name(d, name) == NULL)
		return -EINVAL;
	/* rtpp_stream.c handle_play(): strtol() each number, skip one
	 * separator; a missing file moves on, any other failure ends it */
	while (*c != '\0') {
		char *end;
		long pt = strtol(c, &end, 10);
		int rc;

		if (end == c)
			return -EINVAL;
		c = end;
		if (*c != '\0')
			c++;
		if (pt < 0 || pt > 127 || ctl_play_codec((int)pt) == NULL)
			continue;
		rc = ctl_play_prompt_load(d, name, (int)pt, out);
		if (rc != -ENOENT)
			return rc;
	}
	return -ENOENT;
}

int
ctl_play_rtp_random(struct ctl_play_rtp *r)
{
	uint32_t v[3];
	size_t got = 0;

	while (got < sizeof(v)) {
		ssize_t n = getrandom((uint8_t *)v + got, sizeof(v) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	r->ssrc = v[0];
	r->ts = v[1] & 0xfffffffeu;
	r->seq = (uint16_t)v[2];
	return 0;
}

struct ctl_play {
	struct ctl_play_prompt *prompt;
	uint32_t stream_id;
	uint64_t cookie;
	int64_t loops;       /* more passes after this one; < 0 forever */
	size_t off;          /* next payload byte in the prompt */
	size_t pkt_bytes;    /* payload bytes per packet */
	uint32_t pkt_ms;     /* whole frames' duration, ms */
	uint64_t start_ns;
	uint64_t dts_ms;     /* media time handed out, ms (rtpproxy dts) */
	uint64_t npkts;
	uint32_t ssrc, ts;
	uint16_t seq;
	bool marker, started, eof;
};

struct ctl_play *
ctl_play_create(struct ctl_play_prompt *p, const struct ctl_play_cfg *cfg)
{
	const struct ctl_play_codec *c = ctl_play_codec(p->pt);
	int ptime = cfg->ptime_ms > 0 ? cfg->ptime_ms : CTL_PLAY_PTIME_DEFAULT;
	uint32_t nframes;
	struct ctl_play *pl;

	if (c == NULL) {
		errno = EPROTONOSUPPORT;
		return NULL;
	}
	if (cfg->count == 0 || ptime > PLAY_PTIME_MAX) {
		errno = EINVAL;
		return NULL;
	}
	/* the fewest whole frames lasting at least ptime */
	nframes = ((uint32_t)ptime + c->frame_ms - 1) / c->frame_ms;
	if (RTP_HDR_LEN + (size_t)nframes * c->frame_bytes > RTPB_PLAY_RTP_MAX) {
		errno = EMSGSIZE;
		return NULL;
	}
	pl = calloc(1, sizeof(*pl));
	if (pl == NULL)
		return NULL;
	p->refs++;
	pl->prompt = p;
	pl->stream_id = cfg->stream_id;
	pl->cookie = cfg->cookie;
	/* rtpp_server_ctor(): loop = count - 1 for a count, else forever */
	pl->loops = cfg->count > 0 ? cfg->count - 1 : -1;
	pl->pkt_bytes = (size_t)nframes * c->frame_bytes;
	pl->pkt_ms = nframes * c->frame_ms;
	pl->ssrc = cfg->rtp.ssrc;
	pl->ts = cfg->rtp.ts;
	pl->seq = cfg->rtp.seq;
	pl->marker = true;
	return pl;
}

void
ctl_play_start(struct ctl_play *pl, uint64_t now_ns)
{
	if (pl->started)
		return;
	pl->started = true;
	pl->start_ns = now_ns;
}

uint64_t
ctl_play_due_ns(const struct ctl_play *pl)
{
	if (!pl->started || pl->eof)
		return UINT64_MAX;
	return pl->start_ns + pl->dts_ms * 1000000u;
}

static void
put_be16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *b, uint32_t v)
{
	put_be16(b, (uint16_t)(v >> 16));
	put_be16(b + 2, (uint16_t)v);
}

enum ctl_play_step
ctl_play_next(struct ctl_play *pl, uint64_t now_ns, struct rtpb_play_pkt *out)
{
	const struct ctl_play_prompt *p = pl->prompt;
	uint8_t *h = out->rtp;

	if (pl->eof)
		return CTL_PLAY_EOF;
	if (!pl->started || now_ns < ctl_play_due_ns(pl))
		return CTL_PLAY_LATER;
	/* rtpp_server_get(): a short read rewinds while loops are left,
	 * and a prompt shorter than one packet ends at once */
	if (pl->off + pl->pkt_bytes > p->len) {
		if (pl->loops == 0 || pl->pkt_bytes > p->len) {
			pl->eof = true;
			return CTL_PLAY_EOF;
		}
		pl->off = 0;
		if (pl->loops > 0)
			pl->loops--;
	}
	/* RFC 3550 5.1: V=2, P=0, X=0, CC=0; M on the first packet */
	h[0] = 0x80;
	h[1] = (uint8_t)((pl->marker ? 0x80 : 0) | p->pt);
	put_be16(h + 2, pl->seq);
	put_be32(h + 4, pl->ts);
	put_be32(h + 8, pl->ssrc);
	memcpy(h + RTP_HDR_LEN, p->data + pl->off, pl->pkt_bytes);
	out->stream_id = pl->stream_id;
	out->cookie = pl->cookie;
	out->flags = 0;
	out->len = (uint16_t)(RTP_HDR_LEN + pl->pkt_bytes);

	pl->marker = false;
	pl->off += pl->pkt_bytes;
	pl->seq++;
	pl->ts += pl->pkt_ms * PLAY_CLOCK_PER_MS;
	pl->dts_ms += pl->pkt_ms;
	pl->npkts++;
	return CTL_PLAY_PKT;
}

uint64_t
ctl_play_npkts(const struct ctl_play *pl)
{
	return pl->npkts;
}

const struct ctl_play_prompt *
ctl_play_prompt(const struct ctl_play *pl)
{
	return pl->prompt;
}

void
ctl_play_destroy(struct ctl_play *pl)
{
	if (pl == NULL)
		return;
	ctl_play_prompt_put(pl->prompt);
	free(pl);
}
