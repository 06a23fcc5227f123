/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_play: playback's prompts and pacer (control/ctl_play.c) and the
 * prompt tool (tools/rtpb-makeann, its path is argv[1]).
 *
 * A WAV made here with libsndfile is converted by the built rtpb-makeann
 * into a temporary prompt directory, loaded by ctl_play and played on a
 * clock the test turns (CLOCK_MONOTONIC ns as a parameter: nothing
 * sleeps). The G.711 bytes are checked by a decoder written here from
 * ITU-T G.711, not by the encoder's library; files in rtpproxy makeann's
 * format are also written by hand.
 */
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "ctl_play.h"

#define MS 1000000ull
#define T0 (5000 * MS) /* an arbitrary CLOCK_MONOTONIC start */
#define NSAMP 1000     /* 6 packets of 20 ms G.711 and a 40-byte tail */

extern char **environ;

static const char *tool;          /* rtpb-makeann */
static char tmp[128];             /* the test's directory */
static char pdir[256];            /* tmp/prompts: the prompt directory */
static int16_t samples[NSAMP];    /* what in.wav holds */
static uint8_t pcmu[NSAMP], pcma[NSAMP]; /* prompts/prompt.0, .8 as made */

static void
path_of(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	assert_true(n > 0 && n < PATH_MAX);
}

static void
write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char p[PATH_MAX];
	FILE *f;

	path_of(p, dir, name);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The whole file dir/name; returns its length (-1 if missing). */
static long
read_file(const char *dir, const char *name, uint8_t *buf, size_t size)
{
	char p[PATH_MAX];
	FILE *f;
	size_t n;

	path_of(p, dir, name);
	f = fopen(p, "rb");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, size, f);
	fclose(f);
	return (long)n;
}

/* A sound file of n frames of ch channels at rate Hz, via libsndfile. */
static void
write_sound(const char *name, int format, int rate, int ch, const int16_t *s, sf_count_t n)
{
	char p[PATH_MAX];
	SF_INFO info = {.samplerate = rate, .channels = ch, .format = format};
	SNDFILE *f;

	path_of(p, tmp, name);
	f = sf_open(p, SFM_WRITE, &info);
	assert_non_null(f);
	assert_int_equal(sf_writef_short(f, s, n), n);
	assert_int_equal(sf_close(f), 0);
}

/*
 * Run rtpb-makeann with args (NULL-terminated), stderr into err.
 * @return its exit status (-1 if it did not exit).
 */
static int
makeann(char *err, size_t errsize, ...)
{
	char *argv[16], errpath[PATH_MAX];
	posix_spawn_file_actions_t fa;
	va_list ap;
	int argc = 0, st;
	pid_t pid;
	long n;

	argv[argc++] = (char *)tool;
	va_start(ap, errsize);
	while ((argv[argc] = va_arg(ap, char *)) != NULL && argc < 15)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	path_of(errpath, tmp, "stderr.txt");
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 2, errpath,
				O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
				O_WRONLY, 0), 0);
	assert_int_equal(posix_spawn(&pid, tool, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	n = read_file(tmp, "stderr.txt", (uint8_t *)err, errsize - 1);
	err[n > 0 ? n : 0] = '\0';
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ITU-T G.711 decoders (16-bit scale), independent of libsndfile. */
static int
ulaw_decode(uint8_t u)
{
	int t;

	u = (uint8_t)~u;
	t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
	return (u & 0x80) ? 0x84 - t : t - 0x84;
}

static int
alaw_decode(uint8_t a)
{
	int t, seg;

	a ^= 0x55;
	t = (a & 0x0f) << 4;
	seg = (a & 0x70) >> 4;
	if (seg == 0)
		t += 8;
	else
		t = (t + 0x108) << (seg - 1);
	return (a & 0x80) ? t : -t;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* The WAV, the tool's prompts in pdir, and a prompt outside pdir that a
 * hostile name would reach if it were not refused. */
static int
setup(void **state)
{
	char err[512];
	uint32_t x = 12345;

	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/test_ctl_play.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(pdir, sizeof(pdir), "%s/prompts", tmp);
	if (mkdir(pdir, 0700) != 0)
		return -1;
	/* extremes and small values first, then full-range noise */
	static const int16_t head[] = {0, 32767, -32768, 1, -1, 8, -8, 100, -100,
				       1000, -1000, 5000, -5000, 16000, -16000};
	for (size_t i = 0; i < NSAMP; i++) {
		x = x * 1103515245u + 12345u;
		samples[i] = i < sizeof(head) / sizeof(head[0]) ? head[i] : (int16_t)(x >> 16);
	}
	write_sound("in.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, samples, NSAMP);
	char in[PATH_MAX], out[PATH_MAX];
	path_of(in, tmp, "in.wav");
	path_of(out, pdir, "prompt");
	if (makeann(err, sizeof(err), in, out, NULL) != 0) {
		fprintf(stderr, "rtpb-makeann failed: %s\n", err);
		return -1;
	}
	if (read_file(pdir, "prompt.0", pcmu, sizeof(pcmu)) != NSAMP ||
	    read_file(pdir, "prompt.8", pcma, sizeof(pcma)) != NSAMP)
		return -1;
	write_file(tmp, "outside.0", pcmu, sizeof(pcmu));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* rtpb-makeann: one byte per sample, the G.711 code of that sample. */
static void
test_makeann_g711(void **state)
{
	(void)state;
	/* ITU-T G.711 codes of silence and the extremes */
	assert_int_equal(pcmu[0], 0xff);
	assert_int_equal(pcma[0], 0xd5);
	assert_int_equal(pcmu[1], 0x80);
	assert_int_equal(pcma[1], 0xaa);
	assert_int_equal(pcmu[2], 0x00);
	assert_int_equal(pcma[2], 0x2a);
	/* every sample decodes back to within its quantisation step */
	for (size_t i = 0; i < NSAMP; i++) {
		int s = samples[i], tol = abs(s) / 16 + 40;

		if (abs(ulaw_decode(pcmu[i]) - s) > tol || abs(alaw_decode(pcma[i]) - s) > tol)
			fail_msg("sample %zu = %d: PCMU %d, PCMA %d", i, s,
				 ulaw_decode(pcmu[i]), alaw_decode(pcma[i]));
	}
}

/* --raw reads makeann's input (s16le mono); stereo is mixed down; -c;
 * -l and -L as makeann's; errors say what is wrong. */
static void
test_makeann_options(void **state)
{
	static int16_t st[2 * NSAMP];
	static uint8_t b[4 * NSAMP];
	char err[512], in[PATH_MAX], out[PATH_MAX];

	(void)state;
	write_sound("in.raw", SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 8000, 1,
		    samples, NSAMP);
	path_of(in, tmp, "in.raw");
	assert_int_equal(makeann(err, sizeof(err), "--raw", in, NULL), 0);
	/* TEMPLATE defaults to INFILE, as makeann */
	assert_int_equal(read_file(tmp, "in.raw.0", b, sizeof(b)), NSAMP);
	assert_memory_equal(b, pcmu, NSAMP);
	assert_int_equal(read_file(tmp, "in.raw.8", b, sizeof(b)), NSAMP);
	assert_memory_equal(b, pcma, NSAMP);

	for (size_t i = 0; i < NSAMP; i++)
		st[2 * i] = st[2 * i + 1] = samples[i];
	write_sound("stereo.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2, st, NSAMP);
	path_of(in, tmp, "stereo.wav");
	path_of(out, tmp, "st");
	assert_int_equal(makeann(err, sizeof(err), "-c", "pcma", in, out, NULL), 0);
	assert_int_equal(read_file(tmp, "st.8", b, sizeof(b)), NSAMP);
	assert_memory_equal(b, pcma, NSAMP);
	assert_int_equal(read_file(tmp, "st.0", b, sizeof(b)), -1); /* -c pcma only */

	path_of(in, tmp, "in.wav");
	path_of(out, tmp, "lim");
	assert_int_equal(makeann(err, sizeof(err), "-l", "500", in, out, NULL), 0);
	assert_int_equal(read_file(tmp, "lim.0", b, sizeof(b)), 500);
	assert_memory_equal(b, pcmu, 500);
	path_of(out, tmp, "loop");
	assert_int_equal(makeann(err, sizeof(err), "-l", "2500", "-L", in, out, NULL), 0);
	assert_int_equal(read_file(tmp, "loop.0", b, sizeof(b)), 2500);
	assert_memory_equal(b, pcmu, NSAMP);
	assert_memory_equal(b + NSAMP, pcmu, NSAMP);
	assert_memory_equal(b + 2 * NSAMP, pcmu, 500);

	/* errors */
	write_sound("wide.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, samples, NSAMP);
	path_of(in, tmp, "wide.wav");
	assert_int_equal(makeann(err, sizeof(err), in, NULL), 1);
	assert_non_null(strstr(err, "16000 Hz"));
	path_of(in, tmp, "missing.wav");
	assert_int_equal(makeann(err, sizeof(err), in, NULL), 1);
	assert_non_null(strstr(err, "missing.wav"));
	assert_int_equal(makeann(err, sizeof(err), "-L", in, NULL), 1);
	assert_non_null(strstr(err, "-l"));
	assert_int_equal(makeann(err, sizeof(err), "-c", "g729", in, NULL), 1);
	assert_non_null(strstr(err, "g729"));
}

/* The tool's prompts load; rtpproxy's rule picks the first codec of the
 * list that has a file. */
static void
test_select(void **state)
{
	static const struct {
		const char *codecs;
		int rc;  /* ctl_play_select() */
		int pt;  /* chosen */
	} cases[] = {
		{"0", 0, 0},
		{"8", 0, 8},
		{"0,8", 0, 0},
		{"8,0", 0, 8},
		{"18,8,0", 0, 8},     /* no prompt.18: the next one */
		{"101,0", 0, 0},      /* no framing for 101: passed over */
		{"18", -ENOENT, 0},   /* no file for any: E60 */
		{"18,3,4", -ENOENT, 0},
		{"", -ENOENT, 0},
		{"x", -EINVAL, 0},    /* not numbers: E60 */
		{"0,,8", 0, 0},        /* rtpproxy stops at the first found */
		{"18,,0", -EINVAL, 0}, /* ...and fails where the list breaks */
	};
	struct ctl_play_dir *d = ctl_play_dir_open(pdir);

	(void)state;
	assert_non_null(d);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_play_prompt *p = NULL;
		int rc = ctl_play_select(d, "prompt", cases[i].codecs, &p);

		if (rc != cases[i].rc)
			fail_msg("codecs '%s': %d, want %d", cases[i].codecs, rc, cases[i].rc);
		if (rc != 0)
			continue;
		assert_int_equal(p->pt, cases[i].pt);
		assert_int_equal(p->len, NSAMP);
		assert_memory_equal(p->data, p->pt == 0 ? pcmu : pcma, NSAMP);
		ctl_play_prompt_put(p);
	}
	ctl_play_dir_close(d);
}

/* A prompt name from the network never leads out of the prompt directory. */
static void
test_hostile_names(void **state)
{
	char abs_ok[PATH_MAX], abs_sub[PATH_MAX], abs_up[PATH_MAX], abs_pre[PATH_MAX],
		abs_out[PATH_MAX], longname[CTL_PLAY_NAME_MAX + 2];
	struct ctl_play_dir *d = ctl_play_dir_open(pdir);
	struct ctl_play_prompt *p = NULL;

	(void)state;
	assert_non_null(d);
	snprintf(abs_ok, sizeof(abs_ok), "%s/prompt", pdir);
	snprintf(abs_sub, sizeof(abs_sub), "%s/sub/prompt", pdir);
	snprintf(abs_up, sizeof(abs_up), "%s/../outside", pdir);
	snprintf(abs_pre, sizeof(abs_pre), "%sX/prompt", pdir);
	snprintf(abs_out, sizeof(abs_out), "%s/outside", tmp);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{"prompt", true},
		{abs_ok, true},          /* absolute, inside the directory */
		{"pro mpt", true},       /* refused only by the missing file */
		{"../outside", false},   /* tmp/outside.0 exists */
		{"..", false},
		{".", false},
		{"", false},
		{"sub/prompt", false},
		{"./prompt", false},
		{".hidden", false},
		{"a..b", false},
		{"prompt/", false},
		{"/etc/passwd", false},
		{abs_out, false},        /* absolute, outside */
		{abs_up, false},
		{abs_sub, false},
		{abs_pre, false},        /* the directory's name as a prefix only */
		{"pro\nmpt", false},
		{"pro\x7fmpt", false},
		{longname, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *f = ctl_play_file_name(d, cases[i].name);
		int rc = ctl_play_select(d, cases[i].name, "0", &p);

		if ((f != NULL) != cases[i].ok)
			fail_msg("name '%s': %s", cases[i].name, f ? "accepted" : "refused");
		if (!cases[i].ok && rc != -EINVAL)
			fail_msg("name '%s': select %d, want -EINVAL", cases[i].name, rc);
		if (rc == 0)
			ctl_play_prompt_put(p);
	}
	/* a FIFO named like a prompt: refused without blocking in open() */
	char fifo[PATH_MAX];
	path_of(fifo, pdir, "fifo.0");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(ctl_play_prompt_load(d, "fifo", 0, &p), -EINVAL);
	assert_int_equal(ctl_play_prompt_load(d, "prompt", 101, &p), -EPROTONOSUPPORT);
	assert_int_equal(ctl_play_prompt_load(d, "nothing", 0, &p), -ENOENT);
	ctl_play_dir_close(d);
	assert_null(ctl_play_dir_open("/nonexistent/prompts"));
	assert_int_equal(errno, ENOENT);
}

/* The directory loads a file once and shares it while it is unchanged;
 * a changed file is read again, and players keep the copy they have. */
static void
test_cache(void **state)
{
	static uint8_t a[400], b[480];
	struct ctl_play_dir *d = ctl_play_dir_open(pdir);
	struct ctl_play_prompt *p1, *p2, *pa, *pb;
	const struct ctl_play_cfg cfg = {.count = 1};
	struct rtpb_play_pkt k;
	struct ctl_play *pl;

	(void)state;
	assert_non_null(d);
	assert_int_equal(ctl_play_prompt_load(d, "prompt", 0, &p1), 0);
	assert_int_equal(ctl_play_select(d, "prompt", "0", &p2), 0);
	assert_ptr_equal(p1, p2);
	assert_int_equal(p1->refs, 3); /* the cache's and two loads */
	ctl_play_prompt_put(p1);
	ctl_play_prompt_put(p2);

	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	write_file(pdir, "moh.8", a, sizeof(a));
	assert_int_equal(ctl_play_prompt_load(d, "moh", 8, &pa), 0);
	pl = ctl_play_create(pa, &cfg);
	assert_non_null(pl);
	write_file(pdir, "moh.8", b, sizeof(b));
	assert_int_equal(ctl_play_prompt_load(d, "moh", 8, &pb), 0);
	assert_ptr_not_equal(pa, pb);
	assert_int_equal(pb->len, sizeof(b));
	assert_memory_equal(pb->data, b, sizeof(b));
	ctl_play_prompt_put(pa);
	ctl_play_prompt_put(pb);
	ctl_play_dir_close(d);
	/* the player still plays the first file's bytes */
	ctl_play_start(pl, T0);
	assert_int_equal(ctl_play_next(pl, T0, &k), CTL_PLAY_PKT);
	assert_memory_equal(k.rtp + 12, a, 160);
	assert_int_equal(ctl_play_prompt(pl)->len, sizeof(a));
	ctl_play_destroy(pl);
}

/* Header fields of one played packet. */
struct rtp_fields {
	int marker, pt;
	uint16_t seq;
	uint32_t ts, ssrc;
};

static struct rtp_fields
fields(const struct rtpb_play_pkt *k)
{
	const uint8_t *h = k->rtp;

	assert_true(k->len >= 12);
	assert_int_equal(h[0], 0x80); /* V=2, no P, X, CC */
	return (struct rtp_fields){
		.marker = h[1] >> 7,
		.pt = h[1] & 0x7f,
		.seq = (uint16_t)(h[2] << 8 | h[3]),
		.ts = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7],
		.ssrc = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11],
	};
}

/*
 * Play p with count and ptime from T0 on a clock turned in 1 ms steps,
 * checking every packet against the prompt and rtpproxy's header rules;
 * stops after max packets or at EOF.
 * @return the packets played.
 */
static unsigned
play_and_check(struct ctl_play_prompt *p, int count, int ptime_ms, unsigned pkt_bytes,
	       unsigned pkt_ms, unsigned max)
{
	const struct ctl_play_cfg cfg = {
		.stream_id = 42, .cookie = 0xc00c1e, .count = count, .ptime_ms = ptime_ms,
		.rtp = {.ssrc = 0x11223344, .ts = 0xfffffe00u, .seq = 65530},
	};
	struct ctl_play *pl = ctl_play_create(p, &cfg);
	unsigned per_pass = (unsigned)(p->len / pkt_bytes), n = 0;
	struct rtpb_play_pkt k;

	assert_non_null(pl);
	/* not started: nothing is due */
	assert_int_equal(ctl_play_next(pl, T0, &k), CTL_PLAY_LATER);
	assert_true(ctl_play_due_ns(pl) == UINT64_MAX);
	ctl_play_start(pl, T0);
	for (uint64_t now = T0; n < max; now += MS) {
		enum ctl_play_step s = ctl_play_next(pl, now, &k);
		uint64_t due = T0 + (uint64_t)n * pkt_ms * MS;

		if (s == CTL_PLAY_EOF)
			break;
		if (s == CTL_PLAY_LATER) {
			assert_true(now < due);
			assert_true(ctl_play_due_ns(pl) == due);
			continue;
		}
		/* paced exactly: handed out at the first tick at its due time */
		assert_true(now == due);
		struct rtp_fields f = fields(&k);
		assert_int_equal(k.stream_id, 42);
		assert_int_equal(k.cookie, 0xc00c1e);
		assert_int_equal(k.len, 12 + pkt_bytes);
		assert_int_equal(f.pt, p->pt);
		assert_int_equal(f.marker, n == 0);
		assert_int_equal(f.ssrc, 0x11223344);
		assert_int_equal(f.seq, (uint16_t)(65530 + n));
		assert_int_equal(f.ts, (uint32_t)(0xfffffe00u + n * pkt_ms * 8));
		/* the payload is the prompt's bytes, whole packets, each pass
		 * from the start (a tail shorter than a packet is not sent) */
		assert_memory_equal(k.rtp + 12, p->data + (n % per_pass) * pkt_bytes, pkt_bytes);
		/* the next one is not due in the same ms */
		assert_int_equal(ctl_play_next(pl, now, &k), CTL_PLAY_LATER);
		n++;
	}
	assert_int_equal(ctl_play_npkts(pl), n);
	if (n < max) {
		assert_true(ctl_play_due_ns(pl) == UINT64_MAX);
		assert_int_equal(ctl_play_next(pl, UINT64_MAX - 1, &k), CTL_PLAY_EOF);
	}
	ctl_play_destroy(pl);
	return n;
}

/* The tool's PCMU prompt, once, three times, forever. */
static void
test_pace_and_loop(void **state)
{
	struct ctl_play_dir *d = ctl_play_dir_open(pdir);
	struct ctl_play_prompt *p = NULL;

	(void)state;
	assert_non_null(d);
	assert_int_equal(ctl_play_prompt_load(d, "prompt", 0, &p), 0);
	/* 1000 bytes: 6 packets of 160 (20 ms, ts + 160), the tail of 40 unsent */
	assert_int_equal(play_and_check(p, 1, 0, 160, 20, 1000), 6);
	assert_int_equal(play_and_check(p, 3, 0, 160, 20, 1000), 18);
	assert_int_equal(play_and_check(p, -1, 0, 160, 20, 500), 500);
	assert_int_equal(play_and_check(p, -7, 20, 160, 20, 100), 100);
	ctl_play_prompt_put(p);
	ctl_play_dir_close(d);
}

/* A caller late by 100 ms gets every packet it missed, in order, then the
 * pace resumes on the original grid. */
static void
test_late_caller(void **state)
{
	const struct ctl_play_cfg cfg = {.count = 1, .rtp = {.seq = 7}};
	struct ctl_play_prompt *p = ctl_play_prompt_new(pcmu, sizeof(pcmu), 0);
	struct ctl_play *pl;
	struct rtpb_play_pkt k;

	(void)state;
	assert_non_null(p);
	pl = ctl_play_create(p, &cfg);
	ctl_play_prompt_put(p); /* the player holds its own reference */
	assert_non_null(pl);
	ctl_play_start(pl, T0);
	ctl_play_start(pl, T0 + 50 * MS); /* restarts nothing */
	for (unsigned i = 0; i <= 5; i++) {
		assert_int_equal(ctl_play_next(pl, T0 + 100 * MS, &k), CTL_PLAY_PKT);
		assert_int_equal(fields(&k).seq, 7 + i);
		assert_memory_equal(k.rtp + 12, pcmu + i * 160, 160);
	}
	/* 6 packets: the last was due at T0 + 100 ms; then EOF when the 7th
	 * would be due */
	assert_true(ctl_play_due_ns(pl) == T0 + 120 * MS);
	assert_int_equal(ctl_play_next(pl, T0 + 119 * MS, &k), CTL_PLAY_LATER);
	assert_int_equal(ctl_play_next(pl, T0 + 120 * MS, &k), CTL_PLAY_EOF);
	ctl_play_destroy(pl);
}

/* Packet sizes per codec and ptime (rtpproxy: the fewest whole frames
 * lasting ptime), on files written by hand in makeann's format. */
static void
test_framing(void **state)
{
	static const struct {
		int pt, ptime;
		unsigned bytes, ms; /* per packet; 0: create fails with err */
		int err;
	} cases[] = {
		{0, 0, 160, 20, 0},   /* default 20 ms */
		{0, 10, 80, 10, 0},   /* rtpproxy's own default */
		{0, 30, 240, 30, 0},
		{0, 60, 480, 60, 0},  /* the largest that fits RTPB_PLAY_RTP_MAX */
		{0, 61, 0, 0, EMSGSIZE},
		{8, 20, 160, 20, 0},
		{9, 20, 160, 20, 0},  /* G.722: 8000 Hz RTP clock */
		{18, 20, 20, 20, 0},  /* G.729: 10 bytes per 10 ms */
		{18, 25, 30, 30, 0},
		{3, 20, 33, 20, 0},   /* GSM: 33 bytes per 20 ms */
		{3, 30, 66, 40, 0},
		{4, 20, 24, 30, 0},   /* G.723: one 30 ms frame at least */
		{0, 1001, 0, 0, EINVAL},
	};
	static uint8_t data[4000];
	struct ctl_play_dir *d = ctl_play_dir_open(pdir);

	(void)state;
	assert_non_null(d);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 256);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		struct ctl_play_prompt *p = NULL;

		snprintf(name, sizeof(name), "hand.%d", cases[i].pt);
		write_file(pdir, name, data, sizeof(data));
		assert_int_equal(ctl_play_prompt_load(d, "hand", cases[i].pt, &p), 0);
		assert_memory_equal(p->data, data, sizeof(data));
		if (cases[i].err != 0) {
			const struct ctl_play_cfg cfg = {.count = 1, .ptime_ms = cases[i].ptime};

			assert_null(ctl_play_create(p, &cfg));
			assert_int_equal(errno, cases[i].err);
		} else {
			unsigned n = play_and_check(p, 2, cases[i].ptime, cases[i].bytes,
						    cases[i].ms, 10000);

			assert_int_equal(n, 2 * (sizeof(data) / cases[i].bytes));
		}
		ctl_play_prompt_put(p);
	}
	ctl_play_dir_close(d);
}

/* Edge cases: count 0 is no playback, a prompt shorter than one packet
 * ends at once even when looping forever, random first values. */
static void
test_edges(void **state)
{
	struct ctl_play_prompt *p = ctl_play_prompt_new(pcmu, 100, 0);
	struct ctl_play_cfg cfg = {.count = 0};
	struct ctl_play_rtp r[2];
	struct rtpb_play_pkt k;
	struct ctl_play *pl;

	(void)state;
	assert_non_null(p);
	assert_null(ctl_play_create(p, &cfg));
	assert_int_equal(errno, EINVAL);
	cfg.count = -1;
	pl = ctl_play_create(p, &cfg);
	assert_non_null(pl);
	ctl_play_start(pl, T0);
	assert_int_equal(ctl_play_next(pl, T0, &k), CTL_PLAY_EOF);
	assert_int_equal(ctl_play_npkts(pl), 0);
	ctl_play_destroy(pl);
	ctl_play_prompt_put(p);
	assert_null(ctl_play_prompt_new(pcmu, 0, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(ctl_play_prompt_new(pcmu, 10, 96));
	assert_int_equal(errno, EPROTONOSUPPORT);

	assert_int_equal(ctl_play_rtp_random(&r[0]), 0);
	assert_int_equal(ctl_play_rtp_random(&r[1]), 0);
	assert_int_equal(r[0].ts & 1, 0);
	assert_int_equal(r[1].ts & 1, 0);
	/* 80 random bits twice: equal only by a broken source */
	assert_false(r[0].ssrc == r[1].ssrc && r[0].ts == r[1].ts && r[0].seq == r[1].seq);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_makeann_g711),
		cmocka_unit_test(test_makeann_options),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_pace_and_loop),
		cmocka_unit_test(test_late_caller),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_edges),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH_TO_RTPB_MAKEANN\n", argv[0]);
		return 2;
	}
	tool = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
