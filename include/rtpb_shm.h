/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb_shm.h: the shared memory between the dataplane and control.
 *
 * The dataplane (DPDK primary) creates one file per instance on hugetlbfs
 * (falling back to /dev/shm), maps it, lays it out as below and links it as
 * RTPB_SHM_LINK_FMT in DPDK's runtime directory of its --file-prefix.
 * Control opens that link and maps the same file; it needs no EAL, so it can
 * start before the dataplane, survive its restarts (generation changes:
 * control replays every live session) and be restarted itself while calls
 * go on.
 *
 * Who writes what:
 * - header: the dataplane, once before setting state to RTPB_SHM_READY;
 *   then only heartbeat_ns (its main lcore, every RTPB_SHM_HEARTBEAT_MS),
 *   c2d_done[w] (worker w, after applying c2d messages), beat[w] (worker
 *   w, every loop) and worker_stalls, workers_stalled (the main lcore).
 * - c2d rings: control enqueues, worker <w> dequeues (rte_ring, SP/SC).
 * - d2c ring: workers and the main lcore enqueue, control dequeues (MP/SC).
 * - mirror rings (off_mirror): worker <w> enqueues copies of recorded
 *   packets, control's recorder dequeues (SP/SC; rtpb_mirror.h).
 * - play rings (off_play): control's player enqueues played packets,
 *   worker <w> dequeues and sends them (SP/SC; rtpb_play.h).
 * - lcore stats: each lcore its own slot; control reads.
 * - per-stream counters: the owner worker of each stream. Control reads
 *   them through rtpb_shm_stream_read(), knowing only the contract's
 *   structs: a table of struct rtpb_stream_pkts by stride
 *   (off_stream_counters, stream_stride: the dataplane keeps each one in
 *   the cache line it reads per packet anyway) and an array of struct
 *   rtpb_stream_ctrs (off_stream_ctrs); what identifies a live stream
 *   likewise (struct rtpb_stream_key, its cookie: off_stream_keys,
 *   off_stream_cookies, by the same stride). The rest of a stream's
 *   record is the dataplane's own (dataplane/dp_stream.h).
 * - RTP analysis of each stream (struct rtpb_rtpa, rtpb_rtpa.h): the
 *   owner worker, per RTP packet from the peer and per RTCP report about
 *   it; two records per stream in the stream's record (off_stream_rtpa_hot,
 *   off_stream_rtpa_cold, by stream_stride), reset by RTPB_MSG_STREAM_ADD.
 *   Control copies them out and assembles struct rtpb_rtpa
 *   (rtpb_shm_stream_rtpa()).
 * - HA (ha_state, ha_announce): the dataplane sets ha_state once at start
 *   (--standby), then control writes both; workers read ha_state per
 *   burst, the main lcore both per tick (enum rtpb_ha_state).
 */
#ifndef RTPB_SHM_H
#define RTPB_SHM_H

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "rtpb_addr.h"
#include "rtpb_msg.h"
#include "rtpb_rtpa.h"
#include "rtpb_steer.h"

#define RTPB_SHM_MAGIC 0x42505452u /* "RTPB" little-endian */
#define RTPB_MAX_ADDRS 16
#define RTPB_SHM_HEARTBEAT_MS 100
/** Path of the link to the shared file, from DPDK's runtime dir. */
#define RTPB_SHM_LINK_FMT "/var/run/dpdk/%s/rtpb_shm"
#define RTPB_RING_SIZE 4096 /**< elements per ring */

/** Shared memory states (rtpb_shm_hdr.state). */
enum rtpb_shm_state {
	RTPB_SHM_INIT = 0,     /**< being laid out, do not use */
	RTPB_SHM_READY = 1,    /**< workers running */
	RTPB_SHM_STOPPING = 2, /**< dataplane exiting */
};

/**
 * Who owns the relay addresses (rtpb_shm_hdr.ha_state), for an
 * active/standby pair sharing them (docs/RELIABILITY.md, "Active and
 * standby"; DESIGN.md §7). 0 is active: a relay alone is active, as
 * before this field existed.
 */
enum rtpb_ha_state {
	RTPB_HA_ACTIVE = 0,  /**< owns them: answers ARP/NDP, relays */
	RTPB_HA_STANDBY = 1, /**< silent for them: no ARP/NDP answer or
			      *   request from them, no relaying (counted as
			      *   drop reason "standby") */
};
/** Rounds of announcements (gratuitous ARP, unsolicited NA) per request,
 *  and the time between two, ms (as keepalived's vrrp_garp_master_repeat
 *  sends a few, spaced, in case one is lost). */
#define RTPB_HA_ANNOUNCE_ROUNDS 3
#define RTPB_HA_ANNOUNCE_GAP_MS 100

/**
 * Drop reasons, one X-macro for the enum, the per-lcore counters and
 * the names in telemetry and control.
 */
#define RTPB_FOREACH_DROP(_)                                                   \
	_(TRUNCATED, "truncated", "truncated or malformed header")             \
	_(ETHERTYPE, "ethertype", "neither IPv4, IPv6 nor ARP")                \
	_(NOT_LOCAL, "not_local", "not addressed to a relay address")          \
	_(NOT_UDP, "not_udp", "IP protocol other than UDP")                    \
	_(FRAGMENT, "fragment", "IP fragment")                                 \
	_(BAD_CSUM, "bad_csum", "bad IPv4 header checksum")                    \
	_(NO_STREAM, "no_stream", "no stream on port")                         \
	_(BAD_CLASS, "bad_class", "first byte not STUN/DTLS/RTP (RFC 7983)")   \
	_(NOT_PEER, "not_peer", "source is not the latched peer (probation)")  \
	_(NO_PEER, "no_peer", "other leg has no peer yet")                     \
	_(NEIGH_PENDING, "neigh_pending", "next hop not resolved yet")        \
	_(NO_ROUTE, "no_route", "peer off-link and no gateway")               \
	_(TX_FULL, "tx_full", "TX queue full")                                 \
	_(RING_FULL, "ring_full", "slow-path or handoff ring full")            \
	_(ARP_OTHER, "arp_other", "ARP not for a relay address")               \
	_(IPV6_EXT, "ipv6_ext", "IPv6 extension header other than Fragment")   \
	_(UDP6_ZERO_CSUM, "udp6_zero_csum", "IPv6 UDP checksum 0 (RFC 8200 8.1)") \
	_(ND_OTHER, "nd_other", "NDP not for a relay address, or invalid")     \
	_(FAMILY, "family", "peer's family differs from the relay socket's")   \
	_(TOO_BIG, "too_big", "bridged to IPv6, exceeds the MTU (no fragmentation)") \
	_(BOGON, "bogon", "bogon source address or port 0 (rtpb_pf_rules.h)") \
	_(PEER_ALIVE, "peer_alive", "new SSRC while the latched peer is alive (DESIGN.md 4.9)") \
	_(REFUSED, "refused", "source refused after the peer it replaced won back") \
	_(BUDGET, "budget", "other source of a latched stream, over its budget") \
	_(PACE, "pace", "candidate packet not at media pace (a burst)")      \
	_(DTMF_HIDDEN, "dtmf_hidden", "RFC 4733 event caught and hidden (catch_dtmf 'h')") \
	/* HA (docs/RELIABILITY.md, "Active and standby") */                  \
	_(STANDBY, "standby", "relay addresses not active here (HA standby)") \
	_(HELD, "held", "held while a prompt plays to the other party (P)")

/**
 * enum rtpb_drop: RTPB_DROP_<NAME>. 0 is RTPB_DROP_NONE, "not dropped"
 * (as in VPP's error lists): a stage that returns 0 lets the packet go
 * on; the reasons of RTPB_FOREACH_DROP are 1..RTPB_DROP__COUNT-1, and
 * drops[RTPB_DROP_NONE] stays 0.
 */
enum rtpb_drop {
	RTPB_DROP_NONE = 0, /**< not dropped */
#define RTPB_DROP_ENUM(e, n, d) RTPB_DROP_##e,
	RTPB_FOREACH_DROP(RTPB_DROP_ENUM)
#undef RTPB_DROP_ENUM
	RTPB_DROP__COUNT
};

/**
 * Short name of drop reason r (RTPB_FOREACH_DROP's second column; the
 * label in telemetry and metrics): "none" for RTPB_DROP_NONE, "?" out of
 * range. Static storage.
 */
static inline const char *
rtpb_drop_name(unsigned int r)
{
	static const char *const names[RTPB_DROP__COUNT] = {
		[RTPB_DROP_NONE] = "none",
#define RTPB_DROP_NAME(e, n, d) [RTPB_DROP_##e] = n,
		RTPB_FOREACH_DROP(RTPB_DROP_NAME)
#undef RTPB_DROP_NAME
	};

	return r < RTPB_DROP__COUNT ? names[r] : "?";
}

/**
 * The scalar counters of one lcore, in struct order: field and what it
 * counts. One list for the struct, telemetry (dp_stats.c) and whoever
 * prints them all. Packets and bytes (frame bytes); cycles are TSC
 * cycles.
 */
#define RTPB_FOREACH_LCORE_CTR(_)                                             \
	_(rx_pkts, "frames received")                                          \
	_(rx_bytes, "frame bytes received")                                    \
	_(tx_pkts, "frames sent")                                              \
	_(tx_bytes, "frame bytes sent")                                        \
	_(relayed, "packets forwarded to the other leg")                       \
	_(handoff_out, "packets passed to their owner worker")                 \
	_(slowpath_out, "ARP/NDP frames passed to the main lcore")             \
	_(arp_replies, "ARP replies sent for relay addresses")                 \
	_(arp_requests, "ARP requests sent to resolve next hops")              \
	_(nd_replies, "Neighbor Advertisements sent for relay addresses")      \
	_(nd_requests, "Neighbor Solicitations sent to resolve next hops")     \
	_(ctl_msgs, "c2d messages applied")                                    \
	_(latches, "streams latched or switched peer")                         \
	_(handovers, "of which mid-call switches (probation won)")             \
	_(ctl_errors, "c2d messages refused (bad id, address)")                \
	_(events_lost, "d2c events dropped: ring full")                        \
	_(mirror_copies, "recorded packets copied to the mirror ring")         \
	_(mirror_drops, "recorded packets not copied: mirror ring full")       \
	_(fork_copies, "forked copies sent to fork targets")                   \
	_(fork_drops, "forked copies not sent: no mbuf, next hop, TX full")    \
	/* playback (rtpb_play.h): packets of the play ring */                 \
	_(play_tx, "played packets sent")                                      \
	_(play_stale, "played packets for a deleted or reused stream")         \
	_(play_nopeer, "played packets for a stream with no peer or route")    \
	/* ARP/NDP senders not learned as neighbours (main lcore, issue 16) */ \
	_(neigh_refused_offlink, "not on a relay address's link")              \
	_(neigh_refused_mac, "link-layer address not the Ethernet source")    \
	_(neigh_refused_full, "no free slot on its probe chain")               \
	_(busy_cycles, "cycles of loops that handled packets")                 \
	_(total_cycles, "all loop cycles")                                     \
	/* HA announcements of the relay addresses (main lcore, issue 21) */  \
	_(ha_garps, "gratuitous ARP frames sent (HA announcements)")          \
	_(ha_unsol_nas, "unsolicited Neighbor Advertisements sent (HA)")      \
	/* latency inside a worker, RX burst to TX burst (dp_lat.h, issue   \
	 * 19): sampled bursts, then samples by bucket [previous bound,      \
	 * bound) (RTPB_FOREACH_LAT_BUCKET), the largest sample, their sum */\
	_(lat_samples, "bursts whose RX-to-TX time was sampled")              \
	_(lat_lt_500ns, "latency samples below 500 ns")                       \
	_(lat_lt_1us, "latency samples in [500 ns, 1 us)")                    \
	_(lat_lt_2us, "latency samples in [1 us, 2 us)")                      \
	_(lat_lt_4us, "latency samples in [2 us, 4 us)")                      \
	_(lat_lt_8us, "latency samples in [4 us, 8 us)")                      \
	_(lat_lt_12us, "latency samples in [8 us, 12 us)")                    \
	_(lat_lt_16us, "latency samples in [12 us, 16 us)")                   \
	_(lat_lt_20us, "latency samples in [16 us, 20 us)")                   \
	_(lat_lt_32us, "latency samples in [20 us, 32 us)")                   \
	_(lat_lt_64us, "latency samples in [32 us, 64 us)")                   \
	_(lat_lt_128us, "latency samples in [64 us, 128 us)")                 \
	_(lat_ge_128us, "latency samples of 128 us or more")                  \
	_(lat_max_ns, "largest latency sample, ns (a maximum, not a sum)")     \
	_(lat_sum_ns, "sum of the latency samples, ns")

/**
 * The latency histogram's buckets (issue 19), in counter order: field of
 * struct rtpb_lcore_stats and its upper bound in ns (exclusive; the lower
 * bound is the previous one's, 0 for the first). Samples at or above the
 * last bound go to lat_ge_128us. One list for the dataplane, which counts
 * (dp_lat.h), and control, which exports a Prometheus histogram.
 */
#define RTPB_FOREACH_LAT_BUCKET(_)                                             \
	_(lat_lt_500ns, 500)                                                   \
	_(lat_lt_1us, 1000)                                                    \
	_(lat_lt_2us, 2000)                                                    \
	_(lat_lt_4us, 4000)                                                    \
	_(lat_lt_8us, 8000)                                                    \
	_(lat_lt_12us, 12000)                                                  \
	_(lat_lt_16us, 16000)                                                  \
	_(lat_lt_20us, 20000)                                                  \
	_(lat_lt_32us, 32000)                                                  \
	_(lat_lt_64us, 64000)                                                  \
	_(lat_lt_128us, 128000)

/**
 * Counters of one lcore (workers 0..n_workers-1, then the main lcore at
 * index n_workers). Written only by that lcore: RTPB_FOREACH_LCORE_CTR,
 * then drops by reason (enum rtpb_drop; drops[RTPB_DROP_NONE] unused).
 */
struct rtpb_lcore_stats {
#define RTPB_LCORE_CTR_FIELD(f, d) uint64_t f;
	RTPB_FOREACH_LCORE_CTR(RTPB_LCORE_CTR_FIELD)
#undef RTPB_LCORE_CTR_FIELD
	uint64_t drops[RTPB_DROP__COUNT];
} __attribute__((aligned(64)));

/**
 * Per-packet counters of one stream: a table by stride, stream id's at
 * off_stream_counters + id * stream_stride. The dataplane embeds each in
 * its stream's record, in the cache line the owner worker reads for every
 * packet anyway, so counting costs no extra line; control knows only this
 * struct and the stride. Written only by the owner worker; reset by
 * RTPB_MSG_STREAM_ADD. Control reads them through rtpb_shm_stream_read().
 */
struct rtpb_stream_pkts {
	uint64_t pkts_in;    /**< received on the relay socket, any source, packets */
	uint64_t bytes_in;   /**< their UDP payload, bytes */
	uint64_t last_rx_ns; /**< CLOCK_MONOTONIC ns of the last accepted packet, 0 if none */
};
static_assert(sizeof(struct rtpb_stream_pkts) == 24, "shm ABI: per-packet counters");

/**
 * What identifies a live stream: a table by stride like the counters
 * (off_stream_keys + id * stream_stride). Written only by the owner
 * worker when it applies RTPB_MSG_STREAM_ADD and _DEL;
 * control reads it when it attaches (rtpb_shm_stream_ident()).
 */
struct rtpb_stream_key {
	uint8_t state;       /**< 0 when no stream has the id */
	uint8_t addr_idx;    /**< index of its relay address in addrs[] */
	uint16_t local_port; /**< its relay port, network byte order */
};
static_assert(sizeof(struct rtpb_stream_key) == 4, "shm ABI: stream key");

/**
 * Counters of one stream that change only on drops and latches (array at
 * off_stream_ctrs, one per stream id). Written only by the owner worker;
 * reset by RTPB_MSG_STREAM_ADD.
 */
struct rtpb_stream_ctrs {
	uint64_t pkts_dropped;  /**< all reasons, packets */
	uint64_t bytes_dropped; /**< their UDP payload, bytes */
	uint64_t drop_not_peer; /**< of which from a source other than the peer, packets */
	uint32_t latches;       /**< times the peer was latched or switched */
	uint32_t handovers;     /**< of which mid-call switches (probation won) */
};

/**
 * Counters of one stream as control sees them, assembled by
 * rtpb_shm_stream_read() (not a layout in the mapping). Every packet in
 * is relayed or dropped, so relayed = in - dropped. Packets; bytes are
 * UDP payload bytes.
 */
struct rtpb_stream_stats {
	uint64_t pkts_in;      /**< received on the relay socket, any source */
	uint64_t bytes_in;
	uint64_t pkts_relayed; /**< sent on to the other leg */
	uint64_t bytes_relayed;
	uint64_t pkts_dropped; /**< all reasons */
	uint64_t drop_not_peer; /**< from a source other than the peer */
	uint64_t last_rx_ns;   /**< CLOCK_MONOTONIC ns of the last accepted packet, 0 if none */
	uint32_t latches;      /**< times the peer was latched or switched */
	uint32_t handovers;    /**< of which mid-call switches (probation won) */
};

/**
 * A worker that has not looped for this long is stalled (issue 16:
 * reported within a second; observers look every 100 ms).
 */
#define RTPB_WORKER_STALL_NS (500ull * 1000000ull)

/**
 * Heartbeat of one worker lcore: its loop count, stored (relaxed) on
 * every loop by that worker only, one cache line each so no worker's
 * store touches another's line. A count, not a time: no clock read per
 * loop, and each observer times it with its own clock.
 */
struct rtpb_worker_beat {
	_Atomic uint64_t loops;
} __attribute__((aligned(64)));

/**
 * Header at offset 0. Offsets are bytes from the start of the mapping.
 */
struct rtpb_shm_hdr {
	uint32_t magic;       /**< RTPB_SHM_MAGIC */
	uint32_t version;     /**< RTPB_MSG_VERSION */
	uint32_t msg_size;    /**< RTPB_MSG_SIZE */
	uint32_t hdr_size;    /**< sizeof(struct rtpb_shm_hdr) */
	uint64_t generation;  /**< CLOCK_REALTIME ns at dataplane start */
	int32_t pid;          /**< dataplane pid */
	uint32_t n_workers;   /**< worker lcores, 1..RTPB_MAX_WORKERS */
	uint32_t max_streams; /**< stream ids are < max_streams */
	uint32_t n_addrs;     /**< relay addresses in addrs[] */
	struct rtpb_addr addrs[RTPB_MAX_ADDRS]; /**< relay addresses, port 0 */
	uint8_t prefixlen[RTPB_MAX_ADDRS];      /**< their on-link prefix */
	uint64_t off_c2d[RTPB_MAX_WORKERS];     /**< struct rte_ring */
	uint64_t off_d2c;                       /**< struct rte_ring */
	uint64_t off_lcore_stats;  /**< struct rtpb_lcore_stats[n_workers + 1] */
	uint64_t off_streams;      /**< stream records [max_streams], the dataplane's
				    *   own layout (stream_stride bytes each) */
	/** struct rtpb_stream_pkts of stream 0; stream id's is stream_stride
	 *  bytes times id further (rtpb_shm_stream_pkts()). */
	uint64_t off_stream_counters;
	uint32_t stream_stride;    /**< bytes from one stream's record (and
				    *   counters) to the next, a multiple of 64 */
	uint32_t reserved_stride;
	/** What identifies a live stream, read by control when it attaches
	 *  to find the streams already there (rtpb_shm_stream_ident()):
	 *  struct rtpb_stream_key and the uint64_t cookie of its ADD, of
	 *  stream 0, each stream_stride bytes apart like the counters. */
	uint64_t off_stream_keys;
	uint64_t off_stream_cookies;
	uint64_t off_stream_ctrs;  /**< struct rtpb_stream_ctrs[max_streams] */
	/** RTP analysis (include/rtpb_rtpa.h): struct rtpb_rtpa_hot and
	 *  struct rtpb_rtpa_cold of stream 0; stream id's are stream_stride
	 *  bytes times id further (rtpb_shm_stream_rtpa()). */
	uint64_t off_stream_rtpa_hot;
	uint64_t off_stream_rtpa_cold;
	/** Worker w's mirror ring (struct rte_ring, rtpb_mirror.h): worker w
	 *  enqueues the copies of recorded packets, control's recorder
	 *  dequeues them. */
	uint64_t off_mirror[RTPB_MAX_WORKERS];
	/** Worker w's play ring (struct rte_ring of struct rtpb_play_pkt,
	 *  rtpb_play.h): control's player enqueues, worker w sends. */
	uint64_t off_play[RTPB_MAX_WORKERS];
	/** How the NIC spreads relay ports over the workers' queues
	 *  (rtpb_steer.h): control picks a session's worker by it. */
	struct rtpb_steer steer;
	uint64_t size;             /**< bytes mapped */
	_Atomic uint64_t heartbeat_ns; /**< CLOCK_MONOTONIC ns, main lcore */
	_Atomic uint32_t state;        /**< enum rtpb_shm_state */
	/** Control sets it to 1 (release) once it has pushed its replay of
	 *  every session onto the c2d rings of this dataplane (0 at start).
	 *  A worker holds RX until then, for at most --replay-wait, so the
	 *  first packets after a restart find their streams (DESIGN.md §2). */
	_Atomic uint32_t replayed;
	/** Messages worker w has taken from its c2d ring and applied, since
	 * the dataplane started (worker w writes, release order). Control
	 * compares it with what it enqueued to know a command's streams are
	 * in place before it replies (ctl_dp_sync()). */
	_Atomic uint64_t c2d_done[RTPB_MAX_WORKERS];
	/** Times the main lcore saw a worker stall (rtpb_beat_check()), and
	 *  the workers it sees stalled now, a bit each (telemetry). */
	_Atomic uint64_t worker_stalls;
	_Atomic uint32_t workers_stalled;
	/** Worker w's heartbeat (its own line). */
	struct rtpb_worker_beat beat[RTPB_MAX_WORKERS];
	/** HA: enum rtpb_ha_state. The dataplane sets it before its
	 *  workers start (--standby), then control alone writes it (its
	 *  --ha state, rtpb-ctl HA). Workers read it once per burst, the
	 *  main lcore every tick. Its own line: written only at failover. */
	_Atomic uint32_t ha_state __attribute__((aligned(64)));
	/** HA: control adds 1 to have the main lcore announce every relay
	 *  address (RTPB_HA_ANNOUNCE_ROUNDS rounds of gratuitous ARP and
	 *  unsolicited Neighbor Advertisements, RTPB_HA_ANNOUNCE_GAP_MS
	 *  apart) while ha_state is active; a change to active announces
	 *  too. */
	_Atomic uint32_t ha_announce;
};

/**
 * One observer's view of one worker's heartbeat (control and the
 * dataplane's main lcore each keep their own). Zero-initialised.
 */
struct rtpb_beat_watch {
	uint64_t loops;    /**< the count seen last */
	uint64_t moved_ns; /**< observer's clock when it last changed; 0 never seen */
	bool stalled;      /**< reported stalled */
};

/**
 * Look at worker w's heartbeat at now_ns (the observer's clock, ns); call
 * every ~100 ms.
 * @return 1 when w has just been found stalled (its count unchanged for
 *         RTPB_WORKER_STALL_NS), -1 when a stalled w loops again, else 0.
 */
static inline int
rtpb_beat_check(struct rtpb_beat_watch *wt, const struct rtpb_shm_hdr *h,
		uint32_t w, uint64_t now_ns)
{
	uint64_t loops = atomic_load_explicit(&h->beat[w].loops,
					      memory_order_relaxed);

	if (loops != wt->loops || wt->moved_ns == 0) {
		wt->loops = loops;
		wt->moved_ns = now_ns;
		if (wt->stalled) {
			wt->stalled = false;
			return -1;
		}
		return 0;
	}
	if (!wt->stalled && now_ns - wt->moved_ns >= RTPB_WORKER_STALL_NS) {
		wt->stalled = true;
		return 1;
	}
	return 0;
}

/** The worker that owns stream id (ids are partitioned by worker). */
static inline uint32_t
rtpb_stream_owner(uint32_t stream_id, uint32_t n_workers)
{
	return stream_id % n_workers;
}

/** Pointer at an offset of the mapping. */
static inline void *
rtpb_shm_at(const struct rtpb_shm_hdr *h, uint64_t off)
{
	return (char *)(uintptr_t)h + off;
}

/** Per-lcore counters, index 0..n_workers (n_workers is the main lcore). */
static inline struct rtpb_lcore_stats *
rtpb_shm_lcore_stats(const struct rtpb_shm_hdr *h, uint32_t idx)
{
	return (struct rtpb_lcore_stats *)rtpb_shm_at(h, h->off_lcore_stats) + idx;
}

/** Add every counter of s to sum (for totals over lcores); lat_max_ns
 * takes the larger of the two. */
static inline void
rtpb_lcore_stats_add(struct rtpb_lcore_stats *sum,
		     const struct rtpb_lcore_stats *s)
{
	const uint64_t *a = (const uint64_t *)s;
	uint64_t *b = (uint64_t *)sum;
	unsigned int i;

	uint64_t max_ns = sum->lat_max_ns > s->lat_max_ns ? sum->lat_max_ns :
							     s->lat_max_ns;

	for (i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		b[i] += a[i];
	sum->lat_max_ns = max_ns; /* a maximum over lcores, not a sum */
}

/** Per-packet counters of a stream id (< max_streams), in its record. */
static inline struct rtpb_stream_pkts *
rtpb_shm_stream_pkts(const struct rtpb_shm_hdr *h, uint32_t stream_id)
{
	return (struct rtpb_stream_pkts *)rtpb_shm_at(h, h->off_stream_counters +
		(uint64_t)stream_id * h->stream_stride);
}

/** Drop and latch counters of a stream id (< max_streams). */
static inline struct rtpb_stream_ctrs *
rtpb_shm_stream_ctrs(const struct rtpb_shm_hdr *h, uint32_t stream_id)
{
	return (struct rtpb_stream_ctrs *)rtpb_shm_at(h, h->off_stream_ctrs) +
	       stream_id;
}

/**
 * Read the counters of a stream id (< max_streams) into out, for a reader
 * other than the owner worker (control). The drops are read before the
 * packets in (the worker counts a packet in before it may drop it), so
 * relayed never goes negative; each value may be a packet behind.
 */
static inline void
rtpb_shm_stream_read(const struct rtpb_shm_hdr *h, uint32_t stream_id,
		     struct rtpb_stream_stats *out)
{
	const volatile struct rtpb_stream_ctrs *c = rtpb_shm_stream_ctrs(h, stream_id);
	const volatile struct rtpb_stream_pkts *p = rtpb_shm_stream_pkts(h, stream_id);
	uint64_t dropped = c->pkts_dropped, bytes_dropped = c->bytes_dropped;

	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	out->drop_not_peer = c->drop_not_peer;
	out->latches = c->latches;
	out->handovers = c->handovers;
	out->pkts_in = p->pkts_in;
	out->bytes_in = p->bytes_in;
	out->last_rx_ns = p->last_rx_ns;
	out->pkts_dropped = dropped;
	out->pkts_relayed = out->pkts_in > dropped ? out->pkts_in - dropped : 0;
	out->bytes_relayed = out->bytes_in > bytes_dropped ? out->bytes_in - bytes_dropped : 0;
}

/**
 * The RTP analysis counters of stream id (< max_streams) into out, for a
 * reader other than the owner worker (control): its two records copied
 * (memcpy), then assembled (rtpb_rtpa_view()); a field is never torn, two
 * may be a packet apart.
 */
static inline void
rtpb_shm_stream_rtpa(const struct rtpb_shm_hdr *h, uint32_t stream_id,
		     struct rtpb_rtpa *out)
{
	struct rtpb_rtpa_hot hot;
	struct rtpb_rtpa_cold cold;
	uint64_t at = (uint64_t)stream_id * h->stream_stride;

	memcpy(&hot, rtpb_shm_at(h, h->off_stream_rtpa_hot + at), sizeof(hot));
	memcpy(&cold, rtpb_shm_at(h, h->off_stream_rtpa_cold + at), sizeof(cold));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	rtpb_rtpa_view(&hot, &cold, out);
}

/** A stream the dataplane holds, as control added it. */
struct rtpb_stream_ident {
	struct rtpb_addr local; /**< relay address and port (network byte order) */
	uint64_t cookie;        /**< RTPB_MSG_STREAM_ADD's cookie */
};

/**
 * Whether stream id is live in the dataplane, and if so its relay socket
 * and cookie. Meant for control's attach, when no ADD or DEL of its own
 * is in flight. @return true if live (out filled).
 */
static inline bool
rtpb_shm_stream_ident(const struct rtpb_shm_hdr *h, uint32_t stream_id,
		      struct rtpb_stream_ident *out)
{
	uint64_t at = (uint64_t)stream_id * h->stream_stride;
	const volatile struct rtpb_stream_key *k;
	struct rtpb_stream_key key;

	if (stream_id >= h->max_streams)
		return false;
	k = (const volatile struct rtpb_stream_key *)rtpb_shm_at(h, h->off_stream_keys + at);
	if (k->state == 0)
		return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	key.addr_idx = k->addr_idx;
	key.local_port = k->local_port;
	memset(out, 0, sizeof(*out));
	if (key.addr_idx < h->n_addrs && key.addr_idx < RTPB_MAX_ADDRS)
		out->local = h->addrs[key.addr_idx];
	out->local.port = key.local_port;
	memcpy(&out->cookie, rtpb_shm_at(h, h->off_stream_cookies + at),
	       sizeof(out->cookie));
	return true;
}

#endif /* RTPB_SHM_H */
