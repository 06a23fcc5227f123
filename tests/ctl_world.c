/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_world.c: control's protocol path against the fakes, and its
 * script directives (ctl_world.h). Every directive is total: a bad
 * argument is refused (-1) before anything is done.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef CTL_WORLD_REC
#include <rte_ring.h>
#include <rte_ring_elem.h>
#endif

#include "ctl_world.h"
#include "fake_ctl_dp.h"
#include "fake_ctl_pf.h"

#define RELAY4 "192.0.2.1"
#define RELAY6 "2001:db8::1"
#define TIME_MAX (1ULL << 62) /* ns; "!wait" stops there */
#define MAX_TOKENS 16

#ifdef CTL_WORLD_REC
/* "config ... play": moh.0 and moh.8 in a new temporary directory, the
 * player over it, a play ring per fake worker. */
static int
world_play_open(struct ctl_world *w, char *err, size_t errsz)
{
	ssize_t sz = rte_ring_get_memsize_elem(RTPB_PLAY_PKT_SIZE, 64);
	uint8_t data[480];
	char path[128];
	FILE *f;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i % 251);
	snprintf(w->play_dir, sizeof(w->play_dir), "/tmp/rtpb-golden-play-XXXXXX");
	if (mkdtemp(w->play_dir) == NULL)
		goto err;
	for (int pt = 0; pt <= 8; pt += 8) {
		snprintf(path, sizeof(path), "%s/moh.%d", w->play_dir, pt);
		f = fopen(path, "wb");
		if (f == NULL || fwrite(data, 1, sizeof(data), f) != sizeof(data) ||
		    fclose(f) != 0)
			goto err;
	}
	w->play = ctl_player_create(ctl_play_dir_open(w->play_dir));
	if (w->play == NULL || sz < 0)
		goto err;
	for (int i = 0; i < CTL_WORLD_WORKERS; i++) {
		w->play_rings[i] = aligned_alloc(64, (size_t)RTE_ALIGN_CEIL(sz, 64));
		if (w->play_rings[i] == NULL ||
		    rte_ring_init(w->play_rings[i], "golden_play", 64,
				  RING_F_SP_ENQ | RING_F_SC_DEQ) != 0)
			goto err;
	}
	return 0;
err:
	snprintf(err, errsz, "player: %s", strerror(errno));
	return -1;
}

/* "play": the player's turn, then what it put on the rings. */
static int
dir_play(struct ctl_world *w)
{
	struct rtpb_play_pkt e;
	int n = 0;

	if (w->play == NULL)
		return -1;
	ctl_player_poll(w->play, w->sess, w->play_rings, CTL_WORLD_WORKERS, w->now);
	for (int i = 0; i < CTL_WORLD_WORKERS; i++) {
		while (rte_ring_sc_dequeue_elem(w->play_rings[i], &e, sizeof(e)) == 0) {
			g_string_append_printf(w->out, "play w%d stream %u len %u pt %u%s at %u\n",
					       i, e.stream_id, e.len, e.rtp[1] & 0x7f,
					       (e.rtp[1] & 0x80) ? " m" : "",
					       e.len > 12 ? (unsigned)e.rtp[12] : 0);
			n++;
		}
	}
	if (n == 0)
		g_string_append(w->out, "play none\n");
	return 0;
}
#endif

/* The relay address table of a configuration. */
static int
build_addrs(struct ctl_addrs *t, const char *kind, char *err, size_t errsz)
{
	static const struct ctl_addr_arg bridge[] = {
		{"192.0.2.1/198.51.100.100", false}};
	static const struct ctl_addr_arg labels[] = {
		{"192.0.2.1", false}, {"pub@192.0.2.2=203.0.113.2", false},
		{"lab2@192.0.2.3", false}, {"2001:db8::1", true}};
	uint32_t r4 = 0;
	uint8_t r6[16];

	inet_pton(AF_INET, RELAY4, &r4);
	inet_pton(AF_INET6, RELAY6, r6);
	if (strcmp(kind, "bridge") == 0)
		return ctl_addrs_build(t, bridge, 1, "10.1.1.1/203.0.113.100",
				       true, err, errsz, NULL, 0);
	if (strcmp(kind, "labels") == 0)
		return ctl_addrs_build(t, labels, 4, NULL, true, err, errsz,
				       NULL, 0);
	ctl_addrs_from_relays(t, strcmp(kind, "inet6") != 0 ? r4 : 0,
			      strcmp(kind, "inet4") != 0 ? r6 : NULL);
	return 0;
}

int
ctl_world_open(struct ctl_world *w, const struct ctl_world_cfg *c, char *err,
	       size_t errsz)
{
	struct ctl_sessions_cfg scfg = {.ttl_ns = 60 * CTL_WORLD_NS,
					.learn_ms = CTL_LEARN_MS};
	struct ctl_exec_cfg ecfg = {.aforce = c->aforce, .fork_no_rtcp = c->no_rtcp};
	struct rtpb_addr served[CTL_ADDRS_MAX];

	if (build_addrs(&w->addrs, c->kind, err, errsz) != 0)
		return -1;
	for (uint32_t i = 0; i < w->addrs.n; i++)
		served[i] = w->addrs.a[i].ip;
	fake_dp_set_addrs(served, w->addrs.n);
	scfg.dp = ctl_dp_create("test");
	scfg.addrs = &w->addrs;
	scfg.journal = w->journal;
	if (ctl_addrs_default(&w->addrs, RTPB_AF_INET) >= 0)
		scfg.ports = w->ports;
	if (ctl_addrs_default(&w->addrs, RTPB_AF_INET6) >= 0)
		scfg.ports6 = w->ports6;
	scfg.setup_ttl_ns = (uint64_t)c->setup_ttl_s * CTL_WORLD_NS;
	fake_pf_reset();
	if (c->pf)
		scfg.pf = ecfg.pf = fake_pf_handle();
	if (c->notify) {
		w->tnotify = ctl_tnotify_create();
		if (w->tnotify == NULL ||
		    ctl_tnotify_add(w->tnotify, "unix:/tmp/rtpb-n.sock", err,
				    errsz) != 0 ||
		    ctl_tnotify_add(w->tnotify, "tcp:127.0.0.1:9", err,
				    errsz) != 0 ||
		    ctl_tnotify_add(w->tnotify, "tcp:%%CC_SELF%%:9", err,
				    errsz) != 0)
			return -1;
		ecfg.tnotify = w->tnotify;
		scfg.notify_resolve = w->notify_resolve;
		scfg.notify_resolve_arg = w->tnotify;
		scfg.on_timeout = w->on_timeout;
		scfg.timeout_arg = w->timeout_arg;
	}
#ifdef CTL_WORLD_REC
	if (c->rec) {
		struct ctl_rec_conf rc = {.record_dir = w->rec_dir, .pcap = c->rec_pcap,
					  .first_id = 1};

		snprintf(w->rec_dir, sizeof(w->rec_dir), "/tmp/rtpb-golden-rec-XXXXXX");
		w->rec = mkdtemp(w->rec_dir) != NULL ? ctl_recorder_create(&rc, false) : NULL;
		if (w->rec == NULL) {
			snprintf(err, errsz, "recorder: %s", strerror(errno));
			return -1;
		}
		scfg.on_rec = ctl_recorder_session;
		scfg.rec_arg = ecfg.rec_arg = w->rec;
		ecfg.rec = ctl_recorder_cmd;
	}
	if (c->play && world_play_open(w, err, errsz) != 0)
		return -1;
	if (w->play != NULL) {
		ecfg.play = ctl_player_cmd;
		ecfg.play_arg = w->play;
		ecfg.play_ctrs = ctl_player_ctrs(w->play);
	}
#endif
	/* without CTL_WORLD_REC (the fuzzer) "rec" is a world without -r,
	 * "play" one without a prompt directory (P: E60) */
	w->sess = ctl_sessions_create(&scfg);
	w->ex = w->sess != NULL ? ctl_exec_create(&ecfg, w->sess) : NULL;
	if (w->ex == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	ctl_sessions_bind_dp(w->sess);
	return 0;
}

#ifdef CTL_WORLD_REC
/* Remove directory dir and the files in it. */
static void
rec_dir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}
#endif

void
ctl_world_close(struct ctl_world *w)
{
	ctl_exec_destroy(w->ex);
	ctl_sessions_destroy(w->sess);
	ctl_tnotify_destroy(w->tnotify);
#ifdef CTL_WORLD_REC
	if (w->play != NULL || w->play_dir[0] != '\0') {
		ctl_player_destroy(w->play);
		rec_dir_remove(w->play_dir);
		for (int i = 0; i < CTL_WORLD_WORKERS; i++) {
			free(w->play_rings[i]);
			w->play_rings[i] = NULL;
		}
		w->play = NULL;
		w->play_dir[0] = '\0';
	}
	if (w->rec != NULL) {
		/* the files the script made, then the directory */
		ctl_recorder_destroy(w->rec);
		rec_dir_remove(w->rec_dir);
		w->rec = NULL;
		w->rec_dir[0] = '\0';
	}
#endif
	w->ex = NULL;
	w->sess = NULL;
	w->tnotify = NULL;
}

int
ctl_world_start(struct ctl_world *w, uint32_t max_streams,
		const struct ctl_world_cfg *c, char *err, size_t errsz)
{
	uint32_t relay;

	inet_pton(AF_INET, RELAY4, &relay);
	fake_dp_reset(CTL_WORLD_WORKERS, max_streams, relay);
	w->max_streams = max_streams;
	w->attached = true;
	w->now = CTL_WORLD_T0;
	w->ports = ctl_ports_create(CTL_WORLD_PORT_LO, CTL_WORLD_PORT_HI, 1);
	w->ports6 = ctl_ports_create(CTL_WORLD_PORT_LO, CTL_WORLD_PORT_HI, 2);
	if (w->ports == NULL || w->ports6 == NULL) {
		snprintf(err, errsz, "ctl_ports_create: out of memory");
		return -1;
	}
	return ctl_world_open(w, c, err, errsz);
}

void
ctl_world_stop(struct ctl_world *w)
{
	ctl_world_close(w);
	ctl_ports_destroy(w->ports);
	ctl_ports_destroy(w->ports6);
	w->ports = w->ports6 = NULL;
}

size_t
ctl_world_command(struct ctl_world *w, const char *in, size_t len,
		  bool datagram, char *out, size_t outsz)
{
	return ctl_exec_text_from(w->ex, in, len, datagram,
				  w->src.ss_family != 0
					  ? (const struct sockaddr *)&w->src
					  : NULL,
				  NULL, w->now, out, outsz);
}

bool
ctl_world_parse_peer(const char *s, struct rtpb_addr *a)
{
	const char *colon = strrchr(s, ':');
	char ip[INET6_ADDRSTRLEN + 2];
	size_t n = colon != NULL ? (size_t)(colon - s) : 0;
	uint16_t port;

	memset(a, 0, sizeof(*a));
	if (colon == NULL || n == 0 || n >= sizeof(ip) ||
	    ctl_addrs_parse_port(colon + 1, &port) != 0)
		return false;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (n > 2 && ip[0] == '[' && ip[n - 1] == ']') {
		ip[n - 1] = '\0';
		if (inet_pton(AF_INET6, ip + 1, a->ip) != 1)
			return false;
		a->family = RTPB_AF_INET6;
	} else {
		if (inet_pton(AF_INET, ip, a->ip) != 1)
			return false;
		a->family = RTPB_AF_INET;
	}
	a->port = htons(port);
	return true;
}

/* "ADDR:PORT", IPv6 as "[ADDR]:PORT", "none". */
static const char *
addr_text(const struct rtpb_addr *a, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->family == RTPB_AF_NONE) {
		snprintf(buf, n, "none");
		return buf;
	}
	inet_ntop(a->family == RTPB_AF_INET6 ? AF_INET6 : AF_INET, a->ip, ip,
		  sizeof(ip));
	snprintf(buf, n, a->family == RTPB_AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
		 ntohs(a->port));
	return buf;
}

/* "dp msgs": what control pushed, one line each, then forget it. */
static void
dp_msgs(struct ctl_world *w)
{
	for (size_t i = 0; i < fake_dp_nmsgs(); i++) {
		const struct rtpb_msg *m = fake_dp_msg(i);
		char l[64], p[64], o[16];
		bool asym, rtcp;

		if (m->hdr.type == RTPB_MSG_STREAM_FORK) {
			if (m->fork.flags & RTPB_FORK_F_ON)
				g_string_append_printf(w->out, "dp FORK %u %s -> %s\n",
						       m->fork.stream_id,
						       addr_text(&m->fork.local, l, sizeof(l)),
						       addr_text(&m->fork.target, p, sizeof(p)));
			else
				g_string_append_printf(w->out, "dp FORK %u off\n",
						       m->fork.stream_id);
			continue;
		}
		if (m->hdr.type == RTPB_MSG_STREAM_DEL) {
			g_string_append_printf(w->out, "dp DEL %u %s\n",
					       m->del.stream_id,
					       addr_text(&m->del.local, l, sizeof(l)));
			continue;
		}
		if (m->stream.out_stream_id == RTPB_STREAM_NONE)
			snprintf(o, sizeof(o), "-");
		else
			snprintf(o, sizeof(o), "%u", m->stream.out_stream_id);
		asym = m->stream.flags & RTPB_STREAM_F_ASYMMETRIC;
		rtcp = m->stream.flags & RTPB_STREAM_F_RTCP;
		g_string_append_printf(
			w->out, "dp %s %u %s peer %s out %s%s%s",
			m->hdr.type == RTPB_MSG_STREAM_ADD ? "ADD" : "UPDATE",
			m->stream.stream_id,
			addr_text(&m->stream.local, l, sizeof(l)),
			addr_text(&m->stream.signalled, p, sizeof(p)), o,
			asym ? " asym" : "", rtcp ? " rtcp" : "");
		/* recording: " rec ID[ orig][ only]" (an UPDATE that stops
		 * it shows " only" alone) */
		if (m->stream.flags & RTPB_STREAM_F_RECORD)
			g_string_append_printf(w->out, " rec %u%s", m->stream.rec_id,
					       (m->stream.flags & RTPB_STREAM_F_REC_ORIG) ?
					       " orig" : "");
		/* "&& S tos=" and catch_dtmf: " tos N", " dtmf PT[ hide]" */
		if (m->stream.flags & RTPB_STREAM_F_TOS)
			g_string_append_printf(w->out, " tos %u", m->stream.tos);
		if (m->stream.flags & RTPB_STREAM_F_DTMF)
			g_string_append_printf(w->out, " dtmf %u%s",
					       m->stream.dtmf_pt & 0x7fu,
					       (m->stream.dtmf_pt & RTPB_DTMF_PT_HIDE) ?
					       " hide" : "");
		if (m->stream.flags & RTPB_STREAM_F_HOLD)
			g_string_append(w->out, " hold");
		if (m->stream.flags & RTPB_STREAM_F_REC_ONLY)
			g_string_append(w->out, " only");
		g_string_append_c(w->out, '\n');
	}
	fake_dp_clear_msgs();
}

/* A whole number in [lo, hi] into *v, or false. */
static bool
parse_num(const char *s, long long lo, long long hi, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return end != s && *end == '\0' && errno == 0 && *v >= lo && *v <= hi;
}

/* A number of seconds in [0, 1e7] as ns, or false. */
static bool
parse_secs(const char *s, uint64_t *ns)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v >= 0 && v <= 1e7))
		return false;
	*ns = (uint64_t)(v * CTL_WORLD_NS);
	return true;
}

static int
dir_dp(struct ctl_world *w, char **tok, int ntok)
{
	struct rtpb_addr a[RTPB_MAX_ADDRS];
	long long n = CTL_WORLD_WORKERS;
	size_t na = 0;

	if (ntok == 2 && strcmp(tok[1], "detach") == 0) {
		fake_dp_set_attached(false);
		w->attached = false;
	} else if (ntok == 2 && strcmp(tok[1], "attach") == 0) {
		fake_dp_set_attached(true);
		w->attached = true;
	} else if (strcmp(tok[1], "restart") == 0 && ntok <= 3) {
		if (ntok == 3 && !parse_num(tok[2], 1, 4, &n))
			return -1;
		fake_dp_restart((uint32_t)n);
		w->attached = true;
	} else if (ntok == 2 && strcmp(tok[1], "ringfull") == 0) {
		fake_dp_set_ring_full(true);
	} else if (ntok == 2 && strcmp(tok[1], "ringok") == 0) {
		fake_dp_set_ring_full(false);
		fake_dp_set_push_budget(-1);
		ctl_sessions_flush(w->sess);
	} else if (ntok == 3 && strcmp(tok[1], "budget") == 0) {
		if (!parse_num(tok[2], 0, 1000, &n))
			return -1;
		fake_dp_set_push_budget((int)n);
	} else if (ntok == 2 && strcmp(tok[1], "clear") == 0) {
		fake_dp_clear_msgs();
	} else if (ntok == 2 && strcmp(tok[1], "msgs") == 0) {
		dp_msgs(w);
	} else if (strcmp(tok[1], "addrs") == 0) {
		for (int i = 2; i < ntok; i++) {
			if (na == RTPB_MAX_ADDRS)
				return -1;
			memset(&a[na], 0, sizeof(a[na]));
			if (inet_pton(AF_INET, tok[i], a[na].ip) == 1)
				a[na++].family = RTPB_AF_INET;
			else if (inet_pton(AF_INET6, tok[i], a[na].ip) == 1)
				a[na++].family = RTPB_AF_INET6;
			else
				return -1;
		}
		fake_dp_set_addrs(a, na);
	} else {
		return -1;
	}
	return 0;
}

static int
dir_pf(struct ctl_world *w, char **tok, int ntok)
{
	long long n;
	uint32_t v = 0;
	char *d;

	(void)w;
	if (ntok == 4 && strcmp(tok[1], "stat") == 0) {
		while (v < RTPB_PF_VERDICT__COUNT &&
		       strcmp(ctl_pf_verdict_name(v), tok[2]) != 0)
			v++;
		if (v == RTPB_PF_VERDICT__COUNT ||
		    !parse_num(tok[3], 0, INT64_MAX, &n))
			return -1;
		fake_pf_set_stat(v, (uint64_t)n);
	} else if (ntok == 3 && strcmp(tok[1], "failadd") == 0) {
		if (!parse_num(tok[2], 0, 64, &n))
			return -1;
		fake_pf_fail_add((int)n, -ENOSPC);
	} else if (ntok == 3 && strcmp(tok[1], "failstats") == 0) {
		fake_pf_fail_stats(strcmp(tok[2], "on") == 0 ? -EIO : 0);
	} else if (ntok == 2 && strcmp(tok[1], "dump") == 0) {
		d = fake_pf_dump();
		g_string_append(w->out, d);
		g_free(d);
	} else {
		return -1;
	}
	return 0;
}

/* "config KIND [pf] [notify] [aforce] [norc] [W=S] [rec [pcap]] [play]": start over. */
static int
dir_config(struct ctl_world *w, char **tok, int ntok)
{
	static const char *const kinds[] = {"inet4", "inet6", "dual", "bridge",
					    "labels"};
	struct ctl_world_cfg c = {0};
	char err[256];
	long long v;

	for (size_t i = 0; ntok > 1 && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(tok[1], kinds[i]) == 0)
			snprintf(c.kind, sizeof(c.kind), "%s", kinds[i]);
	if (c.kind[0] == '\0')
		return -1;
	for (int i = 2; i < ntok; i++) {
		if (strcmp(tok[i], "pf") == 0)
			c.pf = true;
		else if (strcmp(tok[i], "notify") == 0)
			c.notify = true;
		else if (strcmp(tok[i], "aforce") == 0)
			c.aforce = true;
		else if (strcmp(tok[i], "norc") == 0)
			c.no_rtcp = true;
		else if (strcmp(tok[i], "rec") == 0)
			c.rec = true;
		else if (strcmp(tok[i], "pcap") == 0)
			c.rec_pcap = true;
		else if (strcmp(tok[i], "play") == 0)
			c.play = true;
		else if (strncmp(tok[i], "W=", 2) == 0 &&
			 parse_num(tok[i] + 2, 0, 100000, &v))
			c.setup_ttl_s = (long)v;
		else
			return -1;
	}
	if (w->close != NULL)
		w->close(w);
	else
		ctl_world_close(w);
	/* a configuration of ctl_world.c's own cannot fail but for memory */
	return ctl_world_open(w, &c, err, sizeof(err));
}

/* "latch ID PEER [REASON [OLD [DROPPED]]]", as the dataplane sends it. */
static int
dir_latch(struct ctl_world *w, char **tok, int ntok)
{
	struct rtpb_msg_ev_latch ev = {.reason = RTPB_LATCH_LEARN};
	const struct rtpb_msg_stream *m;
	long long id, v;

	if (ntok < 3 || ntok > 6 ||
	    !parse_num(tok[1], 0, (long long)w->max_streams - 1, &id))
		return -1;
	m = fake_dp_last_stream_msg((uint32_t)id, -1);
	if (m == NULL || !ctl_world_parse_peer(tok[2], &ev.peer))
		return -1;
	if (ntok > 3) {
		if (!parse_num(tok[3], 0, RTPB_LATCH_REOFFER, &v))
			return -1;
		ev.reason = (uint32_t)v;
	}
	if (ntok > 4 && !ctl_world_parse_peer(tok[4], &ev.old))
		return -1;
	if (ntok > 5) {
		if (!parse_num(tok[5], 0, INT64_MAX, &v))
			return -1;
		ev.dropped = (uint64_t)v;
	}
	ev.stream_id = (uint32_t)id;
	ev.cookie = m->cookie;
	ev.ssrc = (uint32_t)id * 0x9e3779b9u;
	fake_dp_latch_ev(&ev);
	return 0;
}

/* "dtmf ID EVENT VOLUME DURATION": a DTMF event of stream ID as the
 * dataplane sends it (cookie of its last ADD/UPDATE); outputs the
 * notification control makes of it, "notify TARGET LINE", or "notify
 * none" (ctl_sessions_dtmf()). */
static int
dir_dtmf(struct ctl_world *w, char **tok, int ntok)
{
	struct rtpb_msg_ev_dtmf ev = {.ts = 1000};
	const struct rtpb_msg_stream *m;
	long long id, e, vol, dur;
	char line[512];
	int target;

	if (ntok != 5 || !parse_num(tok[1], 0, (long long)w->max_streams - 1, &id) ||
	    !parse_num(tok[2], 0, 255, &e) || !parse_num(tok[3], 0, 63, &vol) ||
	    !parse_num(tok[4], 0, 65535, &dur))
		return -1;
	m = fake_dp_last_stream_msg((uint32_t)id, -1);
	if (m == NULL)
		return -1;
	ev.stream_id = (uint32_t)id;
	ev.cookie = m->cookie;
	ev.event = (uint8_t)e;
	ev.volume = (uint8_t)vol;
	ev.duration = (uint16_t)dur;
	if (ctl_sessions_dtmf(w->sess, &ev, &target, line, sizeof(line)) == 0)
		g_string_append_printf(w->out, "notify %d %s\n", target, line);
	else
		g_string_append(w->out, "notify none\n");
	return 0;
}

static int
dir_src(struct ctl_world *w, const char *a)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	else if (strcmp(a, "none") != 0)
		return -1;
	w->src = ss;
	return 0;
}

static int
dir_rx(struct ctl_world *w, const char *ids, const char *ns)
{
	struct rtpb_stream_stats *st;
	long long id, n;

	if (!parse_num(ids, 0, (long long)w->max_streams - 1, &id) ||
	    !parse_num(ns, 0, INT64_MAX, &n))
		return -1;
	st = fake_dp_stats((uint32_t)id);
	st->pkts_in += (uint64_t)n;
	st->pkts_relayed += (uint64_t)n;
	st->last_rx_ns = w->now;
	return 0;
}

int
ctl_world_directive(struct ctl_world *w, const char *line)
{
	char buf[256];
	char *tok[MAX_TOKENS], *save = NULL;
	int ntok = 0;
	uint64_t ns;

	if (strlen(line) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " \t\r", &save); t != NULL;
	     t = strtok_r(NULL, " \t\r", &save)) {
		if (ntok == MAX_TOKENS)
			return -1;
		tok[ntok++] = t;
	}
	if (ntok == 0)
		return -1;
	if (ntok == 2 && strcmp(tok[0], "time") == 0 && parse_secs(tok[1], &ns)) {
		if (ns > w->now)
			w->now = ns;
		fake_dp_set_clock(w->now);
	} else if (ntok == 2 && strcmp(tok[0], "wait") == 0 &&
		   parse_secs(tok[1], &ns)) {
		if (w->now < TIME_MAX) /* time never wraps */
			w->now += ns;
		fake_dp_set_clock(w->now);
		ctl_sessions_tick(w->sess, w->now);
		ctl_exec_tick(w->ex, w->now);
	} else if (ntok == 1 && strcmp(tok[0], "tick") == 0) {
		ctl_sessions_tick(w->sess, w->now);
		ctl_exec_tick(w->ex, w->now);
	} else if (ntok >= 2 && strcmp(tok[0], "dp") == 0) {
		return dir_dp(w, tok, ntok);
	} else if (ntok >= 2 && strcmp(tok[0], "pf") == 0) {
		return dir_pf(w, tok, ntok);
	} else if (strcmp(tok[0], "config") == 0) {
		return dir_config(w, tok, ntok);
	} else if (ntok == 2 && strcmp(tok[0], "src") == 0) {
		return dir_src(w, tok[1]);
	} else if (strcmp(tok[0], "latch") == 0) {
		return dir_latch(w, tok, ntok);
	} else if (strcmp(tok[0], "dtmf") == 0) {
		return dir_dtmf(w, tok, ntok);
#ifdef CTL_WORLD_REC
	} else if (ntok == 1 && strcmp(tok[0], "play") == 0) {
		return dir_play(w);
#endif
	} else if (ntok == 3 && strcmp(tok[0], "rx") == 0) {
		return dir_rx(w, tok[1], tok[2]);
	} else if (ntok == 2 && strcmp(tok[0], "drain") == 0) {
		ctl_exec_set_draining(w->ex, strcmp(tok[1], "on") == 0);
	} else if (ntok == 2 && strcmp(tok[0], "load") == 0 &&
		   parse_secs(tok[1], &ns)) {
		ctl_exec_set_load(w->ex, (double)ns / CTL_WORLD_NS);
	} else {
		return -1;
	}
	return 0;
}
