/* process_metrics.h: this process's own figures for the `process` object
 * of /api/stats: heap (mallinfo2), resident set size, uptime, pid. The
 * event-loop delay is measured by the loop that owns it and filled in by
 * the caller. */
#ifndef CORRAL_PROCESS_METRICS_H
#define CORRAL_PROCESS_METRICS_H

#include <stdint.h>
#include <sys/types.h>

#include "corral/v1/corral.pb-c.h"

/* Remembers when this process started (call early; later calls do nothing). */
void corral_process_metrics_start(void);

/* Fills `metrics` (initialised by the caller) except event_loop_delay_ms. */
void corral_process_metrics_sample(Corral__V1__ProcessMetrics *metrics);

/* Another process's resident set and CPU time (user + system, seconds
 * since it started), from /proc/PID/stat: 0, or -1 if it is gone. */
int corral_process_metrics_of(pid_t pid, uint64_t *rss_bytes, double *cpu_seconds);

/* The wall clock in milliseconds (czmq's zclock_mono() is the monotonic
 * one). */
uint64_t corral_unix_ms(void);

#endif
