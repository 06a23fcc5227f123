/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_log.h: the dataplane's log type (rtpb.dp). Used on the setup path and
 * in the main lcore's housekeeping, never per packet.
 */
#ifndef DP_LOG_H
#define DP_LOG_H

#include <rte_log.h>

extern int dp_logtype;
#define RTE_LOGTYPE_DP dp_logtype

/** Log one line at level l (ERR, WARNING, NOTICE, INFO, DEBUG). */
#define DP_LOG(l, fmt, ...) RTE_LOG(l, DP, fmt "\n", ##__VA_ARGS__)

#endif /* DP_LOG_H */
