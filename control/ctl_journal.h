/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_journal.h: control's session journal, a memory-mapped file of
 * fixed-size slots that outlives the control process (DESIGN.md §2,
 * issue 16 item 2).
 *
 * Each live session owns one slot; control rewrites the slot whenever
 * the session's durable state changes (U, L, a latch event, an S ttl=,
 * never per packet) and clears it when the session ends. A restarted
 * control reads every valid slot back (ctl_journal_load()) and rebuilds
 * its sessions, call-ids and tags included, so D, Q, re-offers, timeouts
 * and notifications work on calls older than the restart.
 *
 * Why a file and not the dataplane's shared memory: the file lives in
 * page cache (by default under /run, a tmpfs), so it survives a crash of
 * control, of the dataplane, or of both, and an upgrade of either; the
 * dataplane's hugepage memory dies with the dataplane. What it does not
 * survive is a reboot (nor does any call). Writes go to the mapping, with
 * no syscall: a process killed mid-write leaves the page cache intact,
 * so only the slot being written can be torn, and a torn slot is
 * recognised (odd sequence or hash mismatch) and skipped.
 *
 * File layout (host byte order; the file is only ever read on the
 * machine that wrote it):
 *   header, CTL_JOURNAL_SLOT bytes: magic, version, slot size, slots;
 *   slot i at (i + 1) * CTL_JOURNAL_SLOT: struct ctl_journal_slot_hdr,
 *   then up to CTL_JOURNAL_PAYLOAD bytes of the caller's record.
 * A slot is valid when its seq is even and non-zero and XXH64 of its
 * payload equals the stored hash. The record format belongs to the
 * caller, who versions it.
 *
 * Control's thread only.
 */
#ifndef CTL_JOURNAL_H
#define CTL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

/** Bytes per slot, header included (one page: a slot write touches one). */
#define CTL_JOURNAL_SLOT 4096u

/** Per-slot header, then the payload. */
struct ctl_journal_slot_hdr {
	uint32_t seq;  /**< odd while being written, 0 = never used/cleared */
	uint32_t len;  /**< payload bytes */
	uint64_t hash; /**< XXH64(payload, len, seed 0) */
};

/** Largest record a slot holds, bytes. */
#define CTL_JOURNAL_PAYLOAD \
	(CTL_JOURNAL_SLOT - sizeof(struct ctl_journal_slot_hdr))

struct ctl_journal;

/**
 * Open (or create, mode 0600) the journal file at path with room for at
 * least nslots records. An existing file of the same format keeps its
 * slots and grows to nslots if it has fewer; a file of another format or
 * slot size is renamed to path + ".old" and a new one is started.
 * @param err out: what failed (the path and the call), when NULL returns.
 * @return the journal, or NULL (errno set).
 */
struct ctl_journal *ctl_journal_open(const char *path, uint32_t nslots,
				     char *err, size_t errsz);

/** Unmap and close (the file stays). NULL is fine. */
void ctl_journal_close(struct ctl_journal *j);

/** Number of slots. */
uint32_t ctl_journal_slots(const struct ctl_journal *j);

/**
 * Called by ctl_journal_load() for each valid slot.
 * @return 0 to keep the slot, or non-zero to clear it (a record the
 *         caller could not use).
 */
typedef int (ctl_journal_fn)(uint32_t slot, const void *rec, size_t len,
			     void *arg);

/**
 * Read every valid slot, in slot order, marking them taken; torn or
 * corrupt slots are cleared and counted.
 * @param bad out (may be NULL): torn or corrupt slots found.
 * @return the number of records passed to fn and kept.
 */
uint32_t ctl_journal_load(struct ctl_journal *j, ctl_journal_fn *fn,
			  void *arg, uint32_t *bad);

/**
 * Take a free slot for a new record.
 * @return the slot, or -ENOSPC when every slot is taken.
 */
int ctl_journal_alloc(struct ctl_journal *j);

/**
 * Write rec into a taken slot (seq made odd, payload, hash, seq even:
 * a crash between leaves an invalid slot, never a wrong record).
 * @return 0, -E2BIG if len > CTL_JOURNAL_PAYLOAD, -EINVAL for a slot
 *         not taken.
 */
int ctl_journal_put(struct ctl_journal *j, uint32_t slot, const void *rec,
		    size_t len);

/** Clear a slot and give it back. A free slot is ignored. */
void ctl_journal_free(struct ctl_journal *j, uint32_t slot);

/** Slots taken now. */
uint32_t ctl_journal_used(const struct ctl_journal *j);

#endif /* CTL_JOURNAL_H */
