/* corral/node.h: the node service (docs/architecture.md section 3), the C face of the
 * original design's NodeServiceSetup.
 *
 * A plugin gets a handle scoped to itself (corral_plugin_node()); a tool
 * gets one from corral_node_client_plugin() (corral/node_client.h).
 * Handlers registered through a handle only ever see messages broadcast by
 * the same plugin. Each handler sees every such message exactly once and
 * in the bus's global order, from the moment it is registered; a message
 * broadcast with `persist` (the last one per type) reaches handlers that
 * are registered after it was sent too. Handlers run on the worker's event
 * loop thread, never concurrently, and never inside corral_node_broadcast
 * or corral_node_on.
 *
 * Classic mode (node.enabled: false): is_enabled() is false, worker_id()
 * 1, is_main_worker() true, and broadcast() reaches no other process; with
 * send_to_self it still reaches this process's own handlers, and with
 * persist as well it still reaches handlers registered later. */
#ifndef CORRAL_NODE_H
#define CORRAL_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct corral_node corral_node_t;
typedef struct corral_subscription corral_subscription_t;

typedef struct {
    bool send_to_self;      /* also to the sender's own handlers; default false */
    bool persist;           /* also to handlers registered later; default false */
} corral_broadcast_opts_t;

typedef struct {
    const char *plugin;
    const char *type;
    const void *payload;    /* by convention JSON text; not NUL-terminated */
    size_t len;
    uint64_t seq;           /* the bus's global order */
    int sender_worker_id;   /* 0: a tool */
} corral_message_t;

typedef void (corral_message_fn)(const corral_message_t *message, void *arg);

bool corral_node_is_enabled(const corral_node_t *node);
int corral_node_worker_id(const corral_node_t *node);          /* 1 in classic mode */
bool corral_node_is_main_worker(const corral_node_t *node);    /* true in classic mode */
/* The instance UUID, and this worker's id "<uuid>-<worker id>". */
const char *corral_node_instance_uuid(const corral_node_t *node);
const char *corral_node_id(const corral_node_t *node);
/* This worker's own directory, <path.data>/workers/<worker name>/ (absolute,
 * ending with "/"), created by the coordinator before the worker started:
 * for plugins that write files and must not share them with the other
 * workers. It outlives the worker (a restarted worker of the same name
 * finds it again). NULL for a tool, or from a coordinator that does not
 * hand it over. */
const char *corral_node_worker_data_dir(const corral_node_t *node);

/* Calls `fn` each time this process gains or loses the main role (the
 * coordinator hands it over when the main worker exits; docs/architecture.md section
 * 8), from the loop. Returns 0, or -1 when out of memory. The role is
 * never held by two live processes at once. */
typedef void (corral_main_fn)(corral_node_t *node, bool main, void *arg);
int corral_node_on_main_change(corral_node_t *node, corral_main_fn *fn, void *arg);

/* Sends `payload` as a message of `type` from the handle's plugin. `opts`
 * may be NULL (both false). Returns 0, or -1 when the type is empty or the
 * message could not be queued (the bus's queue is full). */
int corral_node_broadcast(corral_node_t *node, const char *type, const void *payload,
                          size_t len, const corral_broadcast_opts_t *opts);

/* Calls `fn` for each message of `type` from the handle's plugin until
 * cancelled. NULL on failure. */
corral_subscription_t *corral_node_on(corral_node_t *node, const char *type,
                                      corral_message_fn fn, void *arg);
/* Stops delivery at once (also from inside a handler); sets *sub to NULL. */
void corral_subscription_cancel(corral_subscription_t **sub);

#endif
