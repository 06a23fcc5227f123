/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_addrs.h: the relay addresses, what rtpproxy's -l, -6 and -A set
 * (src/rtpp_bindargs.c init_bindaddrs(), src/rtpp_bindaddrs.c).
 *
 * Every address is one the dataplane serves; a leg's relay socket is on
 * one of them (its index in the table, struct ctl_leg.laddr). The table
 * is built once at start (ctl_addrs_build()) and read-only afterwards;
 * the parser, the executor and the session table read the same one.
 *
 * Forms (rtpproxy 3.2): each -l (IPv4) / -6 (IPv6) argument is
 * "[label@]ADDR[=ADVERTISED]"; the first IPv4 or the first IPv6 argument
 * may be "INT/EXT" (bridge mode: I and E modifiers pick the side), and
 * "/EXT" puts the internal side on the first argument of the other
 * family. In bridge mode the two bridged addresses take no label and no
 * "=ADVERTISED" (-A INT_ADV/EXT_ADV gives theirs). Every further
 * address needs a label, with one relaxation: the first address of each
 * family may go without one (rtpproxy 2.x's "-l A -6 B", which rtpproxy
 * 3.2 refuses with "address label is missing"), outside bridge mode.
 * A wildcard ("*", 0.0.0.0, ::) is refused: the dataplane serves
 * concrete addresses, and replies always carry one.
 */
#ifndef CTL_ADDRS_H
#define CTL_ADDRS_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtpb_addr.h"

#define CTL_ADDRS_MAX 16 /**< relay addresses, as RTPB_MAX_ADDRS */
#define CTL_LABEL_MAX 32 /**< label bytes, NUL included */
#define CTL_ADV_MAX 64 /**< advertised address text, NUL included */

/** Bridge sides (rtpproxy bindaddr[0] and bindaddr[1]). */
enum ctl_side {
	CTL_SIDE_INT = 0, /**< internal: 'I'; the first address outside
			       bridge mode */
	CTL_SIDE_EXT = 1, /**< external: 'E' (bridge mode only) */
};

/** One relay address. */
struct ctl_addr {
	struct rtpb_addr ip; /**< port 0, network byte order */
	char label[CTL_LABEL_MAX]; /**< "" if none */
	char text[INET6_ADDRSTRLEN]; /**< ip as text, no brackets */
	char adv[CTL_ADV_MAX]; /**< advertised address, "" if none */
};

/** The relay address table. */
struct ctl_addrs {
	struct ctl_addr a[CTL_ADDRS_MAX];
	uint32_t n;
	bool bridge; /**< bridge mode: both sides set, E/I allowed */
	int side[2]; /**< enum ctl_side -> index; side[CTL_SIDE_EXT] is -1
			   outside bridge mode */
	int def[2]; /**< default address of IPv4 [0] and IPv6 [1] (rtpproxy
			   foraf()), -1 if the family has none */
};

/** One -l or -6 argument, as given on the command line. */
struct ctl_addr_arg {
	const char *s; /**< the argument */
	bool v6; /**< given with -6 */
};

/**
 * Build the table from the -l/-6 arguments in command-line order and
 * -A (NULL if not given), with rtpproxy's rules (see the top).
 * @param numeric_only rtpproxy --no_resolve: addresses must be numeric.
 * @param err          out: what failed, for the user.
 * @param warn         out: a warning ("" if none), e.g. -A outside
 *                     bridge mode, which rtpproxy ignores.
 * @return 0, or -EINVAL (err set).
 */
int ctl_addrs_build(struct ctl_addrs *t, const struct ctl_addr_arg *args,
		    size_t nargs, const char *adv_arg, bool numeric_only,
		    char *err, size_t errsz, char *warn, size_t warnsz);

/**
 * The table of a plain configuration: the IPv4 address (network order;
 * 0 = none), then the IPv6 one (NULL = none); no labels, no bridge.
 * What the executor and the session table use when given no table.
 */
void ctl_addrs_from_relays(struct ctl_addrs *t, uint32_t relay_ip,
			   const uint8_t *relay6);

/** Index of the address labelled label (len bytes), or -1. */
int ctl_addrs_find_label(const struct ctl_addrs *t, const char *label,
			 size_t len);

/** Index of address a (family and ip; port ignored), or -1. */
int ctl_addrs_find_ip(const struct ctl_addrs *t, const struct rtpb_addr *a);

/**
 * The default address of family (enum rtpb_af), rtpproxy foraf(): the
 * first of that family, unlabelled ones first.
 * @return the index, or -1 if the family has none.
 */
int ctl_addrs_default(const struct ctl_addrs *t, uint8_t family);

/** Family (enum rtpb_af) of address idx. */
static inline uint8_t
ctl_addrs_family(const struct ctl_addrs *t, int idx)
{
	return t->a[idx].ip.family;
}

/** What a reply names for address idx: its advertised text, or itself. */
static inline const char *
ctl_addrs_reply_text(const struct ctl_addrs *t, int idx)
{
	return t->a[idx].adv[0] != '\0' ? t->a[idx].adv : t->a[idx].text;
}

/**
 * Parse one address as text: IPv4 dotted quad, or IPv6 with or without
 * brackets (as the family asks).
 * @param family RTPB_AF_INET or RTPB_AF_INET6.
 * @return 0 and *a (port 0), or -1.
 */
int ctl_addrs_parse_ip(const char *s, size_t len, uint8_t family,
		       struct rtpb_addr *a);

/**
 * A UDP/TCP port as getaddrinfo(AI_NUMERICSERV) takes it: decimal digits
 * only, 0..65535 (RFC 768: a 16-bit field). Used for the remote port of
 * U/L (ctl_cmd_parse.c: 0 is taken, "no remote") and the port of a
 * listener (ctl_sock.c: 0 refused there).
 * @param port out, host byte order.
 * @return 0, or -1 if s is empty, not all digits, or above 65535.
 */
int ctl_addrs_parse_port(const char *s, uint16_t *port);

#endif /* CTL_ADDRS_H */
