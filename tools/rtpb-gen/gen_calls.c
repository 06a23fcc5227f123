/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_calls.c: the call table (see gen_calls.h). Setup path only.
 */
#include <errno.h>
#include <stdlib.h>
#include <arpa/inet.h>

#include "gen_calls.h"

/* splitmix64: a seeded sequence for SSRCs and initial numbers
 * (RFC 3550 §5.1 wants them random; reproducible runs want a seed). */
static uint64_t
mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct gen_leg *
gen_calls_create(uint32_t n_calls, uint32_t phone_net, uint32_t phone_plen,
		 uint64_t seed)
{
	uint64_t n_legs = 2ull * n_calls, hosts, s = seed;
	struct gen_leg *legs;
	uint32_t l, ip;
	uint16_t port;

	hosts = (n_legs + GEN_LEGS_PER_HOST - 1) / GEN_LEGS_PER_HOST;
	/* the network's hosts, less network and broadcast addresses */
	if (n_calls == 0 || phone_plen > 30 ||
	    hosts + 2 > (1ull << (32 - phone_plen))) {
		errno = ENOSPC;
		return NULL;
	}
	legs = calloc(n_legs, sizeof(*legs));
	if (legs == NULL)
		return NULL;
	for (l = 0; l < n_legs; l++) {
		uint64_t r = mix(&s);

		gen_phone_of(phone_net, l, &ip, &port);
		legs[l].phone_ip = htonl(ip);
		legs[l].phone_port = htons(port);
		legs[l].ssrc = (uint32_t)r;
		legs[l].seq0 = (uint16_t)(r >> 32);
		legs[l].ts0 = (uint32_t)mix(&s);
	}
	return legs;
}

int
gen_calls_layout(struct gen_leg *legs, uint32_t n_legs, const uint32_t *addrs,
		 uint32_t n_addrs)
{
	uint32_t l;

	if ((uint64_t)n_legs > (uint64_t)n_addrs * GEN_LAYOUT_PAIRS)
		return -ENOSPC;
	for (l = 0; l < n_legs; l++) {
		legs[l].relay_ip = addrs[l / GEN_LAYOUT_PAIRS];
		legs[l].relay_port =
			htons((uint16_t)(GEN_LAYOUT_PORT0 +
					 2 * (l % GEN_LAYOUT_PAIRS)));
		legs[l].ok = 1;
	}
	return 0;
}

void
gen_calls_baseline(struct gen_leg *legs, uint32_t n_legs)
{
	uint32_t l;

	for (l = 0; l < n_legs; l++) {
		legs[l].relay_ip = legs[l ^ 1].phone_ip;
		legs[l].relay_port = legs[l ^ 1].phone_port;
		legs[l].ok = 1;
	}
}
