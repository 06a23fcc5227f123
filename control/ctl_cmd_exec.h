/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_cmd_exec.h: running parsed commands against the session table.
 *
 * ctl_exec_text() is the whole protocol path for one command as it came
 * off a socket: reply cache check (datagrams), ctl_cmd_parse(), execution
 * (sub-commands included), reply formatting, caching, counters, and one
 * log line per error reply ("[call-id] <cmd>: <reason> (E<n>)").
 * ctl_exec_text_from() is the same with the sender's address (for
 * %%CC_SELF%% notify targets). ctl_exec_cmd() runs one already parsed
 * command. What each op does and why is written at its function, with
 * the rtpproxy source it follows; the coverage of rtpproxy's commands is
 * at the top of ctl_cmd_exec.c.
 */
#ifndef CTL_CMD_EXEC_H
#define CTL_CMD_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "ctl_admit.h"
#include "ctl_cmd.h"
#include "ctl_reply.h"
#include "ctl_session.h"
#include "ctl_tnotify.h"
#include "rtpb_pf.h"

/** rtpproxy CPROTOVER: the V reply. */
#define CTL_PROTO_VERSION 20040107

/**
 * Configuration of the executor. The relay addresses are the session
 * table's (ctl_sessions_addrs()); the U/L reply carries the returned
 * leg's: "<port> <addr>\n", or "<port> <addr> 6\n" for IPv6, <addr>
 * being its advertised address if it has one (rtpproxy ul_reply_port()).
 */
struct ctl_session;
struct ctl_sessions;

/**
 * The recorder's entry for R, C to a file and N (ctl_recorder_cmd()):
 * start (flags CTL_REC_SINGLE or 0) or stop (CTL_RECORDER_STOP) the
 * party of leg li of s; name is C's file name or NULL.
 * @return 0, -EALREADY, -ENOENT (stop: nothing recorded), or a writer error.
 */
typedef int(ctl_exec_rec_fn)(void *arg, struct ctl_sessions *t,
			     struct ctl_session *s, int li, const char *name,
			     unsigned int flags);

struct ctl_redis_counters;

/**
 * HA (ctl_ha.h): with role NULL, report; else switch to role ("master",
 * "backup", "fault") first. Writes the reply's text into buf: "active" or
 * "standby", after a takeover followed by the restore's figures
 * ("active restored=N found=N dropped=N present=N ms=N").
 * @return 0, or -EINVAL for an unknown role.
 */
typedef int(ctl_exec_ha_fn)(void *arg, const char *role, uint64_t now_ns,
			    char *buf, size_t bufsz);
/**
 * The player's entry for P, P0 and S (ctl_player_cmd()): play prompt
 * name (the first file of codecs' payload types) into leg li of s at
 * ptime_ms (<= 0: 20 ms), count times (< 0 forever); count 0 stops.
 * @return 0; -ENOENT (stop: nothing plays); else an error (E60).
 */
typedef int(ctl_exec_play_fn)(void *arg, struct ctl_sessions *t,
			      struct ctl_session *s, int li, const char *name,
			      const char *codecs, int ptime_ms, int count,
			      uint64_t now_ns);
struct ctl_player_counters;

struct ctl_exec_cfg {
	uint32_t relay_ip;     /**< unused (the session table's addresses) */
	bool has_relay6;       /**< unused */
	uint8_t relay6[16];    /**< unused */
	bool notify_enabled;   /**< -n given though tnotify is NULL: every
				    notify_socket is then unknown */
	struct ctl_tnotify *tnotify; /**< the -n targets (not owned); NULL or
				    empty: a U with notify args is E75 */
	bool aforce;           /**< asymmetric unless 'S' (rtpproxy
				    --force_asymmetric; bridge mode without
				    --bridge_symmetric) */
	struct ctl_pf *pf;     /**< the prefilter, for its counters in I
				    and G; NULL: none (not owned) */
	struct ctl_admit *admit; /**< admission of new sessions (E98);
				    NULL: no limits (not owned) */
	/** -r: the recorder (R, C to a file, N); NULL: not configured
	 *  (R answers E50, as rtpproxy without -r) */
	ctl_exec_rec_fn *rec;
	void *rec_arg;
	/** --ha: the HA command (ctl_ha.h); NULL: HA answers E0 */
	ctl_exec_ha_fn *ha;
	void *ha_arg;
	/** --redis (ctl_redis.h): its counters for I and G (nredis_*);
	 *  NULL: not configured (G's nredis_* are 0, I has no line) */
	void (*redis_counters)(const void *arg, struct ctl_redis_counters *c);
	const void *redis_arg;
	/** -R: forks (C udp:host:port) copy RTP only, no RTCP (rtpproxy's
	 *  rrtcp); with or without -r */
	bool fork_no_rtcp;
	/** --prompt-dir: the player (P, S); NULL: P answers E60 */
	ctl_exec_play_fn *play;
	void *play_arg;
	/** its counters for G (nplrs_*, npkts_played); NULL: 0 */
	const struct ctl_player_counters *play_ctrs;
	/** set by ctl_exec_create() from the session table's addresses
	 *  and aforce; what is given here is ignored */
	struct ctl_parse_cfg parse;
};

/** rtpproxy's command counters (G ncmds_*). */
#define CTL_EXEC_CMD_OTHER 26 /**< by_cmd index of a reply without a command word */
#define CTL_EXEC_RESULTS 128  /**< by_cmd results: success, E1..E127 */

struct ctl_exec_counters {
	uint64_t ncmds_rcvd;       /**< commands received, duplicates not */
	uint64_t ncmds_rcvd_ndups; /**< answered from the reply cache */
	uint64_t ncmds_succd;      /**< replied with success */
	uint64_t ncmds_errs;       /**< replied with an error */
	uint64_t ncmds_repld;      /**< replied */
	/** replies by command letter (A..Z, then CTL_EXEC_CMD_OTHER: no
	 *  command word) and result (0: success, n: En, n < CTL_EXEC_RESULTS;
	 *  larger codes count in CTL_EXEC_RESULTS - 1): the metric
	 *  rtpbypass_commands_total{command,result} */
	uint64_t by_cmd[CTL_EXEC_CMD_OTHER + 1][CTL_EXEC_RESULTS];
};

struct ctl_exec;

/**
 * Create an executor over sess (not owned).
 * @return NULL on ENOMEM.
 */
struct ctl_exec *ctl_exec_create(const struct ctl_exec_cfg *cfg,
				 struct ctl_sessions *sess);

/** Free (NULL is fine); the session table is left alone. */
void ctl_exec_destroy(struct ctl_exec *ex);

/**
 * Handle one command as received.
 * @param in       the bytes (one datagram, one read, one line).
 * @param datagram udp/udp6: cookie first, reply cached under it.
 * @param now_ns   CLOCK_MONOTONIC ns.
 * @param out      reply buffer (wire form, cookie included).
 * @return reply bytes in out (0 only if out is too small).
 */
size_t ctl_exec_text(struct ctl_exec *ex, const char *in, size_t len,
		     bool datagram, uint64_t now_ns, char *out, size_t outsz);

/**
 * ctl_exec_text() for a command whose sender is known: src is where it
 * came from (NULL: a unix socket), local the control socket's own
 * address (NULL: unknown or a wildcard); "tcp:%%CC_SELF%%:PORT" notify
 * targets connect back to src (rtpproxy 20150617).
 */
size_t ctl_exec_text_from(struct ctl_exec *ex, const char *in, size_t len,
			  bool datagram, const struct sockaddr *src,
			  const struct sockaddr *local, uint64_t now_ns,
			  char *out, size_t outsz);

/** The VF capabilities this relay implements, NULL-terminated (rtpproxy
 *  -v lists them: "date description"). */
extern const char *const ctl_exec_caps[][2];

/** Run one parsed command (cmd->ecode unset), body into r. */
void ctl_exec_cmd(struct ctl_exec *ex, struct ctl_cmd *cmd, uint64_t now_ns,
		  struct ctl_reply *r);

/** 1 s housekeeping of the executor: reply cache expiry. */
void ctl_exec_tick(struct ctl_exec *ex, uint64_t now_ns);

/**
 * rtpproxy SIGHUP "deorbiting burn": while on, U for a new session
 * replies E99; existing sessions go on.
 */
void ctl_exec_set_draining(struct ctl_exec *ex, bool on);

/**
 * Batch mode, for a socket that read several datagrams at once: between
 * ctl_exec_batch_begin() and ctl_exec_batch_end(), session commands push
 * their stream messages without waiting for the dataplane to apply them;
 * ctl_exec_batch_end() waits once for all of them (ctl_dp_sync()). The
 * caller sends the batch's replies only after ctl_exec_batch_end(), so
 * every reply still leaves after its streams are in place.
 */
void ctl_exec_batch_begin(struct ctl_exec *ex);

/** End a batch: wait until the dataplane applied what the batch pushed. */
void ctl_exec_batch_end(struct ctl_exec *ex);

/** Load shown by "Il" (0..1, control thread busy fraction). */
void ctl_exec_set_load(struct ctl_exec *ex, double load);

/** Copy the command counters. */
void ctl_exec_counters(const struct ctl_exec *ex, struct ctl_exec_counters *c);

/**
 * One G counter: its rtpproxy name and value, and how control's
 * Prometheus endpoint exports it (ctl_metrics.h), so the list of
 * counters is written once (ctl_cmd_exec.c stats_table()).
 */
struct ctl_exec_stat {
	const char *name;   /**< G name ("npkts_relayed") */
	bool dbl;           /**< the value is d (rtpproxy's %f ones), else u */
	uint64_t u;
	double d;
	const char *metric; /**< Prometheus name after "rtpbypass_"
				 ("relayed_packets_total"); NULL: not exported */
	const char *label;  /**< one label pair ("verdict=\"pass\""), or NULL */
	const char *help;   /**< HELP text; NULL on the later entries of a
				 metric (they follow its first one) */
	bool gauge;         /**< TYPE gauge, else counter */
	bool by_name;       /**< given to a G that names it, not listed by a
				 bare G (whose reply is capped at
				 CTL_REPLY_MAX, rtpproxy's buffer) */
};

/** Room for every G counter: the fixed ones and one per verdict. */
#define CTL_EXEC_STATS_MAX (72 + RTPB_PF_VERDICT__COUNT)

/** Every G counter, in the order a bare G lists them. */
struct ctl_exec_stats {
	size_t n;
	struct ctl_exec_stat e[CTL_EXEC_STATS_MAX];
	char npf_names[RTPB_PF_VERDICT__COUNT][48];  /* storage of e[].name */
	char npf_labels[RTPB_PF_VERDICT__COUNT][48]; /* and of e[].label */
};

/**
 * Read every G counter into out (what a bare G lists).
 * @param with_pf read the prefilter's counters (a map read, summed over
 *                CPUs); false: the npf_* entries are 0.
 */
void ctl_exec_stats_read(struct ctl_exec *ex, bool with_pf,
			 struct ctl_exec_stats *out);

#endif /* CTL_CMD_EXEC_H */
