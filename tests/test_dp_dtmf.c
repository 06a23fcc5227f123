/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dp_dtmf: DTMF catching's detection rules (dataplane/dp_dtmf.h,
 * rtpproxy's catch_dtmf) as tables of packets, each row one RFC 4733
 * packet and whether it reports (and what). A key press as phones send
 * it: a start packet (M bit), updates with growing durations, then the
 * end packet three times (RFC 4733 §2.5.1.4): reported once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dp_dtmf.h"

/* One packet in, the verdict out. */
struct row {
	const char *what;
	uint32_t ts;       /* RTP timestamp */
	uint8_t event;
	bool end;
	uint8_t volume;
	uint16_t duration;
	uint8_t cc;        /* CSRCs before the payload */
	bool ext;          /* a header extension of one word */
	uint16_t len_cut;  /* bytes cut off the end */
	bool report;       /* expected: reports */
	uint16_t rep_duration;
};

/* A row: what, timestamp, code, E bit, volume, duration, then
 * designated extras (.report, .rep_duration, .cc, .ext, .len_cut). */
#define ROW(w, t, e, en, v, d, ...)                                       \
	{.what = (w), .ts = (t), .event = (e), .end = (en), .volume = (v),  \
	 .duration = (d), __VA_ARGS__}

/* An RTP packet (PT 101) carrying one RFC 4733 payload. */
static uint16_t
build(uint8_t *p, const struct row *r)
{
	uint16_t off = 12;

	memset(p, 0, 128);
	p[0] = (uint8_t)(0x80 | (r->ext ? 0x10 : 0) | r->cc);
	p[1] = 101;
	p[4] = (uint8_t)(r->ts >> 24);
	p[5] = (uint8_t)(r->ts >> 16);
	p[6] = (uint8_t)(r->ts >> 8);
	p[7] = (uint8_t)r->ts;
	off = (uint16_t)(off + 4 * r->cc);
	if (r->ext) {
		p[off + 3] = 1; /* one word of extension data */
		memset(p + off + 4, 0xee, 4);
		off = (uint16_t)(off + 8);
	}
	p[off] = r->event;
	p[off + 1] = (uint8_t)((r->end ? 0x80 : 0) | (r->volume & 0x3f));
	p[off + 2] = (uint8_t)(r->duration >> 8);
	p[off + 3] = (uint8_t)r->duration;
	return (uint16_t)(off + 4 - r->len_cut);
}

static void
run(const struct row *rows, size_t n)
{
	struct dp_dtmf_hist h;
	uint8_t pkt[128];

	memset(&h, 0, sizeof(h));
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		struct dp_dtmf_report rep = {0};
		uint16_t len = build(pkt, r);
		bool got = dp_dtmf_rx(&h, pkt, len, &rep);

		if (got != r->report)
			fail_msg("row %zu (%s): reported %d, want %d", i, r->what,
				 got, r->report);
		if (!got)
			continue;
		assert_int_equal(rep.ts, r->ts);
		assert_int_equal(rep.event, r->event);
		assert_int_equal(rep.volume, r->volume);
		assert_int_equal(rep.duration, r->rep_duration);
	}
}

/* A key press: start, updates, three end packets: one report, at the
 * first end packet, with the end's duration. */
static void
test_press(void **state)
{
	static const struct row rows[] = {
		ROW("start '5'", 8000, 5, false, 10, 160),
		ROW("update", 8000, 5, false, 10, 320),
		ROW("update", 8000, 5, false, 10, 480),
		ROW("end", 8000, 5, true, 10, 640, .report = true, .rep_duration = 640),
		ROW("end again", 8000, 5, true, 10, 640),
		ROW("end a third time", 8000, 5, true, 10, 640),
		ROW("next key '#' starts", 9600, 11, false, 7, 160),
		ROW("'#' end", 9600, 11, true, 7, 800, .report = true, .rep_duration = 800),
		ROW("'#' end again", 9600, 11, true, 7, 800),
		ROW("late retransmission of '5' (history of two)", 8000, 5, true, 10, 640),
		ROW("'#' end a third time", 9600, 11, true, 7, 800),
	};

	(void)state;
	run(rows, sizeof(rows) / sizeof(rows[0]));
}

/* rtpproxy's rules at the edges: an event's first packet never reports
 * (only end packets: the second one does); the longest duration seen is
 * reported; codes above 16 and packets too short are ignored; another
 * code under an open event's timestamp is ignored; flash (16) reports. */
static void
test_edges(void **state)
{
	static const struct row rows[] = {
		ROW("first packet is an end: opens only", 100, 1, true, 3, 400),
		ROW("its retransmission reports", 100, 1, true, 3, 400,
		 .report = true, .rep_duration = 400),
		ROW("and no more", 100, 1, true, 3, 400),
		ROW("start '2' long", 200, 2, false, 0, 900),
		ROW("end with a shorter duration: the longest is reported", 200, 2,
		 true, 0, 700, .report = true, .rep_duration = 900),
		ROW("code 17 (not DTMF) ignored", 300, 17, false, 0, 160),
		ROW("code 17 end ignored", 300, 17, true, 0, 320),
		ROW("start '3'", 400, 3, false, 0, 160),
		ROW("code 4 under '3''s timestamp: ignored", 400, 4, true, 0, 320),
		ROW("end cut short: ignored", 400, 3, true, 0, 320, .len_cut = 1),
		ROW("end of '3'", 400, 3, true, 0, 320, .report = true,
		 .rep_duration = 320),
		ROW("flash (16) start", 500, 16, false, 0, 160),
		ROW("flash end", 500, 16, true, 63, 480, .report = true,
		 .rep_duration = 480),
	};

	(void)state;
	run(rows, sizeof(rows) / sizeof(rows[0]));
}

/* The payload follows the CSRC list and a header extension (RFC 3550
 * §5.1, §5.3.1); a header that claims more than the packet holds is
 * ignored. */
static void
test_header_forms(void **state)
{
	static const struct row rows[] = {
		ROW("two CSRCs: start", 1000, 9, false, 5, 160, .cc = 2),
		ROW("two CSRCs: end", 1000, 9, true, 5, 320, .cc = 2, .report = true,
		 .rep_duration = 320),
		ROW("extension: start", 2000, 0, false, 6, 160, .ext = true),
		ROW("extension: end", 2000, 0, true, 6, 480, .ext = true,
		 .report = true, .rep_duration = 480),
		ROW("start 'A'", 3000, 12, false, 6, 160),
		ROW("15 CSRCs claimed, payload missing", 3000, 12, true, 6, 320,
		 .cc = 15, .len_cut = 60),
	};

	(void)state;
	run(rows, sizeof(rows) / sizeof(rows[0]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_press),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_header_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
