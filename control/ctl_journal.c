/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_journal.c: the session journal's slot store, see ctl_journal.h.
 * XXH64 comes from libxxhash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "ctl_journal.h"

#define JOURNAL_MAGIC "RTPBJNL\0"
#define JOURNAL_VERSION 1u
/* At most this many slots (16 GiB of sparse file): a bound on bad -n. */
#define JOURNAL_MAX_SLOTS (1u << 22)

/* The file's first page. */
struct journal_file_hdr {
	char magic[8];
	uint32_t version;
	uint32_t slot_size;
	uint32_t nslots;
};

struct ctl_journal {
	int fd;
	uint8_t *map;       /* the whole file */
	size_t map_len;
	uint32_t nslots;
	uint32_t nfree;
	uint32_t *free;     /* stack of free slots */
	uint8_t *taken;     /* per slot */
};

static struct ctl_journal_slot_hdr *
slot_hdr(const struct ctl_journal *j, uint32_t slot)
{
	return (struct ctl_journal_slot_hdr *)
		(j->map + (size_t)(slot + 1) * CTL_JOURNAL_SLOT);
}

static bool
file_hdr_ok(const struct journal_file_hdr *h)
{
	return memcmp(h->magic, JOURNAL_MAGIC, sizeof(h->magic)) == 0 &&
	       h->version == JOURNAL_VERSION &&
	       h->slot_size == CTL_JOURNAL_SLOT &&
	       h->nslots > 0 && h->nslots <= JOURNAL_MAX_SLOTS;
}

/* Open path; fill *old with the file's header if it has a usable one.
 * A file of another format is moved aside. */
static int
journal_open_fd(const char *path, struct journal_file_hdr *old, bool *have,
		char *err, size_t errsz)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	*have = false;
	if (fd < 0) {
		snprintf(err, errsz, "journal %s: open: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "journal %s: not a regular file", path);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (st.st_size == 0)
		return fd;
	if ((size_t)st.st_size >= sizeof(*old) &&
	    pread(fd, old, sizeof(*old), 0) == (ssize_t)sizeof(*old) &&
	    file_hdr_ok(old) &&
	    (uint64_t)st.st_size >= (uint64_t)(old->nslots + 1) *
				    CTL_JOURNAL_SLOT) {
		*have = true;
		return fd;
	}
	/* Another format (or a truncated file): keep it for a human, start
	 * afresh. */
	close(fd);
	char aside[4096];

	snprintf(aside, sizeof(aside), "%s.old", path);
	if (rename(path, aside) != 0) {
		snprintf(err, errsz, "journal %s: unknown format, and moving it "
			 "to %s failed: %s", path, aside, strerror(errno));
		return -1;
	}
	fprintf(stderr, "rtpbypass-control: journal %s: unknown format, moved "
		"to %s; starting an empty journal\n", path, aside);
	return journal_open_fd(path, old, have, err, errsz);
}

struct ctl_journal *
ctl_journal_open(const char *path, uint32_t nslots, char *err, size_t errsz)
{
	struct journal_file_hdr h;
	struct ctl_journal *j;
	bool have;
	int e;

	if (nslots == 0 || nslots > JOURNAL_MAX_SLOTS) {
		snprintf(err, errsz, "journal %s: %u slots (1..%u)", path,
			 nslots, JOURNAL_MAX_SLOTS);
		errno = EINVAL;
		return NULL;
	}
	int fd = journal_open_fd(path, &h, &have, err, errsz);

	if (fd < 0)
		return NULL;
	if (have && h.nslots > nslots)
		nslots = h.nslots; /* never shrink: slots may hold calls */
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		goto err_nomem;
	j->fd = fd;
	j->nslots = nslots;
	j->map_len = (size_t)(nslots + 1) * CTL_JOURNAL_SLOT;
	j->free = calloc(nslots, sizeof(*j->free));
	j->taken = calloc(nslots, 1);
	if (j->free == NULL || j->taken == NULL)
		goto err_nomem;
	if (ftruncate(fd, (off_t)j->map_len) != 0) {
		e = errno;
		snprintf(err, errsz, "journal %s: ftruncate to %zu bytes: %s",
			 path, j->map_len, strerror(e));
		goto err;
	}
	j->map = mmap(NULL, j->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	if (j->map == MAP_FAILED) {
		e = errno;
		j->map = NULL;
		snprintf(err, errsz, "journal %s: mmap %zu bytes: %s", path,
			 j->map_len, strerror(e));
		goto err;
	}
	struct journal_file_hdr *fh = (struct journal_file_hdr *)j->map;

	memcpy(fh->magic, JOURNAL_MAGIC, sizeof(fh->magic));
	fh->version = JOURNAL_VERSION;
	fh->slot_size = CTL_JOURNAL_SLOT;
	fh->nslots = nslots;
	/* Every slot free until ctl_journal_load() finds it valid; lowest
	 * slot on top of the stack, so files stay dense. */
	for (uint32_t i = 0; i < nslots; i++)
		j->free[i] = nslots - 1 - i;
	j->nfree = nslots;
	return j;
err_nomem:
	e = ENOMEM;
	snprintf(err, errsz, "journal %s: out of memory", path);
err:
	if (j != NULL) {
		free(j->free);
		free(j->taken);
		free(j);
	}
	close(fd);
	errno = e;
	return NULL;
}

void
ctl_journal_close(struct ctl_journal *j)
{
	if (j == NULL)
		return;
	if (j->map != NULL)
		munmap(j->map, j->map_len);
	close(j->fd);
	free(j->free);
	free(j->taken);
	free(j);
}

uint32_t
ctl_journal_slots(const struct ctl_journal *j)
{
	return j->nslots;
}

uint32_t
ctl_journal_used(const struct ctl_journal *j)
{
	return j->nslots - j->nfree;
}

/* Clear the slot's header: it reads as never used. */
static void
slot_clear(struct ctl_journal *j, uint32_t slot)
{
	struct ctl_journal_slot_hdr *sh = slot_hdr(j, slot);

	atomic_store_explicit((_Atomic uint32_t *)&sh->seq, 0,
			      memory_order_release);
	sh->len = 0;
	sh->hash = 0;
}

static bool
slot_valid(const struct ctl_journal_slot_hdr *sh)
{
	return sh->seq != 0 && (sh->seq & 1) == 0 &&
	       sh->len <= CTL_JOURNAL_PAYLOAD &&
	       XXH64(sh + 1, sh->len, 0) == sh->hash;
}

uint32_t
ctl_journal_load(struct ctl_journal *j, ctl_journal_fn *fn, void *arg,
		 uint32_t *bad)
{
	uint32_t kept = 0, nbad = 0;

	/* Rebuild the free stack from scratch: taken slots are those kept. */
	memset(j->taken, 0, j->nslots);
	for (uint32_t s = 0; s < j->nslots; s++) {
		struct ctl_journal_slot_hdr *sh = slot_hdr(j, s);

		if (sh->seq == 0)
			continue;
		if (!slot_valid(sh)) {
			nbad++;
			slot_clear(j, s);
			continue;
		}
		if (fn(s, sh + 1, sh->len, arg) != 0) {
			slot_clear(j, s);
			continue;
		}
		j->taken[s] = 1;
		kept++;
	}
	j->nfree = 0;
	for (uint32_t i = j->nslots; i > 0; i--)
		if (!j->taken[i - 1])
			j->free[j->nfree++] = i - 1;
	if (bad != NULL)
		*bad = nbad;
	return kept;
}

int
ctl_journal_alloc(struct ctl_journal *j)
{
	if (j->nfree == 0)
		return -ENOSPC;
	uint32_t s = j->free[--j->nfree];

	j->taken[s] = 1;
	return (int)s;
}

int
ctl_journal_put(struct ctl_journal *j, uint32_t slot, const void *rec,
		size_t len)
{
	if (slot >= j->nslots || !j->taken[slot])
		return -EINVAL;
	if (len > CTL_JOURNAL_PAYLOAD)
		return -E2BIG;
	struct ctl_journal_slot_hdr *sh = slot_hdr(j, slot);
	_Atomic uint32_t *seq = (_Atomic uint32_t *)&sh->seq;
	uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);

	/* odd: a reader after a crash here sees a torn slot */
	atomic_store_explicit(seq, s | 1u, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(sh + 1, rec, len);
	sh->len = (uint32_t)len;
	sh->hash = XXH64(rec, len, 0);
	/* even and never 0: (odd + 1), wrapping past 0 to 2 */
	uint32_t next = (s | 1u) + 1u;

	atomic_store_explicit(seq, next == 0 ? 2u : next,
			      memory_order_release);
	return 0;
}

void
ctl_journal_free(struct ctl_journal *j, uint32_t slot)
{
	if (slot >= j->nslots || !j->taken[slot])
		return;
	slot_clear(j, slot);
	j->taken[slot] = 0;
	j->free[j->nfree++] = slot;
}
