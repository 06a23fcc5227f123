/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_rec_ring.h: the recorder's drain of one mirror ring
 * (include/rtpb_mirror.h) into its writer (ctl_rec.h).
 *
 * Called by the recorder thread only, the rings' single consumer; the
 * rings live in the shared memory the dataplane lays out, and the rte_ring
 * functions used are inline (no EAL in control), as for the c2d rings.
 */
#ifndef CTL_REC_RING_H
#define CTL_REC_RING_H

#include <stdint.h>

#include "ctl_rec.h"

struct rte_ring;

/** Elements taken per burst by ctl_rec_ring_drain(). */
#define CTL_REC_RING_BURST 512

/**
 * Take what a mirror ring holds, up to about max_elems elements, and write
 * its records (ctl_rec_drain_elems()). A record the burst cut is completed
 * from the ring (the producer made it visible whole).
 * @param r         a mirror ring, RTPB_MIRROR_ELEM_SIZE-byte elements.
 * @param max_elems bound of one call (the loop's share of time), elements.
 * @return elements taken, or -EPROTO on a malformed record (the ring is
 *         not usable any more: the caller logs it and stops draining it).
 */
long ctl_rec_ring_drain(struct ctl_rec *rec, struct rte_ring *r,
			uint32_t max_elems);

#endif /* CTL_REC_RING_H */
