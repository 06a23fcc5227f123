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
 *
 * The producer end of the rings (mapping, HELLO, stream ids, port
 * owners, pushing) is lib/rtpb_prod.c, which tools/rtpb-gen uses too;
 * this file is control's policy around it: when to attach, retry and
 * detach, logging, the callbacks, heartbeats and ctl_dp_sync().
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_pause.h>

#include "ctl_dp.h"
#include "ctl_log.h"
#include "ctl_sock.h" /* ctl_now_ns() */
#include "rtpb_prod.h"

/* Between attach attempts: an open() and a stat(), cheap; short, so a
 * restarted dataplane gets its sessions (and media) back soon after it is
 * ready (issue 16): the main loop polls every 10 ms, so every iteration. */
#define CTL_DP_RETRY_NS 10000000ull
#define CTL_DP_CHECK_NS 100000000ull   /* between liveness checks */
/* Heartbeat older than this with the pid alive: the dataplane crashed and
 * its pid was reused (a live dataplane beats every 100 ms; a loaded VM can
 * stall it for a second or two, which must not cost a detach and replay). */
#define CTL_DP_STALE_NS 10000000000ull
#define CTL_DP_HELLO_NS 2000000000ull  /* HELLO answers expected within */
/* Right after an attach, wait this long at most for the HELLO answers
 * (the workers look at their ring every loop, and hold RX until the
 * replay: every ms here is media held), instead of the next poll */
#define CTL_DP_HELLO_SPIN_NS 20000000ull
/* ctl_dp_sync(): a running worker looks at its ring every loop and
 * applies a message within a microsecond or two, so spin this long
 * first; a worker still behind after it is off its CPU (a shared or
 * loaded machine) for a scheduler slice, milliseconds: then nap,
 * CTL_DP_SYNC_NAP_NS first, doubling up to CTL_DP_SYNC_NAP_MAX_NS, with
 * a 1 us timer slack (the default 50 us slack is what made the naps of
 * an earlier version cost every command ~100 us). Spinning or yielding
 * through the slice instead cost control a CPU for as long as the worker
 * waited for one: 80 % of control's CPU time in a setup run beside a
 * soak. */
#define CTL_DP_SYNC_SPIN_NS 20000ull
#define CTL_DP_SYNC_NAP_NS 8000ull
#define CTL_DP_SYNC_NAP_MAX_NS 128000ull
#define CTL_DP_SYNC_SLACK_NS 1000ul
#define CTL_DP_SYNC_ALIVE_NS 1000000ull /* a waiting sync checks the pid this often */

enum ctl_dp_state {
	CTL_DP_DETACHED = 0,
	CTL_DP_HELLO_SENT,
	CTL_DP_READY,
};

struct ctl_dp {
	char prefix[128];
	/* the producer end of the rings: mapping, HELLO, stream ids, port
	 * owners, what was pushed (lib/rtpb_prod.h); prod.h is NULL when
	 * detached */
	struct rtpb_prod prod;
	enum ctl_dp_state state;
	int last_logged;        /* errno of the last attach failure logged */
	uint64_t next_try_ns;
	uint64_t next_check_ns;
	uint64_t hello_deadline_ns;
	struct ctl_dp_found *found; /* live streams at attach */
	size_t n_found, cap_found;
	ctl_dp_replay_fn *replay;
	ctl_dp_latch_fn *latch;
	ctl_dp_detach_fn *detach;
	void *arg;
	ctl_dp_dtmf_fn *dtmf; /* RTPB_MSG_EV_DTMF (docs/DTMF.md) */
	void *dtmf_arg;
	uint64_t sync_timeouts;
	uint64_t poll_ns; /* ctl_dp_poll_ns() */
	/* worker heartbeats (rtpb_beat_check()), from attach on */
	struct rtpb_beat_watch watch[RTPB_MAX_WORKERS];
	uint32_t stalled;  /* bit per worker stalled now */
	uint64_t stalls;   /* times one was found stalled, all attaches */
	/* HA (ctl_dp_set_ha()): the state every dataplane is given */
	bool ha_set;
	enum rtpb_ha_state ha_state;
};

struct ctl_dp *
ctl_dp_create(const char *file_prefix)
{
	struct ctl_dp *dp = calloc(1, sizeof(*dp));

	if (dp == NULL)
		return NULL;
	snprintf(dp->prefix, sizeof(dp->prefix), "%s", file_prefix);
	snprintf(dp->prod.link, sizeof(dp->prod.link), RTPB_SHM_LINK_FMT, file_prefix);
	return dp;
}

static void
ctl_dp_unmap(struct ctl_dp *dp)
{
	rtpb_prod_unmap(&dp->prod);
	free(dp->found);
	dp->found = NULL;
	dp->n_found = 0;
	dp->cap_found = 0;
}

static void
ctl_dp_detach(struct ctl_dp *dp, const char *why)
{
	if (dp->prod.h == NULL)
		return;
	ctl_log(CTL_LOG_WARN, "dataplane '%s' (pid %d) detached: %s", dp->prefix,
		(int)dp->prod.h->pid, why);
	/* its counters are final now: the session layer keeps them */
	if (dp->state == CTL_DP_READY && dp->detach != NULL)
		dp->detach(dp, dp->arg);
	ctl_dp_unmap(dp);
	dp->state = CTL_DP_DETACHED;
	dp->last_logged = 0;
}

void
ctl_dp_destroy(struct ctl_dp *dp)
{
	if (dp == NULL)
		return;
	ctl_dp_unmap(dp);
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

void
ctl_dp_set_dtmf_cb(struct ctl_dp *dp, ctl_dp_dtmf_fn *fn, void *arg)
{
	dp->dtmf = fn;
	dp->dtmf_arg = arg;
}

/* rtpb_prod_ids_init()'s found callback: the streams the dataplane holds
 * already, deleted or adopted by the replay. */
static int
ctl_dp_found_add(uint32_t id, const struct rtpb_stream_ident *ident, void *arg)
{
	struct ctl_dp *dp = arg;

	if (dp->n_found == dp->cap_found) {
		size_t cap = dp->cap_found != 0 ? 2 * dp->cap_found : 256;
		struct ctl_dp_found *f = realloc(dp->found, cap * sizeof(*f));

		if (f == NULL)
			return -ENOMEM;
		dp->found = f;
		dp->cap_found = cap;
	}
	dp->found[dp->n_found].id = id;
	dp->found[dp->n_found++].ident = *ident;
	return 0;
}

size_t
ctl_dp_found_streams(const struct ctl_dp *dp, const struct ctl_dp_found **list)
{
	*list = dp->found;
	return dp->prod.h != NULL ? dp->n_found : 0;
}

/* Map, take the ids, send HELLO; failures logged once per distinct reason. */
static int
ctl_dp_attach(struct ctl_dp *dp, uint64_t now_ns)
{
	char why[PATH_MAX + 256];
	int r;

	r = rtpb_prod_map(&dp->prod, dp->prefix, why, sizeof(why));
	if (r != 0) {
		if (dp->last_logged != -r) {
			ctl_log(CTL_LOG_WARN, "dataplane '%s' not attached: %s; retrying",
				dp->prefix, why);
			dp->last_logged = -r;
		}
		return r;
	}
	if (rtpb_prod_ids_init(&dp->prod, ctl_dp_found_add, dp) != 0) {
		ctl_dp_detach(dp, "out of memory for stream ids");
		return -ENOMEM;
	}
	if (rtpb_prod_hello(&dp->prod, getpid()) != 0) {
		ctl_dp_detach(dp, "c2d ring full at attach");
		return -ENOBUFS;
	}
	memset(dp->watch, 0, sizeof(dp->watch));
	dp->stalled = 0;
	dp->state = CTL_DP_HELLO_SENT;
	dp->hello_deadline_ns = now_ns + CTL_DP_HELLO_NS;
	return 0;
}

/* Still the same live dataplane? */
static const char *
ctl_dp_gone(struct ctl_dp *dp, uint64_t now_ns)
{
	const struct rtpb_shm_hdr *h = dp->prod.h;
	struct stat st;
	uint64_t hb;

	if (atomic_load(&h->state) != RTPB_SHM_READY)
		return "dataplane stopping";
	if (kill(h->pid, 0) != 0 && errno == ESRCH)
		return "dataplane process gone";
	if (stat(dp->prod.link, &st) != 0 || st.st_ino != dp->prod.ino ||
	    st.st_dev != dp->prod.dev)
		return "dataplane restarted (new shared memory)";
	hb = atomic_load(&h->heartbeat_ns);
	if (now_ns > hb && now_ns - hb > CTL_DP_STALE_NS)
		return "dataplane heartbeat stale";
	return NULL;
}

/* Every worker's heartbeat: a stalled one is logged, counted and no
 * longer waited for by ctl_dp_sync(). */
static void
ctl_dp_watch_workers(struct ctl_dp *dp, uint64_t now_ns)
{
	for (uint32_t w = 0; w < dp->prod.h->n_workers; w++) {
		switch (rtpb_beat_check(&dp->watch[w], dp->prod.h, w, now_ns)) {
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
ctl_dp_drain_events(struct ctl_dp *dp)
{
	struct rtpb_msg ev[32];
	unsigned int n, i;

	do {
		n = rtpb_prod_events(&dp->prod, ev, 32);
		for (i = 0; i < n; i++) {
			switch (ev[i].hdr.type) {
			case RTPB_MSG_EV_HELLO:
				if (ev[i].ev_hello.status != 0)
					ctl_log(CTL_LOG_ERR,
						"dataplane worker %u refused HELLO (its ring version %u, ours %u)",
						ev[i].ev_hello.worker, ev[i].ev_hello.version,
						RTPB_MSG_VERSION);
				break;
			case RTPB_MSG_EV_LATCH:
				if (dp->latch != NULL && dp->state == CTL_DP_READY)
					dp->latch(&ev[i].ev_latch, dp->arg);
				break;
			case RTPB_MSG_EV_DTMF:
				if (dp->dtmf != NULL && dp->state == CTL_DP_READY)
					dp->dtmf(&ev[i].ev_dtmf, dp->dtmf_arg);
				break;
			default:
				break;
			}
		}
	} while (n == 32 && dp->prod.h != NULL);
}

/* HA: the state ctl_dp_set_ha() set, into the attached dataplane's
 * shared memory; active: one more announcement (dp_ha.h). */
static void
ctl_dp_ha_apply(struct ctl_dp *dp)
{
	struct rtpb_shm_hdr *h = dp->prod.h;

	if (!dp->ha_set || h == NULL)
		return;
	atomic_store_explicit(&h->ha_state, (uint32_t)dp->ha_state, memory_order_release);
	if (dp->ha_state == RTPB_HA_ACTIVE)
		atomic_fetch_add_explicit(&h->ha_announce, 1, memory_order_release);
}

void
ctl_dp_set_ha(struct ctl_dp *dp, enum rtpb_ha_state state)
{
	dp->ha_set = true;
	dp->ha_state = state;
	if (ctl_dp_ready(dp))
		ctl_dp_ha_apply(dp);
}

void
ctl_dp_poll(struct ctl_dp *dp, uint64_t now_ns)
{
	const char *why;

	dp->poll_ns = now_ns;
	if (dp->prod.h == NULL) {
		if (now_ns < dp->next_try_ns)
			return;
		dp->next_try_ns = now_ns + CTL_DP_RETRY_NS;
		if (ctl_dp_attach(dp, now_ns) != 0)
			return;
		while (ctl_now_ns() - now_ns < CTL_DP_HELLO_SPIN_NS) {
			ctl_dp_drain_events(dp);
			if (dp->prod.h == NULL || rtpb_prod_hello_done(&dp->prod))
				break;
			sched_yield();
		}
		if (dp->prod.h == NULL)
			return;
	}
	if (now_ns >= dp->next_check_ns) {
		dp->next_check_ns = now_ns + CTL_DP_CHECK_NS;
		why = ctl_dp_gone(dp, now_ns);
		if (why != NULL) {
			ctl_dp_detach(dp, why);
			return;
		}
		ctl_dp_watch_workers(dp, now_ns);
	}
	ctl_dp_drain_events(dp);
	if (dp->state == CTL_DP_HELLO_SENT) {
		if (rtpb_prod_hello_done(&dp->prod)) {
			dp->state = CTL_DP_READY;
			ctl_log(CTL_LOG_INFO,
				"dataplane '%s' attached: pid %d, %u worker(s), %u streams max",
				dp->prefix, (int)dp->prod.h->pid, dp->prod.h->n_workers,
				dp->prod.h->max_streams);
			if (dp->replay != NULL)
				dp->replay(dp, dp->arg);
			/* a (re)started dataplane learns who owns the relay
			 * addresses; an active one announces them again */
			ctl_dp_ha_apply(dp);
			/* pushed: the workers may start RX (rtpb_shm.h) */
			atomic_store_explicit(&dp->prod.h->replayed, 1,
					      memory_order_release);
		} else if (now_ns > dp->hello_deadline_ns) {
			ctl_dp_detach(dp, "workers did not accept HELLO (version mismatch?)");
			dp->next_try_ns = now_ns + 5 * CTL_DP_RETRY_NS;
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
	return dp->prod.h != NULL && dp->state == CTL_DP_READY;
}

struct rte_ring *
ctl_dp_mirror_ring(const struct ctl_dp *dp, uint32_t w)
{
	if (!ctl_dp_ready(dp) || w >= dp->prod.h->n_workers)
		return NULL;
	return rtpb_shm_at(dp->prod.h, dp->prod.h->off_mirror[w]);
}

struct rte_ring *
ctl_dp_play_ring(const struct ctl_dp *dp, uint32_t w)
{
	if (!ctl_dp_ready(dp) || w >= dp->prod.h->n_workers)
		return NULL;
	return rtpb_shm_at(dp->prod.h, dp->prod.h->off_play[w]);
}

uint32_t
ctl_dp_n_workers(const struct ctl_dp *dp)
{
	return ctl_dp_ready(dp) ? dp->prod.h->n_workers : 0;
}

int
ctl_dp_addr_index(const struct ctl_dp *dp, const struct rtpb_addr *a)
{
	if (!ctl_dp_ready(dp))
		return -ENOTCONN;
	return rtpb_prod_addr_index(&dp->prod, a);
}

int
ctl_dp_port_worker(const struct ctl_dp *dp, const struct rtpb_addr *local)
{
	int w;

	if (!ctl_dp_ready(dp))
		return -1;
	w = rtpb_steer_worker(&dp->prod.h->steer, local);
	return w >= 0 && (uint32_t)w < dp->prod.h->n_workers ? w : -1;
}

int
ctl_dp_stream_id_alloc(struct ctl_dp *dp, uint32_t owner, uint32_t *id)
{
	if (!ctl_dp_ready(dp))
		return -ENOTCONN;
	return rtpb_prod_id_alloc(&dp->prod, owner, id);
}

void
ctl_dp_stream_id_free(struct ctl_dp *dp, uint32_t id)
{
	if (!ctl_dp_ready(dp))
		return; /* ids of a detached dataplane are void */
	rtpb_prod_id_free(&dp->prod, id);
}

/* Nap ns with a timer slack of CTL_DP_SYNC_SLACK_NS; *slack holds the
 * thread's own slack once it was lowered (0: not yet). */
static void
ctl_dp_nap(uint64_t ns, unsigned long *slack)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ns};

	if (*slack == 0) {
		int old = prctl(PR_GET_TIMERSLACK);

		*slack = old > 0 ? (unsigned long)old : 1;
		prctl(PR_SET_TIMERSLACK, CTL_DP_SYNC_SLACK_NS);
	}
	nanosleep(&ts, NULL);
}

int
ctl_dp_sync(struct ctl_dp *dp, uint64_t timeout_ns)
{
	uint64_t t0 = 0, waited, nap = CTL_DP_SYNC_NAP_NS;
	uint64_t next_alive = CTL_DP_SYNC_ALIVE_NS;
	unsigned long slack = 0;
	unsigned int spins = 0;
	int rc = 0;

	if (dp->prod.h == NULL)
		return -ENOTCONN;
	/* a stalled worker is not waited for (ctl_dp_watch_workers()) */
	while ((rtpb_prod_pending(&dp->prod) & ~dp->stalled) != 0) {
		/* spin (no system call: on a paravirtualised guest each
		 * costs microseconds), reading the clock now and then */
		if ((++spins & 31) != 0) {
			rte_pause();
			continue;
		}
		if (t0 == 0)
			t0 = ctl_now_ns();
		waited = ctl_now_ns() - t0;
		if (waited >= timeout_ns) {
			rc = -ETIMEDOUT;
			break;
		}
		if (waited >= next_alive) {
			next_alive = waited + CTL_DP_SYNC_ALIVE_NS;
			if (kill(dp->prod.h->pid, 0) != 0 && errno == ESRCH) {
				rc = -ETIMEDOUT;
				break;
			}
		}
		if (waited < CTL_DP_SYNC_SPIN_NS)
			continue;
		ctl_dp_nap(nap, &slack);
		nap = nap * 2 < CTL_DP_SYNC_NAP_MAX_NS ? nap * 2 : CTL_DP_SYNC_NAP_MAX_NS;
	}
	if (slack != 0)
		prctl(PR_SET_TIMERSLACK, slack);
	if (rc != 0)
		dp->sync_timeouts++;
	return rc;
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
	return dp->prod.h != NULL ? dp->stalled : 0;
}

int
ctl_dp_stream_push(struct ctl_dp *dp, struct rtpb_msg_stream *s)
{
	if (!ctl_dp_ready(dp))
		return -ENOTCONN;
	return rtpb_prod_stream_push(&dp->prod, s);
}

int
ctl_dp_fork_push(struct ctl_dp *dp, const struct rtpb_msg_stream_fork *f)
{
	if (!ctl_dp_ready(dp))
		return -ENOTCONN;
	return rtpb_prod_fork_push(&dp->prod, f);
}

int
ctl_dp_stream_del(struct ctl_dp *dp, uint32_t id, const struct rtpb_addr *local)
{
	if (!ctl_dp_ready(dp))
		return -ENOTCONN;
	return rtpb_prod_stream_del(&dp->prod, id, local);
}

const struct rtpb_stream_stats *
ctl_dp_stream_stats(const struct ctl_dp *dp, uint32_t id, struct rtpb_stream_stats *buf)
{
	if (!ctl_dp_ready(dp) || id >= dp->prod.h->max_streams)
		return NULL;
	rtpb_shm_stream_read(dp->prod.h, id, buf);
	return buf;
}

const struct rtpb_rtpa *
ctl_dp_stream_rtpa(const struct ctl_dp *dp, uint32_t id, struct rtpb_rtpa *buf)
{
	if (!ctl_dp_ready(dp) || id >= dp->prod.h->max_streams)
		return NULL;
	rtpb_shm_stream_rtpa(dp->prod.h, id, buf);
	return buf;
}

void
ctl_dp_totals(const struct ctl_dp *dp, struct rtpb_lcore_stats *sum)
{
	uint32_t i;

	memset(sum, 0, sizeof(*sum));
	if (!ctl_dp_ready(dp))
		return;
	for (i = 0; i <= dp->prod.h->n_workers; i++)
		rtpb_lcore_stats_add(sum, rtpb_shm_lcore_stats(dp->prod.h, i));
}

int
ctl_dp_lcore_stats(const struct ctl_dp *dp, uint32_t idx,
		   struct rtpb_lcore_stats *buf)
{
	if (!ctl_dp_ready(dp))
		return -ENOTCONN;
	if (idx > dp->prod.h->n_workers)
		return -ERANGE;
	*buf = *rtpb_shm_lcore_stats(dp->prod.h, idx);
	return 0;
}
