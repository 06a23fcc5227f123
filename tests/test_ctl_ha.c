/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl_ha.c: control's HA state (control/ctl_ha.c) against the fake
 * dataplane (fake_ctl_dp.c, which records ctl_dp_set_ha()): the start
 * state given to the dataplane, a takeover (master) that restores the
 * peer's sessions once and then makes the dataplane active and announce,
 * a repeated master that only announces, backup and fault that silence
 * it, a failed restore that still takes over, and keepalived's words.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_dp.h"
#include "ctl_ha.h"
#include "fake_ctl_dp.h"

/* A fake restore: counts its calls, returns what it is told. */
static unsigned int restores;
static int restore_rc;

static int
fake_restore(void *arg, uint64_t now_ns, struct ctl_ha_restored *out)
{
	(void)arg;
	(void)now_ns;
	restores++;
	out->rc = restore_rc;
	out->found = 5;
	out->restored = restore_rc >= 0 ? (uint32_t)restore_rc : 2;
	out->elapsed_ns = 3000000;
	return out->rc;
}

static struct ctl_ha *
ha_new(bool active)
{
	struct ctl_ha_cfg cfg = {
		.dp = ctl_dp_create("t"), .active = active,
		.restore = fake_restore, .sync_timeout_ns = 1000000,
	};

	fake_dp_reset(1, 64, 0x010200c0);
	restores = 0;
	restore_rc = 5;
	return ctl_ha_create(&cfg);
}

static void
test_takeover(void **state)
{
	struct ctl_ha *ha = ha_new(false);
	struct ctl_ha_restored r;
	struct ctl_ha_counters c;
	uint32_t ann;

	(void)state;
	assert_non_null(ha);
	/* the start state reaches the dataplane, silent */
	assert_int_equal(fake_dp_ha_state(), RTPB_HA_STANDBY);
	assert_false(ctl_ha_active(ha));
	/* a standby's sessions are stale copies: their timeouts notify no
	 * proxy (an old master come back as backup) */
	assert_false(ctl_ha_may_notify(ha));
	ann = fake_dp_ha_announces();
	/* backup while standby: still silent, nothing restored */
	assert_int_equal(ctl_ha_switch(ha, CTL_HA_BACKUP, 1, &r), 0);
	assert_int_equal(restores, 0);
	assert_int_equal(fake_dp_ha_state(), RTPB_HA_STANDBY);
	/* master: restore once, then active (one announcement) */
	assert_int_equal(ctl_ha_switch(ha, CTL_HA_MASTER, 2, &r), 0);
	assert_int_equal(restores, 1);
	assert_int_equal(r.restored, 5);
	assert_int_equal(r.found, 5);
	assert_true(ctl_ha_active(ha));
	assert_true(ctl_ha_may_notify(ha));
	assert_int_equal(fake_dp_ha_state(), RTPB_HA_ACTIVE);
	assert_int_equal(fake_dp_ha_announces(), ann + 1);
	/* master again (keepalived repeats it): announce, no restore */
	assert_int_equal(ctl_ha_switch(ha, CTL_HA_MASTER, 3, &r), 0);
	assert_int_equal(restores, 1);
	assert_int_equal(r.restored, 0);
	assert_int_equal(fake_dp_ha_announces(), ann + 2);
	/* fault: silent; master again: a new takeover */
	assert_int_equal(ctl_ha_switch(ha, CTL_HA_FAULT, 4, NULL), 0);
	assert_false(ctl_ha_active(ha));
	assert_false(ctl_ha_may_notify(ha));
	assert_int_equal(fake_dp_ha_state(), RTPB_HA_STANDBY);
	assert_int_equal(ctl_ha_switch(ha, CTL_HA_MASTER, 5, NULL), 0);
	assert_int_equal(restores, 2);
	ctl_ha_counters(ha, &c);
	assert_int_equal(c.takeovers, 2);
	assert_int_equal(c.releases, 1);
	assert_int_equal(c.restored, 10);
	assert_int_equal(c.quiet_timeouts, 2);
	ctl_ha_destroy(ha);
}

/* Redis down at takeover: the addresses are taken all the same (new
 * calls work), the error is in the figures. */
static void
test_takeover_restore_fails(void **state)
{
	struct ctl_ha *ha = ha_new(false);
	struct ctl_ha_restored r;

	(void)state;
	restore_rc = -ECONNREFUSED;
	assert_int_equal(ctl_ha_switch(ha, CTL_HA_MASTER, 1, &r), 0);
	assert_int_equal(r.rc, -ECONNREFUSED);
	assert_true(ctl_ha_active(ha));
	assert_int_equal(fake_dp_ha_state(), RTPB_HA_ACTIVE);
	ctl_ha_destroy(ha);
}

/* Started active (--ha active): active at once, nothing restored (its
 * own journal has its sessions); backup silences it. */
static void
test_start_active(void **state)
{
	struct ctl_ha *ha = ha_new(true);

	(void)state;
	assert_true(ctl_ha_active(ha));
	assert_int_equal(fake_dp_ha_state(), RTPB_HA_ACTIVE);
	assert_int_equal(restores, 0);
	assert_int_equal(ctl_ha_switch(ha, CTL_HA_BACKUP, 1, NULL), 0);
	assert_int_equal(fake_dp_ha_state(), RTPB_HA_STANDBY);
	ctl_ha_destroy(ha);
}

static void
test_parse_role(void **state)
{
	static const struct {
		const char *w;
		int rc;
		enum ctl_ha_role role;
	} cases[] = {
		{"master", 0, CTL_HA_MASTER}, {"MASTER", 0, CTL_HA_MASTER},
		{"backup", 0, CTL_HA_BACKUP}, {"fault", 0, CTL_HA_FAULT},
		{"stop", 0, CTL_HA_FAULT}, {"", -EINVAL, 0}, {"masterx", -EINVAL, 0},
		{"active", -EINVAL, 0},
	};
	enum ctl_ha_role role;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		role = (enum ctl_ha_role)99;
		assert_int_equal(ctl_ha_parse_role(cases[i].w, &role), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(role, cases[i].role);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_takeover),
		cmocka_unit_test(test_takeover_restore_fails),
		cmocka_unit_test(test_start_active),
		cmocka_unit_test(test_parse_role),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
