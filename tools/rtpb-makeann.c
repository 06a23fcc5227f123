/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb-makeann: make prompt files for playback (rtpproxy's P command,
 * docs/PLAYBACK.md) from a sound file, as rtpproxy's makeann does.
 *
 *   rtpb-makeann [-l LIMIT [-L]] [--raw] [-c CODECS] INFILE [TEMPLATE]
 *
 * Writes TEMPLATE.0 (PCMU) and TEMPLATE.8 (PCMA), TEMPLATE defaulting to
 * INFILE, each the bare G.711 bytes of every sample, one byte per sample
 * and nothing else: rtpproxy's format (makeann/makeann.c), so its files
 * and these are interchangeable. INFILE is anything libsndfile reads (WAV,
 * AIFF, FLAC, ...) at 8000 Hz; several channels are mixed down to one.
 * --raw reads headerless signed 16-bit little-endian 8000 Hz mono, which
 * is what rtpproxy's makeann reads. -l LIMIT stops after LIMIT samples;
 * with -L the input is read again from its start until LIMIT samples
 * are written (makeann's -l and -L).
 *
 * The G.711 encoding (ITU-T G.711 mu-law and A-law) is libsndfile's: the
 * output files are opened as SF_FORMAT_RAW | SF_FORMAT_ULAW / ALAW.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "rtpb_config.h"

#define MAKEANN_RATE 8000
#define MAKEANN_BLOCK 160 /* samples read per pass, 20 ms */
#define MAKEANN_MAX_CHANNELS 16

/* The outputs this tool can make: payload type, name, libsndfile format. */
static const struct out_codec {
	int pt;
	const char *name;
	int sf_format;
} out_codecs[] = {
	{0, "pcmu", SF_FORMAT_RAW | SF_FORMAT_ULAW},
	{8, "pcma", SF_FORMAT_RAW | SF_FORMAT_ALAW},
};
#define N_OUT (sizeof(out_codecs) / sizeof(out_codecs[0]))

static const char *prog = "rtpb-makeann";

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [-l LIMIT [-L]] [--raw] [-c CODECS] INFILE [TEMPLATE]\n"
		"Make rtpproxy prompt files TEMPLATE.<payload type> (TEMPLATE defaults to\n"
		"INFILE): TEMPLATE.0 (PCMU) and TEMPLATE.8 (PCMA), the bare G.711 bytes,\n"
		"as rtpproxy's makeann writes them.\n"
		"  INFILE           any file libsndfile reads (WAV, AIFF, FLAC, ...), 8000 Hz;\n"
		"                   channels are mixed down to mono\n"
		"  -r, --raw        INFILE is headerless signed 16-bit little-endian 8000 Hz\n"
		"                   mono (rtpproxy makeann's input)\n"
		"  -c, --codecs L   comma-separated list of pcmu, pcma, 0, 8 (default: both)\n"
		"  -l, --limit N    write at most N samples\n"
		"  -L, --loop       read INFILE again from its start until N samples (needs -l)\n"
		"  -h, --help       this text\n"
		"  -V, --version    print the version\n",
		prog);
}

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Parse -c: set want[i] for each codec named. */
static void
parse_codecs(const char *list, bool want[N_OUT])
{
	char buf[256], *save = NULL;

	if (strlen(list) >= sizeof(buf))
		die("codec list too long: %s", list);
	strcpy(buf, list);
	for (size_t i = 0; i < N_OUT; i++)
		want[i] = false;
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < N_OUT; i++) {
			char num[8];

			snprintf(num, sizeof(num), "%d", out_codecs[i].pt);
			if (strcasecmp(t, out_codecs[i].name) == 0 || strcmp(t, num) == 0)
				break;
		}
		if (i == N_OUT)
			die("unknown codec '%s' (known: pcmu or 0, pcma or 8)", t);
		want[i] = true;
	}
}

/* Read up to n mono samples into buf, mixing channels down; with loop,
 * start again at the input's beginning once at its end. */
static sf_count_t
read_mono(SNDFILE *in, const SF_INFO *info, short *buf, sf_count_t n, bool loop,
	  const char *path)
{
	static short frames[MAKEANN_BLOCK * MAKEANN_MAX_CHANNELS];
	sf_count_t got = 0;
	bool rewound = false;

	while (got < n) {
		sf_count_t r = sf_readf_short(in, frames, n - got);

		if (r < 0 || sf_error(in) != SF_ERR_NO_ERROR)
			die("can't read %s: %s", path, sf_strerror(in));
		if (r == 0) {
			/* makeann: at the end, rewind once per block in loop mode */
			if (!loop || rewound)
				break;
			if (sf_seek(in, 0, SEEK_SET) < 0)
				die("can't rewind %s: %s", path, sf_strerror(in));
			rewound = true;
			continue;
		}
		for (sf_count_t i = 0; i < r; i++) {
			long sum = 0;

			for (int c = 0; c < info->channels; c++)
				sum += frames[i * info->channels + c];
			buf[got + i] = (short)(sum / info->channels);
		}
		got += r;
	}
	return got;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"raw", no_argument, NULL, 'r'},
		{"codecs", required_argument, NULL, 'c'},
		{"limit", required_argument, NULL, 'l'},
		{"loop", no_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	bool want[N_OUT] = {true, true}, raw = false, loop = false;
	long long limit = -1;
	SNDFILE *in, *out[N_OUT] = {NULL};
	char path[N_OUT][PATH_MAX];
	SF_INFO info;
	const char *infile, *template;
	short buf[MAKEANN_BLOCK];
	int ch;

	while ((ch = getopt_long(argc, argv, "rc:l:LhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			raw = true;
			break;
		case 'c':
			parse_codecs(optarg, want);
			break;
		case 'l': {
			char *end;

			errno = 0;
			limit = strtoll(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || limit <= 0)
				die("limit must be a number of samples above zero: '%s'",
				    optarg);
			break;
		}
		case 'L':
			loop = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("%s %s\n", prog, RTPB_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind < 1 || argc - optind > 2) {
		usage(stderr);
		return 1;
	}
	if (loop && limit < 0)
		die("-L (loop) needs -l LIMIT: looping would never end");
	infile = argv[optind];
	template = argc - optind == 2 ? argv[optind + 1] : infile;

	memset(&info, 0, sizeof(info));
	if (raw) {
		info.samplerate = MAKEANN_RATE;
		info.channels = 1;
		info.format = SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE;
	}
	in = sf_open(infile, SFM_READ, &info);
	if (in == NULL)
		die("can't read %s: %s", infile, sf_strerror(NULL));
	if (info.samplerate != MAKEANN_RATE)
		die("%s is %d Hz; G.711 prompts are 8000 Hz: resample it first "
		    "(e.g. sox IN -r 8000 -c 1 OUT.wav)", infile, info.samplerate);
	if (info.channels < 1 || info.channels > MAKEANN_MAX_CHANNELS)
		die("%s: %d channels, at most %d are mixed down", infile, info.channels,
		    MAKEANN_MAX_CHANNELS);

	for (size_t i = 0; i < N_OUT; i++) {
		SF_INFO oi = {.samplerate = MAKEANN_RATE, .channels = 1,
			      .format = out_codecs[i].sf_format};

		if (!want[i])
			continue;
		if ((size_t)snprintf(path[i], sizeof(path[i]), "%s.%d", template,
				     out_codecs[i].pt) >= sizeof(path[i]))
			die("output name too long: %s.%d", template, out_codecs[i].pt);
		out[i] = sf_open(path[i], SFM_WRITE, &oi);
		if (out[i] == NULL)
			die("can't write %s: %s", path[i], sf_strerror(NULL));
	}

	for (long long left = limit; limit < 0 || left > 0;) {
		sf_count_t n = limit < 0 || left > MAKEANN_BLOCK ? MAKEANN_BLOCK : left;

		n = read_mono(in, &info, buf, n, loop, infile);
		if (n == 0)
			break;
		for (size_t i = 0; i < N_OUT; i++)
			if (out[i] != NULL && sf_write_short(out[i], buf, n) != n)
				die("can't write %s: %s", path[i], sf_strerror(out[i]));
		left -= n;
	}

	sf_close(in);
	for (size_t i = 0; i < N_OUT; i++)
		if (out[i] != NULL && sf_close(out[i]) != 0)
			die("can't write %s: close failed", path[i]);
	return 0;
}
