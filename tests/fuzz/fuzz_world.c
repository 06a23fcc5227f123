/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_world.c: the fuzzers' checks on a control world (fuzz_world.h).
 */
#include "fuzz_world.h"
#include "fake_ctl_dp.h"
#include "fake_ctl_pf.h"

void
fuzz_world_check_fakes(void)
{
	FUZZ_CHECK(fake_dp_errors() == 0, "dataplane misused (%u)",
		   fake_dp_errors());
	FUZZ_CHECK(fake_pf_errors() == 0,
		   "prefilter misused (%u); its calls so far:\n%s",
		   fake_pf_errors(), fake_pf_log());
}

void
fuzz_world_close(struct ctl_world *w)
{
	if (!w->attached) {
		fake_dp_restart(CTL_WORLD_WORKERS);
		w->attached = true;
	}
	fake_dp_set_ring_full(false);
	fake_dp_set_push_budget(-1);
	fake_pf_fail_add(0, 0);
	ctl_sessions_flush(w->sess);
	ctl_world_close(w);
	fuzz_world_check_fakes();
	FUZZ_CHECK(fake_dp_ids_in_use() == 0, "%u stream ids left",
		   fake_dp_ids_in_use());
	FUZZ_CHECK(fake_dp_live_streams() == 0, "%u dataplane streams left",
		   fake_dp_live_streams());
	FUZZ_CHECK(ctl_ports_avail(w->ports) == ctl_ports_total(w->ports),
		   "%u IPv4 port pairs left",
		   ctl_ports_total(w->ports) - ctl_ports_avail(w->ports));
	FUZZ_CHECK(ctl_ports_avail(w->ports6) == ctl_ports_total(w->ports6),
		   "%u IPv6 port pairs left",
		   ctl_ports_total(w->ports6) - ctl_ports_avail(w->ports6));
	FUZZ_CHECK(fake_pf_nsocks() == 0, "%u prefilter entries left",
		   fake_pf_nsocks());
}
