/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_stats.c: progress lines and the summary (see gen_stats.h). Runs
 * once per second and at the end, never per frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gen_stats.h"

static const char *const dir_name[2] = { "a_to_b", "b_to_a" };
static const char *const dir_text[2] = { "A>B", "B>A" };

int
gen_stats_samples_init(struct gen_run *r, uint32_t max)
{
	struct gen_samples *s = &r->smp;

	s->n = 0;
	s->max = max;
	s->tx_fps = calloc(max, sizeof(double));
	s->rx_fps[0] = calloc(max, sizeof(double));
	s->rx_fps[1] = calloc(max, sizeof(double));
	s->p99_us[0] = calloc(max, sizeof(double));
	s->p99_us[1] = calloc(max, sizeof(double));
	if (s->tx_fps == NULL || s->rx_fps[0] == NULL || s->rx_fps[1] == NULL ||
	    s->p99_us[0] == NULL || s->p99_us[1] == NULL) {
		gen_stats_free(r);
		return -ENOMEM;
	}
	return 0;
}

void
gen_stats_free(struct gen_run *r)
{
	struct gen_samples *s = &r->smp;

	free(s->tx_fps);
	free(s->rx_fps[0]);
	free(s->rx_fps[1]);
	free(s->p99_us[0]);
	free(s->p99_us[1]);
	memset(s, 0, sizeof(*s));
}

void
gen_stats_progress(struct gen_run *r, double t_s, double interval_s,
		   uint64_t sent, bool sending)
{
	struct gen_samples *s = &r->smp;
	double rx[2], p[2][3];
	int d;

	for (d = 0; d < 2; d++) {
		struct gen_dir *g = &r->dir[d];

		rx[d] = (double)(g->rx - g->rx_prev) / interval_s;
		g->rx_prev = g->rx;
		p[d][0] = (double)gen_hist_quantile(&g->lat_int, 0.5) / 1e3;
		p[d][1] = (double)gen_hist_quantile(&g->lat_int, 0.99) / 1e3;
		p[d][2] = (double)gen_hist_quantile(&g->lat_int, 0.999) / 1e3;
		memset(&g->lat_int, 0, sizeof(g->lat_int));
	}
	if (sending && s->n < s->max) {
		s->tx_fps[s->n] = (double)sent / interval_s;
		for (d = 0; d < 2; d++) {
			s->rx_fps[d][s->n] = rx[d];
			s->p99_us[d][s->n] = p[d][1];
		}
		s->n++;
	}
	if (r->cfg->quiet)
		return;
	fprintf(stderr, "rtpb-gen: t=%5.1fs tx %9.0f/s", t_s,
		(double)sent / interval_s);
	for (d = 0; d < 2; d++)
		fprintf(stderr,
			" | %s rx %9.0f/s lat p50 %.1f p99 %.1f p99.9 %.1f us",
			dir_text[d], rx[d], p[d][0], p[d][1], p[d][2]);
	fprintf(stderr, " | missing %ld reord %lu%s\n",
		(long)(r->dir[0].sent + r->dir[1].sent - r->dir[0].rx -
		       r->dir[1].rx),
		(unsigned long)(r->dir[0].reordered + r->dir[1].reordered),
		sending ? "" : " (draining)");
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* min, median, max of samples; the first second (ramp-up) is left out
 * when there are at least 3. */
static void
spread(const double *v, uint32_t n, double out[3])
{
	double *c;
	uint32_t skip = n >= 3 ? 1 : 0, m = n - skip;

	out[0] = out[1] = out[2] = 0;
	if (m == 0)
		return;
	c = malloc(sizeof(double) * m);
	if (c == NULL)
		return;
	memcpy(c, v + skip, sizeof(double) * m);
	qsort(c, m, sizeof(double), cmp_double);
	out[0] = c[0];
	out[1] = m % 2 ? c[m / 2] : (c[m / 2 - 1] + c[m / 2]) / 2;
	out[2] = c[m - 1];
	free(c);
}

static void
json_samples(FILE *f, const double *v, uint32_t n)
{
	uint32_t i;

	fputc('[', f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%.0f", i ? "," : "", v[i]);
	fputc(']', f);
}

static void
json_ctl(FILE *f, const char *name, const struct gen_ctl_stats *c)
{
	fprintf(f,
		"\"%s\":{\"calls_ok\":%u,\"calls_failed\":%u,\"commands\":%lu,"
		"\"resends\":%lu,\"no_reply\":%lu,\"errors\":%lu,"
		"\"feature_cmds\":%lu,\"seconds\":%.6f,"
		"\"calls_per_s\":%.1f,\"first_error\":\"",
		name, c->calls_ok, c->calls_failed, (unsigned long)c->commands,
		(unsigned long)c->resends, (unsigned long)c->no_reply,
		(unsigned long)c->errors, (unsigned long)c->feature_cmds,
		c->seconds,
		c->seconds > 0 ? c->calls_ok / c->seconds : 0);
	for (const char *p = c->first_error; *p; p++)
		if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
			fputc(*p, f);
	fputs("\"},", f);
}

static void
summary_json(const struct gen_run *r, const struct gen_summary *s, FILE *f)
{
	const struct gen_samples *sm = &r->smp;
	double sp[3];
	uint32_t q;
	int d;

	fprintf(f, "{\"calls\":%u,", s->calls);
	if (s->setup != NULL)
		json_ctl(f, "setup", s->setup);
	if (s->install != NULL)
		fprintf(f,
			"\"install\":{\"streams\":%lu,\"ring_full\":%lu,\"seconds\":%.6f},",
			(unsigned long)s->install->streams,
			(unsigned long)s->install->ring_full,
			s->install->seconds);
	if (s->teardown != NULL)
		json_ctl(f, "teardown", s->teardown);
	if (s->pcap != NULL) {
		fprintf(f,
			"\"pcap\":{\"file\":\"%s\",\"frames\":%lu,\"queues\":%u,"
			"\"frames_per_file\":[",
			s->pcap, (unsigned long)s->pcap_frames, s->pcap_queues);
		for (q = 0; q < s->pcap_queues; q++)
			fprintf(f, "%s%lu", q ? "," : "",
				(unsigned long)s->pcap_frames_q[q]);
		fprintf(f, "]},");
	}
	if (s->traffic) {
		spread(sm->tx_fps, sm->n, sp);
		fprintf(f,
			"\"traffic\":{\"seconds\":%.3f,\"legs\":%u,\"target_fps\":%.0f,"
			"\"tx_fps\":{\"min\":%.0f,\"median\":%.0f,\"max\":%.0f,\"samples\":",
			r->seconds, r->n_order, gen_cfg_pps(r->cfg), sp[0],
			sp[1], sp[2]);
		json_samples(f, sm->tx_fps, sm->n);
		fprintf(f,
			"},\"tx_full\":%lu,\"tx_unsent\":%lu,\"tx_behind\":%lu,"
			"\"alloc_fail\":%lu,\"rtcp_skipped\":%lu,\"rx_other\":%lu,"
			"\"rx_bad_leg\":%lu,\"arp\":{\"rx\":%lu,\"replies\":%lu,\"requests\":%lu},",
			(unsigned long)r->tx_full, (unsigned long)r->tx_unsent,
			(unsigned long)r->tx_behind,
			(unsigned long)r->alloc_fail,
			(unsigned long)r->rtcp_skipped,
			(unsigned long)r->rx_other,
			(unsigned long)r->rx_bad_leg, (unsigned long)r->arp_rx,
			(unsigned long)r->arp_replies,
			(unsigned long)r->arp_requests);
		for (d = 0; d < 2; d++) {
			const struct gen_dir *g = &r->dir[d];
			uint64_t lost = g->sent > g->rx ? g->sent - g->rx : 0;

			fprintf(f,
				"\"%s\":{\"sent\":%lu,\"received\":%lu,\"lost\":%lu,"
				"\"loss_ratio\":%.6g,\"reordered\":%lu,\"duplicates\":%lu,"
				"\"misdelivered\":%lu,\"rtcp_sent\":%lu,\"rtcp_received\":%lu,",
				dir_name[d], (unsigned long)g->sent,
				(unsigned long)g->rx, (unsigned long)lost,
				g->sent ? (double)lost / (double)g->sent : 0.0,
				(unsigned long)g->reordered,
				(unsigned long)g->duplicates,
				(unsigned long)g->misdelivered,
				(unsigned long)g->rtcp_sent,
				(unsigned long)g->rtcp_rx);
			spread(sm->rx_fps[d], sm->n, sp);
			fprintf(f,
				"\"rx_fps\":{\"min\":%.0f,\"median\":%.0f,\"max\":%.0f,\"samples\":",
				sp[0], sp[1], sp[2]);
			json_samples(f, sm->rx_fps[d], sm->n);
			fprintf(f,
				"},\"latency_ns\":{\"p50\":%lu,\"p99\":%lu,\"p999\":%lu,"
				"\"max\":%lu,\"mean\":%.0f},\"p99_us_per_second\":",
				(unsigned long)gen_hist_quantile(&g->lat, 0.5),
				(unsigned long)gen_hist_quantile(&g->lat, 0.99),
				(unsigned long)gen_hist_quantile(&g->lat,
								 0.999),
				(unsigned long)g->lat.max,
				g->lat.count ? (double)g->lat.sum /
						       (double)g->lat.count :
					       0.0);
			fputc('[', f);
			for (uint32_t i = 0; i < sm->n; i++)
				fprintf(f, "%s%.1f", i ? "," : "",
					sm->p99_us[d][i]);
			fprintf(f, "]}%s", d == 0 ? "," : "");
		}
		fputs("},", f);
	}
	fprintf(f, "\"ok\":%s}\n",
		(s->setup == NULL || s->setup->calls_failed == 0) ? "true" :
								    "false");
}

static void
summary_text(const struct gen_run *r, const struct gen_summary *s, FILE *f)
{
	const struct gen_samples *sm = &r->smp;
	double sp[3];
	uint32_t q;
	int d;

	fprintf(f, "rtpb-gen: %u calls\n", s->calls);
	if (s->setup != NULL)
		fprintf(f,
			"  setup through control: %u ok, %u failed in %.3f s = %.0f U+L "
			"pairs/s (%lu resends, %lu without reply, %lu errors)%s%s\n",
			s->setup->calls_ok, s->setup->calls_failed,
			s->setup->seconds,
			s->setup->seconds > 0 ?
				s->setup->calls_ok / s->setup->seconds :
				0,
			(unsigned long)s->setup->resends,
			(unsigned long)s->setup->no_reply,
			(unsigned long)s->setup->errors,
			s->setup->first_error[0] ? "; first: " : "",
			s->setup->first_error);
	if (s->install != NULL)
		fprintf(f,
			"  installed into the dataplane directly (no control): %lu streams "
			"in %.3f s, ring full %lu times\n",
			(unsigned long)s->install->streams, s->install->seconds,
			(unsigned long)s->install->ring_full);
	if (s->pcap != NULL && s->pcap_queues > 1) {
		fprintf(f, "  pcap: %s.q0 .. .q%u, %lu frames (", s->pcap,
			s->pcap_queues - 1, (unsigned long)s->pcap_frames);
		for (q = 0; q < s->pcap_queues; q++)
			fprintf(f, "%s%lu", q ? " + " : "",
				(unsigned long)s->pcap_frames_q[q]);
		fprintf(f, ")\n");
	} else if (s->pcap != NULL) {
		fprintf(f, "  pcap: %s, %lu frames\n", s->pcap,
			(unsigned long)s->pcap_frames);
	}
	if (s->traffic) {
		spread(sm->tx_fps, sm->n, sp);
		fprintf(f,
			"  traffic: %u legs for %.1f s, target %.0f RTP frames/s%s; sent "
			"per second min/median/max %.0f/%.0f/%.0f\n",
			r->n_order, r->seconds, gen_cfg_pps(r->cfg),
			gen_cfg_pps(r->cfg) == 0 ? " (max)" : "", sp[0], sp[1],
			sp[2]);
		for (d = 0; d < 2; d++) {
			const struct gen_dir *g = &r->dir[d];
			uint64_t lost = g->sent > g->rx ? g->sent - g->rx : 0;

			spread(sm->rx_fps[d], sm->n, sp);
			fprintf(f,
				"  %s: sent %lu received %lu lost %lu (%.4f %%) reordered %lu "
				"dup %lu misdelivered %lu; RTCP %lu/%lu; rx/s min/median/max "
				"%.0f/%.0f/%.0f; latency p50 %.2f p99 %.2f p99.9 %.2f max %.2f us\n",
				dir_text[d], (unsigned long)g->sent,
				(unsigned long)g->rx, (unsigned long)lost,
				g->sent ?
					100.0 * (double)lost / (double)g->sent :
					0.0,
				(unsigned long)g->reordered,
				(unsigned long)g->duplicates,
				(unsigned long)g->misdelivered,
				(unsigned long)g->rtcp_rx,
				(unsigned long)g->rtcp_sent, sp[0], sp[1],
				sp[2],
				(double)gen_hist_quantile(&g->lat, 0.5) / 1e3,
				(double)gen_hist_quantile(&g->lat, 0.99) / 1e3,
				(double)gen_hist_quantile(&g->lat, 0.999) / 1e3,
				(double)g->lat.max / 1e3);
		}
		fprintf(f,
			"  port refused %lu (resent), unsent at end %lu, skipped behind %lu, "
			"no mbuf %lu; rx other %lu; ARP rx %lu replies %lu requests %lu\n",
			(unsigned long)r->tx_full, (unsigned long)r->tx_unsent,
			(unsigned long)r->tx_behind,
			(unsigned long)r->alloc_fail,
			(unsigned long)r->rx_other, (unsigned long)r->arp_rx,
			(unsigned long)r->arp_replies,
			(unsigned long)r->arp_requests);
	}
	if (s->teardown != NULL)
		fprintf(f, "  teardown: %u deleted, %u failed in %.3f s%s%s\n",
			s->teardown->calls_ok, s->teardown->calls_failed,
			s->teardown->seconds,
			s->teardown->first_error[0] ? "; first: " : "",
			s->teardown->first_error);
}

void
gen_stats_summary(const struct gen_run *r, const struct gen_summary *s, FILE *f,
		  int json)
{
	if (json)
		summary_json(r, s, f);
	else
		summary_text(r, s, f);
	fflush(f);
}
