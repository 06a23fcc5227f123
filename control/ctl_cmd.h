/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_cmd.h: one rtpproxy protocol command, parsed (struct ctl_cmd), and
 * the rtpproxy error codes.
 *
 * ctl_cmd_parse() turns the text of one command (one datagram, one unix:
 * read, one cunix: line) into a struct ctl_cmd: tokens, the op, its
 * arguments and modifiers, checked as rtpproxy checks them and in the
 * same order, so the first error found is the one rtpproxy would report.
 * It does no I/O and keeps no state; the result only points into the
 * command's own copy of the text (cmd->buf).
 *
 * Source: sippy/rtpproxy src/rtpp_command.c (splitting),
 * src/rtpp_command_parse.c (command table), src/commands/rpcpv1_ul.c
 * (U/L options), src/rtpp_command_ecodes.h (codes).
 */
#ifndef CTL_CMD_H
#define CTL_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_addrs.h"
#include "rtpb_addr.h"

#define CTL_CMD_BUFLEN 8192  /**< RTPP_CMD_BUFLEN: max command bytes */
/** RTPC_MAX_ARGC: token slots per (sub)command; as in rtpproxy's
 *  splitter, filling the last slot is already an error (E5), so a
 *  (sub)command has at most CTL_CMD_MAX_ARGC - 1 tokens */
#define CTL_CMD_MAX_ARGC 24
/** MAX_SUBC_NUM: sub-command slots; as in rtpproxy, at most
 *  CTL_CMD_MAX_SUBC - 1 "&&" per command (one more is E5) */
#define CTL_CMD_MAX_SUBC 16
#define CTL_CMD_MAX_QNAMES CTL_CMD_MAX_ARGC /**< Q/G counter names kept */

/**
 * Error codes, the numbers of rtpproxy's ECODE_* (rtpp_command_ecodes.h);
 * the reply is "E<n>\n".
 */
enum ctl_ecode {
	CTL_E_CMDUNKN = 0,     /**< unknown command */
	CTL_E_PARSE_NARGS = 1, /**< wrong number of arguments */
	CTL_E_PARSE_MODS = 2,  /**< modifiers on a command that takes none */
	CTL_E_PARSE_SUBC = 3,  /**< sub-command not supported / bad */
	CTL_E_PARSE_1 = 5,     /**< syntax: empty, too long, NUL, > 24 args */
	CTL_E_PARSE_2 = 6,     /**< R/N modifier junk */
	CTL_E_PARSE_3 = 7,     /**< unknown R/C/N modifier */
	CTL_E_PARSE_4 = 8,     /**< unknown D modifier */
	CTL_E_PARSE_5 = 9,     /**< unknown G modifier */
	CTL_E_PARSE_10 = 10,   /**< notify_tag: bad %-encoding */
	CTL_E_PARSE_11 = 11,   /**< 'E' modifier without bridge mode */
	CTL_E_PARSE_12 = 12,   /**< 'I' modifier without bridge mode */
	CTL_E_PARSE_13 = 13,   /**< 'Z' ptime not in 1..999 */
	CTL_E_PARSE_14 = 14,   /**< 'c' codec list empty or repeated */
	CTL_E_PARSE_15 = 15,   /**< 'l' local address / {label} syntax */
	CTL_E_PARSE_16 = 16,   /**< 'r' remote address syntax */
	CTL_E_PARSE_6 = 17,    /**< P count not an integer */
	CTL_E_PARSE_7 = 18,    /**< unknown I modifier */
	CTL_E_PARSE_8 = 19,    /**< unknown Q modifier */
	CTL_E_RTOOBIG_1 = 25,  /**< G reply too big */
	CTL_E_RTOOBIG_2 = 26,  /**< Q reply too big */
	CTL_E_INVLARG_1 = 31,  /**< 'l': not a relay address / no such label,
				    or of the other family */
	CTL_E_INVLARG_2 = 32,  /**< 'r': no relay address for the remote */
	CTL_E_INVLARG_5 = 35,  /**< unknown U/L modifier; P "session" w/o c */
	CTL_E_INVLARG_6 = 36,  /**< no local address of the family */
	CTL_E_INVLARG_7 = 37,  /**< remote address/port not numeric */
	/** remote address that can never be a phone: multicast, loopback,
	 *  0.0.0.0/8 other than 0.0.0.0 (hold), class E, broadcast, the
	 *  relay's own addresses (rtpbypass only: rtpproxy takes them) */
	CTL_E_INVLARG_8 = 38,
	CTL_E_SESUNKN = 50,    /**< session not found */
	CTL_E_PLRFAIL = 60,    /**< play failed */
	CTL_E_QRYFAIL = 62,    /**< Q: unknown counter */
	CTL_E_CPYFAIL = 65,    /**< C: copy failed */
	CTL_E_STSFAIL = 68,    /**< G: unknown counter */
	CTL_E_LSTFAIL_1 = 71,  /**< can't open a leg of an existing session */
	CTL_E_LSTFAIL_2 = 72,  /**< can't create a session */
	CTL_E_NSOFF = 75,      /**< notify args without -n */
	CTL_E_NOMEM_1 = 81,    /**< out of memory */
	CTL_E_OVERLOAD = 98,   /**< new session refused: --max-sessions or
				    --max-new-rate (ctl_admit.h) */
	CTL_E_SLOWSHTDN = 99,  /**< new session refused while draining */
};

/** Q accepts up to this many counter names after to_tag (rtpproxy
 *  RTPP_QUERY_NSTATS) */
#define CTL_CMD_QUERY_NSTATS 14

/** .mods of an op whose modifiers carry values (U/L options, P's count):
 *  its parse function reads them, with its own error codes */
#define CTL_CMD_MODS_ARGS "<args>"

/**
 * The command table: every rtpproxy command, once (rtpproxy keeps its
 * list in src/rtpp_command_parse.c fill_cmd_props(); handle_command()
 * dispatches on it). The parser (ctl_cmd_parse.c) reads the word, the
 * argument counts, the modifiers, the call-id and tag positions and the
 * sub-command flag; the executor (ctl_cmd_exec.c) reads the handler.
 * One line: _(OP, PARSE, EXEC, .field = value ...) where
 *  - OP is the enum ctl_op name after CTL_OP_;
 *  - PARSE is ctl_cmd_parse.c's function for the op's options
 *    (ctl_cmd_parse_fn), NULL when the pre-parse checks are all;
 *  - EXEC is ctl_cmd_exec.c's handler (ctl_exec_fn);
 *  - the rest are the designated initialisers of its struct ctl_cmd_def.
 */
#define CTL_CMD_FOREACH(_)                                                   \
	_(VER, NULL, exec_version,                                           \
	  .word = "V", .name = "get_version", .min_argc = 1, .max_argc = 1)  \
	_(VER_FEATURE, parse_feature, exec_ver_feature,                      \
	  .word = "VF", .name = "feature_check", .min_argc = 2,              \
	  .max_argc = 2)                                                     \
	_(INFO, parse_info, exec_info,                                       \
	  .word = "I", .name = "get_info", .min_argc = 1, .max_argc = 1,     \
	  .mods = "lb")                                                      \
	_(GET_STATS, parse_stats, exec_stats,                                \
	  .word = "G", .name = "get_stats", .min_argc = 1,                   \
	  .max_argc = CTL_CMD_MAX_ARGC, .mods = "v")                         \
	_(DELETE_ALL, NULL, exec_delete_all,                                 \
	  .word = "X", .name = "delete_all", .min_argc = 1, .max_argc = 1)   \
	_(UPDATE, parse_ul, exec_ul,                                         \
	  .word = "U", .name = "update/create", .min_argc = 5,               \
	  .max_argc = 8, .mods = CTL_CMD_MODS_ARGS, .call_id = true,         \
	  .from_tag = 4, .to_tag = 5, .subc = true)                          \
	_(LOOKUP, parse_ul, exec_ul,                                         \
	  .word = "L", .name = "lookup", .min_argc = 5, .max_argc = 6,       \
	  .mods = CTL_CMD_MODS_ARGS, .call_id = true, .from_tag = 4,         \
	  .to_tag = 5, .subc = true)                                         \
	_(DELETE, parse_delete, exec_delete,                                 \
	  .word = "D", .name = "delete", .min_argc = 3, .max_argc = 4,       \
	  .mods = "w", .call_id = true, .from_tag = 2, .to_tag = 3)          \
	_(QUERY, parse_stats, exec_query,                                    \
	  .word = "Q", .name = "query", .min_argc = 3,                       \
	  .max_argc = 4 + CTL_CMD_QUERY_NSTATS, .mods = "v", .call_id = true,\
	  .from_tag = 2, .to_tag = 3, .subc = true)                          \
	_(PLAY, parse_play, exec_play,                                       \
	  .word = "P", .name = "play", .min_argc = 5, .max_argc = 6,         \
	  .mods = CTL_CMD_MODS_ARGS, .call_id = true, .from_tag = 4,         \
	  .to_tag = 5)                                                       \
	_(NOPLAY, NULL, exec_noplay,                                         \
	  .word = "S", .name = "noplay", .min_argc = 3, .max_argc = 4,       \
	  .call_id = true, .from_tag = 2, .to_tag = 3)                       \
	_(RECORD, parse_record, exec_record,                                 \
	  .word = "R", .name = "record", .min_argc = 3, .max_argc = 4,       \
	  .mods = "s", .call_id = true, .from_tag = 2, .to_tag = 3)          \
	_(COPY, parse_record, exec_copy,                                     \
	  .word = "C", .name = "copy", .min_argc = 4, .max_argc = 5,         \
	  .mods = "sp", .call_id = true, .from_tag = 3, .to_tag = 4)         \
	_(NORECORD, parse_record, exec_record,                               \
	  .word = "N", .name = "norecord", .min_argc = 3, .max_argc = 4,     \
	  .mods = "a", .call_id = true, .from_tag = 2, .to_tag = 3)        \
	/* rtpbypass's own (issue 21, ctl_ha.h): keepalived's notify       \
	 * scripts (rtpb-ctl HA master|backup|fault); bare HA: the state.  \
	 * E0 without --ha, as an unknown command. */                      \
	_(HA, NULL, exec_ha,                                                 \
	  .word = "HA", .name = "ha", .min_argc = 1, .max_argc = 2)

/** Operations (rtpproxy's enum rtpp_cmd_op), from CTL_CMD_FOREACH. */
enum ctl_op {
	CTL_OP_NONE = 0,
#define CTL_CMD_ENUM(op, parse, exec, ...) CTL_OP_##op,
	CTL_CMD_FOREACH(CTL_CMD_ENUM)
#undef CTL_CMD_ENUM
	CTL_OP__COUNT
};

/**
 * One command of the table (CTL_CMD_FOREACH; rtpproxy struct
 * rtpp_cmd_props). Argument counts include the command word.
 */
struct ctl_cmd_def {
	const char *word;  /**< its letters, matched case-insensitively at
			        the start of argv[0] (the longest wins: "VF"
			        before "V"); what follows are modifiers */
	const char *name;  /**< rtpproxy's name, for logs */
	int min_argc;      /**< fewer tokens: E1 */
	int max_argc;      /**< more tokens: E1 */
	/** modifiers accepted, lower case, any case matched: NULL none
	 *  (any is E2); CTL_CMD_MODS_ARGS: read by the op's parser */
	const char *mods;
	bool call_id;      /**< argv[1] is a call-id: a session op */
	int from_tag;      /**< argv index of from_tag, 0 none */
	int to_tag;        /**< argv index of the optional to_tag, 0 none */
	bool subc;         /**< "&&" sub-commands accepted (E3 if not) */
};

/** The table, indexed by enum ctl_op (CTL_OP_NONE: all zero). */
extern const struct ctl_cmd_def ctl_cmd_defs[CTL_OP__COUNT];

/**
 * U/L options (rtpproxy struct ul_opts). The remote is the media address
 * of the party that sent the SDP; it becomes leg pidx's signalled peer.
 *
 * Relay addresses (indexes into struct ctl_addrs): laddr[0] is for the
 * leg whose port the reply carries (sidx; rtpproxy lia[0]), laddr[1] for
 * the other (lia[1]); -1 means "the default address of the leg's family"
 * (rtpproxy bindaddr[0], or foraf() of the command's family). They are
 * set (pinned) by 'E'/'I' (bridge sides) or by 'l'/'r' (one address for
 * both), as rtpproxy's rtpp_command_ul_opts_parse() does.
 */
struct ctl_ul_opts {
	bool asymmetric;    /**< 'A' (an 'S' later in the modifiers clears);
				 starts as the --force_asymmetric default */
	bool weak;          /**< 'W' */
	bool ipv6;          /**< '6': the address is IPv6 (rtpproxy pf
				 AF_INET6), and so is the relay address of
				 the leg it creates (see ctl_session.h) */
	bool new_port;      /**< 'n': a new port for leg sidx of an existing
				 session (20150330) */
	int ptime;          /**< 'Z<n>' 1..999 ms, -1 if absent (stored) */
	const char *codecs; /**< 'c<list>': digits and commas, not NUL-ended */
	size_t codecs_len;  /**< bytes of codecs, 0 if absent */
	int laddr[2];       /**< relay address per leg role, -1 default */
	bool pinned;        /**< laddr came from E/I/l/r */
	int lidx;           /**< rtpproxy lidx: 1 no E/I, 0 one, -1 two */
	int local_addr;     /**< 'l'/'r' address index, -1 none */
	bool has_remote;    /**< remote holds a usable address */
	bool onhold;        /**< remote was the null address (0.0.0.0) */
	struct rtpb_addr remote;   /**< RTP remote, network byte order */
	const char *notify_socket; /**< U notify_socket, NULL if absent */
	const char *notify_tag;    /**< URL-decoded in place, NUL-ended */
};

/** Sub-commands ("&&", rtpproxy src/commands/rpcpv1_ul_subc.c). */
enum ctl_subc_op {
	CTL_SUBC_DELETE = 1, /**< "D[w]": delete the session afterwards */
	CTL_SUBC_SET_TTL,    /**< "S[r] ttl=N": the session's TTL, seconds */
	CTL_SUBC_UL,         /**< "L[mods] addr port [nsock ntag]" after a U
				  with a to_tag: the other leg (20260308) */
	CTL_SUBC_SET_TOS,    /**< "S[r] tos=N": the TOS of a leg's packets */
	CTL_SUBC_DTMF,       /**< "M3:1 tag [pt [h]]": catch_dtmf (docs/DTMF.md) */
	CTL_SUBC_COPY,       /**< "C callid from_tag to_tag" after a U with a
				  to_tag: fork both streams of that session
				  into this one's (20260309, ctl_fork.h) */
};

/** rtpproxy's catch_dtmf module: module id and the one instance. */
#define CTL_SUBC_DTMF_MODULE 3
#define CTL_SUBC_DTMF_INSTANCE 1
/** catch_dtmf's default payload type of telephone-events */
#define CTL_SUBC_DTMF_PT 101

/** One parsed sub-command. */
struct ctl_subc {
	enum ctl_subc_op op;
	bool weak;              /**< D 'w' */
	int ttl_s;              /**< S ttl=N */
	bool reverse;           /**< S 'r': the other leg (strmp_out) */
	int tos;                /**< S tos=N, N > 0 (the kernel keeps the
				     low byte, and so does this relay) */
	/** M3:1: the URL-decoded tag (NUL-ended, in buf), payload type,
	 *  'h'; dtmf_bad: its arguments are wrong, which rtpproxy finds
	 *  when it runs the sub-command (" && -1"), not when it parses */
	const char *dtmf_tag;
	int dtmf_pt;
	bool dtmf_hide;
	const char *dtmf_bad;   /**< why, or NULL */
	bool update;            /**< L with notify args runs as a U */
	struct ctl_ul_opts ul;  /**< L */
	const char *copy_call_id;  /**< C: the session forked */
	const char *copy_from_tag; /**< C */
	const char *copy_to_tag;   /**< C */
};

/**
 * One parsed command. Every pointer points into buf. Large (8 KiB): keep
 * one per listener or on the heap, not in deep call chains.
 */
struct ctl_cmd {
	char buf[CTL_CMD_BUFLEN + 1]; /**< the text, split in place */
	char *argv[CTL_CMD_MAX_ARGC]; /**< tokens of the main command */
	int argc;
	int nsubc;            /**< "&&" sub-commands that followed */
	char *subv[CTL_CMD_MAX_SUBC][CTL_CMD_MAX_ARGC]; /**< their tokens */
	int subargc[CTL_CMD_MAX_SUBC];
	struct ctl_subc subc[CTL_CMD_MAX_SUBC]; /**< parsed (U, L, Q) */
	const char *cookie;   /**< datagram cookie, NULL in stream mode */
	enum ctl_op op;
	const char *name;     /**< rtpproxy's name of the op, for logs
				   (ctl_cmd_defs[op].name) */
	const char *mods;     /**< modifier chars after the letter(s) */
	const char *call_id;  /**< NULL for V, VF, I, G, X */
	const char *from_tag; /**< NULL if the op has none */
	const char *to_tag;   /**< NULL if absent */
	int ecode;            /**< enum ctl_ecode when parse failed */
	const char *reason;   /**< why parse failed, for the log */
	char reason_buf[96];  /**< storage for a formatted reason */

	struct ctl_ul_opts ul;   /**< U, L */
	bool weak;               /**< D 'w' */
	bool verbose;            /**< G 'v', Q 'v' */
	char qmod_bad;           /**< Q: first unknown modifier (E19, checked
				      after the session lookup, as rtpproxy's
				      handle_query()), 0 if none */
	bool info_load;          /**< I 'l' */
	const char *feature;     /**< VF argument */
	int play_count;          /**< P<n>, 1 by default */
	const char *play_name;   /**< P pname */
	const char *play_codecs; /**< P codecs or "session" */
	const char *copy_target; /**< C target */
	const char *qnames[CTL_CMD_MAX_QNAMES]; /**< Q/G counter names */
	int nqnames;
};

/**
 * Configuration the parser needs (what rtpproxy reads from cfsp). A U/L
 * of a family with no relay address is refused with E36, as rtpproxy
 * does (rpcpv1_ul.c: "cannot match local address for the ... session").
 */
struct ctl_parse_cfg {
	bool has_inet4; /**< an IPv4 relay address exists (-l) */
	bool has_inet6; /**< an IPv6 relay address exists (-6; '6' allowed) */
	bool bridge;    /**< bridge mode ('E'/'I' allowed) */
	bool aforce;    /**< legs asymmetric unless 'S' (rtpproxy aforce:
			     --force_asymmetric, or bridge mode without
			     --bridge_symmetric) */
	/** the relay addresses, for 'l'/'r' and E/I; NULL: none known
	 *  ('l' is then E31, 'r' E32, E/I need bridge) */
	const struct ctl_addrs *addrs;
};

/**
 * Parse one command.
 * @param cmd      out; fully reset first.
 * @param cfg      configuration.
 * @param text     the bytes as received (need not be NUL-terminated).
 * @param len      bytes of text.
 * @param datagram true on udp/udp6: the first token is the cookie.
 * @return 0, or -1 with cmd->ecode and cmd->reason set (cmd->cookie is
 *         set whenever a cookie token was found, so the error reply can
 *         carry it).
 */
int ctl_cmd_parse(struct ctl_cmd *cmd, const struct ctl_parse_cfg *cfg,
		  const char *text, size_t len, bool datagram);

/**
 * rtpproxy's compare_session_tags(): does tag (a session's from_tag)
 * start with prefix?
 * @return 1 if equal, 2 if tag is prefix + ";..." (medianum suffix;
 *         *medianum set when not NULL), else 0.
 */
int ctl_cmd_tag_cmp(const char *tag, const char *prefix, unsigned *medianum);

#endif /* CTL_CMD_H */
