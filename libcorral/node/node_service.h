/* node_service.h: the process's node service: the per-plugin handles of
 * corral/node.h, their subscriptions, the local copy of persisted
 * messages that late handlers start from, and the bus connection
 * (clustered) or the loopback that stands in for it (classic mode).
 * Internal to libcorral. */
#ifndef CORRAL_NODE_SERVICE_H
#define CORRAL_NODE_SERVICE_H

#include <czmq.h>

#include "bus_client.h"
#include "corral/node.h"

typedef struct corral_node_service corral_node_service_t;

typedef struct {
    int worker_id;              /* 0 for a tool */
    bool main;
    bool clustered;
    const char *instance_uuid;
    const char *bus_in;         /* clustered only */
    const char *bus_out;
    const char *private_id;     /* 16 characters: our topic is "S/" + this */
    const char *data_dir;       /* the worker's own directory; NULL for a tool */
} corral_node_params_t;

/* `loop` runs the bus reader and deferred deliveries; NULL for a tool,
 * which calls corral_node_service_poll. NULL (logged) on failure. */
corral_node_service_t *corral_node_service_new(zloop_t *loop, const corral_node_params_t *params);
void corral_node_service_destroy(corral_node_service_t **self_p);

/* The handle scoped to `plugin` (made on first use, owned by the service). */
corral_node_t *corral_node_service_plugin(corral_node_service_t *self, const char *plugin);
corral_node_service_t *corral_node_service_of(const corral_node_t *node);

/* Without a loop: delivers what is due, waiting up to timeout_ms for the
 * bus. Returns the number of messages delivered. */
int corral_node_service_poll(corral_node_service_t *self, int timeout_ms);

/* The coordinator moved the main role to (or away from) this process:
 * corral_node_is_main_worker() changes and the callbacks learn it. */
void corral_node_service_set_main(corral_node_service_t *self, bool main);

/* The bus connection; NULL in classic mode. */
corral_bus_client_t *corral_node_service_bus(corral_node_service_t *self);

/* `fn` runs once the bus has delivered its first snapshot: from then on
 * every broadcast reaches this process (before it, live ones are
 * dropped). At once when it has, or without a bus. One at a time. */
typedef void (corral_node_synced_fn)(void *arg);
void corral_node_service_when_synced(corral_node_service_t *self, corral_node_synced_fn *fn,
                                     void *arg);

#endif
