/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_play.h: the player of rtpproxy's P command (issue 17 item 3,
 * docs/PLAYBACK.md): prompt files, the choice of codec, and the pacer that
 * turns a prompt into RTP packets at its packet time.
 *
 * Prompt files are rtpproxy's (makeann/makeann.c, and tools/rtpb-makeann
 * here): "<prompt>.<payload type>" (moh.0 PCMU, moh.8 PCMA, moh.18 G.729,
 * ...), the codec's payload bytes and nothing else: no header, no
 * framing, so each packet carries the next ptime's worth of bytes.
 * They are read from one prompt directory (struct ctl_play_dir); a prompt
 * name comes from the network and never leads out of it
 * (ctl_play_file_name()).
 *
 * Everything is loaded when P is executed (ctl_play_select()), once per
 * file: the directory keeps what it loaded, and a prompt already loaded
 * whose file is unchanged (device, inode, size, mtime) is shared, not
 * read again (music on hold for many calls is one copy). The pacer
 * (ctl_play_next()) does no I/O, no allocation and no syscall: it copies
 * bytes from the loaded prompt into the caller's struct rtpb_play_pkt
 * (include/rtpb_play.h), the element control enqueues for the worker that
 * transmits it. Time is a parameter (CLOCK_MONOTONIC ns), so the tests
 * never sleep.
 *
 * RTP as rtpproxy 3.2's player makes it (src/rtpp_server.c): version 2,
 * no padding, extension or CSRC; random SSRC, random first sequence
 * number, random even first timestamp; the marker bit on the first packet
 * only; the sequence number + 1 and the timestamp + 8 per ms of payload
 * (every codec it knows has an 8000 Hz RTP clock, RFC 3551 4.5.2 for
 * G.722) per packet, across loops. Differences, on purpose: the default
 * packet time is 20 ms (RFC 3551 4.2's default; rtpproxy 3.2 sends 10 ms
 * packets, RTPS_TICKS_MIN, unless "session" supplies a ptime), and a
 * payload type whose framing is unknown is passed over in the codec list
 * (rtpproxy picks it and then sends nothing).
 *
 * Control's thread only; nothing here is shared with the dataplane but
 * the packets.
 */
#ifndef CTL_PLAY_H
#define CTL_PLAY_H

#include <stddef.h>
#include <stdint.h>

#include "rtpb_play.h"

/** Packet time when the command gives none, ms (RFC 3551 4.2). */
#define CTL_PLAY_PTIME_DEFAULT 20
/** Longest prompt name, bytes (NAME_MAX less ".127"). */
#define CTL_PLAY_NAME_MAX 251
/** Largest prompt file loaded, bytes (70 minutes of G.711). */
#define CTL_PLAY_FILE_MAX (32u << 20)

/**
 * The framing of one payload type, as rtpproxy's player cuts it
 * (rtpp_server.c rtpp_server_get()): a packet is the fewest whole frames
 * that last at least ptime.
 */
struct ctl_play_codec {
	uint8_t pt;              /**< RTP payload type (RFC 3551 table 4) */
	uint8_t frame_ms;        /**< one frame lasts this long, ms */
	uint8_t frame_bytes;     /**< one frame is this long, bytes */
	const char *name;        /**< for logs: "PCMU", ... */
};

/** @return the framing of payload type pt, or NULL if the player has none. */
const struct ctl_play_codec *ctl_play_codec(int pt);

/** The prompt directory, opened once (its fd and its path), and the
 *  prompts loaded from it. */
struct ctl_play_dir;

/**
 * Open the prompt directory path (O_DIRECTORY). A trailing '/' is
 * ignored.
 * @return the directory, or NULL with errno set (open(2)'s, ENAMETOOLONG,
 *         ENOMEM). Free with ctl_play_dir_close().
 */
struct ctl_play_dir *ctl_play_dir_open(const char *path);

/** Close (NULL is fine). Prompts loaded from it and still referenced
 *  stay valid. */
void ctl_play_dir_close(struct ctl_play_dir *d);

/**
 * The file name, inside directory d, of the prompt the network named
 * name, or NULL if name could lead anywhere else. A name is one plain
 * file name: not empty, at most CTL_PLAY_NAME_MAX bytes, no '/', no "..",
 * no leading '.', no control characters. An absolute name that starts
 * with d's own path and '/' (rtpproxy configurations name prompts by
 * absolute path) stands for the rest of it, which must then be a plain
 * file name too.
 * @return a pointer into name, or NULL (hostile or malformed name).
 */
const char *ctl_play_file_name(const struct ctl_play_dir *d, const char *name);

/** One prompt file in memory. Reference counted; read-only once loaded. */
struct ctl_play_prompt {
	uint8_t *data;  /**< the file's bytes, owned */
	size_t len;     /**< bytes */
	uint8_t pt;     /**< its payload type (the file name's suffix) */
	uint32_t refs;  /**< holders (the directory's cache, each loader, each player) */
	uint64_t dev, ino, mtime_ns; /**< the file it was read from (0: from memory) */
};

/**
 * Load prompt name for payload type pt from d: the whole regular file
 * "<file name>.<pt>" (ctl_play_file_name()), opened without blocking
 * (no FIFO or device stalls control); the directory's copy if the file
 * is the one it read before, else read and kept for the next load.
 * @param out set to the prompt (one reference) on success.
 * @return 0; -EINVAL a hostile name or a file that is not a regular file;
 *         -EPROTONOSUPPORT no framing for pt (ctl_play_codec());
 *         -ENOENT no such file; -EFBIG over CTL_PLAY_FILE_MAX;
 *         -ENOMEM; -EIO a short read; else open(2)'s -errno.
 */
int ctl_play_prompt_load(struct ctl_play_dir *d, const char *name, int pt,
			 struct ctl_play_prompt **out);

/**
 * A prompt from bytes in memory (copied), as if loaded from a file.
 * @return the prompt (one reference), or NULL with errno EINVAL (len 0
 *         or over CTL_PLAY_FILE_MAX), EPROTONOSUPPORT or ENOMEM.
 */
struct ctl_play_prompt *ctl_play_prompt_new(const void *data, size_t len, int pt);

/** Drop one reference; the last frees the prompt (NULL is fine). */
void ctl_play_prompt_put(struct ctl_play_prompt *p);

/**
 * rtpproxy's choice of prompt (rtpp_stream.c handle_play()): for each
 * payload type of codecs in order (decimal numbers, one separator
 * character between two: "0,8,18"), the first whose file exists. A type
 * the player has no framing for is passed over like a missing file.
 * @param codecs the P command's list, or the leg's 'c' list for
 *        "session" (the caller substitutes it; E35 if it has none).
 * @param out set to the prompt (one reference) on success.
 * @return 0; -EINVAL a hostile name or codecs not a list of numbers;
 *         -ENOENT no file for any codec of the list (rtpproxy's E60);
 *         else the first other error of ctl_play_prompt_load(), which
 *         ends the search as in rtpproxy. The P handler answers E60 to
 *         every error.
 */
int ctl_play_select(struct ctl_play_dir *d, const char *name, const char *codecs,
		    struct ctl_play_prompt **out);

/** First RTP header values of a player (host byte order). */
struct ctl_play_rtp {
	uint32_t ssrc; /**< random */
	uint32_t ts;   /**< random, even (rtpproxy: random() & 0xfffffffe) */
	uint16_t seq;  /**< random */
};

/**
 * Random first values, from getrandom(2) (RFC 3550 5.1: random SSRC,
 * sequence number and timestamp).
 * @return 0, or -errno of getrandom(2).
 */
int ctl_play_rtp_random(struct ctl_play_rtp *r);

/** What to play and where (ctl_play_create()). */
struct ctl_play_cfg {
	uint32_t stream_id; /**< rtpb_play_pkt.stream_id of every packet */
	uint64_t cookie;    /**< rtpb_play_pkt.cookie of every packet */
	int count;          /**< P<count>: > 0 plays that many times, < 0
				 forever; 0 is no playback (P0 only stops) */
	int ptime_ms;       /**< packet time, ms; <= 0: CTL_PLAY_PTIME_DEFAULT */
	struct ctl_play_rtp rtp; /**< first header values (ctl_play_rtp_random()) */
};

/** A player: one prompt played into one stream. */
struct ctl_play;

/**
 * A player of prompt p (it takes its own reference), not started.
 * @return the player, or NULL with errno: EINVAL (count 0, ptime over
 *         1000 ms), EMSGSIZE (one packet at that ptime over
 *         RTPB_PLAY_RTP_MAX), EPROTONOSUPPORT, ENOMEM.
 */
struct ctl_play *ctl_play_create(struct ctl_play_prompt *p, const struct ctl_play_cfg *cfg);

/**
 * Start playing at now_ns (rtpproxy starts a player at once if its stream
 * is active, else when it becomes so): the first packet is due at now_ns,
 * packet k at now_ns + k * ptime. Starting again restarts nothing.
 */
void ctl_play_start(struct ctl_play *pl, uint64_t now_ns);

/** What ctl_play_next() did. */
enum ctl_play_step {
	CTL_PLAY_LATER = 0, /**< nothing due yet (or not started): call again
			       at ctl_play_due_ns() */
	CTL_PLAY_PKT,       /**< *out holds the packet due; call again, more may
			       be due (a late caller gets every packet it
			       missed, in order, as rtpproxy's does) */
	CTL_PLAY_EOF,       /**< played count times (or the prompt is shorter
			       than one packet): destroy the player and let
			       the held media through again */
};

/**
 * The next packet due at now_ns (CLOCK_MONOTONIC, ns), if any, written
 * whole into *out (stream_id, cookie, len, RTP header and payload).
 * No I/O, no allocation. A prompt's tail shorter than one packet is not
 * sent: the next loop starts instead (rtpproxy reads whole packets only).
 */
enum ctl_play_step ctl_play_next(struct ctl_play *pl, uint64_t now_ns,
				 struct rtpb_play_pkt *out);

/** When the next packet is due, ns; UINT64_MAX if not started or at EOF. */
uint64_t ctl_play_due_ns(const struct ctl_play *pl);

/** Packets handed out so far. */
uint64_t ctl_play_npkts(const struct ctl_play *pl);

/** The prompt being played (still referenced by the player). */
const struct ctl_play_prompt *ctl_play_prompt(const struct ctl_play *pl);

/** Destroy (NULL is fine); drops its prompt reference. */
void ctl_play_destroy(struct ctl_play *pl);

#endif /* CTL_PLAY_H */
