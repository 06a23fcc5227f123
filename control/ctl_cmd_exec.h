/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_cmd_exec.h: running parsed commands against the session table.
 *
 * ctl_exec_text() is the whole protocol path for one command as it came
 * off a socket: reply cache check (datagrams), ctl_cmd_parse(), execution,
 * reply formatting, caching, counters, and one log line per error reply
 * ("[call-id] <cmd>: <reason> (E<n>)"). ctl_exec_cmd() runs one already
 * parsed command. What each op does and why is written at its function,
 * with the rtpproxy source it follows.
 */
#ifndef CTL_CMD_EXEC_H
#define CTL_CMD_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_cmd.h"
#include "ctl_reply.h"
#include "ctl_session.h"

/** rtpproxy CPROTOVER: the V reply. */
#define CTL_PROTO_VERSION 20040107

/**
 * Configuration of the executor. The U/L reply carries the relay address
 * of the returned leg's family: "<port> <IPv4>\n" or "<port> <IPv6> 6\n"
 * (rtpproxy ul_reply_port()).
 */
struct ctl_exec_cfg {
	uint32_t relay_ip;     /**< IPv4 relay address (-l), network order;
				    0 = none */
	bool has_relay6;       /**< an IPv6 relay address (-6) is set */
	uint8_t relay6[16];    /**< IPv6 relay address, network order */
	bool notify_enabled;   /**< -n given (not supported yet: false) */
	struct ctl_pf *pf;     /**< the prefilter, for its counters in I
				    and G; NULL: none (not owned) */
	/** has_inet4 and has_inet6 are set by ctl_exec_create() from the
	 *  relay addresses above */
	struct ctl_parse_cfg parse;
};

/** rtpproxy's command counters (G ncmds_*). */
struct ctl_exec_counters {
	uint64_t ncmds_rcvd;       /**< commands received, duplicates not */
	uint64_t ncmds_rcvd_ndups; /**< answered from the reply cache */
	uint64_t ncmds_succd;      /**< replied with success */
	uint64_t ncmds_errs;       /**< replied with an error */
	uint64_t ncmds_repld;      /**< replied */
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

/** Load shown by "Il" (0..1, control thread busy fraction). */
void ctl_exec_set_load(struct ctl_exec *ex, double load);

/** Copy the command counters. */
void ctl_exec_counters(const struct ctl_exec *ex, struct ctl_exec_counters *c);

#endif /* CTL_CMD_EXEC_H */
