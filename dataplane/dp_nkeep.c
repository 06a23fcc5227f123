/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_nkeep.c: the neighbour cache kept across a dataplane restart
 * (dp_nkeep.h). File layout (host byte order, read only on the machine
 * that wrote it): struct nkeep_file, its records indexed by the live
 * table's slots.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dp_ctx.h"
#include "dp_nkeep.h"

#define NKEEP_MAGIC 0x7065656b6e627472ull /* "rtbnkeep" */
#define NKEEP_VERSION 1u
/* Broadcast requests sent at start, at most (the rest: on their first
 * packet, as before). */
#define NKEEP_ASK_MAX 1024u

struct nkeep_rec4 {
	uint32_t ip;  /* network order; 0: none */
	uint32_t pad;
	uint64_t mac; /* bytes 0-5 | DP_NEIGH_VALID; 0: none */
};

struct nkeep_rec6 {
	uint8_t ip[16];
	uint64_t mac;
};

struct nkeep_file {
	uint64_t magic;
	uint32_t version;
	uint32_t n4, n6; /* DP_NEIGH_SIZE, DP_NEIGH6_SIZE when written */
	uint32_t pad;
	struct nkeep_rec4 v4[DP_NEIGH_SIZE];
	struct nkeep_rec6 v6[DP_NEIGH6_SIZE];
};

static struct nkeep_file *nk;      /* NULL: no file */
static struct rtpb_addr *asked;    /* restored, to ask at start */
static uint32_t n_asked;

int
dp_nkeep_open(const char *path, char *err, size_t errsz)
{
	struct stat st;
	void *p;
	int fd, rc;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errsz, "open %s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) != 0 ||
	    ((size_t)st.st_size != sizeof(*nk) &&
	     (ftruncate(fd, 0) != 0 || ftruncate(fd, sizeof(*nk)) != 0))) {
		rc = -errno;
		snprintf(err, errsz, "size %s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	p = mmap(NULL, sizeof(*nk), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	rc = -errno;
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errsz, "mmap %s: %s", path, strerror(-rc));
		return rc;
	}
	nk = p;
	if (nk->magic != NKEEP_MAGIC || nk->version != NKEEP_VERSION ||
	    nk->n4 != DP_NEIGH_SIZE || nk->n6 != DP_NEIGH6_SIZE) {
		memset(nk, 0, sizeof(*nk));
		nk->version = NKEEP_VERSION;
		nk->n4 = DP_NEIGH_SIZE;
		nk->n6 = DP_NEIGH6_SIZE;
		nk->magic = NKEEP_MAGIC;
	}
	return 0;
}

/* One restored neighbour to ask for at start (bounded). */
static void
ask_later(const struct rtpb_addr *a)
{
	if (asked == NULL)
		asked = calloc(NKEEP_ASK_MAX, sizeof(*asked));
	if (asked != NULL && n_asked < NKEEP_ASK_MAX)
		asked[n_asked++] = *a;
}

/* A record's MAC (bytes 0-5 | DP_NEIGH_VALID) as a neighbour's: valid,
 * unicast (I/G bit of byte 0 clear) and not zero. */
static bool
nkeep_mac_ok(uint64_t mac)
{
	return (mac & DP_NEIGH_VALID) && !(mac & 0x01) && (mac & 0xffffffffffffull) != 0;
}

uint32_t
dp_nkeep_restore(struct dp_neigh *t, uint64_t now_ns, uint32_t *refused)
{
	struct nkeep_file *old;
	struct rtpb_addr a;
	uint32_t i, n = 0;

	*refused = 0;
	if (nk == NULL)
		return 0;
	/* t's seed is new: every neighbour goes to another slot */
	old = malloc(sizeof(*old));
	if (old == NULL)
		return 0;
	memcpy(old, nk, sizeof(*old));
	memset(nk->v4, 0, sizeof(nk->v4));
	memset(nk->v6, 0, sizeof(nk->v6));
	for (i = 0; i < DP_NEIGH_SIZE; i++) {
		if (old->v4[i].ip == 0 && old->v4[i].mac == 0)
			continue;
		/* what ARP would not have learnt (a file from another
		 * --addr, or damaged) is not restored */
		if (!nkeep_mac_ok(old->v4[i].mac) || !dp_addr_neigh_ok4(old->v4[i].ip)) {
			(*refused)++;
			continue;
		}
		rtpb_addr_set_v4(&a, old->v4[i].ip, 0);
		if (dp_neigh_restore(t, &a, old->v4[i].mac, now_ns) >= 0) {
			ask_later(&a);
			n++;
		} else {
			(*refused)++;   /* no free slot on its chain */
		}
	}
	memset(&a, 0, sizeof(a));
	a.family = RTPB_AF_INET6;
	for (i = 0; i < DP_NEIGH6_SIZE; i++) {
		if (old->v6[i].mac == 0)
			continue;
		if (!nkeep_mac_ok(old->v6[i].mac) || !dp_addr_neigh_ok6(old->v6[i].ip)) {
			(*refused)++;
			continue;
		}
		memcpy(a.ip, old->v6[i].ip, 16);
		if (dp_neigh_restore(t, &a, old->v6[i].mac, now_ns) >= 0) {
			ask_later(&a);
			n++;
		} else {
			(*refused)++;
		}
	}
	free(old);
	return n;
}

void
dp_nkeep_ask(dp_neigh_send_fn *send, void *arg)
{
	for (uint32_t i = 0; i < n_asked; i++)
		send(&asked[i], NULL, arg);
	free(asked);
	asked = NULL;
	n_asked = 0;
}

void
dp_nkeep_put4(uint32_t slot, uint32_t ip, uint64_t mac)
{
	if (nk == NULL || slot >= DP_NEIGH_SIZE)
		return;
	nk->v4[slot].mac = 0;
	nk->v4[slot].ip = ip;
	nk->v4[slot].mac = mac;
}

void
dp_nkeep_put6(uint32_t slot, const uint8_t *ip, uint64_t mac)
{
	if (nk == NULL || slot >= DP_NEIGH6_SIZE)
		return;
	nk->v6[slot].mac = 0;
	memcpy(nk->v6[slot].ip, ip, 16);
	nk->v6[slot].mac = mac;
}

void
dp_nkeep_close(void)
{
	if (nk != NULL)
		munmap(nk, sizeof(*nk));
	nk = NULL;
	free(asked);
	asked = NULL;
	n_asked = 0;
}
