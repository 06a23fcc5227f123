/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_rec.h: the recorder's writer: mirrored packets (rtpb_mirror.h) in,
 * rtpproxy's recording files out (rtpproxy 3.2 src/rtpp_record.c,
 * src/commands/rpcpv1_copy.c; docs/RECORDING.md).
 *
 * One struct ctl_rec belongs to the recorder thread, which alone calls
 * these functions (no locks inside): control's command handlers hand it
 * start and stop requests, the drain loop hands it the records it takes
 * from the workers' mirror rings. It never runs on a worker.
 *
 * A recording is one id (the id the dataplane stamps on the copies of one
 * party's streams: rtpproxy's rrc of stream[idx] and of its RTCP twin).
 * It writes one ".rtp" and, unless -R, one ".rtcp" file, or with Rs/Cs
 * under -P one file for both directions, RTP and RTCP. Files are shared
 * by path: the two parties of a single-file recording write one file,
 * which closes (and leaves the spool) when the last of them stops.
 *
 * Formats (-P or not): rtpproxy's "adhoc" dump (a packed per-packet
 * header, then the payload) or pcap (DLT_EN10MB, Ethernet, IPv4/IPv6 and
 * UDP headers made up from the addresses, as rtpproxy makes them), the
 * latter written with libpcap.
 */
#ifndef CTL_REC_H
#define CTL_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtpb_mirror.h"

struct ctl_rec;

/** The recorder's configuration: rtpproxy's command-line options. */
struct ctl_rec_conf {
	/** -r: where finished recordings are (required). */
	const char *record_dir;
	/** -S: where recordings are written until they stop, then moved to
	 *  record_dir (rename(2): both on one file system); NULL: written in
	 *  record_dir directly. */
	const char *spool_dir;
	/** -P: pcap files instead of rtpproxy's adhoc format. */
	bool pcap;
	/** -R: no RTCP files (RTCP copies that arrive anyway are ignored). */
	bool no_rtcp;
	/** Open files at most (each holds a descriptor and a 16 KiB
	 *  buffer); 0: CTL_REC_MAX_FILES. */
	unsigned int max_files;
	/** The first recording id ctl_recorder.h hands out; 0: from the wall
	 *  clock (ctl_recorder_create(): no collision with an earlier
	 *  control's ids still in the dataplane). Tests set 1. */
	uint32_t first_id;
};

/** Default bound of open recording files. */
#define CTL_REC_MAX_FILES 4096

/** ctl_rec_start() flags. */
enum ctl_rec_flag {
	/** The from-tag party's streams (rtpproxy stream 1, ".o"); without
	 *  it the to-tag party's (stream 0, ".a"). */
	CTL_REC_ORIG = 1u << 0,
	/** Rs / Cs / -a: one file for both parties, RTP and RTCP. Only with
	 *  -P, as in rtpproxy (RSF_MODE_DFLT()); ignored otherwise. */
	CTL_REC_SINGLE = 1u << 1,
};

/** Counters, for I/metrics and the tests. */
struct ctl_rec_stats {
	uint64_t written;      /**< packets written */
	uint64_t truncated;    /**< of them, cut to RTPB_MIRROR_SNAPLEN by the worker */
	uint64_t unknown;      /**< copies of no open recording (stale after a stop) */
	uint64_t ignored;      /**< RTCP copies under -R */
	uint64_t write_errors; /**< files that failed a write and stopped */
	uint64_t move_errors;  /**< files left in the spool: rename failed */
	uint32_t recordings;   /**< recordings open now */
	uint32_t files;        /**< files open now */
};

/**
 * Create a recorder. Opens the record and spool directories (they must
 * exist); writes nothing yet.
 * @param conf copied; the strings are copied too.
 * @return the recorder, or NULL with errno set (EINVAL: no record_dir;
 *         what open(2) of a directory said).
 */
struct ctl_rec *ctl_rec_create(const struct ctl_rec_conf *conf);

/** Stop every recording (files closed and moved), free rec. NULL is a no-op. */
void ctl_rec_destroy(struct ctl_rec *rec);

/**
 * Start a recording (rtpproxy R, Rs, C to a file, Cs, -a): create its
 * files now, empty (a pcap file gets its file header), as rtpproxy does.
 * File names, in the spool (-S) or else the record directory:
 * - R:  "<call_id>=<tag>.a.rtp", ".a.rtcp" (".o." with CTL_REC_ORIG);
 * - Rs: "<call_id>=<tag>.pcap" (-P only);
 * - C name: "<name>.rtp", "<name>.rtcp"; Cs name: "<name>" (-P only).
 * call_id, tag and name come from the network: any '/', '%', '\\',
 * control character, byte above 0x7e, and a leading '.', are written as
 * "%XX" (two upper-case hex digits), so a name never leaves the directory
 * nor hides; rtpproxy writes them as they are.
 * @param id      the recording id the dataplane stamps (non-zero, unused).
 * @param call_id the session's call-id.
 * @param tag     the session's from-tag without its ";<medianum>"
 *                suffix (rtpproxy's from_tag_nmn), for both parties.
 * @param name    C's file name, or NULL (R).
 * @param flags   enum ctl_rec_flag.
 * @return 0; -EINVAL (id 0, no call_id or tag); -EEXIST (id in use);
 *         -ENAMETOOLONG (an escaped name over NAME_MAX); -EMFILE (the
 *         bound of open files); -errno of open(2) (nothing is left open
 *         then). Logged with the call-id.
 */
int ctl_rec_start(struct ctl_rec *rec, uint32_t id, const char *call_id,
		  const char *tag, const char *name, unsigned int flags);

/**
 * Stop a recording (N, D, session timeout): its files close when no other
 * recording shares them, and move from the spool to the record directory.
 * Copies still in the rings for id afterwards count as unknown.
 * @return 0, or -ENOENT if no recording has the id.
 */
int ctl_rec_stop(struct ctl_rec *rec, uint32_t id);

/** Whether a recording has the id. */
bool ctl_rec_active(const struct ctl_rec *rec, uint32_t id);

/**
 * Write mirrored packets to their recordings' files, in order. A write
 * error stops that file (logged once with its call-id, counted); the
 * others go on.
 * @param recs n records, each followed by its cap_len payload bytes.
 * @return records written to a file.
 */
unsigned int ctl_rec_drain(struct ctl_rec *rec,
			   const struct rtpb_mirror_rec *const recs[],
			   unsigned int n);

/**
 * Write the records of a run of ring elements, as dequeued from a mirror
 * ring (rtpb_mirror.h): each record's header element then its payload
 * elements.
 * @param elems   n_elems elements of RTPB_MIRROR_ELEM_SIZE bytes,
 *                aligned as struct rtpb_mirror_rec.
 * @param n_elems elements in elems.
 * @param need    out: 0 when elems ended at a record boundary, else how
 *                many more elements the last record needs (the caller
 *                dequeues exactly these and calls again with the whole
 *                record); -EPROTO on a malformed header (cap_len over
 *                RTPB_MIRROR_SNAPLEN or over orig_len).
 * @return elements consumed (whole records), or -EPROTO.
 */
long ctl_rec_drain_elems(struct ctl_rec *rec, const void *elems,
			 size_t n_elems, uint32_t *need);

/**
 * Write out the files' buffers (call about once a second, so that a
 * crash loses little and a full disk shows soon).
 */
void ctl_rec_flush(struct ctl_rec *rec);

/** Read the counters. */
void ctl_rec_stats(const struct ctl_rec *rec, struct ctl_rec_stats *st);

#endif /* CTL_REC_H */
