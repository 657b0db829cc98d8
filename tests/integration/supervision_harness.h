/* supervision_harness.h: what test_supervision and test_memory share: an
 * instance with the fault routes (node.debug_routes) and fast status
 * reports, the fault routes aimed at one worker, and waits on the output
 * and on a worker's entry in /api/stats. */
#ifndef CORRAL_SUPERVISION_HARNESS_H
#define CORRAL_SUPERVISION_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "harness.h"

#define START_MS 20000
#define WAIT_MS 30000

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1        /* ASan cannot start under an RLIMIT_AS */
#else
#define UNDER_ASAN 0
#endif

/* Writes the configuration: the debug routes, status every 100 ms,
 * shutdown_timeout 10s, and `node_lines` inside `node:`. */
void write_config(instance_t *instance, const char *node_lines);
/* Awaits READY=1, or fails the test with the output. */
void await_ready(instance_t *instance);
/* A started, ready instance: `workers` workers (0: `node_extra` says),
 * and `node_extra` lines (may be NULL). */
instance_t *start_with(int workers, const char *node_extra);

/* Between two looks at a condition that has no event of its own. */
void pause_ms(long ms);
void await_output(instance_t *instance, const char *text);
/* Occurrences of `text` in the output so far. */
int count_output(instance_t *instance, const char *text);
/* Awaits the nth occurrence of `text` (the output only grows). */
void await_nth_output(instance_t *instance, const char *text, int n);

/* The pid `worker` ("worker-2") reports on /api/node. */
pid_t pid_of(instance_t *instance, const char *worker);
/* POSTs a fault route to `worker`; the connection may die with it. */
void fault(instance_t *instance, const char *worker, const char *route);

/* /api/stats's entry for `worker` in `workers`, once `check` holds for it:
 * a new reference (decref it); fails the test after WAIT_MS. */
typedef bool (entry_check_fn)(json_t *entry, const void *arg);
json_t *await_worker_entry(instance_t *instance, const char *worker, entry_check_fn *check,
                           const void *arg);
/* An entry_check_fn: restarted at least (intptr_t) `restarts` times, ready
 * and reporting. */
bool restarted_and_ready(json_t *entry, const void *restarts);
/* The instance stops by itself with a non-zero status. */
void assert_exits_nonzero(instance_t *instance);

#endif
