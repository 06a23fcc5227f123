/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * golden.h: the protocol golden files (tests/data/<name>.golden), read
 * and checked for test_ctl_cmd_parse and test_ctl_sock.
 *
 * A golden file is a list of steps, each followed by what it must
 * output, side by side:
 *
 *   # a comment                 (as empty lines: kept, not run)
 *   > U c1 198.51.100.9 5000 f1 a command: the bytes after "> " (">"
 *   < 23838 192.0.2.1           alone: an empty command); its reply,
 *   !dp msgs                    one "< " line each ("<" alone: an empty
 *   < dp ADD ...                line); '!' a test's own directive
 *
 * A step passes when its output equals its reply lines, each ended by a
 * newline, byte for byte. The actual output is written back in the same
 * form (comments and steps as they were), so a reviewed .actual file can
 * become the golden file.
 */
#ifndef RTPB_TEST_GOLDEN_H
#define RTPB_TEST_GOLDEN_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

/** One step of a golden file. */
struct golden_step {
	int line;        /**< its line in the file, from 1 */
	const char *text;   /**< the line as written ("> V", "!tick") */
	const char *cmd;    /**< a command: the text after the marker;
				 NULL for a directive */
	GString *want;      /**< the reply lines, each "\n"-ended */
	GString *before;    /**< comment and empty lines before it */
};

/** A golden file, read whole. */
struct golden_file {
	GPtrArray *steps; /**< of struct golden_step */
	GString *tail;    /**< comment and empty lines after the last step */
	char *path;
};

/**
 * Read path. A line that is none of '>', '<', '!', '#' or empty, or a
 * '<' before any step, fails the test (cmocka fail_msg()).
 * @return the file, freed with golden_free().
 */
struct golden_file *golden_read(const char *path);

void golden_free(struct golden_file *gf);

/**
 * Compare step st's output [got, got + len) with its reply lines and
 * append it to actual in the golden form.
 * @param errs the first ten differences are described here.
 * @return true if equal.
 */
bool golden_check(const struct golden_step *st, const char *got, size_t len,
		  GString *actual, GString *errs, int *nerrs);

/** Finish actual (the file's tail) and write it to name. */
void golden_write_actual(const struct golden_file *gf, GString *actual,
			 const char *name);

#endif /* RTPB_TEST_GOLDEN_H */
