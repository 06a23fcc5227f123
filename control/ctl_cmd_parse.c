/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_cmd_parse.c: text -> struct ctl_cmd, no I/O, no state.
 *
 * The checks run in rtpproxy's order, so a command with several faults
 * gets the code rtpproxy gives:
 *   1. split (rtpp_command_split): a token with a NUL byte, a
 *      (sub)command of 24 tokens, a 16th "&&", an empty (sub)command,
 *      a datagram with nothing after its cookie -> E5; too long -> E5;
 *   2. pre-parse (rtpp_command_pre_parse), from the command table
 *      (ctl_cmd.h CTL_CMD_FOREACH): unknown letter E0, argument count
 *      E1, modifiers on a command without any E2, "&&" after a command
 *      other than U, L, Q E3;
 *   3. per-op options, the table's parse function: U/L (rtpp_command_ul_opts_parse: E10, modifiers
 *      in order E11..E16/E31/E32/E35, E36, E37), D E8, I E18, G E9,
 *      P E17, R/C/N E6/E7 (Q's E19 waits for the session lookup);
 *   4. sub-commands (rtpp_subcommand_ul_opts_parse): E3.
 * Session lookups and everything that needs state are ctl_cmd_exec.c's.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rtpb_pf_rules.h"
#include "ctl_cmd.h"

/* rtpproxy IS_IPSTR_VALID() bounds (rpcpv1_ul.c) */
#define IPSTR_MIN_LENV4 7  /* "1.1.1.1" */
#define IPSTR_MAX_LENV4 15 /* "255.255.255.255" */
#define IPSTR_MIN_LENV6 2  /* "::" */
#define IPSTR_MAX_LENV6 45

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
 * Split buf[0..len) in place at runs of SP/TAB/CR/LF (rtpproxy
 * rtpp_command_split()). Tokens before the first "&&" go to argv, later
 * ones to the sub-command they follow. In datagram mode the first token
 * is the cookie, kept aside. Limits as rtpproxy's: a token holding a NUL
 * byte, a (sub)command filling all CTL_CMD_MAX_ARGC slots, a
 * CTL_CMD_MAX_SUBC-th "&&", an empty (sub)command or a datagram with no
 * cookie are E5; the cookie counts once its whole token is read.
 */
static int
split(struct ctl_cmd *cmd, size_t len, bool datagram)
{
	char **vec = cmd->argv;
	int *argcp = &cmd->argc;
	size_t i = 0;

	while (i < len) {
		char *tok;
		size_t tlen;

		while (i < len && is_sep(cmd->buf[i]))
			cmd->buf[i++] = '\0';
		if (i >= len)
			break;
		tok = &cmd->buf[i];
		while (i < len && !is_sep(cmd->buf[i]))
			i++;
		tlen = (size_t)(&cmd->buf[i] - tok);
		if (memchr(tok, '\0', tlen) != NULL)
			return parse_fail(cmd, CTL_E_PARSE_1,
					  "NUL byte in command");
		if (i < len)
			cmd->buf[i++] = '\0';
		if (datagram && cmd->cookie == NULL) {
			cmd->cookie = tok;
			continue;
		}
		if (strcmp(tok, "&&") == 0) {
			if (cmd->nsubc == CTL_CMD_MAX_SUBC - 1)
				return parse_fail(cmd, CTL_E_PARSE_1,
						  "too many sub-commands");
			vec = cmd->subv[cmd->nsubc];
			argcp = &cmd->subargc[cmd->nsubc];
			cmd->nsubc++;
			continue;
		}
		vec[(*argcp)++] = tok;
		if (*argcp >= CTL_CMD_MAX_ARGC)
			return parse_fail(cmd, CTL_E_PARSE_1,
					  "too many arguments");
	}
	if (cmd->argc < 1)
		return parse_fail(cmd, CTL_E_PARSE_1,
				  datagram && cmd->cookie != NULL
					  ? "no command after the cookie"
					  : "empty command");
	for (int k = 0; k < cmd->nsubc; k++)
		if (cmd->subargc[k] < 1)
			return parse_fail(cmd, CTL_E_PARSE_1,
					  "empty sub-command");
	return 0;
}

/* The command table (ctl_cmd.h): what each op is. */
const struct ctl_cmd_def ctl_cmd_defs[CTL_OP__COUNT] = {
#define DEF(op, parse, exec, ...) [CTL_OP_##op] = {__VA_ARGS__},
	CTL_CMD_FOREACH(DEF)
#undef DEF
};

/*
 * The op of argv[0] (rtpproxy fill_cmd_props(), by first letter): the
 * longest word of the table it starts with, case-insensitively ("VF"
 * before "V"). The modifiers are the rest of the token. E0 if none.
 */
static int
lookup_op(struct ctl_cmd *cmd)
{
	const char *a0 = cmd->argv[0];
	size_t best = 0;

	for (int op = CTL_OP_NONE + 1; op < CTL_OP__COUNT; op++) {
		size_t n = strlen(ctl_cmd_defs[op].word);

		if (n > best && strncasecmp(a0, ctl_cmd_defs[op].word, n) == 0) {
			cmd->op = (enum ctl_op)op;
			best = n;
		}
	}
	if (best == 0)
		return parse_failf(cmd, CTL_E_CMDUNKN, "unknown command \"%c\"",
				   isprint((unsigned char)a0[0]) ? a0[0] : '?');
	cmd->name = ctl_cmd_defs[cmd->op].name;
	cmd->mods = a0 + best;
	return 0;
}

/* cmd's flag modifier c is one of its op's (ctl_cmd_def.mods); for the
 * ops of flag modifiers only (not CTL_CMD_MODS_ARGS, not NULL) */
static bool
mod_ok(const struct ctl_cmd *cmd, char c)
{
	return strchr(ctl_cmd_defs[cmd->op].mods,
		      tolower((unsigned char)c)) != NULL;
}

/* rtpproxy url_unquote(): %XX -> byte, '+' -> ' ', in place; -1 on
 * bad encoding. */
static int
url_unquote(char *s)
{
	char *w = s;
	const char *r = s;

	while (*r != '\0') {
		if (*r != '%') {
			*w++ = *r == '+' ? ' ' : *r;
			r++;
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
ul_codecs(struct ctl_cmd *cmd, struct ctl_ul_opts *ul, const char **cpp)
{
	const char *t = *cpp + 1, *cp = t;

	while (*cp != '\0' && (isdigit((unsigned char)*cp) || *cp == ','))
		cp++;
	if (cp == t || ul->codecs != NULL)
		return parse_fail(cmd, CTL_E_PARSE_14,
				  "codec list empty or given twice");
	ul->codecs = t;
	ul->codecs_len = (size_t)(cp - t);
	*cpp = cp - 1;
	return 0;
}

/* One 'Z' modifier: ptime 1..999 (rtpproxy strtol + range). */
static int
ul_ptime(struct ctl_cmd *cmd, struct ctl_ul_opts *ul, const char **cpp)
{
	char *end;
	long v = strtol(*cpp + 1, &end, 10);

	if (v <= 0 || v >= 1000)
		return parse_fail(cmd, CTL_E_PARSE_13, "ptime not in 1..999");
	ul->ptime = (int)v;
	*cpp = end - 1;
	return 0;
}

/*
 * rtpproxy extractaddr() after an 'l'/'r' modifier at *cpp: "[v6]" (hex
 * digits and colons), "{label}" ('l' only, rtpproxy 3.2), or an IPv4
 * address (digits and dots). *cpp is left on the last character used.
 * @return 0 with the text in [*s, *s + *n) and *family (RTPB_AF_*, 0 for
 *         a label), or -1 on bad syntax.
 */
static int
extract_addr(const char **cpp, bool label_ok, const char **s, size_t *n,
	     uint8_t *family)
{
	const char *cp = *cpp + 1, *t;

	if (*cp == '[') {
		for (t = ++cp; isxdigit((unsigned char)*cp) || *cp == ':'; cp++)
			;
		if (*cp != ']' || cp == t)
			return -1;
		*family = RTPB_AF_INET6;
		*s = t;
		*n = (size_t)(cp - t);
		*cpp = cp;
		return 0;
	}
	if (*cp == '{' && label_ok) {
		for (t = ++cp; *cp != '\0' && *cp != '}'; cp++)
			;
		if (*cp != '}' || cp == t)
			return -1;
		*family = 0;
		*s = t;
		*n = (size_t)(cp - t);
		*cpp = cp;
		return 0;
	}
	for (t = cp; isdigit((unsigned char)*cp) || *cp == '.'; cp++)
		;
	if (cp == t)
		return -1;
	*family = RTPB_AF_INET;
	*s = t;
	*n = (size_t)(cp - t);
	*cpp = cp - 1;
	return 0;
}

/*
 * 'l<addr>' / 'l[v6]' / 'l{label}': one of the relay addresses, of the
 * session's family as given so far (rtpproxy: "mismatched protocol").
 * E15 on syntax, E31 if it is no relay address (rtpproxy's host2()
 * would bind any local address; here only the dataplane's can carry
 * media) or of the other family.
 */
static int
ul_local(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg,
	 struct ctl_ul_opts *ul, const char **cpp)
{
	const char *s;
	size_t n;
	uint8_t fam;
	struct rtpb_addr a;
	int idx = -1;
	uint8_t want = ul->ipv6 ? RTPB_AF_INET6 : RTPB_AF_INET;

	if (extract_addr(cpp, true, &s, &n, &fam) != 0)
		return parse_fail(cmd, CTL_E_PARSE_15,
				  "'l': local address syntax");
	if (fam != 0 && fam != want)
		return parse_fail(cmd, CTL_E_INVLARG_1,
				  "'l': address of the other family");
	if (cfg->addrs != NULL) {
		if (fam == 0)
			idx = ctl_addrs_find_label(cfg->addrs, s, n);
		else if (ctl_addrs_parse_ip(s, n, fam, &a) == 0)
			idx = ctl_addrs_find_ip(cfg->addrs, &a);
	}
	if (idx < 0)
		return parse_fail(cmd, CTL_E_INVLARG_1,
				  fam == 0 ? "'l': no relay address has that label"
					   : "'l': not a relay address");
	if (ctl_addrs_family(cfg->addrs, idx) != want)
		return parse_fail(cmd, CTL_E_INVLARG_1,
				  "'l': labelled address of the other family");
	ul->local_addr = idx;
	return 0;
}

/*
 * 'r<addr>' / 'r[v6]': the relay address to reach a remote (rtpproxy
 * local4remote(), a route lookup). Control knows no routes of the
 * dataplane, so it answers only when the choice is certain: the single
 * relay address of the remote's family; with several, E32, rtpproxy's
 * code for "no local address for that remote". E16 on syntax.
 */
static int
ul_remote_hint(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg,
	       struct ctl_ul_opts *ul, const char **cpp)
{
	const char *s;
	size_t n;
	uint8_t fam;
	struct rtpb_addr a;
	int idx = -1, count = 0;

	if (extract_addr(cpp, false, &s, &n, &fam) != 0)
		return parse_fail(cmd, CTL_E_PARSE_16,
				  "'r': remote address syntax");
	if (ctl_addrs_parse_ip(s, n, fam, &a) != 0)
		return parse_fail(cmd, CTL_E_INVLARG_2,
				  "'r': invalid remote address");
	for (uint32_t i = 0; cfg->addrs != NULL && i < cfg->addrs->n; i++) {
		if (ctl_addrs_family(cfg->addrs, (int)i) != fam)
			continue;
		count++;
		idx = (int)i;
	}
	if (count != 1)
		return parse_failf(cmd, CTL_E_INVLARG_2,
				   "'r': %d relay addresses of the remote's "
				   "family, the route is not known", count);
	ul->local_addr = idx;
	return 0;
}

/* 'E'/'I' (bridge mode): the first sets lia[1], the second lia[0]. */
static int
ul_side(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg,
	struct ctl_ul_opts *ul, int side)
{
	bool bridge = cfg->addrs != NULL ? cfg->addrs->bridge : cfg->bridge;

	if (ul->lidx < 0 || !bridge) {
		const char *why = ul->lidx < 0 ? "a third 'E'/'I'"
				  : side == CTL_SIDE_EXT ? "'E' needs bridge mode"
							 : "'I' needs bridge mode";

		return parse_fail(cmd, side == CTL_SIDE_EXT ? CTL_E_PARSE_11
							    : CTL_E_PARSE_12,
				  why);
	}
	ul->laddr[ul->lidx] = cfg->addrs != NULL ? cfg->addrs->side[side] : -1;
	ul->lidx--;
	return 0;
}

/* The U/L modifier string, left to right (rpcpv1_ul.c). */
static int
ul_mods(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg,
	struct ctl_ul_opts *ul, const char *mods)
{
	const char *cp;

	for (cp = mods; *cp != '\0'; cp++) {
		switch (*cp) {
		case 'a': case 'A':
			ul->asymmetric = true;
			break;
		case 's': case 'S':
			ul->asymmetric = false;
			break;
		case 'e': case 'E':
			if (ul_side(cmd, cfg, ul, CTL_SIDE_EXT) != 0)
				return -1;
			break;
		case 'i': case 'I':
			if (ul_side(cmd, cfg, ul, CTL_SIDE_INT) != 0)
				return -1;
			break;
		case '6':
			ul->ipv6 = true;
			break;
		case 'w': case 'W':
			ul->weak = true;
			break;
		case 'n': case 'N':
			ul->new_port = true;
			break;
		case 'z': case 'Z':
			if (ul_ptime(cmd, ul, &cp) != 0)
				return -1;
			break;
		case 'c': case 'C':
			if (ul_codecs(cmd, ul, &cp) != 0)
				return -1;
			break;
		case 'l': case 'L':
			if (ul_local(cmd, cfg, ul, &cp) != 0)
				return -1;
			break;
		case 'r': case 'R':
			if (ul_remote_hint(cmd, cfg, ul, &cp) != 0)
				return -1;
			break;
		default:
			return parse_failf(cmd, CTL_E_INVLARG_5,
					   "unknown command modifier '%c'",
					   isprint((unsigned char)*cp) ? *cp
								       : '?');
		}
	}
	return 0;
}

/*
 * The remote address and port. As rtpproxy: a string whose length
 * cannot be an address of the family is ignored (no remote, no error:
 * IS_IPSTR_VALID); otherwise it must parse (E37); the null address puts
 * the leg on hold. Port 0 carries no usable peer either, so it is
 * treated as "no remote" (rtpproxy would pre-fill addr:0). With '6' the
 * address is IPv6 (rtpproxy resolves it with pf AF_INET6, so an IPv4
 * address is E37); an IPv4-mapped one is taken as IPv4.
 */
static int
ul_remote(struct ctl_cmd *cmd, struct ctl_ul_opts *ul, const char *a,
	  const char *p)
{
	size_t alen = strlen(a);
	int af = ul->ipv6 ? AF_INET6 : AF_INET;
	uint8_t ip[16];
	uint16_t port;
	static const uint8_t zero[16];
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					     0xff, 0xff};

	if (af == AF_INET ? (alen < IPSTR_MIN_LENV4 || alen > IPSTR_MAX_LENV4)
			  : (alen < IPSTR_MIN_LENV6 || alen > IPSTR_MAX_LENV6))
		return 0;
	if (inet_pton(af, a, ip) != 1 || ctl_addrs_parse_port(p, &port) != 0)
		return parse_fail(cmd, CTL_E_INVLARG_7,
				  "remote address/port not numeric");
	if (memcmp(ip, zero, af == AF_INET ? 4 : 16) == 0 ||
	    (af == AF_INET6 && memcmp(ip, v4mapped, sizeof(v4mapped)) == 0 &&
	     memcmp(ip + 12, zero, 4) == 0)) {
		ul->onhold = true;
		return 0;
	}
	if (port == 0)
		return 0;
	/* DESIGN.md §4.9: an address no phone can have would take the
	 * stream at once (the signalled address is authoritative); the
	 * prefilter's bogon rule, one definition (rtpb_pf_rules.h) */
	if (af == AF_INET6 && memcmp(ip, v4mapped, sizeof(v4mapped)) == 0 ?
		    rtpb_pf_bogon4(ip + 12) :
		    af == AF_INET ? rtpb_pf_bogon4(ip) : rtpb_pf_bogon6(ip))
		return parse_failf(cmd, CTL_E_INVLARG_8,
				   "remote address %s can never be a phone "
				   "(multicast, loopback, 0/8, class E)", a);
	memset(&ul->remote, 0, sizeof(ul->remote));
	ul->remote.port = htons(port);
	if (af == AF_INET6 && memcmp(ip, v4mapped, sizeof(v4mapped)) == 0) {
		/* ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) is an IPv4 party: the
		 * dataplane sends IPv4 to it, from an IPv4 socket */
		ul->remote.family = RTPB_AF_INET;
		memcpy(ul->remote.ip, ip + 12, 4);
	} else {
		ul->remote.family = af == AF_INET ? RTPB_AF_INET
						  : RTPB_AF_INET6;
		memcpy(ul->remote.ip, ip, af == AF_INET ? 4 : 16);
	}
	ul->has_remote = true;
	return 0;
}

/* Family of rtpproxy's bindaddr[0] (lia[0] before any modifier). */
static uint8_t
first_family(const struct ctl_parse_cfg *cfg)
{
	if (cfg->addrs != NULL && cfg->addrs->side[CTL_SIDE_INT] >= 0)
		return ctl_addrs_family(cfg->addrs,
					cfg->addrs->side[CTL_SIDE_INT]);
	return cfg->has_inet4 ? RTPB_AF_INET : RTPB_AF_INET6;
}

/* A relay address of family exists (rtpproxy foraf() != NULL). */
static bool
has_family(const struct ctl_parse_cfg *cfg, uint8_t family)
{
	if (cfg->addrs != NULL)
		return ctl_addrs_default(cfg->addrs, family) >= 0;
	return family == RTPB_AF_INET6 ? cfg->has_inet6 : cfg->has_inet4;
}

/*
 * rtpp_command_ul_opts_parse(): notify args (U only), modifiers in
 * order, the family check, the remote. For the main command and for an
 * "&& L" sub-command alike (mods, addr and port given apart).
 */
static int
parse_ul_opts(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg,
	      struct ctl_ul_opts *ul, const char *mods, const char *addr,
	      const char *port, char *nsock, char *ntag)
{
	uint8_t pf;

	memset(ul, 0, sizeof(*ul));
	ul->ptime = -1;
	ul->asymmetric = cfg->aforce;
	ul->laddr[0] = ul->laddr[1] = -1;
	ul->lidx = 1;
	ul->local_addr = -1;
	if (nsock != NULL) {
		if (url_unquote(ntag) < 0)
			return parse_fail(cmd, CTL_E_PARSE_10,
					  "invalid URL encoding of notify_tag");
		ul->notify_socket = nsock;
		ul->notify_tag = ntag;
	}
	if (ul_mods(cmd, cfg, ul, mods) != 0)
		return -1;
	pf = ul->ipv6 ? RTPB_AF_INET6 : RTPB_AF_INET;
	if (ul->local_addr < 0 && ul->lidx == 1 && pf != first_family(cfg) &&
	    !has_family(cfg, pf))
		return parse_failf(cmd, CTL_E_INVLARG_6,
				   "cannot match local address for the %s "
				   "session", ul->ipv6 ? "IPv6" : "IPv4");
	if (ul->local_addr >= 0) {
		ul->laddr[0] = ul->laddr[1] = ul->local_addr;
		ul->pinned = true;
	} else if (ul->lidx != 1) {
		/* E/I: the sides given; an untouched one stays bindaddr[0] */
		for (int k = 0; k < 2; k++)
			if (ul->laddr[k] < 0 && cfg->addrs != NULL)
				ul->laddr[k] = cfg->addrs->side[CTL_SIDE_INT];
		ul->pinned = true;
	}
	return ul_remote(cmd, ul, addr, port);
}

/* U/L: the notify args of U (7 or 8 tokens), then the options. */
static int
parse_ul(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg)
{
	char *nsock = NULL, *ntag = NULL;

	if (cmd->op == CTL_OP_UPDATE && cmd->argc > 6) {
		if (cmd->argc == 8) {
			nsock = cmd->argv[6];
			ntag = cmd->argv[7];
		} else {
			/* 7 args: from_tag notify_socket notify_tag, no to_tag */
			nsock = cmd->argv[5];
			ntag = cmd->argv[6];
			cmd->to_tag = NULL;
		}
	}
	return parse_ul_opts(cmd, cfg, &cmd->ul, cmd->mods, cmd->argv[2],
			     cmd->argv[3], nsock, ntag);
}

/* D[w] (E8). */
static int
parse_delete(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg)
{
	(void)cfg;
	for (const char *cp = cmd->mods; *cp != '\0'; cp++) {
		if (!mod_ok(cmd, *cp))
			return parse_failf(cmd, CTL_E_PARSE_4,
					   "unknown command modifier '%c'",
					   isprint((unsigned char)*cp) ? *cp : '?');
		cmd->weak = true;
	}
	return 0;
}

/* I[l][b] (E18). */
static int
parse_info(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg)
{
	(void)cfg;
	for (const char *cp = cmd->mods; *cp != '\0'; cp++) {
		if (!mod_ok(cmd, *cp))
			return parse_fail(cmd, CTL_E_PARSE_7,
					  "unknown command modifier");
		if (*cp == 'l' || *cp == 'L')
			cmd->info_load = true;
	}
	return 0;
}

/*
 * G: 'v' only (E9); Q: 'v' only too, but rtpproxy checks Q's modifiers
 * after the session lookup (handle_query(): E50 comes first), so a bad
 * one is only noted here (qmod_bad, E19 in ctl_cmd_exec.c). The counter
 * names are kept: G's after the word, Q's after the to_tag.
 */
static int
parse_stats(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg)
{
	const struct ctl_cmd_def *d = &ctl_cmd_defs[cmd->op];

	(void)cfg;
	for (const char *cp = cmd->mods; *cp != '\0'; cp++) {
		if (mod_ok(cmd, *cp)) {
			cmd->verbose = true;
		} else if (cmd->op == CTL_OP_QUERY) {
			if (cmd->qmod_bad == 0)
				cmd->qmod_bad = *cp;
		} else {
			return parse_fail(cmd, CTL_E_PARSE_5,
					  "unknown command modifier");
		}
	}
	for (int i = d->to_tag > 0 ? d->to_tag + 1 : 1; i < cmd->argc; i++) {
		if (cmd->nqnames == CTL_CMD_MAX_QNAMES)
			return parse_fail(cmd, CTL_E_PARSE_NARGS,
					  "too many counter names");
		cmd->qnames[cmd->nqnames++] = cmd->argv[i];
	}
	return 0;
}

/* P<count>: an integer, negative = loop (rtpproxy strtol check, E17). */
static int
parse_play(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg)
{
	char *end;
	long v;

	(void)cfg;
	cmd->play_count = 1;
	cmd->play_name = cmd->argv[2];
	cmd->play_codecs = cmd->argv[3];
	if (*cmd->mods == '\0')
		return 0;
	v = strtol(cmd->mods, &end, 10);
	if (end == cmd->mods || *end != '\0')
		return parse_fail(cmd, CTL_E_PARSE_6, "play count not a number");
	/* rtpproxy takes any strtol() value; only its sign matters here */
	cmd->play_count = v > 1000000 ? 1000000 : v < -1 ? -1 : (int)v;
	return 0;
}

/*
 * R[s], C[s|p], N[a]: the recording family. rtpproxy: R 'p' -> E6,
 * N 'a' followed by junk -> E6, anything unknown -> E7.
 */
static int
parse_record(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg)
{
	(void)cfg;
	for (const char *cp = cmd->mods; *cp != '\0'; cp++) {
		if (mod_ok(cmd, *cp)) {
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

/* VF: the capability asked about. */
static int
parse_feature(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg)
{
	(void)cfg;
	cmd->feature = cmd->argv[1];
	return 0;
}

/* Step 3, the options of each op: the table's PARSE functions. */
typedef int (ctl_cmd_parse_fn)(struct ctl_cmd *cmd,
			       const struct ctl_parse_cfg *cfg);

static ctl_cmd_parse_fn *const parse_fns[CTL_OP__COUNT] = {
#define PARSE_FN(op, parse, exec, ...) [CTL_OP_##op] = parse,
	CTL_CMD_FOREACH(PARSE_FN)
#undef PARSE_FN
};

/* Step 2: rtpp_command_pre_parse(), from the table. */
static int
pre_parse(struct ctl_cmd *cmd)
{
	const struct ctl_cmd_def *d;

	if (lookup_op(cmd) != 0)
		return -1;
	d = &ctl_cmd_defs[cmd->op];
	if (cmd->argc < d->min_argc || cmd->argc > d->max_argc)
		return parse_failf(cmd, CTL_E_PARSE_NARGS,
				   "invalid number of arguments (%d)",
				   cmd->argc);
	if (d->mods == NULL && *cmd->mods != '\0')
		return parse_fail(cmd, CTL_E_PARSE_MODS,
				  "modifiers are not supported by the command");
	if (cmd->nsubc > 0 && !d->subc)
		return parse_fail(cmd, CTL_E_PARSE_SUBC,
				  "subcommand is not supported");
	cmd->call_id = d->call_id ? cmd->argv[1] : NULL;
	cmd->from_tag = d->from_tag > 0 ? cmd->argv[d->from_tag] : NULL;
	cmd->to_tag = (d->to_tag > 0 && d->to_tag < cmd->argc)
			      ? cmd->argv[d->to_tag]
			      : NULL;
	return 0;
}

/* A whole decimal number > 0 (rtpproxy atoi_safe() and the check). */
static int
positive_int(const char *s, int *v)
{
	long n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		n = n * 10 + (*s - '0');
		if (n > 0x7fffffff)
			return -1;
	}
	if (n <= 0)
		return -1;
	*v = (int)n;
	return 0;
}

/* rtpproxy atoi_saferange(): all of s a strtol() number in lo..hi. */
static bool
dec_int_range(const char *s, long lo, long hi, int *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || n < lo || n > hi)
		return false;
	*v = (int)n;
	return true;
}

/*
 * "M<mod>:<inst> tag [pt [mods]]" (handle_mod_subc_parse() and the
 * catch_dtmf module's rtpp_catch_dtmf_handle_command()). The address is
 * checked here, E3 as in rtpproxy: both numbers whole and >= 1, and a
 * module this relay has, catch_dtmf (module id 3) instance 1, built in
 * (rtpproxy loads it with --dso; dtls_gw and ice_lite do not exist
 * here). The arguments rtpproxy checks when it runs the sub-command (its
 * failure is " && -1"): they are checked here and the verdict kept in
 * sc->dtmf_bad for ctl_cmd_exec.c.
 */
static int
parse_subc_module(struct ctl_subc *sc, char **v, int c)
{
	const char *cp = v[0] + 1, *colon = strchr(cp, ':');
	char mod[16];
	int mod_id, inst_id;

	if (colon == NULL || (size_t)(colon - cp) >= sizeof(mod))
		return -1;
	memcpy(mod, cp, (size_t)(colon - cp));
	mod[colon - cp] = '\0';
	if (positive_int(mod, &mod_id) != 0 || positive_int(colon + 1, &inst_id) != 0 ||
	    mod_id != CTL_SUBC_DTMF_MODULE || inst_id != CTL_SUBC_DTMF_INSTANCE)
		return -1;
	sc->op = CTL_SUBC_DTMF;
	sc->dtmf_pt = CTL_SUBC_DTMF_PT;
	if (c < 2)
		sc->dtmf_bad = "no tag specified";
	else if (c > 4)
		sc->dtmf_bad = "too many arguments";
	else if (url_unquote(v[1]) < 0)
		sc->dtmf_bad = "syntax error: invalid URL encoding";
	if (sc->dtmf_bad != NULL)
		return 0;
	sc->dtmf_tag = v[1];
	if (c > 2 && (!dec_int_range(v[2], 0, 127, &sc->dtmf_pt)))
		sc->dtmf_bad = "syntax error: invalid payload type";
	for (const char *o = c > 3 ? v[3] : ""; sc->dtmf_bad == NULL && *o != '\0'; o++) {
		if (*o != 'h' && *o != 'H')
			sc->dtmf_bad = "syntax error: invalid modifier";
		sc->dtmf_hide = true;
	}
	return 0;
}

/*
 * One sub-command (rtpp_subcommand_ul_opts_parse()). Anything it cannot
 * take is E3 for the whole command, as in rtpproxy, including what
 * rtpproxy can do but this relay cannot:
 *  - "M<mod>:<inst> ..." module sub-commands other than catch_dtmf's
 *    (dtls_gw, ice_lite: not built here, as rtpproxy without them).
 */
static int
parse_subc(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg, int k)
{
	char **v = cmd->subv[k];
	int c = cmd->subargc[k];
	struct ctl_subc *sc = &cmd->subc[k];
	struct ctl_cmd *scratch = cmd; /* its ecode is replaced by E3 */

	memset(sc, 0, sizeof(*sc));
	switch (v[0][0]) {
	case 'D': case 'd':
		if (c != 1)
			return -1;
		for (const char *cp = v[0] + 1; *cp != '\0'; cp++) {
			if (*cp != 'w' && *cp != 'W')
				return -1;
			sc->weak = true;
		}
		sc->op = CTL_SUBC_DELETE;
		return 0;
	case 'S': case 's':
		if (c != 2 || strlen(v[0]) > 2)
			return -1;
		/* forward or reverse ('r') direction: one TTL per session
		 * here (rtpproxy without -i shares it between directions);
		 * a TOS per leg (rpcpv1_ul_subc_set.c) */
		sc->reverse = v[0][1] == 'r' || v[0][1] == 'R';
		if (strncmp(v[1], "tos=", 4) == 0 && strlen(v[1]) >= 5 &&
		    positive_int(v[1] + 4, &sc->tos) == 0) {
			sc->op = CTL_SUBC_SET_TOS;
			return 0;
		}
		if (strncmp(v[1], "ttl=", 4) != 0 || strlen(v[1]) < 5 ||
		    positive_int(v[1] + 4, &sc->ttl_s) != 0)
			return -1;
		sc->op = CTL_SUBC_SET_TTL;
		return 0;
	case 'M': case 'm':
		return parse_subc_module(sc, v, c);
	case 'L': case 'l':
		/* "U cid addr port from to && L addr port [nsock ntag]" */
		if (cmd->op != CTL_OP_UPDATE || cmd->to_tag == NULL ||
		    (c != 3 && c != 5))
			return -1;
		sc->update = c == 5;
		if (parse_ul_opts(scratch, cfg, &sc->ul, v[0] + 1, v[1], v[2],
				  c == 5 ? v[3] : NULL,
				  c == 5 ? v[4] : NULL) != 0)
			return -1;
		sc->op = CTL_SUBC_UL;
		return 0;
	case 'C': case 'c':
		/* "U cid addr port from to && C cid2 from2 to2" (rtpproxy
		 * rtpp_command_ul_copy_subc_pre_parse()) */
		if (cmd->op != CTL_OP_UPDATE || cmd->to_tag == NULL || c != 4 ||
		    v[0][1] != '\0' || *v[1] == '\0' || *v[2] == '\0' || *v[3] == '\0')
			return -1;
		sc->copy_call_id = v[1];
		sc->copy_from_tag = v[2];
		sc->copy_to_tag = v[3];
		sc->op = CTL_SUBC_COPY;
		return 0;
	default:
		return -1;
	}
}

int
ctl_cmd_parse(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg,
	      const char *text, size_t len, bool datagram)
{
	size_t n = len > CTL_CMD_BUFLEN ? CTL_CMD_BUFLEN : len;

	/* reset everything but the 8 KiB buffer */
	memset((char *)cmd + sizeof(cmd->buf), 0, sizeof(*cmd) - sizeof(cmd->buf));
	memcpy(cmd->buf, text, n);
	cmd->buf[n] = '\0';
	if (split(cmd, n, datagram) != 0)
		return -1;
	if (len > CTL_CMD_BUFLEN)
		return parse_fail(cmd, CTL_E_PARSE_1, "command too long");
	if (pre_parse(cmd) != 0 ||
	    (parse_fns[cmd->op] != NULL && parse_fns[cmd->op](cmd, cfg) != 0))
		return -1;
	for (int k = 0; k < cmd->nsubc; k++) {
		if (parse_subc(cmd, cfg, k) != 0)
			return parse_failf(cmd, CTL_E_PARSE_SUBC,
					   "sub-command %d cannot be parsed",
					   k + 1);
	}
	return 0;
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
