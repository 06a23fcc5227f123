/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_ctl.c: the rtpproxy-protocol client (see gen_ctl.h). Runs on the
 * main thread before and after the traffic; blocking calls are fine here.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "gen_clock.h"
#include "gen_ctl.h"

#define CTL_BATCH 4096u /* calls per U batch then L batch */
#define CTL_CMD_MAX 256u
#define CTL_REPLY_MAX 2048u
#define CTL_MMSG 64u /* datagrams per sendmmsg()/recvmmsg() */

enum cmd_state {
	CMD_WAIT = 0,
	CMD_SENT,
	CMD_DONE
};

/* Batch number, part of every cookie: unique over the whole run, so a
 * relay's cookie cache never answers a new command with an old reply. */
static uint64_t ctl_batch;

/* Datagram buffers of the one connection open at a time (setup, then
 * teardown; the generator's control side is one thread). */
struct ctl_io {
	char tx[CTL_MMSG][CTL_CMD_MAX + 64];
	char rx[CTL_MMSG][CTL_REPLY_MAX + 1];
	struct iovec iov[CTL_MMSG];
	struct mmsghdr mmsg[CTL_MMSG];
};

static struct ctl_io ctl_io;

struct ctl_conn {
	int fd;
	unsigned int pid;
	const struct gen_cfg *cfg;
	struct gen_ctl_stats *st;
	uint64_t t0_ns, next_progress_ns;
	uint32_t progress_total; /* commands to answer */
	const char *what;
	/* commands queued by cmd_send(), sent by cmd_flush() with one
	 * sendmmsg(); replies read CTL_MMSG at a time with recvmmsg(): a
	 * SIP proxy's many workers, not one system call per command */
	uint32_t ntx;
	struct ctl_io *io;
};

/* Formats command i of a batch into buf (without the cookie). */
typedef void(cmd_fmt_fn)(char *buf, size_t len, uint32_t i, void *arg);
/* Called once per command with its reply text, or NULL if none came. */
typedef void(cmd_done_fn)(uint32_t i, const char *reply, void *arg);

/* udp:HOST:PORT or udp6:[HOST]:PORT -> a connected UDP socket. */
static int
conn_open(struct ctl_conn *cc, const char *spec)
{
	char host[256], *port;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	int fd, r, sz = 4 << 20;

	if (strncmp(spec, "udp:", 4) == 0) {
		hints.ai_family = AF_INET;
		snprintf(host, sizeof(host), "%s", spec + 4);
	} else if (strncmp(spec, "udp6:", 5) == 0) {
		hints.ai_family = AF_INET6;
		snprintf(host, sizeof(host), "%s", spec + 5);
	} else {
		return -EINVAL;
	}
	port = strrchr(host, ':');
	if (port == NULL)
		return -EINVAL;
	*port++ = '\0';
	if (host[0] == '[' && port - host >= 3 && port[-2] == ']') {
		port[-2] = '\0';
		memmove(host, host + 1, strlen(host + 1) + 1);
	}
	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0 || ai == NULL)
		return -EHOSTUNREACH;
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		r = -errno;
		freeaddrinfo(ai);
		close(fd);
		return r;
	}
	freeaddrinfo(ai);
	cc->fd = fd;
	cc->pid = (unsigned int)getpid();
	return 0;
}

static void
progress(struct ctl_conn *cc)
{
	uint64_t t = gen_now_ns();

	if (cc->cfg->quiet || t < cc->next_progress_ns)
		return;
	cc->next_progress_ns = t + 1000000000ull;
	fprintf(stderr, "rtpb-gen: %s: %lu/%u commands answered, %.1f s\n",
		cc->what, (unsigned long)cc->st->commands, cc->progress_total,
		(double)(t - cc->t0_ns) / 1e9);
}

/* Send command i (again) with its cookie "<pid>_<batch>_<i>". */
/* Send the queued commands (one sendmmsg() per CTL_MMSG). A datagram the
 * socket refuses (EAGAIN, ENOBUFS) is left to the resend timer. */
static void
cmd_flush(struct ctl_conn *cc)
{
	uint32_t i, done = 0;

	for (i = 0; i < cc->ntx; i++) {
		cc->io->iov[i] = (struct iovec){.iov_base = cc->io->tx[i],
					    .iov_len = strlen(cc->io->tx[i])};
		cc->io->mmsg[i].msg_hdr = (struct msghdr){.msg_iov = &cc->io->iov[i],
						      .msg_iovlen = 1};
	}
	while (done < cc->ntx) {
		int r = sendmmsg(cc->fd, cc->io->mmsg + done, cc->ntx - done, 0);

		if (r <= 0)
			break;
		done += (uint32_t)r;
	}
	cc->ntx = 0;
}

/* Queue command i of the batch (cookie PID_BATCH_I). */
static void
cmd_send(struct ctl_conn *cc, uint32_t i, cmd_fmt_fn *fmt, void *arg)
{
	char cmd[CTL_CMD_MAX];

	if (cc->ntx == CTL_MMSG)
		cmd_flush(cc);
	fmt(cmd, sizeof(cmd), i, arg);
	snprintf(cc->io->tx[cc->ntx++], sizeof(cc->io->tx[0]), "%u_%lu_%u %s", cc->pid,
		 (unsigned long)ctl_batch, i, cmd);
}

/* One reply datagram (len bytes in buf, room for a NUL): command idx of
 * this batch done, unless it is another batch's or a repeat. */
static void
reply_one(struct ctl_conn *cc, char *buf, size_t len, const char *prefix,
	  size_t plen, uint32_t n, uint8_t *state, uint32_t *inflight,
	  uint32_t *ndone, cmd_done_fn *done, void *arg)
{
	char *end, *sp;
	unsigned long idx;

	buf[len] = '\0';
	if (len <= plen || memcmp(buf, prefix, plen) != 0)
		return; /* an earlier batch's late reply */
	idx = strtoul(buf + plen, &end, 10);
	if (*end != ' ' || idx >= n || state[idx] != CMD_SENT)
		return;
	sp = end + 1;
	sp[strcspn(sp, "\r\n")] = '\0';
	state[idx] = CMD_DONE;
	(*inflight)--;
	(*ndone)++;
	cc->st->commands++;
	done((uint32_t)idx, sp, arg);
}

/*
 * Run n commands pipelined; done(i, reply) for each, reply NULL when no
 * reply came after cfg->ctl_retries sends. @return 0, or -errno.
 */
static int
ctl_run(struct ctl_conn *cc, uint32_t n, cmd_fmt_fn *fmt, cmd_done_fn *done,
	void *arg)
{
	const struct gen_cfg *cfg = cc->cfg;
	uint64_t timeout = (uint64_t)cfg->ctl_timeout_ms * 1000000ull;
	uint8_t *state = calloc(n, 1), *tries = calloc(n, 1);
	uint64_t *deadline = calloc(n, sizeof(uint64_t));
	uint32_t next = 0, lo = 0, inflight = 0, ndone = 0, i;
	char prefix[64];
	size_t plen;
	int rc = 0, nrx, k;

	if (state == NULL || tries == NULL || deadline == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	ctl_batch++;
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%u_%lu_", cc->pid,
				(unsigned long)ctl_batch);
	while (ndone < n) {
		uint64_t t = gen_now_ns(), wait_ns = timeout;
		struct pollfd pfd = { .fd = cc->fd, .events = POLLIN };

		while (inflight < cfg->ctl_window && next < n) {
			cmd_send(cc, next, fmt, arg);
			state[next] = CMD_SENT;
			tries[next] = 1;
			deadline[next] = t + timeout;
			next++;
			inflight++;
		}
		/* resend or give up what timed out; lo skips the done prefix */
		while (lo < next && state[lo] == CMD_DONE)
			lo++;
		for (i = lo; i < next; i++) {
			if (state[i] != CMD_SENT)
				continue;
			if (deadline[i] <= t) {
				if (tries[i] >= cfg->ctl_retries) {
					state[i] = CMD_DONE;
					inflight--;
					ndone++;
					cc->st->no_reply++;
					done(i, NULL, arg);
					continue;
				}
				cmd_send(cc, i, fmt, arg);
				tries[i]++;
				cc->st->resends++;
				deadline[i] = t + timeout;
			}
			if (deadline[i] - t < wait_ns)
				wait_ns = deadline[i] - t;
		}
		cmd_flush(cc);
		if (ndone == n)
			break;
		if (poll(&pfd, 1, (int)(wait_ns / 1000000ull) + 1) < 0 &&
		    errno != EINTR) {
			rc = -errno;
			goto out;
		}
		for (;;) {
			for (i = 0; i < CTL_MMSG; i++) {
				cc->io->iov[i] = (struct iovec){.iov_base = cc->io->rx[i],
							    .iov_len = CTL_REPLY_MAX};
				cc->io->mmsg[i].msg_hdr = (struct msghdr){
					.msg_iov = &cc->io->iov[i], .msg_iovlen = 1};
			}
			nrx = recvmmsg(cc->fd, cc->io->mmsg, CTL_MMSG, 0, NULL);
			if (nrx <= 0)
				break;
			for (k = 0; k < nrx; k++)
				reply_one(cc, cc->io->rx[k], cc->io->mmsg[k].msg_len, prefix, plen, n,
					  state, &inflight, &ndone, done, arg);
			if (nrx < (int)CTL_MMSG)
				break;
		}
		progress(cc);
	}
out:
	free(state);
	free(tries);
	free(deadline);
	return rc;
}

/* ---- setup: U then L per batch ---- */

struct setup_arg {
	const struct gen_cfg *cfg;
	struct gen_leg *legs;
	uint32_t c0; /* first call of the batch */
	uint32_t n_calls; /* all calls (for the 'l' address spread) */
	struct gen_ctl_stats *st;
	uint8_t *u_ok; /* per call of the batch */
};

/* The 'l<addr>' modifier of call c, or "". */
static const char *
local_mod(const struct gen_cfg *cfg, uint32_t c, uint32_t n_calls, char *buf,
	  size_t len)
{
	struct in_addr a;
	uint32_t k;

	buf[0] = '\0';
	if (cfg->n_ctl_local == 0)
		return buf;
	/* blocks of consecutive calls per address: each address's port
	 * range fills evenly */
	k = (uint32_t)((uint64_t)c * cfg->n_ctl_local / n_calls);
	a.s_addr = cfg->ctl_local[k];
	snprintf(buf, len, "l%s", inet_ntoa(a));
	return buf;
}

/* " && S tos=N" (--tos: the TOS of the packets sent to the command's
 * party, rtpproxy 3.2's S sub-command, docs/DTMF.md), or "". */
static const char *
tos_subcmd(const struct gen_cfg *cfg, char *buf, size_t len)
{
	buf[0] = '\0';
	if (cfg->ctl_tos != 0)
		snprintf(buf, len, " && S tos=%u", cfg->ctl_tos);
	return buf;
}

static void
fmt_u(char *buf, size_t len, uint32_t i, void *arg)
{
	struct setup_arg *sa = arg;
	uint32_t c = sa->c0 + i;
	const struct gen_leg *a = &sa->legs[2 * c];
	struct in_addr ip = { .s_addr = a->phone_ip };
	char mod[32];

	char tos[32];

	snprintf(buf, len, "U%s %s-%u %s %u a%u;1%s",
		 local_mod(sa->cfg, c, sa->n_calls, mod, sizeof(mod)),
		 sa->cfg->call_prefix, c, inet_ntoa(ip), ntohs(a->phone_port),
		 c, tos_subcmd(sa->cfg, tos, sizeof(tos)));
}

static void
fmt_l(char *buf, size_t len, uint32_t i, void *arg)
{
	struct setup_arg *sa = arg;
	uint32_t c = sa->c0 + i;
	const struct gen_leg *b = &sa->legs[2 * c + 1];
	struct in_addr ip = { .s_addr = b->phone_ip };
	char mod[32];

	char tos[32];

	snprintf(buf, len, "L%s %s-%u %s %u a%u;1 b%u;1%s",
		 local_mod(sa->cfg, c, sa->n_calls, mod, sizeof(mod)),
		 sa->cfg->call_prefix, c, inet_ntoa(ip), ntohs(b->phone_port),
		 c, c, tos_subcmd(sa->cfg, tos, sizeof(tos)));
}

static void
fail(struct gen_ctl_stats *st, const char *fmt, uint32_t c, const char *what)
{
	if (st->first_error[0] == '\0')
		snprintf(st->first_error, sizeof(st->first_error), fmt, c,
			 what);
}

/* "PORT [ADDR]" -> the relay socket, or -1 (an error reply, port 0). */
static int
parse_port_reply(const char *r, uint32_t *ip, uint16_t *port)
{
	char *end;
	unsigned long p = strtoul(r, &end, 10);
	struct in_addr a;

	if (end == r || p == 0 || p > 65535)
		return -1;
	*port = htons((uint16_t)p);
	while (*end == ' ')
		end++;
	if (*end != '\0') {
		char addr[64];

		snprintf(addr, sizeof(addr), "%s", end);
		addr[strcspn(addr, " ")] = '\0';
		if (inet_pton(AF_INET, addr, &a) != 1)
			return -1; /* IPv6 relay socket: not generated */
		*ip = a.s_addr;
	}
	return 0;
}

static void
done_u(uint32_t i, const char *reply, void *arg)
{
	struct setup_arg *sa = arg;
	uint32_t c = sa->c0 + i;
	struct gen_leg *b = &sa->legs[2 * c + 1];

	if (reply == NULL) {
		fail(sa->st, "call %u: U: no reply%s", c, "");
		return;
	}
	if (reply[0] == 'E' || strstr(reply, "&&") != NULL ||
	    parse_port_reply(reply, &b->relay_ip, &b->relay_port) != 0) {
		sa->st->errors += reply[0] == 'E';
		fail(sa->st, "call %u: U answered '%s'", c, reply);
		return;
	}
	sa->u_ok[i] = 1;
	sa->legs[2 * c].in_ctl = 1;
	sa->st->sessions++;
}

static void
done_l(uint32_t i, const char *reply, void *arg)
{
	struct setup_arg *sa = arg;
	uint32_t c = sa->c0 + i;
	struct gen_leg *a = &sa->legs[2 * c];

	if (reply == NULL) {
		fail(sa->st, "call %u: L: no reply%s", c, "");
		return;
	}
	if (reply[0] == 'E' || strstr(reply, "&&") != NULL ||
	    parse_port_reply(reply, &a->relay_ip, &a->relay_port) != 0) {
		sa->st->errors += reply[0] == 'E';
		fail(sa->st, "call %u: L answered '%s'", c, reply);
		return;
	}
	/* a reply without an address: the relay is the one of U */
	if (a->relay_ip == 0)
		a->relay_ip = sa->legs[2 * c + 1].relay_ip;
	if (a->relay_ip == 0) {
		fail(sa->st, "call %u: no relay address in the replies ('%s')",
		     c, reply);
		return;
	}
	if (sa->legs[2 * c + 1].relay_ip == 0)
		sa->legs[2 * c + 1].relay_ip = a->relay_ip;
	a->ok = 1;
	sa->legs[2 * c + 1].ok = 1;
	sa->st->calls_ok++;
}

/* L only for the calls whose U succeeded: map batch index -> call. */
struct l_arg {
	struct setup_arg *sa;
	uint32_t *idx;
};

static void
fmt_l_sel(char *buf, size_t len, uint32_t i, void *arg)
{
	struct l_arg *la = arg;

	fmt_l(buf, len, la->idx[i], la->sa);
}

static void
done_l_sel(uint32_t i, const char *reply, void *arg)
{
	struct l_arg *la = arg;

	done_l(la->idx[i], reply, la->sa);
}

/* ---- the calls' optional features: R and C per party after the L ---- */

/* Commands per call: R for both parties (--record), then C for both
 * (--fork). Party 0 is the caller (from-tag a<c>: rtpproxy's ".o"),
 * party 1 the callee (the tags swapped), as Kamailio's start_recording()
 * sends them on the INVITE and on its reply (docs/RECORDING.md). */
static uint32_t
feature_cmds_per_call(const struct gen_cfg *cfg)
{
	return (cfg->ctl_record ? 2u : 0u) + (cfg->ctl_fork != NULL ? 2u : 0u);
}

static void
fmt_x(char *buf, size_t len, uint32_t i, void *arg)
{
	struct l_arg *la = arg;
	const struct gen_cfg *cfg = la->sa->cfg;
	uint32_t per = feature_cmds_per_call(cfg), k = i % per;
	uint32_t c = la->sa->c0 + la->idx[i / per];
	uint32_t first = k & 1u ? 'b' : 'a', second = k & 1u ? 'a' : 'b';

	if (cfg->ctl_record && k < 2)
		snprintf(buf, len, "R %s-%u %c%u;1 %c%u;1", cfg->call_prefix,
			 c, first, c, second, c);
	else
		snprintf(buf, len, "C %s-%u %s %c%u;1 %c%u;1",
			 cfg->call_prefix, c, cfg->ctl_fork, first, c, second,
			 c);
}

/* R and C answer "0"; anything else fails the call (it no longer
 * counts as set up: the run is incomplete, setup_incomplete()). */
static void
done_x(uint32_t i, const char *reply, void *arg)
{
	struct l_arg *la = arg;
	struct setup_arg *sa = la->sa;
	uint32_t per = feature_cmds_per_call(sa->cfg);
	uint32_t c = sa->c0 + la->idx[i / per];
	struct gen_leg *a = &sa->legs[2 * c];
	char what[128];

	if (reply != NULL && strcmp(reply, "0") == 0) {
		sa->st->feature_cmds++;
		return;
	}
	sa->st->errors += reply != NULL && reply[0] == 'E';
	snprintf(what, sizeof(what), "%s answered '%s'",
		 sa->cfg->ctl_record && i % per < 2 ? "R" : "C",
		 reply != NULL ? reply : "(nothing)");
	fail(sa->st, "call %u: %s", c, what);
	if (a->ok) {
		a->ok = 0;
		sa->legs[2 * c + 1].ok = 0;
		sa->st->calls_ok--;
	}
}

int
gen_ctl_setup(const struct gen_cfg *cfg, struct gen_leg *legs, uint32_t n_calls,
	      struct gen_ctl_stats *st)
{
	struct ctl_conn cc = { .cfg = cfg, .st = st, .what = "setup (U+L)", .io = &ctl_io };
	struct setup_arg sa = {
		.cfg = cfg, .legs = legs, .n_calls = n_calls, .st = st
	};
	uint32_t *idx = malloc(sizeof(uint32_t) * CTL_BATCH);
	uint64_t t0;
	uint32_t c0, n, i, nl, per;
	int rc;

	memset(st, 0, sizeof(*st));
	sa.u_ok = calloc(CTL_BATCH, 1);
	if (idx == NULL || sa.u_ok == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = conn_open(&cc, cfg->ctl);
	if (rc != 0)
		goto out;
	t0 = gen_now_ns();
	cc.t0_ns = t0;
	cc.next_progress_ns = t0 + 1000000000ull;
	cc.progress_total = (2 + feature_cmds_per_call(cfg)) * n_calls;
	for (c0 = 0; c0 < n_calls; c0 += n) {
		struct l_arg la = { .sa = &sa, .idx = idx };

		n = n_calls - c0 < CTL_BATCH ? n_calls - c0 : CTL_BATCH;
		sa.c0 = c0;
		memset(sa.u_ok, 0, n);
		rc = ctl_run(&cc, n, fmt_u, done_u, &sa);
		if (rc != 0)
			break;
		for (i = 0, nl = 0; i < n; i++)
			if (sa.u_ok[i])
				idx[nl++] = i;
		rc = ctl_run(&cc, nl, fmt_l_sel, done_l_sel, &la);
		if (rc != 0)
			break;
		per = feature_cmds_per_call(cfg);
		if (per == 0)
			continue;
		for (i = 0, nl = 0; i < n; i++)
			if (legs[2 * (c0 + i)].ok)
				idx[nl++] = i;
		rc = ctl_run(&cc, nl * per, fmt_x, done_x, &la);
		if (rc != 0)
			break;
	}
	st->seconds = (double)(gen_now_ns() - t0) / 1e9;
	st->calls_failed = n_calls - st->calls_ok;
	close(cc.fd);
out:
	free(idx);
	free(sa.u_ok);
	return rc;
}

/* ---- teardown ---- */

struct del_arg {
	const struct gen_cfg *cfg;
	const struct gen_leg *legs;
	uint32_t *calls;
	struct gen_ctl_stats *st;
};

static void
fmt_d(char *buf, size_t len, uint32_t i, void *arg)
{
	struct del_arg *da = arg;

	snprintf(buf, len, "D %s-%u a%u", da->cfg->call_prefix, da->calls[i],
		 da->calls[i]);
}

static void
done_d(uint32_t i, const char *reply, void *arg)
{
	struct del_arg *da = arg;

	if (reply != NULL && strcmp(reply, "0") == 0) {
		da->st->calls_ok++;
		return;
	}
	da->st->errors += reply != NULL;
	fail(da->st, "call %u: D answered '%s'", da->calls[i],
	     reply != NULL ? reply : "(nothing)");
}

int
gen_ctl_teardown(const struct gen_cfg *cfg, const struct gen_leg *legs,
		 uint32_t n_calls, struct gen_ctl_stats *st)
{
	struct ctl_conn cc = { .cfg = cfg, .st = st, .what = "teardown (D)", .io = &ctl_io };
	struct del_arg da = { .cfg = cfg, .legs = legs, .st = st };
	uint32_t c, n = 0;
	uint64_t t0;
	int rc;

	memset(st, 0, sizeof(*st));
	da.calls = malloc(sizeof(uint32_t) * (n_calls ? n_calls : 1));
	if (da.calls == NULL)
		return -ENOMEM;
	for (c = 0; c < n_calls; c++)
		if (legs[2 * c].in_ctl)
			da.calls[n++] = c;
	rc = conn_open(&cc, cfg->ctl);
	if (rc != 0) {
		free(da.calls);
		return rc;
	}
	t0 = gen_now_ns();
	cc.t0_ns = t0;
	cc.next_progress_ns = t0 + 1000000000ull;
	cc.progress_total = n;
	rc = ctl_run(&cc, n, fmt_d, done_d, &da);
	st->seconds = (double)(gen_now_ns() - t0) / 1e9;
	st->calls_failed = n - st->calls_ok;
	close(cc.fd);
	free(da.calls);
	return rc;
}
