/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_steer.h: RSS on the relay socket (destination address and port), so
 * that every packet of a session reaches its owner's RX queue
 * (rtpb_steer.h says why and how control uses it). Setup path only: the
 * main lcore calls these around rte_eth_dev_configure()/_start().
 */
#ifndef DP_STEER_H
#define DP_STEER_H

#include <stdint.h>

#include <rte_ethdev.h>

#include "rtpb_steer.h"

/** The RSS key the dataplane gives a PMD (RTPB_STEER_KEY_INIT). */
extern const uint8_t dp_steer_key[RTPB_STEER_KEY_MAX];

/**
 * Choose the RSS configuration of a port with nq RX queues: UDP hashed
 * on the destination only (IPv4, and IPv6 when offered) with
 * dp_steer_key if the PMD offers RTE_ETH_RSS_L3_DST_ONLY and
 * RTE_ETH_RSS_L4_DST_ONLY for UDP and has a RETA of at most
 * RTPB_STEER_RETA_MAX entries; else the 5-tuple (IP and UDP types the
 * PMD offers, its own key).
 * @param info the port's rte_eth_dev_info_get().
 * @param rss  out: rss_hf, rss_key, rss_key_len for rte_eth_conf.
 * @param why  out: when the answer is RTPB_STEER_NONE, what is missing
 *             (a constant string), else NULL.
 * @return RTPB_STEER_RSS_DST, or RTPB_STEER_NONE (also for nq < 2: one
 *         queue needs no steering).
 */
enum rtpb_steer_mode dp_steer_rss_conf(const struct rte_eth_dev_info *info, uint16_t nq,
				       struct rte_eth_rss_conf *rss, const char **why);

/**
 * After the port started with dp_steer_rss_conf()'s RTPB_STEER_RSS_DST:
 * fill its RETA (entry i -> queue i % nq; worker w owns queue w) and
 * describe the result in st, which control reads.
 * @param info the port's rte_eth_dev_info_get() (reta_size).
 * @return 0 with st->mode RTPB_STEER_RSS_DST, or a negative errno from
 *         rte_eth_dev_rss_reta_update() with st->mode RTPB_STEER_NONE.
 */
int dp_steer_publish(uint16_t port, const struct rte_eth_dev_info *info, uint16_t nq,
		     struct rtpb_steer *st);

/**
 * The steering of a kernel NIC's RSS (net_af_xdp: the kernel's RSS puts
 * packets on the queues the AF_XDP sockets are bound to), as SIOCETHTOOL
 * reports it. Steering holds when IPv4 UDP is hashed on the destination
 * address and port only (`ethtool -N IFACE rx-flow-hash udp4 dn`), with
 * the Toeplitz function, and every indirection table entry names one of
 * the dataplane's queues. Pure: dp_steer_af_xdp() does the ioctls.
 * @param udp4_fields ETHTOOL_GRXFH's data for UDP_V4_FLOW (RXH_* bits).
 * @param hfunc       ETHTOOL_GRSSH's hfunc (bit 0: Toeplitz; 0: unknown,
 *                    taken as Toeplitz, the kernel's default).
 * @param indir       indirection table: entry -> netdev queue.
 * @param key         the RSS key, key_size bytes.
 * @param start_queue the first netdev queue of the port (its devarg);
 *                    worker w reads queue start_queue + w, w < nq.
 * @param why         out: what does not hold, when -EINVAL.
 * @return 0 with st described (mode RTPB_STEER_RSS_DST), or -EINVAL with
 *         st->mode RTPB_STEER_NONE.
 */
int dp_steer_from_kernel(uint64_t udp4_fields, uint32_t hfunc, const uint32_t *indir,
			 uint32_t indir_size, const uint8_t *key, uint32_t key_size,
			 uint32_t start_queue, uint16_t nq, struct rtpb_steer *st,
			 const char **why);

/**
 * Read interface iface's RSS (SIOCETHTOOL: ETHTOOL_GRXFH, ETHTOOL_GRSSH)
 * and describe it with dp_steer_from_kernel(). Setup path.
 * @return 0 (st steered), -EINVAL (the kernel's RSS does not steer relay
 *         sockets; why says what), or another negative errno of the
 *         ioctls (why says which).
 */
int dp_steer_af_xdp(const char *iface, uint32_t start_queue, uint16_t nq,
		    struct rtpb_steer *st, const char **why);

#endif /* DP_STEER_H */
