/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_loop.c: the traffic loop (see gen_loop.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "gen_arp.h"
#include "gen_loop.h"
#include "gen_stats.h"

#define GEN_BURST 32

volatile bool gen_quit;

/* Per-frame bookkeeping of the TX array. */
struct tx_slot {
	uint8_t dir; /* enum gen_dir_id */
	uint8_t rtcp; /* an RTCP frame (no stamp) */
	uint8_t retry; /* refused once: restamp before the next try */
};

/* One received RTP frame into its direction's counters. */
static inline void
rx_rtp(struct gen_run *r, const struct gen_rx_info *ri, uint64_t now)
{
	struct gen_leg *l;
	struct gen_dir *d;
	uint32_t recv;
	int16_t df;
	uint64_t ns;

	if (unlikely(ri->leg >= r->n_legs)) {
		r->rx_bad_leg++;
		return;
	}
	d = &r->dir[ri->leg & 1];
	l = &r->legs[ri->leg];
	d->rx++;
	ns = now > ri->tsc ? gen_cycles_to_ns(r, now - ri->tsc) : 0;
	gen_hist_add(&d->lat, ns);
	gen_hist_add(&d->lat_int, ns);
	recv = gen_leg_of(r->cfg->phone_net, r->n_legs,
			  rte_be_to_cpu_32(ri->dst_ip), ri->dst_port);
	if (unlikely(recv != (ri->leg ^ 1)))
		d->misdelivered++;
	/* RFC 3550 A.1: behind the highest sequence number seen is late */
	if (unlikely(!l->rx_seen)) {
		l->rx_seen = 1;
		l->rx_max = ri->seq;
		return;
	}
	df = (int16_t)(ri->seq - l->rx_max);
	if (likely(df > 0))
		l->rx_max = ri->seq;
	else if (df == 0)
		d->duplicates++;
	else
		d->reordered++;
}

/* Receive one burst from queue q. @return frames received. */
static uint16_t
rx_queue(struct gen_run *r, uint16_t q)
{
	struct rte_mbuf *m[GEN_BURST];
	struct gen_rx_info ri;
	uint16_t n, i;
	uint64_t now;

	n = rte_eth_rx_burst(r->port, q, m, GEN_BURST);
	if (n == 0)
		return 0;
	now = rte_rdtsc();
	for (i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		switch (gen_pkt_parse(rte_pktmbuf_mtod(m[i], const uint8_t *),
				      rte_pktmbuf_data_len(m[i]), &ri)) {
		case GEN_RX_RTP:
			rx_rtp(r, &ri, now);
			break;
		case GEN_RX_RTCP: {
			uint32_t recv = gen_leg_of(r->cfg->phone_net, r->n_legs,
						   rte_be_to_cpu_32(ri.dst_ip),
						   (uint16_t)(ri.dst_port - 1));

			if (recv != UINT32_MAX)
				r->dir[(recv ^ 1) & 1].rtcp_rx++;
			else
				r->rx_other++;
			break;
		}
		case GEN_RX_ARP:
			gen_arp_input(r, m[i], ri.l3_off);
			continue; /* consumed */
		default:
			r->rx_other++;
		}
		rte_pktmbuf_free(m[i]);
	}
	return n;
}

/* One burst from every RX queue. */
static void
rx_burst(struct gen_run *r)
{
	uint16_t q;

	for (q = 0; q < r->n_queues; q++)
		rx_queue(r, q);
}

int
gen_loop_resolve(struct gen_run *r, double timeout_s)
{
	uint64_t end = rte_rdtsc() + (uint64_t)(timeout_s * (double)r->hz);
	uint64_t next = 0, now;

	while (!r->relay_mac_known && !gen_quit) {
		now = rte_rdtsc();
		if (now >= end)
			return -ETIMEDOUT;
		if (now >= next) {
			gen_arp_request(r, r->relay_ip);
			next = now + r->hz / 5;
		}
		rx_burst(r);
	}
	return 0;
}

/* An RTCP frame owed by a leg whose RTP filled the last slot. */
struct rtcp_owed {
	uint32_t leg;
	uint32_t n; /* its RTP frames so far */
	bool owed;
};

/* One RTCP frame of leg li after n RTP frames into tx[*n_tx]. */
static void
build_rtcp(struct gen_run *r, struct rte_mbuf **tx, struct tx_slot *slot,
	   uint16_t *n_tx, uint32_t li, uint32_t n, uint64_t now)
{
	struct rte_mbuf *f = rte_pktmbuf_alloc(r->pool);

	if (f == NULL) {
		r->alloc_fail++;
		return;
	}
	f->data_len = f->pkt_len = gen_pkt_rtcp(rte_pktmbuf_mtod(f, uint8_t *),
						&r->pc, &r->legs[li], n,
						gen_cycles_to_ns(r, now));
	tx[*n_tx] = f;
	slot[*n_tx] = (struct tx_slot){ .dir = (uint8_t)(li & 1), .rtcp = 1 };
	(*n_tx)++;
}

/* One TX queue: its legs (RSS-like: a leg always on the same queue), the
 * frames built and not yet taken by the port, and its pacing. */
struct gen_txq {
	uint16_t qid;
	uint32_t *order; /* this queue's legs, in sending order */
	uint32_t n_order;
	struct rte_mbuf *tx[GEN_BURST];
	struct tx_slot slot[GEN_BURST];
	uint16_t ntx;
	uint64_t issued; /* RTP frames built */
	uint64_t next_pos; /* position in order */
	struct rtcp_owed ow;
};

/* Build up to want RTP frames (and the RTCP they bring) of queue q's
 * legs into q->tx. @return RTP frames built. */
static uint32_t
build(struct gen_run *r, struct gen_txq *q, uint32_t want, uint64_t now)
{
	struct rte_mbuf *m[GEN_BURST];
	uint32_t i;

	if (q->ow.owed && q->ntx < GEN_BURST) {
		build_rtcp(r, q->tx, q->slot, &q->ntx, q->ow.leg, q->ow.n, now);
		q->ow.owed = false;
	}
	if (want > (uint32_t)(GEN_BURST - q->ntx))
		want = GEN_BURST - q->ntx;
	if (want == 0)
		return 0;
	if (rte_pktmbuf_alloc_bulk(r->pool, m, want) != 0) {
		r->alloc_fail++;
		return 0;
	}
	for (i = 0; i < want; i++) {
		uint32_t k = (uint32_t)(q->next_pos % q->n_order);
		uint32_t li = q->order[k];
		struct gen_leg *l = &r->legs[li];
		uint32_t seq_n = l->sent++;
		struct rte_mbuf *f = m[i];

		f->data_len = f->pkt_len =
			gen_pkt_rtp(rte_pktmbuf_mtod(f, uint8_t *), &r->pc, l,
				    li, seq_n, now);
		q->tx[q->ntx] = f;
		q->slot[q->ntx] = (struct tx_slot){ .dir = (uint8_t)(li & 1) };
		q->ntx++;
		q->next_pos++;
		/* RTCP every rtcp_every frames of the leg, phases spread by
		 * the leg's position (RFC 3550 §6.2 wants them spread) */
		if (r->rtcp_every != 0 && seq_n != 0 &&
		    (seq_n + k) % r->rtcp_every == 0) {
			if (q->ntx + (want - i - 1) < GEN_BURST)
				build_rtcp(r, q->tx, q->slot, &q->ntx, li,
					   seq_n, now);
			else if (!q->ow.owed)
				q->ow = (struct rtcp_owed){ .leg = li,
							    .n = seq_n,
							    .owed = true };
			else
				r->rtcp_skipped++;
		}
	}
	return want;
}

/* Send what q holds; keep what the port refused for the next turn.
 * @return frames the port took. */
static uint16_t
send_q(struct gen_run *r, struct gen_txq *q, uint64_t now)
{
	uint16_t sent, i;

	for (i = 0; i < q->ntx; i++)
		if (q->slot[i].retry && !q->slot[i].rtcp)
			gen_pkt_restamp(rte_pktmbuf_mtod(q->tx[i], uint8_t *),
					now, r->cfg->udp_csum);
	sent = rte_eth_tx_burst(r->port, q->qid, q->tx, q->ntx);
	for (i = 0; i < sent; i++) {
		if (q->slot[i].rtcp)
			r->dir[q->slot[i].dir].rtcp_sent++;
		else
			r->dir[q->slot[i].dir].sent++;
	}
	if (sent < q->ntx) {
		r->tx_full += q->ntx - sent;
		memmove(q->tx, q->tx + sent,
			sizeof(q->tx[0]) * (q->ntx - sent));
		memmove(q->slot, q->slot + sent,
			sizeof(q->slot[0]) * (q->ntx - sent));
		for (i = 0; i < q->ntx - sent; i++)
			q->slot[i].retry = 1;
	}
	q->ntx = (uint16_t)(q->ntx - sent);
	return sent;
}

/* The queue of leg li: a fixed hash, as RSS keeps a flow on one queue. */
static uint16_t
leg_queue(uint32_t li, uint16_t nq)
{
	return (uint16_t)(((li * 2654435761u) >> 16) % nq);
}

int
gen_loop_run(struct gen_run *r)
{
	const struct gen_cfg *c = r->cfg;
	struct gen_txq txq[GEN_MAX_QUEUES];
	uint16_t nq = r->n_queues, qi;
	uint64_t t0, now, end, drain_end = 0, next_report, last_report;
	uint64_t sent_int = 0, behind_cap;
	double pps = gen_cfg_pps(c), cpf = 0;
	bool sending = true;
	uint32_t k;
	int ret = -ENOMEM;

	memset(txq, 0, sizeof(txq));
	for (qi = 0; qi < nq; qi++) {
		txq[qi].qid = qi;
		txq[qi].order = malloc(sizeof(uint32_t) * (r->n_order + 1));
		if (txq[qi].order == NULL)
			goto out;
	}
	for (k = 0; k < r->n_order; k++) {
		struct gen_txq *q = &txq[leg_queue(r->order[k], nq)];

		q->order[q->n_order++] = r->order[k];
	}
	if (gen_stats_samples_init(r, (uint32_t)c->duration_s + 16) != 0)
		goto out;
	ret = 0;
	if (r->n_order == 0)
		sending = false;
	/* cycles per frame of the whole port; a queue's share is its legs' */
	if (pps > 0)
		cpf = (double)r->hz / pps;
	/* a loop more than 1 s behind (vCPU taken away) skips ahead */
	behind_cap = pps > 0 ? (uint64_t)pps : UINT64_MAX;
	t0 = rte_rdtsc();
	end = t0 + (uint64_t)(c->duration_s * (double)r->hz);
	next_report = t0 + r->hz;
	last_report = t0;
	if (!sending)
		drain_end = t0 + (uint64_t)c->drain_ms * r->hz / 1000;

	for (;;) {
		rx_burst(r);
		now = rte_rdtsc();
		for (qi = 0; sending && qi < nq; qi++) {
			struct gen_txq *q = &txq[qi];

			if (q->n_order == 0)
				continue;
			if (q->ntx == 0) {
				uint64_t allowed =
					pps > 0 ?
						(uint64_t)((double)(now - t0) /
							   cpf * q->n_order /
							   r->n_order) :
						q->issued + GEN_BURST;
				uint64_t cap = behind_cap == UINT64_MAX ?
						       UINT64_MAX :
						       behind_cap * q->n_order /
							       r->n_order;

				if (pps > 0 && allowed > q->issued + cap) {
					r->tx_behind +=
						allowed - q->issued - cap;
					q->issued = allowed - cap;
				}
				if (allowed > q->issued)
					q->issued += build(
						r, q,
						(uint32_t)RTE_MIN(
							allowed - q->issued,
							(uint64_t)GEN_BURST),
						now);
			}
			if (q->ntx > 0)
				sent_int += send_q(r, q, now);
		}
		if (sending && (now >= end || gen_quit)) {
			sending = false;
			r->seconds = (double)(now - t0) / (double)r->hz;
			for (qi = 0; qi < nq; qi++) {
				r->tx_unsent += txq[qi].ntx;
				if (txq[qi].ntx > 0)
					rte_pktmbuf_free_bulk(txq[qi].tx,
							      txq[qi].ntx);
				txq[qi].ntx = 0;
			}
			drain_end = now + (uint64_t)c->drain_ms * r->hz / 1000;
		}
		if (now >= next_report) {
			gen_stats_progress(
				r, (double)(now - t0) / (double)r->hz,
				(double)(now - last_report) / (double)r->hz,
				sent_int, sending);
			sent_int = 0;
			last_report = now;
			next_report = now + r->hz;
		}
		if (!sending && now >= drain_end)
			break;
	}
out:
	for (qi = 0; qi < nq; qi++)
		free(txq[qi].order);
	return ret;
}
