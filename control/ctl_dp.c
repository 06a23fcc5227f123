/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_dp.c: control's side of the control/dataplane contract (see
 * ctl_dp.h and include/rtpb_shm.h).
 *
 * Control is not a DPDK process: it maps the dataplane's shared memory
 * file and uses the rte_ring functions (inline, position-independent) on
 * the rings inside it. That is what lets control start before the
 * dataplane, notice a dataplane restart (new file, new generation) and
 * replay its sessions into the new one, and be restarted itself.
 *
 * Attach sequence: open the link in DPDK's runtime dir, map the file,
 * check magic, version, message size and state, send RTPB_MSG_HELLO on
 * every worker's ring, and become ready when every worker answered
 * RTPB_MSG_EV_HELLO with status 0; then the replay callback runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ctl_dp.h"
#include "ctl_log.h"
#include "ctl_sock.h" /* ctl_now_ns() */

/* Between attach attempts: an open() and a stat(), cheap; short, so a
 * restarted dataplane gets its sessions (and media) back soon after it is
 * ready (issue 16). */
#define DP_RETRY_NS 100000000ull
#define DP_CHECK_NS 100000000ull   /* between liveness checks */
/* Heartbeat older than this with the pid alive: the dataplane crashed and
 * its pid was reused (a live dataplane beats every 100 ms; a loaded VM can
 * stall it for a second or two, which must not cost a detach and replay). */
#define DP_STALE_NS 10000000000ull
#define DP_HELLO_NS 2000000000ull  /* HELLO answers expected within */
#define DP_SYNC_SPINS 4096         /* pause loops (~20-50 us) before yielding */
#define DP_SYNC_ALIVE_NS 1000000ull /* a waiting sync checks the pid this often */

enum dp_state {
	DP_DETACHED = 0,
	DP_HELLO_SENT,
	DP_READY,
};

struct ctl_dp {
	char prefix[128];
	char link[PATH_MAX];
	struct rtpb_shm_hdr *h;
	size_t size;
	dev_t dev;
	ino_t ino;
	enum dp_state state;
	int last_logged;        /* errno of the last attach failure logged */
	uint64_t next_try_ns;
	uint64_t next_check_ns;
	uint64_t hello_deadline_ns;
	uint32_t hello_ok;      /* bit per worker that accepted HELLO */
	uint32_t seq;
	uint32_t *free_ids[RTPB_MAX_WORKERS];
	uint32_t n_free[RTPB_MAX_WORKERS];
	struct ctl_dp_found *found; /* live streams at attach */
	size_t n_found;
	ctl_dp_replay_fn *replay;
	ctl_dp_latch_fn *latch;
	ctl_dp_detach_fn *detach;
	void *arg;
	uint64_t ring_full;
	/* messages enqueued to each c2d ring, on the scale of the
	 * dataplane's c2d_done[] (baseline taken at attach) */
	uint64_t pushed[RTPB_MAX_WORKERS];
	uint64_t sync_timeouts;
	uint64_t poll_ns; /* ctl_dp_poll_ns() */
	/* worker heartbeats (rtpb_beat_check()), from attach on */
	struct rtpb_beat_watch watch[RTPB_MAX_WORKERS];
	uint32_t stalled;  /* bit per worker stalled now */
	uint64_t stalls;   /* times one was found stalled, all attaches */
};

struct ctl_dp *
ctl_dp_create(const char *file_prefix)
{
	struct ctl_dp *dp = calloc(1, sizeof(*dp));

	if (dp == NULL)
		return NULL;
	snprintf(dp->prefix, sizeof(dp->prefix), "%s", file_prefix);
	snprintf(dp->link, sizeof(dp->link), RTPB_SHM_LINK_FMT, file_prefix);
	return dp;
}

static void
dp_free_ids(struct ctl_dp *dp)
{
	uint32_t w;

	for (w = 0; w < RTPB_MAX_WORKERS; w++) {
		free(dp->free_ids[w]);
		dp->free_ids[w] = NULL;
		dp->n_free[w] = 0;
	}
	free(dp->found);
	dp->found = NULL;
	dp->n_found = 0;
}

static void
dp_detach(struct ctl_dp *dp, const char *why)
{
	if (dp->h == NULL)
		return;
	ctl_log(CTL_LOG_WARN, "dataplane '%s' (pid %d) detached: %s", dp->prefix,
		(int)dp->h->pid, why);
	/* its counters are final now: the session layer keeps them */
	if (dp->state == DP_READY && dp->detach != NULL)
		dp->detach(dp, dp->arg);
	munmap(dp->h, dp->size);
	dp->h = NULL;
	dp->state = DP_DETACHED;
	dp->hello_ok = 0;
	dp->last_logged = 0;
	dp_free_ids(dp);
}

void
ctl_dp_destroy(struct ctl_dp *dp)
{
	if (dp == NULL)
		return;
	if (dp->h != NULL) {
		munmap(dp->h, dp->size);
		dp->h = NULL;
	}
	dp_free_ids(dp);
	free(dp);
}

void
ctl_dp_set_callbacks(struct ctl_dp *dp, ctl_dp_replay_fn *replay,
		     ctl_dp_latch_fn *latch, ctl_dp_detach_fn *detach, void *arg)
{
	dp->replay = replay;
	dp->latch = latch;
	dp->detach = detach;
	dp->arg = arg;
}

/* Log an attach failure once per distinct reason. */
static int
dp_attach_fail(struct ctl_dp *dp, int err, const char *fmt, const char *detail)
{
	if (dp->last_logged != err) {
		char what[PATH_MAX + 256];

		snprintf(what, sizeof(what), fmt, detail);
		ctl_log(CTL_LOG_WARN, "dataplane '%s' not attached: %s; retrying",
			dp->prefix, what);
		dp->last_logged = err;
	}
	return -err;
}

/* The free id stacks, without the ids of the streams the dataplane
 * holds already (dp->found: deleted or adopted by the replay). */
static int
dp_ids_init(struct ctl_dp *dp)
{
	uint32_t n = dp->h->n_workers, max = dp->h->max_streams, w, id;
	struct rtpb_stream_ident ident;
	size_t cap = 0;

	for (w = 0; w < n; w++) {
		dp->free_ids[w] = malloc(sizeof(uint32_t) * (max / n + 1));
		if (dp->free_ids[w] == NULL)
			return -ENOMEM;
		dp->n_free[w] = 0;
	}
	/* Stacks popped from the end: low ids first. */
	for (id = max; id-- > 0;) {
		if (rtpb_shm_stream_ident(dp->h, id, &ident)) {
			if (dp->n_found == cap) {
				struct ctl_dp_found *f;

				cap = cap != 0 ? 2 * cap : 256;
				f = realloc(dp->found, cap * sizeof(*f));
				if (f == NULL)
					return -ENOMEM;
				dp->found = f;
			}
			dp->found[dp->n_found].id = id;
			dp->found[dp->n_found++].ident = ident;
			continue;
		}
		w = rtpb_stream_owner(id, n);
		dp->free_ids[w][dp->n_free[w]++] = id;
	}
	return 0;
}

size_t
ctl_dp_found_streams(const struct ctl_dp *dp, const struct ctl_dp_found **list)
{
	*list = dp->found;
	return dp->h != NULL ? dp->n_found : 0;
}

static void
dp_msg_hdr(struct ctl_dp *dp, struct rtpb_msg_hdr *hdr, enum rtpb_msg_type t)
{
	hdr->type = (uint16_t)t;
	hdr->len = rtpb_msg_type_len(t);
	hdr->seq = dp->seq++;
}

static int
dp_attach(struct ctl_dp *dp, uint64_t now_ns)
{
	struct rtpb_shm_hdr *h;
	struct rtpb_msg m;
	struct stat st;
	uint32_t w;
	int fd, t;

	fd = open(dp->link, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return dp_attach_fail(dp, errno, "%s: not running?", dp->link);
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(*h)) {
		close(fd);
		return dp_attach_fail(dp, EAGAIN, "%s: still being created", dp->link);
	}
	h = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED)
		return dp_attach_fail(dp, errno, "mmap %s failed", dp->link);
	if (h->magic != RTPB_SHM_MAGIC || h->version != RTPB_MSG_VERSION ||
	    h->msg_size != RTPB_MSG_SIZE || h->hdr_size != sizeof(*h) ||
	    h->size != (uint64_t)st.st_size || h->n_workers == 0 ||
	    h->n_workers > RTPB_MAX_WORKERS) {
		char v[96];

		snprintf(v, sizeof(v), "version %u msg %u, control has version %u msg %u",
			 h->version, h->msg_size, RTPB_MSG_VERSION, RTPB_MSG_SIZE);
		munmap(h, (size_t)st.st_size);
		return dp_attach_fail(dp, EPROTO, "incompatible dataplane: %s", v);
	}
	/* kill(pid, 0): EPERM is a live dataplane of another user (root's,
	 * to a control dropped to -u USER:GROUP, --shm-group) */
	if (atomic_load(&h->state) != RTPB_SHM_READY ||
	    (kill(h->pid, 0) != 0 && errno == ESRCH)) {
		munmap(h, (size_t)st.st_size);
		return dp_attach_fail(dp, ESRCH, "%s: dataplane not ready or gone", dp->link);
	}
	dp->h = h;
	dp->size = (size_t)st.st_size;
	dp->dev = st.st_dev;
	dp->ino = st.st_ino;
	if (dp_ids_init(dp) != 0) {
		dp_detach(dp, "out of memory for stream ids");
		return -ENOMEM;
	}
	/* Drop stale events of an earlier control instance. */
	while (rte_ring_sc_dequeue_elem(rtpb_shm_at(h, h->off_d2c), &m, sizeof(m)) == 0)
		;
	for (w = 0; w < h->n_workers; w++) {
		/* done first, then what is still queued: never above the truth */
		dp->pushed[w] = atomic_load_explicit(&h->c2d_done[w], memory_order_acquire);
		dp->pushed[w] += rte_ring_count(rtpb_shm_at(h, h->off_c2d[w]));
		memset(&m, 0, sizeof(m));
		dp_msg_hdr(dp, &m.hdr, RTPB_MSG_HELLO);
		m.hello.version = RTPB_MSG_VERSION;
		m.hello.msg_size = RTPB_MSG_SIZE;
		for (t = 0; t < RTPB_MSG__COUNT; t++)
			m.hello.type_len[t] = rtpb_msg_type_len((enum rtpb_msg_type)t);
		m.hello.pid = getpid();
		if (rte_ring_sp_enqueue_elem(rtpb_shm_at(h, h->off_c2d[w]), &m,
					     sizeof(m)) != 0) {
			dp_detach(dp, "c2d ring full at attach");
			return -ENOBUFS;
		}
		dp->pushed[w]++;
	}
	memset(dp->watch, 0, sizeof(dp->watch));
	dp->stalled = 0;
	dp->state = DP_HELLO_SENT;
	dp->hello_ok = 0;
	dp->hello_deadline_ns = now_ns + DP_HELLO_NS;
	return 0;
}

/* Still the same live dataplane? */
static const char *
dp_gone(struct ctl_dp *dp, uint64_t now_ns)
{
	struct stat st;
	uint64_t hb;

	if (atomic_load(&dp->h->state) != RTPB_SHM_READY)
		return "dataplane stopping";
	if (kill(dp->h->pid, 0) != 0 && errno == ESRCH)
		return "dataplane process gone";
	if (stat(dp->link, &st) != 0 || st.st_ino != dp->ino || st.st_dev != dp->dev)
		return "dataplane restarted (new shared memory)";
	hb = atomic_load(&dp->h->heartbeat_ns);
	if (now_ns > hb && now_ns - hb > DP_STALE_NS)
		return "dataplane heartbeat stale";
	return NULL;
}

/* Every worker's heartbeat: a stalled one is logged, counted and no
 * longer waited for by ctl_dp_sync(). */
static void
dp_watch_workers(struct ctl_dp *dp, uint64_t now_ns)
{
	for (uint32_t w = 0; w < dp->h->n_workers; w++) {
		switch (rtpb_beat_check(&dp->watch[w], dp->h, w, now_ns)) {
		case 1:
			dp->stalled |= 1u << w;
			dp->stalls++;
			ctl_log(CTL_LOG_ERR, "dataplane worker %u stalled: no loop "
				"for %llu ms; commands no longer wait for it (%llu "
				"stalls seen)", w,
				(unsigned long long)((now_ns - dp->watch[w].moved_ns) /
						     1000000ull),
				(unsigned long long)dp->stalls);
			break;
		case -1:
			dp->stalled &= ~(1u << w);
			ctl_log(CTL_LOG_INFO, "dataplane worker %u loops again", w);
			break;
		default:
			break;
		}
	}
}

static void
dp_drain_events(struct ctl_dp *dp)
{
	struct rte_ring *r = rtpb_shm_at(dp->h, dp->h->off_d2c);
	struct rtpb_msg ev[32];
	unsigned int n, i;

	do {
		n = rte_ring_sc_dequeue_burst_elem(r, ev, sizeof(ev[0]), 32, NULL);
		for (i = 0; i < n; i++) {
			switch (ev[i].hdr.type) {
			case RTPB_MSG_EV_HELLO:
				if (ev[i].ev_hello.status != 0) {
					ctl_log(CTL_LOG_ERR,
						"dataplane worker %u refused HELLO (its ring version %u, ours %u)",
						ev[i].ev_hello.worker, ev[i].ev_hello.version,
						RTPB_MSG_VERSION);
				} else if (ev[i].ev_hello.worker < RTPB_MAX_WORKERS) {
					dp->hello_ok |= 1u << ev[i].ev_hello.worker;
				}
				break;
			case RTPB_MSG_EV_LATCH:
				if (dp->latch != NULL && dp->state == DP_READY)
					dp->latch(&ev[i].ev_latch, dp->arg);
				break;
			default:
				break;
			}
		}
	} while (n == 32 && dp->h != NULL);
}

void
ctl_dp_poll(struct ctl_dp *dp, uint64_t now_ns)
{
	const char *why;

	dp->poll_ns = now_ns;
	if (dp->h == NULL) {
		if (now_ns < dp->next_try_ns)
			return;
		dp->next_try_ns = now_ns + DP_RETRY_NS;
		if (dp_attach(dp, now_ns) != 0)
			return;
	}
	if (now_ns >= dp->next_check_ns) {
		dp->next_check_ns = now_ns + DP_CHECK_NS;
		why = dp_gone(dp, now_ns);
		if (why != NULL) {
			dp_detach(dp, why);
			return;
		}
		dp_watch_workers(dp, now_ns);
	}
	dp_drain_events(dp);
	if (dp->state == DP_HELLO_SENT) {
		uint32_t all = (dp->h->n_workers >= 32) ? ~0u :
			       ((1u << dp->h->n_workers) - 1);

		if (dp->hello_ok == all) {
			dp->state = DP_READY;
			ctl_log(CTL_LOG_INFO,
				"dataplane '%s' attached: pid %d, %u worker(s), %u streams max",
				dp->prefix, (int)dp->h->pid, dp->h->n_workers, dp->h->max_streams);
			if (dp->replay != NULL)
				dp->replay(dp, dp->arg);
		} else if (now_ns > dp->hello_deadline_ns) {
			dp_detach(dp, "workers did not accept HELLO (version mismatch?)");
			dp->next_try_ns = now_ns + 5 * DP_RETRY_NS;
		}
	}
}

uint64_t
ctl_dp_poll_ns(const struct ctl_dp *dp)
{
	return dp->poll_ns;
}

bool
ctl_dp_ready(const struct ctl_dp *dp)
{
	return dp->h != NULL && dp->state == DP_READY;
}

uint32_t
ctl_dp_n_workers(const struct ctl_dp *dp)
{
	return ctl_dp_ready(dp) ? dp->h->n_workers : 0;
}

int
ctl_dp_addr_index(const struct ctl_dp *dp, const struct rtpb_addr *a)
{
	uint32_t i;

	if (!ctl_dp_ready(dp))
		return -ENOTCONN;
	for (i = 0; i < dp->h->n_addrs && i < RTPB_MAX_ADDRS; i++)
		if (rtpb_addr_host_eq(&dp->h->addrs[i], a))
			return (int)i;
	return -ENOENT;
}

int
ctl_dp_port_worker(const struct ctl_dp *dp, const struct rtpb_addr *local)
{
	int w;

	if (!ctl_dp_ready(dp))
		return -1;
	w = rtpb_steer_worker(&dp->h->steer, local);
	return w >= 0 && (uint32_t)w < dp->h->n_workers ? w : -1;
}

int
ctl_dp_stream_id_alloc(struct ctl_dp *dp, uint32_t owner, uint32_t *id)
{
	if (!ctl_dp_ready(dp))
		return -ENOTCONN;
	if (owner >= dp->h->n_workers || dp->n_free[owner] == 0)
		return -ENOSPC;
	*id = dp->free_ids[owner][--dp->n_free[owner]];
	return 0;
}

void
ctl_dp_stream_id_free(struct ctl_dp *dp, uint32_t id)
{
	uint32_t w;

	if (!ctl_dp_ready(dp) || id >= dp->h->max_streams)
		return; /* ids of a detached dataplane are void */
	w = rtpb_stream_owner(id, dp->h->n_workers);
	if (dp->n_free[w] < dp->h->max_streams / dp->h->n_workers + 1)
		dp->free_ids[w][dp->n_free[w]++] = id;
}

static int
dp_push(struct ctl_dp *dp, uint32_t id, struct rtpb_msg *m)
{
	uint32_t w = rtpb_stream_owner(id, dp->h->n_workers);

	if (rte_ring_sp_enqueue_elem(rtpb_shm_at(dp->h, dp->h->off_c2d[w]), m,
				     sizeof(*m)) != 0) {
		dp->ring_full++;
		return -ENOBUFS;
	}
	dp->pushed[w]++;
	return 0;
}

int
ctl_dp_sync(struct ctl_dp *dp, uint64_t timeout_ns)
{
	uint64_t t0 = 0, waited = 0, next_alive = DP_SYNC_ALIVE_NS;
	unsigned int spins = 0;
	uint32_t w;

	if (dp->h == NULL)
		return -ENOTCONN;
	for (;;) {
		/* a stalled worker is not waited for (dp_watch_workers()) */
		for (w = 0; w < dp->h->n_workers; w++)
			if (!(dp->stalled & (1u << w)) &&
			    atomic_load_explicit(&dp->h->c2d_done[w], memory_order_acquire) <
			    dp->pushed[w])
				break;
		if (w == dp->h->n_workers)
			return 0;
		/* The worker applies messages within microseconds: spin
		 * first (no system call: on a paravirtualised guest each
		 * costs microseconds), then yield; never sleep (nanosleep's
		 * timer slack made every command wait ~100 us). */
		if (spins++ < DP_SYNC_SPINS) {
			rte_pause();
			continue;
		}
		if (t0 == 0)
			t0 = ctl_now_ns();
		waited = ctl_now_ns() - t0;
		if (waited >= timeout_ns) {
			dp->sync_timeouts++;
			return -ETIMEDOUT;
		}
		if (waited >= next_alive) {
			next_alive = waited + DP_SYNC_ALIVE_NS;
			if (kill(dp->h->pid, 0) != 0 && errno == ESRCH) {
				dp->sync_timeouts++;
				return -ETIMEDOUT;
			}
		}
		sched_yield();
	}
}

uint64_t
ctl_dp_sync_timeouts(const struct ctl_dp *dp)
{
	return dp->sync_timeouts;
}

uint32_t
ctl_dp_workers_stalled(const struct ctl_dp *dp, uint64_t *stalls)
{
	if (stalls != NULL)
		*stalls = dp->stalls;
	return dp->h != NULL ? dp->stalled : 0;
}

int
ctl_dp_stream_push(struct ctl_dp *dp, struct rtpb_msg_stream *s)
{
	struct rtpb_msg m;
	int a;

	if (!ctl_dp_ready(dp))
		return -ENOTCONN;
	if (s->stream_id >= dp->h->max_streams)
		return -EINVAL;
	a = ctl_dp_addr_index(dp, &s->local);
	if (a < 0)
		return a;
	memset(&m, 0, sizeof(m));
	m.stream = *s;
	dp_msg_hdr(dp, &m.hdr, (enum rtpb_msg_type)s->hdr.type);
	if (s->hdr.type == RTPB_MSG_STREAM_ADD)
		*rtpb_shm_port_owner(dp->h, (uint32_t)a, ntohs(s->local.port)) =
			(uint8_t)rtpb_stream_owner(s->stream_id, dp->h->n_workers);
	return dp_push(dp, s->stream_id, &m);
}

int
ctl_dp_stream_del(struct ctl_dp *dp, uint32_t id, const struct rtpb_addr *local)
{
	struct rtpb_msg m;

	if (!ctl_dp_ready(dp))
		return -ENOTCONN;
	if (id >= dp->h->max_streams)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	dp_msg_hdr(dp, &m.hdr, RTPB_MSG_STREAM_DEL);
	m.del.stream_id = id;
	m.del.local = *local;
	return dp_push(dp, id, &m);
}

const struct rtpb_stream_stats *
ctl_dp_stream_stats(const struct ctl_dp *dp, uint32_t id, struct rtpb_stream_stats *buf)
{
	if (!ctl_dp_ready(dp) || id >= dp->h->max_streams)
		return NULL;
	rtpb_shm_stream_read(dp->h, id, buf);
	return buf;
}

void
ctl_dp_totals(const struct ctl_dp *dp, struct rtpb_lcore_stats *sum)
{
	uint32_t i;

	memset(sum, 0, sizeof(*sum));
	if (!ctl_dp_ready(dp))
		return;
	for (i = 0; i <= dp->h->n_workers; i++)
		rtpb_lcore_stats_add(sum, rtpb_shm_lcore_stats(dp->h, i));
}

int
ctl_dp_lcore_stats(const struct ctl_dp *dp, uint32_t idx,
		   struct rtpb_lcore_stats *buf)
{
	if (!ctl_dp_ready(dp))
		return -ENOTCONN;
	if (idx > dp->h->n_workers)
		return -ERANGE;
	*buf = *rtpb_shm_lcore_stats(dp->h, idx);
	return 0;
}
