/* ctl_views.h: what corralctl prints from a cluster view: the workers
 * table (also JSON) and the human forms of status and stats. Plain text,
 * no colour, so it reads the same in a pipe. */
#ifndef CORRALCTL_VIEWS_H
#define CORRALCTL_VIEWS_H

#include <jansson.h>
#include <stdio.h>

#include "corral/v1/corral.pb-c.h"
#include "ctl_cpu.h"

/* [{name, worker_id, pid, state, main, uptime_ms, restarts, rss_bytes,
 *   requests_per_s, event_loop_delay_ms, last_report_ms_ago, reporting}] */
json_t *ctl_workers_json(const Corral__V1__ClusterView *view);
/* The workers table; with `cpu` (may be NULL), a CPU% column: each
 * process's use since the previous table. */
void ctl_print_workers(FILE *out, const Corral__V1__ClusterView *view, ctl_cpu_t *cpu);

/* The documents of /api/status and /api/stats, read by a person. */
void ctl_print_status(FILE *out, json_t *status);
void ctl_print_stats(FILE *out, json_t *stats);

#endif
