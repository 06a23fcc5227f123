/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb_play.h: one played RTP packet, as control hands it to the
 * dataplane for transmission (playback, rtpproxy's P command; issue 17
 * item 3, docs/PLAYBACK.md).
 *
 * Who does what. The pacing stays in control: control's player
 * (control/ctl_play.h) decides when each packet of a prompt is due
 * (every packet time, 20 ms by default, on CLOCK_MONOTONIC), builds its
 * RTP header and payload, and enqueues one struct rtpb_play_pkt per due
 * packet. The worker that owns the stream only transmits what arrives,
 * as soon as it arrives: it never waits, keeps no timer and no per-player
 * state. It finds stream_id, checks cookie against the stream's (a stale
 * packet for a stream that was deleted, and its id reused, is dropped and
 * counted), and sends rtp[0..len) from that stream's relay socket (local
 * address and port) to the stream's peer (latched, else signalled),
 * filling Ethernet, IP and UDP headers and checksums exactly as it does
 * for a packet it relays out of that socket. A stream with no peer yet
 * drops the packet (counted), as a relayed packet would be.
 *
 * Written by control only, read by the owner worker only: one
 * single-producer/single-consumer ring of these per worker, laid out
 * in the shared memory by the dataplane (rtpb_shm_hdr.off_play[w],
 * rte_ring_init() with RTPB_PLAY_PKT_SIZE-byte elements,
 * RTPB_PLAY_RING_ELEMS of them). Any change below bumps
 * RTPB_PLAY_VERSION and RTPB_MSG_VERSION (checked at attach).
 *
 * Plain C, no DPDK: control includes it.
 */
#ifndef RTPB_PLAY_H
#define RTPB_PLAY_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define RTPB_PLAY_VERSION 1
/** Bytes of one ring element (struct rtpb_play_pkt). */
#define RTPB_PLAY_PKT_SIZE 512
/** RTP bytes one element carries at most: the 12-byte RTP header (no
 *  CSRC, no extension) and 60 ms of G.711 (480 bytes) fit. */
#define RTPB_PLAY_RTP_MAX 496
/** Elements of one worker's play ring (a power of two; 1 MiB): 20 ms of
 *  packets for 2 047 players on one worker. */
#define RTPB_PLAY_RING_ELEMS 2048
/** Name of worker w's play ring: ring prefix, worker index. */
#define RTPB_PLAY_RING_FMT "%s_play_%u"

/**
 * One RTP packet to send now from a relay socket.
 *
 * stream_id and cookie name the RTP stream (struct rtpb_msg_stream in
 * rtpb_msg.h) whose socket the packet leaves from and whose peer it goes
 * to: to play to a party, control names the stream of the leg that party
 * talks to (the one it sends its RTP to). rtp[] is the RTP packet as it
 * goes on the wire, header first, in network byte order (RFC 3550 5.1);
 * the worker copies it unchanged behind the UDP header.
 */
struct rtpb_play_pkt {
	uint32_t stream_id; /**< the RTP stream to send from, as in its ADD */
	uint16_t len;       /**< bytes of rtp[] used, 12..RTPB_PLAY_RTP_MAX */
	uint16_t flags;     /**< 0; reserved */
	uint64_t cookie;    /**< the stream's cookie, as in its ADD/UPDATE */
	uint8_t rtp[RTPB_PLAY_RTP_MAX]; /**< RTP header + payload */
};

static_assert(sizeof(struct rtpb_play_pkt) == RTPB_PLAY_PKT_SIZE,
	      "rtpb_play_pkt: ring element ABI");
static_assert(offsetof(struct rtpb_play_pkt, rtp) % 8 == 0,
	      "rtpb_play_pkt: rtp[] 8-byte aligned for the worker's copy");
static_assert(RTPB_PLAY_PKT_SIZE % 64 == 0,
	      "rtpb_play_pkt: whole cache lines per element");

#endif /* RTPB_PLAY_H */
