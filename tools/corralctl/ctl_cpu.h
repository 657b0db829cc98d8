/* ctl_cpu.h: the CPU use of local processes between two looks, from
 * /proc/PID/stat, for `corralctl top`. */
#ifndef CORRALCTL_CPU_H
#define CORRALCTL_CPU_H

#include <sys/types.h>

typedef struct ctl_cpu ctl_cpu_t;

ctl_cpu_t *ctl_cpu_new(void);
void ctl_cpu_destroy(ctl_cpu_t **self_p);

/* Percent of one CPU that `pid` used since the previous call for it
 * (200.0: two whole CPUs); -1 on the first call, or when /proc cannot
 * say (a remote instance, a process gone). */
double ctl_cpu_percent(ctl_cpu_t *self, pid_t pid);

#endif
