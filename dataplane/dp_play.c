/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_play.c: the play stage, see dp_play.h. Worker lcores only; no
 * allocation but the pool's mbufs, no syscall, no lock, no log.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_udp.h>

#include "rtpb_play.h"
#include "dp_latch.h"
#include "dp_nexthop.h"
#include "dp_play.h"
#include "dp_rewrite.h"

/* Build in m the frame of RTP packet e from relay socket from to peer
 * to (same family), via next-hop MAC mac. Always fits: at most
 * 14 + 40 + 8 + RTPB_PLAY_RTP_MAX bytes. */
static void
play_frame(struct rte_mbuf *m, const struct rtpb_play_pkt *e,
	   const struct rtpb_addr *from, const struct rtpb_addr *to,
	   const struct rte_ether_addr *mac)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	uint16_t l3 = to->family == RTPB_AF_INET6 ? sizeof(struct rte_ipv6_hdr) :
						    sizeof(struct rte_ipv4_hdr);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(p + sizeof(*eth) + l3);
	uint16_t udp_len = (uint16_t)(sizeof(*udp) + e->len);

	rte_ether_addr_copy(mac, &eth->dst_addr);
	rte_ether_addr_copy(&dp_ctx.mac, &eth->src_addr);
	udp->src_port = from->port;
	udp->dst_port = to->port;
	udp->dgram_len = rte_cpu_to_be_16(udp_len);
	udp->dgram_cksum = 0;
	memcpy(udp + 1, e->rtp, e->len);
	if (to->family == RTPB_AF_INET6) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
		ip6->vtc_flow = RTE_BE32(6u << 28);
		ip6->payload_len = rte_cpu_to_be_16(udp_len);
		ip6->proto = IPPROTO_UDP;
		ip6->hop_limits = DP_REWRITE_TTL;
		memcpy(ip6->src_addr, from->ip, 16);
		memcpy(ip6->dst_addr, to->ip, 16);
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip6, udp);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		dp_rewrite_ip4_build(ip, 0, (uint16_t)(l3 + udp_len), from, to);
		/* never 0 (RFC 768: "no checksum"): DPDK sends 0xffff */
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
	m->data_len = (uint16_t)(sizeof(*eth) + l3 + udp_len);
	m->pkt_len = m->data_len;
}

/* The stream element e goes out of, and where to: RTPB_DROP_NONE, or
 * why not (counted by the caller). */
static enum rtpb_drop
play_route(struct dp_worker *w, const struct rtpb_play_pkt *e,
	   struct dp_stream **sp, const struct rtpb_addr **to,
	   struct rte_ether_addr *mac)
{
	struct dp_stream *s;

	if (unlikely(e->stream_id >= dp_ctx.max_streams ||
		     rtpb_stream_owner(e->stream_id, dp_ctx.n_workers) != w->idx ||
		     e->len < 12 || e->len > RTPB_PLAY_RTP_MAX))
		return RTPB_DROP_NO_STREAM;
	s = &dp_ctx.streams[e->stream_id];
	if (unlikely(s->state == DP_LATCH_FREE || s->cookie != e->cookie))
		return RTPB_DROP_NO_STREAM;
	*sp = s;
	*to = dp_latch_dest(s);
	if (unlikely(*to == NULL))
		return RTPB_DROP_NO_PEER;
	return dp_nexthop_mac(s, *to, mac);
}

unsigned int
dp_play_drain(struct dp_worker *w)
{
	struct rtpb_play_pkt e[DP_BURST];
	struct rte_mbuf *m[DP_BURST], *tx[DP_BURST];
	unsigned int want, n, i, ntx = 0, sent;

	want = rte_ring_count(w->play);
	if (want == 0)
		return 0;
	if (want > DP_BURST)
		want = DP_BURST;
	/* mbufs first: without them the packets wait in the ring */
	if (unlikely(rte_pktmbuf_alloc_bulk(dp_ctx.pool, m, want) != 0))
		return 0;
	n = rte_ring_sc_dequeue_burst_elem(w->play, e, sizeof(e[0]), want, NULL);
	for (i = 0; i < n; i++) {
		const struct rtpb_addr *to = NULL;
		struct dp_stream *s = NULL;
		struct rte_ether_addr mac;
		struct rtpb_addr from;
		enum rtpb_drop r = play_route(w, &e[i], &s, &to, &mac);

		if (unlikely(r != RTPB_DROP_NONE)) {
			if (r == RTPB_DROP_NO_STREAM)
				w->stats->play_stale++;
			else
				w->stats->play_nopeer++;
			rte_pktmbuf_free(m[i]);
			continue;
		}
		from = dp_ctx.addrs[s->addr_idx].sock;
		from.port = s->local_port;
		play_frame(m[i], &e[i], &from, to, &mac);
		tx[ntx++] = m[i];
	}
	/* the ring gave fewer than counted: never (single consumer) */
	for (; i < want; i++)
		rte_pktmbuf_free(m[i]);
	if (ntx == 0)
		return n;
	sent = rte_eth_tx_burst(dp_ctx.tx_port_id, w->queue, tx, (uint16_t)ntx);
	w->stats->play_tx += sent;
	w->stats->tx_pkts += sent;
	for (i = 0; i < sent; i++)
		w->stats->tx_bytes += rte_pktmbuf_pkt_len(tx[i]);
	for (i = sent; i < ntx; i++)
		dp_drop(w->stats, tx[i], RTPB_DROP_TX_FULL);
	return n;
}
