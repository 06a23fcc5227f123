/* SPDX-License-Identifier: BSD-3-Clause */
/* Placeholder until the real attach code lands: never attached. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_dp.h"

struct ctl_dp {
	int unused;
};

struct ctl_dp *ctl_dp_create(const char *file_prefix) { (void)file_prefix; return calloc(1, sizeof(struct ctl_dp)); }
void ctl_dp_destroy(struct ctl_dp *dp) { free(dp); }
void ctl_dp_set_callbacks(struct ctl_dp *dp, ctl_dp_replay_fn *r, ctl_dp_latch_fn *l, void *a) { (void)dp; (void)r; (void)l; (void)a; }
void ctl_dp_poll(struct ctl_dp *dp, uint64_t now_ns) { (void)dp; (void)now_ns; }
bool ctl_dp_ready(const struct ctl_dp *dp) { (void)dp; return false; }
uint32_t ctl_dp_n_workers(const struct ctl_dp *dp) { (void)dp; return 0; }
int ctl_dp_addr_index(const struct ctl_dp *dp, const struct rtpb_addr *a) { (void)dp; (void)a; return -ENOTCONN; }
int ctl_dp_stream_id_alloc(struct ctl_dp *dp, uint32_t o, uint32_t *id) { (void)dp; (void)o; (void)id; return -ENOTCONN; }
void ctl_dp_stream_id_free(struct ctl_dp *dp, uint32_t id) { (void)dp; (void)id; }
int ctl_dp_stream_push(struct ctl_dp *dp, struct rtpb_msg_stream *m) { (void)dp; (void)m; return -ENOTCONN; }
int ctl_dp_stream_del(struct ctl_dp *dp, uint32_t id, const struct rtpb_addr *l) { (void)dp; (void)id; (void)l; return -ENOTCONN; }
const struct rtpb_stream_stats *ctl_dp_stream_stats(const struct ctl_dp *dp, uint32_t id) { (void)dp; (void)id; return NULL; }
void ctl_dp_totals(const struct ctl_dp *dp, struct rtpb_lcore_stats *sum) { (void)dp; memset(sum, 0, sizeof(*sum)); }
