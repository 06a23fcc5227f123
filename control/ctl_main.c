/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_main.c: rtpbypass-control, the rtpproxy-protocol control process.
 *
 * Parses rtpproxy's flags, opens the control sockets, daemonizes unless
 * -f, then runs one thread: a ppoll() loop (10 ms) serving the sockets,
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
 * warning. A clean stop deletes control's entries; it leaves the maps
 * pinned while a dataplane runs (its program keeps using them and the
 * next control finds them) and removes the pins otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>
#include <linux/capability.h>
#include <linux/magic.h>

#include "rtpb_config.h"
#include "ctl_addrs.h"
#include "ctl_cmd_exec.h"
#include "ctl_dp.h"
#include "ctl_hash.h"
#include "ctl_journal.h"
#include "ctl_ha.h"
#include "ctl_redis.h"
#include "ctl_log.h"
#include "ctl_metrics.h"
#include "ctl_notify.h"
#include "ctl_pf.h"
#include "ctl_ports.h"
#include "ctl_player.h"
#include "ctl_recorder.h"
#include "ctl_session.h"
#include "ctl_sock.h"
#include "ctl_tnotify.h"

#define CTL_NS_PER_S 1000000000ULL
#define LOOP_MS 10
/* playback: the default --prompt-dir */
#define CTL_PROMPT_DIR "/var/lib/rtpbypass/prompts"
#define DEFAULT_SOCK "unix:/var/run/rtpproxy.sock" /* rtpproxy CMD_SOCK */
/* --journal default directory (systemd RuntimeDirectory=rtpbypass) */
#define CTL_JOURNAL_DIR "/run/rtpbypass"

/** Everything the command line sets. */
struct opts {
	struct ctl_sock_spec socks[CTL_SOCK_MAX_LISTEN];
	int nsocks;
	struct ctl_addr_arg addr_args[CTL_ADDRS_MAX]; /* -l, -6 in order */
	size_t naddr_args;
	const char *adv_arg;   /* -A */
	struct ctl_addrs addrs;
	long port_min, port_max;
	bool sequential;       /* -b */
	bool spill;            /* --port-spill */
	bool keep_on_exit;     /* --keep-on-exit */
	long ttl_s;            /* -T */
	long setup_ttl_s;      /* -W, 0: -T */
	struct ctl_tnotify *tnotify; /* -n */
	bool foreground;
	bool force_root;
	bool no_chdir;         /* -D */
	bool aforce;           /* --force_asymmetric */
	bool bridge_symmetric; /* --bridge_symmetric */
	bool no_resolve;       /* --no_resolve */
	long nofile;           /* -L, 0: unchanged */
	long nice;             /* --nice */
	bool has_nice;
	int sock_mode;         /* -w, -1: umask's */
	bool drop;             /* -u */
	uid_t uid;
	gid_t gid;
	const char *user;
	enum ctl_log_level level;
	int facility;
	const char *pidfile;
	const char *file_prefix;
	const char *journal;   /* --journal: path, "none", NULL: default */
	/* prefilter: PF_AUTO (root and bpffs), PF_ON (asked), PF_OFF */
	enum { PF_AUTO, PF_ON, PF_OFF } pf_mode;
	bool pf_off_given;  /* --no-prefilter */
	const char *pf_root;
	uint32_t pf_pps, pf_burst; /* 0: the defaults of rtpb_pf.h */
	struct ctl_admit_cfg admit; /* --max-sessions, --max-new-rate */
	long conn_idle_s;   /* --conn-idle */
	long conn_per_peer; /* --conn-per-peer */
	bool metrics;       /* --metrics given */
	struct ctl_metrics_addr metrics_addr;
	struct ctl_rec_conf rec; /* -r, -S, -P, -R */
	bool rec_all;            /* -a */
	/* Redis session state (issue 21 item 2, ctl_redis.h) */
	bool redis;                     /* --redis given */
	struct ctl_redis_cfg redis_cfg; /* --redis, -key-prefix, -relay-id */
	const char *redis_restore;      /* --redis-restore-from RELAY_ID */
	/* HA, active and standby (issue 21 items 3-4, ctl_ha.h) */
	bool ha;                        /* --ha given */
	bool ha_active;                 /* --ha active (true) | standby */
	const char *ha_peer;            /* --ha-peer RELAY_ID */
	/* playback (P, S; docs/PLAYBACK.md) */
	const char *prompt_dir;  /* --prompt-dir */
	bool prompt_dir_given;
	char warn[8][320];  /* rtpproxy flags taken without their effect */
	int nwarn;
};

static volatile sig_atomic_t quit_flag;
static volatile sig_atomic_t drain_flag;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: rtpbypass-control -l ADDR|-6 ADDR6 [options]\n"
"rtpproxy-protocol control process of the rtpbypass relay; the flags are\n"
"rtpproxy's where they apply.\n"
"  -s SOCK          control socket, repeatable (default " DEFAULT_SOCK "):\n"
"                   udp:ADDR[:PORT], udp6:ADDR[:PORT] (cookie on each\n"
"                   command, replies cached 35 s), tcp:ADDR[:PORT],\n"
"                   tcp6:ADDR[:PORT] (one command per line), unix:/path\n"
"                   (one command per connection), cunix:/path (one per\n"
"                   line); port default %d, ADDR '*' = any, IPv6 in []\n"
"  -l [LABEL@]ADDR[=ADV]  IPv4 relay address served by the dataplane;\n"
"                   repeatable, further ones need a LABEL (U/L modifier\n"
"                   l{LABEL}); ADV: the address replies advertise\n"
"  -l INT/EXT       bridge mode: internal and external relay addresses\n"
"                   (U/L modifiers I and E; /EXT puts the internal one on\n"
"                   the first -6); legs are asymmetric unless\n"
"                   --bridge_symmetric\n"
"  -6 ...           the same for IPv6. Give -l, -6 or both. A leg's relay\n"
"                   socket is in its party's family (IPv4/IPv6 bridging);\n"
"                   U/L of a family without an address get E36\n"
"  -A ADV1/ADV2     bridge mode: the advertised internal/external addresses\n"
"  -m MIN           lowest media port (default 35000, rounded up to even);\n"
"                   the range is the same for both families\n"
"  -M MAX           highest media port (default 65000; the last RTP port\n"
"                   is the highest even port whose RTCP port fits)\n"
"  -b               allocate ports in order instead of at random\n"
"  -T TTL           session inactivity timeout, seconds (default 60)\n"
"  -W TTL           timeout of sessions not yet answered (default -T)\n"
"  -n TARGET        permitted timeout notification target, repeatable:\n"
"                   unix:/path, tcp:HOST:PORT, tcp:%%%%CC_SELF%%%%:PORT\n"
"  -f               stay in the foreground, log to stderr\n"
"  -F               allow running as root with a udp/udp6 control socket\n"
"  -d LEVEL[:FAC]   log level DBUG|INFO|WARN|ERR|CRIT (default INFO),\n"
"                   syslog facility LOG_DAEMON (default), LOG_LOCAL0..7...\n"
"  -p PIDFILE       write the pid there (default: none)\n"
"  -u USER[:GROUP]  drop privileges to USER (and GROUP) once set up\n"
"  -w MODE          octal mode of unix: and cunix: control sockets\n"
"  -L NOFILE        RLIMIT_NOFILE\n"
"  -D               do not chdir to / when daemonizing\n"
"  --force_asymmetric  legs are asymmetric unless a command says S\n"
"  --bridge_symmetric  in bridge mode, legs are symmetric unless A\n"
"  --no_resolve     numeric relay addresses only\n"
"  --nice N         scheduling priority\n"
"  -r DIR           record directory: R, C to a file, N (docs/RECORDING.md)\n"
"  -S DIR           spool: recordings are written there, moved to -r at stop\n"
"  -P               record pcap files (Rs, Cs: one file for both parties)\n"
"  -R               do not record RTCP\n"
"  -a               record every session from its creation (both parties)\n"
"  -t TOS, -i, -2, --no_redirect,\n"
"  --overload_prot  rtpproxy's, taken for compatibility: without effect\n"
"                   here (a warning says so)\n"
"  --port-spill     when a family's default address has no free port pair,\n"
"                   a leg the command did not pin takes one of the family's\n"
"                   next -l address that has one (the reply names it);\n"
"                   without: E71, as rtpproxy. Not in bridge mode\n"
"  --keep-on-exit   on SIGTERM/SIGINT leave the calls' streams in the\n"
"                   dataplane and their prefilter entries: the next control\n"
"                   keeps them until idle for -T (restart, upgrade); without,\n"
"                   a stop deletes them. A crash always leaves them\n"
"  --max-sessions N  refuse a U that would create more than N live\n"
"                   sessions with E98 (rtpproxy's ECODE_OVERLOAD); default\n"
"                   no limit\n"
"  --max-new-rate R[/B]  new sessions per second per client address (token\n"
"                   bucket of depth B, default R; unix sockets share one);\n"
"                   over it, E98. Default no limit. Refusals are logged\n"
"                   once a second, counted in I and G nsess_refused_*\n"
"  --conn-idle S    close tcp/cunix control connections silent for S s\n"
"                   (default %d)\n"
"  --conn-per-peer N  open tcp/cunix connections per client (IP address,\n"
"                   or uid on cunix) at most (default %d of %d)\n"
"  --metrics ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
"                   (text format; ADDR: IPv4, [IPv6] or localhost, e.g.\n"
"                   127.0.0.1:9476); default off\n"
"  --file-prefix N  DPDK --file-prefix of the dataplane (default rtpbypass)\n"
"  --prompt-dir DIR  prompt files of P (playback), <name>.<payload type>\n"
"                   as rtpb-makeann and rtpproxy's makeann write them\n"
"                   (default " CTL_PROMPT_DIR "); none there: P gets E60\n"
"  --journal PATH   the session journal, a file of one record per call\n"
"                   rewritten on U/L, latch, S ttl= (default\n"
"                   " CTL_JOURNAL_DIR "/<file-prefix>.journal, its directory\n"
"                   made 0700); 'none': no journal\n"
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
"  --redis HOST:PORT[/DB] | unix:PATH  write each session's state to\n"
"                   Redis when it changes (docs/REDIS.md); default off\n"
"  --redis-key-prefix P  its keys' prefix (default " CTL_REDIS_PREFIX_DEFAULT ")\n"
"  --redis-relay-id ID   this relay's id in the keys (default: host name)\n"
"  --redis-restore-from ID  at start, take over relay ID's sessions from\n"
"                   Redis (a standby's takeover; needs --redis)\n"
"  --ha active|standby  HA pair (docs/RELIABILITY.md): start owning the\n"
"                   relay addresses or silent; keepalived's notify scripts\n"
"                   switch it (rtpb-ctl HA master|backup|fault); without\n"
"                   --ha the relay is alone and HA answers E0\n"
"  --ha-peer ID     the peer relay's --redis-relay-id: a takeover (HA\n"
"                   master) restores its sessions from Redis (needs --redis)\n"
"  -v               print the protocol capabilities and exit\n"
"  -V, --version    print the version and exit\n"
"  --help, -h       this text\n", CTL_SOCK_DEFAULT_PORT,
		(int)(CTL_SOCK_CONT_IDLE_NS / CTL_NS_PER_S), CTL_SOCK_PER_PEER,
		CTL_SOCK_MAX_CONN, RTPB_PF_BUDGET_PPS, RTPB_PF_BUDGET_BURST);
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

/* -l / -6: kept in order; ctl_addrs_build() checks them all at the end. */
static void
relay_arg(struct opts *o, const char *s, bool v6)
{
	if (o->naddr_args == CTL_ADDRS_MAX)
		die_usage("%s: at most %d relay addresses", v6 ? "-6" : "-l",
			  CTL_ADDRS_MAX);
	o->addr_args[o->naddr_args++] = (struct ctl_addr_arg){.s = s, .v6 = v6};
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

/* --max-new-rate RATE[/BURST], sessions per second per source. */
static void
rate_arg(struct opts *o, const char *s)
{
	const char *slash = strchr(s, '/');
	char rate[32];

	if (slash == NULL) {
		o->admit.rate = (uint32_t)num_arg("--max-new-rate", s, 1, 1000000);
		return;
	}
	if ((size_t)(slash - s) >= sizeof(rate))
		die_usage("--max-new-rate '%s': not RATE[/BURST]", s);
	memcpy(rate, s, (size_t)(slash - s));
	rate[slash - s] = '\0';
	o->admit.rate = (uint32_t)num_arg("--max-new-rate RATE", rate, 1, 1000000);
	o->admit.burst = (uint32_t)num_arg("--max-new-rate BURST", slash + 1, 1,
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
notify_arg(struct opts *o, const char *s)
{
	char err[320];

	if (o->tnotify == NULL && (o->tnotify = ctl_tnotify_create()) == NULL)
		die_usage("-n: out of memory");
	if (ctl_tnotify_add(o->tnotify, s, err, sizeof(err)) != 0)
		die_usage("%s", err);
}

/* -u USER[:GROUP]: the ids now, so a typo fails before anything opens. */
static void
user_arg(struct opts *o, const char *s)
{
	char user[256];
	const char *colon = strchr(s, ':');
	size_t n = colon != NULL ? (size_t)(colon - s) : strlen(s);
	struct passwd *pw;

	if (n == 0 || n >= sizeof(user))
		die_usage("-u '%s': not USER[:GROUP]", s);
	memcpy(user, s, n);
	user[n] = '\0';
	pw = getpwnam(user);
	if (pw == NULL)
		die_usage("-u %s: no such user", user);
	o->uid = pw->pw_uid;
	o->gid = pw->pw_gid;
	o->user = s;
	if (colon != NULL) {
		struct group *gr = getgrnam(colon + 1);

		if (colon[1] == '\0' || gr == NULL)
			die_usage("-u %s: no such group '%s'", s, colon + 1);
		o->gid = gr->gr_gid;
	}
	o->drop = true;
}

/* An rtpproxy flag taken for compatibility, without its effect. */
static void __attribute__((format(printf, 2, 3)))
no_effect(struct opts *o, const char *fmt, ...)
{
	va_list ap;

	if (o->nwarn == (int)(sizeof(o->warn) / sizeof(o->warn[0])))
		return;
	va_start(ap, fmt);
	vsnprintf(o->warn[o->nwarn++], sizeof(o->warn[0]), fmt, ap);
	va_end(ap);
}

/* rtpproxy -v: "Basic version" then one line per capability. */
static void
print_caps(void)
{
	printf("Basic version: %d\n", CTL_PROTO_VERSION);
	for (size_t i = 1; ctl_exec_caps[i][0] != NULL; i++)
		printf("Extension %s: %s\n", ctl_exec_caps[i][0],
		       ctl_exec_caps[i][1]);
}

enum {
	OPT_FILE_PREFIX = 256, OPT_PREFILTER, OPT_NO_PREFILTER, OPT_PIN_ROOT,
	OPT_PORT_SPILL, OPT_KEEP_ON_EXIT,
	OPT_PF_BUDGET, OPT_FORCE_ASYM, OPT_BRIDGE_SYM, OPT_NO_RESOLVE, OPT_NICE,
	OPT_NO_REDIRECT, OPT_OVERLOAD, OPT_CONFIG, OPT_DSO,
	OPT_MAX_SESSIONS, OPT_MAX_NEW_RATE, OPT_CONN_IDLE, OPT_CONN_PER_PEER,
	OPT_METRICS, OPT_JOURNAL,
	/* Redis session state (issue 21 item 2) */
	OPT_REDIS, OPT_REDIS_PREFIX, OPT_REDIS_RELAY, OPT_REDIS_RESTORE,
	OPT_HA, OPT_HA_PEER, /* HA (ctl_ha.h) */
	OPT_PROMPT_DIR, /* playback */
};

/* The options that take effect only once all are read. */
static void
parse_finish(struct opts *o)
{
	char err[320], warn[320];

	if (ctl_addrs_build(&o->addrs, o->addr_args, o->naddr_args, o->adv_arg,
			    o->no_resolve, err, sizeof(err), warn,
			    sizeof(warn)) != 0) {
		if (o->naddr_args == 0)
			die_usage("-l ADDR or -6 ADDR6 is required (the "
				  "dataplane's relay addresses; a wildcard is "
				  "not supported)");
		die_usage("%s", err);
	}
	if (warn[0] != '\0')
		no_effect(o, "%s", warn);
	if (o->nsocks == 0)
		sock_arg(o, DEFAULT_SOCK);
	for (int i = 0; i < o->nsocks; i++) {
		o->socks[i].mode = o->sock_mode;
		if (o->drop) {
			o->socks[i].uid = (int)o->uid;
			o->socks[i].gid = (int)o->gid;
		}
	}
	if (o->pf_off_given && o->pf_mode == PF_ON)
		die_usage("--no-prefilter contradicts --prefilter, "
			  "--bpf-pin-root and --pf-budget");
	if (o->pf_off_given)
		o->pf_mode = PF_OFF;
	/* the bridge's sides are chosen by E/I: a leg may not change side */
	if (o->spill && o->addrs.bridge)
		die_usage("--port-spill: not in bridge mode (-l INT/EXT): "
			  "a leg stays on the side E/I chose");
	/* rtpproxy aforce: bridge mode is asymmetric by default */
	if (o->addrs.bridge && !o->bridge_symmetric)
		o->aforce = true;
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"file-prefix", required_argument, NULL, OPT_FILE_PREFIX},
		{"journal", required_argument, NULL, OPT_JOURNAL},
		{"prefilter", no_argument, NULL, OPT_PREFILTER},
		{"no-prefilter", no_argument, NULL, OPT_NO_PREFILTER},
		{"port-spill", no_argument, NULL, OPT_PORT_SPILL},
		{"keep-on-exit", no_argument, NULL, OPT_KEEP_ON_EXIT},
		{"bpf-pin-root", required_argument, NULL, OPT_PIN_ROOT},
		{"pf-budget", required_argument, NULL, OPT_PF_BUDGET},
		{"force_asymmetric", no_argument, NULL, OPT_FORCE_ASYM},
		{"bridge_symmetric", no_argument, NULL, OPT_BRIDGE_SYM},
		{"no_resolve", no_argument, NULL, OPT_NO_RESOLVE},
		{"nice", required_argument, NULL, OPT_NICE},
		{"no_redirect", no_argument, NULL, OPT_NO_REDIRECT},
		{"overload_prot", optional_argument, NULL, OPT_OVERLOAD},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"dso", required_argument, NULL, OPT_DSO},
		{"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
		{"max-new-rate", required_argument, NULL, OPT_MAX_NEW_RATE},
		{"conn-idle", required_argument, NULL, OPT_CONN_IDLE},
		{"conn-per-peer", required_argument, NULL, OPT_CONN_PER_PEER},
		{"metrics", required_argument, NULL, OPT_METRICS},
		/* Redis session state (issue 21 item 2) */
		{"redis", required_argument, NULL, OPT_REDIS},
		{"redis-key-prefix", required_argument, NULL, OPT_REDIS_PREFIX},
		{"redis-relay-id", required_argument, NULL, OPT_REDIS_RELAY},
		{"redis-restore-from", required_argument, NULL, OPT_REDIS_RESTORE},
		/* HA, active and standby (ctl_ha.h) */
		{"ha", required_argument, NULL, OPT_HA},
		{"ha-peer", required_argument, NULL, OPT_HA_PEER},
		/* playback */
		{"prompt-dir", required_argument, NULL, OPT_PROMPT_DIR},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.port_min = 35000, .port_max = 65000, .ttl_s = 60,
			   .level = CTL_LOG_INFO, .file_prefix = "rtpbypass",
			   .pf_mode = PF_AUTO, .pf_root = CTL_PF_PIN_ROOT,
			   .sock_mode = -1};
	opterr = 0;
	while ((c = getopt_long(argc, argv,
				":s:l:6:A:m:M:bT:W:n:fFd:p:u:w:L:Dt:i2r:S:RPavVh",
				lopts, NULL)) != -1) {
		switch (c) {
		case 's': sock_arg(o, optarg); break;
		case 'l': relay_arg(o, optarg, false); break;
		case '6': relay_arg(o, optarg, true); break;
		case 'A':
			if (*optarg == '\0')
				die_usage("-A: empty advertised address");
			o->adv_arg = optarg;
			break;
		case 'm': o->port_min = num_arg("-m", optarg, 1, 65535); break;
		case 'M': o->port_max = num_arg("-M", optarg, 1, 65535); break;
		case 'b': o->sequential = true; break;
		case 'T': o->ttl_s = num_arg("-T", optarg, 1, 31536000); break;
		case 'W':
			o->setup_ttl_s = num_arg("-W", optarg, 1, 31536000);
			break;
		case 'n': notify_arg(o, optarg); break;
		case 'f': o->foreground = true; break;
		case 'F': o->force_root = true; break;
		case 'D': o->no_chdir = true; break;
		case 'd':
			if (ctl_log_parse(optarg, &o->level, &o->facility) != 0)
				die_usage("-d %s: unknown level (DBUG INFO WARN "
					  "ERR CRIT[:LOG_facility])", optarg);
			break;
		case 'p':
			if (*optarg == '\0')
				die_usage("-p: empty file name");
			o->pidfile = optarg;
			break;
		case 'u': user_arg(o, optarg); break;
		case 'w':
			o->sock_mode = (int)strtol(optarg, NULL, 8);
			if (*optarg == '\0' ||
			    optarg[strspn(optarg, "01234567")] != '\0' ||
			    o->sock_mode > 07777)
				die_usage("-w %s: not an octal mode", optarg);
			break;
		case 'L': o->nofile = num_arg("-L", optarg, 1, 1 << 30); break;
		case 't':
			num_arg("-t", optarg, 0, 255);
			no_effect(o, "-t %s: the dataplane does not set the IP "
				  "TOS of media packets", optarg);
			break;
		case 'i':
			no_effect(o, "-i: timeouts are per session (both "
				  "directions), not per direction");
			break;
		case '2':
			no_effect(o, "-2: low-bitrate packets are sent once");
			break;
		case 'r': o->rec.record_dir = optarg; break;
		case 'S': o->rec.spool_dir = optarg; break;
		case 'P': o->rec.pcap = true; break;
		case 'R': o->rec.no_rtcp = true; break;
		case 'a': o->rec_all = true; break;
		case OPT_FILE_PREFIX:
			if (*optarg == '\0' || strchr(optarg, '/') != NULL)
				die_usage("--file-prefix '%s': not a name", optarg);
			o->file_prefix = optarg;
			break;
		case OPT_JOURNAL:
			if (*optarg == '\0')
				die_usage("--journal: empty name");
			o->journal = optarg;
			break;
		case OPT_PREFILTER: o->pf_mode = PF_ON; break;
		case OPT_NO_PREFILTER: o->pf_off_given = true; break;
		case OPT_PORT_SPILL: o->spill = true; break;
		case OPT_KEEP_ON_EXIT: o->keep_on_exit = true; break;
		case OPT_PIN_ROOT:
			if (*optarg == '\0')
				die_usage("--bpf-pin-root: empty name");
			o->pf_root = optarg;
			o->pf_mode = PF_ON;
			break;
		case OPT_PF_BUDGET:
			pf_budget_arg(o, optarg);
			o->pf_mode = PF_ON;
			break;
		case OPT_FORCE_ASYM: o->aforce = true; break;
		case OPT_BRIDGE_SYM: o->bridge_symmetric = true; break;
		case OPT_NO_RESOLVE: o->no_resolve = true; break;
		case OPT_NICE:
			o->nice = num_arg("--nice", optarg, -20, 19);
			o->has_nice = true;
			break;
		case OPT_NO_REDIRECT: break; /* stdout/stderr are kept anyway */
		case OPT_OVERLOAD:
			no_effect(o, "--overload_prot: new sessions are not "
				  "refused on load (no E98)");
			break;
		case OPT_MAX_SESSIONS:
			o->admit.max_sessions = (uint32_t)num_arg(
				"--max-sessions", optarg, 1, 100000000);
			break;
		case OPT_MAX_NEW_RATE: rate_arg(o, optarg); break;
		case OPT_CONN_IDLE:
			o->conn_idle_s = num_arg("--conn-idle", optarg, 1, 86400);
			break;
		case OPT_CONN_PER_PEER:
			o->conn_per_peer = num_arg("--conn-per-peer", optarg, 1,
						   CTL_SOCK_MAX_CONN);
			break;
		case OPT_METRICS: {
			char err[160];

			if (ctl_metrics_parse_addr(optarg, &o->metrics_addr, err,
						   sizeof(err)) != 0)
				die_usage("--metrics %s", err);
			o->metrics = true;
			break;
		}
		/* Redis session state (issue 21 item 2) */
		case OPT_REDIS: {
			char err[200];

			if (ctl_redis_parse_addr(optarg, &o->redis_cfg.addr, err,
						 sizeof(err)) != 0)
				die_usage("--redis %s", err);
			o->redis = true;
			break;
		}
		case OPT_REDIS_PREFIX:
		case OPT_REDIS_RELAY:
		case OPT_REDIS_RESTORE:
			if (!ctl_redis_id_ok(optarg))
				die_usage("--redis-*: '%s': 1 to %u of "
					  "[A-Za-z0-9._-]", optarg,
					  CTL_REDIS_ID_MAX);
			if (c == OPT_REDIS_PREFIX)
				o->redis_cfg.prefix = optarg;
			else if (c == OPT_REDIS_RELAY)
				o->redis_cfg.relay_id = optarg;
			else
				o->redis_restore = optarg;
			break;
		/* HA, active and standby (ctl_ha.h) */
		case OPT_HA:
			if (strcmp(optarg, "active") != 0 && strcmp(optarg, "standby") != 0)
				die_usage("--ha %s: want active or standby", optarg);
			o->ha = true;
			o->ha_active = strcmp(optarg, "active") == 0;
			break;
		case OPT_HA_PEER:
			if (!ctl_redis_id_ok(optarg))
				die_usage("--ha-peer: '%s': 1 to %u of [A-Za-z0-9._-]",
					  optarg, CTL_REDIS_ID_MAX);
			o->ha_peer = optarg;
			break;
		/* playback */
		case OPT_PROMPT_DIR:
			o->prompt_dir = optarg;
			o->prompt_dir_given = true;
			break;
		case OPT_CONFIG:
		case OPT_DSO:
			die_usage("--config/--dso: rtpproxy modules are not "
				  "supported");
		case 'v': print_caps(); exit(0);
		case 'V': printf("rtpbypass-control %s\n", RTPB_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		case ':':
			die_usage("option '%s' needs a value",
				  argv[optind - 1]);
		default:
			if (optopt != 0)
				die_usage("invalid option '-%c'", optopt);
			die_usage("invalid option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	parse_finish(o);
}

/*
 * rtpproxy's superuser check: as root without -u, a datagram control
 * socket needs -F.
 */
static void
root_check(const struct opts *o)
{
	bool dgram = false;

	if (o->force_root || o->drop || getuid() != 0)
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
	struct ctl_ports *pools[CTL_ADDRS_MAX]; /* one per relay address */
	struct ctl_sessions *sess;
	struct ctl_exec *ex;
	struct ctl_tnotify *tnotify; /* -n targets, NULL without */
	struct ctl_notify *notify;   /* their connections */
	struct ctl_admit *admit;     /* --max-sessions, --max-new-rate */
	struct ctl_metrics *metrics; /* --metrics, NULL without */
	struct ctl_recorder *rec;    /* -r, NULL without */
	struct ctl_player *play;     /* --prompt-dir, NULL: none there */
	struct ctl_journal *journal; /* --journal, NULL: none */
	struct ctl_redis *redis;     /* --redis, NULL: none */
	struct ctl_ha *ha;           /* --ha, NULL: none */
	const char *ha_peer;         /* --ha-peer, NULL: restore nothing */
};

/* A journalled address as a sockaddr (family NONE: NULL). */
static const struct sockaddr *
journal_sa(const struct rtpb_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == RTPB_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = a->port;
		memcpy(&in->sin_addr, a->ip, 4);
	} else if (a->family == RTPB_AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = a->port;
		memcpy(&in6->sin6_addr, a->ip, 16);
	} else {
		return NULL;
	}
	return (const struct sockaddr *)ss;
}

/* DTMF catching (docs/DTMF.md): a dataplane event to its notify target,
 * in rtpproxy's catch_dtmf format. */
static void
app_dtmf(const struct rtpb_msg_ev_dtmf *ev, void *arg)
{
	struct ctl_app *a = arg;
	char line[512];
	int target;

	if (a->notify == NULL ||
	    ctl_sessions_dtmf(a->sess, ev, &target, line, sizeof(line)) != 0)
		return;
	ctl_notify_send(a->notify, target, line, ctl_now_ns());
}

/* ctl_sessions_cfg.notify_resolve: a restored session's -n target. */
static int
journal_notify(const char *name, const struct rtpb_addr *src,
	       const struct rtpb_addr *local, void *arg)
{
	struct sockaddr_storage s1, s2;

	return ctl_tnotify_lookup(arg, name, journal_sa(src, &s1),
				  journal_sa(local, &s2));
}

/* ctl_exec_cfg.redis_counters: arg is &app->redis (made after the
 * executor). */
static void
redis_counters(const void *arg, struct ctl_redis_counters *c)
{
	struct ctl_redis *const *r = arg;

	if (*r != NULL)
		ctl_redis_counters(*r, c);
	else
		memset(c, 0, sizeof(*c));
}

/* Redis session state (issue 21 item 2): the writer, after the journal's
 * sessions are back (the first resync writes them), and the takeover of
 * --redis-restore-from's sessions. @return 0, or -1 (said why). */
static int
redis_open(struct ctl_app *a, const struct opts *o)
{
	struct ctl_redis_restore_stats st;
	char err[200];
	int rc;

	if (!o->redis) {
		if (o->redis_restore != NULL) {
			fprintf(stderr, "rtpbypass-control: --redis-restore-from "
				"needs --redis\n");
			return -1;
		}
		return 0;
	}
	a->redis = ctl_redis_create(&o->redis_cfg, a->sess, err, sizeof(err));
	if (a->redis == NULL) {
		fprintf(stderr, "rtpbypass-control: --redis: %s\n", err);
		return -1;
	}
	ctl_log(CTL_LOG_INFO, "redis %s: session state written as relay '%s'",
		o->redis_cfg.addr.text, ctl_redis_relay_id(a->redis));
	if (o->redis_restore == NULL)
		return 0;
	rc = ctl_redis_restore(a->redis, a->sess, o->redis_restore,
			       CTL_REDIS_RESTORE_TIMEOUT_MS, CTL_REDIS_RESTORE_TAKE,
			       ctl_now_ns(), &st);
	if (rc < 0)
		ctl_log(CTL_LOG_ERR, "--redis-restore-from %s: %s (%u sessions "
			"restored)", o->redis_restore, strerror(-rc), st.restored);
	return 0;
}

/* ctl_ha_restore_fn: the peer's sessions from Redis, taken over (its
 * keys are this relay's from then on: CTL_REDIS_RESTORE_TAKE). */
static int
ha_restore(void *arg, uint64_t now_ns, struct ctl_ha_restored *out)
{
	struct ctl_app *a = arg;
	struct ctl_redis_restore_stats st = {0};

	out->rc = ctl_redis_restore(a->redis, a->sess, a->ha_peer,
				    CTL_REDIS_RESTORE_TIMEOUT_MS, CTL_REDIS_RESTORE_TAKE,
				    now_ns, &st);
	out->found = st.found;
	out->restored = st.restored;
	out->dropped = st.dropped;
	out->present = st.present;
	out->elapsed_ns = st.elapsed_ns;
	return out->rc;
}

/* ctl_session_timeout_fn: a session timed out; its notification goes
 * to the proxy unless this relay is an HA standby (ctl_ha_may_notify():
 * the call, if alive, is the active peer's). */
static void
app_on_timeout(int target, const char *tag, const char *call_id, void *arg)
{
	struct ctl_app *a = arg;

	if (a->ha != NULL && !ctl_ha_may_notify(a->ha)) {
		ctl_log_call(CTL_LOG_INFO, call_id, "timeout while HA standby: "
			     "no notification (the active relay holds the call)");
		return;
	}
	ctl_notify_on_timeout(target, tag, call_id, a->notify);
}

/* ctl_exec_ha_fn: the HA command (ctl_ha.h). */
static int
ha_cmd(void *arg, const char *role, uint64_t now_ns, char *buf, size_t bufsz)
{
	struct ctl_app *a = arg;
	struct ctl_ha_restored r = {0};
	enum ctl_ha_role want;
	bool was;

	if (role != NULL) {
		if (ctl_ha_parse_role(role, &want) != 0)
			return -EINVAL;
		was = ctl_ha_active(a->ha);
		ctl_ha_switch(a->ha, want, now_ns, &r);
		if (!was && ctl_ha_active(a->ha)) {
			snprintf(buf, bufsz, "active restored=%u found=%u dropped=%u "
				 "present=%u ms=%llu\n", r.restored, r.found, r.dropped,
				 r.present, (unsigned long long)(r.elapsed_ns / 1000000ull));
			return 0;
		}
	}
	snprintf(buf, bufsz, "%s\n", ctl_ha_active(a->ha) ? "active" : "standby");
	return 0;
}

/* HA (ctl_ha.h): after the sessions and Redis are up. @return 0, or -1. */
static int
ha_open(struct ctl_app *a, const struct opts *o)
{
	if (!o->ha) {
		if (o->ha_peer != NULL) {
			fprintf(stderr, "rtpbypass-control: --ha-peer needs --ha\n");
			return -1;
		}
		return 0;
	}
	if (o->ha_peer != NULL && a->redis == NULL) {
		fprintf(stderr, "rtpbypass-control: --ha-peer needs --redis\n");
		return -1;
	}
	a->ha_peer = o->ha_peer;
	struct ctl_ha_cfg cfg = {
		.dp = a->dp, .active = o->ha_active,
		.restore = o->ha_peer != NULL ? ha_restore : NULL, .restore_arg = a,
		.sync_timeout_ns = 500ull * 1000000ull,
	};

	a->ha = ctl_ha_create(&cfg);
	return a->ha != NULL ? 0 : -1;
}

/* Playback: open --prompt-dir (the default may well not exist: P then
 * answers E60, as before). */
static void
play_open(struct ctl_app *a, const struct opts *o)
{
	const char *dir = o->prompt_dir != NULL ? o->prompt_dir : CTL_PROMPT_DIR;
	struct ctl_play_dir *d = ctl_play_dir_open(dir);

	if (d == NULL) {
		ctl_log(o->prompt_dir_given ? CTL_LOG_WARN : CTL_LOG_INFO,
			"--prompt-dir %s: %s: P answers E60", dir, strerror(errno));
		return;
	}
	a->play = ctl_player_create(d);
	if (a->play != NULL)
		ctl_log(CTL_LOG_INFO, "playback: prompts from %s", dir);
}

/* Open the session journal (--journal; default CTL_JOURNAL_DIR, made
 * 0700, <file-prefix>.journal), with a slot per port pair (at least 64).
 * @return 0 (a->journal NULL with --journal none), or -1 (said why). */
static int
journal_open(struct ctl_app *a, const struct opts *o, uint32_t pairs)
{
	char path[PATH_MAX], err[PATH_MAX + 64];

	if (o->journal != NULL && strcmp(o->journal, "none") == 0)
		return 0;
	if (o->journal != NULL) {
		snprintf(path, sizeof(path), "%s", o->journal);
	} else {
		if (mkdir(CTL_JOURNAL_DIR, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, "rtpbypass-control: --journal: mkdir %s: "
				"%s\n", CTL_JOURNAL_DIR, strerror(errno));
			return -1;
		}
		snprintf(path, sizeof(path), CTL_JOURNAL_DIR "/%s.journal",
			 o->file_prefix);
	}
	a->journal = ctl_journal_open(path, pairs < 64 ? 64 : pairs, err,
				      sizeof(err));
	if (a->journal == NULL) {
		fprintf(stderr, "rtpbypass-control: --journal: %s\n", err);
		return -1;
	}
	ctl_log(CTL_LOG_INFO, "session journal %s, %u slots", path,
		ctl_journal_slots(a->journal));
	return 0;
}

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
	struct rtpb_addr addrs[CTL_ADDRS_MAX];
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
		for (; n < o->addrs.n; n++)
			addrs[n] = o->addrs.a[n].ip;
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

/* "192.0.2.1, ext@198.51.100.1=203.0.113.1, ..." for the start line. */
static void
addrs_describe(const struct ctl_addrs *t, char *buf, size_t bufsz)
{
	size_t len = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < t->n && len < bufsz; i++) {
		const struct ctl_addr *a = &t->a[i];
		const char *side = !t->bridge		      ? ""
				   : (int)i == t->side[CTL_SIDE_INT] ? "internal "
				   : (int)i == t->side[CTL_SIDE_EXT] ? "external "
								      : "";

		len += (size_t)snprintf(buf + len, bufsz - len, "%s%s%s%s%s%s%s",
					i > 0 ? ", " : "", side, a->label,
					a->label[0] ? "@" : "", a->text,
					a->adv[0] ? "=" : "", a->adv);
	}
}

static int
app_open(struct ctl_app *a, const struct opts *o)
{
	char desc[1024];
	uint16_t lo, hi;

	if (ctl_ports_range(o->port_min, o->port_max, &lo, &hi) != 0) {
		fprintf(stderr, "rtpbypass-control: -m %ld -M %ld: port_min "
			"should be less than port_max\n", o->port_min, o->port_max);
		exit(2);
	}
	int hrc = ctl_hash_init();

	if (hrc != 0) {
		fprintf(stderr, "rtpbypass-control: getrandom() for the session "
			"table's hash secret: %s\n", strerror(-hrc));
		return hrc;
	}
	a->socks = ctl_socks_create();
	a->dp = ctl_dp_create(o->file_prefix);
	if (o->admit.max_sessions != 0 || o->admit.rate != 0) {
		a->admit = ctl_admit_create(&o->admit);
		if (a->admit == NULL)
			return -ENOMEM;
	}
	if (a->socks == NULL || a->dp == NULL)
		return -ENOMEM;
	ctl_socks_set_limits(a->socks, (uint64_t)o->conn_idle_s * CTL_NS_PER_S,
			     (unsigned)o->conn_per_peer);
	/* one pool per relay address over the same range: the dataplane,
	 * the prefilter and the replies tell sockets apart by address and
	 * port, so each address has the whole range (rtpproxy shares one
	 * table per family, which caps a family at one range's pairs
	 * whatever the number of addresses) */
	for (uint32_t i = 0; i < o->addrs.n; i++) {
		a->pools[i] = ctl_ports_create(lo, hi, 0);
		if (a->pools[i] == NULL)
			return -ENOMEM;
		if (o->sequential)
			ctl_ports_set_sequential(a->pools[i], true);
	}
	for (int i = 0; i < o->nsocks; i++) {
		int rc = ctl_socks_listen(a->socks, &o->socks[i]);

		if (rc != 0) {
			fprintf(stderr, "rtpbypass-control: control socket %d "
				"(%s:): %s\n", i + 1,
				ctl_sock_kind_name(o->socks[i].kind),
				strerror(-rc));
			return rc;
		}
	}
	if (o->metrics) {
		char err[200];

		a->metrics = ctl_metrics_open(&o->metrics_addr, err, sizeof(err));
		if (a->metrics == NULL) {
			fprintf(stderr, "rtpbypass-control: --metrics: %s\n", err);
			return -errno;
		}
	}
	if (pf_open(a, o) != 0)
		return -1;
	if (o->tnotify != NULL) {
		a->tnotify = o->tnotify;
		a->notify = ctl_notify_create(a->tnotify);
		if (a->notify == NULL)
			return -ENOMEM;
	}
	if (o->rec.record_dir != NULL) {
		a->rec = ctl_recorder_create(&o->rec, o->rec_all);
		if (a->rec == NULL) {
			fprintf(stderr, "rtpbypass-control: -r %s%s%s: %s\n",
				o->rec.record_dir, o->rec.spool_dir ? " -S " : "",
				o->rec.spool_dir ? o->rec.spool_dir : "", strerror(errno));
			return -errno;
		}
	} else if (o->rec.spool_dir != NULL || o->rec.pcap || o->rec.no_rtcp || o->rec_all) {
		ctl_log(CTL_LOG_WARN, "-S, -P, -R, -a: no record directory (-r): "
			"R answers E50 (-R still applies to forks)");
	}
	play_open(a, o);
	if (journal_open(a, o, o->addrs.n * ((uint32_t)(hi - lo) / 2 + 1)) != 0)
		return -1;
	struct ctl_sessions_cfg scfg = {
		.journal = a->journal,
		.dp = a->dp, .addrs = &o->addrs, .spill = o->spill,
		.ttl_ns = (uint64_t)o->ttl_s * CTL_NS_PER_S,
		.setup_ttl_ns = (uint64_t)o->setup_ttl_s * CTL_NS_PER_S,
		.learn_ms = CTL_LEARN_MS, .pf = a->pf,
		.on_timeout = a->notify != NULL ? app_on_timeout : NULL,
		.timeout_arg = a,
		.on_rec = a->rec != NULL ? ctl_recorder_session : NULL,
		.rec_arg = a->rec,
	};
	scfg.notify_resolve = a->tnotify != NULL ? journal_notify : NULL;
	scfg.notify_resolve_arg = a->tnotify;
	struct ctl_exec_cfg ecfg = {.pf = a->pf, .tnotify = a->tnotify,
				    .aforce = o->aforce, .admit = a->admit,
				    .rec = a->rec != NULL ? ctl_recorder_cmd : NULL,
				    .rec_arg = a->rec,
				    /* forking (C udp:host:port): -R, no RTCP */
				    .fork_no_rtcp = o->rec.no_rtcp,
				    /* HA (ctl_ha.h): a->ha is made below */
				    .ha = o->ha ? ha_cmd : NULL, .ha_arg = a,
				    .play = a->play != NULL ? ctl_player_cmd : NULL,
				    .play_arg = a->play,
				    .play_ctrs = a->play != NULL ? ctl_player_ctrs(a->play) : NULL};
	/* Redis session state (issue 21 item 2): counters in I and G */
	if (o->redis) {
		ecfg.redis_counters = redis_counters;
		ecfg.redis_arg = &a->redis;
	}

	memcpy(scfg.addr_ports, a->pools, sizeof(scfg.addr_ports));
	a->sess = ctl_sessions_create(&scfg);
	a->ex = a->sess != NULL ? ctl_exec_create(&ecfg, a->sess) : NULL;
	if (a->ex == NULL)
		return -ENOMEM;
	ctl_sessions_bind_dp(a->sess);
	/* DTMF catching: the dataplane's events to the notify socket */
	ctl_dp_set_dtmf_cb(a->dp, app_dtmf, a);
	ctl_sessions_journal_load(a->sess, ctl_now_ns());
	if (redis_open(a, o) != 0)
		return -1;
	if (ha_open(a, o) != 0)
		return -1;
	addrs_describe(&o->addrs, desc, sizeof(desc));
	ctl_log(CTL_LOG_INFO, "rtpbypass-control %s: relay %s%s, ports %u-%u "
		"(%u pairs per address%s%s), ttl %lds, setup ttl %lds, %u notify "
		"targets, dataplane '%s'", RTPB_VERSION, desc,
		o->addrs.bridge ? " (bridge mode)" : "", lo, hi,
		(uint32_t)(hi - lo) / 2 + 1, o->sequential ? ", in order" : "",
		o->spill ? ", spilling over" : "",
		o->ttl_s, o->setup_ttl_s ? o->setup_ttl_s : o->ttl_s,
		ctl_tnotify_count(a->tnotify), o->file_prefix);
	if (o->admit.max_sessions != 0 || o->admit.rate != 0)
		ctl_log(CTL_LOG_INFO, "admission: at most %u sessions, %u new "
			"per second per client (burst %u); 0 = no limit",
			o->admit.max_sessions, o->admit.rate,
			o->admit.burst ? o->admit.burst : o->admit.rate);
	for (int i = 0; i < o->nwarn; i++)
		ctl_log(CTL_LOG_WARN, "%s", o->warn[i]);
	if (a->pf != NULL) {
		/* The socket entries an earlier control left stay until the
		 * dataplane is attached: its replay keeps those of the streams
		 * still there (a call in progress survives a control restart,
		 * DESIGN.md §2) and deletes the rest
		 * (ctl_sessions_pf_reconcile()). */
		ctl_log(CTL_LOG_INFO, "prefilter: maps under %s, budget %u/s "
			"burst %u per latched stream", o->pf_root,
			o->pf_pps ? o->pf_pps : RTPB_PF_BUDGET_PPS,
			o->pf_burst ? o->pf_burst : RTPB_PF_BUDGET_BURST);
	}
	return 0;
}

/* Free everything; keep: leave the sessions' streams and prefilter
 * entries for the next control (--keep-on-exit, dataplane attached). */
/* The pacer's turn: due packets onto the workers' play rings.
 * @return when the next one is due, ns (UINT64_MAX: none). */
static uint64_t
play_poll(struct ctl_app *a, uint64_t now)
{
	struct rte_ring *rings[RTPB_MAX_WORKERS];
	uint32_t n = ctl_dp_n_workers(a->dp);

	for (uint32_t w = 0; w < n && w < RTPB_MAX_WORKERS; w++)
		rings[w] = ctl_dp_play_ring(a->dp, w);
	return ctl_player_poll(a->play, a->sess, rings, n, now);
}

/* The recorder's turn: the workers' mirror rings into the files. */
static void
recorder_poll(struct ctl_app *a, uint64_t now)
{
	struct rte_ring *rings[RTPB_MAX_WORKERS];
	uint32_t n = ctl_dp_n_workers(a->dp);

	for (uint32_t w = 0; w < n; w++)
		rings[w] = ctl_dp_mirror_ring(a->dp, w);
	ctl_recorder_poll(a->rec, rings, n, now);
}

static void
app_close(struct ctl_app *a, bool keep)
{
	ctl_metrics_close(a->metrics); /* first: its thread stops */
	ctl_exec_destroy(a->ex);
	/* With a dataplane running, the maps stay pinned: its program still
	 * uses them (pf_addrs for ARP/NDP) and the next control opens them
	 * again. Without one, nobody needs them: the pins go, so a clean
	 * stop of both leaves nothing in bpffs whatever the order (the
	 * dataplane removes them when it stops last, --bpf-pin-root). */
	bool unpin = a->pf != NULL && !ctl_dp_ready(a->dp);

	if (keep)
		ctl_sessions_abandon(a->sess); /* the next control keeps them */
	else
		ctl_sessions_destroy(a->sess); /* pushes the DELs, deletes pf entries */
	ctl_player_destroy(a->play);
	if (a->rec != NULL) {
		recorder_poll(a, ctl_now_ns()); /* what the rings still hold */
		ctl_recorder_destroy(a->rec);
	}
	if (unpin)
		ctl_log(CTL_LOG_INFO, "prefilter: no dataplane running, pins removed");
	ctl_pf_close(a->pf, unpin);
	ctl_redis_close(a->redis, 500); /* after the sessions: their deletes */
	ctl_ha_destroy(a->ha);
	ctl_dp_destroy(a->dp);
	ctl_journal_close(a->journal);
	for (uint32_t i = 0; i < CTL_ADDRS_MAX; i++)
		ctl_ports_destroy(a->pools[i]);
	ctl_socks_destroy(a->socks);
	ctl_admit_destroy(a->admit);
	ctl_notify_destroy(a->notify);
	ctl_tnotify_destroy(a->tnotify);
}

/* The loop: sockets, dataplane, retries, 1 s tick. Under a systemd
 * watchdog (WatchdogSec= of 2 s or more) each tick sends WATCHDOG=1. */
static void
app_run(struct ctl_app *a)
{
	uint64_t last_tick = ctl_now_ns(), idle_sum = 0, wd_usec = 0;
	bool draining = false, watchdog = sd_watchdog_enabled(0, &wd_usec) > 0;
	uint64_t play_due = UINT64_MAX; /* the next played packet, ns */

	while (!quit_flag) {
		uint64_t idle, now = ctl_now_ns();
		/* a packet to play sooner than LOOP_MS: wake up for it, to
		 * the timer slack (ppoll(): ns, not poll()'s ms, which let a
		 * packet leave up to ~1 ms late) */
		uint64_t wait_ns = play_due <= now ? 0 :
			play_due - now >= LOOP_MS * 1000000ull ? LOOP_MS * 1000000ull :
			play_due - now;
		int rc = ctl_socks_run(a->socks, a->ex, wait_ns, &idle);

		if (rc < 0)
			ctl_log(CTL_LOG_ERR, "poll: %s", strerror(-rc));
		idle_sum += idle;
		now = ctl_now_ns();
		/* a session's latch events, one journal put */
		ctl_sessions_journal_defer(a->sess, true);
		ctl_dp_poll(a->dp, now);
		ctl_sessions_journal_defer(a->sess, false);
		ctl_sessions_flush(a->sess);
		if (a->redis != NULL)
			ctl_redis_run(a->redis, now);
		if (a->rec != NULL)
			recorder_poll(a, now);
		if (a->play != NULL)
			play_due = play_poll(a, now);
		if (a->notify != NULL)
			ctl_notify_run(a->notify, now);
		if (drain_flag && !draining) {
			draining = true;
			ctl_exec_set_draining(a->ex, true);
			ctl_log(CTL_LOG_INFO, "SIGHUP: draining, %u sessions left",
				ctl_sessions_count(a->sess));
			sd_notify(0, "STATUS=draining (SIGHUP): new sessions get E99");
		}
		if (now - last_tick < CTL_NS_PER_S)
			continue;
		ctl_exec_set_load(a->ex, 1.0 - (double)idle_sum /
						   (double)(now - last_tick));
		idle_sum = 0;
		last_tick = now;
		ctl_sessions_tick(a->sess, now);
		ctl_exec_tick(a->ex, now);
		ctl_socks_tick(a->socks, now);
		ctl_admit_tick(a->admit, now);
		ctl_metrics_update(a->metrics, a->ex, a->sess, a->dp);
		if (watchdog)
			sd_notify(0, "WATCHDOG=1");
		if (draining && ctl_sessions_count(a->sess) == 0) {
			ctl_log(CTL_LOG_INFO, "drained, exiting");
			break;
		}
	}
}

/* rtpproxy -L and --nice: before anything opens. */
static void
set_limits(const struct opts *o)
{
	if (o->nofile > 0) {
		struct rlimit rl = {.rlim_cur = (rlim_t)o->nofile,
				    .rlim_max = (rlim_t)o->nofile};

		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			fprintf(stderr, "rtpbypass-control: -L %ld: setrlimit("
				"RLIMIT_NOFILE): %s\n", o->nofile,
				strerror(errno));
			exit(1);
		}
	}
	if (o->has_nice && setpriority(PRIO_PROCESS, 0, (int)o->nice) != 0) {
		fprintf(stderr, "rtpbypass-control: --nice %ld: setpriority: "
			"%s\n", o->nice, strerror(errno));
		exit(1);
	}
}

/*
 * rtpproxy -u: become USER[:GROUP] once the sockets, the prefilter's
 * maps and the pid file are open. The dataplane's shared memory is
 * attached (and re-attached after a dataplane restart) afterwards, so
 * its file under /var/run/dpdk/<prefix>/ must be readable and writable
 * by that user (or group): the dataplane's --shm-group.
 *
 * keep_bpf (the prefilter is on): CAP_BPF, and no other capability, is
 * kept across the change of user: its maps are updated with the bpf()
 * system call, which kernels before 6.5 (Debian 12's 6.1) refuse to a
 * process without CAP_BPF whenever kernel.unprivileged_bpf_disabled is
 * set (Debian's default, 2), open descriptors or not; later kernels check
 * only map creation and program loading.
 * @return 0, or -1 (reported).
 */
static int
drop_privileges(const struct opts *o, bool keep_bpf)
{
	struct __user_cap_header_struct ch = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct cd[_LINUX_CAPABILITY_U32S_3] = {{0}};

	if (!o->drop)
		return 0;
	if (keep_bpf && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
		ctl_log(CTL_LOG_CRIT, "-u %s: prctl(PR_SET_KEEPCAPS): %s",
			o->user, strerror(errno));
		return -1;
	}
	if (setgroups(1, &o->gid) != 0 || setgid(o->gid) != 0 ||
	    setuid(o->uid) != 0) {
		ctl_log(CTL_LOG_CRIT, "-u %s: can't drop privileges: %s",
			o->user, strerror(errno));
		return -1;
	}
	if (keep_bpf) {
		cd[CAP_TO_INDEX(CAP_BPF)].permitted = CAP_TO_MASK(CAP_BPF);
		cd[CAP_TO_INDEX(CAP_BPF)].effective = CAP_TO_MASK(CAP_BPF);
		if (syscall(SYS_capset, &ch, cd) != 0 ||
		    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
			ctl_log(CTL_LOG_CRIT, "-u %s: keeping CAP_BPF only (capset): %s",
				o->user, strerror(errno));
			return -1;
		}
	}
	if (o->uid != 0 && setuid(0) == 0) {
		ctl_log(CTL_LOG_CRIT, "-u %s: root privileges could be regained",
			o->user);
		return -1;
	}
	ctl_log(CTL_LOG_INFO, "running as %s (uid %u, gid %u)%s", o->user,
		(unsigned)o->uid, (unsigned)o->gid,
		keep_bpf ? ", with CAP_BPF only (the prefilter's maps)" : "");
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct ctl_app app = {0};
	bool keep;
	int rc;

	parse_args(argc, argv, &o);
	ctl_log_set_level(o.level);
	root_check(&o);
	set_limits(&o);
	setup_signals();
	/* sockets first: a bind error still reaches the terminal */
	rc = app_open(&app, &o);
	if (rc != 0) {
		app_close(&app, false);
		return 1;
	}
	if (!o.foreground) {
		ctl_log_flush(); /* not twice: the buffer would be in both */
		if (daemon(o.no_chdir ? 1 : 0, 0) != 0) {
			fprintf(stderr, "rtpbypass-control: daemon: %s\n",
				strerror(errno));
			app_close(&app, false);
			return 1;
		}
		ctl_log_use_syslog(o.facility);
	}
	if (o.pidfile != NULL && (rc = write_pidfile(o.pidfile)) != 0)
		ctl_log(CTL_LOG_ERR, "pidfile %s: %s", o.pidfile, strerror(-rc));
	if (drop_privileges(&o, app.pf != NULL) != 0) {
		app_close(&app, false);
		return 1;
	}
	/* the HTTP thread: after daemon() (fork keeps no thread) */
	if (app.metrics != NULL) {
		ctl_metrics_update(app.metrics, app.ex, app.sess, app.dp);
		rc = ctl_metrics_start(app.metrics);
		if (rc != 0) {
			ctl_log(CTL_LOG_CRIT, "--metrics %s: starting the HTTP "
				"server: %s", o.metrics_addr.text, strerror(-rc));
			app_close(&app, false);
			return 1;
		}
		ctl_log(CTL_LOG_INFO, "metrics: http://%s/metrics",
			o.metrics_addr.text);
	}
	/* systemd (Type=notify): the sockets are bound; control attaches to
	 * the dataplane whenever it runs */
	sd_notify(0, "READY=1");
	app_run(&app);
	sd_notify(0, "STOPPING=1");
	/* without a dataplane there is nothing to leave: delete as usual */
	keep = o.keep_on_exit && ctl_dp_ready(app.dp);
	if (keep)
		ctl_log(CTL_LOG_INFO, "exiting: %u sessions left in the dataplane for the "
			"next control (--keep-on-exit)", ctl_sessions_count(app.sess));
	else
		ctl_log(CTL_LOG_INFO, "exiting: %u sessions deleted",
			ctl_sessions_count(app.sess));
	app_close(&app, keep);
	if (o.pidfile != NULL)
		unlink(o.pidfile);
	return 0;
}
