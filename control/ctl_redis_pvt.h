/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_redis_pvt.h: what the writer (ctl_redis.c) shares with the restore
 * (ctl_redis_restore.c); nothing else includes it.
 */
#ifndef CTL_REDIS_PVT_H
#define CTL_REDIS_PVT_H

#include <stdint.h>

#include "ctl_redis.h"

/** Key buffer: prefix, relay id, "s:" and a u64 in decimal, separators. */
#define CTL_REDIS_KEY_MAX (2 * CTL_REDIS_ID_MAX + 48)

/** "PREFIX:RELAY:WHAT" into k (CTL_REDIS_KEY_MAX bytes). */
void ctl_redis_key(const struct ctl_redis *r, const char *relay,
		   const char *what, char *k);

/** Where r's Redis is. */
const struct ctl_redis_addr *ctl_redis_addr_of(const struct ctl_redis *r);

/** CLOCK_MONOTONIC, ns. */
uint64_t ctl_redis_mono_ns(void);

#endif /* CTL_REDIS_PVT_H */
