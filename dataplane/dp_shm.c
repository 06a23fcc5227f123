/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_shm.c: the shared memory file (include/rtpb_shm.h), setup path only.
 *
 * The file lives on hugetlbfs when one is mounted (2 MB pages: the
 * per-stream counters are touched per packet, so TLB reach matters),
 * else on /dev/shm; its path is published as a symlink in DPDK's runtime
 * directory, which is what control opens.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "rtpb_mirror.h"
#include "rtpb_play.h"
#include "dp_shm.h"
#include "dp_stream.h"

#define SHM_ALIGN (2u << 20)

static char shm_path[PATH_MAX];

/* The first hugetlbfs mount, or NULL. */
static const char *
shm_hugetlbfs_dir(char *buf, size_t len)
{
	FILE *f = setmntent("/proc/mounts", "r");
	struct mntent *e;
	const char *r = NULL;

	if (f == NULL)
		return NULL;
	while ((e = getmntent(f)) != NULL) {
		if (strcmp(e->mnt_type, "hugetlbfs") == 0 &&
		    access(e->mnt_dir, W_OK) == 0) {
			snprintf(buf, len, "%s", e->mnt_dir);
			r = buf;
			break;
		}
	}
	endmntent(f);
	return r;
}

static uint64_t
shm_take(uint64_t *off, uint64_t size)
{
	uint64_t at = RTE_ALIGN_CEIL(*off, RTE_CACHE_LINE_SIZE);

	*off = at + size;
	return at;
}

struct rtpb_shm_hdr *
dp_shm_create(const char *prefix, const char *ring_prefix, uint32_t n_workers,
	      uint32_t max_streams, const char **err)
{
	ssize_t ring_sz = rte_ring_get_memsize_elem(RTPB_MSG_SIZE, RTPB_RING_SIZE);
	char dir[PATH_MAX - 64], link[PATH_MAX], name[RTE_RING_NAMESIZE];
	struct rtpb_shm_hdr *h;
	struct timespec ts;
	uint64_t off = sizeof(*h), size;
	ssize_t mir_sz = rte_ring_get_memsize_elem(RTPB_MIRROR_ELEM_SIZE,
						   RTPB_MIRROR_RING_ELEMS);
	ssize_t play_sz = rte_ring_get_memsize_elem(RTPB_PLAY_PKT_SIZE,
						    RTPB_PLAY_RING_ELEMS);
	uint64_t off_c2d[RTPB_MAX_WORKERS], off_d2c, off_lst, off_str, off_ctr;
	uint64_t off_mir[RTPB_MAX_WORKERS], off_play[RTPB_MAX_WORKERS];
	uint32_t w;
	int fd;

	if (ring_sz < 0 || mir_sz < 0 || play_sz < 0) {
		*err = "rte_ring_get_memsize_elem";
		errno = EINVAL;
		return NULL;
	}
	for (w = 0; w < n_workers; w++)
		off_c2d[w] = shm_take(&off, (uint64_t)ring_sz);
	off_d2c = shm_take(&off, (uint64_t)ring_sz);
	off_lst = shm_take(&off, sizeof(struct rtpb_lcore_stats) * (n_workers + 1));
	/* records in 128-byte pairs of lines (dp_stream.h) */
	off = RTE_ALIGN_CEIL(off, alignof(struct dp_stream));
	off_str = shm_take(&off, sizeof(struct dp_stream) * (uint64_t)max_streams);
	off_ctr = shm_take(&off, sizeof(struct rtpb_stream_ctrs) * (uint64_t)max_streams);
	for (w = 0; w < n_workers; w++)
		off_mir[w] = shm_take(&off, (uint64_t)mir_sz);
	for (w = 0; w < n_workers; w++)
		off_play[w] = shm_take(&off, (uint64_t)play_sz);
	size = RTE_ALIGN_CEIL(off, SHM_ALIGN);

	if (shm_hugetlbfs_dir(dir, sizeof(dir)) == NULL)
		snprintf(dir, sizeof(dir), "/dev/shm");
	snprintf(shm_path, sizeof(shm_path), "%s/%s_%s_shm", dir, ring_prefix, prefix);
	unlink(shm_path);
	fd = open(shm_path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		*err = "open shared memory file";
		return NULL;
	}
	if (ftruncate(fd, (off_t)size) != 0) {
		*err = "ftruncate shared memory file (enough hugepages?)";
		goto err_file;
	}
	h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (h == MAP_FAILED) {
		*err = "mmap shared memory file (enough hugepages?)";
		goto err_file;
	}
	close(fd);
	memset(h, 0, size);
	h->magic = RTPB_SHM_MAGIC;
	h->version = RTPB_MSG_VERSION;
	h->msg_size = RTPB_MSG_SIZE;
	h->hdr_size = sizeof(*h);
	clock_gettime(CLOCK_REALTIME, &ts);
	h->generation = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	h->pid = getpid();
	h->n_workers = n_workers;
	h->max_streams = max_streams;
	memcpy(h->off_c2d, off_c2d, sizeof(off_c2d[0]) * n_workers);
	h->off_d2c = off_d2c;
	h->off_lcore_stats = off_lst;
	h->off_streams = off_str;
	/* the contract's tables, one entry per record, by stride: counters,
	 * keys, cookies (control knows no more of struct dp_stream) */
	h->off_stream_counters = off_str + offsetof(struct dp_stream, pkts);
	h->stream_stride = sizeof(struct dp_stream);
	h->off_stream_keys = off_str + offsetof(struct dp_stream, key);
	h->off_stream_cookies = off_str + offsetof(struct dp_stream, cookie);
	h->off_stream_ctrs = off_ctr;
	h->off_stream_rtpa_hot = off_str + offsetof(struct dp_stream, rtpa);
	h->off_stream_rtpa_cold = off_str + offsetof(struct dp_stream, rtpa_cold);
	memcpy(h->off_mirror, off_mir, sizeof(off_mir[0]) * n_workers);
	memcpy(h->off_play, off_play, sizeof(off_play[0]) * n_workers);
	h->size = size;
	for (w = 0; w < n_workers; w++) {
		snprintf(name, sizeof(name), "%s_c2d_%u", ring_prefix, w);
		if (rte_ring_init(rtpb_shm_at(h, off_c2d[w]), name, RTPB_RING_SIZE,
				  RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
			*err = "rte_ring_init c2d";
			goto err_map;
		}
	}
	for (w = 0; w < n_workers; w++) {
		snprintf(name, sizeof(name), RTPB_MIRROR_RING_FMT, ring_prefix, w);
		if (rte_ring_init(rtpb_shm_at(h, off_mir[w]), name, RTPB_MIRROR_RING_ELEMS,
				  RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
			*err = "rte_ring_init mirror";
			goto err_map;
		}
		snprintf(name, sizeof(name), RTPB_PLAY_RING_FMT, ring_prefix, w);
		if (rte_ring_init(rtpb_shm_at(h, off_play[w]), name, RTPB_PLAY_RING_ELEMS,
				  RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
			*err = "rte_ring_init play";
			goto err_map;
		}
	}
	snprintf(name, sizeof(name), "%s_d2c", ring_prefix);
	if (rte_ring_init(rtpb_shm_at(h, off_d2c), name, RTPB_RING_SIZE,
			  RING_F_SC_DEQ) != 0) {
		*err = "rte_ring_init d2c";
		goto err_map;
	}
	snprintf(link, sizeof(link), RTPB_SHM_LINK_FMT, prefix);
	unlink(link);
	if (symlink(shm_path, link) != 0) {
		*err = "symlink in DPDK runtime dir";
		goto err_map;
	}
	return h;
err_map:
	munmap(h, size);
	unlink(shm_path);
	return NULL;
err_file:
	close(fd);
	unlink(shm_path);
	return NULL;
}

void
dp_shm_destroy(struct rtpb_shm_hdr *h, const char *prefix)
{
	char link[PATH_MAX];

	if (h == NULL)
		return;
	atomic_store(&h->state, RTPB_SHM_STOPPING);
	snprintf(link, sizeof(link), RTPB_SHM_LINK_FMT, prefix);
	unlink(link);
	unlink(shm_path);
	munmap(h, h->size);
}
