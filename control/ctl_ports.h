/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_ports.h: relay port pairs of one relay address.
 *
 * A pair is an even RTP port P and its RTCP port P + 1 (RFC 3550 §11).
 * Pairs are handed out at random (rtpproxy's default), in O(1): the free
 * pairs sit in an array, a random slot is taken and the last free slot
 * moved into its place; or in order (rtpproxy -b), the first free pair
 * after the last one taken. Used by control's
 * single thread only. Ports are host byte order throughout.
 */
#ifndef CTL_PORTS_H
#define CTL_PORTS_H

#include <stdbool.h>
#include <stdint.h>

struct ctl_ports;

/**
 * Apply rtpproxy's -m/-M rounding (src/main.c init_config()): min goes up
 * to even; max is the highest even RTP port whose RTCP port (+1) is
 * still <= max, i.e. odd max - 1, even max - 2.
 * @param min  -m value, 1..65535.
 * @param max  -M value, 1..65535.
 * @param lo   out: lowest RTP port.
 * @param hi   out: highest RTP port.
 * @return 0, or -EINVAL if a value is out of 1..65535 or no pair fits.
 */
int ctl_ports_range(long min, long max, uint16_t *lo, uint16_t *hi);

/**
 * Create a pool of the pairs lo, lo + 2, ..., hi (as ctl_ports_range()
 * returns them: both even, lo <= hi).
 * @param seed random seed; 0 picks one from getrandom().
 * @return the pool, or NULL with errno EINVAL/ENOMEM.
 */
struct ctl_ports *ctl_ports_create(uint16_t lo, uint16_t hi, uint64_t seed);

/**
 * rtpproxy -b: hand pairs out in order, from after the last one taken,
 * wrapping around (default: at random).
 */
void ctl_ports_set_sequential(struct ctl_ports *p, bool on);

/** Free the pool (NULL is fine). */
void ctl_ports_destroy(struct ctl_ports *p);

/**
 * Take a random free pair.
 * @param port out: the RTP port (even); RTCP is port + 1.
 * @return 0, or -ENOSPC if every pair is in use.
 */
int ctl_ports_alloc(struct ctl_ports *p, uint16_t *port);

/** A test on an RTP port (host order) for ctl_ports_alloc_if(). */
typedef bool(ctl_ports_pred_fn)(uint16_t port, void *arg);

/**
 * Take a free pair whose RTP port passes ok(), looking at no more than
 * tries free pairs (at random, or in order with -b). Used to pick a port
 * the NIC steers to a given worker (rtpb_steer.h).
 * @param port out: the RTP port (even); RTCP is port + 1.
 * @return 0, -ENOSPC if every pair is in use, or -ENOENT if none of the
 *         pairs looked at passed (nothing taken).
 */
int ctl_ports_alloc_if(struct ctl_ports *p, ctl_ports_pred_fn *ok, void *arg,
		       uint32_t tries, uint16_t *port);

/**
 * Take the pair of RTP port port (even) if it is free: the pair of a
 * stream control finds in the dataplane at attach and keeps.
 * @return 0, -EBUSY if it is in use, -EINVAL if it is not a pair of
 *         this pool.
 */
int ctl_ports_take(struct ctl_ports *p, uint16_t port);

/**
 * Give a pair back; it may be handed out again at once.
 * @return 0, or -EINVAL if port is not a pair of this pool or is
 *         already free (nothing changes).
 */
int ctl_ports_free(struct ctl_ports *p, uint16_t port);

/** Number of free pairs. */
uint32_t ctl_ports_avail(const struct ctl_ports *p);

/** Number of pairs in the pool. */
uint32_t ctl_ports_total(const struct ctl_ports *p);

#endif /* CTL_PORTS_H */
