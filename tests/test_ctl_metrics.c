/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_metrics: control's Prometheus endpoint (control/ctl_metrics.c)
 * against the fake dataplane (tests/fake_ctl_dp.c): --metrics address
 * parsing (a table of cases), a port in use named in the error, and the
 * HTTP answers over a real socket on 127.0.0.1 (an ephemeral port): 503
 * before the first render, then 200 with the exposition text (every
 * sample after its HELP and TYPE, every drop reason of rtpb_shm.h, one
 * per worker), 404 for another path, 405 for another method.
 * tests/e2e/test_metrics.py scrapes a live relay and runs promtool.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_cmd_exec.h"
#include "ctl_dp.h"
#include "ctl_metrics.h"
#include "ctl_ports.h"
#include "ctl_session.h"
#include "fake_ctl_dp.h"

#define RELAY4 "203.0.113.1"
#define NS 1000000000ull

static void
test_parse_addr(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *text; /* normalised, or a piece of the error */
	} cases[] = {
		{"127.0.0.1:9476", 0, "127.0.0.1:9476"},
		{"localhost:9476", 0, "127.0.0.1:9476"},
		{"[::1]:9476", 0, "[::1]:9476"},
		{"0.0.0.0:1", 0, "0.0.0.0:1"},
		{"127.0.0.1:65535", 0, "127.0.0.1:65535"},
		{"127.0.0.1", -EINVAL, "not ADDR:PORT"},
		{":9476", -EINVAL, "not ADDR:PORT"},
		{"127.0.0.1:0", -EINVAL, "not in 1..65535"},
		{"127.0.0.1:65536", -EINVAL, "not in 1..65535"},
		{"127.0.0.1:", -EINVAL, "not in 1..65535"},
		{"127.0.0.1:94x", -EINVAL, "not in 1..65535"},
		{"1.2.3:9476", -EINVAL, "not an IPv4 address"},
		{"::1:9476", -EINVAL, "not an IPv4 address"},
		{"[::1:9476", -EINVAL, "brackets"},
		{"[127.0.0.1]:9476", -EINVAL, "not an IPv6 address"},
		{"example.org:9476", -EINVAL, "not an IPv4 address"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_metrics_addr a;
		char err[200] = "";
		int rc = ctl_metrics_parse_addr(cases[i].in, &a, err, sizeof(err));

		if (rc != cases[i].rc)
			fail_msg("'%s': rc %d, want %d (%s)", cases[i].in, rc,
				 cases[i].rc, err);
		if (rc == 0 && strcmp(a.text, cases[i].text) != 0)
			fail_msg("'%s': text '%s', want '%s'", cases[i].in, a.text,
				 cases[i].text);
		if (rc != 0 && strstr(err, cases[i].text) == NULL)
			fail_msg("'%s': error '%s' lacks '%s'", cases[i].in, err,
				 cases[i].text);
	}
}

/* 127.0.0.1 with port 0: the kernel picks. */
static struct ctl_metrics_addr
loopback_any(void)
{
	struct ctl_metrics_addr a;
	char err[200];

	assert_int_equal(ctl_metrics_parse_addr("127.0.0.1:1", &a, err,
						sizeof(err)), 0);
	((struct sockaddr_in *)&a.ss)->sin_port = 0;
	return a;
}

static void
test_port_in_use(void **state)
{
	struct ctl_metrics_addr a = loopback_any();
	struct ctl_metrics *m1, *m2;
	char err[200] = "";

	(void)state;
	m1 = ctl_metrics_open(&a, err, sizeof(err));
	assert_non_null(m1);
	((struct sockaddr_in *)&a.ss)->sin_port = htons(ctl_metrics_port(m1));
	m2 = ctl_metrics_open(&a, err, sizeof(err));
	assert_null(m2);
	assert_int_equal(errno, EADDRINUSE);
	assert_non_null(strstr(err, "bind "));
	assert_non_null(strstr(err, "Address already in use"));
	ctl_metrics_close(m1);
}

/* One HTTP/1.0 request; the status, the whole answer into buf. */
static int
http(uint16_t port, const char *method, const char *path, char *buf,
     size_t bufsz)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 5};
	char req[256];
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: x\r\n\r\n",
		     method, path);
	assert_int_equal(write(fd, req, (size_t)n), n);
	while (len + 1 < bufsz &&
	       (n = read(fd, buf + len, bufsz - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	sscanf(buf, "HTTP/1.%*d %d", &status);
	return status;
}

struct env {
	struct ctl_ports *ports;
	struct ctl_sessions *sess;
	struct ctl_exec *ex;
	struct ctl_dp *dp;
};

static void
env_open(struct env *e)
{
	struct ctl_sessions_cfg scfg = {.ttl_ns = 60 * NS,
					.learn_ms = CTL_LEARN_MS};
	struct ctl_exec_cfg ecfg = {0};
	uint32_t relay;

	inet_pton(AF_INET, RELAY4, &relay);
	fake_dp_reset(2, 4096, relay);
	e->ports = ctl_ports_create(23820, 23840, 1);
	e->dp = ctl_dp_create("test");
	scfg.dp = e->dp;
	scfg.ports = e->ports;
	scfg.relay_ip = relay;
	e->sess = ctl_sessions_create(&scfg);
	e->ex = ctl_exec_create(&ecfg, e->sess);
	assert_non_null(e->ex);
	ctl_sessions_bind_dp(e->sess);
}

static void
env_close(struct env *e)
{
	ctl_exec_destroy(e->ex);
	ctl_sessions_destroy(e->sess);
	ctl_dp_destroy(e->dp);
	ctl_ports_destroy(e->ports);
}

/*
 * The exposition text's shape: every sample's metric had its HELP and
 * TYPE lines (a metric with labels keeps its samples together).
 */
static void
check_shape(const char *body)
{
	char *copy = strdup(body), *save = NULL, typed[128] = "";

	for (char *l = strtok_r(copy, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (strncmp(l, "# HELP ", 7) == 0)
			continue;
		if (sscanf(l, "# TYPE %127s", typed) == 1)
			continue;
		assert_int_equal(sscanf(l, "%127[a-z_]", name), 1);
		/* a histogram's samples: <name>_bucket, _sum, _count */
		for (const char *sfx = "_bucket\0_sum\0_count\0"; *sfx != '\0';
		     sfx += strlen(sfx) + 1) {
			size_t nl = strlen(name), sl = strlen(sfx);

			if (nl > sl && strcmp(name + nl - sl, sfx) == 0 &&
			    strncmp(name, typed, nl - sl) == 0 &&
			    typed[nl - sl] == '\0')
				name[nl - sl] = '\0';
		}
		if (strcmp(name, typed) != 0)
			fail_msg("sample '%s' outside its TYPE (%s)", l, typed);
		assert_int_equal(strncmp(name, "rtpbypass_", 10), 0);
	}
	free(copy);
}

static void
test_serve(void **state)
{
	static char buf[65536];
	struct ctl_metrics_addr a = loopback_any();
	struct ctl_metrics *m;
	struct env e;
	char err[200];
	uint16_t port;

	(void)state;
	env_open(&e);
	m = ctl_metrics_open(&a, err, sizeof(err));
	assert_non_null(m);
	port = ctl_metrics_port(m);
	assert_int_equal(ctl_metrics_start(m), 0);
	assert_int_equal(http(port, "GET", "/metrics", buf, sizeof(buf)), 503);

	/* replies by command and result */
	assert_true(ctl_exec_text(e.ex, "V", 1, false, 0, buf, sizeof(buf)) > 0);
	assert_true(ctl_exec_text(e.ex, "V", 1, false, 0, buf, sizeof(buf)) > 0);
	assert_true(ctl_exec_text(e.ex, "D nosuch a", 10, false, 0, buf, sizeof(buf)) > 0);
	ctl_metrics_update(m, e.ex, e.sess, e.dp);
	assert_int_equal(http(port, "GET", "/metrics", buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "Content-Type: text/plain; version=0.0.4"));
	assert_non_null(strstr(buf, "\nrtpbypass_commands_total{command=\"V\",result=\"ok\"} 2\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_commands_total{command=\"D\",result=\"E50\"} 1\n"));
	/* no session ended: the quality histograms are empty */
	assert_non_null(strstr(buf, "\nrtpbypass_call_loss_ratio_count 0\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_call_jitter_seconds_bucket{le=\"+Inf\"} 0\n"));
	check_shape(strstr(buf, "\r\n\r\n") + 4);
	assert_non_null(strstr(buf, "\nrtpbypass_sessions 0\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_streams 0\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_dataplane_up 1\n"));
	assert_non_null(strstr(buf, "# TYPE rtpbypass_relayed_packets_total counter\n"));
	assert_non_null(strstr(buf, "# TYPE rtpbypass_sessions gauge\n"));
	assert_non_null(strstr(buf, "rtpbypass_sessions_refused_total{reason=\"max_sessions\"} 0\n"));
	/* the session journal's (none here: zeros, one HELP and TYPE each) */
	assert_non_null(strstr(buf, "# TYPE rtpbypass_journal_slots gauge\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_journal_slots{state=\"used\"} 0\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_journal_slots{state=\"free\"} 0\n"));
	assert_non_null(strstr(buf, "# TYPE rtpbypass_journal_writes_total counter\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_journal_write_errors_total 0\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_journal_restored_sessions_total 0\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_kept_streams_total 0\n"));
	assert_non_null(strstr(buf, "rtpbypass_prefilter_packets_total{verdict=\""));
#define DROP_SEEN(en, n, d)                                                    \
	assert_non_null(strstr(buf, "\nrtpbypass_dropped_packets_total{reason=\"" \
				    n "\"} 0\n"));
	RTPB_FOREACH_DROP(DROP_SEEN)
#undef DROP_SEEN
	assert_non_null(strstr(buf, "\nrtpbypass_worker_busy_cycles_total{worker=\"0\"} 1000\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_worker_cycles_total{worker=\"1\"} 4000\n"));
	/* the latency histogram, cumulative (1 sample < 1 us, 2 more < 20 us,
	 * 1 at or above 128 us) */
	assert_non_null(strstr(buf, "# TYPE rtpbypass_worker_latency_seconds histogram\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_worker_latency_seconds_bucket{worker=\"1\",le=\"5e-07\"} 0\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_worker_latency_seconds_bucket{worker=\"1\",le=\"1e-06\"} 1\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_worker_latency_seconds_bucket{worker=\"1\",le=\"1.6e-05\"} 1\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_worker_latency_seconds_bucket{worker=\"1\",le=\"2e-05\"} 3\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_worker_latency_seconds_bucket{worker=\"1\",le=\"0.000128\"} 3\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_worker_latency_seconds_bucket{worker=\"1\",le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_worker_latency_seconds_sum{worker=\"1\"} 0.000236500\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_worker_latency_seconds_count{worker=\"1\"} 4\n"));
	assert_non_null(strstr(buf, "\nrtpbypass_worker_latency_max_seconds{worker=\"0\"} 0.000200000\n"));
	assert_null(strstr(buf, "{worker=\"2\"}")); /* the main lcore is not a worker */
	/* a rtpproxy-only G counter is not exported */
	assert_null(strstr(buf, "nplrs"));

	assert_int_equal(http(port, "HEAD", "/metrics", buf, sizeof(buf)), 200);
	assert_int_equal(http(port, "GET", "/", buf, sizeof(buf)), 404);
	assert_int_equal(http(port, "GET", "/metrics/x", buf, sizeof(buf)), 404);
	assert_int_equal(http(port, "POST", "/metrics", buf, sizeof(buf)), 405);
	assert_non_null(strstr(buf, "Allow: GET, HEAD"));
	assert_int_equal(http(port, "GET", "/metrics", buf, sizeof(buf)), 200);
	ctl_metrics_close(m);
	env_close(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_port_in_use),
		cmocka_unit_test(test_serve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
