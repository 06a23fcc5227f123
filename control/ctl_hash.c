/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_hash.c: the keyed hash, see ctl_hash.h. The secret is the only
 * state; XXH3 itself comes from libxxhash.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <xxhash.h>

#include "ctl_hash.h"

/* XXH3's minimum secret size (136 bytes) rounded up to a cache line
 * multiple; any random bytes make a valid secret. */
#define CTL_HASH_SECRET 192

static unsigned char secret[CTL_HASH_SECRET];
static bool secret_set;

int
ctl_hash_init(void)
{
	size_t got = 0;

	_Static_assert(CTL_HASH_SECRET >= XXH3_SECRET_SIZE_MIN,
		       "XXH3 secret too short");
	if (secret_set)
		return 0;
	while (got < sizeof(secret)) { /* at most a few rounds: 192 bytes */
		ssize_t n = getrandom(secret + got, sizeof(secret) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	secret_set = true;
	return 0;
}

uint64_t
ctl_hash_bytes(const void *p, size_t len)
{
	if (!secret_set && ctl_hash_init() != 0) {
		fprintf(stderr, "rtpbypass-control: getrandom() for the hash "
			"secret failed: %s\n", strerror(errno));
		abort();
	}
	return XXH3_64bits_withSecret(p, len, secret, sizeof(secret));
}

unsigned int
ctl_hash_str(const void *s)
{
	uint64_t h = ctl_hash_bytes(s, strlen(s));

	return (unsigned int)(h ^ (h >> 32));
}
