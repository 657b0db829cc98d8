/* corral/node_client.h: the node service for programs that are not
 * workers (tools, tests): connect to a running instance's bus, broadcast
 * and receive with the same guarantees as a worker (corral/node.h).
 *
 * Finding the bus: the coordinator binds ipc://<runtime dir>/bus-in and
 * /bus-out, where the runtime directory is the instance's own (mode
 * 0700): $XDG_RUNTIME_DIR/corral/<instance uuid>, else (root)
 * /run/corral/<uuid>, else /tmp/corral-<uid>/<uuid> (docs/tools.md).
 * endpoints.json in path.data names it ("runtime_dir") and both
 * endpoints, and the coordinator logs them at start ("bus at ipc://...
 * and ipc://..."). A client picks its own private topic (16 random hex
 * digits), so any number of clients can connect. A client has no event
 * loop: it delivers in corral_node_client_poll(). */
#ifndef CORRAL_NODE_CLIENT_H
#define CORRAL_NODE_CLIENT_H

#include "corral/node.h"
#include "corral/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corral_node_client corral_node_client_t;

typedef struct {
    uint64_t received;      /* broadcasts the coordinator sequenced */
    uint64_t dropped;       /* bad input on bus-in: the sum of the four below */
    uint64_t not_envelope;
    uint64_t wrong_body;
    uint64_t oversized;
    uint64_t invalid;       /* empty plugin or type, several frames */
    uint64_t gaps;          /* gaps this client saw (it resubscribed each time) */
} corral_bus_stats_t;

/* Connects to the bus in `runtime_dir` and waits up to timeout_ms for
 * the first snapshot. NULL (logged) on failure. */
CORRAL_EXPORT corral_node_client_t *corral_node_client_new(const char *runtime_dir,
                                                           int timeout_ms);
CORRAL_EXPORT void corral_node_client_destroy(corral_node_client_t **self_p);

/* A handle scoped to `plugin`, owned by the client. */
CORRAL_EXPORT corral_node_t *corral_node_client_plugin(corral_node_client_t *self,
                                                       const char *plugin);

/* Waits up to timeout_ms for messages and runs the handlers of those that
 * arrived. Returns the number of messages delivered (0 on timeout). */
CORRAL_EXPORT int corral_node_client_poll(corral_node_client_t *self, int timeout_ms);

/* The seq of the last message delivered. */
CORRAL_EXPORT uint64_t corral_node_client_last_seq(const corral_node_client_t *self);

/* Asks for a fresh snapshot, waits up to timeout_ms for it (delivering
 * what arrives meanwhile) and reads bus-in's counters from it. Returns 0,
 * or -1 on timeout. */
CORRAL_EXPORT int corral_node_client_stats(corral_node_client_t *self,
                                           corral_bus_stats_t *stats,
                                           int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
