/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_pf.c: control's side of the prefilter (control/ctl_pf.c)
 * against the real program in the kernel. A second, independent load of
 * the BPF object with the same pin root plays the net_af_xdp PMD, so the
 * test checks what production relies on: two loaders share the pinned
 * maps, whatever their order. Needs root and bpffs on /sys/fs/bpf.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "ctl_pf.h"
#include "prefilter.skel.h"

static char pin_root[64];
static struct prefilter *pmd; /* the PMD's load of the program */

static struct rtpb_addr
addr4(const char *ip, uint16_t port)
{
	struct rtpb_addr a;

	memset(&a, 0, sizeof(a));
	a.family = RTPB_AF_INET;
	a.port = htons(port);
	inet_pton(AF_INET, ip, a.ip);
	return a;
}

/* Ethernet/IPv4/UDP with an RTP first byte, from src to dst. */
static uint32_t
frame(uint8_t *b, const struct rtpb_addr *src, const struct rtpb_addr *dst)
{
	memset(b, 0, 14 + 20 + 8 + 12);
	b[12] = 0x08;
	b[14] = 0x45;
	b[16] = 0;
	b[17] = 20 + 8 + 12;
	b[22] = 64;
	b[23] = 17;
	memcpy(b + 26, src->ip, 4);
	memcpy(b + 30, dst->ip, 4);
	memcpy(b + 34, &src->port, 2);
	memcpy(b + 36, &dst->port, 2);
	b[39] = 8 + 12;
	b[42] = 0x80;
	return 14 + 20 + 8 + 12;
}

/* Run one frame through the PMD's program; the verdict it counted. */
static int
verdict(struct ctl_pf *pf, const struct rtpb_addr *src, const struct rtpb_addr *dst)
{
	uint8_t in[128], out[128];
	uint64_t before[RTPB_PF_VERDICT__COUNT], after[RTPB_PF_VERDICT__COUNT];
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = in, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	int v, found = -1;

	topts.data_size_in = frame(in, src, dst);
	assert_int_equal(ctl_pf_stats(pf, before), 0);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(pmd->progs.pf_main), &topts), 0);
	assert_int_equal(ctl_pf_stats(pf, after), 0);
	for (v = 0; v < RTPB_PF_VERDICT__COUNT; v++) {
		if (after[v] == before[v])
			continue;
		assert_int_equal(after[v], before[v] + 1);
		assert_int_equal(found, -1);
		found = v;
	}
	return found;
}

static struct prefilter *
pmd_load(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
	struct prefilter *p = prefilter__open_opts(&opts);

	assert_non_null(p);
	assert_int_equal(prefilter__load(p), 0);
	return p;
}

static bool
keep_one(const struct rtpb_addr *local, void *arg)
{
	return ntohs(local->port) == *(const uint16_t *)arg;
}

static void
test_maps_shared_and_managed(void **state)
{
	const char *err = NULL;
	struct rtpb_addr relay = addr4("192.0.2.1", 0), s1 = addr4("192.0.2.1", 30000),
			 s2 = addr4("192.0.2.1", 30002), s3 = addr4("192.0.2.1", 30004),
			 phone = addr4("192.0.2.10", 4000), evil = addr4("203.0.113.66", 4000);
	struct ctl_pf *pf;
	char path[128];
	uint16_t keep = 30002;
	int i;

	(void)state;
	/* control starts first: it creates and pins the maps */
	pf = ctl_pf_open(pin_root, &err);
	assert_non_null(pf);
	snprintf(path, sizeof(path), "%s/pf_socks", pin_root);
	assert_int_equal(access(path, F_OK), 0);
	/* the PMD loads the program later: same maps */
	pmd = pmd_load();
	/* the relay addresses are exactly the last ones set: one a previous
	 * run set and this one does not goes back to the kernel */
	{
		struct rtpb_addr two[2] = {relay, addr4("192.0.2.2", 0)},
				 many[RTPB_PF_MAX_ADDRS + 1];
		struct rtpb_addr to_old = addr4("192.0.2.2", 30000);

		assert_int_equal(ctl_pf_set_addrs(pf, two, 2, 1, 3), 0);
		assert_int_equal(verdict(pf, &phone, &to_old), RTPB_PF_DROP_NO_SESSION);
		assert_int_equal(ctl_pf_set_addrs(pf, &relay, 1, 1, 3), 0);
		assert_int_equal(verdict(pf, &phone, &to_old), RTPB_PF_PASS);
		memset(many, 0, sizeof(many));
		assert_int_equal(ctl_pf_set_addrs(pf, many, RTPB_PF_MAX_ADDRS + 1, 1, 3),
				 -E2BIG);
	}
	assert_int_equal(verdict(pf, &phone, &s1), RTPB_PF_DROP_NO_SESSION);
	assert_int_equal(ctl_pf_sock_add(pf, &s1, NULL), 0);
	assert_int_equal(verdict(pf, &phone, &s1), RTPB_PF_REDIRECT);
	assert_int_equal(verdict(pf, &evil, &s1), RTPB_PF_REDIRECT);
	/* latched: other sources are budgeted (depth 3, 1 packet/s) */
	assert_int_equal(ctl_pf_sock_latch(pf, &s1, &phone, 0), 0);
	assert_int_equal(verdict(pf, &phone, &s1), RTPB_PF_REDIRECT);
	for (i = 0; i < 3; i++)
		assert_int_equal(verdict(pf, &evil, &s1), RTPB_PF_REDIRECT_CANDIDATE);
	assert_int_equal(verdict(pf, &evil, &s1), RTPB_PF_DROP_BUDGET);
	/* a handover: the new peer passes, the old one is budgeted */
	assert_int_equal(ctl_pf_sock_latch(pf, &s1, &evil, 0), 0);
	assert_int_equal(verdict(pf, &evil, &s1), RTPB_PF_REDIRECT);
	assert_int_equal(verdict(pf, &phone, &s1), RTPB_PF_DROP_BUDGET);
	assert_int_equal(ctl_pf_sock_latch(pf, &s3, &phone, 0), -ENOENT);
	/* 'D': gone */
	assert_int_equal(ctl_pf_sock_del(pf, &s1), 0);
	assert_int_equal(ctl_pf_sock_del(pf, &s1), -ENOENT);
	assert_int_equal(verdict(pf, &evil, &s1), RTPB_PF_DROP_NO_SESSION);

	/* control restarts: the pins keep the entries; it reconciles them
	 * with the sessions it knows (only 30002 here) */
	assert_int_equal(ctl_pf_sock_add(pf, &s1, NULL), 0);
	assert_int_equal(ctl_pf_sock_add(pf, &s2, &phone), 0);
	assert_int_equal(ctl_pf_sock_add(pf, &s3, NULL), 0);
	ctl_pf_close(pf, false);
	pf = ctl_pf_open(pin_root, &err);
	assert_non_null(pf);
	assert_int_equal(verdict(pf, &phone, &s3), RTPB_PF_REDIRECT);
	/* the new control keeps s2's stream (found in the dataplane): its
	 * latched peer stays, evil is still budgeted; a kept socket with no
	 * entry gets one without a peer */
	assert_int_equal(ctl_pf_sock_keep(pf, &s2), 0);
	assert_int_equal(verdict(pf, &phone, &s2), RTPB_PF_REDIRECT);
	for (i = 0; i < 3; i++)
		assert_int_equal(verdict(pf, &evil, &s2), RTPB_PF_REDIRECT_CANDIDATE);
	assert_int_equal(verdict(pf, &evil, &s2), RTPB_PF_DROP_BUDGET);
	{
		struct rtpb_addr s4 = addr4("192.0.2.1", 30006);

		assert_int_equal(ctl_pf_sock_keep(pf, &s4), 0);
		assert_int_equal(verdict(pf, &evil, &s4), RTPB_PF_REDIRECT);
		assert_int_equal(ctl_pf_sock_del(pf, &s4), 0);
	}
	assert_int_equal(ctl_pf_reconcile(pf, keep_one, &keep), 2);
	assert_int_equal(verdict(pf, &phone, &s1), RTPB_PF_DROP_NO_SESSION);
	assert_int_equal(verdict(pf, &phone, &s3), RTPB_PF_DROP_NO_SESSION);
	assert_int_equal(verdict(pf, &phone, &s2), RTPB_PF_REDIRECT);
	assert_string_equal(ctl_pf_verdict_name(RTPB_PF_DROP_BUDGET), "drop_budget");

	/* clean stop: nothing left in bpffs */
	ctl_pf_close(pf, true);
	assert_int_equal(access(path, F_OK), -1);
	prefilter__destroy(pmd);
	pmd = NULL;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/rtpb_test_pf_%d", (int)getpid());
	if (mkdir(pin_root, 0700) != 0) {
		fprintf(stderr, "mkdir %s: %s (is bpffs mounted?)\n", pin_root, strerror(errno));
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char path[128];
	const char *maps[] = {"pf_addrs", "pf_socks", "pf_cfg", "pf_stats"};

	(void)state;
	if (pmd != NULL)
		prefilter__destroy(pmd);
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_root, maps[i]);
		unlink(path);
	}
	rmdir(pin_root);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_maps_shared_and_managed, setup, teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_ctl_pf needs root; skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
