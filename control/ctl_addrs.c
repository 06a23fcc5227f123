/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_addrs.c: the relay address table, see ctl_addrs.h. Built once at
 * start by the command line (or from a plain configuration by tests),
 * read-only afterwards.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl_addrs.h"

/* One argument split: [label@]host[/ext][=adv]. */
struct barg {
	char label[CTL_LABEL_MAX];
	char host[256]; /* "" when the argument was "/EXT" */
	char ext[256]; /* "" unless "INT/EXT" */
	char adv[CTL_ADV_MAX];
	bool has_slash;
	bool v6;
	bool used; /* taken as a bridge address */
};

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int
ctl_addrs_parse_ip(const char *s, size_t len, uint8_t family,
		   struct rtpb_addr *a)
{
	char buf[INET6_ADDRSTRLEN + 2];

	if (family == RTPB_AF_INET6 && len >= 2 && s[0] == '[' &&
	    s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(a, 0, sizeof(*a));
	a->family = family;
	return inet_pton(family == RTPB_AF_INET6 ? AF_INET6 : AF_INET, buf,
			 a->ip) == 1 ?
		       0 :
		       -1;
}

/* Printable, no separator the forms use, not empty. */
static bool
label_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isgraph((unsigned char)*s) ||
		    strchr("@=/{}[]", *s) != NULL)
			return false;
	return true;
}

static int
split_arg(const struct ctl_addr_arg *in, struct barg *b, char *err,
	  size_t errsz)
{
	const char *s = in->s, *at = strchr(s, '@'), *eq, *slash;
	size_t n;

	memset(b, 0, sizeof(*b));
	b->v6 = in->v6;
	if (at != NULL) {
		n = (size_t)(at - s);
		if (n >= sizeof(b->label))
			return fail(err, errsz, "%s %s: label too long",
				    in->v6 ? "-6" : "-l", in->s);
		memcpy(b->label, s, n);
		if (!label_ok(b->label))
			return fail(err, errsz, "%s %s: invalid label",
				    in->v6 ? "-6" : "-l", in->s);
		s = at + 1;
	}
	eq = strchr(s, '=');
	n = eq != NULL ? (size_t)(eq - s) : strlen(s);
	if (eq != NULL) {
		if (strlen(eq + 1) >= sizeof(b->adv) || eq[1] == '\0')
			return fail(err, errsz,
				    "%s %s: invalid advertised address",
				    in->v6 ? "-6" : "-l", in->s);
		strcpy(b->adv, eq + 1);
	}
	if (n >= sizeof(b->host))
		return fail(err, errsz, "%s %s: address too long",
			    in->v6 ? "-6" : "-l", in->s);
	memcpy(b->host, s, n);
	b->host[n] = '\0';
	slash = strchr(b->host, '/');
	if (slash != NULL) {
		b->has_slash = true;
		strcpy(b->ext, slash + 1);
		b->host[slash - b->host] = '\0';
	}
	return 0;
}

/* Resolve host (numeric, or a name unless numeric_only) of family. */
static int
resolve(const char *host, bool v6, bool numeric_only, struct rtpb_addr *a,
	char *err, size_t errsz)
{
	uint8_t fam = v6 ? RTPB_AF_INET6 : RTPB_AF_INET;
	struct addrinfo hints = { .ai_family = v6 ? AF_INET6 : AF_INET,
				  .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res;
	int rc;

	if (strcmp(host, "*") == 0 || *host == '\0')
		return fail(err, errsz,
			    "'%s': a wildcard relay address is not "
			    "supported: give the dataplane's %s address",
			    host, v6 ? "IPv6" : "IPv4");
	if (ctl_addrs_parse_ip(host, strlen(host), fam, a) != 0) {
		if (numeric_only)
			return fail(err, errsz,
				    "'%s': not a numeric IPv%c address"
				    " (--no_resolve)",
				    host, v6 ? '6' : '4');
		rc = getaddrinfo(host, NULL, &hints, &res);
		if (rc != 0)
			return fail(err, errsz,
				    "'%s': cannot resolve as an IPv%c "
				    "address: %s",
				    host, v6 ? '6' : '4', gai_strerror(rc));
		memset(a, 0, sizeof(*a));
		a->family = fam;
		if (v6)
			memcpy(a->ip,
			       &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr,
			       16);
		else
			memcpy(a->ip,
			       &((struct sockaddr_in *)res->ai_addr)->sin_addr,
			       4);
		freeaddrinfo(res);
	}
	if (v6) {
		static const uint8_t zero[16];
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0,    0,
						    0, 0, 0, 0, 0xff, 0xff };

		if (memcmp(a->ip, zero, 16) == 0)
			return fail(
				err, errsz,
				"'%s': a wildcard relay address "
				"is not supported: give the dataplane's IPv6 "
				"address",
				host);
		if (a->ip[0] == 0xff || memcmp(a->ip, mapped, 12) == 0)
			return fail(err, errsz,
				    "'%s': not a unicast IPv6 address", host);
	} else if (rtpb_addr_v4(a) == 0) {
		return fail(err, errsz,
			    "'%s': a wildcard relay address is not "
			    "supported: give the dataplane's IPv4 address",
			    host);
	}
	return 0;
}

/* Append an address; label and adv may be "". */
static int
add(struct ctl_addrs *t, const struct rtpb_addr *ip, const char *label,
    const char *adv, char *err, size_t errsz)
{
	struct ctl_addr *a;

	if (t->n == CTL_ADDRS_MAX)
		return fail(err, errsz, "more than %d relay addresses",
			    CTL_ADDRS_MAX);
	if (ctl_addrs_find_ip(t, ip) >= 0) {
		char buf[INET6_ADDRSTRLEN];

		inet_ntop(ip->family == RTPB_AF_INET6 ? AF_INET6 : AF_INET,
			  ip->ip, buf, sizeof(buf));
		return fail(err, errsz, "relay address %s given twice", buf);
	}
	if (*label != '\0' &&
	    ctl_addrs_find_label(t, label, strlen(label)) >= 0)
		return fail(err, errsz, "address label '%s' given twice",
			    label);
	a = &t->a[t->n++];
	memset(a, 0, sizeof(*a));
	a->ip = *ip;
	snprintf(a->label, sizeof(a->label), "%s", label);
	snprintf(a->adv, sizeof(a->adv), "%s", adv);
	inet_ntop(ip->family == RTPB_AF_INET6 ? AF_INET6 : AF_INET, ip->ip,
		  a->text, sizeof(a->text));
	return 0;
}

static void
reset(struct ctl_addrs *t)
{
	memset(t, 0, sizeof(*t));
	t->side[0] = t->side[1] = -1;
	t->def[0] = t->def[1] = -1;
}

/* Defaults per family: the first unlabelled address, else the first. */
static void
set_defaults(struct ctl_addrs *t)
{
	for (int f = 0; f < 2; f++) {
		uint8_t fam = f == 0 ? RTPB_AF_INET : RTPB_AF_INET6;

		t->def[f] = -1;
		for (uint32_t i = 0; i < t->n && t->def[f] < 0; i++)
			if (t->a[i].ip.family == fam &&
			    t->a[i].label[0] == '\0')
				t->def[f] = (int)i;
		for (uint32_t i = 0; i < t->n && t->def[f] < 0; i++)
			if (t->a[i].ip.family == fam)
				t->def[f] = (int)i;
	}
	if (!t->bridge && t->n > 0)
		t->side[CTL_SIDE_INT] = 0;
}

/* -A ADV1[/ADV2] in bridge mode: the internal, then the external one. */
static int
bridge_adv(struct ctl_addrs *t, const char *adv_arg, char *err, size_t errsz)
{
	const char *slash;
	size_t n;

	if (adv_arg == NULL)
		return 0;
	slash = strchr(adv_arg, '/');
	if (slash == NULL || slash[1] == '\0' || slash == adv_arg)
		return fail(err, errsz,
			    "-A %s: two advertised addresses are "
			    "required for internal and external interfaces in "
			    "bridging mode (-A INT/EXT)",
			    adv_arg);
	n = (size_t)(slash - adv_arg);
	if (n >= CTL_ADV_MAX || strlen(slash + 1) >= CTL_ADV_MAX)
		return fail(err, errsz, "-A %s: advertised address too long",
			    adv_arg);
	memcpy(t->a[t->side[CTL_SIDE_INT]].adv, adv_arg, n);
	t->a[t->side[CTL_SIDE_INT]].adv[n] = '\0';
	strcpy(t->a[t->side[CTL_SIDE_EXT]].adv, slash + 1);
	return 0;
}

int
ctl_addrs_build(struct ctl_addrs *t, const struct ctl_addr_arg *args,
		size_t nargs, const char *adv_arg, bool numeric_only, char *err,
		size_t errsz, char *warn, size_t warnsz)
{
	struct barg b[CTL_ADDRS_MAX];
	int first[2] = { -1, -1 }; /* first -l, first -6 */
	int iarg = -1, earg = -1;
	bool seen_unlabelled[2] = { false, false };
	struct rtpb_addr ip;
	int rc;

	reset(t);
	if (warn != NULL && warnsz > 0)
		warn[0] = '\0';
	if (nargs > CTL_ADDRS_MAX)
		return fail(err, errsz, "more than %d relay addresses (-l, -6)",
			    CTL_ADDRS_MAX);
	for (size_t i = 0; i < nargs; i++) {
		rc = split_arg(&args[i], &b[i], err, errsz);
		if (rc != 0)
			return rc;
		if (first[b[i].v6] < 0)
			first[b[i].v6] = (int)i;
	}
	/* bridge mode: a '/' in the first argument of a family */
	for (int f = 0; f < 2; f++) {
		int i = first[f];

		if (i < 0 || !b[i].has_slash)
			continue;
		if (earg >= 0)
			return fail(err, errsz,
				    "either IPv4 or IPv6 should be "
				    "configured for external interface in "
				    "bridging mode, not both");
		earg = i;
		t->bridge = true;
	}
	if (t->bridge) {
		for (int f = 0; f < 2; f++) {
			int i = first[f];

			if (i < 0 || b[i].host[0] == '\0')
				continue;
			if (iarg >= 0)
				return fail(
					err, errsz,
					"either IPv4 or IPv6 should "
					"be configured for internal interface "
					"in bridging mode, not both");
			iarg = i;
		}
		if (iarg < 0 || b[earg].ext[0] == '\0')
			return fail(
				err, errsz,
				"incomplete configuration of the "
				"bridging mode - exactly 2 listen addresses "
				"required");
		if (b[iarg].label[0] != '\0' || b[earg].label[0] != '\0')
			return fail(err, errsz,
				    "bridging address(es) cannot have "
				    "a label");
		if (b[iarg].adv[0] != '\0' || b[earg].adv[0] != '\0')
			return fail(err, errsz,
				    "bridging address(es) cannot have "
				    "an advertised address, use matching -A "
				    "argument");
		if ((rc = resolve(b[iarg].host, b[iarg].v6, numeric_only, &ip,
				  err, errsz)) != 0 ||
		    (rc = add(t, &ip, "", "", err, errsz)) != 0)
			return rc;
		t->side[CTL_SIDE_INT] = 0;
		if ((rc = resolve(b[earg].ext, b[earg].v6, numeric_only, &ip,
				  err, errsz)) != 0 ||
		    (rc = add(t, &ip, "", "", err, errsz)) != 0)
			return rc;
		t->side[CTL_SIDE_EXT] = 1;
		b[iarg].used = true;
		b[earg].used = true;
		if ((rc = bridge_adv(t, adv_arg, err, errsz)) != 0)
			return rc;
	} else if (adv_arg != NULL && warn != NULL) {
		snprintf(warn, warnsz,
			 "-A %s has an effect in bridge mode only "
			 "(-l INT/EXT), as in rtpproxy; ignored (give -l "
			 "ADDR=ADVERTISED instead)",
			 adv_arg);
	}
	for (size_t i = 0; i < nargs; i++) {
		const char *opt = b[i].v6 ? "-6" : "-l";

		if (b[i].used)
			continue;
		if (b[i].has_slash)
			return fail(err, errsz,
				    "%s %s: only the first %s listening "
				    "address can have external part",
				    opt, args[i].s, b[i].v6 ? "IPv6" : "IPv4");
		if (b[i].label[0] == '\0') {
			/* rtpproxy: every address after the first needs a
			 * label; here one unlabelled address per family is
			 * fine outside bridge mode */
			if (t->bridge || seen_unlabelled[b[i].v6])
				return fail(err, errsz,
					    "%s %s: address label is "
					    "missing (LABEL@ADDR)",
					    opt, args[i].s);
			seen_unlabelled[b[i].v6] = true;
		}
		if ((rc = resolve(b[i].host, b[i].v6, numeric_only, &ip, err,
				  errsz)) != 0)
			return rc;
		if ((rc = add(t, &ip, b[i].label, b[i].adv, err, errsz)) != 0)
			return rc;
	}
	if (t->n == 0)
		return fail(err, errsz,
			    "no relay address (-l ADDR or -6 ADDR6)");
	set_defaults(t);
	return 0;
}

void
ctl_addrs_from_relays(struct ctl_addrs *t, uint32_t relay_ip,
		      const uint8_t *relay6)
{
	struct rtpb_addr a;
	char err[8];

	reset(t);
	if (relay_ip != 0) {
		rtpb_addr_set_v4(&a, relay_ip, 0);
		add(t, &a, "", "", err, sizeof(err));
	}
	if (relay6 != NULL) {
		memset(&a, 0, sizeof(a));
		a.family = RTPB_AF_INET6;
		memcpy(a.ip, relay6, 16);
		add(t, &a, "", "", err, sizeof(err));
	}
	set_defaults(t);
}

int
ctl_addrs_find_label(const struct ctl_addrs *t, const char *label, size_t len)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (strlen(t->a[i].label) == len && len > 0 &&
		    memcmp(t->a[i].label, label, len) == 0)
			return (int)i;
	return -1;
}

int
ctl_addrs_find_ip(const struct ctl_addrs *t, const struct rtpb_addr *a)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (rtpb_addr_host_eq(&t->a[i].ip, a))
			return (int)i;
	return -1;
}

int
ctl_addrs_default(const struct ctl_addrs *t, uint8_t family)
{
	if (family == RTPB_AF_INET)
		return t->def[0];
	if (family == RTPB_AF_INET6)
		return t->def[1];
	return -1;
}

int
ctl_addrs_parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	*port = (uint16_t)v;
	return 0;
}
