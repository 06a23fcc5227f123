/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_shm.c: the generator in control's seat, for benchmarks only (see
 * gen_shm.h). Setup path: blocking, before any traffic. The ring work
 * (mapping, HELLO, stream ids, pushing) is control's own
 * producer library, lib/rtpb_prod.h; what is here is the generator's:
 * which calls, which worker (gen_queue_of_call()), waiting.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "rtpb_msg.h"
#include "rtpb_prod.h"
#include "rtpb_shm.h"
#include "gen_clock.h"
#include "gen_shm.h"

/* c2d messages the workers refused (bad id, address, flow table full). */
static uint64_t
sum_errors(const struct rtpb_shm_hdr *h)
{
	uint64_t n = 0;

	for (uint32_t w = 0; w < h->n_workers; w++)
		n += rtpb_shm_lcore_stats(h, w)->ctl_errors;
	return n;
}

/* HELLO on every worker's ring; wait for each EV_HELLO with status 0. */
static int
hello(struct rtpb_prod *p, char *err, size_t errsz)
{
	uint64_t deadline = gen_now_ns() + 5000000000ull;
	struct rtpb_msg ev[32];
	unsigned int n, i;

	if (rtpb_prod_hello(p, getpid()) != 0) {
		snprintf(err, errsz, "HELLO: a worker's ring is full");
		return -ENOBUFS;
	}
	while (!rtpb_prod_hello_done(p)) {
		n = rtpb_prod_events(p, ev, 32);
		for (i = 0; i < n; i++) {
			/* latch events: nobody else reads them here */
			if (ev[i].hdr.type == RTPB_MSG_EV_HELLO &&
			    ev[i].ev_hello.status != 0) {
				snprintf(err, errsz,
					 "worker %u refused HELLO: %s (its version %u, ours %u)",
					 ev[i].ev_hello.worker,
					 strerror(-ev[i].ev_hello.status),
					 ev[i].ev_hello.version, RTPB_MSG_VERSION);
				return -EPROTO;
			}
		}
		if (n == 0) {
			if (gen_now_ns() > deadline) {
				snprintf(err, errsz,
					 "no HELLO answer from every worker in 5 s "
					 "(answered: mask %#x)", p->hello_ok);
				return -ETIMEDOUT;
			}
			usleep(1000);
		}
	}
	return 0;
}

/* Push one STREAM_ADD, waiting while the owner's ring is full. */
static int
push(struct rtpb_prod *p, const struct rtpb_msg_stream *m)
{
	uint64_t give_up = gen_now_ns() + 10000000000ull;
	int r;

	while ((r = rtpb_prod_stream_push(p, m)) == -ENOBUFS) {
		if (gen_now_ns() > give_up)
			return -ETIMEDOUT;
		usleep(20);
	}
	return r;
}

/* STREAM_ADD for the socket leg l sends to: the leg's phone is its
 * peer, the other leg's socket its out stream (DESIGN.md §3). */
static void
stream_msg(struct rtpb_msg_stream *m, const struct gen_leg *l, int rtcp,
	   uint32_t id, uint32_t out_id, uint32_t pair_id, uint32_t learn_ms)
{
	uint16_t rp = (uint16_t)(ntohs(l->relay_port) + rtcp);
	uint16_t pp = (uint16_t)(ntohs(l->phone_port) + rtcp);

	memset(m, 0, sizeof(*m));
	m->hdr.type = RTPB_MSG_STREAM_ADD;
	m->stream_id = id;
	m->out_stream_id = out_id;
	m->flags = rtcp ? RTPB_STREAM_F_RTCP : 0;
	m->learn_ms = learn_ms;
	m->pair_stream_id = pair_id;
	rtpb_addr_set_v4(&m->local, l->relay_ip, htons(rp));
	rtpb_addr_set_v4(&m->signalled, l->phone_ip, htons(pp));
	m->cookie = id;
}

int
gen_shm_install(const char *file_prefix, const struct gen_leg *legs,
		uint32_t n_calls, uint32_t learn_ms, struct gen_shm_stats *st,
		char *err, size_t errsz)
{
	static struct rtpb_prod prod; /* PATH_MAX and more: not on the stack */
	struct rtpb_prod *p = &prod;
	uint64_t t0 = gen_now_ns(), errs0, deadline, ring_full0;
	uint32_t nw, c;
	char why[512];
	int r;

	memset(st, 0, sizeof(*st));
	r = rtpb_prod_map(p, file_prefix, why, sizeof(why));
	if (r != 0) {
		snprintf(err, errsz, "%s: %s (is the dataplane running with "
			 "--file-prefix %s?)", why, strerror(-r), file_prefix);
		return r;
	}
	nw = p->h->n_workers;
	if ((uint64_t)n_calls * 4 > p->h->max_streams) {
		snprintf(err, errsz,
			 "%u calls need %lu streams, the dataplane holds "
			 "%u (--max-streams)",
			 n_calls, (unsigned long)n_calls * 4, p->h->max_streams);
		r = -ENOSPC;
		goto out;
	}
	r = rtpb_prod_ids_init(p, NULL, NULL);
	if (r != 0) {
		snprintf(err, errsz, "stream ids: %s", strerror(-r));
		goto out;
	}
	errs0 = sum_errors(p->h);
	r = hello(p, err, errsz);
	if (r != 0)
		goto out;
	ring_full0 = p->ring_full;
	for (c = 0; c < n_calls; c++) {
		const struct gen_leg *a = &legs[2 * c], *b = &legs[2 * c + 1];
		uint32_t w = gen_queue_of_call(c, nw), id[4], i;
		struct rtpb_msg_stream m;

		if (!a->ok)
			continue;
		/* ids owned by worker w, as control allocates them:
		 * RTP A, RTCP A, RTP B, RTCP B */
		for (i = 0; i < 4 && r == 0; i++)
			r = rtpb_prod_id_alloc(p, w, &id[i]);
		if (r != 0) {
			snprintf(err, errsz, "call %u: worker %u has no stream id left", c, w);
			goto out;
		}
		stream_msg(&m, a, 0, id[0], id[2], id[1], learn_ms);
		r = push(p, &m);
		stream_msg(&m, a, 1, id[1], id[3], id[0], learn_ms);
		r = r ? r : push(p, &m);
		stream_msg(&m, b, 0, id[2], id[0], id[3], learn_ms);
		r = r ? r : push(p, &m);
		stream_msg(&m, b, 1, id[3], id[1], id[2], learn_ms);
		r = r ? r : push(p, &m);
		if (r == -ENOENT) {
			struct in_addr x = { .s_addr = a->relay_ip };
			struct rtpb_addr ra;

			rtpb_addr_set_v4(&ra, a->relay_ip, 0);
			if (rtpb_prod_addr_index(p, &ra) >= 0)
				x.s_addr = b->relay_ip; /* a's is, so b's is not */
			snprintf(err, errsz,
				 "call %u: %s is not a relay address of the "
				 "dataplane (--addr)", c, inet_ntoa(x));
			goto out;
		}
		if (r != 0) {
			snprintf(err, errsz,
				 "call %u: a c2d ring stayed full for 10 s "
				 "(workers not running?)", c);
			goto out;
		}
		st->streams += 4;
	}
	st->ring_full = p->ring_full - ring_full0;
	/* wait until the workers applied them all */
	deadline = gen_now_ns() + 30000000000ull;
	while (rtpb_prod_pending(p) != 0) {
		if (gen_now_ns() > deadline) {
			snprintf(err, errsz,
				 "the workers did not apply every stream message in "
				 "30 s (pending: mask %#x)", rtpb_prod_pending(p));
			r = -ETIMEDOUT;
			goto out;
		}
		usleep(1000);
	}
	if (sum_errors(p->h) != errs0) {
		snprintf(err, errsz,
			 "the dataplane refused %lu stream messages "
			 "(flow table full? see its ctl_errors)",
			 (unsigned long)(sum_errors(p->h) - errs0));
		r = -EINVAL;
		goto out;
	}
	st->seconds = (double)(gen_now_ns() - t0) / 1e9;
	/* its state is in: the workers may start RX (rtpb_shm_hdr.replayed) */
	atomic_store_explicit(&p->h->replayed, 1, memory_order_release);
out:
	rtpb_prod_unmap(p);
	return r;
}
