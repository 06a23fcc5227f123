/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ctl.c: libFuzzer target over control's protocol path (issue 4).
 *
 * Each input is a script, one line per step, run through what control
 * runs for a command off a socket: ctl_exec_text_from() (reply cache check,
 * ctl_cmd_parse(), ctl_exec_cmd() against the session table, the port
 * pools and the fake dataplane and prefilter of tests/fake_ctl_dp.c and
 * tests/fake_ctl_pf.c, reply formatting, caching). The lines:
 *
 *   @DATAGRAM   one udp: datagram (cookie first; the reply is cached)
 *   !DIRECTIVE  a harness step (below); an unknown one does nothing
 *   anything    one stream command, as a cunix: line (an empty line is
 *               one, answered E5); NUL bytes are kept, the bytes are
 *               handed over in a buffer of exactly their length
 *
 * The directives are those of tests/ctl_world.h, shared with the golden
 * test (so tests/data/cmd_parse.golden's blocks are seeds,
 * tests/fuzz/gen_seeds.py); a bad or unknown one does nothing. Each
 * input starts as "!config labels pf notify", every feature on.
 *
 * State is rebuilt for every input (pools seeded as the golden test, the
 * fakes reset), so a crash reproduces from its input alone, and freed
 * after it, so LeakSanitizer sees what control leaks. Beyond the
 * sanitizers, these are checked and abort() when broken:
 *  - every command gets a reply: non-empty, ending in '\n', starting
 *    with "<cookie> " for a datagram with a cookie (rtpproxy clients
 *    read one line and match the cookie);
 *  - a timeout notification names a target of the -n set;
 *  - control never misuses the dataplane or the prefilter (the fakes'
 *    error counters: a DEL of a dead stream, an id freed twice, an entry
 *    added twice...), and a reconcile deletes no entry of a live session;
 *  - after the session table is destroyed, no stream id, port pair,
 *    dataplane stream or prefilter entry is left;
 *  - no log line holds a CR or LF (a forged line in the log), nor, with
 *    FUZZ_CTL_STRICT_LOG set, any other control byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <glib.h>

#include "ctl_addrs.h"
#include "ctl_cmd_exec.h"
#include "ctl_log.h"
#include "ctl_ports.h"
#include "ctl_session.h"
#include "ctl_tnotify.h"
#include "ctl_world.h"
#include "fake_ctl_dp.h"
#include "fake_ctl_pf.h"
#include "fuzz_world.h"

/* few stream ids (and ctl_world.h's 21 port pairs), so running out of
 * ports and stream ids is reachable */
#define MAX_STREAMS 48
/* control's reply buffer (ctl_sock.c OUT_MAX): cookie + reply */
#define OUT_MAX (CTL_CMD_BUFLEN + CTL_REPLY_MAX + 2)
#define DIRECTIVE_MAX 256

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The configuration each input starts with: every feature on. */
static const struct ctl_world_cfg cfg_default = {.kind = "labels", .pf = true,
						 .notify = true};

/* FUZZ_CTL_ECHO set: replies go to stdout, to compare a run of the
 * golden steps with tests/data/cmd_parse.golden's replies */
static bool echo;

/* FUZZ_CTL_STRICT_LOG set: no control byte at all in a log line (what
 * ctl_log.h promises for call-ids and tags); off by default, as tags
 * are still logged unescaped */
static bool strict_log;

/* Lines are formatted (escaping, addresses) but go nowhere. */
static void
log_hook(enum ctl_log_level level, const char *line, void *arg)
{
	(void)level;
	(void)arg;
	FUZZ_CHECK(strpbrk(line, "\r\n") == NULL, "log line with CR/LF: %s", line);
	for (const char *c = line; strict_log && *c != '\0'; c++)
		FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
		      "log line with control byte 0x%02x: %s",
		      (unsigned char)*c, line);
}

/* A timeout notification: a target of the set, a tag, a call-id. */
static void
on_timeout(int target, const char *tag, const char *call_id, void *arg)
{
	struct ctl_world *w = arg;
	char name[300];
	const char *d;
	volatile size_t n;

	FUZZ_CHECK(ctl_tnotify_get(w->tnotify, target) != NULL,
	      "timeout notification to target %d of %u", target,
	      ctl_tnotify_count(w->tnotify));
	FUZZ_CHECK(tag != NULL && call_id != NULL, "notification without tag");
	d = ctl_tnotify_describe(w->tnotify, target, name, sizeof(name));
	/* read them whole: a freed tag or call-id is an ASan report */
	n = strlen(d) + strlen(tag) + strlen(call_id);
	(void)n;
	if (echo)
		printf("notify %s %s\n", d, tag);
}

/*
 * One directive (the bytes after '!'). "pf reconcile" is the fuzzer's
 * own: every prefilter entry belongs to a live session's socket, so a
 * reconcile deletes none.
 */
static void
directive(struct ctl_world *w, const uint8_t *p, size_t len)
{
	char buf[DIRECTIVE_MAX];
	uint32_t n;

	if (len >= sizeof(buf) || memchr(p, '\0', len) != NULL)
		return;
	memcpy(buf, p, len);
	buf[len] = '\0';
	if (strcmp(buf, "pf reconcile") == 0) {
		n = ctl_sessions_pf_reconcile(w->sess);
		FUZZ_CHECK(n == 0, "reconcile deleted %u entries of live sessions", n);
		return;
	}
	(void)ctl_world_directive(w, buf); /* a bad one does nothing */
	if (echo)
		fwrite(w->out->str, 1, w->out->len, stdout);
	g_string_truncate(w->out, 0);
}

static bool
is_sep(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A datagram's first token (its cookie), NUL bytes included, within
 * the bytes the parser reads. @return its length. */
static size_t
first_token(const uint8_t *p, size_t len, const uint8_t **tok)
{
	size_t i = 0, n;

	if (len > CTL_CMD_BUFLEN)
		len = CTL_CMD_BUFLEN;
	while (i < len && is_sep(p[i]))
		i++;
	for (n = i; n < len && !is_sep(p[n]); n++)
		;
	*tok = p + i;
	return n - i;
}

/* "E<n>\n": an error reply without a cookie. */
static bool
bare_error(const char *r, size_t n)
{
	size_t i = 1;

	if (n < 3 || r[0] != 'E')
		return false;
	while (i < n - 1 && r[i] >= '0' && r[i] <= '9')
		i++;
	return i > 1 && i == n - 1 && r[i] == '\n';
}

/*
 * One command off a socket; its reply is checked: one line or more,
 * ended by a newline, and for a datagram, "<cookie> " first. A cookie
 * token with a NUL byte may be refused as a whole (E5, no cookie) or
 * cut at the NUL; a datagram without a token gets a bare error.
 */
static void
command(struct ctl_world *w, char *out, const uint8_t *p, size_t len,
	bool datagram)
{
	/* exactly len bytes: a read past the command is an overflow */
	char *in = malloc(len > 0 ? len : 1);
	const uint8_t *tok, *nul;
	size_t tlen, clen, n;
	bool cookie_ok;

	FUZZ_CHECK(in != NULL, "malloc");
	memcpy(in, p, len);
	n = ctl_world_command(w, in, len, datagram, out, OUT_MAX);
	free(in);
	if (echo)
		fwrite(out, 1, n, stdout);
	FUZZ_CHECK(n > 0 && n <= OUT_MAX, "no reply (%zu bytes)", n);
	FUZZ_CHECK(out[n - 1] == '\n', "reply not ended by a newline");
	if (datagram) {
		tlen = first_token(p, len, &tok);
		nul = memchr(tok, '\0', tlen);
		clen = nul != NULL ? (size_t)(nul - tok) : tlen;
		cookie_ok = clen > 0 && n > clen + 1 &&
			    memcmp(out, tok, clen) == 0 && out[clen] == ' ';
		FUZZ_CHECK(cookie_ok || ((nul != NULL || tlen == 0) &&
				    bare_error(out, n)),
		      "datagram reply without its cookie");
	}
	fuzz_world_check_fakes();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	echo = getenv("FUZZ_CTL_ECHO") != NULL;
	strict_log = getenv("FUZZ_CTL_STRICT_LOG") != NULL;
	if (echo)
		setvbuf(stdout, NULL, _IOLBF, 0);
	/* every line is formatted (call-id escaping included), none kept */
	ctl_log_set_level(CTL_LOG_DBUG);
	ctl_log_set_hook(log_hook, NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[OUT_MAX];
	struct ctl_world w = {.on_timeout = on_timeout, .timeout_arg = &w,
			      .close = fuzz_world_close};
	char err[256];
	size_t i = 0;

	w.out = g_string_new(NULL);
	FUZZ_CHECK(ctl_world_start(&w, MAX_STREAMS, &cfg_default, err,
			      sizeof(err)) == 0, "ctl_world_start: %s", err);

	while (i < size) {
		const uint8_t *line = data + i;
		const uint8_t *nl = memchr(line, '\n', size - i);
		size_t len = nl != NULL ? (size_t)(nl - line) : size - i;

		i += len + 1;
		if (len > 0 && line[0] == '!')
			directive(&w, line + 1, len - 1);
		else if (len > 0 && line[0] == '@')
			command(&w, out, line + 1, len - 1, true);
		else
			command(&w, out, line, len, false);
	}

	fuzz_world_close(&w);
	ctl_world_stop(&w);
	g_string_free(w.out, TRUE);
	fake_dp_clear_msgs();
	return 0;
}
