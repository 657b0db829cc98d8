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

corral_worker_t *corral_worker_new(void);
void corral_worker_destroy(corral_worker_t **self_p);

/* Plugins are set up and started in the order they are added, stopped in
 * reverse. Add them before corral_worker_run(). */
int corral_worker_add_plugin(corral_worker_t *self, const corral_plugin_t *plugin);

/* Joins the instance, serves until told to stop (SIGTERM, SIGINT), stops
 * gracefully. Returns the process exit status: 0 after a graceful stop. */
int corral_worker_run(corral_worker_t *self);

#endif
