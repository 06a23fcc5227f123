/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_tos.c: "&& S[r] tos=N" (rtpproxy 20251015,
 * src/commands/rpcpv1_ul_subc_set.c), see ctl_session.h. rtpproxy sets
 * IP_TOS on the stream's socket and its RTCP socket; here the leg's two
 * streams carry RTPB_STREAM_F_TOS and the dataplane rewrites the byte of
 * every packet those sockets send (dataplane/dp_rewrite.h,
 * dp_rewrite_tos()). Control's thread only.
 */
#include "ctl_session_pvt.h"

void
ctl_session_set_tos(struct ctl_sessions *t, struct ctl_session *s, int li,
		    uint8_t tos)
{
	s->leg[li].has_tos = true;
	s->leg[li].tos = tos;
	if (ctl_rec_leg(t, s, s->leg, li) != 0)
		ctl_rec_pending(t, s);
}
