/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_main.c: rtpbypass-control, the rtpproxy-protocol control process.
 *
 * Parses rtpproxy's flags, opens the control sockets, daemonizes unless
 * -f, then runs one thread: a poll() loop (10 ms) serving the sockets,
 * ctl_dp_poll() every iteration (attach, replay, latch events), retries
 * of refused ring pushes, and a 1 s tick for session TTLs, the reply
 * cache and idle connections. SIGTERM/SIGINT/SIGUSR1/SIGUSR2 stop it
 * (every session's streams are deleted first); SIGHUP drains it like
 * rtpproxy's "deorbiting burn": new sessions get E99 and the process
 * exits when the last session is gone.
 *
 * The XDP prefilter (DESIGN.md §5, ctl_pf.h): its maps are opened (or
 * created) under the pin root at start, given the relay addresses and
 * cleared of socket entries no session holds; the session layer then
 * keeps them current. On by default when running as root with a bpffs
 * on the pin root; asked for (--prefilter, --bpf-pin-root, --pf-budget),
 * a failure to open them stops control; on by default, it is one
 * warning. A clean stop deletes control's entries but leaves the maps
 * pinned: the dataplane's program keeps using them and the next control
 * finds them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "ctl_cmd_exec.h"
#include "ctl_dp.h"
#include "ctl_log.h"
#include "ctl_pf.h"
#include "ctl_ports.h"
#include "ctl_session.h"
#include "ctl_sock.h"

#ifndef RTPB_VERSION
#define RTPB_VERSION "unknown"
#endif

#define NS_PER_S 1000000000ULL
#define LOOP_MS 10
#define DEFAULT_SOCK "unix:/var/run/rtpproxy.sock" /* rtpproxy CMD_SOCK */

/** Everything the command line sets. */
struct opts {
	struct ctl_sock_spec socks[CTL_SOCK_MAX_LISTEN];
	int nsocks;
	uint32_t relay_ip; /* network order */
	bool have_relay;
	uint8_t relay6[16]; /* network order */
	bool have_relay6;
	long port_min, port_max;
	long ttl_s;
	bool foreground;
	bool force_root;
	enum ctl_log_level level;
	int facility;
	const char *pidfile;
	const char *file_prefix;
	/* prefilter: PF_AUTO (root and bpffs), PF_ON (asked), PF_OFF */
	enum { PF_AUTO, PF_ON, PF_OFF } pf_mode;
	bool pf_off_given;  /* --no-prefilter */
	const char *pf_root;
	uint32_t pf_pps, pf_burst; /* 0: the defaults of rtpb_pf.h */
};

static volatile sig_atomic_t quit_flag;
static volatile sig_atomic_t drain_flag;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: rtpbypass-control -l ADDR|-6 ADDR6 [options]\n"
"rtpproxy-protocol control process of the rtpbypass relay.\n"
"  -s SOCK          control socket, repeatable (default " DEFAULT_SOCK "):\n"
"                   udp:ADDR[:PORT], udp6:ADDR[:PORT], udp6:[ADDR]:PORT\n"
"                   (port default %d, ADDR '*' = any), unix:/path (one\n"
"                   command per connection), cunix:/path (one per line)\n"
"  -l ADDR          IPv4 relay address served by the dataplane\n"
"  -6 ADDR6         IPv6 relay address served by the dataplane; give -l,\n"
"                   -6 or both. A leg's relay socket is in the family of\n"
"                   its party's address (IPv4/IPv6 bridging); U/L of a\n"
"                   family without an address get E36\n"
"  -m MIN           lowest media port (default 35000, rounded up to even);\n"
"                   the range is the same for both families\n"
"  -M MAX           highest media port (default 65000; the last RTP port\n"
"                   is the highest even port whose RTCP port fits)\n"
"  -T TTL           session inactivity timeout, seconds (default 60)\n"
"  -f               stay in the foreground, log to stderr\n"
"  -F               allow running as root with a udp/udp6 control socket\n"
"  -d LEVEL[:FAC]   log level DBUG|INFO|WARN|ERR|CRIT (default INFO),\n"
"                   syslog facility LOG_DAEMON (default), LOG_LOCAL0..7\n"
"  -p PIDFILE       write the pid there (default: none)\n"
"  --file-prefix N  DPDK --file-prefix of the dataplane (default rtpbypass)\n"
"  --prefilter      keep the XDP prefilter's maps current (on by default\n"
"                   when root with a bpffs on the pin root); with this,\n"
"                   --bpf-pin-root or --pf-budget, failing to open them\n"
"                   is an error, else a warning\n"
"  --no-prefilter   leave the prefilter's maps alone\n"
"  --bpf-pin-root DIR  bpffs directory of the prefilter's pinned maps\n"
"                   (default " CTL_PF_PIN_ROOT ", where the net_af_xdp PMD's\n"
"                   load of prefilter.bpf.o pins them); one relay per DIR\n"
"  --pf-budget PPS/BURST  packets/s and burst let through from other\n"
"                   sources of a latched stream (default %u/%u)\n"
"  -V               print the version and exit\n"
"  --help           this text\n", CTL_SOCK_DEFAULT_PORT,
		RTPB_PF_BUDGET_PPS, RTPB_PF_BUDGET_BURST);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("rtpbypass-control: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'rtpbypass-control --help'.\n", stderr);
	exit(2);
}

/* A whole decimal number in [lo, hi], else exit 2 naming the option. */
static long
num_arg(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		die_usage("%s: '%s' is not a number in %ld..%ld", opt, s, lo, hi);
	return v;
}

/* -l / -6: no bridge mode, labels or advertised addresses yet. */
static void
relay_syntax(const char *opt, const char *s)
{
	if (strchr(s, '/') != NULL)
		die_usage("%s %s: bridge mode (ADDR/ADDR) is not supported yet",
			  opt, s);
	if (strchr(s, '@') != NULL || strchr(s, '=') != NULL)
		die_usage("%s %s: labels and advertised addresses are not "
			  "supported yet", opt, s);
}

/* -l: one plain IPv4 address. */
static void
relay_arg(struct opts *o, const char *s)
{
	struct in_addr a;

	if (o->have_relay)
		die_usage("-l: only one IPv4 relay address is supported yet");
	relay_syntax("-l", s);
	if (inet_pton(AF_INET, s, &a) != 1)
		die_usage("-l %s: not an IPv4 address", s);
	if (a.s_addr == INADDR_ANY)
		die_usage("-l %s: a wildcard relay address is not supported: "
			  "give the dataplane's IPv4 address", s);
	o->relay_ip = a.s_addr;
	o->have_relay = true;
}

/* -6: one plain IPv6 address (brackets allowed). */
static void
relay6_arg(struct opts *o, const char *s)
{
	struct in6_addr a;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);

	if (o->have_relay6)
		die_usage("-6: only one IPv6 relay address is supported yet");
	relay_syntax("-6", s);
	if (n >= 2 && n < sizeof(buf) && s[0] == '[' && s[n - 1] == ']') {
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	if (inet_pton(AF_INET6, s, &a) != 1)
		die_usage("-6 %s: not an IPv6 address", s);
	if (IN6_IS_ADDR_UNSPECIFIED(&a))
		die_usage("-6 %s: a wildcard relay address is not supported: "
			  "give the dataplane's IPv6 address", s);
	if (IN6_IS_ADDR_MULTICAST(&a) || IN6_IS_ADDR_V4MAPPED(&a))
		die_usage("-6 %s: not a unicast IPv6 address", s);
	memcpy(o->relay6, &a, sizeof(o->relay6));
	o->have_relay6 = true;
}

/* --pf-budget PPS/BURST, both whole numbers > 0. */
static void
pf_budget_arg(struct opts *o, const char *s)
{
	const char *slash = strchr(s, '/');
	char pps[32];

	if (slash == NULL || (size_t)(slash - s) >= sizeof(pps))
		die_usage("--pf-budget '%s': not PPS/BURST (e.g. %u/%u)", s,
			  RTPB_PF_BUDGET_PPS, RTPB_PF_BUDGET_BURST);
	memcpy(pps, s, (size_t)(slash - s));
	pps[slash - s] = '\0';
	/* the bucket counts 1/1000 packets in 32 bits */
	o->pf_pps = (uint32_t)num_arg("--pf-budget PPS", pps, 1, 10000000);
	o->pf_burst = (uint32_t)num_arg("--pf-budget BURST", slash + 1, 1,
					1000000);
}

static void
sock_arg(struct opts *o, const char *s)
{
	char err[256];

	if (o->nsocks == CTL_SOCK_MAX_LISTEN)
		die_usage("-s: at most %d control sockets", CTL_SOCK_MAX_LISTEN);
	if (ctl_sock_parse(s, &o->socks[o->nsocks], err, sizeof(err)) != 0)
		die_usage("-s: %s", err);
	o->nsocks++;
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"file-prefix", required_argument, NULL, 'P'},
		{"prefilter", no_argument, NULL, 'X'},
		{"no-prefilter", no_argument, NULL, 'N'},
		{"bpf-pin-root", required_argument, NULL, 'R'},
		{"pf-budget", required_argument, NULL, 'B'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.port_min = 35000, .port_max = 65000, .ttl_s = 60,
			   .level = CTL_LOG_INFO, .file_prefix = "rtpbypass",
			   .pf_mode = PF_AUTO, .pf_root = CTL_PF_PIN_ROOT};
	while ((c = getopt_long(argc, argv, "s:l:6:m:M:T:fFd:p:V", lopts,
				NULL)) != -1) {
		switch (c) {
		case 's': sock_arg(o, optarg); break;
		case 'l': relay_arg(o, optarg); break;
		case '6': relay6_arg(o, optarg); break;
		case 'm': o->port_min = num_arg("-m", optarg, 1, 65535); break;
		case 'M': o->port_max = num_arg("-M", optarg, 1, 65535); break;
		case 'T': o->ttl_s = num_arg("-T", optarg, 1, 31536000); break;
		case 'f': o->foreground = true; break;
		case 'F': o->force_root = true; break;
		case 'd':
			if (ctl_log_parse(optarg, &o->level, &o->facility) != 0)
				die_usage("-d %s: unknown level (DBUG INFO WARN "
					  "ERR CRIT[:LOG_facility])", optarg);
			break;
		case 'p': o->pidfile = optarg; break;
		case 'P':
			if (*optarg == '\0' || strchr(optarg, '/') != NULL)
				die_usage("--file-prefix '%s': not a name", optarg);
			o->file_prefix = optarg;
			break;
		case 'X': o->pf_mode = PF_ON; break;
		case 'N': o->pf_off_given = true; break;
		case 'R':
			if (*optarg == '\0')
				die_usage("--bpf-pin-root: empty name");
			o->pf_root = optarg;
			o->pf_mode = PF_ON;
			break;
		case 'B': pf_budget_arg(o, optarg); o->pf_mode = PF_ON; break;
		case 'V': printf("rtpbypass-control %s\n", RTPB_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: die_usage("invalid option");
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!o->have_relay && !o->have_relay6)
		die_usage("-l ADDR or -6 ADDR6 is required (the dataplane's "
			  "relay addresses)");
	if (o->nsocks == 0)
		sock_arg(o, DEFAULT_SOCK);
	if (o->pf_off_given && o->pf_mode == PF_ON)
		die_usage("--no-prefilter contradicts --prefilter, "
			  "--bpf-pin-root and --pf-budget");
	if (o->pf_off_given)
		o->pf_mode = PF_OFF;
}

/* rtpproxy's superuser check: datagram control as root needs -F. */
static void
root_check(const struct opts *o)
{
	bool dgram = false;

	if (o->force_root || getuid() != 0)
		return;
	for (int i = 0; i < o->nsocks; i++)
		dgram |= ctl_sock_is_datagram(o->socks[i].kind);
	if (dgram) {
		fprintf(stderr, "rtpbypass-control: running as superuser with a "
			"udp/udp6 control socket is strongly not recommended; "
			"use -F if you want to run as a superuser anyway\n");
		exit(1);
	}
	fprintf(stderr, "rtpbypass-control: WARNING: running as superuser; "
		"use -F to suppress this warning\n");
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		drain_flag = 1;
	else
		quit_flag = 1;
}

static void
setup_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	const int sigs[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int
write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? 0 : -errno;
}



/** The objects the loop runs. */
struct ctl_app {
	struct ctl_socks *socks;
	struct ctl_dp *dp;
	struct ctl_pf *pf;        /* NULL: prefilter off */
	struct ctl_ports *ports;  /* IPv4 pool, NULL without -l */
	struct ctl_ports *ports6; /* IPv6 pool, NULL without -6 */
	struct ctl_sessions *sess;
	struct ctl_exec *ex;
};

/* libbpf's level for its warnings: WARN, or DBUG while an open by
 * default may fail quietly (its own single warning says why). */
static enum ctl_log_level libbpf_warn_level = CTL_LOG_WARN;

/* libbpf's messages into control's log, one line each. */
static int
libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum ctl_log_level l =
		level == LIBBPF_WARN ? libbpf_warn_level : CTL_LOG_DBUG;
	char line[512];
	size_t n;

	if (level == LIBBPF_DEBUG || !ctl_log_enabled(l))
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	/* its lines mostly start with "libbpf: " already */
	ctl_log(l, "%s%s", strncmp(line, "libbpf: ", 8) == 0 ? "" : "libbpf: ",
		line);
	return 0;
}

/*
 * Is dir on a bpffs (where BPF objects can be pinned)?
 * @return 1, 0 (another file system), or -errno of statfs().
 */
static int
is_bpffs(const char *dir)
{
	struct statfs st;

	if (statfs(dir, &st) != 0)
		return -errno;
	return st.f_type == (typeof(st.f_type))BPF_FS_MAGIC;
}

/*
 * Open the prefilter's maps and give them the relay addresses and the
 * budget. Asked for (PF_ON), any failure is an error naming what failed;
 * by default (PF_AUTO) it is skipped unless root with a bpffs on the pin
 * root, and a failure is one warning: control goes on without it.
 * @return 0 (a->pf set, or NULL: off), or -1 (PF_ON failed, reported).
 */
static int
pf_open(struct ctl_app *a, const struct opts *o)
{
	struct rtpb_addr addrs[2];
	const char *what = NULL;
	uint32_t n = 0;
	int rc = 0;

	if (o->pf_mode == PF_OFF)
		return 0;
	if (o->pf_mode == PF_AUTO && geteuid() != 0) {
		ctl_log(CTL_LOG_INFO, "prefilter: off (not root)");
		return 0;
	}
	rc = is_bpffs(o->pf_root);
	if (rc != 1) {
		char why[128];

		if (rc < 0)
			snprintf(why, sizeof(why), "%s", strerror(-rc));
		else
			snprintf(why, sizeof(why),
				 "not on a bpffs (mount -t bpf bpf DIR)");
		if (o->pf_mode == PF_AUTO) {
			ctl_log(CTL_LOG_WARN, "prefilter: off: pin root %s: %s "
				"(--no-prefilter silences this)", o->pf_root,
				why);
			return 0;
		}
		fprintf(stderr, "rtpbypass-control: prefilter: pin root "
			"%s: %s\n", o->pf_root, why);
		return -1;
	}
	libbpf_set_print(libbpf_log);
	libbpf_warn_level = o->pf_mode == PF_AUTO ? CTL_LOG_DBUG : CTL_LOG_WARN;
	a->pf = ctl_pf_open(o->pf_root, &what);
	libbpf_warn_level = CTL_LOG_WARN;
	if (a->pf == NULL) {
		rc = -errno;
	} else {
		if (o->have_relay)
			rtpb_addr_set_v4(&addrs[n++], o->relay_ip, 0);
		if (o->have_relay6) {
			memset(&addrs[n], 0, sizeof(addrs[n]));
			addrs[n].family = RTPB_AF_INET6;
			memcpy(addrs[n++].ip, o->relay6, 16);
		}
		rc = ctl_pf_set_addrs(a->pf, addrs, n, o->pf_pps, o->pf_burst);
		if (rc != 0) {
			what = "ctl_pf_set_addrs (pf_addrs, pf_cfg)";
			ctl_pf_close(a->pf, false);
			a->pf = NULL;
		}
	}
	if (a->pf != NULL)
		return 0;
	if (o->pf_mode == PF_AUTO) {
		ctl_log(CTL_LOG_WARN, "prefilter: off: %s under %s: %s "
			"(--no-prefilter silences this)", what, o->pf_root,
			strerror(-rc));
		return 0;
	}
	fprintf(stderr, "rtpbypass-control: prefilter: %s under %s: %s\n",
		what, o->pf_root, strerror(-rc));
	return -1;
}

static int
app_open(struct ctl_app *a, const struct opts *o)
{
	uint16_t lo, hi;

	if (ctl_ports_range(o->port_min, o->port_max, &lo, &hi) != 0) {
		fprintf(stderr, "rtpbypass-control: -m %ld -M %ld: port_min "
			"should be less than port_max\n", o->port_min, o->port_max);
		exit(2);
	}
	a->socks = ctl_socks_create();
	a->dp = ctl_dp_create(o->file_prefix);
	/* one pool per family over the same range: a port number is used
	 * at most once per relay address */
	if (o->have_relay)
		a->ports = ctl_ports_create(lo, hi, 0);
	if (o->have_relay6)
		a->ports6 = ctl_ports_create(lo, hi, 0);
	if (a->socks == NULL || a->dp == NULL ||
	    (o->have_relay && a->ports == NULL) ||
	    (o->have_relay6 && a->ports6 == NULL))
		return -ENOMEM;
	for (int i = 0; i < o->nsocks; i++) {
		int rc = ctl_socks_listen(a->socks, &o->socks[i]);

		if (rc != 0) {
			fprintf(stderr, "rtpbypass-control: control socket %d: "
				"%s\n", i + 1, strerror(-rc));
			return rc;
		}
	}
	if (pf_open(a, o) != 0)
		return -1;
	struct ctl_sessions_cfg scfg = {
		.dp = a->dp, .ports = a->ports, .relay_ip = o->relay_ip,
		.ports6 = a->ports6,
		.ttl_ns = (uint64_t)o->ttl_s * NS_PER_S, .learn_ms = CTL_LEARN_MS,
		.pf = a->pf,
	};
	struct ctl_exec_cfg ecfg = {.relay_ip = o->relay_ip,
				    .has_relay6 = o->have_relay6, .pf = a->pf};
	char r4[INET_ADDRSTRLEN] = "", r6[INET6_ADDRSTRLEN] = "";

	memcpy(scfg.relay6, o->relay6, sizeof(scfg.relay6));
	memcpy(ecfg.relay6, o->relay6, sizeof(ecfg.relay6));
	if (o->have_relay)
		inet_ntop(AF_INET, &o->relay_ip, r4, sizeof(r4));
	if (o->have_relay6)
		inet_ntop(AF_INET6, o->relay6, r6, sizeof(r6));

	a->sess = ctl_sessions_create(&scfg);
	a->ex = a->sess != NULL ? ctl_exec_create(&ecfg, a->sess) : NULL;
	if (a->ex == NULL)
		return -ENOMEM;
	ctl_sessions_bind_dp(a->sess);
	ctl_log(CTL_LOG_INFO, "rtpbypass-control %s: relay %s%s%s, ports %u-%u "
		"(%u pairs per address), ttl %lds, dataplane '%s'",
		RTPB_VERSION, r4, r4[0] && r6[0] ? " and " : "", r6, lo, hi,
		(uint32_t)(hi - lo) / 2 + 1, o->ttl_s, o->file_prefix);
	if (a->pf != NULL) {
		/* No session is known yet, so this deletes every socket entry
		 * (those a control that crashed left behind): UDP to them is
		 * dropped until a U/L adds them again. DESIGN.md §2 wants
		 * control to rebuild its sessions from the dataplane's table
		 * after a restart, keeping calls in progress; once it does,
		 * this must run after that rebuild. */
		uint32_t stale = ctl_sessions_pf_reconcile(a->sess);

		ctl_log(CTL_LOG_INFO, "prefilter: maps under %s, budget %u/s "
			"burst %u per latched stream, %u stale socket entries "
			"removed", o->pf_root,
			o->pf_pps ? o->pf_pps : RTPB_PF_BUDGET_PPS,
			o->pf_burst ? o->pf_burst : RTPB_PF_BUDGET_BURST,
			stale);
	}
	return 0;
}

static void
app_close(struct ctl_app *a)
{
	ctl_exec_destroy(a->ex);
	ctl_sessions_destroy(a->sess); /* pushes the DELs, deletes pf entries */
	/* the maps stay pinned: the dataplane's program still uses them
	 * (pf_addrs for ARP/NDP), and the next control opens them again */
	ctl_pf_close(a->pf, false);
	ctl_dp_destroy(a->dp);
	ctl_ports_destroy(a->ports);
	ctl_ports_destroy(a->ports6);
	ctl_socks_destroy(a->socks);
}

/* The loop: sockets, dataplane, retries, 1 s tick. */
static void
app_run(struct ctl_app *a)
{
	uint64_t last_tick = ctl_now_ns(), idle_sum = 0;
	bool draining = false;

	while (!quit_flag) {
		uint64_t idle, now;
		int rc = ctl_socks_run(a->socks, a->ex, LOOP_MS, &idle);

		if (rc < 0)
			ctl_log(CTL_LOG_ERR, "poll: %s", strerror(-rc));
		idle_sum += idle;
		now = ctl_now_ns();
		ctl_dp_poll(a->dp, now);
		ctl_sessions_flush(a->sess);
		if (drain_flag && !draining) {
			draining = true;
			ctl_exec_set_draining(a->ex, true);
			ctl_log(CTL_LOG_INFO, "SIGHUP: draining, %u sessions left",
				ctl_sessions_count(a->sess));
		}
		if (now - last_tick < NS_PER_S)
			continue;
		ctl_exec_set_load(a->ex, 1.0 - (double)idle_sum /
						   (double)(now - last_tick));
		idle_sum = 0;
		last_tick = now;
		ctl_sessions_tick(a->sess, now);
		ctl_exec_tick(a->ex, now);
		ctl_socks_tick(a->socks, now);
		if (draining && ctl_sessions_count(a->sess) == 0) {
			ctl_log(CTL_LOG_INFO, "drained, exiting");
			break;
		}
	}
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct ctl_app app = {0};
	int rc;

	parse_args(argc, argv, &o);
	ctl_log_set_level(o.level);
	root_check(&o);
	setup_signals();
	/* sockets first: a bind error still reaches the terminal */
	rc = app_open(&app, &o);
	if (rc != 0) {
		app_close(&app);
		return 1;
	}
	if (!o.foreground) {
		if (daemon(0, 0) != 0) {
			fprintf(stderr, "rtpbypass-control: daemon: %s\n",
				strerror(errno));
			return 1;
		}
		ctl_log_use_syslog(o.facility);
	}
	if (o.pidfile != NULL && (rc = write_pidfile(o.pidfile)) != 0)
		ctl_log(CTL_LOG_ERR, "pidfile %s: %s", o.pidfile, strerror(-rc));
	app_run(&app);
	ctl_log(CTL_LOG_INFO, "exiting: %u sessions deleted",
		ctl_sessions_count(app.sess));
	app_close(&app);
	if (o.pidfile != NULL)
		unlink(o.pidfile);
	return 0;
}
