/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_rec_ring.c: drain a mirror ring into the writer (ctl_rec_ring.h).
 *
 * Bursts of CTL_REC_RING_BURST elements into a buffer with room for one
 * more largest record: a record the burst cut at its end is moved to the
 * front and completed with a bulk dequeue of exactly the elements it
 * lacks, which the ring holds already (rtpb_mirror.h: one bulk enqueue per
 * record, visible whole).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ctl_rec_ring.h"

long
ctl_rec_ring_drain(struct ctl_rec *rec, struct rte_ring *r, uint32_t max_elems)
{
	/* 34 KiB: a burst and the rest of one cut record */
	_Alignas(64) uint8_t
		buf[(CTL_REC_RING_BURST + RTPB_MIRROR_MAX_ELEMS) * RTPB_MIRROR_ELEM_SIZE];
	uint32_t have = 0, got, need;
	long taken = 0, used;

	while ((uint64_t)taken < max_elems) {
		got = rte_ring_sc_dequeue_burst_elem(r, buf + (size_t)have * RTPB_MIRROR_ELEM_SIZE,
						     RTPB_MIRROR_ELEM_SIZE,
						     CTL_REC_RING_BURST, NULL);
		if (got == 0)
			break;
		taken += got;
		have += got;
		for (;;) {
			used = ctl_rec_drain_elems(rec, buf, have, &need);
			if (used < 0)
				return used;
			have -= (uint32_t)used;
			if (have > 0)
				memmove(buf, buf + (size_t)used * RTPB_MIRROR_ELEM_SIZE,
					(size_t)have * RTPB_MIRROR_ELEM_SIZE);
			if (need == 0)
				break;
			if (rte_ring_sc_dequeue_bulk_elem(r, buf + (size_t)have * RTPB_MIRROR_ELEM_SIZE,
							  RTPB_MIRROR_ELEM_SIZE, need,
							  NULL) != need)
				return -EPROTO; /* the producer broke the contract */
			taken += need;
			have += need;
		}
	}
	return taken;
}
