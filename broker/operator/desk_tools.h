/* desk_tools.h: the tool side of `desk` (docs/architecture.md section 2.1, docs/tools.md).
 * A tool (corralctl, any ZeroMQ client) says who it is with a ToolHello,
 * never a worker's Hello, and then asks: the queries status, stats,
 * workers and config, the commands reload, restart WORKER, stop,
 * reopen-logs and level LOGGER LEVEL. Every request gets a ToolReply;
 * one that is not understood gets one with an error, never silence. The
 * coordinator runs the commands (a callback); this file owns the
 * protocol, the tools it knows and the counters. */
#ifndef CORRAL_DESK_TOOLS_H
#define CORRAL_DESK_TOOLS_H

#include <czmq.h>
#include <stdbool.h>

#include "envelope.h"

typedef struct corral_desk_tools corral_desk_tools_t;

typedef struct {
    const char *uuid;
    /* the view now, for status, stats and workers */
    const Corral__V1__ClusterView *(*view)(void *arg);
    /* the effective configuration as JSON text (free it) */
    char *(*config_json)(void *arg);
    /* runs a command whose arguments were checked; returns 0 and sets
     * *message (what was done), or -1 and sets *message (why not); free it */
    int (*command)(void *arg, const char *command, char **args, size_t argc, char **message);
    void *arg;
} corral_desk_tools_setup_t;

corral_desk_tools_t *corral_desk_tools_new(const corral_desk_tools_setup_t *setup);

/* A command that ends later (reload): called from setup.command, it takes
 * the request's reply, which corral_desk_tools_finish sends (once) with
 * the outcome; setup.command's own return and message are then ignored. */
typedef struct corral_desk_tools_pending corral_desk_tools_pending_t;
corral_desk_tools_pending_t *corral_desk_tools_defer(corral_desk_tools_t *self);
void corral_desk_tools_finish(corral_desk_tools_pending_t **pending_p, bool ok,
                              const char *message);
void corral_desk_tools_destroy(corral_desk_tools_t **self_p);

/* What a tool that says Hello on a local (remote false) or remote desk
 * learns: where its tap and bus-out are. The strings must outlive self. */
void corral_desk_tools_set_endpoints(corral_desk_tools_t *self, bool remote, const char *tap,
                                     const char *bus_out);

/* True if `envelope` is a tool's (ToolHello, ToolRequest); it is answered
 * on `socket`. */
bool corral_desk_tools_handle(corral_desk_tools_t *self, zsock_t *socket, zframe_t *routing_id,
                              const corral_envelope_t *envelope, bool remote);

/* Answers `routing_id` with an error (input desk does not take). */
void corral_desk_tools_refuse(corral_desk_tools_t *self, zsock_t *socket, zframe_t *routing_id,
                              const char *why);

void corral_desk_tools_counters(const corral_desk_tools_t *self,
                                Corral__V1__ToolCounters *counters);

#endif
