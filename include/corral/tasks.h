/* corral/tasks.h: the task manager (the RFC's 6.2.2). Any plugin registers
 * named tasks with a schedule; every worker registers the same tasks, and
 * only the main worker runs them, so a task runs once per period in the
 * whole instance, not once per worker. When the main role moves to another
 * worker, the tasks move with it: the old main stops running them and the
 * new one starts.
 *
 * Each run is logged (logger `tasks`, debug; a failure warns) and
 * broadcast as `task-run` by the registering plugin, with the payload
 * {"task": NAME, "run": N, "ok": true|false}, so the plugin's handlers on
 * every worker (and tools) see it. A task runs on the worker's event loop:
 * it must not block it; long work belongs in a background worker. */
#ifndef CORRAL_TASKS_H
#define CORRAL_TASKS_H

#include <stdint.h>

#include "corral/plugin.h"
#include "corral/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One run of the task `name`. Returns 0, or -1 when the run failed. */
typedef int (corral_task_fn)(corral_plugin_handle_t *handle, const char *name, void *arg);

/* Registers `fn` to run every `interval_ms` (at least 1) on the main worker,
 * the first time one interval after the worker started (or took the main
 * role). During setup or start. Returns 0, or -1 when the name is empty or
 * taken for this plugin, or memory ran out. */
CORRAL_EXPORT int corral_task_register(corral_plugin_handle_t *handle, const char *name,
                                       uint64_t interval_ms, corral_task_fn *fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif
