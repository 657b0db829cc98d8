/* cpu_quota.h: how many CPUs this process may really use, for
 * `node.workers.count: auto`: the CPU affinity mask, capped by the cgroup
 * v2 (cpu.max) or v1 (cpu.cfs_quota_us / cpu.cfs_period_us) CPU quota of
 * this process's cgroup and its ancestors. A fractional quota rounds down
 * (a worker more than the quota would only be throttled); never below 1. */
#ifndef CORRAL_CPU_QUOTA_H
#define CORRAL_CPU_QUOTA_H

/* The number of CPUs in this process's affinity mask (at least 1). */
int corral_cpu_affinity_count(void);

/* The cgroup CPU quota in CPUs (fractional), or 0 when there is none.
 * `root` prefixes every path read ("/" on a real system; a fake tree in
 * tests): ROOT/proc/self/cgroup, ROOT/proc/self/mountinfo and the cgroup
 * files under the mount points that mountinfo names. */
double corral_cpu_quota(const char *root);

/* min(affinity, floor(quota)), at least 1. */
int corral_cpu_auto_count(int affinity, double quota);

#endif
