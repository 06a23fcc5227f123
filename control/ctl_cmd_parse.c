/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_cmd_parse.c: text -> struct ctl_cmd, no I/O, no state.
 *
 * The checks run in rtpproxy's order, so a command with several faults
 * gets the code rtpproxy gives:
 *   1. split (rtpp_command_split): too long, NUL, > 24 tokens, > 16
 *      sub-commands, empty, missing command after the cookie -> E5;
 *   2. pre-parse (rtpp_command_pre_parse): unknown letter E0, argument
 *      count E1, modifiers on a command without any E2, "&&" E3;
 *   3. per-op options: U/L (rtpp_command_ul_opts_parse: E10, modifiers
 *      in order E11..E14/E35, E36, E37), D E8, I E18, G E9, Q E19, P E17,
 *      R/C/N E6/E7.
 * Session lookups and everything that needs state are ctl_cmd_exec.c's.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd.h"

/* rtpproxy IS_IPSTR_VALID() bounds (rpcpv1_ul.c) */
#define IPSTR_MIN_LENV4 7  /* "1.1.1.1" */
#define IPSTR_MAX_LENV4 15 /* "255.255.255.255" */
#define IPSTR_MIN_LENV6 2  /* "::" */
#define IPSTR_MAX_LENV6 45

/** Per-op argument counts and flags (rtpproxy fill_cmd_props()). */
struct cmd_props {
	enum ctl_op op;
	const char *name;
	int min_argc;
	int max_argc;
	bool has_mods;
	bool has_call_id;
	int fpos; /* from_tag index, -1 if none */
	int tpos; /* to_tag index, -1 if none */
};

/* Q accepts up to this many counter names after to_tag (RTPP_QUERY_NSTATS) */
#define QUERY_NSTATS 14

static int
parse_fail(struct ctl_cmd *cmd, int ecode, const char *reason)
{
	cmd->ecode = ecode;
	cmd->reason = reason;
	return -1;
}

/* Like parse_fail() with a formatted reason kept in cmd->reason_buf. */
static int __attribute__((format(printf, 3, 4)))
parse_failf(struct ctl_cmd *cmd, int ecode, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd->reason_buf, sizeof(cmd->reason_buf), fmt, ap);
	va_end(ap);
	return parse_fail(cmd, ecode, cmd->reason_buf);
}

static bool
is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Split buf[0..len) in place at runs of SP/TAB/CR/LF. Tokens before the
 * first "&&" go to argv; later ones are only counted per sub-command
 * (limits as rtpproxy's). The cookie, in datagram mode, is kept aside.
 */
static int
split(struct ctl_cmd *cmd, size_t len, bool datagram)
{
	int ntok = 0; /* tokens of the current (sub)command */
	size_t i = 0;

	while (i < len) {
		char *tok;

		while (i < len && is_sep(cmd->buf[i]))
			cmd->buf[i++] = '\0';
		if (i >= len)
			break;
		tok = &cmd->buf[i];
		while (i < len && !is_sep(cmd->buf[i]))
			i++;
		if (i < len)
			cmd->buf[i++] = '\0';
		if (datagram && cmd->cookie == NULL) {
			cmd->cookie = tok;
			continue;
		}
		if (strcmp(tok, "&&") == 0) {
			if (++cmd->nsubc > CTL_CMD_MAX_SUBC)
				return parse_fail(cmd, CTL_E_PARSE_1,
						  "too many sub-commands");
			ntok = 0;
			continue;
		}
		if (++ntok > CTL_CMD_MAX_ARGC)
			return parse_fail(cmd, CTL_E_PARSE_1,
					  "too many arguments");
		if (cmd->nsubc == 0)
			cmd->argv[cmd->argc++] = tok;
	}
	return 0;
}

/* The command table: rtpproxy fill_cmd_props(), by first letter. */
static int
cmd_props(struct ctl_cmd *cmd, struct cmd_props *p)
{
	const char *a0 = cmd->argv[0];

	memset(p, 0, sizeof(*p));
	p->has_call_id = true;
	p->fpos = p->tpos = -1;
	cmd->mods = a0 + 1;
	switch (a0[0]) {
	case 'u': case 'U':
		*p = (struct cmd_props){CTL_OP_UPDATE, "update/create", 5, 8,
					true, true, 4, 5};
		break;
	case 'l': case 'L':
		*p = (struct cmd_props){CTL_OP_LOOKUP, "lookup", 5, 6, true,
					true, 4, 5};
		break;
	case 'd': case 'D':
		*p = (struct cmd_props){CTL_OP_DELETE, "delete", 3, 4, true,
					true, 2, 3};
		break;
	case 'p': case 'P':
		*p = (struct cmd_props){CTL_OP_PLAY, "play", 5, 6, true, true,
					4, 5};
		break;
	case 'r': case 'R':
		*p = (struct cmd_props){CTL_OP_RECORD, "record", 3, 4, true,
					true, 2, 3};
		break;
	case 'c': case 'C':
		*p = (struct cmd_props){CTL_OP_COPY, "copy", 4, 5, true, true,
					3, 4};
		break;
	case 's': case 'S':
		*p = (struct cmd_props){CTL_OP_NOPLAY, "noplay", 3, 4, false,
					true, 2, 3};
		break;
	case 'n': case 'N':
		*p = (struct cmd_props){CTL_OP_NORECORD, "norecord", 3, 4,
					true, true, 2, 3};
		break;
	case 'v': case 'V':
		if (a0[1] == 'f' || a0[1] == 'F') {
			cmd->mods = a0 + 2;
			*p = (struct cmd_props){CTL_OP_VER_FEATURE,
						"feature_check", 2, 2, false,
						false, -1, -1};
		} else {
			*p = (struct cmd_props){CTL_OP_VER, "get_version", 1,
						1, false, false, -1, -1};
		}
		break;
	case 'i': case 'I':
		*p = (struct cmd_props){CTL_OP_INFO, "get_info", 1, 1, true,
					false, -1, -1};
		break;
	case 'q': case 'Q':
		*p = (struct cmd_props){CTL_OP_QUERY, "query", 3,
					4 + QUERY_NSTATS, true, true, 2, 3};
		break;
	case 'x': case 'X':
		*p = (struct cmd_props){CTL_OP_DELETE_ALL, "delete_all", 1, 1,
					false, false, -1, -1};
		break;
	case 'g': case 'G':
		*p = (struct cmd_props){CTL_OP_GET_STATS, "get_stats", 1,
					CTL_CMD_MAX_ARGC, true, false, -1, -1};
		break;
	default:
		return parse_failf(cmd, CTL_E_CMDUNKN, "unknown command \"%c\"",
				   isprint((unsigned char)a0[0]) ? a0[0] : '?');
	}
	return 0;
}

/* rtpproxy url_unquote(): %XX -> byte, in place; -1 on bad encoding. */
static int
url_unquote(char *s)
{
	char *w = s;
	const char *r = s;

	while (*r != '\0') {
		if (*r != '%') {
			*w++ = *r++;
			continue;
		}
		if (!isxdigit((unsigned char)r[1]) ||
		    !isxdigit((unsigned char)r[2]))
			return -1;
		char hex[3] = {r[1], r[2], '\0'};

		*w++ = (char)strtol(hex, NULL, 16);
		r += 3;
	}
	*w = '\0';
	return (int)(w - s);
}

/* One 'c' modifier: digits and commas; E14 if empty or given twice. */
static int
ul_codecs(struct ctl_cmd *cmd, const char **cpp)
{
	const char *t = *cpp + 1, *cp = t;

	while (*cp != '\0' && (isdigit((unsigned char)*cp) || *cp == ','))
		cp++;
	if (cp == t || cmd->ul.codecs != NULL)
		return parse_fail(cmd, CTL_E_PARSE_14,
				  "codec list empty or given twice");
	cmd->ul.codecs = t;
	cmd->ul.codecs_len = (size_t)(cp - t);
	*cpp = cp - 1;
	return 0;
}

/* One 'Z' modifier: ptime 1..999 (rtpproxy strtol + range). */
static int
ul_ptime(struct ctl_cmd *cmd, const char **cpp)
{
	char *end;
	long v = strtol(*cpp + 1, &end, 10);

	if (v <= 0 || v >= 1000)
		return parse_fail(cmd, CTL_E_PARSE_13, "ptime not in 1..999");
	cmd->ul.ptime = (int)v;
	*cpp = end - 1;
	return 0;
}

/* The U/L modifier string, left to right (rpcpv1_ul.c). */
static int
ul_mods(struct ctl_cmd *cmd)
{
	const char *cp;

	for (cp = cmd->mods; *cp != '\0'; cp++) {
		switch (*cp) {
		case 'a': case 'A':
			cmd->ul.asymmetric = true;
			break;
		case 's': case 'S':
			cmd->ul.asymmetric = false;
			break;
		case 'e': case 'E':
			return parse_fail(cmd, CTL_E_PARSE_11,
					  "'E' needs bridge mode");
		case 'i': case 'I':
			return parse_fail(cmd, CTL_E_PARSE_12,
					  "'I' needs bridge mode");
		case '6':
			cmd->ul.ipv6 = true;
			break;
		case 'w': case 'W':
			cmd->ul.weak = true;
			break;
		case 'n': case 'N':
			cmd->ul.new_port = true;
			break;
		case 'z': case 'Z':
			if (ul_ptime(cmd, &cp) != 0)
				return -1;
			break;
		case 'c': case 'C':
			if (ul_codecs(cmd, &cp) != 0)
				return -1;
			break;
		default:
			/* includes 'L<addr>'/'R<addr>': one relay address, so
			 * choosing a local address is not supported */
			return parse_failf(cmd, CTL_E_INVLARG_5,
					   "unknown command modifier '%c'",
					   isprint((unsigned char)*cp) ? *cp
								       : '?');
		}
	}
	return 0;
}

/* A UDP port as getaddrinfo(AI_NUMERICHOST) takes it: decimal 0..65535. */
static int
parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/*
 * The remote address and port (argv[2], argv[3]). As rtpproxy: a string
 * whose length cannot be an address of the family is ignored (no remote,
 * no error: IS_IPSTR_VALID); otherwise it must parse (E37); the null
 * address puts the leg on hold. Port 0 carries no usable peer either, so
 * it is treated as "no remote" (rtpproxy would pre-fill addr:0). With
 * '6' the address is IPv6 (rtpproxy resolves it with pf AF_INET6, so an
 * IPv4 address is E37); an IPv4-mapped one is taken as IPv4.
 */
static int
ul_remote(struct ctl_cmd *cmd)
{
	const char *a = cmd->argv[2];
	size_t alen = strlen(a);
	int af = cmd->ul.ipv6 ? AF_INET6 : AF_INET;
	uint8_t ip[16];
	uint16_t port;
	static const uint8_t zero[16];
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					     0xff, 0xff};

	if (af == AF_INET ? (alen < IPSTR_MIN_LENV4 || alen > IPSTR_MAX_LENV4)
			  : (alen < IPSTR_MIN_LENV6 || alen > IPSTR_MAX_LENV6))
		return 0;
	if (inet_pton(af, a, ip) != 1 || parse_port(cmd->argv[3], &port) != 0)
		return parse_fail(cmd, CTL_E_INVLARG_7,
				  "remote address/port not numeric");
	if (memcmp(ip, zero, af == AF_INET ? 4 : 16) == 0 ||
	    (af == AF_INET6 && memcmp(ip, v4mapped, sizeof(v4mapped)) == 0 &&
	     memcmp(ip + 12, zero, 4) == 0)) {
		cmd->ul.onhold = true;
		return 0;
	}
	if (port == 0)
		return 0;
	memset(&cmd->ul.remote, 0, sizeof(cmd->ul.remote));
	cmd->ul.remote.port = htons(port);
	if (af == AF_INET6 && memcmp(ip, v4mapped, sizeof(v4mapped)) == 0) {
		/* ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) is an IPv4 party: the
		 * dataplane sends IPv4 to it, from an IPv4 socket */
		cmd->ul.remote.family = RTPB_AF_INET;
		memcpy(cmd->ul.remote.ip, ip + 12, 4);
	} else {
		cmd->ul.remote.family = af == AF_INET ? RTPB_AF_INET
						      : RTPB_AF_INET6;
		memcpy(cmd->ul.remote.ip, ip, af == AF_INET ? 4 : 16);
	}
	cmd->ul.has_remote = true;
	return 0;
}

/* U/L: notify args, modifiers, family, remote (rtpp_command_ul_opts_parse). */
static int
parse_ul(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg)
{
	cmd->ul.ptime = -1;
	if (cmd->op == CTL_OP_UPDATE && cmd->argc > 6) {
		char *tag;

		if (cmd->argc == 8) {
			cmd->ul.notify_socket = cmd->argv[6];
			tag = cmd->argv[7];
		} else {
			/* 7 args: from_tag notify_socket notify_tag, no to_tag */
			cmd->ul.notify_socket = cmd->argv[5];
			tag = cmd->argv[6];
			cmd->to_tag = NULL;
		}
		if (url_unquote(tag) < 0)
			return parse_fail(cmd, CTL_E_PARSE_10,
					  "invalid URL encoding of notify_tag");
		cmd->ul.notify_tag = tag;
	}
	if (ul_mods(cmd) != 0)
		return -1;
	if (cmd->ul.ipv6 && !cfg->has_inet6)
		return parse_fail(cmd, CTL_E_INVLARG_6,
				  "no IPv6 relay address (-6)");
	if (!cmd->ul.ipv6 && !cfg->has_inet4)
		return parse_fail(cmd, CTL_E_INVLARG_6,
				  "no IPv4 relay address (-l)");
	return ul_remote(cmd);
}

static int
parse_delete(struct ctl_cmd *cmd)
{
	for (const char *cp = cmd->mods; *cp != '\0'; cp++) {
		if (*cp != 'w' && *cp != 'W')
			return parse_failf(cmd, CTL_E_PARSE_4,
					   "unknown command modifier '%c'",
					   isprint((unsigned char)*cp) ? *cp : '?');
		cmd->weak = true;
	}
	return 0;
}

static int
parse_info(struct ctl_cmd *cmd)
{
	for (const char *cp = cmd->mods; *cp != '\0'; cp++) {
		if (*cp == 'l' || *cp == 'L')
			cmd->info_load = true;
		else if (*cp != 'b' && *cp != 'B')
			return parse_fail(cmd, CTL_E_PARSE_7,
					  "unknown command modifier");
	}
	return 0;
}

/* G and Q: 'v' only (E9 / E19); the counter names are kept. */
static int
parse_stats(struct ctl_cmd *cmd, int ecode, int first_name)
{
	for (const char *cp = cmd->mods; *cp != '\0'; cp++) {
		if (*cp != 'v' && *cp != 'V')
			return parse_fail(cmd, ecode,
					  "unknown command modifier");
		cmd->verbose = true;
	}
	for (int i = first_name; i < cmd->argc; i++) {
		if (cmd->nqnames == CTL_CMD_MAX_QNAMES)
			return parse_fail(cmd, CTL_E_PARSE_NARGS,
					  "too many counter names");
		cmd->qnames[cmd->nqnames++] = cmd->argv[i];
	}
	return 0;
}

/* P<count>: an integer, negative = loop (rtpproxy strtol check, E17). */
static int
parse_play(struct ctl_cmd *cmd)
{
	char *end;
	long v;

	cmd->play_count = 1;
	cmd->play_name = cmd->argv[2];
	cmd->play_codecs = cmd->argv[3];
	if (*cmd->mods == '\0')
		return 0;
	errno = 0;
	v = strtol(cmd->mods, &end, 10);
	if (end == cmd->mods || *end != '\0' || errno != 0 || v > 1000000 ||
	    v < -1000000)
		return parse_fail(cmd, CTL_E_PARSE_6, "play count not a number");
	cmd->play_count = (int)v;
	return 0;
}

/*
 * R[s], C[s|p], N[a]: the recording family. rtpproxy: R 'p' -> E6,
 * N 'a' followed by junk -> E6, anything unknown -> E7.
 */
static int
parse_record(struct ctl_cmd *cmd)
{
	const char *ok = cmd->op == CTL_OP_RECORD ? "sS"
			 : cmd->op == CTL_OP_COPY ? "sSpP"
						  : "aA";

	for (const char *cp = cmd->mods; *cp != '\0'; cp++) {
		if (strchr(ok, *cp) != NULL) {
			if (cmd->op == CTL_OP_NORECORD && cp[1] != '\0')
				return parse_fail(cmd, CTL_E_PARSE_2,
						  "junk after 'a'");
			continue;
		}
		if (cmd->op == CTL_OP_RECORD && (*cp == 'p' || *cp == 'P'))
			return parse_fail(cmd, CTL_E_PARSE_2,
					  "'p' is not an R modifier");
		return parse_fail(cmd, CTL_E_PARSE_3,
				  "unknown command modifier");
	}
	if (cmd->op == CTL_OP_COPY)
		cmd->copy_target = cmd->argv[2];
	return 0;
}

/* Step 3: the options of each op. */
static int
parse_op(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg)
{
	switch (cmd->op) {
	case CTL_OP_UPDATE:
	case CTL_OP_LOOKUP:
		return parse_ul(cmd, cfg);
	case CTL_OP_DELETE:
		return parse_delete(cmd);
	case CTL_OP_INFO:
		return parse_info(cmd);
	case CTL_OP_GET_STATS:
		return parse_stats(cmd, CTL_E_PARSE_5, 1);
	case CTL_OP_QUERY:
		return parse_stats(cmd, CTL_E_PARSE_8, 4);
	case CTL_OP_PLAY:
		return parse_play(cmd);
	case CTL_OP_RECORD:
	case CTL_OP_COPY:
	case CTL_OP_NORECORD:
		return parse_record(cmd);
	case CTL_OP_VER_FEATURE:
		cmd->feature = cmd->argv[1];
		return 0;
	default:
		return 0;
	}
}

/* Step 2: rtpp_command_pre_parse(). */
static int
pre_parse(struct ctl_cmd *cmd)
{
	struct cmd_props p;

	if (cmd_props(cmd, &p) != 0)
		return -1;
	cmd->op = p.op;
	cmd->name = p.name;
	if (cmd->argc < p.min_argc || cmd->argc > p.max_argc)
		return parse_failf(cmd, CTL_E_PARSE_NARGS,
				   "invalid number of arguments (%d)",
				   cmd->argc);
	if (!p.has_mods && *cmd->mods != '\0')
		return parse_fail(cmd, CTL_E_PARSE_MODS,
				  "modifiers are not supported by the command");
	/* no op supports sub-commands here yet (rtpproxy: U/L/Q do) */
	if (cmd->nsubc > 0)
		return parse_fail(cmd, CTL_E_PARSE_SUBC,
				  "sub-commands are not supported");
	cmd->call_id = p.has_call_id ? cmd->argv[1] : NULL;
	cmd->from_tag = p.fpos > 0 ? cmd->argv[p.fpos] : NULL;
	cmd->to_tag = (p.tpos > 0 && p.tpos < cmd->argc) ? cmd->argv[p.tpos]
							  : NULL;
	return 0;
}

int
ctl_cmd_parse(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg,
	      const char *text, size_t len, bool datagram)
{
	size_t n = len > CTL_CMD_BUFLEN ? CTL_CMD_BUFLEN : len;
	const char *nul;

	/* reset everything but the 8 KiB buffer */
	memset((char *)cmd + sizeof(cmd->buf), 0, sizeof(*cmd) - sizeof(cmd->buf));
	memcpy(cmd->buf, text, n);
	cmd->buf[n] = '\0';
	/* a NUL ends what can be split; the cookie before it still counts */
	nul = memchr(cmd->buf, '\0', n);
	if (split(cmd, nul != NULL ? (size_t)(nul - cmd->buf) : n, datagram) != 0)
		return -1;
	if (len > CTL_CMD_BUFLEN)
		return parse_fail(cmd, CTL_E_PARSE_1, "command too long");
	if (nul != NULL)
		return parse_fail(cmd, CTL_E_PARSE_1, "NUL byte in command");
	if (cmd->argc < 1)
		return parse_fail(cmd, CTL_E_PARSE_1,
				  datagram && cmd->cookie != NULL
					  ? "no command after the cookie"
					  : "empty command");
	if (pre_parse(cmd) != 0)
		return -1;
	return parse_op(cmd, cfg);
}

int
ctl_cmd_tag_cmp(const char *tag, const char *prefix, unsigned *medianum)
{
	size_t n = strlen(prefix);

	if (strncmp(tag, prefix, n) != 0)
		return 0;
	if (tag[n] == ';') {
		if (medianum != NULL)
			*medianum = (unsigned)strtoul(tag + n + 1, NULL, 10);
		return 2;
	}
	return tag[n] == '\0' ? 1 : 0;
}
