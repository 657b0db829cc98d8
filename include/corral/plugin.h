/* corral/plugin.h: what a plugin is and what its handle gives it.
 *
 * A plugin has a name, a setup phase (register routes and handlers), a
 * start phase (the worker serves HTTP from then on) and a stop phase
 * (graceful stop, before the HTTP server closes). Every call gets the
 * plugin's own handle, scoped to that plugin. */
#ifndef CORRAL_PLUGIN_H
#define CORRAL_PLUGIN_H

#include <stdbool.h>
#include <sys/types.h>

#include "corral/export.h"
#include "corral/http.h"
#include "corral/node.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corral_plugin_handle corral_plugin_handle_t;
/* czmq's event loop (corral_plugin_loop), declared as <czmq.h> declares it,
 * so that only a plugin that uses the loop needs that header. */
typedef struct _zloop_t zloop_t;

typedef struct {
    const char *name;
    /* Returns 0, or -1 to stop the worker (it logs why). */
    int (*setup)(corral_plugin_handle_t *handle);
    int (*start)(corral_plugin_handle_t *handle);
    void (*stop)(corral_plugin_handle_t *handle);
} corral_plugin_t;

/* Who this process is in its instance. */
typedef struct {
    int worker_id;              /* 1..N; 1 in classic mode */
    const char *worker_name;    /* "worker-1" */
    pid_t pid;
    bool main;                  /* the elected main worker; true in classic mode */
    bool clustered;             /* false in classic mode */
    int worker_count;
} corral_identity_t;

CORRAL_EXPORT const char *corral_plugin_name(const corral_plugin_handle_t *handle);
CORRAL_EXPORT const corral_identity_t *
corral_plugin_identity(const corral_plugin_handle_t *handle);
/* The instance's data directory (`path.data`, as the coordinator resolved
 * it), shared by every worker: for data the workers share, such as the
 * migrations plugin's store (corral_node_worker_data_dir() is this
 * worker's own). NULL before setup. */
CORRAL_EXPORT const char *corral_plugin_data_path(const corral_plugin_handle_t *handle);
/* The worker's event loop, for timers and readers of the plugin's own. */
CORRAL_EXPORT zloop_t *corral_plugin_loop(corral_plugin_handle_t *handle);
/* The plugin's private state. */
CORRAL_EXPORT void *corral_plugin_state(const corral_plugin_handle_t *handle);
CORRAL_EXPORT void corral_plugin_set_state(corral_plugin_handle_t *handle, void *state);

/* Registers `fn` for requests whose method and path match exactly (the
 * query string is not part of the path). Only during setup. Returns 0, or
 * -1 if the route is taken. */
CORRAL_EXPORT int corral_plugin_route(corral_plugin_handle_t *handle, const char *method,
                                      const char *path, corral_route_fn *fn, void *arg);

/* The plugin's node service handle (corral/node.h), scoped to the plugin:
 * its handlers only see what this plugin broadcasts. Valid from setup on. */
CORRAL_EXPORT corral_node_t *corral_plugin_node(corral_plugin_handle_t *handle);

/* An app route: like corral_plugin_route, but while any plugin holds the
 * worker (below) it answers 503 with the holder's reason instead. */
CORRAL_EXPORT int corral_plugin_app_route(corral_plugin_handle_t *handle, const char *method,
                                          const char *path, corral_route_fn *fn, void *arg);

/* Holds the worker back until released: app routes answer 503 ("reason")
 * and the worker does not report ready to the coordinator. The migrations
 * plugin holds every worker until migration-complete. */
CORRAL_EXPORT void corral_plugin_hold(corral_plugin_handle_t *handle, const char *reason);
CORRAL_EXPORT void corral_plugin_release(corral_plugin_handle_t *handle);

/* Before a setup or start that fails: the worker exits with `exit_code`
 * (one of CORRAL_WORKER_EXIT_* in corral/worker.h) instead of 1, which
 * tells the coordinator whether a replacement can do better. */
CORRAL_EXPORT void corral_plugin_fail_with(corral_plugin_handle_t *handle, int exit_code);

#ifdef __cplusplus
}
#endif

#endif
