/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_metrics.c: the Prometheus endpoint (ctl_metrics.h says why the
 * main thread renders and the HTTP thread only copies).
 *
 * Who writes what: the main thread writes text/len (under lock) in
 * ctl_metrics_update(); libmicrohttpd's thread reads them (under lock)
 * in serve(). Nothing else is shared.
 *
 * What is exported, all already counted (no counter was added to the
 * dataplane's fast path for it):
 *  - rtpbypass_sessions, rtpbypass_streams: live now (gauges);
 *  - every G counter the table in ctl_cmd_exec.c names a metric for
 *    (sessions, relayed and received packets, latches, handovers,
 *    reverts, E98 refusals, commands, worker stalls, prefilter verdicts);
 *  - the dataplane's lcore counters (rtpb_shm.h): frames and bytes in
 *    and out, drops by reason (RTPB_FOREACH_DROP's names), neighbour
 *    refusals, lost events, each worker's busy and total cycles, and
 *    its in-dataplane latency histogram (render_latency()).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <microhttpd.h>

#include "ctl_cmd_exec.h"
#include "ctl_dp.h"
#include "ctl_metrics.h"
#include "ctl_session.h"

#define PREFIX "rtpbypass_"
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* a scraper or two, and a curl: more is a misuse */
#define MAX_CONN 16
#define MAX_CONN_PER_IP 4
#define CONN_TIMEOUT_S 10

struct ctl_metrics {
	struct ctl_metrics_addr addr;
	int fd;                  /* listening socket; MHD's once started */
	uint16_t port;           /* bound port, host order */
	struct MHD_Daemon *mhd;  /* NULL until ctl_metrics_start() */
	pthread_mutex_t lock;    /* guards text and len */
	char *text;              /* latest exposition, NULL before the first */
	size_t len;
};

int
ctl_metrics_parse_addr(const char *s, struct ctl_metrics_addr *out,
		       char *err, size_t errsz)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;
	char host[64];
	const char *colon = strrchr(s, ':'), *h = s;
	bool v6;
	size_t hlen;
	char *end;
	long port;

	memset(out, 0, sizeof(*out));
	if (colon == NULL || colon == s) {
		snprintf(err, errsz, "'%s': not ADDR:PORT (e.g. 127.0.0.1:9476, "
			 "[::1]:9476)", s);
		return -EINVAL;
	}
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']') {
			snprintf(err, errsz, "'%s': an IPv6 address goes in "
				 "brackets ([::1]:9476)", s);
			return -EINVAL;
		}
		h = s + 1;
		hlen -= 2;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 1 ||
	    port > 65535) {
		snprintf(err, errsz, "'%s': port '%s' not in 1..65535", s,
			 colon + 1);
		return -EINVAL;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errsz, "'%s': address too long", s);
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	v6 = s[0] == '[';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host,
		      v6 ? (void *)&in6->sin6_addr : (void *)&in->sin_addr) != 1) {
		snprintf(err, errsz, "'%s': '%s' is not %s", s, host,
			 v6 ? "an IPv6 address"
			    : "an IPv4 address, [IPv6] or localhost");
		return -EINVAL;
	}
	if (v6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*in6);
	} else {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		out->len = sizeof(*in);
	}
	snprintf(out->text, sizeof(out->text), v6 ? "[%s]:%u" : "%s:%u", host,
		 (unsigned)(uint16_t)port);
	return 0;
}

struct ctl_metrics *
ctl_metrics_open(const struct ctl_metrics_addr *a, char *err, size_t errsz)
{
	struct ctl_metrics *m = calloc(1, sizeof(*m));
	const char *what = "socket";
	struct sockaddr_storage bound;
	socklen_t bound_len;
	int one = 1, e;

	if (m == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	m->addr = *a;
	m->fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0)
		goto err;
	what = "setsockopt SO_REUSEADDR";
	if (setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		goto err;
	what = "setsockopt IPV6_V6ONLY";
	if (a->ss.ss_family == AF_INET6 &&
	    setsockopt(m->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
		goto err;
	what = "bind";
	if (bind(m->fd, (const struct sockaddr *)&a->ss, a->len) != 0)
		goto err;
	what = "listen";
	if (listen(m->fd, MAX_CONN) != 0)
		goto err;
	what = "getsockname";
	bound_len = sizeof(bound);
	if (getsockname(m->fd, (struct sockaddr *)&bound, &bound_len) != 0)
		goto err;
	m->port = ntohs(bound.ss_family == AF_INET6
				? ((struct sockaddr_in6 *)&bound)->sin6_port
				: ((struct sockaddr_in *)&bound)->sin_port);
	pthread_mutex_init(&m->lock, NULL);
	return m;
err:
	e = errno;
	snprintf(err, errsz, "%s %s: %s", what, a->text, strerror(e));
	if (m->fd >= 0)
		close(m->fd);
	free(m);
	errno = e;
	return NULL;
}

uint16_t
ctl_metrics_port(const struct ctl_metrics *m)
{
	return m->port;
}

/* A fixed body (an error page) with status code. */
static enum MHD_Result
reply_static(struct MHD_Connection *c, unsigned int code, const char *body,
	     const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

/*
 * libmicrohttpd's request handler (its thread): GET or HEAD /metrics
 * gets a copy of the latest text; any other path 404, any other method
 * 405, before the first render 503. Answered on the first call, so a
 * request body is never read (MHD closes such a connection after).
 */
static enum MHD_Result
serve(void *cls, struct MHD_Connection *c, const char *url,
      const char *method, const char *version, const char *upload,
      size_t *upload_size, void **con_cls)
{
	struct ctl_metrics *m = cls;
	struct MHD_Response *r = NULL;
	enum MHD_Result rc;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_static(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				    "method not allowed\n", "GET, HEAD");
	if (strcmp(url, "/metrics") != 0)
		return reply_static(c, MHD_HTTP_NOT_FOUND,
				    "not found: the metrics are at /metrics\n",
				    NULL);
	pthread_mutex_lock(&m->lock);
	if (m->text != NULL)
		r = MHD_create_response_from_buffer(m->len, m->text,
						    MHD_RESPMEM_MUST_COPY);
	pthread_mutex_unlock(&m->lock);
	if (r == NULL)
		return reply_static(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "no metrics yet\n", NULL);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

int
ctl_metrics_start(struct ctl_metrics *m)
{
	/* poll(), not select(): control may hold more than FD_SETSIZE fds */
	unsigned int flags = MHD_USE_POLL_INTERNAL_THREAD;

	if (m->addr.ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, serve, m,
				  MHD_OPTION_LISTEN_SOCKET, m->fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONN,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				  (unsigned int)MAX_CONN_PER_IP,
				  MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned int)CONN_TIMEOUT_S,
				  MHD_OPTION_END);
	if (m->mhd == NULL)
		return errno != 0 ? -errno : -EIO;
	m->fd = -1; /* MHD's now: MHD_stop_daemon() closes it */
	return 0;
}

/* "# HELP" and "# TYPE" of metric PREFIX name. */
static void
family(GString *b, const char *name, bool gauge, const char *help)
{
	g_string_append_printf(b, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX
			       "%s %s\n", name, help, name,
			       gauge ? "gauge" : "counter");
}

/* One sample: PREFIX name{label} value (label NULL: none). */
static void
sample(GString *b, const char *name, const char *label, uint64_t v)
{
	g_string_append_printf(b, PREFIX "%s%s%s%s %" PRIu64 "\n", name,
			       label != NULL ? "{" : "",
			       label != NULL ? label : "",
			       label != NULL ? "}" : "", v);
}

/* A metric of one unlabelled sample. */
static void
single(GString *b, const char *name, bool gauge, const char *help, uint64_t v)
{
	family(b, name, gauge, help);
	sample(b, name, NULL, v);
}

/* The G table's exported counters (ctl_cmd_exec.c names them). */
static void
render_exec(GString *b, struct ctl_exec *ex)
{
	struct ctl_exec_stats st;

	ctl_exec_stats_read(ex, true, &st);
	for (size_t i = 0; i < st.n; i++) {
		const struct ctl_exec_stat *e = &st.e[i];

		if (e->metric == NULL || e->dbl)
			continue;
		if (e->help != NULL)
			family(b, e->metric, e->gauge, e->help);
		sample(b, e->metric, e->label, e->u);
	}
}

/*
 * The workers' in-dataplane latency (issue 19, dataplane/dp_lat.h): one
 * histogram per worker, rtpbypass_worker_latency_seconds{worker="i"},
 * from the sampled RX-burst-to-TX-burst times counted in the lcore
 * counters by bucket (RTPB_FOREACH_LAT_BUCKET). Prometheus wants
 * cumulative buckets: le="b" counts samples below b (the dataplane's
 * bounds are exclusive; at ns resolution the difference is one ns).
 * The dataplane keeps no sum of samples, so there is no _sum: quantiles
 * (histogram_quantile()) need only the buckets. The largest sample is a
 * gauge of its own, rtpbypass_worker_latency_max_seconds.
 */
static void
render_latency(GString *b, const struct ctl_dp *dp, uint32_t nw)
{
	static const struct {
		size_t off; /* in struct rtpb_lcore_stats */
		double le;  /* upper bound, s */
	} bk[] = {
#define LAT_BK(f, bound_ns)                                                    \
		{offsetof(struct rtpb_lcore_stats, f), (bound_ns) / 1e9},
		RTPB_FOREACH_LAT_BUCKET(LAT_BK)
#undef LAT_BK
	};
	struct rtpb_lcore_stats w;
	const char *name = "worker_latency_seconds";

	g_string_append_printf(b, "# HELP " PREFIX "%s Time a sampled burst "
			       "spends in a worker, RX burst to TX burst (1 in "
			       "64 bursts)\n# TYPE " PREFIX
			       "%s histogram\n", name, name);
	for (uint32_t i = 0; i < nw; i++) {
		uint64_t cum = 0;

		if (ctl_dp_lcore_stats(dp, i, &w) != 0)
			continue;
		for (size_t k = 0; k < sizeof(bk) / sizeof(bk[0]); k++) {
			cum += *(const uint64_t *)((const char *)&w + bk[k].off);
			g_string_append_printf(b, PREFIX "%s_bucket{worker=\"%u\","
					       "le=\"%g\"} %" PRIu64 "\n", name,
					       i, bk[k].le, cum);
		}
		cum += w.lat_ge_128us;
		g_string_append_printf(b, PREFIX "%s_bucket{worker=\"%u\","
				       "le=\"+Inf\"} %" PRIu64 "\n" PREFIX
				       "%s_sum{worker=\"%u\"} %.9f\n" PREFIX
				       "%s_count{worker=\"%u\"} %" PRIu64 "\n",
				       name, i, cum, name, i, w.lat_sum_ns / 1e9, name, i,
				       w.lat_samples);
	}
	family(b, "worker_latency_max_seconds", true,
	       "Largest sampled RX-to-TX time of the worker");
	for (uint32_t i = 0; i < nw; i++) {
		if (ctl_dp_lcore_stats(dp, i, &w) != 0)
			continue;
		g_string_append_printf(b, PREFIX "worker_latency_max_seconds"
				       "{worker=\"%u\"} %.9f\n", i,
				       w.lat_max_ns / 1e9);
	}
}

/* The dataplane's lcore counters: totals, drops by reason, per worker. */
static void
render_dp(GString *b, const struct ctl_dp *dp)
{
	/* counters per worker lcore (the main lcore's are in the totals) */
	static const struct {
		const char *name, *help;
		size_t off; /* in struct rtpb_lcore_stats */
	} per_worker[] = {
		{"worker_busy_cycles_total",
		 "TSC cycles of worker loops that handled packets",
		 offsetof(struct rtpb_lcore_stats, busy_cycles)},
		{"worker_cycles_total",
		 "TSC cycles of all worker loops (busy and idle)",
		 offsetof(struct rtpb_lcore_stats, total_cycles)},
		{"worker_mirror_copies_total",
		 "Recorded packets copied to the worker's mirror ring",
		 offsetof(struct rtpb_lcore_stats, mirror_copies)},
		{"worker_mirror_drops_total",
		 "Recorded packets not copied: the mirror ring was full",
		 offsetof(struct rtpb_lcore_stats, mirror_drops)},
		{"worker_fork_copies_total",
		 "Forked copies sent to fork targets (C udp:host:port)",
		 offsetof(struct rtpb_lcore_stats, fork_copies)},
		{"worker_fork_drops_total",
		 "Forked copies not sent: no mbuf, next hop, TX queue full",
		 offsetof(struct rtpb_lcore_stats, fork_drops)},
	};
	struct rtpb_lcore_stats t, w;
	uint32_t nw = ctl_dp_n_workers(dp);
	char label[64];

	ctl_dp_totals(dp, &t); /* zeros when detached */
	single(b, "dataplane_up", true,
	       "1 while control is attached to a running dataplane",
	       ctl_dp_ready(dp) ? 1 : 0);
	single(b, "dataplane_workers", true, "Worker lcores of the dataplane", nw);
	single(b, "dataplane_received_packets_total", false,
	       "Frames the dataplane received (since it started)", t.rx_pkts);
	single(b, "dataplane_received_bytes_total", false,
	       "Frame bytes the dataplane received", t.rx_bytes);
	single(b, "dataplane_transmitted_packets_total", false,
	       "Frames the dataplane sent (relayed media, ARP, NDP)", t.tx_pkts);
	single(b, "dataplane_transmitted_bytes_total", false,
	       "Frame bytes the dataplane sent", t.tx_bytes);
	single(b, "dataplane_relayed_packets_total", false,
	       "Packets the dataplane forwarded to the other leg", t.relayed);
	family(b, "dropped_packets_total", false,
	       "Packets the dataplane dropped, by reason (rtpb_shm.h "
	       "RTPB_FOREACH_DROP)");
	for (uint32_t r = RTPB_DROP_NONE + 1; r < RTPB_DROP__COUNT; r++) {
		snprintf(label, sizeof(label), "reason=\"%s\"", rtpb_drop_name(r));
		sample(b, "dropped_packets_total", label, t.drops[r]);
	}
	family(b, "neighbour_refused_total", false,
	       "ARP/NDP senders not learned as neighbours, by reason");
	sample(b, "neighbour_refused_total", "reason=\"offlink\"",
	       t.neigh_refused_offlink);
	sample(b, "neighbour_refused_total", "reason=\"mac\"",
	       t.neigh_refused_mac);
	sample(b, "neighbour_refused_total", "reason=\"full\"",
	       t.neigh_refused_full);
	single(b, "dataplane_events_lost_total", false,
	       "Latch events the dataplane dropped (its ring to control full)",
	       t.events_lost);
	single(b, "dataplane_sync_timeouts_total", false,
	       "Commands whose streams the dataplane did not apply in time",
	       ctl_dp_sync_timeouts(dp));
	for (size_t k = 0; k < sizeof(per_worker) / sizeof(per_worker[0]); k++) {
		family(b, per_worker[k].name, false, per_worker[k].help);
		for (uint32_t i = 0; i < nw; i++) {
			if (ctl_dp_lcore_stats(dp, i, &w) != 0)
				continue;
			snprintf(label, sizeof(label), "worker=\"%u\"", i);
			sample(b, per_worker[k].name, label,
			       *(const uint64_t *)((const char *)&w +
						   per_worker[k].off));
		}
	}
	render_latency(b, dp, nw);
}

/* One histogram of per-call quality (Prometheus text format: cumulative
 * buckets, +Inf, _sum, _count); bucket[] holds per-bucket counts. */
static void
histogram(GString *b, const char *name, const char *help, const double *bounds,
	  const uint64_t *bucket, double sum, uint64_t count)
{
	uint64_t cum = 0;

	g_string_append_printf(b, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX
			       "%s histogram\n", name, help, name);
	for (int i = 0; i < CTL_QUALITY_NBUCKETS; i++) {
		cum += bucket[i];
		g_string_append_printf(b, PREFIX "%s_bucket{le=\"%g\"} %" PRIu64
				       "\n", name, bounds[i], cum);
	}
	cum += bucket[CTL_QUALITY_NBUCKETS];
	g_string_append_printf(b, PREFIX "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n"
			       PREFIX "%s_sum %.9g\n" PREFIX "%s_count %" PRIu64
			       "\n", name, cum, name, sum, name, count);
}

/* Replies by command and result: rtpbypass_commands_total{command="U",
 * result="ok"|"E<n>"} (only the pairs seen). */
static void
render_commands(GString *b, const struct ctl_exec *ex)
{
	struct ctl_exec_counters *c = g_new(struct ctl_exec_counters, 1);
	char label[64];

	ctl_exec_counters(ex, c);
	family(b, "commands_total", false,
	       "Commands replied, by command letter and result (ok or the E code)");
	for (int t = 0; t <= CTL_EXEC_CMD_OTHER; t++)
		for (int r = 0; r < CTL_EXEC_RESULTS; r++) {
			char res[8];

			if (c->by_cmd[t][r] == 0)
				continue;
			if (r == 0)
				snprintf(res, sizeof(res), "ok");
			else
				snprintf(res, sizeof(res), "E%d", r);
			snprintf(label, sizeof(label), "command=\"%c\",result=\"%s\"",
				 t == CTL_EXEC_CMD_OTHER ? '?' : 'A' + t, res);
			sample(b, "commands_total", label, c->by_cmd[t][r]);
		}
	g_free(c);
}

/* Per-call quality at session end (ctl_session.c's session_quality()):
 * one observation per direction that carried RTP. */
static void
render_quality(GString *b, const struct ctl_sessions_counters *c)
{
	static const double lb[] = CTL_QUALITY_LOSS_BOUNDS;
	static const double jb[] = CTL_QUALITY_JITTER_BOUNDS;

	histogram(b, "call_loss_ratio",
		  "RTP loss of ended calls, per direction: lost / expected "
		  "(RFC 3550 A.3)", lb, c->q_loss_bucket, c->q_loss_sum,
		  c->q_count);
	histogram(b, "call_jitter_seconds",
		  "Interarrival jitter of ended calls at their end, per "
		  "direction (RFC 3550 A.8)", jb, c->q_jitter_bucket,
		  c->q_jitter_sum, c->q_count);
}

void
ctl_metrics_update(struct ctl_metrics *m, struct ctl_exec *ex,
		   const struct ctl_sessions *sess, const struct ctl_dp *dp)
{
	struct ctl_sessions_counters c;
	GString *b;
	char *old;
	size_t len;

	if (m == NULL)
		return;
	b = g_string_sized_new(m->len + 256);
	ctl_sessions_counters(sess, &c);
	single(b, "sessions", true, "Live sessions", c.active);
	single(b, "streams", true,
	       "Live RTP streams (two per session, as rtpproxy counts them)",
	       c.streams);
	render_exec(b, ex);
	render_dp(b, dp);
	render_quality(b, &c);
	render_commands(b, ex);
	len = b->len;
	pthread_mutex_lock(&m->lock);
	old = m->text;
	m->text = g_string_free(b, FALSE);
	m->len = len;
	pthread_mutex_unlock(&m->lock);
	g_free(old);
}

void
ctl_metrics_close(struct ctl_metrics *m)
{
	if (m == NULL)
		return;
	if (m->mhd != NULL)
		MHD_stop_daemon(m->mhd);
	if (m->fd >= 0)
		close(m->fd);
	pthread_mutex_destroy(&m->lock);
	g_free(m->text);
	free(m);
}
