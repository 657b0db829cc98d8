/* corral/worker.h: the worker runtime, for programs that link libcorral to
 * serve their own plugins (corral-worker is one).
 *
 * The runtime takes its identity and configuration from what the
 * coordinator hands it: the listening socket as fd 3 (LISTEN_FDS=1,
 * LISTEN_PID), CORRAL_WORKER_ID and either CORRAL_DESK (clustered: the
 * configuration arrives in the Welcome that answers Hello) or
 * CORRAL_CONFIG_FD (classic: a packed WorkerConfig on that fd). */
#ifndef CORRAL_WORKER_H
#define CORRAL_WORKER_H

#include "corral/plugin.h"

typedef struct corral_worker corral_worker_t;

/* A worker's exit status tells the coordinator whether to replace it
 * (DESIGN section 8, docs/supervision.md):
 *   0   stopped on request (SIGTERM or SIGINT), or after its work was done
 *   1   failed: a crash in all but name; replaced under on-failure
 *   12  out of memory (an allocation failed under node.workers.max_memory);
 *       replaced, reason `memory`
 *   65  a migration failed (EX_DATAERR): never replaced, the instance stops
 *   78  its configuration was refused (EX_CONFIG): never replaced, the
 *       instance stops
 *   127 it could not be started at all (exec failed, or the coordinator
 *       was already gone) */
#define CORRAL_WORKER_EXIT_FAILED 1
#define CORRAL_WORKER_EXIT_MEMORY 12
#define CORRAL_WORKER_EXIT_MIGRATION 65
#define CORRAL_WORKER_EXIT_CONFIG 78
#define CORRAL_WORKER_EXIT_NOT_STARTED 127

corral_worker_t *corral_worker_new(void);
void corral_worker_destroy(corral_worker_t **self_p);

/* Plugins are set up and started in the order they are added, stopped in
 * reverse. Add them before corral_worker_run(). */
int corral_worker_add_plugin(corral_worker_t *self, const corral_plugin_t *plugin);

/* Joins the instance, serves until told to stop (SIGTERM, SIGINT), stops
 * gracefully. Returns the process exit status: 0 after a graceful stop. */
int corral_worker_run(corral_worker_t *self);

#endif
