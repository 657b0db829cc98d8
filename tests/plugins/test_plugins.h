/* test_plugins.h: the plugins of corral-test-worker, the worker the tests
 * and the benchmarks run: routes that burn CPU, wait, block, crash, log
 * in bulk or drive the node service at a client's request, which no
 * shipped worker may serve. They reach libcorral's internals
 * (plugin_host.h, log.h) for the test switches of the configuration. */
#ifndef CORRAL_TEST_PLUGINS_H
#define CORRAL_TEST_PLUGINS_H

#include "corral/plugin.h"

/* /api/cpu, /api/wait, /api/realistic, /api/node; with server.test_routes
 * /api/block and POST /api/demo/status; the start delays */
extern const corral_plugin_t corral_demo_plugin;
/* node.debug_routes: the sample task */
extern const corral_plugin_t corral_tasks_plugin;
/* node.debug_routes: GET /api/debug/node and the probes it drives */
extern const corral_plugin_t corral_debug_plugin;
extern const corral_plugin_t corral_probe_a_plugin;
extern const corral_plugin_t corral_probe_b_plugin;
/* node.debug_routes: routes that crash, hang, exhaust or exit a worker */
extern const corral_plugin_t corral_faults_plugin;
/* server.test_routes: GET /api/log, records in bulk */
extern const corral_plugin_t corral_log_records_plugin;

/* A non-negative integer query parameter (`fallback` when absent); -1 if
 * malformed or above max. */
long corral_query_number(corral_request_t *request, const char *key, long fallback, long max);

#endif
