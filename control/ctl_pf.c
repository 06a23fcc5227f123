/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_pf.c: the prefilter's pinned maps, from control (see ctl_pf.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl_pf.h"
#include "prefilter.skel.h"

struct ctl_pf {
	struct prefilter *skel; /* maps pinned under pin_root */
	int ncpu;
};

const char *
ctl_pf_verdict_name(uint32_t v)
{
	return rtpb_pf_verdict_text(v)->name;
}

static void
pf_sock_key(struct rtpb_pf_sock_key *k, const struct rtpb_addr *a)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	k->port = a->port;
	memcpy(k->ip, a->ip, sizeof(k->ip));
}

struct ctl_pf *
ctl_pf_open(const char *pin_root, const char **err)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
	struct ctl_pf *pf = calloc(1, sizeof(*pf));
	int r;

	if (pf == NULL) {
		*err = "out of memory";
		return NULL;
	}
	pf->ncpu = libbpf_num_possible_cpus();
	pf->skel = prefilter__open_opts(&opts);
	if (pf->skel == NULL) {
		*err = "prefilter__open_opts (BPF object)";
		goto err_free;
	}
	/* Loading reuses the pins when they exist (the PMD loaded first),
	 * else creates and pins the maps. The program is never attached, so
	 * neither it nor its XSKMAP (the PMD's, never pinned) is loaded:
	 * both take CAP_NET_ADMIN, the pinned maps CAP_BPF alone (what
	 * rtpbypass-control.service bounds control to). */
	bpf_program__set_autoload(pf->skel->progs.pf_main, false);
	bpf_map__set_autocreate(pf->skel->maps.xsks_map, false);
	r = prefilter__load(pf->skel);
	if (r != 0) {
		errno = -r;
		*err = "prefilter__load (bpffs mounted? root? maps pinned by an incompatible version?)";
		goto err_skel;
	}
	if (pf->ncpu <= 0) {
		errno = -pf->ncpu;
		*err = "libbpf_num_possible_cpus";
		goto err_skel;
	}
	return pf;
err_skel:
	r = errno;
	prefilter__destroy(pf->skel);
	errno = r;
err_free:
	free(pf);
	return NULL;
}

void
ctl_pf_close(struct ctl_pf *pf, bool unpin)
{
	if (pf == NULL)
		return;
	if (unpin)
		bpf_object__unpin_maps(pf->skel->obj, NULL);
	prefilter__destroy(pf->skel);
	free(pf);
}

/* Is k one of the n addresses? */
static bool
pf_addr_listed(const struct rtpb_pf_addr_key *k, const struct rtpb_addr *addrs,
	       uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (addrs[i].family == k->family &&
		    memcmp(addrs[i].ip, k->ip, sizeof(k->ip)) == 0)
			return true;
	return false;
}

int
ctl_pf_set_addrs(struct ctl_pf *pf, const struct rtpb_addr *addrs, uint32_t n,
		 uint32_t budget_pps, uint32_t budget_burst)
{
	struct rtpb_pf_cfg cfg = {.budget_pps = budget_pps ? budget_pps : RTPB_PF_BUDGET_PPS,
				  .budget_burst = budget_burst ? budget_burst :
								 RTPB_PF_BUDGET_BURST};
	const struct bpf_map *m = pf->skel->maps.pf_addrs;
	struct rtpb_pf_addr_key k, next, *prev = NULL;
	struct rtpb_pf_addr_key stale[RTPB_PF_MAX_ADDRS];
	uint32_t zero = 0, i, nstale = 0;
	int r;

	if (n > RTPB_PF_MAX_ADDRS)
		return -E2BIG;
	r = bpf_map__update_elem(pf->skel->maps.pf_cfg, &zero, sizeof(zero), &cfg,
				 sizeof(cfg), BPF_ANY);
	/* addresses a previous run set and this one does not: the kernel
	 * gets their traffic back (collected first, deleted after) */
	while (r == 0 &&
	       bpf_map__get_next_key(m, prev, &next, sizeof(next)) == 0) {
		if (!pf_addr_listed(&next, addrs, n) &&
		    nstale < RTPB_PF_MAX_ADDRS)
			stale[nstale++] = next;
		k = next;
		prev = &k;
	}
	for (i = 0; r == 0 && i < nstale; i++) {
		r = bpf_map__delete_elem(m, &stale[i], sizeof(stale[i]), 0);
		if (r == -ENOENT)
			r = 0;
	}
	for (i = 0; r == 0 && i < n; i++) {
		memset(&k, 0, sizeof(k));
		k.family = addrs[i].family;
		memcpy(k.ip, addrs[i].ip, sizeof(k.ip));
		r = bpf_map__update_elem(m, &k, sizeof(k), &i, sizeof(i),
					 BPF_ANY);
	}
	return r;
}

static void
pf_sock_set_peer(struct rtpb_pf_sock *v, const struct rtpb_addr *peer)
{
	if (peer == NULL || peer->family == RTPB_AF_NONE) {
		v->flags &= ~RTPB_PF_F_LATCHED;
		v->peer_family = 0;
		v->peer_port = 0;
		memset(v->peer_ip, 0, sizeof(v->peer_ip));
		return;
	}
	v->flags |= RTPB_PF_F_LATCHED;
	v->peer_family = peer->family;
	v->peer_port = peer->port;
	memcpy(v->peer_ip, peer->ip, sizeof(v->peer_ip));
}

int
ctl_pf_sock_add(struct ctl_pf *pf, const struct rtpb_addr *local,
		const struct rtpb_addr *peer)
{
	struct rtpb_pf_sock_key k;
	struct rtpb_pf_sock v;

	memset(&v, 0, sizeof(v));
	pf_sock_key(&k, local);
	pf_sock_set_peer(&v, peer);
	return bpf_map__update_elem(pf->skel->maps.pf_socks, &k, sizeof(k), &v, sizeof(v),
				    BPF_ANY);
}

int
ctl_pf_sock_keep(struct ctl_pf *pf, const struct rtpb_addr *local)
{
	struct rtpb_pf_sock_key k;
	struct rtpb_pf_sock v;
	int r;

	memset(&v, 0, sizeof(v));
	pf_sock_key(&k, local);
	r = bpf_map__update_elem(pf->skel->maps.pf_socks, &k, sizeof(k), &v, sizeof(v),
				 BPF_NOEXIST);
	return r == -EEXIST ? 0 : r;
}

int
ctl_pf_sock_latch(struct ctl_pf *pf, const struct rtpb_addr *local,
		  const struct rtpb_addr *peer, uint32_t ssrc)
{
	struct rtpb_pf_sock_key k;
	struct rtpb_pf_sock v;
	int r;

	pf_sock_key(&k, local);
	r = bpf_map__lookup_elem(pf->skel->maps.pf_socks, &k, sizeof(k), &v, sizeof(v), 0);
	if (r != 0)
		return r;
	pf_sock_set_peer(&v, peer);
	v.peer_ssrc = (v.flags & RTPB_PF_F_LATCHED) ? ssrc : 0;
	/* BPF_EXIST: a concurrent delete wins, nothing is resurrected */
	return bpf_map__update_elem(pf->skel->maps.pf_socks, &k, sizeof(k), &v, sizeof(v),
				    BPF_EXIST);
}

int
ctl_pf_sock_del(struct ctl_pf *pf, const struct rtpb_addr *local)
{
	struct rtpb_pf_sock_key k;

	pf_sock_key(&k, local);
	return bpf_map__delete_elem(pf->skel->maps.pf_socks, &k, sizeof(k), 0);
}

uint32_t
ctl_pf_reconcile(struct ctl_pf *pf,
		 bool (*keep)(const struct rtpb_addr *local, void *arg), void *arg)
{
	const struct bpf_map *m = pf->skel->maps.pf_socks;
	struct rtpb_pf_sock_key k, next, *prev = NULL;
	struct rtpb_pf_sock_key *doomed;
	uint32_t n = 0, i, cap = 1024;

	/* Collect first, delete after: deleting while walking with
	 * get_next_key may restart the walk. */
	doomed = malloc(sizeof(*doomed) * cap);
	if (doomed == NULL)
		return 0;
	while (bpf_map__get_next_key(m, prev, &next, sizeof(next)) == 0) {
		struct rtpb_addr a;

		memset(&a, 0, sizeof(a));
		a.family = next.family;
		a.port = next.port;
		memcpy(a.ip, next.ip, sizeof(a.ip));
		if (!keep(&a, arg)) {
			if (n == cap) {
				struct rtpb_pf_sock_key *d = realloc(doomed, sizeof(*d) * cap * 2);

				if (d == NULL)
					break;
				doomed = d;
				cap *= 2;
			}
			doomed[n++] = next;
		}
		k = next;
		prev = &k;
	}
	for (i = 0; i < n; i++)
		bpf_map__delete_elem(m, &doomed[i], sizeof(doomed[i]), 0);
	free(doomed);
	return n;
}

int
ctl_pf_stats(struct ctl_pf *pf, uint64_t out[RTPB_PF_VERDICT__COUNT])
{
	struct rtpb_pf_stat *st = calloc((size_t)pf->ncpu, sizeof(*st));
	uint32_t v;
	int r = 0, c;

	if (st == NULL)
		return -ENOMEM;
	for (v = 0; v < RTPB_PF_VERDICT__COUNT; v++) {
		out[v] = 0;
		r = bpf_map__lookup_elem(pf->skel->maps.pf_stats, &v, sizeof(v), st,
					 sizeof(*st) * (size_t)pf->ncpu, 0);
		if (r != 0)
			break;
		for (c = 0; c < pf->ncpu; c++)
			out[v] += st[c].pkts;
	}
	free(st);
	return r;
}
