/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_addrs: the relay address table (control/ctl_addrs.c), what
 * rtpproxy's -l, -6 and -A make of their arguments (src/rtpp_bindargs.c):
 * labels, advertised addresses, bridge mode and its -A pair, the
 * defaults per family, and the errors, each naming what is wrong.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_addrs.h"

struct res {
	struct ctl_addrs t;
	char err[320];
	char warn[320];
	int rc;
};

/* Build from "-l"/"-6" words: each arg prefixed "4:" or "6:". */
static struct res *
build(const char *adv, const char *a0, const char *a1, const char *a2,
      const char *a3)
{
	static struct res r;
	const char *in[4] = { a0, a1, a2, a3 };
	struct ctl_addr_arg args[4];
	size_t n = 0;

	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 4 && in[i] != NULL; i++)
		args[n++] = (struct ctl_addr_arg){ .s = in[i] + 2,
						   .v6 = in[i][0] == '6' };
	r.rc = ctl_addrs_build(&r.t, args, n, adv, true, r.err, sizeof(r.err),
			       r.warn, sizeof(r.warn));
	return &r;
}

static void
test_plain_and_labels(void **st)
{
	struct res *r;
	struct rtpb_addr a;

	(void)st;
	r = build(NULL, "4:192.0.2.1", "6:2001:db8::1", NULL, NULL);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->t.n, 2);
	assert_false(r->t.bridge);
	assert_int_equal(ctl_addrs_default(&r->t, RTPB_AF_INET), 0);
	assert_int_equal(ctl_addrs_default(&r->t, RTPB_AF_INET6), 1);
	assert_string_equal(ctl_addrs_reply_text(&r->t, 1), "2001:db8::1");
	/* -6 in brackets */
	r = build(NULL, "6:[2001:db8::2]", NULL, NULL, NULL);
	assert_int_equal(r->rc, 0);
	assert_int_equal(ctl_addrs_default(&r->t, RTPB_AF_INET), -1);
	/* labels and advertised addresses; the unlabelled one is default */
	r = build(NULL, "4:pub@192.0.2.2=203.0.113.2", "4:192.0.2.1",
		  "4:lab@192.0.2.3", NULL);
	assert_int_equal(r->rc, 0);
	assert_int_equal(ctl_addrs_default(&r->t, RTPB_AF_INET), 1);
	assert_int_equal(ctl_addrs_find_label(&r->t, "pub", 3), 0);
	assert_int_equal(ctl_addrs_find_label(&r->t, "lab", 3), 2);
	assert_int_equal(ctl_addrs_find_label(&r->t, "la", 2), -1);
	assert_string_equal(ctl_addrs_reply_text(&r->t, 0), "203.0.113.2");
	assert_string_equal(ctl_addrs_reply_text(&r->t, 2), "192.0.2.3");
	assert_int_equal(ctl_addrs_parse_ip("192.0.2.3", 9, RTPB_AF_INET, &a),
			 0);
	assert_int_equal(ctl_addrs_find_ip(&r->t, &a), 2);
	/* -A outside bridge mode: ignored, as rtpproxy, with a warning */
	r = build("203.0.113.9", "4:192.0.2.1", NULL, NULL, NULL);
	assert_int_equal(r->rc, 0);
	assert_non_null(strstr(r->warn, "bridge mode only"));
	assert_string_equal(ctl_addrs_reply_text(&r->t, 0), "192.0.2.1");
}

static void
test_bridge(void **st)
{
	struct res *r;

	(void)st;
	r = build("10.0.0.9/203.0.113.9", "4:10.0.0.1/198.51.100.1", NULL, NULL,
		  NULL);
	assert_int_equal(r->rc, 0);
	assert_true(r->t.bridge);
	assert_int_equal(r->t.side[CTL_SIDE_INT], 0);
	assert_int_equal(r->t.side[CTL_SIDE_EXT], 1);
	assert_string_equal(r->t.a[1].text, "198.51.100.1");
	assert_string_equal(ctl_addrs_reply_text(&r->t, 0), "10.0.0.9");
	assert_string_equal(ctl_addrs_reply_text(&r->t, 1), "203.0.113.9");
	/* "/EXT": the internal side is the other family's first address */
	r = build(NULL, "4:/198.51.100.1", "6:2001:db8::1", NULL, NULL);
	assert_int_equal(r->rc, 0);
	assert_int_equal(ctl_addrs_family(&r->t, r->t.side[CTL_SIDE_INT]),
			 RTPB_AF_INET6);
	assert_int_equal(ctl_addrs_family(&r->t, r->t.side[CTL_SIDE_EXT]),
			 RTPB_AF_INET);
	/* a further address needs a label */
	r = build(NULL, "4:10.0.0.1/198.51.100.1", "4:x@10.0.0.2", NULL, NULL);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->t.n, 3);
	r = build(NULL, "4:10.0.0.1/198.51.100.1", "4:10.0.0.2", NULL, NULL);
	assert_int_equal(r->rc, -EINVAL);
	assert_non_null(strstr(r->err, "address label is missing"));
}

/* Each error names what is wrong (rtpproxy's messages where it has one). */
static void
test_errors(void **st)
{
	static const struct {
		const char *adv, *a0, *a1;
		const char *msg;
	} cases[] = {
		{ NULL, "4:*", NULL, "wildcard" },
		{ NULL, "4:0.0.0.0", NULL, "wildcard" },
		{ NULL, "6:::", NULL, "wildcard" },
		{ NULL, "6:ff02::1", NULL, "not a unicast" },
		{ NULL, "4:host.invalid", NULL, "not a numeric" },
		{ NULL, "4:192.0.2.1", "4:192.0.2.2",
		  "address label is missing" },
		{ NULL, "4:192.0.2.1", "4:x@192.0.2.1", "given twice" },
		{ NULL, "4:a@192.0.2.1", "4:a@192.0.2.2",
		  "label 'a' given twice" },
		{ NULL, "4:192.0.2.1", "4:x@192.0.2.2/192.0.2.3",
		  "only the first IPv4" },
		{ NULL, "4:10.0.0.1/1.2.3.4", "6:2001:db8::1/2001:db8::2",
		  "external interface" },
		{ NULL, "4:10.0.0.1/1.2.3.4", "6:2001:db8::1",
		  "internal interface" },
		{ NULL, "4:10.0.0.1/", NULL, "incomplete configuration" },
		{ NULL, "4:lbl@10.0.0.1/1.2.3.4", NULL, "cannot have a label" },
		{ NULL, "4:10.0.0.1/1.2.3.4=5.6.7.8", NULL, "advertised" },
		{ "10.9.9.9", "4:10.0.0.1/1.2.3.4", NULL, "two advertised" },
		{ NULL, "4:{x}@10.0.0.1", NULL, "invalid label" },
	};

	(void)st;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct res *r = build(cases[i].adv, cases[i].a0, cases[i].a1,
				      NULL, NULL);

		if (r->rc != -EINVAL || strstr(r->err, cases[i].msg) == NULL)
			fail_msg("case %zu (%s %s): rc %d, '%s'", i,
				 cases[i].a0, cases[i].a1 ? cases[i].a1 : "",
				 r->rc, r->err);
	}
	assert_int_equal(build(NULL, NULL, NULL, NULL, NULL)->rc, -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_labels),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
