/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_cmd_parse: the protocol golden test, as rtpproxy's
 * tests/command_parser: tests/data/cmd_parse.golden (its form in
 * tests/golden.h) is a list of steps, each a command or a harness
 * directive with the reply it must give under it:
 *
 *   > U c1 198.51.100.9 5000 f1   a command, run through ctl_exec_text()
 *   < 23838 192.0.2.1             (parse + exec) against the fake
 *   !dp msgs                      dataplane; a directive: what it
 *   < dp ADD 0 ...                outputs follows
 *
 * Each step's output must equal its '<' lines byte for byte; every step
 * that differs is reported with its line. The actual steps and output,
 * in the same form, go to <name>.actual (cmd_parse.actual for
 * cmd_parse.golden) in the current
 * directory for diffing.
 *
 * Command forms (after "> "):
 *   CMD           a stream-mode command (no cookie)
 *   @DATAGRAM     a datagram: cookie first, reply carries it, cached
 *   ~CMD          stream command with each "\0" replaced by a NUL byte
 *   ~@DATAGRAM    the same for a datagram
 * Directives ("!"): those of tests/ctl_world.h; the file starts as
 * "!config inet4". Ports are random from pools seeded with 1 (IPv4) and
 * 2 (IPv6) over the same range, so they are reproducible.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "ctl_log.h"
#include "ctl_world.h"
#include "fake_ctl_dp.h"
#include "golden.h"

static const char *golden_path;
/* where the actual steps go (argv[2], default test_ctl_cmd_parse.actual) */
static const char *actual_path; /* argv[2], or the golden file's name */

/* The on_timeout callback: the notification as a line of output. */
static void
golden_notify(int target, const char *tag, const char *call_id, void *arg)
{
	struct ctl_world *w = arg;
	char name[300];

	(void)call_id;
	g_string_append_printf(w->out, "notify %s %s\n",
			       ctl_tnotify_describe(w->tnotify, target, name,
						    sizeof(name)),
			       tag);
}

/* "\0" -> NUL; returns the new length. */
static size_t
unescape_nul(char *s)
{
	size_t w = 0;

	for (size_t r = 0; s[r] != '\0'; r++) {
		if (s[r] == '\\' && s[r + 1] == '0') {
			s[w++] = '\0';
			r++;
		} else {
			s[w++] = s[r];
		}
	}
	return w;
}

/* One command (a step's text after "> "), its reply appended to w->out. */
static void
run_command(struct ctl_world *w, char *line)
{
	static char out[CTL_CMD_BUFLEN + CTL_REPLY_MAX + 2];
	bool dgram = false;
	size_t len, n;

	if (line[0] == '@') {
		dgram = true;
		line++;
		len = strlen(line);
	} else if (line[0] == '~') {
		line++;
		if (line[0] == '@') { /* "~@": a datagram with NUL bytes */
			dgram = true;
			line++;
		}
		len = unescape_nul(line);
	} else {
		len = strlen(line);
	}
	n = ctl_world_command(w, line, len, dgram, out, sizeof(out));
	g_string_append_len(w->out, out, (gssize)n);
}

static void
test_golden(void **state)
{
	struct ctl_world w = {.on_timeout = golden_notify, .timeout_arg = &w};
	struct golden_file *gf = golden_read(golden_path);
	GString *actual = g_string_new(NULL), *errs = g_string_new(NULL);
	char err[256];
	int nerrs = 0;

	(void)state;
	w.out = g_string_new(NULL);
	if (ctl_world_start(&w, 4096, &(struct ctl_world_cfg){.kind = "inet4"},
			    err, sizeof(err)) != 0)
		fail_msg("ctl_world_start: %s", err);
	for (guint i = 0; i < gf->steps->len; i++) {
		const struct golden_step *st = g_ptr_array_index(gf->steps, i);
		size_t at = w.out->len;

		if (st->cmd != NULL) {
			char *cmd = g_strdup(st->cmd); /* "\\0" undone in place */

			run_command(&w, cmd);
			g_free(cmd);
		} else if (ctl_world_directive(&w, st->text + 1) != 0) {
			fail_msg("%s:%d: bad directive: %s", golden_path,
				 st->line, st->text);
		}
		golden_check(st, w.out->str + at, w.out->len - at, actual, errs,
			     &nerrs);
	}
	/* one actual file per golden file: tests may run side by side */
	char *base = g_path_get_basename(golden_path);
	char *dot = strrchr(base, '.');
	char *actual_name;

	if (dot != NULL)
		*dot = '\0';
	actual_name = actual_path != NULL ? g_strdup(actual_path) :
		      g_strdup_printf("%s.actual", base);
	golden_write_actual(gf, actual, actual_name);
	if (nerrs > 0)
		fail_msg("%d of %u steps differ (see %s):%s", nerrs,
			 gf->steps->len, actual_name, errs->str);
	g_free(actual_name);
	g_free(base);
	assert_true(gf->steps->len > 0);
	assert_int_equal(fake_dp_errors(), 0);
	ctl_world_close(&w);
	assert_int_equal(fake_dp_ids_in_use(), 0);
	assert_int_equal(fake_dp_errors(), 0);
	assert_int_equal(ctl_ports_avail(w.ports), ctl_ports_total(w.ports));
	assert_int_equal(ctl_ports_avail(w.ports6), ctl_ports_total(w.ports6));
	ctl_world_stop(&w);
	g_string_free(w.out, TRUE);
	g_string_free(actual, TRUE);
	g_string_free(errs, TRUE);
	golden_free(gf);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
	};

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s GOLDEN [ACTUAL]\n", argv[0]);
		return 2;
	}
	golden_path = argv[1];
	if (argc == 3)
		actual_path = argv[2];
	ctl_log_set_level(getenv("CTL_TEST_LOG") ? CTL_LOG_DBUG : CTL_LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
