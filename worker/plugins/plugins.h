/* plugins.h: the plugins built into corral-worker. */
#ifndef CORRAL_PLUGINS_H
#define CORRAL_PLUGINS_H

#include "corral/plugin.h"

extern const corral_plugin_t corral_demo_plugin;
extern const corral_plugin_t corral_migrations_plugin;
extern const corral_plugin_t corral_tasks_plugin;
/* node.debug_routes: GET /api/debug/node and the probes it drives */
extern const corral_plugin_t corral_debug_plugin;
extern const corral_plugin_t corral_probe_a_plugin;
extern const corral_plugin_t corral_probe_b_plugin;
/* node.debug_routes: routes that crash, hang, exhaust or exit a worker */
extern const corral_plugin_t corral_faults_plugin;
extern const corral_plugin_t corral_log_records_plugin;

/* A non-negative integer query parameter (`fallback` when absent); -1 if
 * malformed or above max. */
long corral_query_number(corral_request_t *request, const char *key, long fallback, long max);

#endif
