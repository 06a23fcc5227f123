/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb_mirror.h: the copies of recorded packets, from the workers to the
 * recorder (rtpproxy's R, C to a file, -a; docs/RECORDING.md).
 *
 * A stream that records carries a recording id (non-zero) in its
 * dataplane record. Its owner worker copies each packet it receives on
 * that stream (RTP; RTCP too unless control left the RTCP stream's id at
 * 0, which is what -R does) into its own mirror ring, before the rewrite,
 * as received. Streams whose id is 0 cost one compare of a field the
 * worker already has in cache.
 *
 * Who writes what:
 * - mirror ring of worker w: one rte_ring per worker lcore, named
 *   RTPB_MIRROR_RING_FMT, laid out by the dataplane in the shared memory
 *   (rtpb_shm.h) next to the c2d rings and initialised with
 *   rte_ring_init(RING_F_SP_ENQ | RING_F_SC_DEQ); elements are
 *   RTPB_MIRROR_ELEM_SIZE bytes. Worker w is its only producer; the
 *   recorder in control its only consumer.
 * - a record is one struct rtpb_mirror_rec (one element) followed by
 *   rtpb_mirror_rec_elems() - 1 elements of payload. The worker enqueues
 *   all of a record's elements in one bulk enqueue
 *   (rte_ring_enqueue_zc_bulk_elem_start()/finish(): it copies the payload
 *   straight into the ring), so a record is never split by another and
 *   becomes visible whole. A full ring takes nothing: the copy is dropped
 *   and counted, the relayed packet is never held or dropped for it.
 * - the consumer takes a burst of elements; a record cut by the end of
 *   the burst has its remaining elements already in the ring (bulk
 *   visibility), so it takes exactly those next.
 *
 * Drop counter semantics (per worker, in its lcore stats, written by the
 * worker only): mirror_copies counts records enqueued, mirror_drops
 * records not enqueued because the ring had fewer free elements than the
 * record needs. Both count records, not bytes or elements; a packet
 * truncated to RTPB_MIRROR_SNAPLEN is a copy, not a drop.
 */
#ifndef RTPB_MIRROR_H
#define RTPB_MIRROR_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "rtpb_addr.h"

/** Bytes per mirror ring element: one cache line. */
#define RTPB_MIRROR_ELEM_SIZE 64
/** Elements per mirror ring (a power of two; 4 MiB per worker): about
 *  16 000 G.711 packets, 0.3 s of 1 000 recorded streams per worker. */
#define RTPB_MIRROR_RING_ELEMS 65536
/** Most payload elements after the header of one record. */
#define RTPB_MIRROR_MAX_DATA_ELEMS 31
/** UDP payload bytes kept per packet; longer ones are cut to this and
 *  keep their orig_len (a pcap record then has caplen < len). */
#define RTPB_MIRROR_SNAPLEN (RTPB_MIRROR_MAX_DATA_ELEMS * RTPB_MIRROR_ELEM_SIZE)
/** Elements of the largest record. */
#define RTPB_MIRROR_MAX_ELEMS (1 + RTPB_MIRROR_MAX_DATA_ELEMS)
/** Ring name: ring prefix (the dataplane's --ring-prefix), worker index. */
#define RTPB_MIRROR_RING_FMT "%s_mir_%u"

/** Which party sent the packet: rtpproxy's stream index, and the ".a" /
 *  ".o" of its file names (rtpp_record.c). */
enum rtpb_mirror_dir {
	/** Sent by the party of the to-tag (the answerer): rtpproxy stream 0, ".a". */
	RTPB_MIRROR_DIR_A = 0,
	/** Sent by the party of the from-tag (the originator): stream 1, ".o". */
	RTPB_MIRROR_DIR_O = 1,
};

/** What the stream carries: the ".rtp" or ".rtcp" file. */
enum rtpb_mirror_kind {
	RTPB_MIRROR_RTP = 0,
	RTPB_MIRROR_RTCP = 1,
};

/**
 * One recorded packet: this header (one ring element) and cap_len bytes
 * of UDP payload in the elements that follow it (data[]).
 * Written by the owner worker, read by the recorder.
 */
struct rtpb_mirror_rec {
	uint64_t ts_ns;    /**< arrival, CLOCK_REALTIME ns (UNIX time) */
	uint32_t rec_id;   /**< the stream's recording id, never 0 */
	uint16_t orig_len; /**< UDP payload bytes as received */
	uint16_t cap_len;  /**< bytes in data[]: min(orig_len, RTPB_MIRROR_SNAPLEN) */
	uint8_t dir;       /**< enum rtpb_mirror_dir */
	uint8_t kind;      /**< enum rtpb_mirror_kind */
	uint8_t worker;    /**< the producing worker's index */
	uint8_t reserved0; /**< 0 */
	struct rtpb_addr src; /**< the sender, as received (port, ip: network order) */
	struct rtpb_addr dst; /**< the relay socket it reached (same family as src) */
	uint32_t reserved1;   /**< 0 */
	uint8_t data[];       /**< cap_len bytes of UDP payload */
};

static_assert(sizeof(struct rtpb_mirror_rec) == RTPB_MIRROR_ELEM_SIZE,
	      "a record header is one ring element");
static_assert(offsetof(struct rtpb_mirror_rec, data) == RTPB_MIRROR_ELEM_SIZE,
	      "payload starts at the second element");
static_assert(RTPB_MIRROR_SNAPLEN <= UINT16_MAX, "cap_len is 16 bits");
static_assert(RTPB_MIRROR_SNAPLEN >= 1500 - 28,
	      "an Ethernet MTU's UDP payload is kept whole");
static_assert((RTPB_MIRROR_RING_ELEMS & (RTPB_MIRROR_RING_ELEMS - 1)) == 0,
	      "rte_ring wants a power of two");
static_assert(RTPB_MIRROR_RING_ELEMS >= 8 * RTPB_MIRROR_MAX_ELEMS,
	      "a ring holds several of the largest records");

/**
 * Ring elements a record with cap_len payload bytes takes: its header
 * and the payload rounded up to whole elements.
 * @param cap_len payload bytes, at most RTPB_MIRROR_SNAPLEN.
 * @return 1 to RTPB_MIRROR_MAX_ELEMS.
 */
static inline uint32_t
rtpb_mirror_rec_elems(uint32_t cap_len)
{
	return 1 + (cap_len + RTPB_MIRROR_ELEM_SIZE - 1) / RTPB_MIRROR_ELEM_SIZE;
}

#endif /* RTPB_MIRROR_H */
