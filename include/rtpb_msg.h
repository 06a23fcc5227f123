/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb_msg.h: the ring messages between control and dataplane.
 *
 * This header is the contract. Control is the only producer of c2d
 * (control-to-dataplane) messages, one single-producer/single-consumer
 * rte_ring per worker lcore ("rtpb_c2d_<worker>"); every message about a
 * stream goes to the ring of the worker that owns the stream
 * (rtpb_stream_owner()), so the messages about one stream are applied in
 * order by the one lcore that writes its state. The dataplane produces
 * d2c messages (events) on one multi-producer/single-consumer ring
 * ("rtpb_d2c") that control drains.
 *
 * Every message is RTPB_MSG_SIZE bytes (one struct rtpb_msg); rings are
 * created with that element size. Any change to a struct below, or to
 * the shared memory layout (rtpb_shm.h), bumps RTPB_MSG_VERSION: the dataplane publishes its version in the shared
 * memory header and control refuses to attach on a mismatch, then says
 * so with RTPB_MSG_HELLO (which the dataplane also checks).
 */
#ifndef RTPB_MSG_H
#define RTPB_MSG_H

#include <assert.h>
#include <stdint.h>

#include "rtpb_addr.h"

/** 10: the shared header publishes the per-packet counters and the
 *  stream keys and cookies as tables by stride (off_stream_counters,
 *  off_stream_keys, off_stream_cookies, stream_stride) instead of offsets
 *  inside the dataplane's record. */
/** 11: drop reason 0 is RTPB_DROP_NONE (drops[] moved by one). */
/** 12: recording: RTPB_STREAM_F_RECORD/_REC_ORIG, rtpb_msg_stream.rec_id,
 *  the mirror rings (off_mirror) and mirror_copies/mirror_drops. */
/** 13: the RTP analysis counters of each stream (struct rtpb_rtpa) as a
 *  table by stride (off_stream_rtpa, stream_rtpa_stride). */
/** 14: "&& S tos=" and DTMF catching: RTPB_STREAM_F_TOS/_DTMF,
 *  rtpb_msg_stream.tos/.dtmf_pt, RTPB_MSG_EV_DTMF, drop dtmf_hidden. */
/** 15: forking (rtpproxy C udp:): RTPB_STREAM_F_FORK, RTPB_MSG_STREAM_FORK,
 *  lcore counters fork_copies/fork_drops. */
/** 16: HA: shm ha_state/ha_announce, drop standby, lcore counters
 *  ha_garps/ha_unsol_nas. */
/** 17: playback: RTPB_STREAM_F_HOLD, drop held, the per-worker play
 *  rings (off_play[]), lcore counters play_tx/play_stale/play_nopeer. */
/** 18: RTP analysis in two records per stream inside the stream's record
 *  (struct rtpb_rtpa_hot and _cold, off_stream_rtpa_hot/_cold by
 *  stream_stride) instead of a table of struct rtpb_rtpa
 *  (off_stream_rtpa, stream_rtpa_stride); the port owner table
 *  (off_port_owner), which no worker read since the direct-indexed flow
 *  table gives the owner, is gone (1 MiB). */
#define RTPB_MSG_VERSION 18
#define RTPB_MSG_SIZE 128
#define RTPB_MAX_WORKERS 16
/** out_stream_id of a stream whose other leg has no socket yet. */
#define RTPB_STREAM_NONE UINT32_MAX

/** Message types; c2d first, then d2c. */
enum rtpb_msg_type {
	RTPB_MSG_HELLO = 0,     /**< c2d: control attached (version check) */
	RTPB_MSG_STREAM_ADD,    /**< c2d: create a stream (or reset one) */
	RTPB_MSG_STREAM_UPDATE, /**< c2d: re-offer: new signalled peer, flags */
	RTPB_MSG_STREAM_DEL,    /**< c2d: delete a stream */
	RTPB_MSG_EV_HELLO,      /**< d2c: a worker accepted/refused HELLO */
	RTPB_MSG_EV_LATCH,      /**< d2c: a stream latched or switched peer */
	RTPB_MSG_EV_DTMF,       /**< d2c: an RFC 4733 event ended on a stream */
	RTPB_MSG_STREAM_FORK,   /**< c2d: fork a stream's packets to a target, or stop */
	RTPB_MSG__COUNT
};

/** Common header of every message. */
struct rtpb_msg_hdr {
	uint16_t type; /**< enum rtpb_msg_type */
	uint16_t len;  /**< size of the type's struct, bytes */
	uint32_t seq;  /**< producer's sequence number, for logs */
};

/** Stream flags (rtpb_msg_stream.flags). */
#define RTPB_STREAM_F_ASYMMETRIC (1u << 0) /**< rtpproxy 'A': never latch */
#define RTPB_STREAM_F_RTCP (1u << 1)       /**< RTCP stream (port + 1) */
/** Copy each packet the stream accepts into the owner worker's mirror
 *  ring, stamped with rec_id (rtpb_mirror.h; rtpproxy R, C, -a). */
#define RTPB_STREAM_F_RECORD (1u << 2)
/** With RECORD: the stream receives the from-tag party's packets
 *  (RTPB_MIRROR_DIR_O); without it the to-tag party's (DIR_A). */
#define RTPB_STREAM_F_REC_ORIG (1u << 3)
/** UPDATE only, not kept: the message sets RECORD, REC_ORIG, HOLD and
 *  rec_id, and TOS, tos, DTMF and dtmf_pt, and nothing else (R, N, P, S,
 *  "&& S tos=", "&& M3:1": the latch, peer and window stay). */
#define RTPB_STREAM_F_REC_ONLY (1u << 4)
/** Playback (docs/PLAYBACK.md): drop what the stream receives, counted
 *  as drop reason held (the other party's media to a party a prompt
 *  plays to). An UPDATE that differs from the last one in this flag (and
 *  the recording's) only sets it with RTPB_STREAM_F_REC_ONLY. */
#define RTPB_STREAM_F_HOLD (1u << 5)
/** Packets SENT from this stream's socket leave with IPv4 TOS / IPv6
 *  traffic class rtpb_msg_stream.tos (rtpproxy "&& S tos=N", 20251015). */
#define RTPB_STREAM_F_TOS (1u << 6)
/** Report the RFC 4733 telephone-events this stream receives with
 *  payload type dtmf_pt (RTPB_MSG_EV_DTMF; rtpproxy catch_dtmf). */
#define RTPB_STREAM_F_DTMF (1u << 7)
/** In rtpb_msg_stream.dtmf_pt (a payload type is 7 bits): also drop the
 *  events' packets instead of relaying them (catch_dtmf's 'h'). */
#define RTPB_DTMF_PT_HIDE 0x80u
/** The stream forks: each packet it relays is also sent, rewritten as
 *  relayed, from its fork socket to its fork target. Set and cleared by
 *  RTPB_MSG_STREAM_FORK only (ADD clears it, UPDATE keeps it); never in
 *  an ADD/UPDATE's flags. */
#define RTPB_STREAM_F_FORK (1u << 8)

/**
 * RTPB_MSG_HELLO: control's first message on each c2d ring after attach.
 * The worker checks version and msg_size and answers RTPB_MSG_EV_HELLO.
 */
struct rtpb_msg_hello {
	struct rtpb_msg_hdr hdr;
	uint32_t version;  /**< RTPB_MSG_VERSION of the sender */
	uint32_t msg_size; /**< RTPB_MSG_SIZE of the sender */
	uint16_t type_len[RTPB_MSG__COUNT]; /**< sizeof each message struct */
	int32_t pid;       /**< control's pid, for logs */
};

/**
 * RTPB_MSG_STREAM_ADD and RTPB_MSG_STREAM_UPDATE.
 *
 * A stream is one relay socket (local address and port) and the peer it
 * exchanges packets with. A packet received on stream S is sent out from
 * the socket of S.out_stream_id to that stream's peer (the other leg).
 * ADD creates the stream (replacing any stream with the same id) and
 * opens a learning window of learn_ms; UPDATE (a re-offer, rtpproxy 'U'/'L'
 * on an existing session) sets a new signalled peer and flags and opens a
 * new learning window, keeping counters.
 *
 * peer (ADD only) is the source control last saw the stream latched to,
 * when it adds the stream again into a restarted dataplane (replay): the
 * stream starts latched to it and counts it alive, so a third host
 * inside the replay's learning window reaches nobody (DESIGN.md §4.9).
 * Family NONE for a new stream, and in every UPDATE.
 */
struct rtpb_msg_stream {
	struct rtpb_msg_hdr hdr;
	uint32_t stream_id;     /**< index < max_streams, chosen by control */
	uint32_t out_stream_id; /**< the other leg's stream of the same kind */
	uint32_t flags;         /**< RTPB_STREAM_F_* */
	uint32_t learn_ms;      /**< learning window after this message, ms */
	/** The same leg's other stream: for an RTP stream its RTCP stream
	 * (port + 1), which follows a handover (DESIGN.md §4.6); for an RTCP
	 * stream its RTP stream, which an RTCP proof or revert moves too
	 * (§4.9). RTPB_STREAM_NONE if none. Same owner as stream_id. */
	uint32_t pair_stream_id;
	struct rtpb_addr local;     /**< relay socket; must be a relay address */
	struct rtpb_addr signalled; /**< peer from SDP; family NONE if unknown */
	uint64_t cookie;        /**< control's handle, echoed in events */
	struct rtpb_addr peer;  /**< ADD on replay: the latched peer; else family NONE */
	uint32_t peer_ssrc;     /**< its SSRC, host order; 0 if unknown */
	/** Recording id stamped on the copies (RTPB_STREAM_F_RECORD), never
	 *  0 then; 0 without the flag. */
	uint32_t rec_id;
	uint8_t tos;      /**< with RTPB_STREAM_F_TOS: the TOS / traffic class byte */
	uint8_t dtmf_pt;  /**< with RTPB_STREAM_F_DTMF: payload type 0..127,
			   *   | RTPB_DTMF_PT_HIDE */
	uint16_t reserved16;
};

/** RTPB_MSG_STREAM_DEL: remove the stream; its id may then be reused. */
struct rtpb_msg_stream_del {
	struct rtpb_msg_hdr hdr;
	uint32_t stream_id;
	uint32_t reserved;
	struct rtpb_addr local; /**< the relay socket, as added */
};

/** rtpb_msg_stream_fork.flags */
#define RTPB_FORK_F_ON (1u << 0) /**< set the fork; without it, stop forking */

/**
 * RTPB_MSG_STREAM_FORK: forking (rtpproxy 'C callid udp:host:port ...',
 * remote recording; docs/FORKING.md). With RTPB_FORK_F_ON, every packet
 * the stream accepts and relays is also sent as a copy, rewritten as the
 * relay sends it (same UDP payload), from relay socket local to target;
 * without it the stream stops forking. Control sends one per stream: an
 * RTP stream's fork socket and target ports are even, its RTCP stream's
 * are those + 1. local is a relay address of target's family, on a port
 * control took from its pool for the fork (no stream is on it: what the
 * target sends back is dropped as no_stream). The stream must exist and
 * carry cookie (a message for an older stream on the id is refused). A
 * new ADD of the stream clears its fork; UPDATE keeps it.
 */
struct rtpb_msg_stream_fork {
	struct rtpb_msg_hdr hdr;
	uint32_t stream_id;
	uint32_t flags;          /**< RTPB_FORK_F_* */
	uint64_t cookie;         /**< the stream's, as in its ADD/UPDATE */
	struct rtpb_addr local;  /**< the fork's relay socket, network order */
	struct rtpb_addr target; /**< where the copies go, network order */
};

/** RTPB_MSG_EV_HELLO: a worker's answer to RTPB_MSG_HELLO. */
struct rtpb_msg_ev_hello {
	struct rtpb_msg_hdr hdr;
	uint32_t worker;  /**< worker index */
	int32_t status;   /**< 0 accepted, -EPROTO version/size mismatch */
	uint32_t version; /**< the dataplane's RTPB_MSG_VERSION */
};

/** Why a stream latched (rtpb_msg_ev_latch.reason). DESIGN.md §4. */
enum rtpb_latch_reason {
	RTPB_LATCH_LEARN = 0,   /**< first packet in the learning window (§4.3) */
	RTPB_LATCH_SIGNALLED,   /**< packet from the signalled address (§4.2) */
	RTPB_LATCH_SSRC,        /**< handover: candidate continued the SSRC (§4.4) */
	RTPB_LATCH_PROBATION,   /**< handover: candidate passed probation (§4.4) */
	RTPB_LATCH_RTCP_FOLLOW, /**< RTCP moved with its RTP stream (§4.6) */
	RTPB_LATCH_REOFFER,     /**< re-offer: new signalled address taken (§4.8) */
	RTPB_LATCH_CNAME,       /**< handover: candidate's RTCP carried the leg's CNAME (§4.9) */
	RTPB_LATCH_REVERT,      /**< the previous peer showed life and won back; the
				 *   peer it replaced is refused (§4.9) */
	RTPB_LATCH_REPLAY,      /**< latched peer restored by control's replay */
};

/**
 * RTPB_MSG_EV_LATCH: stream stream_id now sends to and accepts from peer.
 * old is the previous peer (family NONE on the first latch). dropped is
 * the number of packets the new source sent that were dropped before it
 * won (its probation), packets. A handover is reason SSRC, PROBATION or
 * CNAME. On REVERT, refused is the source that lost and is refused for
 * the rest of the call (family NONE if it was the signalled address,
 * which is never refused).
 */
struct rtpb_msg_ev_latch {
	struct rtpb_msg_hdr hdr;
	uint32_t stream_id;
	uint32_t worker;
	uint64_t cookie; /**< as given in the stream's ADD/UPDATE */
	uint64_t dropped; /**< packets */
	uint32_t reason;  /**< enum rtpb_latch_reason */
	uint32_t ssrc;    /**< SSRC of the new peer's packets, host order; 0 if unknown */
	struct rtpb_addr old;
	struct rtpb_addr peer;
	struct rtpb_addr refused;
};

/**
 * RTPB_MSG_EV_DTMF: stream stream_id (RTPB_STREAM_F_DTMF) received the
 * end of an RFC 4733 telephone-event (§2.3: E bit set) from its peer,
 * once per event (the end packet's retransmissions share its timestamp
 * and are not reported again). Fields host order; the report rules are
 * rtpproxy's catch_dtmf module (docs/DTMF.md).
 */
struct rtpb_msg_ev_dtmf {
	struct rtpb_msg_hdr hdr;
	uint32_t stream_id;
	uint32_t worker;
	uint64_t cookie;   /**< as given in the stream's ADD/UPDATE */
	uint32_t ts;       /**< RTP timestamp of the event */
	uint16_t duration; /**< longest duration seen for it, timestamp units */
	uint8_t event;     /**< event code, 0..16 (RFC 4733 §3.2) */
	uint8_t volume;    /**< volume of the end packet, -dBm0, 0..63 */
};

/** One ring element: any message, RTPB_MSG_SIZE bytes. */
struct rtpb_msg {
	union {
		struct rtpb_msg_hdr hdr;
		struct rtpb_msg_hello hello;
		struct rtpb_msg_stream stream;
		struct rtpb_msg_stream_del del;
		struct rtpb_msg_ev_hello ev_hello;
		struct rtpb_msg_ev_latch ev_latch;
		struct rtpb_msg_ev_dtmf ev_dtmf;
		struct rtpb_msg_stream_fork fork;
		uint8_t raw[RTPB_MSG_SIZE];
	};
};

static_assert(sizeof(struct rtpb_addr) == 20, "rtpb_addr ABI");
static_assert(sizeof(struct rtpb_msg) == RTPB_MSG_SIZE, "ring ABI");
static_assert(sizeof(struct rtpb_msg_stream) <= RTPB_MSG_SIZE, "ring ABI");
static_assert(sizeof(struct rtpb_msg_ev_latch) <= RTPB_MSG_SIZE, "ring ABI");
static_assert(sizeof(struct rtpb_msg_hello) <= RTPB_MSG_SIZE, "ring ABI");
static_assert(sizeof(struct rtpb_msg_ev_dtmf) <= RTPB_MSG_SIZE, "ring ABI");
static_assert(sizeof(struct rtpb_msg_stream_fork) <= RTPB_MSG_SIZE, "ring ABI");

/** Byte size of the struct of each message type, for HELLO's table. */
static inline uint16_t
rtpb_msg_type_len(enum rtpb_msg_type t)
{
	switch (t) {
	case RTPB_MSG_HELLO: return sizeof(struct rtpb_msg_hello);
	case RTPB_MSG_STREAM_ADD:
	case RTPB_MSG_STREAM_UPDATE: return sizeof(struct rtpb_msg_stream);
	case RTPB_MSG_STREAM_DEL: return sizeof(struct rtpb_msg_stream_del);
	case RTPB_MSG_EV_HELLO: return sizeof(struct rtpb_msg_ev_hello);
	case RTPB_MSG_EV_LATCH: return sizeof(struct rtpb_msg_ev_latch);
	case RTPB_MSG_EV_DTMF: return sizeof(struct rtpb_msg_ev_dtmf);
	case RTPB_MSG_STREAM_FORK: return sizeof(struct rtpb_msg_stream_fork);
	default: return 0;
	}
}

#endif /* RTPB_MSG_H */
