/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_ctl.h: set the calls up, and tear them down, through control's
 * rtpproxy-protocol socket, as a SIP proxy does (Kamailio's rtpproxy
 * module: U on the offer, L on the answer, D on BYE).
 *
 * Commands are pipelined: up to cfg->ctl_window datagrams in flight,
 * each "<cookie> <command>" with a cookie unique in the run, resent with
 * the same cookie after cfg->ctl_timeout_ms, at most cfg->ctl_retries
 * sends (a relay answers a repeat from its cookie cache, so a resend
 * never creates a second session). Calls go in batches: every U of the
 * batch, then every L.
 */
#ifndef GEN_CTL_H
#define GEN_CTL_H

#include <stdint.h>

#include "gen_calls.h"
#include "gen_cfg.h"

/** What a setup or teardown did. */
struct gen_ctl_stats {
	uint32_t calls_ok; /**< calls with both relay ports (setup), or
				 *   deleted (teardown) */
	uint32_t calls_failed; /**< an error reply or no reply */
	uint32_t sessions; /**< (setup) calls control holds a session for:
			    *   calls_ok and those whose L failed */
	uint64_t commands; /**< commands answered */
	uint64_t feature_cmds; /**< (setup) R and C answered 0 (--record,
				 *   --fork) */
	uint64_t resends; /**< datagrams sent again after a timeout */
	uint64_t no_reply; /**< commands given up after all tries */
	uint64_t errors; /**< "E<n>" replies */
	double seconds; /**< wall time, s */
	char first_error[192]; /**< the first failure, for the user */
};

/**
 * U and L for every call (legs[2c], legs[2c + 1]); fills each leg's
 * relay socket from the replies, sets in_ctl on leg A of every call whose
 * U was answered and ok on calls that got both. With --record / --fork,
 * then R / C for both parties of each such call (ok cleared if one
 * fails); with --tos, U and L carry "&& S tos=N" (a failed sub-command
 * fails the call).
 * Prints one progress line per second on stderr unless cfg->quiet.
 * @return 0 (check st->calls_failed), or -errno if the socket failed.
 */
int gen_ctl_setup(const struct gen_cfg *cfg, struct gen_leg *legs,
		  uint32_t n_calls, struct gen_ctl_stats *st);

/**
 * D for every call control holds (in_ctl on leg A), set up in full or
 * not.
 * @return 0, or -errno if the socket failed.
 */
int gen_ctl_teardown(const struct gen_cfg *cfg, const struct gen_leg *legs,
		     uint32_t n_calls, struct gen_ctl_stats *st);

#endif /* GEN_CTL_H */
