/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_cmd_exec.c: execute parsed commands, see ctl_cmd_exec.h.
 *
 * Coverage of rtpproxy's command set, and why:
 *  - V, VF, I, G, X, U, L, D, Q: implemented.
 *  - S (stop playback): there is no player, so a found session has
 *    nothing to stop: "0", as rtpproxy for a session that plays nothing;
 *    E50 if no session matches.
 *  - P (play): E50 if no session, E35 for "session" without a stored
 *    codec list, "0" for P0 (it only stops playback), else E60, what
 *    rtpproxy answers when it has no prompt file to play.
 *  - R (record): E50, rtpproxy's answer when recording is not configured
 *    (no -r); N (stop recording): E50, nothing is ever recording.
 *  - C (copy/fork): E50 if no session, else E65 (copy failed).
 *  - "&&" sub-commands: E3 in the parser (rtpproxy's code for a
 *    sub-command that cannot be parsed).
 *  - U/L '6': the address is IPv6. The reply names the relay address of
 *    the returned leg's family, which is its own party's (bridging, see
 *    ctl_session.h), so a '6' command may get an IPv4 reply and back.
 * Control's thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd_exec.h"
#include "ctl_log.h"

struct ctl_exec {
	struct ctl_exec_cfg cfg;
	struct ctl_sessions *sess;
	struct ctl_rcache *rcache;
	struct ctl_cmd *cmd;       /* 8 KiB, reused */
	char relay_str[INET_ADDRSTRLEN];   /* "" if no IPv4 relay */
	char relay6_str[INET6_ADDRSTRLEN]; /* "" if no IPv6 relay */
	bool draining;
	double load;
	struct ctl_exec_counters c;
};

/* VF: the capabilities implemented (rtpproxy proto_caps[]). */
static const char *const features[] = {
	"20040107", /* basic RTP proxy functionality */
	"20050322", /* multiple RTP streams and MOH */
	"20060704", /* extra parameter in the V command (VF) */
	"20080403", /* RTP statistics querying (Q) */
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
	ex->cmd = malloc(sizeof(*ex->cmd));
	ex->rcache = ctl_rcache_create();
	if (ex->cmd == NULL || ex->rcache == NULL) {
		ctl_exec_destroy(ex);
		return NULL;
	}
	if (cfg->relay_ip != 0)
		inet_ntop(AF_INET, &cfg->relay_ip, ex->relay_str,
			  sizeof(ex->relay_str));
	if (cfg->has_relay6)
		inet_ntop(AF_INET6, cfg->relay6, ex->relay6_str,
			  sizeof(ex->relay6_str));
	ex->cfg.parse.has_inet4 = cfg->relay_ip != 0;
	ex->cfg.parse.has_inet6 = cfg->has_relay6;
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

/* The log reason of a session-layer failure rc. */
static const char *
dp_reason(struct ctl_exec *ex, int rc)
{
	const char *why = ctl_sessions_why(ex->sess);

	if (why != NULL)
		return why;
	switch (rc) {
	case -ENOTCONN: return "dataplane not attached";
	case -ENOBUFS: return "dataplane ring full";
	case -ENOSPC: return "no free port pair or stream id";
	case -ENOENT: return "relay address not served by the dataplane";
	case -ENOMEM: return "out of memory";
	case -EAFNOSUPPORT: return "no relay address of the family";
	default: return "dataplane refused the stream";
	}
}

/* VF (rtpproxy handle_ver_feature()): 1 if implemented, else 0. */
static void
exec_ver_feature(struct ctl_cmd *cmd, struct ctl_reply *r)
{
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		if (strcmp(cmd->feature, features[i]) == 0) {
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

/* New session for U (sidx 0), or E72/E99/E36. */
static struct ctl_session *
ul_create(struct ctl_exec *ex, struct ctl_cmd *cmd, uint64_t now_ns,
	  struct ctl_reply *r)
{
	struct ctl_session *s = NULL;
	int rc;

	if (ex->draining) {
		reply_err(cmd, r, CTL_E_SLOWSHTDN,
			  "draining (SIGHUP), new session refused");
		return NULL;
	}
	rc = ctl_session_create(ex->sess, cmd->call_id, cmd->from_tag,
				cmd->ul.weak,
				cmd->ul.ipv6 ? RTPB_AF_INET6 : RTPB_AF_INET,
				now_ns, &s);
	if (rc != 0) {
		reply_err(cmd, r, ul_ecode(rc, true), dp_reason(ex, rc));
		return NULL;
	}
	return s;
}

/*
 * The U/L reply for leg l (rtpproxy ul_reply_port()): its port and the
 * relay address of its socket's family, " 6" after an IPv6 one; the
 * port alone if that family has no relay address (cannot happen: the
 * parser refuses such commands).
 */
static void
ul_reply(struct ctl_exec *ex, const struct ctl_leg *l, struct ctl_reply *r)
{
	bool v6 = l->family == RTPB_AF_INET6;
	const char *addr = v6 ? ex->relay6_str : ex->relay_str;

	ctl_reply_port(r, l->port, addr[0] != '\0' ? addr : NULL, v6);
}

/*
 * U and L (rtpproxy handle_command() + rtpp_command_ul_handle()).
 * sidx is the leg whose port is returned (U: 0 on the creator's tag
 * order, L: the other); the command's address is leg pidx = !sidx's
 * remote. L on a missing session replies "0", counted as an error.
 */
static void
exec_ul(struct ctl_exec *ex, struct ctl_cmd *cmd, uint64_t now_ns,
	struct ctl_reply *r)
{
	bool is_u = cmd->op == CTL_OP_UPDATE;
	struct ctl_session *s = NULL;
	int sidx = ctl_sessions_find(ex->sess, cmd->call_id, cmd->from_tag,
				     cmd->to_tag, &s);
	int rc;

	if (sidx != -1 && !is_u)
		sidx = !sidx;
	if (sidx == -1 && !is_u) {
		ctl_log_call(CTL_LOG_INFO, cmd->call_id,
			     "lookup: session not found, tags %s/%s",
			     cmd->from_tag, cmd->to_tag ? cmd->to_tag : "NONE");
		ctl_reply_port(r, 0, NULL, false);
		r->error = true;
		return;
	}
	if (is_u && cmd->ul.notify_socket != NULL && !ex->cfg.notify_enabled) {
		reply_err(cmd, r, CTL_E_NSOFF,
			  "notify socket given but -n is not supported");
		return;
	}
	struct ctl_leg_signal sig = {
		.family = cmd->ul.ipv6 ? RTPB_AF_INET6 : RTPB_AF_INET,
		.has_remote = cmd->ul.has_remote,
		.onhold = cmd->ul.onhold,
		.remote = cmd->ul.remote,
		.asymmetric = cmd->ul.asymmetric,
		.ptime = cmd->ul.ptime,
		.codecs = cmd->ul.codecs,
		.codecs_len = cmd->ul.codecs_len,
	};
	if (sidx == -1) {
		s = ul_create(ex, cmd, now_ns, r);
		if (s == NULL)
			return;
		sidx = 0;
		rc = ctl_session_signal(ex->sess, s, 1, &sig, now_ns);
	} else {
		rc = ctl_session_update(ex->sess, s, sidx, &sig, cmd->ul.weak,
					is_u, now_ns);
		if (rc != 0 && rc != -ENOMEM) {
			reply_err(cmd, r, ul_ecode(rc, false),
				  dp_reason(ex, rc));
			return;
		}
	}
	if (rc != 0) {
		reply_err(cmd, r, CTL_E_NOMEM_1, "out of memory");
		return;
	}
	ul_reply(ex, &s->leg[sidx], r);
}

/* D (rpcpv1_delete.c): 0 if anything matched, else E50. */
static void
exec_delete(struct ctl_exec *ex, struct ctl_cmd *cmd, struct ctl_reply *r)
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
 * the named counters. Names rtpproxy knows but this relay does not
 * measure (longest_ipi, rtpa_*) get E62 like unknown ones.
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
	int idx;
	struct ctl_session *s = find_other(ex, cmd, r, &idx);

	if (s == NULL)
		return;
	ctl_session_query(ex->sess, s, idx, now_ns, &q);
	ctl_reply_reset(r);
	for (int i = 0; i < n; i++) {
		int64_t v;

		if (!query_value(&q, names[i], &v)) {
			reply_err(cmd, r, CTL_E_QRYFAIL, "unknown counter name");
			return;
		}
		if (ctl_reply_appendf(r, "%s%s%s%lld", i > 0 ? " " : "",
				      cmd->verbose ? names[i] : "",
				      cmd->verbose ? "=" : "",
				      (long long)v) != 0) {
			reply_err(cmd, r, CTL_E_RTOOBIG_2, "reply too big");
			return;
		}
	}
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
 * I[b|l] (handle_info()), rtpproxy's lines in its format, then this
 * relay's: "handovers: N" (mid-call peer switches that won probation,
 * DESIGN.md §4.4) and, with the prefilter on, one line per verdict,
 * "prefilter <name>: N" (packets, rtpb_pf.h's names), before rtpproxy's
 * optional load line.
 */
static void
exec_info(struct ctl_exec *ex, struct ctl_cmd *cmd, struct ctl_reply *r)
{
	struct ctl_sessions_counters c;
	uint64_t pf[RTPB_PF_VERDICT__COUNT];

	ctl_sessions_counters(ex->sess, &c);
	ctl_reply_reset(r);
	ctl_reply_appendf(r,
			  "sessions created: %llu\nactive sessions: %d\n"
			  "active streams: %d\npackets received: %llu\n"
			  "packets transmitted: %llu\nhandovers: %llu\n",
			  (unsigned long long)c.created, (int)c.active,
			  (int)c.streams, (unsigned long long)c.pkts_in,
			  (unsigned long long)c.pkts_relayed,
			  (unsigned long long)c.handovers);
	if (pf_counters(ex, pf))
		for (uint32_t v = 0; v < RTPB_PF_VERDICT__COUNT; v++)
			ctl_reply_appendf(r, "prefilter %s: %llu\n",
					  ctl_pf_verdict_name(v),
					  (unsigned long long)pf[v]);
	if (cmd->info_load)
		ctl_reply_appendf(r, "average load: %f\n", ex->load);
}

/*
 * One G counter; false for names this relay does not keep. pf holds
 * the prefilter's verdict counters (zeros without a prefilter).
 */
static bool
stats_value(const struct ctl_exec *ex, const struct ctl_sessions_counters *c,
	    const uint64_t pf[RTPB_PF_VERDICT__COUNT], const char *name,
	    uint64_t *v)
{
	const struct {
		const char *name;
		uint64_t val;
	} tab[] = {
		{"nsess_created", c->created},
		{"nsess_destroyed", c->destroyed},
		{"nsess_timeout", c->timeouts},
		{"nsess_complete", c->completed},
		{"npkts_rcvd", c->pkts_in},
		{"npkts_relayed", c->pkts_relayed},
		/* this relay's (DESIGN.md §4): latch events by reason */
		{"nlatches", c->latches},
		{"nhandovers", c->handovers},
		{"nhandovers_dropped", c->handover_dropped},
		{"nrtcp_follows", c->rtcp_follows},
		{"nreoffers", c->reoffers},
		{"nfamily_moves", c->family_moves},
		{"ncmds_rcvd", ex->c.ncmds_rcvd},
		{"ncmds_rcvd_ndups", ex->c.ncmds_rcvd_ndups},
		{"ncmds_succd", ex->c.ncmds_succd},
		{"ncmds_errs", ex->c.ncmds_errs},
		{"ncmds_repld", ex->c.ncmds_repld},
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strcmp(name, tab[i].name) == 0) {
			*v = tab[i].val;
			return true;
		}
	}
	/* npf_<verdict>: the prefilter's packets of that verdict */
	if (strncmp(name, "npf_", 4) == 0) {
		for (uint32_t i = 0; i < RTPB_PF_VERDICT__COUNT; i++) {
			if (strcmp(name + 4, ctl_pf_verdict_name(i)) == 0) {
				*v = pf[i];
				return true;
			}
		}
	}
	return false;
}

/*
 * G[v] [name ...] (rpcpv1_stats.c): the counters this relay keeps;
 * other names (nsess_nortp, rtpa_*, ...) are E68 like unknown ones.
 * Beyond rtpproxy's names: nlatches (latch events), nhandovers (of which
 * handovers), nhandovers_dropped (packets dropped in their probation),
 * nrtcp_follows, nreoffers, nfamily_moves (legs moved to a socket of the
 * other family, ctl_session.h), and npf_<verdict> for each of the
 * prefilter's verdicts (npf_drop_budget: packets, rtpb_pf.h's names),
 * 0 when the prefilter is off (it counted nothing), so one query fits
 * every relay.
 */
static void
exec_stats(struct ctl_exec *ex, struct ctl_cmd *cmd, struct ctl_reply *r)
{
	struct ctl_sessions_counters c;
	uint64_t pf[RTPB_PF_VERDICT__COUNT] = {0};
	bool pf_read = false;

	ctl_sessions_counters(ex->sess, &c);
	ctl_reply_reset(r);
	for (int i = 0; i < cmd->nqnames; i++) {
		uint64_t v;

		/* the map is read once per G, and only if it is asked for */
		if (!pf_read && strncmp(cmd->qnames[i], "npf_", 4) == 0) {
			pf_counters(ex, pf);
			pf_read = true;
		}
		if (!stats_value(ex, &c, pf, cmd->qnames[i], &v)) {
			reply_err(cmd, r, CTL_E_STSFAIL, "unknown counter name");
			return;
		}
		if (ctl_reply_appendf(r, "%s%s%s%llu", i > 0 ? " " : "",
				      cmd->verbose ? cmd->qnames[i] : "",
				      cmd->verbose ? "=" : "",
				      (unsigned long long)v) != 0) {
			reply_err(cmd, r, CTL_E_RTOOBIG_1, "reply too big");
			return;
		}
	}
	if (ctl_reply_appendf(r, "\n") != 0)
		reply_err(cmd, r, CTL_E_RTOOBIG_1, "reply too big");
}

/* P (handle_play path): see the file comment. */
static void
exec_play(struct ctl_exec *ex, struct ctl_cmd *cmd, struct ctl_reply *r)
{
	int idx;
	struct ctl_session *s = find_other(ex, cmd, r, &idx);

	if (s == NULL)
		return;
	if (strcmp(cmd->play_codecs, "session") == 0 &&
	    s->leg[idx].codecs == NULL) {
		reply_err(cmd, r, CTL_E_INVLARG_5, "no codec list stored");
		return;
	}
	if (cmd->play_count == 0) {
		ctl_reply_number(r, 0); /* P0 only stops playback */
		return;
	}
	reply_err(cmd, r, CTL_E_PLRFAIL, "playback is not supported");
}

/* R and N: a session may match, but nothing records (see top). */
static void
exec_record(struct ctl_exec *ex, struct ctl_cmd *cmd, struct ctl_reply *r)
{
	struct ctl_session *s = NULL;
	bool found = ctl_sessions_find(ex->sess, cmd->call_id, cmd->from_tag,
				       cmd->to_tag, &s) != -1;

	if (!found)
		reply_err(cmd, r, CTL_E_SESUNKN, "session not found");
	else if (cmd->op == CTL_OP_RECORD)
		reply_err(cmd, r, CTL_E_SESUNKN, "recording is not supported");
	else
		reply_err(cmd, r, CTL_E_SESUNKN, "nothing is recording");
}

/* The ops that need a session lookup. */
static void
exec_session_op(struct ctl_exec *ex, struct ctl_cmd *cmd, uint64_t now_ns,
		struct ctl_reply *r)
{
	int idx;

	switch (cmd->op) {
	case CTL_OP_UPDATE:
	case CTL_OP_LOOKUP:
		exec_ul(ex, cmd, now_ns, r);
		break;
	case CTL_OP_DELETE:
		exec_delete(ex, cmd, r);
		break;
	case CTL_OP_QUERY:
		exec_query(ex, cmd, now_ns, r);
		break;
	case CTL_OP_PLAY:
		exec_play(ex, cmd, r);
		break;
	case CTL_OP_NOPLAY:
		if (find_other(ex, cmd, r, &idx) != NULL)
			ctl_reply_number(r, 0); /* no player: nothing to stop */
		break;
	case CTL_OP_COPY:
		if (find_other(ex, cmd, r, &idx) != NULL)
			reply_err(cmd, r, CTL_E_CPYFAIL,
				  "copy/fork is not supported");
		break;
	default:
		exec_record(ex, cmd, r);
		break;
	}
}

void
ctl_exec_cmd(struct ctl_exec *ex, struct ctl_cmd *cmd, uint64_t now_ns,
	     struct ctl_reply *r)
{
	ctl_reply_reset(r);
	switch (cmd->op) {
	case CTL_OP_VER:
		ctl_reply_number(r, CTL_PROTO_VERSION);
		break;
	case CTL_OP_VER_FEATURE:
		exec_ver_feature(cmd, r);
		break;
	case CTL_OP_INFO:
		exec_info(ex, cmd, r);
		break;
	case CTL_OP_GET_STATS:
		exec_stats(ex, cmd, r);
		break;
	case CTL_OP_DELETE_ALL:
		ctl_log(CTL_LOG_INFO, "deleting all %u active sessions",
			ctl_sessions_count(ex->sess));
		ctl_sessions_delete_all(ex->sess);
		ctl_reply_number(r, 0);
		break;
	default:
		exec_session_op(ex, cmd, now_ns, r);
		break;
	}
}

size_t
ctl_exec_text(struct ctl_exec *ex, const char *in, size_t len, bool datagram,
	      uint64_t now_ns, char *out, size_t outsz)
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
	if (rc != 0)
		reply_err(cmd, &r, cmd->ecode, cmd->reason);
	else
		ctl_exec_cmd(ex, cmd, now_ns, &r);
	n = ctl_reply_wire(&r, cookie, out, outsz);
	if (cookie != NULL && n > 0)
		ctl_rcache_insert(ex->rcache, cookie, out, n, now_ns);
	ex->c.ncmds_repld++;
	if (r.error)
		ex->c.ncmds_errs++;
	else
		ex->c.ncmds_succd++;
	return n;
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
ctl_exec_set_load(struct ctl_exec *ex, double load)
{
	ex->load = load;
}

void
ctl_exec_counters(const struct ctl_exec *ex, struct ctl_exec_counters *c)
{
	*c = ex->c;
}
