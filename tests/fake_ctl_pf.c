/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fake_ctl_pf.c: an in-memory ctl_pf.h for control's unit tests.
 *
 * Holds the pf_socks entries in a GLib table keyed by the 20-byte
 * struct rtpb_addr of the relay socket, logs every sock call in order,
 * and counts misuse (adding a socket twice, latching or deleting one
 * that has no entry) in fake_pf_errors(). The verdict counters are
 * whatever the test sets. No BPF, no libbpf.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_ctl_pf.h"

struct ctl_pf {
	GHashTable *socks; /* struct rtpb_addr * -> struct fake_pf_sock * */
	GString *log;
	uint32_t errors;
	int fail_add_after; /* successful adds before the failure */
	int fail_add_err;   /* 0: none armed */
	int fail_stats;
	uint64_t stats[RTPB_PF_VERDICT__COUNT];
	struct rtpb_addr addrs[RTPB_PF_MAX_ADDRS];
	uint32_t naddrs;
	uint32_t pps, burst;
};

static struct ctl_pf *fake;

static guint
addr_hash(gconstpointer p)
{
	return rtpb_addr_hash(p);
}

static gboolean
addr_equal(gconstpointer a, gconstpointer b)
{
	return rtpb_addr_eq(a, b);
}

struct ctl_pf *
fake_pf_handle(void)
{
	if (fake == NULL) {
		fake = calloc(1, sizeof(*fake));
		fake->socks = g_hash_table_new_full(addr_hash, addr_equal, NULL, g_free);
		fake->log = g_string_new(NULL);
	}
	return fake;
}

void
fake_pf_reset(void)
{
	struct ctl_pf *pf = fake_pf_handle();

	g_hash_table_remove_all(pf->socks);
	g_string_truncate(pf->log, 0);
	pf->errors = 0;
	pf->fail_add_err = 0;
	pf->fail_stats = 0;
	memset(pf->stats, 0, sizeof(pf->stats));
	pf->naddrs = 0;
	pf->pps = pf->burst = 0;
}

/* The socket key: family, ip and port only (reserved byte zero). */
static struct rtpb_addr
sock_key(const struct rtpb_addr *a)
{
	struct rtpb_addr k;

	memset(&k, 0, sizeof(k));
	k.family = a->family;
	k.port = a->port;
	memcpy(k.ip, a->ip, sizeof(k.ip));
	return k;
}

static void
log_addr(GString *s, const struct rtpb_addr *a)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a == NULL || a->family == RTPB_AF_NONE) {
		g_string_append(s, "none");
		return;
	}
	inet_ntop(a->family == RTPB_AF_INET6 ? AF_INET6 : AF_INET, a->ip, ip,
		  sizeof(ip));
	g_string_append_printf(s, a->family == RTPB_AF_INET6 ? "[%s]:%u" : "%s:%u",
			       ip, ntohs(a->port));
}

static void
set_peer(struct fake_pf_sock *e, const struct rtpb_addr *peer)
{
	memset(&e->peer, 0, sizeof(e->peer));
	e->latched = peer != NULL && peer->family != RTPB_AF_NONE;
	if (e->latched)
		e->peer = sock_key(peer);
}

uint32_t
fake_pf_nsocks(void)
{
	return g_hash_table_size(fake_pf_handle()->socks);
}

const struct fake_pf_sock *
fake_pf_sock(const struct rtpb_addr *local)
{
	struct rtpb_addr k = sock_key(local);

	return g_hash_table_lookup(fake_pf_handle()->socks, &k);
}

void
fake_pf_insert(const struct rtpb_addr *local, const struct rtpb_addr *peer)
{
	struct fake_pf_sock *e = g_new0(struct fake_pf_sock, 1);

	e->local = sock_key(local);
	set_peer(e, peer);
	g_hash_table_replace(fake_pf_handle()->socks, &e->local, e);
}

static gint
str_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
fake_pf_dump(void)
{
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
	GString *out = g_string_new(NULL);
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, fake_pf_handle()->socks);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct fake_pf_sock *e = v;
		GString *l = g_string_new("pf ");

		log_addr(l, &e->local);
		if (e->latched) {
			g_string_append(l, " latched ");
			log_addr(l, &e->peer);
		}
		g_ptr_array_add(lines, g_string_free(l, FALSE));
	}
	g_ptr_array_sort(lines, str_cmp);
	for (guint i = 0; i < lines->len; i++)
		g_string_append_printf(out, "%s\n", (char *)lines->pdata[i]);
	if (lines->len == 0)
		g_string_append(out, "pf none\n");
	g_ptr_array_unref(lines);
	return g_string_free(out, FALSE);
}

const char *fake_pf_log(void) { return fake_pf_handle()->log->str; }
void fake_pf_clear_log(void) { g_string_truncate(fake_pf_handle()->log, 0); }
uint32_t fake_pf_errors(void) { return fake_pf_handle()->errors; }
void fake_pf_fail_stats(int err) { fake_pf_handle()->fail_stats = err; }
uint32_t fake_pf_naddrs(void) { return fake_pf_handle()->naddrs; }
const struct rtpb_addr *fake_pf_addr(uint32_t i) { return &fake_pf_handle()->addrs[i]; }

void
fake_pf_fail_add(int after, int err)
{
	fake_pf_handle()->fail_add_after = after;
	fake_pf_handle()->fail_add_err = err;
}

void
fake_pf_set_stat(uint32_t v, uint64_t pkts)
{
	if (v < RTPB_PF_VERDICT__COUNT)
		fake_pf_handle()->stats[v] = pkts;
}

void
fake_pf_budget(uint32_t *pps, uint32_t *burst)
{
	*pps = fake_pf_handle()->pps;
	*burst = fake_pf_handle()->burst;
}

/* --- the ctl_pf.h API --- */

struct ctl_pf *
ctl_pf_open(const char *pin_root, const char **err)
{
	(void)pin_root;
	(void)err;
	return fake_pf_handle();
}

void
ctl_pf_close(struct ctl_pf *pf, bool unpin)
{
	(void)pf; /* the fake lives for the whole test process */
	(void)unpin;
}

int
ctl_pf_set_addrs(struct ctl_pf *pf, const struct rtpb_addr *addrs, uint32_t n,
		 uint32_t budget_pps, uint32_t budget_burst)
{
	if (n > RTPB_PF_MAX_ADDRS)
		return -E2BIG;
	memcpy(pf->addrs, addrs, n * sizeof(*addrs));
	pf->naddrs = n;
	pf->pps = budget_pps ? budget_pps : RTPB_PF_BUDGET_PPS;
	pf->burst = budget_burst ? budget_burst : RTPB_PF_BUDGET_BURST;
	return 0;
}

int
ctl_pf_sock_add(struct ctl_pf *pf, const struct rtpb_addr *local,
		const struct rtpb_addr *peer)
{
	g_string_append(pf->log, "add ");
	log_addr(pf->log, local);
	g_string_append_c(pf->log, '\n');
	if (pf->fail_add_err != 0 && pf->fail_add_after-- == 0) {
		int err = pf->fail_add_err;

		pf->fail_add_err = 0;
		return err;
	}
	if (fake_pf_sock(local) != NULL)
		pf->errors++; /* control adds a socket once */
	fake_pf_insert(local, peer);
	return 0;
}

int
ctl_pf_sock_keep(struct ctl_pf *pf, const struct rtpb_addr *local)
{
	g_string_append(pf->log, "keep ");
	log_addr(pf->log, local);
	g_string_append_c(pf->log, '\n');
	if (fake_pf_sock(local) == NULL)
		fake_pf_insert(local, NULL);
	return 0;
}

int
ctl_pf_sock_latch(struct ctl_pf *pf, const struct rtpb_addr *local,
		  const struct rtpb_addr *peer, uint32_t ssrc)
{
	struct rtpb_addr k = sock_key(local);
	struct fake_pf_sock *e = g_hash_table_lookup(pf->socks, &k);

	(void)ssrc;
	g_string_append(pf->log, "latch ");
	log_addr(pf->log, local);
	g_string_append_c(pf->log, ' ');
	log_addr(pf->log, peer);
	g_string_append_c(pf->log, '\n');
	if (e == NULL) {
		pf->errors++;
		return -ENOENT;
	}
	set_peer(e, peer);
	return 0;
}

int
ctl_pf_sock_del(struct ctl_pf *pf, const struct rtpb_addr *local)
{
	struct rtpb_addr k = sock_key(local);

	g_string_append(pf->log, "del ");
	log_addr(pf->log, local);
	g_string_append_c(pf->log, '\n');
	if (!g_hash_table_remove(pf->socks, &k)) {
		pf->errors++;
		return -ENOENT;
	}
	return 0;
}

uint32_t
ctl_pf_reconcile(struct ctl_pf *pf,
		 bool (*keep)(const struct rtpb_addr *local, void *arg), void *arg)
{
	GHashTableIter it;
	gpointer v;
	uint32_t n = 0;

	g_hash_table_iter_init(&it, pf->socks);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct fake_pf_sock *e = v;

		if (!keep(&e->local, arg)) {
			g_hash_table_iter_remove(&it);
			n++;
		}
	}
	return n;
}

int
ctl_pf_stats(struct ctl_pf *pf, uint64_t out[RTPB_PF_VERDICT__COUNT])
{
	if (pf->fail_stats != 0)
		return pf->fail_stats;
	memcpy(out, pf->stats, sizeof(pf->stats));
	return 0;
}

const char *
ctl_pf_verdict_name(uint32_t v)
{
	return rtpb_pf_verdict_text(v)->name;
}
