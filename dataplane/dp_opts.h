/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_opts.h: rtpbypass-dataplane's command line (dp_opts.c). Written by
 * dp_opts_parse() on the main lcore before setup; read-only afterwards.
 * Options the fast path needs (relay addresses, gateways, probation) go
 * straight to dp_ctx; struct dp_opts holds what only setup reads.
 */
#ifndef DP_OPTS_H
#define DP_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_ether.h>

#include "rtpb_addr.h"
#include "rtpb_shm.h"

#define DP_DEFAULT_MAX_STREAMS 65536
/** --replay-wait default, ms: a restarted dataplane holds RX this long at
 *  most for control's replay (control attaches within 10 ms of ready) */
#define DP_DEFAULT_REPLAY_WAIT_MS 1000
/** control's default --file-prefix: the dataplane's too, unless given */
#define DP_DEFAULT_FILE_PREFIX "rtpbypass"

/** The options dp_main.c's setup reads. */
struct dp_opts {
	uint16_t port_id;         /**< --port: RX (and slow-path TX) ethdev port */
	int tx_port;              /**< --tx-port, -1: the RX port */
	uint32_t max_streams;     /**< --max-streams */
	uint32_t mbufs;           /**< --mbufs, 0: what the queues need */
	uint32_t replay_wait_ms;  /**< --replay-wait: RX held for control's replay, ms */
	uint16_t mbuf_room;       /**< --mbuf-size: data room, bytes */
	struct rtpb_addr neigh_ip[RTPB_MAX_ADDRS * 4]; /**< --neigh IPs */
	struct rte_ether_addr neigh_mac[RTPB_MAX_ADDRS * 4]; /**< and MACs */
	uint32_t n_neigh;         /**< --neigh given */
	const char *ring_prefix;  /**< --ring-prefix */
	const char *bpf_pin_root; /**< --bpf-pin-root, NULL: leave pins alone */
	const char *shm_group;    /**< --shm-group, NULL: root only */
	gid_t shm_gid;            /**< its gid */
	/* neighbours kept across a restart (dp_nkeep.h) */
	const char *neigh_file;   /**< --neigh-file, NULL: the default
				       DP_NKEEP_DIR/<file-prefix>.neigh;
				       "none": not kept */
	bool standby;             /**< --standby: start as an HA standby (dp_ha.h) */
};

/** --neigh-file's default directory (the systemd unit's RuntimeDirectory). */
#define DP_NKEEP_DIR "/run/rtpbypass"

extern struct dp_opts dp_opts;

/**
 * Before rte_eal_init(): answer --help (-h) and --version (-V), anywhere
 * on the line, EAL's part or ours, so asking for them starts no EAL (no
 * PCI probe, no hugepage file, no runtime directory). Exits when it
 * answered; returns otherwise.
 */
void dp_opts_early(int argc, char **argv);

/**
 * EAL's arguments with --file-prefix DP_DEFAULT_FILE_PREFIX added when
 * the EAL part (before "--") has none, so the dataplane and control meet
 * without either being told (DPDK's own default is "rte"). Not with
 * --in-memory or --no-shconf.
 * @return argv itself, or a copy with the option inserted after argv[0]
 *         (never freed); *argc updated. Exits if out of memory.
 */
char **dp_opts_eal_prefix(int *argc, char **argv);

/**
 * Parse the options after EAL's (argv[0] is the program name) into
 * dp_opts and dp_ctx (relay addresses, gateways, probation, budget).
 * Exits on --help.
 * @return 0, or -1 after a message on stderr naming the bad option.
 */
int dp_opts_parse(int argc, char **argv);

#endif /* DP_OPTS_H */
