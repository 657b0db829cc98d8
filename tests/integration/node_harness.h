/* node_harness.h: helpers for the node service's integration tests: the
 * instance's runtime directory (where the bus is), the debug route, and a
 * port learnt from the coordinator's output before the instance is ready. */
#ifndef CORRAL_TEST_NODE_HARNESS_H
#define CORRAL_TEST_NODE_HARNESS_H

#include <jansson.h>
#include <stdbool.h>

#include "harness.h"

/* Writes <dir>/corral.yml: port 0, path.data ./data, the PID file, level
 * debug, node.debug_routes true, `workers` workers (0: classic mode),
 * and `node_extra` (lines indented by 2, inside node:; may be NULL). */
void instance_write_node_config(instance_t *instance, int workers, const char *node_extra);

/* SIGTERM to the coordinator; true if it exits 0 within timeout_ms. The
 * instance is destroyed either way. */
bool instance_stop_cleanly(instance_t **instance, int timeout_ms);

/* The coordinator's runtime directory: the one corral/<uuid> under the
 * instance's directory (the harness sets XDG_RUNTIME_DIR to it). Static
 * storage; aborts if there is none. */
const char *instance_runtime_dir(instance_t *instance);

/* GET /api/debug/node?<query>, asserting 200; returns the "replies" array
 * sorted by worker id (decref the result). */
json_t *debug_node(instance_t *instance, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* The reply of `worker` in a debug_node result (borrowed). */
json_t *reply_of(json_t *replies, int worker);

/* In a "received" reply's result: the handler number `index` (in the order
 * registered) on (plugin, type); NULL if none. Borrowed. */
json_t *handler_of(json_t *result, const char *plugin, const char *type, int index);

/* Awaits "listening on http://host:PORT" in corral's output; returns PORT. */
int instance_wait_listening(instance_t *instance, int timeout_ms);


#endif
