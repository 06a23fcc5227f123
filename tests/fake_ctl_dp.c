/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fake_ctl_dp.c: an in-memory ctl_dp.h for control's unit tests.
 *
 * Records every pushed message, allocates stream ids partitioned by owner
 * (id % n_workers == owner, as rtpb_stream_owner()), keeps writable stream
 * counters, and can be set detached or ring full. Misuse by the code
 * under test (pushing with an id it does not hold, double free, ADD of a
 * live stream, DEL of a dead one) is counted in fake_dp_errors().
 */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "fake_ctl_dp.h"

struct ctl_dp {
	bool attached;
	bool ring_full;
	int budget;
	uint32_t n_workers;
	uint32_t max_streams;
	uint32_t relay;
	struct rtpb_addr addrs[RTPB_MAX_ADDRS];
	size_t n_addrs;
	struct rtpb_steer steer;
	struct ctl_dp_found found[64]; /* streams held at the next (re)attach */
	size_t n_found;
	uint32_t seq;
	uint32_t errors;
	uint32_t syncs;    /* ctl_dp_sync() calls */
	uint32_t unsynced; /* stream messages pushed since the last sync */
	bool *in_use;
	bool *live;
	struct rtpb_stream_stats *stats;
	struct rtpb_rtpa *rtpa; /* RTP analysis per stream (fake_dp_rtpa()) */
	GArray *msgs;
	ctl_dp_replay_fn *replay;
	ctl_dp_latch_fn *latch;
	ctl_dp_detach_fn *detach;
	void *arg;
	uint64_t poll_ns; /* fake_dp_set_clock() */
};

static struct ctl_dp *fake;

struct ctl_dp *
fake_dp_handle(void)
{
	if (fake == NULL) {
		fake = calloc(1, sizeof(*fake));
		fake->msgs = g_array_new(FALSE, TRUE, sizeof(struct rtpb_msg));
		fake->budget = -1;
	}
	return fake;
}

void
fake_dp_reset(uint32_t n_workers, uint32_t max_streams, uint32_t relay)
{
	struct ctl_dp *d = fake_dp_handle();

	free(d->in_use);
	free(d->live);
	free(d->stats);
	free(d->rtpa);
	d->n_workers = n_workers;
	d->max_streams = max_streams;
	d->relay = relay;
	d->n_addrs = 0;
	if (relay != 0)
		rtpb_addr_set_v4(&d->addrs[d->n_addrs++], relay, 0);
	d->attached = true;
	d->ring_full = false;
	d->budget = -1;
	d->errors = 0;
	memset(&d->steer, 0, sizeof(d->steer));
	d->n_found = 0;
	d->in_use = calloc(max_streams, sizeof(bool));
	d->live = calloc(max_streams, sizeof(bool));
	d->stats = calloc(max_streams, sizeof(*d->stats));
	d->rtpa = calloc(max_streams, sizeof(*d->rtpa));
	g_array_set_size(d->msgs, 0);
}

void
fake_dp_set_addrs(const struct rtpb_addr *addrs, size_t n)
{
	struct ctl_dp *d = fake_dp_handle();

	d->n_addrs = 0;
	for (size_t i = 0; i < n && i < RTPB_MAX_ADDRS; i++)
		d->addrs[d->n_addrs++] = addrs[i];
}

void
fake_dp_add_addr(const struct rtpb_addr *a)
{
	struct ctl_dp *d = fake_dp_handle();

	if (d->n_addrs < RTPB_MAX_ADDRS)
		d->addrs[d->n_addrs++] = *a;
}

void
fake_dp_latch_ev(const struct rtpb_msg_ev_latch *ev)
{
	struct rtpb_msg_ev_latch e = *ev;

	e.hdr.type = RTPB_MSG_EV_LATCH;
	e.hdr.len = sizeof(e);
	if (fake->latch != NULL)
		fake->latch(&e, fake->arg);
}

/* Losing the dataplane: the detach callback reads its last counters. */
static void
fake_dp_lose(struct ctl_dp *d)
{
	if (d->attached && d->detach != NULL)
		d->detach(d, d->arg);
}

void
fake_dp_set_attached(bool on)
{
	struct ctl_dp *d = fake_dp_handle();

	if (!on)
		fake_dp_lose(d);
	d->attached = on;
}

void fake_dp_set_ring_full(bool on) { fake_dp_handle()->ring_full = on; }
void fake_dp_set_push_budget(int n) { fake_dp_handle()->budget = n; }
size_t fake_dp_nmsgs(void) { return fake_dp_handle()->msgs->len; }
void fake_dp_clear_msgs(void) { g_array_set_size(fake_dp_handle()->msgs, 0); }
uint32_t fake_dp_errors(void) { return fake_dp_handle()->errors; }

const struct rtpb_msg *
fake_dp_msg(size_t i)
{
	return &g_array_index(fake_dp_handle()->msgs, struct rtpb_msg, i);
}

struct rtpb_stream_stats *
fake_dp_stats(uint32_t id)
{
	return &fake_dp_handle()->stats[id];
}

/* How many of the fake's max_streams flags are set. */
static uint32_t
count_set(const bool *flags)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < fake->max_streams; i++)
		n += flags[i];
	return n;
}

uint32_t
fake_dp_ids_in_use(void)
{
	return count_set(fake->in_use);
}

uint32_t
fake_dp_live_streams(void)
{
	return count_set(fake->live);
}

void
fake_dp_restart(uint32_t n_workers)
{
	struct ctl_dp *d = fake_dp_handle();

	fake_dp_lose(d);
	memset(d->in_use, 0, d->max_streams * sizeof(bool));
	memset(d->live, 0, d->max_streams * sizeof(bool));
	memset(d->stats, 0, d->max_streams * sizeof(*d->stats));
	memset(d->rtpa, 0, d->max_streams * sizeof(*d->rtpa));
	d->n_workers = n_workers;
	d->n_found = 0;
	d->attached = true;
	if (d->replay != NULL)
		d->replay(d, d->arg);
}

void
fake_dp_latch(uint32_t id, uint64_t cookie, const struct rtpb_addr *peer)
{
	struct rtpb_msg_ev_latch ev = {.stream_id = id, .cookie = cookie,
				       .peer = *peer};

	ev.hdr.type = RTPB_MSG_EV_LATCH;
	if (fake->latch != NULL)
		fake->latch(&ev, fake->arg);
}

const struct rtpb_msg_stream *
fake_dp_last_stream_msg(uint32_t id, int type)
{
	for (size_t i = fake->msgs->len; i-- > 0;) {
		const struct rtpb_msg *m = fake_dp_msg(i);

		if ((m->hdr.type == RTPB_MSG_STREAM_ADD ||
		     m->hdr.type == RTPB_MSG_STREAM_UPDATE) &&
		    m->stream.stream_id == id &&
		    (type < 0 || m->hdr.type == type))
			return &m->stream;
	}
	return NULL;
}

/* --- the ctl_dp.h API --- */

struct ctl_dp *
ctl_dp_create(const char *file_prefix)
{
	(void)file_prefix;
	return fake_dp_handle();
}

void
ctl_dp_destroy(struct ctl_dp *dp)
{
	(void)dp; /* the fake lives for the whole test process */
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
ctl_dp_poll(struct ctl_dp *dp, uint64_t now_ns)
{
	(void)dp;
	(void)now_ns;
}

static uint32_t fake_stalled; /* fake_dp_set_stalled() */

void fake_dp_set_stalled(uint32_t mask) { fake_stalled = mask; }

uint32_t
ctl_dp_workers_stalled(const struct ctl_dp *dp, uint64_t *stalls)
{
	if (stalls != NULL)
		*stalls = fake_stalled != 0;
	return dp->attached ? fake_stalled : 0;
}

void fake_dp_set_clock(uint64_t now_ns) { fake_dp_handle()->poll_ns = now_ns; }

uint64_t
ctl_dp_poll_ns(const struct ctl_dp *dp)
{
	return dp->poll_ns;
}

bool
ctl_dp_ready(const struct ctl_dp *dp)
{
	return dp->attached;
}

uint32_t
ctl_dp_n_workers(const struct ctl_dp *dp)
{
	return dp->attached ? dp->n_workers : 0;
}

void
fake_dp_reattach(const struct ctl_dp_found *f, size_t n)
{
	struct ctl_dp *d = fake_dp_handle();

	/* control's ids start over, but for the streams the dataplane
	 * holds: those alone are live */
	memset(d->in_use, 0, d->max_streams * sizeof(bool));
	memset(d->live, 0, d->max_streams * sizeof(bool));
	d->n_found = 0;
	for (size_t i = 0; i < n && i < sizeof(d->found) / sizeof(d->found[0]); i++) {
		d->found[d->n_found++] = f[i];
		d->in_use[f[i].id] = true;
		d->live[f[i].id] = true;
	}
	d->attached = true;
	if (d->replay != NULL)
		d->replay(d, d->arg);
}

size_t
ctl_dp_found_streams(const struct ctl_dp *dp, const struct ctl_dp_found **list)
{
	*list = dp->found;
	return dp->attached ? dp->n_found : 0;
}

void
fake_dp_set_steer(const struct rtpb_steer *st)
{
	fake_dp_handle()->steer = *st;
}

int
ctl_dp_port_worker(const struct ctl_dp *dp, const struct rtpb_addr *local)
{
	int w;

	if (!dp->attached)
		return -1;
	w = rtpb_steer_worker(&dp->steer, local);
	return w >= 0 && (uint32_t)w < dp->n_workers ? w : -1;
}

int
ctl_dp_addr_index(const struct ctl_dp *dp, const struct rtpb_addr *a)
{
	if (!dp->attached)
		return -ENOTCONN;
	for (size_t i = 0; i < dp->n_addrs; i++)
		if (rtpb_addr_host_eq(&dp->addrs[i], a))
			return (int)i;
	return -ENOENT;
}

int
ctl_dp_stream_id_alloc(struct ctl_dp *dp, uint32_t owner, uint32_t *id)
{
	if (!dp->attached)
		return -ENOTCONN;
	if (owner >= dp->n_workers) {
		dp->errors++;
		return -EINVAL;
	}
	for (uint32_t i = owner; i < dp->max_streams; i += dp->n_workers) {
		if (!dp->in_use[i]) {
			dp->in_use[i] = true;
			*id = i;
			return 0;
		}
	}
	return -ENOSPC;
}

void
ctl_dp_stream_id_free(struct ctl_dp *dp, uint32_t id)
{
	if (id >= dp->max_streams || !dp->in_use[id] ||
	    (dp->live[id] && dp->attached)) {
		dp->errors++;
		return;
	}
	dp->live[id] = false; /* detached: the stream went with the dataplane */
	dp->in_use[id] = false;
}

/* Common refusals of a push. */
static int
push_check(struct ctl_dp *dp)
{
	if (!dp->attached)
		return -ENOTCONN;
	if (dp->ring_full || dp->budget == 0)
		return -ENOBUFS;
	if (dp->budget > 0)
		dp->budget--;
	return 0;
}

int
ctl_dp_sync(struct ctl_dp *dp, uint64_t timeout_ns)
{
	(void)timeout_ns;
	if (!dp->attached)
		return -ENOTCONN;
	dp->syncs++;
	dp->unsynced = 0;
	return 0;
}

uint32_t fake_dp_syncs(void) { return fake_dp_handle()->syncs; }
uint32_t fake_dp_unsynced(void) { return fake_dp_handle()->unsynced; }

uint64_t
ctl_dp_sync_timeouts(const struct ctl_dp *dp)
{
	(void)dp;
	return 0;
}

int
ctl_dp_stream_push(struct ctl_dp *dp, struct rtpb_msg_stream *m)
{
	struct rtpb_msg msg;
	int rc = push_check(dp);

	if (rc != 0)
		return rc;
	if (ctl_dp_addr_index(dp, &m->local) < 0)
		return -ENOENT;
	if (m->stream_id >= dp->max_streams || !dp->in_use[m->stream_id] ||
	    (m->hdr.type == RTPB_MSG_STREAM_ADD) == dp->live[m->stream_id])
		dp->errors++;
	else
		dp->live[m->stream_id] = true;
	dp->unsynced++;
	if (m->hdr.type == RTPB_MSG_STREAM_ADD) {
		memset(&dp->stats[m->stream_id], 0, sizeof(dp->stats[0]));
		memset(&dp->rtpa[m->stream_id], 0, sizeof(dp->rtpa[0]));
	}
	m->hdr.len = sizeof(*m);
	m->hdr.seq = ++dp->seq;
	memset(&msg, 0, sizeof(msg));
	msg.stream = *m;
	g_array_append_val(dp->msgs, msg);
	return 0;
}

int
ctl_dp_fork_push(struct ctl_dp *dp, const struct rtpb_msg_stream_fork *f)
{
	struct rtpb_msg msg;
	int rc = push_check(dp);

	if (rc != 0)
		return rc;
	if (ctl_dp_addr_index(dp, &f->local) < 0)
		return -ENOENT;
	if (f->stream_id >= dp->max_streams || !dp->live[f->stream_id])
		dp->errors++;
	memset(&msg, 0, sizeof(msg));
	msg.fork = *f;
	msg.fork.hdr.type = RTPB_MSG_STREAM_FORK;
	msg.fork.hdr.len = sizeof(msg.fork);
	msg.fork.hdr.seq = ++dp->seq;
	g_array_append_val(dp->msgs, msg);
	return 0;
}

int
ctl_dp_stream_del(struct ctl_dp *dp, uint32_t id, const struct rtpb_addr *local)
{
	struct rtpb_msg msg;
	int rc = push_check(dp);

	if (rc != 0)
		return rc;
	if (id >= dp->max_streams || !dp->live[id])
		dp->errors++;
	else
		dp->live[id] = false;
	memset(&msg, 0, sizeof(msg));
	msg.del.hdr.type = RTPB_MSG_STREAM_DEL;
	msg.del.hdr.len = sizeof(msg.del);
	msg.del.hdr.seq = ++dp->seq;
	msg.del.stream_id = id;
	msg.del.local = *local;
	g_array_append_val(dp->msgs, msg);
	return 0;
}

const struct rtpb_stream_stats *
ctl_dp_stream_stats(const struct ctl_dp *dp, uint32_t id, struct rtpb_stream_stats *buf)
{
	if (!dp->attached || id >= dp->max_streams)
		return NULL;
	*buf = dp->stats[id];
	return buf;
}

const struct rtpb_rtpa *
ctl_dp_stream_rtpa(const struct ctl_dp *dp, uint32_t id, struct rtpb_rtpa *buf)
{
	if (!dp->attached || id >= dp->max_streams)
		return NULL;
	*buf = dp->rtpa[id];
	return buf;
}

struct rtpb_rtpa *
fake_dp_rtpa(uint32_t id)
{
	return &fake_dp_handle()->rtpa[id];
}

void
ctl_dp_totals(const struct ctl_dp *dp, struct rtpb_lcore_stats *sum)
{
	(void)dp;
	memset(sum, 0, sizeof(*sum));
}

/* every lcore's counters are 0 but its cycles, 1000 busy of 4000, and
 * its latency samples: 1 in [500 ns, 1 us), 2 in [16 us, 20 us), 1 at
 * 200 us (the largest) */
int
ctl_dp_lcore_stats(const struct ctl_dp *dp, uint32_t idx,
		   struct rtpb_lcore_stats *buf)
{
	if (!dp->attached)
		return -ENOTCONN;
	if (idx > dp->n_workers)
		return -ERANGE;
	memset(buf, 0, sizeof(*buf));
	buf->busy_cycles = 1000;
	buf->total_cycles = 4000;
	buf->lat_samples = 4;
	buf->lat_lt_1us = 1;
	buf->lat_lt_20us = 2;
	buf->lat_ge_128us = 1;
	buf->lat_max_ns = 200000;
	buf->lat_sum_ns = 236500; /* 500 + 18 000 + 18 000 + 200 000 */
	return 0;
}

/* HA: the fake remembers the last state set and counts announcements. */
static int fake_ha_state = -1;
static uint32_t fake_ha_announces;

void
ctl_dp_set_ha(struct ctl_dp *dp, enum rtpb_ha_state state)
{
	(void)dp;
	fake_ha_state = (int)state;
	if (state == RTPB_HA_ACTIVE)
		fake_ha_announces++;
}

int fake_dp_ha_state(void) { return fake_ha_state; }
uint32_t fake_dp_ha_announces(void) { return fake_ha_announces; }
