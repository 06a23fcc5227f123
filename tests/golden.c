/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * golden.c: reading and checking the protocol golden files (golden.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "golden.h"

/* "> text" / ">" and "< text" / "<": the text after the marker. */
static const char *
after_marker(const char *line)
{
	return line[1] == ' ' ? line + 2 : line + 1;
}

struct golden_file *
golden_read(const char *path)
{
	struct golden_file *gf = g_new0(struct golden_file, 1);
	struct golden_step *st = NULL;
	GString *pending = g_string_new(NULL);
	gchar *text = NULL;
	gsize len = 0;
	char **lines;

	if (!g_file_get_contents(path, &text, &len, NULL))
		fail_msg("cannot read %s", path);
	/* the file's final newline ends the last line, it is not a line */
	if (len > 0 && text[len - 1] == '\n')
		text[len - 1] = '\0';
	gf->path = g_strdup(path);
	gf->steps = g_ptr_array_new();
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i] != NULL; i++) {
		const char *l = lines[i];

		if (l[0] == '<') {
			if (st == NULL || pending->len > 0)
				fail_msg("%s:%d: a reply line not under a step",
					 path, i + 1);
			g_string_append_printf(st->want, "%s\n",
					       after_marker(l));
			continue;
		}
		if (l[0] == '#' || l[0] == '\0') {
			g_string_append_printf(pending, "%s\n", l);
			continue;
		}
		if (l[0] != '>' && l[0] != '!')
			fail_msg("%s:%d: neither '>', '<', '!' nor '#': %s",
				 path, i + 1, l);
		st = g_new0(struct golden_step, 1);
		st->line = i + 1;
		st->text = g_strdup(l);
		st->cmd = l[0] == '>' ? g_strdup(after_marker(l)) : NULL;
		st->want = g_string_new(NULL);
		st->before = pending;
		pending = g_string_new(NULL);
		g_ptr_array_add(gf->steps, st);
	}
	gf->tail = pending;
	g_strfreev(lines);
	g_free(text);
	return gf;
}

void
golden_free(struct golden_file *gf)
{
	for (guint i = 0; i < gf->steps->len; i++) {
		struct golden_step *st = g_ptr_array_index(gf->steps, i);

		g_free((char *)st->text);
		g_free((char *)st->cmd);
		g_string_free(st->want, TRUE);
		g_string_free(st->before, TRUE);
		g_free(st);
	}
	g_ptr_array_free(gf->steps, TRUE);
	g_string_free(gf->tail, TRUE);
	g_free(gf->path);
	g_free(gf);
}

bool
golden_check(const struct golden_step *st, const char *got, size_t len,
	     GString *actual, GString *errs, int *nerrs)
{
	size_t i = 0;

	g_string_append_printf(actual, "%s%s\n", st->before->str, st->text);
	while (i < len) {
		const char *nl = memchr(got + i, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - got - i) : len - i;

		g_string_append(actual, n > 0 ? "< " : "<");
		g_string_append_len(actual, got + i, (gssize)n);
		g_string_append_c(actual, '\n');
		i += n + 1;
	}
	if (len == st->want->len && memcmp(got, st->want->str, len) == 0)
		return true;
	if (++*nerrs <= 10)
		g_string_append_printf(errs, "\n  line %d: %s\n    got:  %.*s"
				       "    want: %s", st->line, st->text,
				       (int)len, got,
				       st->want->len > 0 ? st->want->str
							 : "(nothing)\n");
	return false;
}

void
golden_write_actual(const struct golden_file *gf, GString *actual,
		    const char *name)
{
	g_string_append(actual, gf->tail->str);
	g_file_set_contents(name, actual->str, (gssize)actual->len, NULL);
}
