/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_fork.h: forking a party's packets to a remote address (rtpproxy
 * 'C[p] callid udp:host:port from_tag [to_tag]', "remote recording":
 * rtpproxy 3.2 src/commands/rpcpv1_copy.c handle_copy(), get_args4remote(),
 * src/rtpp_record.c ropen_remote_ctor_pa(); docs/FORKING.md).
 *
 * A fork belongs to a leg (struct ctl_leg.fork): the party whose packets
 * that leg's socket receives. Its desired state is a relay socket (a port
 * pair taken from the pool of a relay address of the target's family) and
 * the target; the reconciler (ctl_reconcile.c) tells the dataplane with one
 * RTPB_MSG_STREAM_FORK per stream once the stream is there: the RTP
 * stream's copies go from the socket's even port to the target's port,
 * the RTCP stream's (unless -R) from port + 1 to the target's port + 1,
 * as rtpproxy's. What a stream was told is kept in its struct ctl_stream
 * (fork_told), so a replay into a restarted dataplane (an ADD clears the
 * dataplane's fork) tells it again. The port pair goes back to its pool
 * when the fork stops (N) or the session ends (D, X, timeout).
 *
 * Control's thread only.
 */
#ifndef CTL_FORK_H
#define CTL_FORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtpb_addr.h"

/** A leg's fork (desired state). */
struct ctl_fork {
	uint16_t port;          /**< the fork socket's RTP port, host order
				     (RTCP: port + 1); 0 = no fork */
	uint8_t laddr;          /**< its relay address (index in the table) */
	bool rtcp;              /**< the RTCP stream forks too (not -R) */
	struct rtpb_addr target; /**< RTP target, network order (RTCP: port + 1) */
	/** "&& C": the socket is another session's leg's (its port is not
	 *  this fork's to free); see ctl_session_fork_into() */
	bool borrowed;
};

/** "&& C" seen from the session forked into: leg leg of session serial
 *  forks into this leg's socket (serial 0: none). */
struct ctl_fork_tap {
	uint64_t serial;
	uint8_t leg;
};

/**
 * Is spec a remote target ("udp:" or "udp6:" prefix)? Anything else is a
 * file name (C to a file, ctl_rec.h).
 */
bool ctl_fork_is_remote(const char *spec);

/**
 * Parse a remote target: "udp:IPv4:port" (rtpproxy's, IPv4 only) or
 * "udp6:IPv6:port" / "udp6:[IPv6]:port" (this relay's; rtpproxy takes
 * such a spec as a file name). The host must be a numeric address
 * (control never waits on DNS; rtpproxy resolves names), not unspecified
 * (0.0.0.0, ::). The port is 1..65535, and at most 65534 when RTCP forks
 * too (its target is port + 1), as rtpproxy checks.
 * @param rtcp   RTCP forks too (no -R).
 * @param target out: family, address and port, network order.
 * @param why    out: the reason of a failure, for the log.
 * @return 0; -EINVAL (syntax, host not numeric, port out of range),
 *         -EAFNOSUPPORT (the address is of the other family than the
 *         prefix says).
 */
int ctl_fork_parse_target(const char *spec, bool rtcp, struct rtpb_addr *target,
			  char *why, size_t whysz);

struct ctl_sessions;
struct ctl_session;
struct ctl_session_err;

/**
 * Fork leg li's party to target (rtpproxy C udp:): take a port pair on
 * the leg's own relay address if it is of the target's family, else on
 * the family's default address (rtpproxy: the address its kernel routes
 * the target from), and tell the dataplane (now, or from the retry
 * queue). A leg that forks already keeps its fork, as rtpproxy keeps a
 * stream's first recorder.
 * @param rtcp the RTCP stream forks too (no -R).
 * @return 0 (the fork is leg li's fork, s->leg[li].fork); or, with err
 *         filled: -EALREADY (it forked already: unchanged, and 0 for the
 *         caller's reply), -EAFNOSUPPORT (no relay address of the target's
 *         family), -EINVAL (the target is one of the relay's own
 *         addresses), -ENOSPC (no free port pair), -ENOENT (address not
 *         served by the dataplane), -ENOTCONN (no dataplane).
 */
int ctl_session_set_fork(struct ctl_sessions *t, struct ctl_session *s, int li,
			 const struct rtpb_addr *target, bool rtcp,
			 struct ctl_session_err *err);

/**
 * rtpproxy 3.2 "U ... && C callid from_tag to_tag" (20260309,
 * rpcpv1_ul_subc_copy.c): fork both streams of session src into session
 * tgt, the one the U set up. src's leg sidx (the match of
 * ctl_sessions_find(), rtpproxy's find_stream()) and leg !sidx fork
 * into tgt's legs in_leg and !in_leg: the packets src's leg receives are
 * also sent from that tgt leg's socket (RTP, and RTCP from port + 1) to
 * that tgt leg's peer (its signalled address, else the one it latched;
 * RTCP to port + 1), with or without -R. The forks end with N on src, or
 * when tgt ends. Unlike rtpproxy, tgt's own parties' packets are still
 * relayed between them, and a later move of tgt's peers (latch, re-offer)
 * is not followed (docs/FORKING.md).
 * @return 0; or, with err filled: -EINVAL (src is tgt; a tgt leg without
 *         a socket, or whose peer is unknown), -EALREADY (a src leg forks
 *         already); nothing is changed then.
 */
int ctl_session_fork_into(struct ctl_sessions *t, struct ctl_session *src,
			  int sidx, struct ctl_session *tgt, int in_leg,
			  struct ctl_session_err *err);

/**
 * Stop leg li's fork (rtpproxy N: its recorders, remote ones too): the
 * dataplane is told (now or from the retry queue), the port pair goes back.
 * @return 0, or -ENOENT if the leg does not fork.
 */
int ctl_session_clear_fork(struct ctl_sessions *t, struct ctl_session *s,
			   int li);

#endif /* CTL_FORK_H */
