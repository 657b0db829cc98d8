/* oom_kills.h: whether a worker that died of SIGKILL was killed by the
 * kernel's OOM killer, so that its exit reads `memory`, not `crashed`.
 *
 * The kernel counts OOM kills per cgroup: `oom_kill` in memory.events
 * (cgroup v2) or in memory.oom_control (cgroup v1's memory controller,
 * Linux 4.13 and later). Workers live in the coordinator's cgroup, so
 * each kill counted there since the last look is one worker's SIGKILL
 * explained (a kill -9 by someone else moves no counter). Without a
 * cgroup counter, the kernel's own record is read (/dev/kmsg, "Killed
 * process PID"), where the coordinator may read it; without either, the
 * exit stays `crashed` with its signal. */
#ifndef CORRAL_OOM_KILLS_H
#define CORRAL_OOM_KILLS_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct corral_oom_kills corral_oom_kills_t;

/* Finds the counter of the cgroup named in `proc_cgroup` (NULL:
 * /proc/self/cgroup) under `cgroup_root` (NULL: /sys/fs/cgroup) and reads
 * it once; `kernel_log` (NULL: /dev/kmsg) is the kernel's record, read
 * only when there is no counter. NULL only when out of memory. */
corral_oom_kills_t *corral_oom_kills_new(const char *proc_cgroup, const char *cgroup_root,
                                         const char *kernel_log);
void corral_oom_kills_destroy(corral_oom_kills_t **self_p);

/* True if `pid`, reaped with wait status `status`, was the OOM killer's. */
bool corral_oom_kills_took(corral_oom_kills_t *self, pid_t pid, int status);

/* The counter file read, or NULL (then only the kernel's record). */
const char *corral_oom_kills_counter(const corral_oom_kills_t *self);

#endif
