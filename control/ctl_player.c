/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_player.c: playback wired to the sessions, see ctl_player.h.
 * Source: rtpproxy 3.2 src/rtpp_stream.c handle_play(), handle_noplay(),
 * src/rtpp_server.c (the player), src/commands/rpcpv1_play.c.
 */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ctl_log.h"
#include "ctl_player.h"
#include "rtpb_shm.h"

struct ctl_player {
	struct ctl_play_dir *dir;
	GHashTable *players; /* key (serial << 1 | leg) -> struct player */
	struct ctl_player_counters c;
};

/* One player of leg li of the session of serial. */
struct player {
	uint64_t key;
	uint64_t serial;
	int li;
	struct ctl_play *pl;
};

static void
player_free(gpointer p)
{
	struct player *e = p;

	ctl_play_destroy(e->pl);
	g_free(e);
}

struct ctl_player *
ctl_player_create(struct ctl_play_dir *dir)
{
	struct ctl_player *pr = calloc(1, sizeof(*pr));

	if (pr == NULL) {
		ctl_play_dir_close(dir);
		return NULL;
	}
	pr->dir = dir;
	pr->players = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
					    player_free);
	return pr;
}

void
ctl_player_destroy(struct ctl_player *pr)
{
	if (pr == NULL)
		return;
	g_hash_table_destroy(pr->players);
	ctl_play_dir_close(pr->dir);
	free(pr);
}

static uint64_t
player_key(const struct ctl_session *s, int li)
{
	return s->serial << 1 | (uint64_t)(li & 1);
}

/* Does leg li know where its party is (signalled or latched)? */
static bool
player_has_peer(const struct ctl_session *s, int li)
{
	const struct ctl_leg *l = &s->leg[li];

	return l->sock.port != 0 &&
	       (l->has_remote || l->sock.rtp.latched.family != RTPB_AF_NONE);
}

/* End player e of session s (NULL: gone, nothing to release). */
static void
player_end(struct ctl_player *pr, struct ctl_sessions *t,
	   struct ctl_session *s, struct player *e)
{
	if (s != NULL && s->leg[!e->li].held)
		ctl_session_set_hold(t, s, !e->li, false);
	pr->c.destroyed++;
	pr->c.active--;
}

int
ctl_player_stop(struct ctl_player *pr, struct ctl_sessions *t,
		struct ctl_session *s, int li)
{
	uint64_t key = player_key(s, li);
	struct player *e = g_hash_table_lookup(pr->players, &key);

	if (e == NULL)
		return -ENOENT;
	player_end(pr, t, s, e);
	g_hash_table_remove(pr->players, &key);
	return 0;
}

int
ctl_player_start(struct ctl_player *pr, struct ctl_sessions *t,
		 struct ctl_session *s, int li, const char *name,
		 const char *codecs, int ptime_ms, int count, uint64_t now_ns)
{
	struct ctl_play_cfg cfg = {.count = count, .ptime_ms = ptime_ms};
	struct ctl_play_prompt *p = NULL;
	struct player *e;
	int rc;

	/* rtpproxy handle_play(): handle_noplay() first */
	ctl_player_stop(pr, t, s, li);
	if (count == 0)
		return 0;
	rc = ctl_play_select(pr->dir, name, codecs, &p);
	if (rc == 0)
		rc = ctl_play_rtp_random(&cfg.rtp);
	if (rc != 0) {
		ctl_play_prompt_put(p);
		return rc;
	}
	e = g_new0(struct player, 1);
	e->serial = s->serial;
	e->li = li;
	e->key = player_key(s, li);
	/* stream_id and cookie: the leg's RTP stream at each packet */
	e->pl = ctl_play_create(p, &cfg);
	rc = e->pl == NULL ? -errno : 0;
	ctl_play_prompt_put(p);
	if (rc != 0) {
		g_free(e);
		return rc;
	}
	g_hash_table_insert(pr->players, &e->key, e);
	pr->c.created++;
	pr->c.active++;
	if (player_has_peer(s, li))
		ctl_play_start(e->pl, now_ns);
	ctl_session_set_hold(t, s, !li, true);
	ctl_log_call(CTL_LOG_INFO, s->call_id, "playing %s (payload type %u, "
		     "%zu bytes) to the %s party, %d time(s)%s", name,
		     ctl_play_prompt(e->pl)->pt, ctl_play_prompt(e->pl)->len,
		     li == 1 ? "from-tag" : "to-tag", count,
		     player_has_peer(s, li) ? "" : ", once it has a peer");
	return 0;
}

/* Hand pkt to the owner worker's play ring: the leg's RTP stream as the
 * dataplane holds it now (a replay gives it a new id). */
static void
player_send(struct ctl_player *pr, const struct ctl_session *s, int li,
	    struct rtpb_play_pkt *pkt, struct rte_ring *const rings[],
	    unsigned int n)
{
	const struct ctl_stream *st = &s->leg[li].sock.rtp;
	struct rte_ring *r;

	if (n == 0 || !st->has_id || !st->in_dp) {
		pr->c.ring_full++;
		return;
	}
	pkt->stream_id = st->id;
	pkt->cookie = st->sent.cookie;
	r = rings[rtpb_stream_owner(st->id, n)];
	if (r == NULL || rte_ring_sp_enqueue_elem(r, pkt, sizeof(*pkt)) != 0)
		pr->c.ring_full++;
	else
		pr->c.pkts++;
}

uint64_t
ctl_player_poll(struct ctl_player *pr, struct ctl_sessions *t,
		struct rte_ring *const rings[], unsigned int n, uint64_t now_ns)
{
	uint64_t next = UINT64_MAX, due;
	struct rtpb_play_pkt pkt;
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, pr->players);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct player *e = v;
		struct ctl_session *s = ctl_sessions_by_serial(t, e->serial);
		enum ctl_play_step step = CTL_PLAY_LATER;

		if (s == NULL) {
			/* D, X, timeout: its streams are gone with it */
			player_end(pr, t, NULL, e);
			g_hash_table_iter_remove(&it);
			continue;
		}
		if (player_has_peer(s, e->li))
			ctl_play_start(e->pl, now_ns);
		while ((step = ctl_play_next(e->pl, now_ns, &pkt)) == CTL_PLAY_PKT)
			player_send(pr, s, e->li, &pkt, rings, n);
		if (step == CTL_PLAY_EOF) {
			ctl_log_call(CTL_LOG_INFO, s->call_id, "player finished "
				     "(%llu packets)",
				     (unsigned long long)ctl_play_npkts(e->pl));
			player_end(pr, t, s, e);
			g_hash_table_iter_remove(&it);
			continue;
		}
		due = ctl_play_due_ns(e->pl);
		if (due < next)
			next = due;
	}
	return next;
}

int
ctl_player_cmd(void *arg, struct ctl_sessions *t, struct ctl_session *s,
	       int li, const char *name, const char *codecs, int ptime_ms,
	       int count, uint64_t now_ns)
{
	if (count == 0)
		return ctl_player_stop(arg, t, s, li);
	return ctl_player_start(arg, t, s, li, name, codecs, ptime_ms, count, now_ns);
}

const struct ctl_player_counters *
ctl_player_ctrs(const struct ctl_player *pr)
{
	return &pr->c;
}
