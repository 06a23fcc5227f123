/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_play.h: the play stage (playback, rtpproxy's P; docs/PLAYBACK.md).
 *
 * Control's player paces a prompt and enqueues each packet when it is
 * due (include/rtpb_play.h) on the play ring of the worker that owns the
 * stream; the worker sends what it finds there, at once: no timer, no
 * player state, no syscall. Every DP_PLAY_EVERY loops it takes one burst
 * at most off its ring and sends each packet from the stream's relay
 * socket to the stream's peer (latched, else signalled), headers built
 * as dp_rewrite.h builds a relayed packet's (TTL DP_REWRITE_TTL, IPv4 DF
 * and identification 0, UDP checksum in full).
 *
 * Counted per lcore (rtpb_shm.h): play_tx sent; play_stale for a stream
 * deleted (or its id reused: the cookie differs), not this worker's, or
 * an element with a bad length; play_nopeer for a stream with no peer
 * yet or no next hop (not resolved yet: the request goes to the main
 * lcore as for relayed packets); what the TX queue refuses as drop
 * reason tx_full. The mbufs come from the pool RX uses
 * (rte_pktmbuf_alloc_bulk() for the burst); when it has none the
 * elements stay in the ring for the next turn, and control counts the
 * packets a full ring refuses.
 *
 * Cost: one ring-empty check per DP_PLAY_EVERY loops when nothing plays;
 * per packet a stream record load, a copy of the RTP bytes and a full
 * UDP checksum over them (~200 bytes of G.711: estimated ~150 cycles,
 * not measured).
 */
#ifndef DP_PLAY_H
#define DP_PLAY_H

#include <stdint.h>

#include "dp_ctx.h"

/** Worker loops between two looks at the play ring (a power of two). */
#define DP_PLAY_EVERY 16

/**
 * Send what worker w's play ring holds, one burst (DP_BURST) at most.
 * Worker w only.
 * @return packets taken off the ring.
 */
unsigned int dp_play_drain(struct dp_worker *w);

#endif /* DP_PLAY_H */
