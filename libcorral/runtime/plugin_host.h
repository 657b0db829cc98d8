/* plugin_host.h: the worker's plugins and the handles they get: setup,
 * start and stop in order, and routes registered on the HTTP server.
 * Internal to libcorral. */
#ifndef CORRAL_PLUGIN_HOST_H
#define CORRAL_PLUGIN_HOST_H

#include "corral/plugin.h"
#include "corral/status.h"
#include "http_server.h"
#include "node_service.h"

typedef struct corral_plugin_host corral_plugin_host_t;

corral_plugin_host_t *corral_plugin_host_new(zloop_t *loop, const corral_identity_t *identity);
void corral_plugin_host_destroy(corral_plugin_host_t **self_p);

/* The worker's configuration and the node service the handles'
 * corral_plugin_node() come from; both outlive the host. */
void corral_plugin_host_join(corral_plugin_host_t *self, const Corral__V1__WorkerConfig *config,
                             corral_node_service_t *service);
/* The main role moved to (true) or away from this worker: the tasks
 * (corral/tasks.h) follow it. */
void corral_plugin_host_set_main(corral_plugin_host_t *self, bool main);
/* For the built-in plugins: the WorkerConfig the worker was handed. */
const Corral__V1__WorkerConfig *corral_plugin_worker_config(const corral_plugin_handle_t *handle);
/* Called once when the last hold is released (corral_plugin_release). */
void corral_plugin_host_on_released(corral_plugin_host_t *self, void (*fn)(void *arg),
                                    void *arg);
bool corral_plugin_host_held(const corral_plugin_host_t *self);

int corral_plugin_host_add(corral_plugin_host_t *self, const corral_plugin_t *plugin);

/* Each returns 0, or -1 when a plugin failed (logged). */
int corral_plugin_host_setup(corral_plugin_host_t *self, corral_http_server_t *http);
int corral_plugin_host_start(corral_plugin_host_t *self);
void corral_plugin_host_stop(corral_plugin_host_t *self);
/* The exit status after a failed setup or start (corral_plugin_fail_with), or 1. */
int corral_plugin_host_exit_code(const corral_plugin_host_t *self);

/* The plugins' statuses, for status reports: `index` < count. */
size_t corral_plugin_host_count(const corral_plugin_host_t *self);
void corral_plugin_host_status(const corral_plugin_host_t *self, size_t index,
                               const char **name, corral_status_level_t *level,
                               const char **summary);

/* The status reporter, for the built-in status and stats plugins. */
struct corral_reporter;
void corral_plugin_host_set_reporter(corral_plugin_host_t *self,
                                     struct corral_reporter *reporter);
struct corral_reporter *corral_plugin_reporter(const corral_plugin_handle_t *handle);

#endif
