/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_cmd_exec.c: execute parsed commands, see ctl_cmd_exec.h.
 *
 * Coverage of rtpproxy's command set, and why (rtpproxy 3.2,
 * src/rtpp_command.c handle_command() and src/commands/):
 *  - V, VF, I, G, X, U, L, D, Q: implemented; VF answers 1 for exactly
 *    the capabilities of ctl_exec_caps[].
 *  - U/L modifiers: A, S, W, 6, E/I (bridge mode), l<addr>/l{label},
 *    r<addr>, n (a new port) act as rtpproxy's; c<list> and Z<n> are
 *    stored per leg (c feeds "P ... session"), but nothing repacketizes:
 *    rtpproxy accepts Z the same way, and VF 20071116 answers 0 so
 *    Kamailio and OpenSIPS do not send it.
 *  - "&&" after U, L, Q: D[w], S[r] ttl=N, S[r] tos=N, M3:1 (catch_dtmf,
 *    docs/DTMF.md) and (after a U with a to_tag) L addr port [nsock
 *    ntag] and C callid from_tag to_tag (fork another session into this
 *    one, ctl_fork.h); results as rtpproxy's (" && <res>").
 *  - P, P0, S (playback, docs/PLAYBACK.md): through cfg.play (the
 *    player, ctl_player.h): E50 if no session, E35 for "session"
 *    without a stored codec list, E60 when there is no file to play
 *    (or no player: no prompt directory), "0" otherwise; P0 and S
 *    answer 0 whether anything played or not, as rtpproxy.
 *  - R (record): E50, rtpproxy's answer when recording is not configured
 *    (no -r); N stops recordings and forks, E50 when nothing stopped.
 *  - C to a file: recording (exec_rec()); C[p] to udp:host:port forks
 *    the party to that address (ctl_fork.h, docs/FORKING.md).
 *  - Notifications (-n): a U's notify_socket arms the session's timeout
 *    notification (ctl_tnotify_lookup()); E75 without -n.
 * Control's thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd_exec.h"
#include "ctl_log.h"
#include "ctl_player.h"
#include "ctl_recorder.h"
#include "ctl_redis.h"

struct ctl_exec {
	struct ctl_exec_cfg cfg;
	struct ctl_sessions *sess;
	const struct ctl_addrs *addrs; /* the session table's */
	struct ctl_rcache *rcache;
	struct ctl_cmd *cmd;       /* 8 KiB, reused */
	bool draining;
	bool defer_sync;   /* batch: the caller syncs once (ctl_exec_sync()) */
	bool sync_pending; /* a deferred sync is owed */
	double load;
	const struct sockaddr *src;   /* the command's sender, or NULL */
	const struct sockaddr *local; /* its control socket, or NULL */
	struct ctl_exec_counters c;
};

/*
 * VF: the capabilities implemented (rtpproxy proto_caps[], with its
 * descriptions). Answered 0, because this relay lacks what they stand
 * for: 20071116 (repacketization), 20140617 (connect time anchoring).
 * 20081224 is 1 only with -n, as in rtpproxy. 20071218 (C to
 * udp:host:port), 20250523 (Cp), 20260309 (&& C) and 20200226 (N) are 1
 * without -r too: forks need no record directory, and N stops them.
 */
const char *const ctl_exec_caps[][2] = {
	{"20040107", "Basic RTP proxy functionality"},
	{"20050322", "Support for multiple RTP streams and MOH"},
	{"20060704", "Support for extra parameter in the V command"},
	{"20071218", "Support for forking (copying) RTP stream"},
	{"20080403", "Support for RTP statistics querying"},
	{"20081102", "Support for setting codecs in the update/lookup command"},
	{"20081224", "Support for session timeout notifications"},
	{"20090810", "Support for automatic bridging"},
	{"20140323", "Support for tracking/reporting load"},
	{"20141004", "Support for extendable performance counters"},
	{"20150330", "Support for allocating a new port (\"Un\"/\"Ln\" commands)"},
	{"20150420", "Support for SEQ tracking and new rtpa_ counters; Q command extended"},
	{"20150617", "Support for the wildcard %%CC_SELF%% as a disconnect "
		     "notify target"},
	{"20191015", "Support for the && sub-command specifier"},
	/* and catch_dtmf's "h" modifier (docs/DTMF.md) */
	{"20200226", "Support for the N command to stop recording"},
	{"20230205", "Support for the \"rtpa_nlost\" counter"},
	{"20230314", "Support for for \"fusing\" G and D commands"},
	{"20230424", "Support for the \"longest_ipi\", \"rtpa_jlast\", "
		     "\"rtpa_jmax\" and \"rtpa_javg\" counters"},
	{"20250523", "Support for the \"P\" modifier in the C command"},
	{"20251015", "Support for changing session's ttl / IP tos via S subcommand"},
	{"20260306", "Support for address labels in the U/L commands"},
	{"20260308", "Support for single-shot dual leg U ... && L ..."},
	{"20260309", "Support for forking both streams via \"C\" sub-command"},
	{NULL, NULL},
};

/* Error reply plus its one log line. */
static void
reply_err(struct ctl_cmd *cmd, struct ctl_reply *r, int ecode,
	  const char *reason)
{
	char word[64];

	ctl_reply_error(r, ecode);
	ctl_log_call(CTL_LOG_ERR, cmd->call_id, "%s: %s (E%d)",
		     cmd->argc > 0 ? ctl_log_escape(cmd->argv[0], 16, word,
						    sizeof(word))
				   : "-",
		     reason, ecode);
}

struct ctl_exec *
ctl_exec_create(const struct ctl_exec_cfg *cfg, struct ctl_sessions *sess)
{
	struct ctl_exec *ex = calloc(1, sizeof(*ex));

	if (ex == NULL)
		return NULL;
	ex->cfg = *cfg;
	ex->sess = sess;
	ex->addrs = ctl_sessions_addrs(sess);
	ex->cmd = malloc(sizeof(*ex->cmd));
	ex->rcache = ctl_rcache_create();
	if (ex->cmd == NULL || ex->rcache == NULL) {
		ctl_exec_destroy(ex);
		return NULL;
	}
	ex->cfg.parse.addrs = ex->addrs;
	ex->cfg.parse.has_inet4 =
		ctl_addrs_default(ex->addrs, RTPB_AF_INET) >= 0;
	ex->cfg.parse.has_inet6 =
		ctl_addrs_default(ex->addrs, RTPB_AF_INET6) >= 0;
	ex->cfg.parse.bridge = ex->addrs->bridge;
	ex->cfg.parse.aforce = cfg->aforce;
	return ex;
}

void
ctl_exec_destroy(struct ctl_exec *ex)
{
	if (ex == NULL)
		return;
	ctl_rcache_destroy(ex->rcache);
	free(ex->cmd);
	free(ex);
}

/* Was -n given? (rtpproxy rtpp_tnset_cf isenabled()) */
static bool
notify_enabled(const struct ctl_exec *ex)
{
	return ex->cfg.notify_enabled || ctl_tnotify_enabled(ex->cfg.tnotify);
}

/* VF (rtpproxy handle_ver_feature()): 1 if implemented, else 0. */
static void
exec_ver_feature(struct ctl_exec *ex, struct ctl_cmd *cmd,
		 uint64_t now_ns __attribute__((unused)), struct ctl_reply *r)
{
	if (strcmp(cmd->feature, "20081224") == 0 && !notify_enabled(ex)) {
		ctl_reply_number(r, 0);
		return;
	}
	for (size_t i = 0; ctl_exec_caps[i][0] != NULL; i++) {
		if (strcmp(cmd->feature, ctl_exec_caps[i][0]) == 0) {
			ctl_reply_number(r, 1);
			return;
		}
	}
	ctl_reply_number(r, 0);
}

/*
 * The E-code of a failed U/L on the session layer: E36 when the family
 * has no relay address (rtpproxy ECODE_INVLARG_6), else E72 (create) /
 * E71 (existing session), rtpproxy's codes for "can't create listener"
 * (a relay address the dataplane does not serve included).
 */
static int
ul_ecode(int rc, bool create)
{
	if (rc == -EAFNOSUPPORT)
		return CTL_E_INVLARG_6;
	return create ? CTL_E_LSTFAIL_2 : CTL_E_LSTFAIL_1;
}

/*
 * "<port> <addr>[ 6]" of leg l (rtpproxy ul_reply_port(), no newline):
 * the address is the leg's relay address, or its advertised one.
 */
static void
ul_reply_text(const struct ctl_exec *ex, const struct ctl_leg *l, char *buf,
	      size_t bufsz)
{
	snprintf(buf, bufsz, "%u %s%s", l->sock.port,
		 ctl_addrs_reply_text(ex->addrs, l->sock.laddr),
		 l->sock.family == RTPB_AF_INET6 ? " 6" : "");
}

/* What a U/L signals for the leg facing its sender. */
static void
ul_signal(const struct ctl_ul_opts *ul, struct ctl_leg_signal *sig)
{
	*sig = (struct ctl_leg_signal){
		.family = ul->ipv6 ? RTPB_AF_INET6 : RTPB_AF_INET,
		.has_remote = ul->has_remote,
		.onhold = ul->onhold,
		.remote = ul->remote,
		.asymmetric = ul->asymmetric,
		.ptime = ul->ptime,
		.codecs = ul->codecs,
		.codecs_len = ul->codecs_len,
	};
}

/*
 * rtpproxy: a U sets the session's notification, or clears it when it
 * carries none. An unknown notify_socket leaves it cleared (logged, the
 * command succeeds: "invalid socket name").
 */
static void
ul_notify(struct ctl_exec *ex, struct ctl_session *s,
	  const struct ctl_ul_opts *ul)
{
	int target = -1;
	char name[96];

	if (ul->notify_socket != NULL) {
		target = ctl_tnotify_lookup(ex->cfg.tnotify, ul->notify_socket,
					    ex->src, ex->local);
		if (target < 0)
			ctl_log_call(CTL_LOG_WARN, s->call_id,
				     "invalid socket name %s: no timeout "
				     "notification",
				     ctl_log_escape(ul->notify_socket, 64, name,
						    sizeof(name)));
	} else if (s->notify_target >= 0) {
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "disabling timeout handler");
	}
	if (target >= 0 && s->notify_target != target)
		ctl_log_call(CTL_LOG_INFO, s->call_id,
			     "setting timeout handler");
	if (ctl_session_set_notify(ex->sess, s, target, ul->notify_tag) != 0 ||
	    (target >= 0 &&
	     ctl_session_set_notify_origin(ex->sess, s, ul->notify_socket,
					   ex->src, ex->local) != 0))
		ctl_log_call(CTL_LOG_ERR, s->call_id,
			     "setting timeout handler: out of memory");
}

/*
 * The relay address a U/L wants for its leg sidx of an existing session
 * (rtpproxy: 'l'/'r'; or, with 'n', both of E/I: lia[0]).
 */
static struct ctl_leg_addr
ul_sidx_addr(const struct ctl_ul_opts *ul)
{
	int want = ul->local_addr >= 0			  ? ul->local_addr
		   : (ul->new_port && ul->lidx == -1) ? ul->laddr[0]
							  : -1;

	return (struct ctl_leg_addr){.laddr = want, .pinned = want >= 0};
}

/*
 * The desired state a U/L asks for (rtpproxy rtpp_command_ul_handle()):
 * leg sidx's port is returned, leg !sidx takes what the command signals.
 * A new session's legs were given their chosen addresses when it was
 * made (ctl_session_new()).
 */
static void
ul_request(const struct ctl_ul_opts *ul, int sidx, bool is_u, bool created,
	   struct ctl_session_req *req)
{
	*req = (struct ctl_session_req){
		.sidx = sidx,
		.is_update = is_u,
		.weak = ul->weak,
		.new_port = ul->new_port,
		.la = created ? (struct ctl_leg_addr){.laddr = -1}
			      : ul_sidx_addr(ul),
	};
	ul_signal(ul, &req->sig);
}

/*
 * Set the desired state of s and reconcile (ctl_session_update()).
 * Also "&& L" sub-commands.
 * @return 0, or the E-code (err's reason is logged by the caller).
 */
static int
ul_apply(struct ctl_exec *ex, struct ctl_session *s,
	 const struct ctl_session_req *req, bool created, uint64_t now_ns,
	 struct ctl_session_err *err)
{
	int rc = ctl_session_update(ex->sess, s, req, now_ns, err);

	if (rc == -ENOMEM)
		return CTL_E_NOMEM_1;
	return rc != 0 ? ul_ecode(rc, created) : 0;
}

/* Sub-command context (rtpproxy struct rtpp_subc_ctx). */
struct subc_ctx {
	uint64_t serial; /* the session (it may be deleted by a "D") */
	int in_leg;      /* strmp_in: the leg facing the command's sender */
};

/* The session of ctx, or NULL once deleted. */
static struct ctl_session *
subc_session(struct ctl_exec *ex, const struct subc_ctx *ctx)
{
	return ctl_sessions_by_serial(ex->sess, ctx->serial);
}

/*
 * "S[r] tos=N" and "M3:1 tag [pt [h]]" (docs/DTMF.md): the TOS of the
 * packets leg in_leg's socket sends ('r': the other leg's), or DTMF
 * catching on the packets it receives. catch_dtmf fails (-1) on a
 * session without a notify target, as rtpproxy's module does.
 */
static int
run_subc_media(struct ctl_exec *ex, struct ctl_cmd *cmd,
	       const struct ctl_subc *sc, struct ctl_session *s,
	       const struct subc_ctx *ctx)
{
	if (sc->op == CTL_SUBC_SET_TOS) {
		/* rtpproxy sets it on a stream a "D" before deleted too */
		if (s != NULL)
			ctl_session_set_tos(ex->sess, s,
					    sc->reverse ? !ctx->in_leg : ctx->in_leg,
					    (uint8_t)sc->tos);
		return 0;
	}
	if (s == NULL || s->notify_target < 0 || sc->dtmf_bad != NULL) {
		ctl_log_call(CTL_LOG_ERR, cmd->call_id, "&& M3:1 (catch_dtmf): %s",
			     s == NULL ? "the session was deleted before" :
			     s->notify_target < 0 ? "notification is not enabled" :
			     sc->dtmf_bad);
		return -1;
	}
	if (ctl_session_set_dtmf(ex->sess, s, ctx->in_leg, s->notify_target,
				 sc->dtmf_tag, (uint8_t)sc->dtmf_pt,
				 sc->dtmf_hide) != 0)
		return -1;
	return 0;
}

/*
 * Run sub-command k (rtpproxy after_success handlers).
 * @param buf out: its text result ("" for none).
 * @return 0, or -1 (failed, logged).
 */
static int
run_subc(struct ctl_exec *ex, struct ctl_cmd *cmd, int k,
	 struct subc_ctx *ctx, uint64_t now_ns, char *buf, size_t bufsz)
{
	const struct ctl_subc *sc = &cmd->subc[k];
	struct ctl_session *s = subc_session(ex, ctx);
	char call_id[256], from_tag[256];
	struct ctl_session_err err;
	struct ctl_session_req req;
	int n, ecode;

	buf[0] = '\0';
	switch (sc->op) {
	case CTL_SUBC_DELETE:
		if (s == NULL)
			return -1;
		/* the session's strings die with it: delete with copies */
		snprintf(call_id, sizeof(call_id), "%s", s->call_id);
		snprintf(from_tag, sizeof(from_tag), "%s", s->from_tag);
		if (strcmp(call_id, s->call_id) != 0 ||
		    strcmp(from_tag, s->from_tag) != 0)
			return -1; /* longer than the copies: cannot happen */
		n = ctl_sessions_delete(ex->sess, call_id, from_tag, NULL,
					sc->weak);
		return n > 0 ? 0 : -1;
	case CTL_SUBC_SET_TTL:
		/* rtpproxy sets it even on a session a "D" before deleted */
		if (s != NULL)
			ctl_session_set_ttl(ex->sess, s, (uint32_t)sc->ttl_s,
					    now_ns);
		return 0;
	case CTL_SUBC_SET_TOS:
	case CTL_SUBC_DTMF:
		return run_subc_media(ex, cmd, sc, s, ctx);
	case CTL_SUBC_UL:
		if (s == NULL) {
			ctl_log_call(CTL_LOG_ERR, cmd->call_id,
				     "&& L: the session was deleted before");
			return -1;
		}
		if (sc->update && sc->ul.notify_socket != NULL &&
		    !notify_enabled(ex)) {
			ctl_log_call(CTL_LOG_ERR, cmd->call_id,
				     "&& L: notify socket given but -n is not");
			return -1;
		}
		ul_request(&sc->ul, ctx->in_leg, sc->update, false, &req);
		ecode = ul_apply(ex, s, &req, false, now_ns, &err);
		if (ecode != 0) {
			ctl_log_call(CTL_LOG_ERR, cmd->call_id, "&& L: %s (E%d)",
				     err.why, ecode);
			return -1;
		}
		if (sc->update)
			ul_notify(ex, s, &sc->ul);
		ul_reply_text(ex, &s->leg[ctx->in_leg], buf, bufsz);
		ctx->in_leg = !ctx->in_leg; /* rtpproxy swaps in and out */
		return 0;
	case CTL_SUBC_COPY: {
		/* fork another session's streams into this one's (ctl_fork.h) */
		struct ctl_session *src = NULL;
		int sidx = ctl_sessions_find(ex->sess, sc->copy_call_id,
					     sc->copy_from_tag, sc->copy_to_tag,
					     &src);

		if (s == NULL || sidx == -1 ||
		    ctl_session_fork_into(ex->sess, src, sidx, s, ctx->in_leg,
					  &err) != 0) {
			ctl_log_call(CTL_LOG_ERR, cmd->call_id, "&& C: %s",
				     s == NULL ? "the session was deleted before" :
				     sidx == -1 ? "no session to fork" : err.why);
			return -1;
		}
		return 0;
	}
	default:
		return -1;
	}
}

/*
 * Run the sub-commands and append their results to r (rtpproxy
 * ul_reply_port() and handle_query()): " && <text>" or " && <n>" per
 * result; successes without text are left out unless a later result is
 * printed (then " && 0" each); the first failure stops them.
 */
static void
run_subcs(struct ctl_exec *ex, struct ctl_cmd *cmd, struct subc_ctx *ctx,
	  uint64_t now_ns, struct ctl_reply *r)
{
	int skipped = 0;
	char buf[128];

	for (int k = 0; k < cmd->nsubc; k++) {
		int res = run_subc(ex, cmd, k, ctx, now_ns, buf, sizeof(buf));

		if (res == 0 && buf[0] == '\0') {
			skipped++;
			continue;
		}
		for (; skipped > 0; skipped--)
			ctl_reply_appendf(r, " && 0");
		if (res != 0) {
			ctl_reply_appendf(r, " && %d", res);
			break;
		}
		ctl_reply_appendf(r, " && %s", buf);
	}
}

/* A new session for U (not in the table until ctl_session_update()
 * opens it), or E72/E98/E99. */
static struct ctl_session *
ul_create(struct ctl_exec *ex, struct ctl_cmd *cmd, uint64_t now_ns,
	  struct ctl_reply *r)
{
	struct ctl_leg_addr la[2] = {
		{.laddr = cmd->ul.laddr[0], .pinned = cmd->ul.pinned},
		{.laddr = cmd->ul.laddr[1], .pinned = cmd->ul.pinned},
	};
	struct ctl_session *s;

	if (ex->draining) {
		reply_err(cmd, r, CTL_E_SLOWSHTDN,
			  "proxy is in the deorbiting-burn mode, new session "
			  "rejected");
		return NULL;
	}
	/* E98 without reply_err()'s line per command: a flood of them is
	 * logged once a second by ctl_admit */
	if (ctl_admit_session(ex->cfg.admit, ctl_sessions_count(ex->sess),
			      ex->src, now_ns) != 0) {
		ctl_reply_error(r, CTL_E_OVERLOAD);
		return NULL;
	}
	s = ctl_session_new(ex->sess, cmd->call_id, cmd->from_tag,
			    cmd->ul.weak, la, now_ns);
	if (s == NULL)
		reply_err(cmd, r, ul_ecode(-ENOMEM, true), "out of memory");
	return s;
}

/*
 * U and L (rtpproxy handle_command() + rtpp_command_ul_handle()).
 * sidx is the leg whose port is returned (U: 0 on the creator's tag
 * order, L: the other); the command's address is leg pidx = !sidx's
 * remote. L on a missing session replies "0", counted as an error.
 * Parsed -> the session found or made -> its desired state -> reconciled
 * (ctl_session_update()) -> the reply.
 */
static void
exec_ul(struct ctl_exec *ex, struct ctl_cmd *cmd, uint64_t now_ns,
	struct ctl_reply *r)
{
	bool is_u = cmd->op == CTL_OP_UPDATE, created;
	struct ctl_session *s = NULL;
	int sidx = ctl_sessions_find(ex->sess, cmd->call_id, cmd->from_tag,
				     cmd->to_tag, &s);
	struct ctl_session_req req;
	struct ctl_session_err err;
	struct subc_ctx ctx;
	char text[128];
	int ecode;

	if (sidx != -1 && !is_u)
		sidx = !sidx;
	if (sidx == -1 && !is_u) {
		ctl_log_call(CTL_LOG_INFO, cmd->call_id,
			     "lookup request failed: session not found, tags "
			     "%s/%s", cmd->from_tag,
			     cmd->to_tag ? cmd->to_tag : "NONE");
		ctl_reply_port(r, 0, NULL, false);
		r->error = true;
		return;
	}
	if (cmd->ul.has_remote && ctl_addrs_find_ip(ex->addrs, &cmd->ul.remote) >= 0) {
		char ra[INET6_ADDRSTRLEN], why[INET6_ADDRSTRLEN + 48];

		inet_ntop(cmd->ul.remote.family == RTPB_AF_INET6 ? AF_INET6 : AF_INET,
			  cmd->ul.remote.ip, ra, sizeof(ra));
		snprintf(why, sizeof(why), "remote address %s is one of the relay's own", ra);
		reply_err(cmd, r, CTL_E_INVLARG_8, why);
		return;
	}
	if (is_u && cmd->ul.notify_socket != NULL && !notify_enabled(ex)) {
		reply_err(cmd, r, CTL_E_NSOFF,
			  "must permit notification socket with -n");
		return;
	}
	created = sidx == -1;
	if (created) {
		s = ul_create(ex, cmd, now_ns, r);
		if (s == NULL)
			return;
		sidx = 0;
	}
	ul_request(&cmd->ul, sidx, is_u, created, &req);
	ecode = ul_apply(ex, s, &req, created, now_ns, &err);
	if (ecode != 0) {
		reply_err(cmd, r, ecode, err.why);
		return;
	}
	if (is_u)
		ul_notify(ex, s, &cmd->ul);
	ul_reply_text(ex, &s->leg[sidx], text, sizeof(text));
	ctl_reply_reset(r);
	ctl_reply_appendf(r, "%s", text);
	ctx = (struct subc_ctx){.serial = s->serial, .in_leg = !sidx};
	run_subcs(ex, cmd, &ctx, now_ns, r);
	ctl_reply_appendf(r, "\n");
}

/* D (rpcpv1_delete.c): 0 if anything matched, else E50. */
static void
exec_delete(struct ctl_exec *ex, struct ctl_cmd *cmd,
	     uint64_t now_ns __attribute__((unused)), struct ctl_reply *r)
{
	if (ctl_sessions_delete(ex->sess, cmd->call_id, cmd->from_tag,
				cmd->to_tag, cmd->weak) == 0) {
		reply_err(cmd, r, CTL_E_SESUNKN, "session not found");
		return;
	}
	ctl_reply_number(r, 0);
}

/* Find for Q/P/S/C: idx = NOT(rval) (handle_command()); E50 if none. */
static struct ctl_session *
find_other(struct ctl_exec *ex, struct ctl_cmd *cmd, struct ctl_reply *r,
	   int *idx)
{
	struct ctl_session *s = NULL;
	int rval = ctl_sessions_find(ex->sess, cmd->call_id, cmd->from_tag,
				     cmd->to_tag, &s);

	if (rval == -1) {
		reply_err(cmd, r, CTL_E_SESUNKN, "session not found");
		return NULL;
	}
	*idx = !rval;
	return s;
}

/* One Q counter by name; false if not one this relay keeps. */
static bool
query_value(const struct ctl_session_query *q, const char *name, int64_t *v)
{
	if (strcmp(name, "ttl") == 0)
		*v = q->ttl_s;
	else if (strcmp(name, "npkts_ina") == 0)
		*v = (int64_t)q->npkts_ina;
	else if (strcmp(name, "npkts_ino") == 0)
		*v = (int64_t)q->npkts_ino;
	else if (strcmp(name, "nrelayed") == 0)
		*v = (int64_t)q->nrelayed;
	else if (strcmp(name, "ndropped") == 0)
		*v = (int64_t)q->ndropped;
	else
		return false;
	return true;
}

/*
 * Q[v] (rpcpv1_query.c): "ttl npkts_ina npkts_ino nrelayed ndropped", or
 * the named counters, then the sub-command results. Names rtpproxy knows
 * rtpa_* and longest_ipi come from the dataplane's RTP analysis of leg
 * idx's RTP stream (docs/RTPA.md; rtpproxy's formats); unknown names
 * get E62. The modifiers are checked here, after the
 * lookup, as rtpproxy does (E50 before E19).
 */
static void
exec_query(struct ctl_exec *ex, struct ctl_cmd *cmd, uint64_t now_ns,
	   struct ctl_reply *r)
{
	static const char *const dflt[] = {"ttl", "npkts_ina", "npkts_ino",
					   "nrelayed", "ndropped"};
	const char *const *names = cmd->nqnames > 0 ? cmd->qnames : dflt;
	int n = cmd->nqnames > 0 ? cmd->nqnames : 5;
	struct ctl_session_query q;
	struct subc_ctx ctx;
	int idx;
	struct ctl_session *s = find_other(ex, cmd, r, &idx);

	if (s == NULL)
		return;
	if (cmd->qmod_bad != 0) {
		reply_err(cmd, r, CTL_E_PARSE_8, "unknown command modifier");
		return;
	}
	ctl_session_query(ex->sess, s, idx, now_ns, &q);
	ctl_reply_reset(r);
	for (int i = 0; i < n; i++) {
		char val[64];
		int64_t v;

		/* then the RTP analysis of leg idx's RTP stream (rtpa_*,
		 * longest_ipi, this relay's rtpb_*: include/rtpb_rtpa.h) */
		if (query_value(&q, names[i], &v))
			snprintf(val, sizeof(val), "%lld", (long long)v);
		else if (rtpb_rtpa_format(&q.rtpa, names[i], val, sizeof(val)) < 0) {
			reply_err(cmd, r, CTL_E_QRYFAIL,
				  "unsupported/invalid counter name");
			return;
		}
		/* rtpproxy's check leaves room for the sub-command results */
		if (ctl_reply_appendf(r, "%s%s%s%s", i > 0 ? " " : "",
				      cmd->verbose ? names[i] : "",
				      cmd->verbose ? "=" : "",
				      val) != 0 ||
		    r->len > CTL_REPLY_MAX - 16) {
			reply_err(cmd, r, CTL_E_RTOOBIG_2, "reply too big");
			return;
		}
	}
	ctx = (struct subc_ctx){.serial = s->serial, .in_leg = idx};
	run_subcs(ex, cmd, &ctx, now_ns, r);
	if (ctl_reply_appendf(r, "\n") != 0)
		reply_err(cmd, r, CTL_E_RTOOBIG_2, "reply too big");
}

/*
 * The prefilter's verdict counters (packets, summed over CPUs) into out.
 * @return true; false without a prefilter, or if they cannot be read
 *         (logged; out is then all zero).
 */
static bool
pf_counters(const struct ctl_exec *ex, uint64_t out[RTPB_PF_VERDICT__COUNT])
{
	int rc;

	memset(out, 0, sizeof(uint64_t) * RTPB_PF_VERDICT__COUNT);
	if (ex->cfg.pf == NULL)
		return false;
	rc = ctl_pf_stats(ex->cfg.pf, out);
	if (rc != 0) {
		ctl_log(CTL_LOG_WARN, "prefilter counters (pf_stats): %s",
			strerror(-rc));
		memset(out, 0, sizeof(uint64_t) * RTPB_PF_VERDICT__COUNT);
		return false;
	}
	return true;
}

/*
 * I[b|l] (handle_info()): rtpproxy's lines in its format ("average
 * load" with 'l'), then this relay's: "handovers: N" (mid-call peer
 * switches that won probation, DESIGN.md §4.4) and, with the prefilter
 * on, one line per verdict, "prefilter <name>: N" (packets, rtpb_pf.h's
 * names); once a dataplane worker was ever found stalled, "dataplane
 * workers stalled: N (M stalls seen)"; with admission limits
 * (ctl_admit.h), "sessions refused (max sessions): N" and "sessions
 * refused (source rate): N"; with a session journal, "journal: N
 * records written, ...". A reader of rtpproxy's lines finds them where rtpproxy puts
 * them.
 */
static void
exec_info(struct ctl_exec *ex, struct ctl_cmd *cmd,
	   uint64_t now_ns __attribute__((unused)), struct ctl_reply *r)
{
	struct ctl_sessions_counters c;
	struct ctl_admit_counters ac;
	uint64_t pf[RTPB_PF_VERDICT__COUNT], stalls;
	uint32_t stalled;

	ctl_sessions_counters(ex->sess, &c);
	ctl_reply_reset(r);
	ctl_reply_appendf(r,
			  "sessions created: %llu\nactive sessions: %d\n"
			  "active streams: %d\npackets received: %llu\n"
			  "packets transmitted: %llu\n",
			  (unsigned long long)c.created, (int)c.active,
			  (int)c.streams, (unsigned long long)c.pkts_in,
			  (unsigned long long)c.pkts_relayed);
	if (cmd->info_load)
		ctl_reply_appendf(r, "average load: %f\n", ex->load);
	ctl_reply_appendf(r, "handovers: %llu\n",
			  (unsigned long long)c.handovers);
	if (pf_counters(ex, pf))
		for (uint32_t v = 0; v < RTPB_PF_VERDICT__COUNT; v++)
			ctl_reply_appendf(r, "prefilter %s: %llu\n",
					  ctl_pf_verdict_name(v),
					  (unsigned long long)pf[v]);
	/* worker health (ctl_dp_workers_stalled()), once one ever stalled */
	stalled = ctl_dp_workers_stalled(ctl_sessions_dp(ex->sess), &stalls);
	if (stalls > 0)
		ctl_reply_appendf(r, "dataplane workers stalled: %d (%llu stalls "
				  "seen)\n", __builtin_popcount(stalled),
				  (unsigned long long)stalls);
	/* the session journal, when there is one */
	if (c.journal_slots_used + c.journal_slots_free > 0)
		ctl_reply_appendf(r, "journal: %llu records written, %llu "
				  "write errors, slots %llu used %llu free, "
				  "%llu sessions restored at start, %llu "
				  "streams kept in place\n",
				  (unsigned long long)c.journal_writes,
				  (unsigned long long)c.journal_write_errors,
				  (unsigned long long)c.journal_slots_used,
				  (unsigned long long)c.journal_slots_free,
				  (unsigned long long)c.journal_restored,
				  (unsigned long long)c.streams_kept);
	if (ex->cfg.redis_counters != NULL) {
		struct ctl_redis_counters rc;

		ex->cfg.redis_counters(ex->cfg.redis_arg, &rc);
		ctl_reply_appendf(r, "redis: %s, writes %llu, deletes %llu, "
				  "drops %llu, errors %llu, resyncs %llu, "
				  "pending %u\n",
				  rc.connected ? "connected" : "down",
				  (unsigned long long)rc.writes,
				  (unsigned long long)rc.deletes,
				  (unsigned long long)rc.drops,
				  (unsigned long long)rc.errors,
				  (unsigned long long)rc.resyncs, rc.pending);
	}
	if (ex->cfg.admit != NULL) {
		ctl_admit_counters(ex->cfg.admit, &ac);
		ctl_reply_appendf(r, "sessions refused (max sessions): %llu\n"
				  "sessions refused (source rate): %llu\n",
				  (unsigned long long)ac.refused_max,
				  (unsigned long long)ac.refused_rate);
	}
}

/*
 * One G counter with its Prometheus export (ctl_cmd_exec.h): STAT_U
 * and STAT_D are not exported (0 here, or a figure Prometheus derives
 * itself), STAT_C is a counter, STAT_G a gauge, both named
 * rtpbypass_<metric> with an optional label pair.
 */
#define STAT_U(n, x) {.name = (n), .u = (x)}
#define STAT_D(n, x) {.name = (n), .dbl = true, .d = (x)}
#define STAT_C(n, x, m, l, h) {.name = (n), .u = (x), .metric = (m), \
			       .label = (l), .help = (h)}
#define STAT_G(n, x, m, l, h) {.name = (n), .u = (x), .metric = (m), \
			       .label = (l), .help = (h), .gauge = true}
/* The same, given to a G that names it but not listed by a bare G. */
#define STAT_CN(n, x, m, l, h) {.name = (n), .u = (x), .metric = (m), \
				.label = (l), .help = (h), .by_name = true}
#define STAT_GN(n, x, m, l, h) {.name = (n), .u = (x), .metric = (m), \
				.label = (l), .help = (h), .gauge = true, \
				.by_name = true}

/*
 * Every G counter with its value, in the order a bare G lists them:
 * rtpproxy's (src/rtpp_stats.c), this relay's, then
 * npf_<verdict> from pf (the prefilter's counters, zeros without one).
 * Entries of one Prometheus metric (a label each) are contiguous.
 */
static void
stats_table(const struct ctl_exec *ex, const struct ctl_sessions_counters *c,
	    const struct ctl_admit_counters *ac,
	    const uint64_t pf[RTPB_PF_VERDICT__COUNT],
	    struct ctl_exec_stats *out)
{
	uint64_t stalls;
	uint32_t stalled = ctl_dp_workers_stalled(ctl_sessions_dp(ex->sess),
						  &stalls);
	struct ctl_redis_counters rc = {0};

	if (ex->cfg.redis_counters != NULL)
		ex->cfg.redis_counters(ex->cfg.redis_arg, &rc);
	const struct ctl_player_counters pc = ex->cfg.play_ctrs != NULL ?
		*ex->cfg.play_ctrs : (struct ctl_player_counters){0};
	const struct ctl_exec_stat fixed[] = {
		/* rtpproxy's (src/rtpp_stats.c) */
		STAT_C("nsess_created", c->created, "sessions_created_total",
		       NULL, "Sessions created (U of a new call)"),
		STAT_C("nsess_destroyed", c->destroyed, "sessions_destroyed_total",
		       NULL, "Sessions ended (D, timeout, drain)"),
		STAT_C("nsess_timeout", c->timeouts, "sessions_timed_out_total",
		       NULL, "Sessions ended by their inactivity timeout"),
		STAT_C("nsess_complete", c->completed, "sessions_completed_total",
		       NULL, "Sessions whose both legs got a port (U then L)"),
		STAT_C("nsess_nortp", c->nortp, "sessions_ended_media_total",
		       "media=\"nortp\"",
		       "Sessions ended by what media they saw: no RTP, RTP one way, "
		       "no RTCP, RTCP one way"),
		STAT_C("nsess_owrtp", c->owrtp, "sessions_ended_media_total",
		       "media=\"owrtp\"", NULL),
		STAT_C("nsess_nortcp", c->nortcp, "sessions_ended_media_total",
		       "media=\"nortcp\"", NULL),
		STAT_C("nsess_owrtcp", c->owrtcp, "sessions_ended_media_total",
		       "media=\"owrtcp\"", NULL),
		/* the player (P): zeros without one; no resizer */
		STAT_U("nplrs_created", pc.created),
		STAT_U("nplrs_destroyed", pc.destroyed),
		STAT_C("npkts_rcvd", c->pkts_in, "received_packets_total", NULL,
		       "RTP and RTCP packets received on sessions' relay sockets"),
		STAT_U("npkts_played", pc.pkts),
		STAT_C("npkts_relayed", c->pkts_relayed, "relayed_packets_total",
		       NULL, "RTP and RTCP packets relayed to the other leg"),
		STAT_U("npkts_resizer_in", 0),
		STAT_U("npkts_resizer_out", 0),
		STAT_U("npkts_resizer_discard", 0),
		STAT_C("npkts_discard", c->pkts_dropped, "discarded_packets_total",
		       NULL, "Packets of sessions' streams not relayed (by "
		       "reason: rtpbypass_dropped_packets_total)"),
		STAT_C("ncmds_rcvd", ex->c.ncmds_rcvd, "commands_received_total",
		       NULL, "Control commands received, retransmissions not"),
		STAT_C("ncmds_rcvd_ndups", ex->c.ncmds_rcvd_ndups,
		       "commands_duplicate_total", NULL,
		       "Retransmitted commands answered from the reply cache"),
		STAT_C("ncmds_succd", ex->c.ncmds_succd, "commands_succeeded_total",
		       NULL, "Commands replied with success"),
		STAT_C("ncmds_errs", ex->c.ncmds_errs, "command_errors_total",
		       NULL, "Commands replied with an error code"),
		STAT_U("ncmds_repld", ex->c.ncmds_repld),
		STAT_D("total_duration", c->total_duration),
		STAT_D("pps_in", c->pps_in),
		/* RTP analysis of ended sessions' RTP streams (rtpp_stats.c) */
		STAT_U("rtpa_nsent", c->rtpa_nsent),
		STAT_U("rtpa_nrcvd", c->rtpa_nrcvd),
		STAT_U("rtpa_ndups", c->rtpa_ndups),
		STAT_U("rtpa_nlost", c->rtpa_nlost),
		STAT_U("rtpa_perrs", c->rtpa_perrs),
		/* this relay's (DESIGN.md §4): latch events by reason */
		STAT_C("nlatches", c->latches, "latches_total", NULL,
		       "Latch events: a stream learned or switched its peer"),
		STAT_C("nhandovers", c->handovers, "handovers_total", NULL,
		       "Latches that were mid-call peer switches (probation won)"),
		STAT_C("nhandovers_dropped", c->handover_dropped,
		       "handover_dropped_packets_total", NULL,
		       "Packets dropped during handover probations"),
		STAT_C("nrtcp_follows", c->rtcp_follows, "rtcp_follows_total",
		       NULL, "Latches of RTCP following its RTP stream"),
		STAT_C("nreverts", c->reverts, "reverts_total", NULL,
		       "Latches of a previous peer winning its stream back"),
		STAT_C("nreoffers", c->reoffers, "reoffers_total", NULL,
		       "Re-offers taken by the dataplane"),
		STAT_C("nfamily_moves", c->family_moves, "family_moves_total",
		       NULL, "Legs moved to a socket of the other IP family"),
		STAT_C("nport_spills", c->port_spills, "port_spills_total", NULL,
		       "Legs opened on another relay address (--port-spill)"),
		STAT_C("nsteer_misses", c->steer_misses, "steer_misses_total",
		       NULL, "Ports the NIC steers to another worker than "
		       "their session's"),
		STAT_C("nadopted", c->adopted, "adopted_streams_total", NULL,
		       "Streams of an earlier control kept after a restart"),
		STAT_G("norphans", c->orphans, "orphan_streams", NULL,
		       "Adopted streams still kept"),
		/* admission (ctl_admit.h): U refused with E98 */
		STAT_C("nsess_refused_max", ac->refused_max,
		       "sessions_refused_total", "reason=\"max_sessions\"",
		       "New sessions refused with E98, by limit"),
		STAT_C("nsess_refused_rate", ac->refused_rate,
		       "sessions_refused_total", "reason=\"source_rate\"", NULL),
		/* worker health (ctl_dp_workers_stalled()) */
		STAT_C("nworker_stalls", stalls, "worker_stalls_total", NULL,
		       "Times a dataplane worker was found stalled"),
		STAT_G("nworkers_stalled", (uint64_t)__builtin_popcount(stalled),
		       "workers_stalled", NULL,
		       "Dataplane workers stalled now"),
		/* the session journal (ctl_journal.h; 0 without one): by name
		 * only, a bare G would not fit CTL_REPLY_MAX with them */
		STAT_CN("njournal_writes", c->journal_writes,
		       "journal_writes_total", NULL,
		       "Session records written to the journal"),
		STAT_CN("njournal_write_errors", c->journal_write_errors,
		       "journal_write_errors_total", NULL,
		       "Journal record writes that failed (too large, full)"),
		STAT_GN("njournal_slots_used", c->journal_slots_used,
		       "journal_slots", "state=\"used\"",
		       "Journal slots, by state"),
		STAT_GN("njournal_slots_free", c->journal_slots_free,
		       "journal_slots", "state=\"free\"", NULL),
		STAT_CN("njournal_restored", c->journal_restored,
		       "journal_restored_sessions_total", NULL,
		       "Sessions restored from the journal at start"),
		STAT_CN("njournal_dropped", c->journal_dropped,
		       "journal_dropped_records_total", NULL,
		       "Journal records dropped at start (unreadable, torn)"),
		STAT_CN("nstreams_kept", c->streams_kept,
		       "kept_streams_total", NULL,
		       "Restored sessions' streams kept in place at attach"),
		/* Redis session state (issue 21 item 2, ctl_redis.h) */
		STAT_CN("nredis_writes", rc.writes, "redis_writes_total", NULL,
		       "Session records written to Redis (--redis)"),
		STAT_CN("nredis_deletes", rc.deletes, "redis_deletes_total", NULL,
		       "Session keys deleted from Redis"),
		STAT_CN("nredis_drops", rc.drops, "redis_drops_total", NULL,
		       "Session changes not written (queue full or Redis "
		       "down; a resync follows)"),
		STAT_CN("nredis_errors", rc.errors, "redis_errors_total", NULL,
		       "Redis error replies and failed connections"),
		STAT_CN("nredis_resyncs", rc.resyncs, "redis_resyncs_total", NULL,
		       "Full rewrites of the live sessions to Redis"),
		STAT_GN("nredis_connected", rc.connected ? 1 : 0,
		       "redis_connected", NULL,
		       "1 when connected to Redis and in sync"),
	};
	size_t n = sizeof(fixed) / sizeof(fixed[0]);

	_Static_assert(sizeof(fixed) / sizeof(fixed[0]) + RTPB_PF_VERDICT__COUNT <=
			       CTL_EXEC_STATS_MAX, "CTL_EXEC_STATS_MAX too small");
	memcpy(out->e, fixed, sizeof(fixed));
	/* npf_<verdict>: the prefilter's packets of that verdict */
	for (uint32_t i = 0; i < RTPB_PF_VERDICT__COUNT; i++, n++) {
		snprintf(out->npf_names[i], sizeof(out->npf_names[i]), "npf_%s",
			 ctl_pf_verdict_name(i));
		snprintf(out->npf_labels[i], sizeof(out->npf_labels[i]),
			 "verdict=\"%s\"", ctl_pf_verdict_name(i));
		out->e[n] = (struct ctl_exec_stat)STAT_C(
			out->npf_names[i], pf[i], "prefilter_packets_total",
			out->npf_labels[i],
			i == 0 ? "Packets seen by the XDP prefilter, by verdict "
				 "(0 when it is off)" : NULL);
	}
	out->n = n;
}

void
ctl_exec_stats_read(struct ctl_exec *ex, bool with_pf, struct ctl_exec_stats *out)
{
	struct ctl_sessions_counters c;
	struct ctl_admit_counters ac;
	uint64_t pf[RTPB_PF_VERDICT__COUNT] = {0};

	ctl_sessions_counters(ex->sess, &c);
	ctl_admit_counters(ex->cfg.admit, &ac);
	if (with_pf)
		pf_counters(ex, pf);
	stats_table(ex, &c, &ac, pf, out);
}

/*
 * G[v] [name ...] (rpcpv1_stats.c): rtpproxy's counters (rtpa_*: the
 * RTP analysis of ended sessions, added at their end), integers as %llu and
 * total_duration, pps_in as %f. Beyond rtpproxy's names: nlatches
 * (latch events), nhandovers (of which handovers), nhandovers_dropped
 * (packets dropped in their probation), nrtcp_follows, nreverts, nreoffers,
 * nfamily_moves (legs moved to a socket of the other family,
 * ctl_session.h), nport_spills (legs opened on another address of their
 * family, --port-spill), nsteer_misses (ports the NIC steers to another
 * worker than their session's), nadopted and norphans (streams of an
 * earlier control kept after a restart, and those still kept),
 * nsess_refused_max and nsess_refused_rate (U refused with E98,
 * ctl_admit.h), nworker_stalls and nworkers_stalled (dataplane workers
 * found stalled, all told and now), njournal_* (the session journal:
 * records written, write errors, slots used and free, sessions restored
 * and records dropped at start), nstreams_kept (streams of restored
 * sessions kept in place at attach; these two kinds only when named:
 * a bare G does not list them), and npf_<verdict> for each of the prefilter's verdicts
 * (npf_drop_budget: packets, rtpb_pf.h's names), 0 when the prefilter is
 * off (it counted nothing), so one query fits every relay. Given by
 * name only (a bare G stays within rtpproxy's 1024 bytes):
 * nredis_writes, nredis_deletes, nredis_drops, nredis_errors,
 * nredis_resyncs and nredis_connected (--redis, ctl_redis.h; 0
 * without).
 *
 * A bare G (or Gv) lists every counter, as name=value pairs separated
 * by spaces (Gv's form). rtpproxy answers a bare G with an empty line
 * (handle_get_stats() loops over the names given); a caller that names
 * its counters gets the same reply from both.
 */
static void
exec_stats(struct ctl_exec *ex, struct ctl_cmd *cmd,
	    uint64_t now_ns __attribute__((unused)), struct ctl_reply *r)
{
	struct ctl_exec_stats st;
	bool all = cmd->nqnames == 0, verbose = cmd->verbose || all;
	bool want_pf = all;
	int n;

	/* the map is read once per G, and only if it is asked for */
	for (int i = 0; i < cmd->nqnames && !want_pf; i++)
		want_pf = strncmp(cmd->qnames[i], "npf_", 4) == 0;
	ctl_exec_stats_read(ex, want_pf, &st);
	n = all ? (int)st.n : cmd->nqnames;
	ctl_reply_reset(r);
	for (int i = 0, shown = 0; i < n; i++) {
		const struct ctl_exec_stat *e = all ? &st.e[i] : NULL;
		const char *pre = shown > 0 ? " " : "";
		const char *nm = verbose ? (all ? e->name : cmd->qnames[i]) : "";
		const char *eq = verbose ? "=" : "";
		int rc;

		if (e != NULL && e->by_name)
			continue; /* a bare G: listed by name only */
		for (size_t k = 0; e == NULL && k < st.n; k++)
			if (strcmp(cmd->qnames[i], st.e[k].name) == 0)
				e = &st.e[k];
		shown++;
		if (e == NULL) {
			reply_err(cmd, r, CTL_E_STSFAIL, "unknown counter name");
			return;
		}
		rc = e->dbl ? ctl_reply_appendf(r, "%s%s%s%f", pre, nm, eq, e->d)
			    : ctl_reply_appendf(r, "%s%s%s%llu", pre, nm, eq,
						(unsigned long long)e->u);
		if (rc != 0) {
			reply_err(cmd, r, CTL_E_RTOOBIG_1, "reply too big");
			return;
		}
	}
	if (ctl_reply_appendf(r, "\n") != 0)
		reply_err(cmd, r, CTL_E_RTOOBIG_1, "reply too big");
}

/*
 * P (rtpproxy handle_play(), rpcpv1_play.c): play to leg idx's party.
 * "session" is the leg's c list from its last U/L (E35 if none), at the
 * ptime the other leg keeps (rtpproxy stores a U/L's Z on
 * stream[NOT(pidx)] and its c list on stream[pidx]; this relay keeps
 * both on leg[pidx]). P0 stops and answers 0; any failure to play E60.
 */
static void
exec_play(struct ctl_exec *ex, struct ctl_cmd *cmd, uint64_t now_ns,
	  struct ctl_reply *r)
{
	int idx, rc;
	struct ctl_session *s = find_other(ex, cmd, r, &idx);
	bool session = strcmp(cmd->play_codecs, "session") == 0;

	if (s == NULL)
		return;
	if (session && s->leg[idx].codecs == NULL) {
		reply_err(cmd, r, CTL_E_INVLARG_5, "no codec list stored");
		return;
	}
	if (ex->cfg.play == NULL) {
		if (cmd->play_count == 0)
			ctl_reply_number(r, 0); /* P0 only stops playback */
		else
			reply_err(cmd, r, CTL_E_PLRFAIL,
				  "can't play: no prompt directory (--prompt-dir)");
		return;
	}
	rc = ex->cfg.play(ex->cfg.play_arg, ex->sess, s, idx, cmd->play_name,
			  session ? s->leg[idx].codecs : cmd->play_codecs,
			  session ? s->leg[!idx].ptime : -1, cmd->play_count, now_ns);
	if (rc != 0 && cmd->play_count != 0) {
		reply_err(cmd, r, CTL_E_PLRFAIL, rc == -ENOENT ?
			  "can't play: no prompt file for the codecs" : strerror(-rc));
		return;
	}
	ctl_reply_number(r, 0);
}

/* Has the command modifier c? */
static bool
has_mod(const struct ctl_cmd *cmd, char c)
{
	return cmd->mods != NULL && strchr(cmd->mods, c) != NULL;
}

/*
 * R[s], C[s] to a file, N[a] (rtpproxy handle_record(), handle_copy(),
 * handle_norecord()): the party the tags designate (leg idx: its socket
 * receives that party's packets); Rs/Cs under -P both parties in one
 * file, Na both parties. 0, or E50 when the session is unknown, the
 * recorder not configured (no -r) or nothing was started or stopped (C:
 * E65 for the last two, rtpproxy's ECODE_CPYFAIL).
 */
static void
exec_rec(struct ctl_exec *ex, struct ctl_cmd *cmd, struct ctl_reply *r,
	 const char *name)
{
	int idx, rc, ecode, stopped = 0;
	struct ctl_session *s = NULL;
	int rval = ctl_sessions_find_rec(ex->sess, cmd->call_id, cmd->from_tag,
					 cmd->to_tag, &s);

	if (rval == -1) {
		reply_err(cmd, r, CTL_E_SESUNKN, "session not found");
		return;
	}
	idx = !rval;
	if (cmd->op == CTL_OP_NORECORD) {
		/* the party's recorders, remote ones (forks, ctl_fork.h) too */
		for (int li = 0; li < 2; li++) {
			if (li != idx && !has_mod(cmd, 'a'))
				continue;
			if (ex->cfg.rec != NULL &&
			    ex->cfg.rec(ex->cfg.rec_arg, ex->sess, s, li, NULL,
					CTL_RECORDER_STOP) == 0)
				stopped++;
			if (ctl_session_clear_fork(ex->sess, s, li) == 0)
				stopped++;
		}
		if (stopped == 0)
			reply_err(cmd, r, CTL_E_SESUNKN, "nothing is recording");
		else
			ctl_reply_number(r, 0);
		return;
	}
	/* rtpproxy: R fails with E50, C (handle_copy()) with E65 */
	ecode = cmd->op == CTL_OP_COPY ? CTL_E_CPYFAIL : CTL_E_SESUNKN;
	if (ex->cfg.rec == NULL) {
		reply_err(cmd, r, ecode, "recording is not configured (no -r)");
		return;
	}
	rc = ex->cfg.rec(ex->cfg.rec_arg, ex->sess, s, idx, name,
			 has_mod(cmd, 's') ? CTL_REC_SINGLE : 0);
	if (rc != 0 && rc != -EALREADY) {
		reply_err(cmd, r, ecode, strerror(-rc));
		return;
	}
	ctl_reply_number(r, 0);
}

/* R and N. */
static void
exec_record(struct ctl_exec *ex, struct ctl_cmd *cmd,
	     uint64_t now_ns __attribute__((unused)), struct ctl_reply *r)
{
	exec_rec(ex, cmd, r, NULL);
}

/* V (rtpproxy handle_command()): the protocol version. */
static void
exec_version(struct ctl_exec *ex, struct ctl_cmd *cmd,
	     uint64_t now_ns __attribute__((unused)), struct ctl_reply *r)
{
	(void)ex;
	(void)cmd;
	ctl_reply_number(r, CTL_PROTO_VERSION);
}

/* X: every session deleted. */
static void
exec_delete_all(struct ctl_exec *ex, struct ctl_cmd *cmd,
		uint64_t now_ns __attribute__((unused)), struct ctl_reply *r)
{
	(void)cmd;
	ctl_log(CTL_LOG_INFO, "deleting all %u active sessions",
		ctl_sessions_count(ex->sess));
	ctl_sessions_delete_all(ex->sess);
	ctl_reply_number(r, 0);
}

/* S (handle_noplay()): stop leg idx's player; 0 whether it played or
 * not, E50 without a session. */
static void
exec_noplay(struct ctl_exec *ex, struct ctl_cmd *cmd, uint64_t now_ns,
	    struct ctl_reply *r)
{
	int idx;
	struct ctl_session *s = find_other(ex, cmd, r, &idx);

	if (s == NULL)
		return;
	if (ex->cfg.play != NULL)
		ex->cfg.play(ex->cfg.play_arg, ex->sess, s, idx, NULL, NULL, 0, 0,
			     now_ns);
	ctl_reply_number(r, 0);
}

/*
 * C: to a file as R (exec_rec()). C[p] to udp:host:port (udp6: too) forks
 * the party to it (rtpproxy handle_copy() remote; ctl_fork.h): "0", or
 * with 'p' the fork's relay socket as a U/L reply ("<port> <addr>[ 6]",
 * 20250523); E50 without a session; E65 when the target is bad, 'p' comes
 * with a file, or the fork cannot be made. The session match is R's.
 */
static void
exec_copy(struct ctl_exec *ex, struct ctl_cmd *cmd,
	  uint64_t now_ns __attribute__((unused)), struct ctl_reply *r)
{
	bool rtcp = !ex->cfg.fork_no_rtcp;
	struct ctl_session *s = NULL;
	struct ctl_session_err err;
	const struct ctl_fork *f;
	struct rtpb_addr target;
	char why[96];
	int rval, rc;

	if (!ctl_fork_is_remote(cmd->copy_target) && !has_mod(cmd, 'p')) {
		exec_rec(ex, cmd, r, cmd->copy_target);
		return;
	}
	rval = ctl_sessions_find_rec(ex->sess, cmd->call_id, cmd->from_tag,
				     cmd->to_tag, &s);
	if (rval == -1) {
		reply_err(cmd, r, CTL_E_SESUNKN, "session not found");
		return;
	}
	if (!ctl_fork_is_remote(cmd->copy_target)) {
		reply_err(cmd, r, CTL_E_CPYFAIL, "command modifier 'p' is not "
			  "allowed for non-remote recording");
		return;
	}
	if (ctl_fork_parse_target(cmd->copy_target, rtcp, &target, why,
				  sizeof(why)) != 0) {
		reply_err(cmd, r, CTL_E_CPYFAIL, why);
		return;
	}
	rc = ctl_session_set_fork(ex->sess, s, !rval, &target, rtcp, &err);
	if (rc != 0 && rc != -EALREADY) {
		reply_err(cmd, r, CTL_E_CPYFAIL, err.why);
		return;
	}
	f = &s->leg[!rval].fork;
	if (has_mod(cmd, 'p'))
		ctl_reply_port(r, f->port, ctl_addrs_reply_text(ex->addrs, f->laddr),
			       ctl_addrs_family(ex->addrs, f->laddr) == RTPB_AF_INET6);
	else
		ctl_reply_number(r, 0);
}

/* HA [master|backup|fault]: rtpbypass's own, for keepalived's notify
 * scripts (ctl_ha.h); E0 without --ha, E1 for an unknown role. */
static void
exec_ha(struct ctl_exec *ex, struct ctl_cmd *cmd, uint64_t now_ns,
	struct ctl_reply *r)
{
	char buf[160];

	if (ex->cfg.ha == NULL) {
		reply_err(cmd, r, CTL_E_CMDUNKN, "HA without --ha");
		return;
	}
	if (ex->cfg.ha(ex->cfg.ha_arg, cmd->argc > 1 ? cmd->argv[1] : NULL, now_ns,
		       buf, sizeof(buf)) != 0) {
		reply_err(cmd, r, CTL_E_PARSE_NARGS, "HA: role not master, backup or fault");
		return;
	}
	ctl_reply_appendf(r, "%s", buf);
}

/* A handler of the command table (ctl_cmd.h CTL_CMD_FOREACH). */
typedef void (ctl_exec_fn)(struct ctl_exec *ex, struct ctl_cmd *cmd,
			   uint64_t now_ns, struct ctl_reply *r);

static ctl_exec_fn *const exec_fns[CTL_OP__COUNT] = {
#define EXEC_FN(op, parse, exec, ...) [CTL_OP_##op] = exec,
	CTL_CMD_FOREACH(EXEC_FN)
#undef EXEC_FN
};

void
ctl_exec_cmd(struct ctl_exec *ex, struct ctl_cmd *cmd, uint64_t now_ns,
	     struct ctl_reply *r)
{
	ctl_reply_reset(r);
	ctl_sessions_now(ex->sess, now_ns);
	exec_fns[cmd->op](ex, cmd, now_ns, r);
	if (!ctl_cmd_defs[cmd->op].call_id)
		return;
	/* a session op: the streams are in the dataplane before the reply
	 * leaves (in a batch: before the batch's replies leave) */
	if (ex->defer_sync)
		ex->sync_pending = true;
	else
		ctl_sessions_dp_sync(ex->sess);
}


/* The reply of cmd, by command letter and result (ctl_exec_counters.by_cmd). */
static void
count_by_cmd(struct ctl_exec *ex, const struct ctl_cmd *cmd,
	     const struct ctl_reply *r)
{
	char c = cmd->argc > 0 && cmd->argv[0] != NULL ? cmd->argv[0][0] : '\0';
	int t = c >= 'a' && c <= 'z' ? c - 'a' : c >= 'A' && c <= 'Z' ? c - 'A'
									 : CTL_EXEC_CMD_OTHER;
	int res = !r->error ? 0 : r->ecode > 0 && r->ecode < CTL_EXEC_RESULTS ?
				  r->ecode : CTL_EXEC_RESULTS - 1;

	ex->c.by_cmd[t][res]++;
}

size_t
ctl_exec_text_from(struct ctl_exec *ex, const char *in, size_t len,
		   bool datagram, const struct sockaddr *src,
		   const struct sockaddr *local, uint64_t now_ns, char *out,
		   size_t outsz)
{
	struct ctl_cmd *cmd = ex->cmd;
	struct ctl_reply r;
	const char *cookie;
	const char *cached;
	size_t n;
	int rc;

	ex->c.ncmds_rcvd++;
	rc = ctl_cmd_parse(cmd, &ex->cfg.parse, in, len, datagram);
	cookie = datagram ? cmd->cookie : NULL;
	/* a retransmission: the cached reply, the command not run again */
	if (cookie != NULL &&
	    (cached = ctl_rcache_lookup(ex->rcache, cookie, &n)) != NULL) {
		ex->c.ncmds_rcvd--;
		ex->c.ncmds_rcvd_ndups++;
		n = n < outsz ? n : outsz;
		memcpy(out, cached, n);
		return n;
	}
	ex->src = src;
	ex->local = local;
	if (rc != 0)
		reply_err(cmd, &r, cmd->ecode, cmd->reason);
	else
		ctl_exec_cmd(ex, cmd, now_ns, &r);
	ex->src = ex->local = NULL;
	n = ctl_reply_wire(&r, cookie, out, outsz);
	if (cookie != NULL && n > 0)
		ctl_rcache_insert(ex->rcache, cookie, out, n, now_ns);
	ex->c.ncmds_repld++;
	if (r.error)
		ex->c.ncmds_errs++;
	else
		ex->c.ncmds_succd++;
	count_by_cmd(ex, cmd, &r);
	return n;
}

size_t
ctl_exec_text(struct ctl_exec *ex, const char *in, size_t len, bool datagram,
	      uint64_t now_ns, char *out, size_t outsz)
{
	return ctl_exec_text_from(ex, in, len, datagram, NULL, NULL, now_ns,
				  out, outsz);
}

void
ctl_exec_tick(struct ctl_exec *ex, uint64_t now_ns)
{
	ctl_rcache_expire(ex->rcache, now_ns);
}

void
ctl_exec_set_draining(struct ctl_exec *ex, bool on)
{
	ex->draining = on;
}

void
ctl_exec_batch_begin(struct ctl_exec *ex)
{
	ex->defer_sync = true;
}

void
ctl_exec_batch_end(struct ctl_exec *ex)
{
	ex->defer_sync = false;
	if (ex->sync_pending) {
		ex->sync_pending = false;
		ctl_sessions_dp_sync(ex->sess);
	}
}

void
ctl_exec_set_load(struct ctl_exec *ex, double load)
{
	ex->load = load;
}

void
ctl_exec_counters(const struct ctl_exec *ex, struct ctl_exec_counters *c)
{
	*c = ex->c;
}
