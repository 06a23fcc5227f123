/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_shm.h: creation of the shared memory of include/rtpb_shm.h.
 */
#ifndef DP_SHM_H
#define DP_SHM_H

#include <stdint.h>

#include "rtpb_shm.h"

/**
 * Create, size, map and lay out the shared memory for file prefix
 * prefix, initialise its rings (names "<ring_prefix>_c2d_<w>",
 * "<ring_prefix>_d2c") and link it at RTPB_SHM_LINK_FMT. It holds the
 * stream records (struct dp_stream[max_streams], zeroed: every id FREE). The header's
 * state stays RTPB_SHM_INIT until the caller sets it READY.
 * @return the mapping, or NULL with errno set; *err names what failed.
 */
struct rtpb_shm_hdr *dp_shm_create(const char *prefix, const char *ring_prefix,
				   uint32_t n_workers, uint32_t max_streams,
				   const char **err);

/** Mark STOPPING, unlink file and link, unmap. */
void dp_shm_destroy(struct rtpb_shm_hdr *h, const char *prefix);

#endif /* DP_SHM_H */
