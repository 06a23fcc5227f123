/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb_prod.c: the producer end of the control ring (see rtpb_prod.h).
 *
 * The producer is not a DPDK process: it maps the dataplane's shared
 * memory file and uses the rte_ring functions (inline, position-
 * independent) on the rings inside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "rtpb_prod.h"

/* Fill why and return -err. */
static int
prod_fail(char *why, size_t whysz, int err, const char *fmt, const char *detail)
{
	if (why != NULL)
		snprintf(why, whysz, fmt, detail);
	return -err;
}

int
rtpb_prod_map(struct rtpb_prod *p, const char *file_prefix, char *why,
	      size_t whysz)
{
	struct rtpb_shm_hdr *h;
	struct stat st;
	int fd, err;

	snprintf(p->link, sizeof(p->link), RTPB_SHM_LINK_FMT, file_prefix);
	fd = open(p->link, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return prod_fail(why, whysz, errno, "%s: not running?", p->link);
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(*h)) {
		close(fd);
		return prod_fail(why, whysz, EAGAIN, "%s: still being created", p->link);
	}
	h = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = errno;
	close(fd);
	if (h == MAP_FAILED)
		return prod_fail(why, whysz, err, "mmap %s failed", p->link);
	if (h->magic != RTPB_SHM_MAGIC || h->version != RTPB_MSG_VERSION ||
	    h->msg_size != RTPB_MSG_SIZE || h->hdr_size != sizeof(*h) ||
	    h->size != (uint64_t)st.st_size || h->n_workers == 0 ||
	    h->n_workers > RTPB_MAX_WORKERS) {
		char v[128];

		snprintf(v, sizeof(v), "version %u msg %u, ours version %u msg %u",
			 h->version, h->msg_size, RTPB_MSG_VERSION, RTPB_MSG_SIZE);
		munmap(h, (size_t)st.st_size);
		return prod_fail(why, whysz, EPROTO, "incompatible dataplane: %s", v);
	}
	/* kill(pid, 0): EPERM is a live dataplane of another user (root's,
	 * to a control dropped to -u USER:GROUP, --shm-group) */
	if (atomic_load(&h->state) != RTPB_SHM_READY ||
	    (kill(h->pid, 0) != 0 && errno == ESRCH)) {
		munmap(h, (size_t)st.st_size);
		return prod_fail(why, whysz, ESRCH, "%s: dataplane not ready or gone",
				 p->link);
	}
	p->h = h;
	p->size = (size_t)st.st_size;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	return 0;
}

void
rtpb_prod_unmap(struct rtpb_prod *p)
{
	uint32_t w;

	if (p->h != NULL)
		munmap(p->h, p->size);
	for (w = 0; w < RTPB_MAX_WORKERS; w++)
		free(p->free_ids[w]);
	memset((char *)p + sizeof(p->link), 0, sizeof(*p) - sizeof(p->link));
}

int
rtpb_prod_ids_init(struct rtpb_prod *p, rtpb_prod_found_fn *found, void *arg)
{
	uint32_t n = p->h->n_workers, max = p->h->max_streams, w, id;
	struct rtpb_stream_ident ident;
	int r;

	for (w = 0; w < n; w++) {
		free(p->free_ids[w]);
		p->free_ids[w] = malloc(sizeof(uint32_t) * (max / n + 1));
		if (p->free_ids[w] == NULL)
			return -ENOMEM;
		p->n_free[w] = 0;
	}
	/* Stacks popped from the end: low ids first. */
	for (id = max; id-- > 0;) {
		if (rtpb_shm_stream_ident(p->h, id, &ident)) {
			if (found != NULL && (r = found(id, &ident, arg)) != 0)
				return r;
			continue;
		}
		w = rtpb_stream_owner(id, n);
		p->free_ids[w][p->n_free[w]++] = id;
	}
	return 0;
}

int
rtpb_prod_id_alloc(struct rtpb_prod *p, uint32_t owner, uint32_t *id)
{
	if (owner >= p->h->n_workers || p->n_free[owner] == 0)
		return -ENOSPC;
	*id = p->free_ids[owner][--p->n_free[owner]];
	return 0;
}

void
rtpb_prod_id_free(struct rtpb_prod *p, uint32_t id)
{
	uint32_t w;

	if (id >= p->h->max_streams)
		return;
	w = rtpb_stream_owner(id, p->h->n_workers);
	if (p->n_free[w] < p->h->max_streams / p->h->n_workers + 1)
		p->free_ids[w][p->n_free[w]++] = id;
}

static void
prod_msg_hdr(struct rtpb_prod *p, struct rtpb_msg_hdr *hdr, enum rtpb_msg_type t)
{
	hdr->type = (uint16_t)t;
	hdr->len = rtpb_msg_type_len(t);
	hdr->seq = p->seq++;
}

/* Enqueue m on worker w's c2d ring. */
static int
prod_enqueue(struct rtpb_prod *p, uint32_t w, struct rtpb_msg *m)
{
	if (rte_ring_sp_enqueue_elem(rtpb_shm_at(p->h, p->h->off_c2d[w]), m,
				     sizeof(*m)) != 0) {
		p->ring_full++;
		return -ENOBUFS;
	}
	p->pushed[w]++;
	return 0;
}

int
rtpb_prod_hello(struct rtpb_prod *p, pid_t pid)
{
	struct rtpb_shm_hdr *h = p->h;
	struct rtpb_msg m;
	uint32_t w;
	int t;

	/* Drop stale events of an earlier producer. */
	while (rte_ring_sc_dequeue_elem(rtpb_shm_at(h, h->off_d2c), &m, sizeof(m)) == 0)
		;
	p->hello_ok = 0;
	for (w = 0; w < h->n_workers; w++) {
		/* done first, then what is still queued: never above the truth */
		p->pushed[w] = atomic_load_explicit(&h->c2d_done[w], memory_order_acquire);
		p->pushed[w] += rte_ring_count(rtpb_shm_at(h, h->off_c2d[w]));
		memset(&m, 0, sizeof(m));
		prod_msg_hdr(p, &m.hdr, RTPB_MSG_HELLO);
		m.hello.version = RTPB_MSG_VERSION;
		m.hello.msg_size = RTPB_MSG_SIZE;
		for (t = 0; t < RTPB_MSG__COUNT; t++)
			m.hello.type_len[t] = rtpb_msg_type_len((enum rtpb_msg_type)t);
		m.hello.pid = pid;
		if (prod_enqueue(p, w, &m) != 0)
			return -ENOBUFS;
	}
	return 0;
}

bool
rtpb_prod_hello_done(const struct rtpb_prod *p)
{
	uint32_t n = p->h->n_workers;

	return p->hello_ok == (n >= 32 ? ~0u : (1u << n) - 1);
}

unsigned int
rtpb_prod_events(struct rtpb_prod *p, struct rtpb_msg *ev, unsigned int max)
{
	unsigned int n, i;

	n = rte_ring_sc_dequeue_burst_elem(rtpb_shm_at(p->h, p->h->off_d2c), ev,
					   sizeof(ev[0]), max, NULL);
	for (i = 0; i < n; i++)
		if (ev[i].hdr.type == RTPB_MSG_EV_HELLO && ev[i].ev_hello.status == 0 &&
		    ev[i].ev_hello.worker < RTPB_MAX_WORKERS)
			p->hello_ok |= 1u << ev[i].ev_hello.worker;
	return n;
}

int
rtpb_prod_addr_index(const struct rtpb_prod *p, const struct rtpb_addr *a)
{
	uint32_t i;

	for (i = 0; i < p->h->n_addrs && i < RTPB_MAX_ADDRS; i++)
		if (rtpb_addr_host_eq(&p->h->addrs[i], a))
			return (int)i;
	return -ENOENT;
}

int
rtpb_prod_stream_push(struct rtpb_prod *p, const struct rtpb_msg_stream *s)
{
	struct rtpb_msg m;
	uint32_t w;
	int a;

	if (s->stream_id >= p->h->max_streams)
		return -EINVAL;
	a = rtpb_prod_addr_index(p, &s->local);
	if (a < 0)
		return a;
	w = rtpb_stream_owner(s->stream_id, p->h->n_workers);
	memset(&m, 0, sizeof(m));
	m.stream = *s;
	prod_msg_hdr(p, &m.hdr, (enum rtpb_msg_type)s->hdr.type);
	return prod_enqueue(p, w, &m);
}

int
rtpb_prod_stream_del(struct rtpb_prod *p, uint32_t id, const struct rtpb_addr *local)
{
	struct rtpb_msg m;

	if (id >= p->h->max_streams)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	prod_msg_hdr(p, &m.hdr, RTPB_MSG_STREAM_DEL);
	m.del.stream_id = id;
	m.del.local = *local;
	return prod_enqueue(p, rtpb_stream_owner(id, p->h->n_workers), &m);
}

int
rtpb_prod_fork_push(struct rtpb_prod *p, const struct rtpb_msg_stream_fork *f)
{
	struct rtpb_msg m;
	int a;

	if (f->stream_id >= p->h->max_streams)
		return -EINVAL;
	a = rtpb_prod_addr_index(p, &f->local);
	if (a < 0)
		return a;
	memset(&m, 0, sizeof(m));
	m.fork = *f;
	prod_msg_hdr(p, &m.hdr, RTPB_MSG_STREAM_FORK);
	return prod_enqueue(p, rtpb_stream_owner(f->stream_id, p->h->n_workers), &m);
}

uint32_t
rtpb_prod_pending(const struct rtpb_prod *p)
{
	uint32_t w, pending = 0;

	for (w = 0; w < p->h->n_workers; w++)
		if (atomic_load_explicit(&p->h->c2d_done[w], memory_order_acquire) <
		    p->pushed[w])
			pending |= 1u << w;
	return pending;
}
