/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_journal.c: the session journal's slot store (ctl_journal.h):
 * records survive close and reopen, torn and corrupt slots are skipped,
 * the file grows but never shrinks, other formats are moved aside, and a
 * writer SIGKILLed mid-write leaves only whole records.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_journal.h"

static char dir[64];
static char path[128];
static char err[512];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_ctl_journal.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/sessions.journal", dir);
	return 0;
}

static int
teardown(void **state)
{
	char p[160];

	(void)state;
	unlink(path);
	snprintf(p, sizeof(p), "%s.old", path);
	unlink(p);
	rmdir(dir);
	return 0;
}

/* What load() saw: slot -> record text. */
struct seen {
	uint32_t n;
	uint32_t slot[64];
	char rec[64][64];
	uint32_t reject_slot; /* return non-zero for this slot (UINT32_MAX: none) */
};

static int
collect(uint32_t slot, const void *rec, size_t len, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 64 && len < 64);
	s->slot[s->n] = slot;
	memcpy(s->rec[s->n], rec, len);
	s->rec[s->n][len] = '\0';
	s->n++;
	return slot == s->reject_slot;
}

static struct ctl_journal *
open_ok(uint32_t nslots)
{
	struct ctl_journal *j = ctl_journal_open(path, nslots, err,
						 sizeof(err));

	if (j == NULL)
		fail_msg("ctl_journal_open: %s", err);
	return j;
}

static void
test_roundtrip(void **state)
{
	struct seen s = {.reject_slot = UINT32_MAX};
	uint32_t bad = 99;
	(void)state;
	struct ctl_journal *j = open_ok(8);

	assert_int_equal(ctl_journal_slots(j), 8);
	int a = ctl_journal_alloc(j), b = ctl_journal_alloc(j),
	    c = ctl_journal_alloc(j);

	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	assert_int_equal(c, 2);
	assert_int_equal(ctl_journal_put(j, a, "call-a", 6), 0);
	assert_int_equal(ctl_journal_put(j, b, "call-b", 6), 0);
	assert_int_equal(ctl_journal_put(j, c, "call-c", 6), 0);
	assert_int_equal(ctl_journal_put(j, b, "call-b2", 7), 0); /* rewrite */
	ctl_journal_free(j, a);
	assert_int_equal(ctl_journal_used(j), 2);
	ctl_journal_close(j);

	j = open_ok(8);
	assert_int_equal(ctl_journal_used(j), 0); /* nothing until load */
	assert_int_equal(ctl_journal_load(j, collect, &s, &bad), 2);
	assert_int_equal(bad, 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.slot[0], 1);
	assert_string_equal(s.rec[0], "call-b2");
	assert_int_equal(s.slot[1], 2);
	assert_string_equal(s.rec[1], "call-c");
	assert_int_equal(ctl_journal_used(j), 2);
	/* the freed slot 0 is handed out first; taken ones never */
	assert_int_equal(ctl_journal_alloc(j), 0);
	assert_int_equal(ctl_journal_alloc(j), 3);
	ctl_journal_close(j);
}

static void
test_limits(void **state)
{
	static char big[CTL_JOURNAL_PAYLOAD + 1];
	(void)state;
	struct ctl_journal *j = open_ok(2);

	assert_int_equal(ctl_journal_put(j, 0, "x", 1), -EINVAL); /* not taken */
	assert_int_equal(ctl_journal_put(j, 5, "x", 1), -EINVAL);
	int a = ctl_journal_alloc(j);

	assert_int_equal(ctl_journal_put(j, a, big, sizeof(big)), -E2BIG);
	assert_int_equal(ctl_journal_put(j, a, big, sizeof(big) - 1), 0);
	assert_int_equal(ctl_journal_alloc(j), 1);
	assert_int_equal(ctl_journal_alloc(j), -ENOSPC);
	ctl_journal_free(j, 1);
	ctl_journal_free(j, 1); /* twice: ignored */
	assert_int_equal(ctl_journal_used(j), 1);
	ctl_journal_close(j);
	assert_null(ctl_journal_open(path, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "slots"));
}

/* Tear one slot (odd seq) and corrupt another (payload byte): both are
 * skipped, counted and cleared; the rejected one is cleared too. */
static void
test_torn_and_corrupt(void **state)
{
	struct seen s = {.reject_slot = 3};
	uint32_t bad;
	(void)state;
	struct ctl_journal *j = open_ok(4);

	for (int i = 0; i < 4; i++) {
		char r[8];

		snprintf(r, sizeof(r), "rec-%d", i);
		assert_int_equal(ctl_journal_put(j, ctl_journal_alloc(j), r,
						 strlen(r)), 0);
	}
	ctl_journal_close(j);

	FILE *f = fopen(path, "r+b");
	uint32_t odd = 7;

	assert_non_null(f);
	fseek(f, 1 * CTL_JOURNAL_SLOT + CTL_JOURNAL_SLOT, SEEK_SET); /* slot 1 */
	fwrite(&odd, sizeof(odd), 1, f);
	fseek(f, 3 * CTL_JOURNAL_SLOT + sizeof(struct ctl_journal_slot_hdr),
	      SEEK_SET); /* slot 2's payload */
	fputc('X', f);
	fclose(f);

	j = open_ok(4);
	assert_int_equal(ctl_journal_load(j, collect, &s, &bad), 1);
	assert_int_equal(bad, 2);
	assert_int_equal(s.n, 2); /* slots 0 and 3 were offered */
	assert_string_equal(s.rec[0], "rec-0");
	assert_string_equal(s.rec[1], "rec-3");
	assert_int_equal(ctl_journal_used(j), 1);
	ctl_journal_close(j);

	memset(&s, 0, sizeof(s));
	s.reject_slot = UINT32_MAX;
	j = open_ok(4);
	assert_int_equal(ctl_journal_load(j, collect, &s, &bad), 1);
	assert_int_equal(bad, 0); /* cleared, not found again */
	ctl_journal_close(j);
}

static void
test_grow_never_shrink(void **state)
{
	struct seen s = {.reject_slot = UINT32_MAX};
	(void)state;
	struct ctl_journal *j = open_ok(2);

	assert_int_equal(ctl_journal_put(j, ctl_journal_alloc(j), "a", 1), 0);
	assert_int_equal(ctl_journal_put(j, ctl_journal_alloc(j), "b", 1), 0);
	ctl_journal_close(j);
	j = open_ok(16);
	assert_int_equal(ctl_journal_slots(j), 16);
	assert_int_equal(ctl_journal_load(j, collect, &s, NULL), 2);
	ctl_journal_close(j);
	j = open_ok(1);
	assert_int_equal(ctl_journal_slots(j), 16);
	ctl_journal_close(j);
}

static void
test_foreign_file_moved(void **state)
{
	struct seen s = {.reject_slot = UINT32_MAX};
	struct stat st;
	char old[160];
	(void)state;
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	fputs("not a journal\n", f);
	fclose(f);
	struct ctl_journal *j = open_ok(4);

	assert_int_equal(ctl_journal_load(j, collect, &s, NULL), 0);
	ctl_journal_close(j);
	snprintf(old, sizeof(old), "%s.old", path);
	assert_int_equal(stat(old, &st), 0);
	assert_int_equal(st.st_size, 14);
}

/* A record of test_sigkill_mid_write: "slot=S round=R " then
 * (R * 7919) % 3000 copies of 'a' + R % 26, in slot S. */
static int
whole_record(uint32_t slot, const void *rec, size_t len, void *arg)
{
	char head[64];
	unsigned int s, r;
	int n = 0;

	(void)arg;
	assert_true(len > 0 && len < CTL_JOURNAL_PAYLOAD);
	memcpy(head, rec, len < sizeof(head) - 1 ? len : sizeof(head) - 1);
	head[sizeof(head) - 1] = '\0';
	assert_int_equal(sscanf(head, "slot=%u round=%u %n", &s, &r, &n), 2);
	assert_int_equal(s, slot);
	assert_int_equal(len, (size_t)n + (r * 7919u) % 3000u);
	for (size_t i = (size_t)n; i < len; i++)
		assert_int_equal(((const char *)rec)[i], 'a' + (int)(r % 26));
	return 0;
}

/* A child rewrites slots as fast as it can and is SIGKILLed: every slot
 * the parent loads afterwards is one whole record the child wrote (its
 * text says slot and round, and its length matches). */
static void
test_sigkill_mid_write(void **state)
{
	(void)state;
	struct ctl_journal *j = open_ok(32);

	for (int i = 0; i < 32; i++)
		assert_int_equal(ctl_journal_alloc(j), i);
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char r[CTL_JOURNAL_PAYLOAD];

		for (uint32_t round = 0; round < 50000000; round++) {
			uint32_t slot = round % 32;
			int n = snprintf(r, sizeof(r), "slot=%u round=%u ",
					 slot, round);
			size_t len = (size_t)n + (round * 7919u) % 3000u;

			memset(r + n, 'a' + (int)(round % 26), len - (size_t)n);
			ctl_journal_put(j, slot, r, len);
		}
		_exit(0);
	}
	struct timespec ts = {0, 200 * 1000 * 1000};

	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ctl_journal_close(j);

	j = open_ok(32);
	uint32_t bad;
	uint32_t kept = ctl_journal_load(j, whole_record, NULL, &bad);

	/* at most the one slot being written when the signal came is torn */
	assert_true(bad <= 1);
	assert_int_equal(kept + bad, 32);
	ctl_journal_close(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_and_corrupt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_grow_never_shrink, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_file_moved, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_mid_write, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
