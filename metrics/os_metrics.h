/* os_metrics.h: the machine's figures for the `os` object of /api/stats:
 * platform, load averages, memory, uptime, CPUs. The cgroup CPU quota is
 * the caller's (the coordinator computes it). */
#ifndef CORRAL_OS_METRICS_H
#define CORRAL_OS_METRICS_H

#include "corral/v1/corral.pb-c.h"

/* Fills `os` (initialised by the caller). Strings point into static
 * storage owned by this module. */
void corral_os_metrics_sample(Corral__V1__OsMetrics *os, double cpu_quota);

#endif
