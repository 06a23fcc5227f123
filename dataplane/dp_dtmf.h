/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_dtmf.h: DTMF catching in the fast path (rtpproxy's catch_dtmf
 * module, modules/catch_dtmf/rtpp_catch_dtmf.c; docs/DTMF.md): which
 * RFC 4733 telephone-event packets a stream reports, and when.
 *
 * A pure function of (the stream's event history, one RTP packet), so
 * its tests are a table (tests/test_dp_dtmf.c). The worker calls it only
 * for packets of a stream flagged RTPB_STREAM_F_DTMF whose payload type
 * is the stream's dtmf_pt (two compares on line 0 of the stream record,
 * already loaded): other streams pay nothing.
 *
 * The rules are rtpproxy's, so that the reports are the ones it sends:
 *  - an event is identified by its RTP timestamp (RFC 4733 §2.5.1.2:
 *    every packet of one event carries the timestamp of its start);
 *  - the first packet seen of an event only opens it (even if it is an
 *    end packet);
 *  - a later packet of an open event with the same code raises its
 *    duration to the longest seen; the first of them with the E bit
 *    (§2.3.4) reports the event, once: the end packet's retransmissions
 *    (§2.5.1.4, three in all) find it reported;
 *  - codes above 16 (the 16 DTMF tones and flash, §3.2) are ignored;
 *  - a packet of another code under an open event's timestamp is
 *    ignored.
 * rtpproxy keeps four events; two are kept here (the current one and
 * the one before, whose late end retransmissions may follow the new
 * event's first packets).
 * Where it differs from rtpproxy: the event is read after the CSRC list
 * and any header extension (RFC 3550 §5.1, §5.3.1); rtpproxy reads it at
 * byte 12 whatever CC and X say (the same for the usual CC 0, X 0).
 *
 * Cost: a few tens of cycles per event packet of a flagged stream
 * (about 50 per second while a key is held); nothing otherwise.
 */
#ifndef DP_DTMF_H
#define DP_DTMF_H

#include <stdbool.h>
#include <stdint.h>

/** Events remembered per stream. */
#define DP_DTMF_HIST 2
/** Highest event code reported (RFC 4733 §3.2: 0-9 * # A-D, 16 flash). */
#define DP_DTMF_MAX_EVENT 16

/** One remembered event, host order. */
struct dp_dtmf_slot {
	uint32_t ts;       /**< its RTP timestamp */
	uint16_t duration; /**< longest duration seen, timestamp units */
	uint8_t event;     /**< its code */
	uint8_t state;     /**< 0 free, 1 open, 2 reported */
};

/** A stream's event history (in struct dp_stream's cold line 3). */
struct dp_dtmf_hist {
	struct dp_dtmf_slot slot[DP_DTMF_HIST];
	uint8_t next;      /**< slot the next new event takes */
	uint8_t reserved[3];
};

/** What to report (dp_dtmf_rx() returned true), host order. */
struct dp_dtmf_report {
	uint32_t ts;
	uint16_t duration;
	uint8_t event;
	uint8_t volume;
};

/**
 * Take one RTP packet with the stream's DTMF payload type.
 * @param h    the stream's history, updated.
 * @param p    the UDP payload (the RTP packet), len bytes.
 * @param out  filled when the packet reports an event.
 * @return true if the packet ends an event not reported yet (report
 *         *out, once); false otherwise (malformed or short packets too).
 */
static inline bool
dp_dtmf_rx(struct dp_dtmf_hist *h, const uint8_t *p, uint16_t len,
	   struct dp_dtmf_report *out)
{
	struct dp_dtmf_slot *sl = NULL;
	uint32_t off = 12u + 4u * (p[0] & 0x0f), ts;
	uint16_t dur;
	uint8_t ev;
	unsigned i;

	if (len < 12)
		return false;
	/* RFC 3550 §5.3.1: extension header, then its 32-bit words */
	if ((p[0] & 0x10) != 0) {
		if (off + 4u > len)
			return false;
		off += 4u + 4u * ((uint32_t)p[off + 2] << 8 | p[off + 3]);
	}
	/* RFC 4733 §2.3: event, E|R|volume, duration */
	if (off + 4u > len)
		return false;
	ev = p[off];
	if (ev > DP_DTMF_MAX_EVENT)
		return false;
	dur = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
	ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	for (i = 0; i < DP_DTMF_HIST; i++) {
		if (h->slot[i].state != 0 && h->slot[i].ts == ts) {
			sl = &h->slot[i];
			break;
		}
	}
	if (sl == NULL) {
		/* a new event: open it, report nothing yet */
		sl = &h->slot[h->next];
		h->next = (uint8_t)((h->next + 1) % DP_DTMF_HIST);
		*sl = (struct dp_dtmf_slot){.ts = ts, .duration = dur,
					    .event = ev, .state = 1};
		return false;
	}
	if (sl->state != 1 || sl->event != ev)
		return false;
	if (dur > sl->duration)
		sl->duration = dur;
	if ((p[off + 1] & 0x80) == 0)
		return false;
	sl->state = 2;
	*out = (struct dp_dtmf_report){.ts = ts, .duration = sl->duration,
				       .event = ev,
				       .volume = (uint8_t)(p[off + 1] & 0x3f)};
	return true;
}

#endif /* DP_DTMF_H */
