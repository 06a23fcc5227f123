/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_log.h: control's logging.
 *
 * One process-wide sink: stderr in the foreground (-f), syslog once
 * daemonized. On a stderr that is the journal's stream (systemd's
 * JOURNAL_STREAM), each line starts with sd-daemon(3)'s "<N>" priority
 * (no time: journald stamps it), so journald keeps its level. Levels are rtpproxy's -d levels. Every line about a call
 * starts with "[call-id] " (ctl_log_call()), so an operator can grep one
 * call's history; call-ids and tags come from the network, so they are
 * printed with control characters escaped and their length bounded.
 */
#ifndef CTL_LOG_H
#define CTL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Log levels, rtpproxy -d names: DBUG INFO WARN ERR CRIT. */
enum ctl_log_level {
	CTL_LOG_DBUG = 0,
	CTL_LOG_INFO,
	CTL_LOG_WARN,
	CTL_LOG_ERR,
	CTL_LOG_CRIT,
};

/**
 * Parse an rtpproxy -d argument "LEVEL[:FACILITY]" (case-insensitive).
 * @param s        the argument.
 * @param level    out: the level.
 * @param facility out: syslog facility (LOG_DAEMON if none given).
 * @return 0, or -EINVAL if the level or facility is unknown.
 */
int ctl_log_parse(const char *s, enum ctl_log_level *level, int *facility);

/** Lines below level are dropped. Default CTL_LOG_INFO. */
void ctl_log_set_level(enum ctl_log_level level);

/** True if a line at level would be written (skip costly formatting). */
bool ctl_log_enabled(enum ctl_log_level level);

/**
 * Send lines to syslog (ident "rtpbypass-control", facility) instead of
 * stderr; used once daemonized.
 */
void ctl_log_use_syslog(int facility);

/**
 * Where lines go instead of stderr/syslog when set (tests capture the
 * log this way). line is the whole line without time, level or newline,
 * "[call-id] " prefix included; valid during the call only.
 */
typedef void(ctl_log_hook_fn)(enum ctl_log_level level, const char *line,
			      void *arg);

/**
 * Send every line at or above the level to fn instead of the sink; NULL
 * restores the sink.
 */
void ctl_log_set_hook(ctl_log_hook_fn *fn, void *arg);

/**
 * Write out the buffered lines of the stderr sink. Control's main loop
 * calls it every iteration before it blocks in poll(), and at exit; a
 * line waits at most one loop (a batch of commands, or 10 ms).
 */
void ctl_log_flush(void);

/** Write one line (no trailing newline in fmt). */
void ctl_log(enum ctl_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * Write one line about a call: "[call-id] " + fmt. call_id may be NULL
 * (printed as "-"); it is escaped and cut at 128 bytes.
 */
void ctl_log_call(enum ctl_log_level level, const char *call_id,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/**
 * Copy untrusted text into out (size outsz, NUL-terminated) with bytes
 * outside 0x21..0x7e written as \xNN and at most max input bytes used
 * ("..." appended when cut). For call-ids, tags and commands in logs.
 * @return out.
 */
char *ctl_log_escape(const char *in, size_t max, char *out, size_t outsz);

/**
 * Rate limit for a line about an event that may come in floods (refused
 * connections, refused sessions): at most one line per second.
 */
struct ctl_log_limit {
	uint64_t next_ns; /**< no line before (CLOCK_MONOTONIC ns) */
	uint64_t since;   /**< events since the last line */
};

/**
 * Count one event; true when its line may be written now, with *n the
 * events it stands for (this one and those not logged since the last).
 */
bool ctl_log_limit(struct ctl_log_limit *l, uint64_t now_ns, uint64_t *n);

#endif /* CTL_LOG_H */
