/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_log.c: the log sink of control (stderr or syslog), see ctl_log.h.
 * Single-threaded like the rest of control: no locking.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <sys/stat.h>

#include "ctl_log.h"

static enum ctl_log_level log_level = CTL_LOG_INFO;
static bool log_syslog;
static ctl_log_hook_fn *log_hook;
static bool log_buffered;
static char log_buf[64 * 1024];
static void *log_hook_arg;

static const char *const level_names[] = {
	[CTL_LOG_DBUG] = "DBUG", [CTL_LOG_INFO] = "INFO",
	[CTL_LOG_WARN] = "WARN", [CTL_LOG_ERR] = "ERR",
	[CTL_LOG_CRIT] = "CRIT",
};

static const int level_prio[] = {
	[CTL_LOG_DBUG] = LOG_DEBUG, [CTL_LOG_INFO] = LOG_INFO,
	[CTL_LOG_WARN] = LOG_WARNING, [CTL_LOG_ERR] = LOG_ERR,
	[CTL_LOG_CRIT] = LOG_CRIT,
};

static const struct {
	const char *name;
	int fac;
} facilities[] = {
	{"LOG_DAEMON", LOG_DAEMON}, {"LOG_USER", LOG_USER},
	{"LOG_AUTH", LOG_AUTH}, {"LOG_AUTHPRIV", LOG_AUTHPRIV},
	{"LOG_CRON", LOG_CRON}, {"LOG_FTP", LOG_FTP}, {"LOG_KERN", LOG_KERN},
	{"LOG_LPR", LOG_LPR}, {"LOG_MAIL", LOG_MAIL}, {"LOG_NEWS", LOG_NEWS},
	{"LOG_SYSLOG", LOG_SYSLOG}, {"LOG_UUCP", LOG_UUCP},
	{"LOG_LOCAL0", LOG_LOCAL0}, {"LOG_LOCAL1", LOG_LOCAL1},
	{"LOG_LOCAL2", LOG_LOCAL2}, {"LOG_LOCAL3", LOG_LOCAL3},
	{"LOG_LOCAL4", LOG_LOCAL4}, {"LOG_LOCAL5", LOG_LOCAL5},
	{"LOG_LOCAL6", LOG_LOCAL6}, {"LOG_LOCAL7", LOG_LOCAL7},
};

int
ctl_log_parse(const char *s, enum ctl_log_level *level, int *facility)
{
	const char *colon = strchr(s, ':');
	size_t llen = colon != NULL ? (size_t)(colon - s) : strlen(s);
	size_t i;
	bool found = false;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strlen(level_names[i]) == llen &&
		    strncasecmp(s, level_names[i], llen) == 0) {
			*level = (enum ctl_log_level)i;
			found = true;
			break;
		}
	}
	if (!found)
		return -EINVAL;
	*facility = LOG_DAEMON;
	if (colon == NULL)
		return 0;
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
		if (strcasecmp(colon + 1, facilities[i].name) == 0) {
			*facility = facilities[i].fac;
			return 0;
		}
	}
	return -EINVAL;
}

void
ctl_log_set_level(enum ctl_log_level level)
{
	log_level = level;
}

bool
ctl_log_enabled(enum ctl_log_level level)
{
	return level >= log_level;
}

void
ctl_log_use_syslog(int facility)
{
	openlog("rtpbypass-control", LOG_PID | LOG_NDELAY, facility);
	log_syslog = true;
}

void
ctl_log_set_hook(ctl_log_hook_fn *fn, void *arg)
{
	log_hook = fn;
	log_hook_arg = arg;
}

/*
 * Is stderr the journal's stream? systemd sets JOURNAL_STREAM to the
 * "DEVICE:INODE" of the stream it connected (systemd.exec(5)); a
 * redirected stderr no longer matches it.
 */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	       fstat(fileno(stderr), &st) == 0 &&
	       (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

/* "HH:MM:SS" of sec in local time: localtime_r() once a second, not
 * once a line (a session's lines come in bursts). */
static const char *
log_stamp(time_t sec)
{
	static time_t last = (time_t)-1;
	static char stamp[16];
	struct tm tm;

	if (sec != last) {
		localtime_r(&sec, &tm);
		snprintf(stamp, sizeof(stamp), "%02d:%02d:%02d", tm.tm_hour,
			 tm.tm_min, tm.tm_sec);
		last = sec;
	}
	return stamp;
}

/* Write one formatted line to the sink (or the hook). */
static void
log_write(enum ctl_log_level level, const char *prefix, const char *fmt,
	  va_list ap)
{
	static int journal = -1; /* stderr_is_journal(), asked once */
	char line[2048], out[32 + 640 + sizeof(line)];
	struct timespec ts;
	size_t len, plen;
	char *c;
	int n;

	vsnprintf(line, sizeof(line), fmt, ap);
	/* Arguments from the network (tags, addresses) may hold control
	 * characters: none reaches the terminal or syslog raw. */
	for (c = line; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	len = (size_t)(c - line);
	if (log_hook != NULL) {
		char full[2048 + 640];

		snprintf(full, sizeof(full), "%s%s", prefix, line);
		log_hook(level, full, log_hook_arg);
		return;
	}
	if (log_syslog) {
		syslog(level_prio[level], "%s%s", prefix, line);
		return;
	}
	if (!log_buffered) {
		/* Lines are written by ctl_log_flush() (every loop of the
		 * main thread, before it blocks), not one write() each: a
		 * session's lines cost one system call per batch of commands. */
		setvbuf(stderr, log_buf, _IOFBF, sizeof(log_buf));
		log_buffered = true;
	}
	if (journal < 0)
		journal = stderr_is_journal();
	if (journal) {
		/* sd-daemon(3)'s "<N>" prefix: journald keeps the level
		 * (journalctl -p err), and stamps the time itself */
		fprintf(stderr, "<%d>%s: %s%s\n", level_prio[level],
			level_names[level], prefix, line);
		return;
	}
	/* one buffer, one fwrite(): the line is formatted once, not again
	 * by a fprintf("%s") */
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(out, 32, "%s.%03ld %s: ", log_stamp(ts.tv_sec),
		     ts.tv_nsec / 1000000, level_names[level]);
	if (n < 0 || n >= 32)
		return;
	plen = strnlen(prefix, 640);
	memcpy(out + n, prefix, plen);
	memcpy(out + n + plen, line, len);
	out[n + plen + len] = '\n';
	fwrite_unlocked(out, 1, (size_t)n + plen + len + 1, stderr);
}

void
ctl_log_flush(void)
{
	if (log_buffered)
		fflush(stderr);
}

void
ctl_log(enum ctl_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!ctl_log_enabled(level))
		return;
	va_start(ap, fmt);
	log_write(level, "", fmt, ap);
	va_end(ap);
}

char *
ctl_log_escape(const char *in, size_t max, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (outsz == 0)
		return out;
	for (i = 0; in[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c > 0x20 && c < 0x7f) {
			if (o + 1 >= outsz)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= outsz)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
	}
	if (in[i] != '\0' && o + 3 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

void
ctl_log_call(enum ctl_log_level level, const char *call_id, const char *fmt,
	     ...)
{
	char prefix[640]; /* "[", the escaped id (< 600), "] " */
	size_t n;
	va_list ap;

	if (!ctl_log_enabled(level))
		return;
	/* built in place, not by snprintf("[%s] "): one line per command */
	prefix[0] = '[';
	if (call_id != NULL)
		ctl_log_escape(call_id, 128, prefix + 1, 600);
	else
		memcpy(prefix + 1, "-", 2);
	n = 1 + strlen(prefix + 1);
	memcpy(prefix + n, "] ", 3);
	va_start(ap, fmt);
	log_write(level, prefix, fmt, ap);
	va_end(ap);
}

bool
ctl_log_limit(struct ctl_log_limit *l, uint64_t now_ns, uint64_t *n)
{
	l->since++;
	if (now_ns < l->next_ns)
		return false;
	*n = l->since;
	l->since = 0;
	l->next_ns = now_ns + 1000000000ull;
	return true;
}
