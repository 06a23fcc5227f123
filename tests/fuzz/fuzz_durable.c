/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_durable.c: libFuzzer target over control's durable session record
 * (control/ctl_durable.c, the record each session keeps in the journal,
 * ctl_journal.h) and what a restarted control does with one
 * (control/ctl_sjournal.c).
 *
 * Each input is one record. ctl_durable_parse() must refuse it or
 * accept it; when it accepts it, these must hold (else abort()):
 *  - ctl_durable_size() of the view is the input's length, and every
 *    string of the view lies inside the input, without a NUL;
 *  - ctl_durable_write() of the view gives back the input byte for byte
 *    (the format has one encoding per record), and refuses a buffer one
 *    byte short (-E2BIG);
 *  - the input without its last byte is refused (the length field).
 * An accepted record that fits a journal slot is then written to two
 * slots of a journal (the same session twice: the second must be
 * dropped, "serial already in use") and read back into a fresh control
 * world (tests/ctl_world.h: the "labels" addresses, the -n targets, the
 * fake dataplane) as control does at start (ctl_sessions_journal_load()),
 * and lived with: the dataplane attaches and the restored sessions are
 * replayed, I, Q and D on its call-id, time passes past every TTL (each
 * timeout notification must name a target of the -n set). Then the table
 * is destroyed and nothing may be left: no journal slot, stream id,
 * dataplane stream or port pair (fuzz_world_close()).
 *
 * Seeds: the records control journals for the sessions of the
 * scripts below (U, L, IPv6, a latch, S ttl=, notify targets, codecs,
 * hold), run through a world with this journal: with FUZZ_DURABLE_SEEDS
 * set to a directory, the target writes one file per record there and
 * exits (tests/fuzz/run.sh does that before fuzzing). The journal is a
 * file in a temporary directory made at start and removed at exit.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "ctl_durable.h"
#include "ctl_journal.h"
#include "ctl_log.h"
#include "ctl_session.h"
#include "ctl_tnotify.h"
#include "ctl_world.h"
#include "fake_ctl_dp.h"
#include "fuzz_world.h"

#define MAX_STREAMS 48
#define OUT_MAX (CTL_CMD_BUFLEN + CTL_REPLY_MAX + 2)
#define CMD_MAX 1024

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The restarted control: notify targets on, no prefilter (its entries
 * outlive control, the fake's do not: a release of a restored entry
 * would read as a misuse). */
static const struct ctl_world_cfg world_cfg = {.kind = "labels",
					       .notify = true};

static char jdir[64];
static char jpath[128];
static struct ctl_journal *journal;

static void
log_hook(enum ctl_log_level level, const char *line, void *arg)
{
	(void)level;
	(void)arg;
	FUZZ_CHECK(strpbrk(line, "\r\n") == NULL, "log line with CR/LF: %s",
		   line);
}

/* struct ctl_world's notify_resolve: the name read whole (an overread is
 * an ASan report), the addresses of a known family; the target picked
 * from the name's length, -1 (no longer permitted) included. */
static int
resolve(const char *name, const struct rtpb_addr *src,
	const struct rtpb_addr *local, void *arg)
{
	size_t n = strlen(name);

	FUZZ_CHECK(src->family <= RTPB_AF_INET6 &&
			   local->family <= RTPB_AF_INET6,
		   "notify address of family %u/%u", src->family,
		   local->family);
	return (int)(n % (ctl_tnotify_count(arg) + 1)) - 1;
}

static void
on_timeout(int target, const char *tag, const char *call_id, void *arg)
{
	struct ctl_world *w = arg;
	volatile size_t n;

	FUZZ_CHECK(ctl_tnotify_get(w->tnotify, target) != NULL,
		   "timeout notification to target %d of %u", target,
		   ctl_tnotify_count(w->tnotify));
	FUZZ_CHECK(tag != NULL && call_id != NULL, "notification without tag");
	n = strlen(tag) + strlen(call_id);
	(void)n;
}

/* Sessions whose records are the seeds: lines of a world script
 * ('!' a directive, else a command), one script per world. */
static const char *const seed_scripts[][8] = {
	{"U s1 198.51.100.10 4000 f1;1"},
	{"U s2 198.51.100.10 4000 f2;1", "L s2 203.0.113.20 6000 f2;1 t2;1",
	 "!latch 0 198.51.100.41:6000", "!rx 0 25"},
	{"U6 s3 2001:db8::10 4000 f3;1", "L6 s3 2001:db8::20 6000 f3;1 t3;1"},
	{"Uc0,8,101 s4 198.51.100.10 4000 f4;1",
	 "Lc0,8 s4 203.0.113.20 6000 f4;1 t4;1", "S s4 f4 t4 ttl=30"},
	{"U s5 198.51.100.75 5000 f5 unix:/tmp/rtpb-n.sock tag%3D5"},
	{"!src 198.51.100.9", "U s6 198.51.100.78 5000 f6 tcp:%%CC_SELF%%:9 t6"},
	{"Ul192.0.2.3 s7 198.51.100.10 4000 f7;1",
	 "L s7 0.0.0.0 6000 f7;1 t7;1"},
	{"UA s8 198.51.100.10 4000 f8;1", "LW s8 203.0.113.20 6000 f8;1 t8;1",
	 "D s8 t8"},
};

/* ctl_journal_load() callback: the record into a seed file. */
static int
write_seed(uint32_t slot, const void *rec, size_t len, void *arg)
{
	static unsigned int n;
	char path[4096];
	FILE *f;

	(void)slot;
	snprintf(path, sizeof(path), "%s/rec-%02u", (const char *)arg, n++);
	f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL && fwrite(rec, 1, len, f) == len &&
			   fclose(f) == 0,
		   "writing %s", path);
	return 0;
}

/* FUZZ_DURABLE_SEEDS=DIR: the seed scripts' records into DIR. */
static void
write_seeds(const char *dir)
{
	static char out[OUT_MAX];

	for (size_t i = 0; i < sizeof(seed_scripts) / sizeof(seed_scripts[0]);
	     i++) {
		struct ctl_world w = {.on_timeout = on_timeout,
				      .timeout_arg = &w,
				      .close = fuzz_world_close,
				      .journal = journal,
				      .notify_resolve = resolve};
		char err[256];

		w.out = g_string_new(NULL);
		FUZZ_CHECK(ctl_world_start(&w, MAX_STREAMS, &world_cfg, err,
					   sizeof(err)) == 0,
			   "ctl_world_start: %s", err);
		for (size_t k = 0; k < 8 && seed_scripts[i][k] != NULL; k++) {
			const char *l = seed_scripts[i][k];

			if (l[0] == '!')
				(void)ctl_world_directive(&w, l + 1);
			else
				(void)ctl_world_command(&w, l, strlen(l), false,
							out, sizeof(out));
		}
		ctl_journal_load(journal, write_seed, (void *)dir, NULL);
		fuzz_world_close(&w);
		ctl_world_stop(&w);
		g_string_free(w.out, TRUE);
		fake_dp_clear_msgs();
	}
}

static void
rm_journal(void)
{
	ctl_journal_close(journal);
	journal = NULL;
	unlink(jpath);
	rmdir(jdir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	ctl_log_set_level(CTL_LOG_DBUG);
	ctl_log_set_hook(log_hook, NULL);
	snprintf(jdir, sizeof(jdir), "/tmp/rtpb-fuzz-durable-XXXXXX");
	FUZZ_CHECK(mkdtemp(jdir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(jpath, sizeof(jpath), "%s/journal", jdir);
	journal = ctl_journal_open(jpath, 4, err, sizeof(err));
	FUZZ_CHECK(journal != NULL, "ctl_journal_open: %s", err);
	atexit(rm_journal);
	if (getenv("FUZZ_DURABLE_SEEDS") != NULL) {
		write_seeds(getenv("FUZZ_DURABLE_SEEDS"));
		exit(0);
	}
	return 0;
}

/* The parser's promises on an accepted record (header comment). */
static void
check_accepted(const uint8_t *data, size_t size, const struct ctl_durable *d)
{
	const struct ctl_durable_str *strs[] = {
		&d->call_id, &d->from_tag, &d->to_tag, &d->notify_tag,
		&d->notify_name, &d->leg[0].codecs, &d->leg[1].codecs,
	};
	struct ctl_durable e;
	uint8_t *buf = malloc(size);
	int n;

	FUZZ_CHECK(buf != NULL, "malloc");
	FUZZ_CHECK(ctl_durable_size(d) == size, "size %zu of a %zu-byte record",
		   ctl_durable_size(d), size);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const struct ctl_durable_str *s = strs[i];

		FUZZ_CHECK(s->len == 0 ||
				   ((const uint8_t *)s->p >= data &&
				    (const uint8_t *)s->p + s->len <= data + size &&
				    memchr(s->p, '\0', s->len) == NULL),
			   "string %zu outside the record or with a NUL", i);
	}
	n = ctl_durable_write(d, buf, size);
	FUZZ_CHECK(n == (int)size && memcmp(buf, data, size) == 0,
		   "written back as %d bytes, not the %zu read", n, size);
	FUZZ_CHECK(ctl_durable_write(d, buf, size - 1) == -E2BIG,
		   "written into a buffer one byte short");
	FUZZ_CHECK(ctl_durable_parse(data, size - 1, &e) != 0,
		   "accepted without its last byte");
	free(buf);
}

/* One command as off a unix socket; a reply, ended by a newline. */
static void
command(struct ctl_world *w, const char *fmt, const struct ctl_durable *d)
{
	static char out[OUT_MAX];
	char cmd[CMD_MAX];
	int len;
	size_t n;

	len = snprintf(cmd, sizeof(cmd), fmt, (int)d->call_id.len,
		       d->call_id.p, (int)d->from_tag.len, d->from_tag.p);
	if (len < 0 || (size_t)len >= sizeof(cmd))
		return;
	n = ctl_world_command(w, cmd, (size_t)len, false, out, sizeof(out));
	FUZZ_CHECK(n > 0 && n <= sizeof(out) && out[n - 1] == '\n',
		   "no reply to %s", cmd);
	fuzz_world_check_fakes();
}

/* The record in two journal slots, read back by a restarted control. */
static void
restore(const uint8_t *data, size_t size, const struct ctl_durable *d)
{
	struct ctl_world w = {.on_timeout = on_timeout, .timeout_arg = &w,
			      .close = fuzz_world_close, .journal = journal,
			      .notify_resolve = resolve};
	char err[256];
	uint32_t restored;
	int s0, s1;

	s0 = ctl_journal_alloc(journal);
	s1 = ctl_journal_alloc(journal);
	FUZZ_CHECK(s0 >= 0 && s1 >= 0, "journal slots left taken");
	FUZZ_CHECK(ctl_journal_put(journal, (uint32_t)s0, data, size) == 0 &&
			   ctl_journal_put(journal, (uint32_t)s1, data,
					   size) == 0,
		   "ctl_journal_put");
	w.out = g_string_new(NULL);
	FUZZ_CHECK(ctl_world_start(&w, MAX_STREAMS, &world_cfg, err,
				   sizeof(err)) == 0,
		   "ctl_world_start: %s", err);
	restored = ctl_sessions_journal_load(w.sess, w.now);
	FUZZ_CHECK(restored <= 1, "one session restored %u times", restored);
	FUZZ_CHECK(ctl_journal_used(journal) == restored,
		   "%u journal slots kept for %u sessions",
		   ctl_journal_used(journal), restored);
	(void)ctl_world_directive(&w, "dp restart");
	fuzz_world_check_fakes();
	command(&w, "I", d);
	command(&w, "Q %.*s %.*s", d);
	/* half the sessions end by D, the others by their TTL (the choice
	 * from the record, so an input always takes the same path) */
	if (d->leg[0].port & 2)
		command(&w, "D %.*s %.*s", d);
	(void)ctl_world_directive(&w, "wait 200");
	fuzz_world_check_fakes();
	fuzz_world_close(&w);
	FUZZ_CHECK(ctl_journal_used(journal) == 0,
		   "%u journal slots left after the table was destroyed",
		   ctl_journal_used(journal));
	ctl_world_stop(&w);
	g_string_free(w.out, TRUE);
	fake_dp_clear_msgs();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_durable d;

	if (ctl_durable_parse(data, size, &d) != 0)
		return 0;
	check_accepted(data, size, &d);
	if (size <= CTL_JOURNAL_PAYLOAD)
		restore(data, size, &d);
	return 0;
}
