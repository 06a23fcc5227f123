/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_cfg.h: rtpb-gen's configuration, filled once by gen_cfg_parse()
 * from the command line (after EAL's arguments) and read-only afterwards.
 *
 * Addresses are IPv4 in network byte order; times are ms or s as named;
 * rates are frames per second.
 */
#ifndef GEN_CFG_H
#define GEN_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#define GEN_MAX_RELAY_ADDRS 16 /**< as RTPB_MAX_ADDRS */
#define GEN_MAX_QUEUES 8 /**< --queues */
#define GEN_MAX_PCAP_QUEUES 16 /**< --pcap-queues: as RTPB_MAX_WORKERS */

/** How the generator paces its RTP frames. */
enum gen_rate_mode {
	GEN_RATE_NATURAL =
		0, /**< every leg one frame per ptime (50/s at 20 ms) */
	GEN_RATE_MAX, /**< as fast as the port takes them */
	GEN_RATE_PPS, /**< a fixed total rate, frames/s (--pps) */
};

/** How the calls get their relay sockets. */
enum gen_setup_mode {
	GEN_SETUP_CTL = 0, /**< U and L per call on control's rtpproxy socket */
	GEN_SETUP_LAYOUT, /**< fixed layout on --layout addresses (no control);
			    *   --install pushes it into a dataplane's rings */
	GEN_SETUP_BASELINE, /**< no relay: each leg sends straight to its peer
			     *   phone, through any forwarder (testpmd io), to
			     *   measure the link's and the generator's share */
};

/** Everything the command line sets. */
struct gen_cfg {
	uint32_t calls; /**< concurrent calls (2 legs each) */
	double duration_s; /**< sending time, s; 0: no traffic */
	enum gen_rate_mode rate_mode;
	double pps; /**< GEN_RATE_PPS: total RTP frames/s */
	uint32_t ptime_ms; /**< RTP packetisation time, ms (20) */
	uint32_t rtcp_s; /**< RTCP interval per leg, s (5); 0: none */
	uint32_t drain_ms; /**< receive time after the last frame, ms */
	uint16_t port_id; /**< ethdev port */
	uint16_t queues; /**< RX/TX queue pairs (legs hashed over them) */
	bool have_port; /**< a port exists (not needed for pcap only) */
	bool udp_csum; /**< compute UDP checksums (default on) */
	uint64_t seed; /**< SSRC/sequence seed; 0: from the clock */

	/* addressing */
	uint32_t gw_ip; /**< the generator's own address on the link */
	uint32_t phone_net; /**< phones' network, host byte order */
	uint32_t phone_plen; /**< its prefix length */
	struct rte_ether_addr relay_mac; /**< --relay-mac, or learnt by ARP */
	bool relay_mac_set;
	struct rte_ether_addr
		src_mac; /**< --src-mac for the pcap, else the port's */
	bool src_mac_set;

	/* setup */
	enum gen_setup_mode setup;
	const char *ctl; /**< udp:HOST:PORT */
	uint32_t ctl_local[GEN_MAX_RELAY_ADDRS]; /**< --ctl-local: 'l' modifier */
	uint32_t n_ctl_local;
	uint32_t ctl_window; /**< commands in flight */
	uint32_t ctl_retries; /**< sends per command */
	uint32_t ctl_timeout_ms; /**< per send */
	const char *call_prefix; /**< call-id prefix */
	bool keep_sessions; /**< no D at exit */
	bool delete_only; /**< no setup, no traffic: D every call of
				   *   --call-prefix (a --keep-sessions run's) */
	uint32_t layout[GEN_MAX_RELAY_ADDRS]; /**< --layout relay addresses */
	uint32_t n_layout;
	const char *install; /**< --install FILE_PREFIX */
	/* what every call's streams do besides relaying (optional rtpproxy
	 * features, control only; sent during the setup, gen_ctl.c) */
	bool ctl_record; /**< --record: R for both parties after the L */
	const char *ctl_fork; /**< --fork udp:IP:PORT: C to it for both
				*   parties after the L; NULL: none */
	uint32_t ctl_tos; /**< --tos N: "&& S tos=N" after U and L; 0: none */

	/* output */
	const char *pcap_path; /**< --write-pcap */
	uint32_t pcap_rounds; /**< frames per leg in the pcap */
	uint32_t pcap_frames; /**< RTP frames in the pcap; 0: pcap_rounds
				   *   per leg; fewer than the legs: both
				   *   legs of calls spread over the table */
	uint16_t pcap_queues; /**< > 1: one pcap per RX queue, FILE.qN,
				   *   call c's frames in FILE.q(c % N) */
	bool pcap_split_flow; /**< --pcap-split flow: a frame's queue from the
				   *   Toeplitz hash of its 5-tuple, as a NIC's
				   *   default RSS (not the owner's queue) */
	bool json; /**< final summary as JSON on stdout */
	bool quiet; /**< no progress lines */
};

/**
 * Parse rtpb-gen's own options (argv after EAL's and "--").
 * Prints what is wrong and exits 2 on a bad option; exits 0 on --help.
 */
void gen_cfg_parse(struct gen_cfg *c, int argc, char **argv);

/** Total RTP frame rate the configuration asks for, frames/s; 0: max. */
double gen_cfg_pps(const struct gen_cfg *c);

#endif /* GEN_CFG_H */
