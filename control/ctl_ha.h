/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_ha.h: active and standby relays (issue 21 item 3, DESIGN.md §7,
 * docs/RELIABILITY.md "Active and standby").
 *
 * Two relays share the relay addresses. Who owns them is decided by
 * keepalived's VRRP, not here: its notify scripts (deploy/ha/rtpb-ha-notify)
 * run "rtpb-ctl HA master|backup|fault" against this control, which then:
 *  - master: restores the peer relay's sessions from Redis
 *    (ctl_redis_restore() through the restore callback: call-ids, tags,
 *    relay ports, signalled and latched peers, so the phones need no
 *    re-INVITE), waits until the dataplane has applied their streams,
 *    then makes the dataplane active: it answers ARP/NDP for the relay
 *    addresses and announces them (gratuitous ARP, unsolicited NA,
 *    dataplane/dp_ha.h). A failed or partial restore is logged and the
 *    takeover goes on: new calls work, whatever was lost.
 *  - backup, fault: the dataplane goes silent for the addresses. The
 *    sessions stay (they are in Redis under this relay's id for the peer
 *    to take; deleting them here could race with its restore).
 * Becoming master while already active only announces again.
 *
 * Why a command on control's socket and not a signal: the reply tells
 * the notify script that the takeover is done (and how many sessions
 * came back), commands are ordered (two signals of one kind may merge
 * into one), and control already serves its sockets; the rtpproxy
 * protocol has no such command, so "HA" is rtpbypass's own and is
 * answered E0 (unknown, as rtpproxy does) unless --ha is given.
 *
 * Control's thread only. Time is a parameter (CLOCK_MONOTONIC ns).
 */
#ifndef CTL_HA_H
#define CTL_HA_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_dp.h"

/** What keepalived says (its notify script's STATE argument). */
enum ctl_ha_role {
	CTL_HA_MASTER = 0, /**< own the addresses: restore, then active */
	CTL_HA_BACKUP = 1, /**< the peer owns them: silent */
	CTL_HA_FAULT = 2,  /**< this node is unfit: silent */
};

/** What a restore did (ctl_redis_restore()'s figures). */
struct ctl_ha_restored {
	int rc;              /**< >= 0 sessions restored, or -errno */
	uint32_t found;      /**< records in the peer's index */
	uint32_t restored;   /**< sessions now in the table */
	uint32_t dropped;    /**< unreadable or not restorable */
	uint32_t present;    /**< already live here: skipped */
	uint64_t elapsed_ns; /**< time the restore took */
};

/**
 * Restore the peer relay's sessions (at master). Fills out.
 * @return out->rc.
 */
typedef int(ctl_ha_restore_fn)(void *arg, uint64_t now_ns,
			       struct ctl_ha_restored *out);

/** Configuration. */
struct ctl_ha_cfg {
	struct ctl_dp *dp;       /**< the dataplane (not owned) */
	bool active;             /**< --ha active (true) or standby */
	ctl_ha_restore_fn *restore; /**< NULL: nothing to restore (no --redis) */
	void *restore_arg;
	uint64_t sync_timeout_ns; /**< bound on waiting for the dataplane
				       to apply the restored streams */
};

struct ctl_ha;

/**
 * Create, and give the dataplane the start state (ctl_dp_set_ha(): now
 * if attached, else at attach). A start as active restores nothing
 * (control's own journal has its sessions).
 * @return NULL on ENOMEM.
 */
struct ctl_ha *ctl_ha_create(const struct ctl_ha_cfg *cfg);

/** Free (NULL is fine). */
void ctl_ha_destroy(struct ctl_ha *ha);

/**
 * Parse a role word as keepalived's notify scripts pass it: "master",
 * "backup", "fault" (any case; "stop" counts as fault: keepalived's
 * notify_stop).
 * @return 0 and *out, or -EINVAL.
 */
int ctl_ha_parse_role(const char *word, enum ctl_ha_role *out);

/**
 * Switch to role (see the file comment). Synchronous: a master's restore
 * and the wait for the dataplane block control's loop (bounded by the
 * restore's timeout and sync_timeout_ns), once per takeover.
 * @param out what the restore did (may be NULL); rc 0 and zeros when
 *            nothing was restored.
 * @return 0 (the switch is done even when the restore failed: out->rc says).
 */
int ctl_ha_switch(struct ctl_ha *ha, enum ctl_ha_role role, uint64_t now_ns,
		  struct ctl_ha_restored *out);

/** Whether this relay owns the relay addresses now. */
bool ctl_ha_active(const struct ctl_ha *ha);

/**
 * Whether a session that timed out here may send its timeout
 * notification (rtpproxy -n) to the proxy: only while active. A standby
 * receives no commands and relays nothing (the VRRP address and the
 * relay addresses are the active peer's), so every session it holds is
 * a stale copy of a call that, if alive, lives on the active relay: an
 * old master come back as backup restores its calls from its journal,
 * and their timeouts must not make the proxy end calls the new master
 * carries (the proxy sends BYE on a notification). Counts the ones it
 * refuses (ctl_ha_counters.quiet_timeouts).
 */
bool ctl_ha_may_notify(struct ctl_ha *ha);

/** Counters: times it became active, and restored sessions in all. */
struct ctl_ha_counters {
	uint64_t takeovers;  /**< switches from standby to active */
	uint64_t releases;   /**< switches from active to standby */
	uint64_t restored;   /**< sessions restored, all takeovers */
	uint64_t quiet_timeouts; /**< timeouts not notified: standby */
	uint64_t last_takeover_ns; /**< time of the last one's restore + sync */
};

/** Fill c. */
void ctl_ha_counters(const struct ctl_ha *ha, struct ctl_ha_counters *c);

#endif /* CTL_HA_H */
