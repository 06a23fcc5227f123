/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rtpb-ctl: send one rtpproxy-protocol command, print the reply.
 *
 *   rtpb-ctl [-s SOCKET] [-t TIMEOUT_MS] [-r RETRIES] WORD...
 *
 * SOCKET is one of rtpbypass-control's (rtpproxy's) -s forms:
 * udp:ADDR[:PORT], udp6:[ADDR]:PORT, tcp:ADDR[:PORT], tcp6:[ADDR]:PORT,
 * unix:PATH, cunix:PATH. The words are joined with single spaces into
 * one command. On udp/udp6 it is sent as "<pid>_<n> <command>"
 * (Kamailio's cookie form, no trailing newline) and re-sent with the
 * same cookie until a reply with that cookie arrives (RETRIES tries,
 * TIMEOUT_MS each); the reply is printed without the cookie. On unix:
 * one write, one read (Kamailio's unix: mode). On tcp, tcp6 and cunix
 * (one command per line) the command is sent with a '\n' and the reply
 * read up to its last line: one line, or for I up to a quiet
 * TIMEOUT_MS. Exit 0 when a reply came (errors "E<n>" included), 1 on
 * timeout or I/O error, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rtpb_config.h"

#define CMD_MAX 8192
#define REPLY_MAX 9216

/* The usage text: on stdout with status 0 for --help, else on stderr
 * with status 2 (bad usage). */
static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
		"usage: rtpb-ctl [-s udp:ADDR:PORT|udp6:[ADDR]:PORT|tcp:ADDR:PORT|"
		"tcp6:[ADDR]:PORT|unix:PATH|cunix:PATH] [-t TIMEOUT_MS] "
		"[-r RETRIES] WORD...\n"
		"  default -s udp:127.0.0.1:22222, -t 1000, -r 5\n"
		"  e.g. rtpb-ctl I; rtpb-ctl Gv (every counter); rtpb-ctl Q CALL-ID FROM-TAG\n"
		"  -h, --help     this text\n"
		"  -V, --version  print the version\n");
	exit(status);
}

static long
num(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "rtpb-ctl: %s: '%s' not in %ld..%ld\n", opt, s,
			lo, hi);
		exit(2);
	}
	return v;
}

/* Connect to HOST[:PORT] / [HOST][:PORT] (the part after "udp:" etc.). */
static int
inet_connect(const char *rest, int af, int type)
{
	char host[256], port[16] = "22222";
	const char *colon;
	struct addrinfo hints = {.ai_family = af, .ai_socktype = type};
	struct addrinfo *res;
	int fd;

	if (strlen(rest) >= sizeof(host))
		return -1;
	if (*rest == '[') {
		const char *rb = strchr(rest, ']');

		if (rb == NULL)
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(rb - rest - 1), rest + 1);
		if (rb[1] == ':')
			snprintf(port, sizeof(port), "%s", rb + 2);
	} else if (af == AF_INET && (colon = strrchr(rest, ':')) != NULL) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - rest), rest);
		snprintf(port, sizeof(port), "%s", colon + 1);
	} else {
		snprintf(host, sizeof(host), "%s", rest);
	}
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, type, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* UDP: send with a cookie, retransmit, match the cookie. */
static int
run_udp(int fd, const char *cmd, int timeout_ms, int retries)
{
	static char out[CMD_MAX + 64], in[REPLY_MAX + 1];
	char cookie[48];
	int olen;

	snprintf(cookie, sizeof(cookie), "%ld_%d", (long)getpid(), 1);
	olen = snprintf(out, sizeof(out), "%s %s", cookie, cmd);
	if (olen < 0 || (size_t)olen >= sizeof(out))
		return 2;
	for (int t = 0; t < retries; t++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (send(fd, out, (size_t)olen, 0) < 0 && errno != ECONNREFUSED) {
			perror("rtpb-ctl: send");
			return 1;
		}
		while (poll(&p, 1, timeout_ms) > 0) {
			ssize_t n = recv(fd, in, REPLY_MAX, 0);
			size_t cl = strlen(cookie);

			if (n < 0) {
				/* ECONNREFUSED: nobody there yet (a control
				 * starting): the try still lasts TIMEOUT_MS */
				poll(NULL, 0, timeout_ms);
				break;
			}
			in[n] = '\0';
			if ((size_t)n > cl && strncmp(in, cookie, cl) == 0 &&
			    in[cl] == ' ') {
				fputs(in + cl + 1, stdout);
				return 0;
			}
		}
	}
	fprintf(stderr, "rtpb-ctl: no reply after %d tries\n", retries);
	return 1;
}

/* unix: one write, one read (the server closes after replying). */
static int
run_unix(const char *path, const char *cmd, int timeout_ms)
{
	static char in[REPLY_MAX + 1];
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct pollfd p;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ssize_t n;

	if (strlen(path) >= sizeof(sun.sun_path) || fd < 0)
		return 1;
	strcpy(sun.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		perror("rtpb-ctl: unix");
		close(fd);
		return 1;
	}
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, timeout_ms) <= 0 || (n = read(fd, in, REPLY_MAX)) <= 0) {
		fprintf(stderr, "rtpb-ctl: no reply\n");
		close(fd);
		return 1;
	}
	in[n] = '\0';
	fputs(in, stdout);
	close(fd);
	return 0;
}

/* tcp, tcp6, cunix: one line out, the reply back (see the top). */
static int
run_stream(int fd, const char *cmd, int timeout_ms)
{
	static char in[REPLY_MAX + 1];
	size_t len = 0, clen = strlen(cmd);
	bool multi = cmd[0] == 'I' || cmd[0] == 'i';

	if (write(fd, cmd, clen) != (ssize_t)clen || write(fd, "\n", 1) != 1) {
		perror("rtpb-ctl: write");
		return 1;
	}
	while (len < REPLY_MAX) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		n = read(fd, in + len, REPLY_MAX - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		/* a reply is one line, but I's many */
		if (!multi && in[len - 1] == '\n')
			break;
		if (multi && len >= 2 && in[0] == 'E' && in[len - 1] == '\n')
			break;
	}
	if (len == 0) {
		fprintf(stderr, "rtpb-ctl: no reply\n");
		return 1;
	}
	in[len] = '\0';
	fputs(in, stdout);
	return 0;
}

/* A SOCK_STREAM unix socket connected to path, or -1. */
static int
unix_connect(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sun.sun_path, path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	const char *sock = "udp:127.0.0.1:22222";
	int timeout_ms = 1000, retries = 5, c, fd;
	static char cmd[CMD_MAX + 1];
	size_t len = 0;

	static const struct option lopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};

	/* '+': the command's words (e.g. "Gv") are never taken for options */
	while ((c = getopt_long(argc, argv, "+s:t:r:hV", lopts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 't': timeout_ms = (int)num("-t", optarg, 1, 600000); break;
		case 'r': retries = (int)num("-r", optarg, 1, 100); break;
		case 'h': usage(0); break;
		case 'V': printf("rtpb-ctl %s\n", RTPB_VERSION); return 0;
		default: usage(2);
		}
	}
	if (optind >= argc)
		usage(2);
	for (int i = optind; i < argc; i++) {
		int n = snprintf(cmd + len, sizeof(cmd) - len, "%s%s",
				 i > optind ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= sizeof(cmd) - len) {
			fprintf(stderr, "rtpb-ctl: command longer than %d bytes\n",
				CMD_MAX);
			return 2;
		}
		len += (size_t)n;
	}
	if (strncmp(sock, "unix:", 5) == 0)
		return run_unix(sock + 5, cmd, timeout_ms);
	if (strncmp(sock, "cunix:", 6) == 0 || strncmp(sock, "tcp:", 4) == 0 ||
	    strncmp(sock, "tcp6:", 5) == 0) {
		if (sock[0] == 'c')
			fd = unix_connect(sock + 6);
		else
			fd = inet_connect(sock + (sock[3] == '6' ? 5 : 4),
					  sock[3] == '6' ? AF_INET6 : AF_INET,
					  SOCK_STREAM);
		if (fd < 0) {
			fprintf(stderr, "rtpb-ctl: -s %s: cannot connect\n", sock);
			return 1;
		}
		c = run_stream(fd, cmd, timeout_ms);
		close(fd);
		return c;
	}
	if (strncmp(sock, "udp:", 4) != 0 && strncmp(sock, "udp6:", 5) != 0) {
		fprintf(stderr, "rtpb-ctl: -s %s: udp:, udp6:, tcp:, tcp6:, unix: "
			"or cunix: expected\n", sock);
		return 2;
	}
	fd = inet_connect(sock + (sock[3] == '6' ? 5 : 4),
			  sock[3] == '6' ? AF_INET6 : AF_INET, SOCK_DGRAM);
	if (fd < 0) {
		fprintf(stderr, "rtpb-ctl: -s %s: cannot resolve/connect\n", sock);
		return 2;
	}
	c = run_udp(fd, cmd, timeout_ms, retries);
	close(fd);
	return c;
}
