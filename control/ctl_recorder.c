/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_recorder.c: recording wired to the sessions (ctl_recorder.h).
 *
 * Owns the writer (struct ctl_rec), the recording ids and the stops not
 * yet applied. A leg's recording id lives in the session (ctl_leg.rec_id,
 * which the reconciliation turns into the stream's RECORD flag and id);
 * the ids are this module's counter: never 0, never one in use.
 */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_log.h"
#include "ctl_rec_ring.h"
#include "ctl_recorder.h"

struct ctl_recorder {
	struct ctl_rec *rec;
	bool all;        /* -a */
	bool pcap;       /* -P: s means one file */
	bool no_rtcp;    /* -R */
	uint32_t next_id;
	GArray *stops;   /* uint32_t ids to stop at the next poll */
	uint64_t flush_ns;
	bool ring_bad[RTPB_MAX_WORKERS]; /* a malformed record: not drained */
};

struct ctl_recorder *
ctl_recorder_create(const struct ctl_rec_conf *conf, bool all)
{
	struct ctl_recorder *rr = calloc(1, sizeof(*rr));

	if (rr == NULL)
		return NULL;
	rr->rec = ctl_rec_create(conf);
	if (rr->rec == NULL) {
		int e = errno;

		free(rr);
		errno = e;
		return NULL;
	}
	rr->all = all;
	rr->pcap = conf->pcap;
	rr->no_rtcp = conf->no_rtcp;
	/* Ids go on from the wall clock (seconds << 8), not from 1: after a
	 * control restart the dataplane may still mirror the kept streams
	 * of an earlier control's recordings under its ids (dropped here as
	 * unknown), which must not land in this control's files. An earlier
	 * control's ids reach this one's only if it started more than 256
	 * recordings a second on average. */
	rr->next_id = conf->first_id != 0 ? conf->first_id :
		      (uint32_t)((uint64_t)time(NULL) << 8);
	rr->stops = g_array_new(false, false, sizeof(uint32_t));
	return rr;
}

void
ctl_recorder_destroy(struct ctl_recorder *rr)
{
	if (rr == NULL)
		return;
	ctl_rec_destroy(rr->rec);
	g_array_free(rr->stops, true);
	free(rr);
}

/* A recording id: non-zero, not in use. */
static uint32_t
recorder_id(struct ctl_recorder *rr)
{
	while (rr->next_id == 0 || ctl_rec_active(rr->rec, rr->next_id))
		rr->next_id++;
	return rr->next_id++;
}

/* rtpproxy's from_tag_nmn: the session's from-tag without ";<medianum>". */
static char *
recorder_tag(const struct ctl_session *s)
{
	const char *semi = strchr(s->from_tag, ';');

	return g_strndup(s->from_tag, semi != NULL ? (gsize)(semi - s->from_tag)
						   : strlen(s->from_tag));
}

/* Start recording the party of leg li. */
static int
recorder_start(struct ctl_recorder *rr, struct ctl_sessions *t,
	       struct ctl_session *s, int li, const char *name, unsigned int flags)
{
	uint32_t id;
	char *tag;
	int rc;

	if (s->leg[li].rec_id != 0)
		return -EALREADY;
	id = recorder_id(rr);
	tag = recorder_tag(s);
	rc = ctl_rec_start(rr->rec, id, s->call_id, tag, name,
			   (flags & CTL_REC_SINGLE) | (li == 1 ? CTL_REC_ORIG : 0));
	g_free(tag);
	if (rc != 0)
		return rc;
	ctl_session_set_record(t, s, li, id, !rr->no_rtcp);
	ctl_log_call(CTL_LOG_INFO, s->call_id, "recording %s party (id %u)%s%s",
		     li == 1 ? "from-tag" : "to-tag", id, name != NULL ? " to " : "",
		     name != NULL ? name : "");
	return 0;
}

/* The leg no longer records; its files close at the next poll. */
static void
recorder_stop(struct ctl_recorder *rr, struct ctl_sessions *t,
	      struct ctl_session *s, int li, bool tell)
{
	uint32_t id = s->leg[li].rec_id;

	if (tell)
		ctl_session_set_record(t, s, li, 0, false);
	else
		s->leg[li].rec_id = 0;
	g_array_append_val(rr->stops, id);
}

int
ctl_recorder_cmd(void *arg, struct ctl_sessions *t, struct ctl_session *s,
		 int li, const char *name, unsigned int flags)
{
	struct ctl_recorder *rr = arg;
	int rc;

	if (flags & CTL_RECORDER_STOP) {
		if (s->leg[li].rec_id == 0)
			return -ENOENT;
		recorder_stop(rr, t, s, li, true);
		return 0;
	}
	/* rtpproxy RSF_MODE_DFLT(): without -P, s changes nothing; with it
	 * one file holds both parties */
	if (!rr->pcap)
		flags &= ~(unsigned int)CTL_REC_SINGLE;
	rc = recorder_start(rr, t, s, li, name, flags);
	if (rc != 0 || !(flags & CTL_REC_SINGLE))
		return rc;
	rc = recorder_start(rr, t, s, !li, name, flags);
	return rc == -EALREADY ? 0 : rc;
}

void
ctl_recorder_session(struct ctl_sessions *t, struct ctl_session *s,
		     bool created, void *arg)
{
	struct ctl_recorder *rr = arg;

	if (created) {
		/* -a: both parties from the start (with -P in one file) */
		if (rr->all)
			ctl_recorder_cmd(rr, t, s, 1, NULL, CTL_REC_SINGLE);
		return;
	}
	for (int li = 0; li < 2; li++)
		if (s->leg[li].rec_id != 0)
			recorder_stop(rr, t, s, li, false);
}

unsigned long
ctl_recorder_poll(struct ctl_recorder *rr, struct rte_ring *const rings[],
		  unsigned int n, uint64_t now_ns)
{
	unsigned long taken = 0;
	long got;

	for (unsigned int w = 0; w < n && w < RTPB_MAX_WORKERS; w++) {
		if (rings[w] == NULL || rr->ring_bad[w])
			continue;
		got = ctl_rec_ring_drain(rr->rec, rings[w], CTL_RECORDER_POLL_ELEMS);
		if (got < 0) {
			ctl_log(CTL_LOG_ERR, "mirror ring of worker %u: malformed "
				"record, not drained any more", w);
			rr->ring_bad[w] = true;
			continue;
		}
		taken += (unsigned long)got;
	}
	/* the stops asked before this turn: their copies are written now,
	 * unless the rings held more than one turn takes */
	if (rr->stops->len > 0 && taken < CTL_RECORDER_POLL_ELEMS) {
		for (guint i = 0; i < rr->stops->len; i++)
			ctl_rec_stop(rr->rec, g_array_index(rr->stops, uint32_t, i));
		g_array_set_size(rr->stops, 0);
	}
	if (now_ns - rr->flush_ns >= 1000000000ull) {
		ctl_rec_flush(rr->rec);
		rr->flush_ns = now_ns;
	}
	return taken;
}

void
ctl_recorder_stats(const struct ctl_recorder *rr, struct ctl_rec_stats *st)
{
	ctl_rec_stats(rr->rec, st);
}
