/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_hash.h: a keyed hash for control's tables keyed by what the
 * network sends (SIP Call-IDs, client addresses).
 *
 * GLib's g_str_hash() is unseeded (djb2): anyone who can send U commands
 * can pick Call-IDs that all land in one bucket and make every lookup
 * walk them (issue 16: 20 000 colliding ids cost 2.4 s against 8 ms).
 * Here the hash is XXH3 (libxxhash, XXH3_64bits_withSecret()) with a
 * secret of XXH3_SECRET_SIZE_MIN bytes drawn from getrandom() once per
 * process, so the buckets of a given id cannot be predicted from outside.
 *
 * Process-wide state, written once by ctl_hash_init() (or by the first
 * hash if nobody called it); control's thread only.
 */
#ifndef CTL_HASH_H
#define CTL_HASH_H

#include <stddef.h>
#include <stdint.h>

/**
 * Draw the secret from getrandom() (blocking until the kernel's pool is
 * initialised, which it is long before control starts). Idempotent.
 * @return 0, or -errno of getrandom() (then the secret stays unset and
 *         the next call retries; a hash before that aborts: a table
 *         without its key must not exist).
 */
int ctl_hash_init(void);

/** Keyed 64-bit hash of len bytes at p (ctl_hash_init() first). */
uint64_t ctl_hash_bytes(const void *p, size_t len);

/**
 * GHashFunc for NUL-terminated strings (g_hash_table_new_full() with
 * g_str_equal), the keyed replacement of g_str_hash().
 */
unsigned int ctl_hash_str(const void *s);

#endif /* CTL_HASH_H */
