/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_tnotify.c: the -n target set, see ctl_tnotify.h. Targets are only
 * ever added (the indexes stored in sessions stay valid).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "ctl_tnotify.h"

/* A "tcp:%%CC_SELF%%:PORT" wildcard. */
struct wildcard {
	char name[64];
	uint16_t port; /* host order */
};

struct ctl_tnotify {
	struct ctl_tnotify_target t[CTL_TNOTIFY_MAX];
	uint32_t n;
	struct wildcard w[CTL_TNOTIFY_WILD_MAX];
	uint32_t nw;
};

struct ctl_tnotify *
ctl_tnotify_create(void)
{
	return calloc(1, sizeof(struct ctl_tnotify));
}

void
ctl_tnotify_destroy(struct ctl_tnotify *ts)
{
	free(ts);
}

bool
ctl_tnotify_enabled(const struct ctl_tnotify *ts)
{
	return ts != NULL && (ts->n > 0 || ts->nw > 0);
}

/* "HOST:PORT" -> host, port 1..65535 (rtpproxy parse_hostport()). */
static int
hostport(const char *hp, char *host, size_t hsz, uint16_t *port)
{
	const char *c = strrchr(hp, ':');
	char *end;
	long p;

	if (c == NULL || c == hp || c[1] == '\0' || (size_t)(c - hp) >= hsz)
		return -1;
	p = strtol(c + 1, &end, 10);
	if (*end != '\0' || p <= 0 || p > 65535)
		return -1;
	memcpy(host, hp, (size_t)(c - hp));
	host[c - hp] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int
ctl_tnotify_add(struct ctl_tnotify *ts, const char *spec, char *err,
		size_t errsz)
{
	struct ctl_tnotify_target *t;
	const char *path = NULL;
	char host[256];
	uint16_t port;

	if (strlen(spec) >= sizeof(t->name) - 5) {
		snprintf(err, errsz, "-n %s: too long", spec);
		return -EINVAL;
	}
	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "tcp:", 4) != 0)
		path = spec; /* rtpproxy: anything else is a unix path */
	if (path != NULL) {
		struct sockaddr_un *sun;

		if (*path == '\0' || strlen(path) >= sizeof(sun->sun_path)) {
			snprintf(err, errsz,
				 "-n %s: timeout notification socket "
				 "name too short or too long",
				 spec);
			return -EINVAL;
		}
		if (ts->n == CTL_TNOTIFY_MAX) {
			snprintf(err, errsz,
				 "-n %s: more than %d notify targets", spec,
				 CTL_TNOTIFY_MAX);
			return -ENOSPC;
		}
		t = &ts->t[ts->n];
		memset(t, 0, sizeof(*t));
		snprintf(t->name, sizeof(t->name), "unix:%s", path);
		sun = (struct sockaddr_un *)&t->remote;
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, path);
		t->remote_len = sizeof(*sun);
		ts->n++;
		return 0;
	}
	if (hostport(spec + 4, host, sizeof(host), &port) != 0) {
		snprintf(err, errsz, "-n %s: can't parse host:port", spec);
		return -EINVAL;
	}
	if (strcmp(host, CTL_TNOTIFY_CC_SELF) == 0) {
		if (ts->nw == CTL_TNOTIFY_WILD_MAX) {
			snprintf(err, errsz, "-n %s: more than %d %s targets",
				 spec, CTL_TNOTIFY_WILD_MAX,
				 CTL_TNOTIFY_CC_SELF);
			return -ENOSPC;
		}
		snprintf(ts->w[ts->nw].name, sizeof(ts->w[ts->nw].name), "%s",
			 spec);
		ts->w[ts->nw++].port = port;
		return 0;
	}
	if (ts->n == CTL_TNOTIFY_MAX) {
		snprintf(err, errsz, "-n %s: more than %d notify targets", spec,
			 CTL_TNOTIFY_MAX);
		return -ENOSPC;
	}
	t = &ts->t[ts->n];
	memset(t, 0, sizeof(*t));
	{
		struct addrinfo hints = { .ai_family = AF_INET,
					  .ai_socktype = SOCK_STREAM };
		struct addrinfo *res;
		char pstr[8];
		int rc;

		snprintf(pstr, sizeof(pstr), "%u", port);
		rc = getaddrinfo(host, pstr, &hints, &res);
		if (rc != 0) {
			snprintf(err, errsz, "-n %s: %s", spec,
				 gai_strerror(rc));
			return -EINVAL;
		}
		memcpy(&t->remote, res->ai_addr, res->ai_addrlen);
		t->remote_len = res->ai_addrlen;
		freeaddrinfo(res);
	}
	snprintf(t->name, sizeof(t->name), "%s", spec);
	ts->n++;
	return 0;
}

/* The concrete target of a wildcard for the command's source (rtpproxy
 * get_tp4wp()): found, or made. */
static int
cc_self(struct ctl_tnotify *ts, const struct wildcard *w,
	const struct sockaddr *src, const struct sockaddr *local)
{
	struct sockaddr_in cc = { .sin_family = AF_INET };
	struct ctl_tnotify_target *t;

	if (src != NULL && src->sa_family == AF_INET)
		cc.sin_addr = ((const struct sockaddr_in *)src)->sin_addr;
	else /* unix or IPv6 control socket: rtpproxy assumes 127.0.0.1 */
		cc.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cc.sin_port = htons(w->port);
	for (uint32_t i = 0; i < ts->n; i++) {
		const struct sockaddr_in *r =
			(const struct sockaddr_in *)&ts->t[i].remote;

		if (ts->t[i].name[0] != '\0' || r->sin_family != AF_INET)
			continue;
		if (r->sin_addr.s_addr == cc.sin_addr.s_addr &&
		    r->sin_port == cc.sin_port)
			return (int)i;
	}
	if (ts->n == CTL_TNOTIFY_MAX)
		return -1;
	t = &ts->t[ts->n];
	memset(t, 0, sizeof(*t));
	memcpy(&t->remote, &cc, sizeof(cc));
	t->remote_len = sizeof(cc);
	if (local != NULL && local->sa_family == AF_INET) {
		struct sockaddr_in *l = (struct sockaddr_in *)&t->local;

		memcpy(l, local, sizeof(*l));
		l->sin_port = 0;
		t->local_len = sizeof(*l);
	}
	return (int)ts->n++;
}

int
ctl_tnotify_lookup(struct ctl_tnotify *ts, const char *name,
		   const struct sockaddr *src, const struct sockaddr *local)
{
	if (ts == NULL)
		return -1;
	for (uint32_t i = 0; i < ts->n; i++)
		if (ts->t[i].name[0] != '\0' &&
		    strcmp(ts->t[i].name, name) == 0)
			return (int)i;
	if (strchr(name, ':') == NULL) {
		/* rtpproxy 1.x/2.0 names: a unix path without "unix:" */
		for (uint32_t i = 0; i < ts->n; i++)
			if (strncmp(ts->t[i].name, "unix:", 5) == 0 &&
			    strcmp(ts->t[i].name + 5, name) == 0)
				return (int)i;
		return -1;
	}
	for (uint32_t i = 0; i < ts->nw; i++)
		if (strcmp(ts->w[i].name, name) == 0)
			return cc_self(ts, &ts->w[i], src, local);
	return -1;
}

uint32_t
ctl_tnotify_count(const struct ctl_tnotify *ts)
{
	return ts != NULL ? ts->n : 0;
}

const struct ctl_tnotify_target *
ctl_tnotify_get(const struct ctl_tnotify *ts, int idx)
{
	if (ts == NULL || idx < 0 || (uint32_t)idx >= ts->n)
		return NULL;
	return &ts->t[idx];
}

const char *
ctl_tnotify_describe(const struct ctl_tnotify *ts, int idx, char *buf,
		     size_t bufsz)
{
	const struct ctl_tnotify_target *t = ctl_tnotify_get(ts, idx);
	const struct sockaddr_in *r;
	char ip[INET_ADDRSTRLEN];

	if (t == NULL) {
		snprintf(buf, bufsz, "?");
		return buf;
	}
	if (t->name[0] != '\0') {
		snprintf(buf, bufsz, "%s", t->name);
		return buf;
	}
	r = (const struct sockaddr_in *)&t->remote;
	inet_ntop(AF_INET, &r->sin_addr, ip, sizeof(ip));
	snprintf(buf, bufsz, "tcp:%s:%u", ip, ntohs(r->sin_port));
	return buf;
}
