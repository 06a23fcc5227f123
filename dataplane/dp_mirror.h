/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_mirror.h: the worker's side of recording: copy one packet into the
 * worker's mirror ring (include/rtpb_mirror.h, docs/RECORDING.md).
 *
 * Called by the owner worker only (the ring's single producer), for
 * streams whose record flag is set; never blocks, allocates or logs. The
 * caller counts: 0 is mirror_copies++, -ENOBUFS mirror_drops++.
 *
 * Cost: one zero-copy bulk reservation, the 64-byte header and one copy of
 * the payload straight into the ring (two when the ring wraps). A 172-byte
 * G.711 packet: 20 to 26 cycles in the fastest runs, 28 to 144 on average
 * (a shared 2-CPU VM, -O2), ring lines warm in this core's cache
 * (tests/test_ctl_rec.c test_ring_full_and_cost prints it). With the
 * recorder on another core the ring's lines come back from that core's
 * cache: expect one more miss per 64 bytes until measured in the worker.
 * Streams that do not record never call it.
 */
#ifndef DP_MIRROR_H
#define DP_MIRROR_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_memcpy.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_ring_peek_zc.h>

#include "rtpb_mirror.h"

/* Copy len bytes of src to the reserved run at byte off (two segments). */
static inline void
dp_mirror_put(const struct rte_ring_zc_data *zcd, uint32_t off,
	      const void *src, uint32_t len)
{
	uint32_t len1 = zcd->n1 * RTPB_MIRROR_ELEM_SIZE;

	if (off + len <= len1) {
		rte_memcpy((uint8_t *)zcd->ptr1 + off, src, len);
	} else if (off >= len1) {
		rte_memcpy((uint8_t *)zcd->ptr2 + (off - len1), src, len);
	} else {
		rte_memcpy((uint8_t *)zcd->ptr1 + off, src, len1 - off);
		rte_memcpy(zcd->ptr2, (const uint8_t *)src + (len1 - off),
			   len - (len1 - off));
	}
}

/**
 * Copy one received packet into a mirror ring, whole or not at all.
 * @param r       the worker's mirror ring (SP).
 * @param hdr     the record header, orig_len set; cap_len is set here to
 *                min(orig_len, RTPB_MIRROR_SNAPLEN).
 * @param payload orig_len bytes of UDP payload (read cap_len of them).
 * @return 0, or -ENOBUFS when the ring lacks room (nothing enqueued).
 */
static inline int
dp_mirror_copy(struct rte_ring *r, struct rtpb_mirror_rec *hdr,
	       const void *payload)
{
	struct rte_ring_zc_data zcd;
	uint32_t ne;

	hdr->cap_len = hdr->orig_len < RTPB_MIRROR_SNAPLEN ?
		hdr->orig_len : RTPB_MIRROR_SNAPLEN;
	ne = rtpb_mirror_rec_elems(hdr->cap_len);
	if (unlikely(rte_ring_enqueue_zc_bulk_elem_start(r, RTPB_MIRROR_ELEM_SIZE,
							 ne, &zcd, NULL) == 0))
		return -ENOBUFS;
	dp_mirror_put(&zcd, 0, hdr, RTPB_MIRROR_ELEM_SIZE);
	dp_mirror_put(&zcd, RTPB_MIRROR_ELEM_SIZE, payload, hdr->cap_len);
	rte_ring_enqueue_zc_elem_finish(r, ne);
	return 0;
}

#endif /* DP_MIRROR_H */
