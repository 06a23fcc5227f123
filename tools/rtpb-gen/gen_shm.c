/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_shm.c: the generator in control's seat, for benchmarks only (see
 * gen_shm.h). Setup path: blocking, before any traffic.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "rtpb_msg.h"
#include "rtpb_shm.h"
#include "gen_shm.h"

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
sum_ctl(const struct rtpb_shm_hdr *h, uint64_t *errors)
{
	uint64_t n = 0;
	uint32_t w;

	*errors = 0;
	for (w = 0; w < h->n_workers; w++) {
		n += rtpb_shm_lcore_stats(h, w)->ctl_msgs;
		*errors += rtpb_shm_lcore_stats(h, w)->ctl_errors;
	}
	return n;
}

/* Enqueue one message on worker w's ring, waiting while it is full. */
static int
push(const struct rtpb_shm_hdr *h, uint32_t w, struct rtpb_msg *m,
     struct gen_shm_stats *st)
{
	struct rte_ring *r = rtpb_shm_at(h, h->off_c2d[w]);
	uint64_t give_up = now_ns() + 10000000000ull;

	while (rte_ring_sp_enqueue_elem(r, m, sizeof(*m)) != 0) {
		st->ring_full++;
		if (now_ns() > give_up)
			return -ETIMEDOUT;
		usleep(20);
	}
	return 0;
}

/* HELLO on every worker's ring; wait for each EV_HELLO with status 0. */
static int
hello(const struct rtpb_shm_hdr *h, struct gen_shm_stats *st, char *err,
      size_t errsz)
{
	struct rte_ring *d2c = rtpb_shm_at(h, h->off_d2c);
	uint64_t deadline = now_ns() + 5000000000ull;
	uint32_t ok = 0, w;
	struct rtpb_msg m, ev;
	int t, r;

	memset(&m, 0, sizeof(m));
	m.hello.hdr.type = RTPB_MSG_HELLO;
	m.hello.hdr.len = sizeof(m.hello);
	m.hello.version = RTPB_MSG_VERSION;
	m.hello.msg_size = RTPB_MSG_SIZE;
	for (t = 0; t < RTPB_MSG__COUNT; t++)
		m.hello.type_len[t] = rtpb_msg_type_len((enum rtpb_msg_type)t);
	m.hello.pid = getpid();
	for (w = 0; w < h->n_workers; w++) {
		r = push(h, w, &m, st);
		if (r != 0) {
			snprintf(err, errsz, "HELLO to worker %u: ring full",
				 w);
			return r;
		}
	}
	while (ok != (1u << h->n_workers) - 1u) {
		if (rte_ring_sc_dequeue_elem(d2c, &ev, sizeof(ev)) != 0) {
			if (now_ns() > deadline) {
				snprintf(err, errsz,
					 "no HELLO answer from every worker "
					 "in 5 s (answered: mask %#x)",
					 ok);
				return -ETIMEDOUT;
			}
			usleep(1000);
			continue;
		}
		if (ev.hdr.type != RTPB_MSG_EV_HELLO)
			continue; /* latch events: nobody else reads them here */
		if (ev.ev_hello.status != 0) {
			snprintf(
				err, errsz,
				"worker %u refused HELLO: %s (its version %u, ours %u)",
				ev.ev_hello.worker,
				strerror(-ev.ev_hello.status),
				ev.ev_hello.version, RTPB_MSG_VERSION);
			return -EPROTO;
		}
		if (ev.ev_hello.worker < 32)
			ok |= 1u << ev.ev_hello.worker;
	}
	return 0;
}

static int
addr_index(const struct rtpb_shm_hdr *h, uint32_t ip)
{
	struct rtpb_addr a;
	uint32_t i;

	rtpb_addr_set_v4(&a, ip, 0);
	for (i = 0; i < h->n_addrs && i < RTPB_MAX_ADDRS; i++)
		if (rtpb_addr_host_eq(&h->addrs[i], &a))
			return (int)i;
	return -1;
}

/* STREAM_ADD for the socket leg l sends to: the leg's phone is its
 * peer, the other leg's socket its out stream (DESIGN.md §3). */
static void
stream_msg(struct rtpb_msg *m, const struct gen_leg *l, int rtcp, uint32_t id,
	   uint32_t out_id, uint32_t pair_id, uint32_t learn_ms, uint32_t seq)
{
	uint16_t rp = (uint16_t)(ntohs(l->relay_port) + rtcp);
	uint16_t pp = (uint16_t)(ntohs(l->phone_port) + rtcp);

	memset(m, 0, sizeof(*m));
	m->stream.hdr.type = RTPB_MSG_STREAM_ADD;
	m->stream.hdr.len = sizeof(m->stream);
	m->stream.hdr.seq = seq;
	m->stream.stream_id = id;
	m->stream.out_stream_id = out_id;
	m->stream.flags = rtcp ? RTPB_STREAM_F_RTCP : 0;
	m->stream.learn_ms = learn_ms;
	m->stream.pair_stream_id = pair_id;
	rtpb_addr_set_v4(&m->stream.local, l->relay_ip, htons(rp));
	rtpb_addr_set_v4(&m->stream.signalled, l->phone_ip, htons(pp));
	m->stream.cookie = id;
}

int
gen_shm_install(const char *file_prefix, const struct gen_leg *legs,
		uint32_t n_calls, uint32_t learn_ms, struct gen_shm_stats *st,
		char *err, size_t errsz)
{
	char link[PATH_MAX];
	struct rtpb_shm_hdr *h;
	struct stat sb;
	uint64_t t0 = now_ns(), base, errs0, errs, n_msgs = 0, deadline;
	uint32_t *next_k = NULL, nw, c, seq = 0;
	int fd, r = 0;

	memset(st, 0, sizeof(*st));
	snprintf(link, sizeof(link), RTPB_SHM_LINK_FMT, file_prefix);
	fd = open(link, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz,
			 "%s: %s (is the dataplane running with "
			 "--file-prefix %s?)",
			 link, strerror(errno), file_prefix);
		return -errno;
	}
	if (fstat(fd, &sb) != 0 || (size_t)sb.st_size < sizeof(*h)) {
		close(fd);
		snprintf(err, errsz, "%s: too small", link);
		return -EAGAIN;
	}
	h = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	close(fd);
	if (h == MAP_FAILED) {
		snprintf(err, errsz, "mmap %s: %s", link, strerror(errno));
		return -errno;
	}
	if (h->magic != RTPB_SHM_MAGIC || h->version != RTPB_MSG_VERSION ||
	    h->msg_size != RTPB_MSG_SIZE || h->hdr_size != sizeof(*h) ||
	    h->n_workers == 0 || h->n_workers > RTPB_MAX_WORKERS ||
	    atomic_load(&h->state) != RTPB_SHM_READY) {
		snprintf(err, errsz,
			 "%s: not a ready dataplane of contract version %u "
			 "(magic %#x version %u state %u)",
			 link, RTPB_MSG_VERSION, h->magic, h->version,
			 (unsigned)atomic_load(&h->state));
		r = -EPROTO;
		goto out;
	}
	nw = h->n_workers;
	if ((uint64_t)n_calls * 4 > h->max_streams) {
		snprintf(err, errsz,
			 "%u calls need %lu streams, the dataplane holds "
			 "%u (--max-streams)",
			 n_calls, (unsigned long)n_calls * 4, h->max_streams);
		r = -ENOSPC;
		goto out;
	}
	next_k = calloc(nw, sizeof(uint32_t));
	if (next_k == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* counted from before HELLO: a worker counts it after answering */
	base = sum_ctl(h, &errs0);
	r = hello(h, st, err, errsz);
	if (r != 0)
		goto out;
	n_msgs = nw;
	for (c = 0; c < n_calls; c++) {
		const struct gen_leg *a = &legs[2 * c], *b = &legs[2 * c + 1];
		uint32_t w = gen_queue_of_call(c, nw), id[4], i;
		struct rtpb_msg m;
		int ia, ib;

		if (!a->ok)
			continue;
		ia = addr_index(h, a->relay_ip);
		ib = addr_index(h, b->relay_ip);
		if (ia < 0 || ib < 0) {
			struct in_addr x = { .s_addr = ia < 0 ? a->relay_ip :
								b->relay_ip };

			snprintf(err, errsz,
				 "call %u: %s is not a relay address of the "
				 "dataplane (--addr)",
				 c, inet_ntoa(x));
			r = -ENOENT;
			goto out;
		}
		/* ids owned by worker w, as control's ctl_dp_stream_id_alloc():
		 * RTP A, RTCP A, RTP B, RTCP B */
		for (i = 0; i < 4; i++)
			id[i] = w + nw * next_k[w]++;
		/* the port owner table first, as control's ctl_dp_stream_push() */
		*rtpb_shm_port_owner(h, (uint32_t)ia, ntohs(a->relay_port)) =
			(uint8_t)w;
		*rtpb_shm_port_owner(h, (uint32_t)ia,
				     (uint16_t)(ntohs(a->relay_port) + 1)) =
			(uint8_t)w;
		*rtpb_shm_port_owner(h, (uint32_t)ib, ntohs(b->relay_port)) =
			(uint8_t)w;
		*rtpb_shm_port_owner(h, (uint32_t)ib,
				     (uint16_t)(ntohs(b->relay_port) + 1)) =
			(uint8_t)w;
		stream_msg(&m, a, 0, id[0], id[2], id[1], learn_ms, seq++);
		r = push(h, w, &m, st);
		stream_msg(&m, a, 1, id[1], id[3], id[0], learn_ms,
			   seq++);
		r = r ? r : push(h, w, &m, st);
		stream_msg(&m, b, 0, id[2], id[0], id[3], learn_ms, seq++);
		r = r ? r : push(h, w, &m, st);
		stream_msg(&m, b, 1, id[3], id[1], id[2], learn_ms,
			   seq++);
		r = r ? r : push(h, w, &m, st);
		if (r != 0) {
			snprintf(err, errsz,
				 "call %u: a c2d ring stayed full for 10 s "
				 "(workers not running?)",
				 c);
			goto out;
		}
		n_msgs += 4;
	}
	/* wait until the workers applied them all */
	deadline = now_ns() + 30000000000ull;
	while (sum_ctl(h, &errs) - base < n_msgs) {
		if (now_ns() > deadline) {
			snprintf(
				err, errsz,
				"only %lu of %lu stream messages applied in 30 s",
				(unsigned long)(sum_ctl(h, &errs) - base),
				(unsigned long)n_msgs);
			r = -ETIMEDOUT;
			goto out;
		}
		usleep(1000);
	}
	if (errs != errs0) {
		snprintf(err, errsz,
			 "the dataplane refused %lu stream messages "
			 "(flow table full? see its ctl_errors)",
			 (unsigned long)(errs - errs0));
		r = -EINVAL;
		goto out;
	}
	st->streams = n_msgs - nw;
	st->seconds = (double)(now_ns() - t0) / 1e9;
out:
	free(next_k);
	munmap(h, (size_t)sb.st_size);
	return r;
}
