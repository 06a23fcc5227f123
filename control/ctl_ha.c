/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_ha.c: active and standby (ctl_ha.h): keepalived's word in, the
 * peer's sessions restored, the dataplane told (ctl_dp_set_ha()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl_ha.h"
#include "ctl_log.h"

struct ctl_ha {
	struct ctl_ha_cfg cfg;
	bool active;
	struct ctl_ha_counters c;
};

struct ctl_ha *
ctl_ha_create(const struct ctl_ha_cfg *cfg)
{
	struct ctl_ha *ha = calloc(1, sizeof(*ha));

	if (ha == NULL)
		return NULL;
	ha->cfg = *cfg;
	ha->active = cfg->active;
	ctl_dp_set_ha(cfg->dp, ha->active ? RTPB_HA_ACTIVE : RTPB_HA_STANDBY);
	ctl_log(CTL_LOG_INFO, "HA: starting %s (relay addresses %s until keepalived "
		"says otherwise)", ha->active ? "active" : "standby",
		ha->active ? "owned" : "silent");
	return ha;
}

void
ctl_ha_destroy(struct ctl_ha *ha)
{
	free(ha);
}

int
ctl_ha_parse_role(const char *word, enum ctl_ha_role *out)
{
	if (strcasecmp(word, "master") == 0)
		*out = CTL_HA_MASTER;
	else if (strcasecmp(word, "backup") == 0)
		*out = CTL_HA_BACKUP;
	else if (strcasecmp(word, "fault") == 0 || strcasecmp(word, "stop") == 0)
		*out = CTL_HA_FAULT;
	else
		return -EINVAL;
	return 0;
}

/* Master: the peer's sessions in, their streams applied, then active. */
static void
ha_take_over(struct ctl_ha *ha, uint64_t now_ns, struct ctl_ha_restored *out)
{
	int rc;

	if (ha->cfg.restore != NULL) {
		ha->cfg.restore(ha->cfg.restore_arg, now_ns, out);
		if (out->rc < 0)
			ctl_log(CTL_LOG_ERR, "HA: restoring the peer's sessions: %s; "
				"taking over with %u of %u", strerror(-out->rc),
				out->restored, out->found);
		ha->c.restored += out->restored;
	}
	/* the phones' next packets must find their streams */
	rc = ctl_dp_sync(ha->cfg.dp, ha->cfg.sync_timeout_ns);
	if (rc != 0 && rc != -ENOTCONN)
		ctl_log(CTL_LOG_WARN, "HA: the dataplane has not applied every "
			"restored stream yet: %s", strerror(-rc));
	ctl_dp_set_ha(ha->cfg.dp, RTPB_HA_ACTIVE);
	ha->active = true;
	ha->c.takeovers++;
	ha->c.last_takeover_ns = out->elapsed_ns;
	ctl_log(CTL_LOG_INFO, "HA: master: active, relay addresses announced; "
		"%u sessions restored (%u found, %u dropped, %u already here) "
		"in %llu ms%s", out->restored, out->found, out->dropped, out->present,
		(unsigned long long)(out->elapsed_ns / 1000000ull),
		rc == -ENOTCONN ? "; no dataplane attached yet (it is told at attach)" : "");
}

int
ctl_ha_switch(struct ctl_ha *ha, enum ctl_ha_role role, uint64_t now_ns,
	      struct ctl_ha_restored *out)
{
	struct ctl_ha_restored none;

	if (out == NULL)
		out = &none;
	memset(out, 0, sizeof(*out));
	if (role == CTL_HA_MASTER) {
		if (ha->active) {
			/* keepalived repeats master (a reload, a fault that
			 * cleared): announce again, restore nothing */
			ctl_dp_set_ha(ha->cfg.dp, RTPB_HA_ACTIVE);
			ctl_log(CTL_LOG_INFO, "HA: master again: relay addresses "
				"announced again");
			return 0;
		}
		ha_take_over(ha, now_ns, out);
		return 0;
	}
	ctl_dp_set_ha(ha->cfg.dp, RTPB_HA_STANDBY);
	if (ha->active)
		ha->c.releases++;
	ha->active = false;
	ctl_log(CTL_LOG_INFO, "HA: %s: standby, relay addresses silent",
		role == CTL_HA_BACKUP ? "backup" : "fault");
	return 0;
}

bool
ctl_ha_active(const struct ctl_ha *ha)
{
	return ha->active;
}

bool
ctl_ha_may_notify(struct ctl_ha *ha)
{
	if (ha->active)
		return true;
	ha->c.quiet_timeouts++;
	return false;
}

void
ctl_ha_counters(const struct ctl_ha *ha, struct ctl_ha_counters *c)
{
	*c = ha->c;
}
