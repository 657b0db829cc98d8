/* operator.h: the operator's surface of the coordinator (issue 12): the
 * tap (tap.c), the tool side of desk (desk_tools.c), node.remote
 * (remote.c) and endpoints.json (endpoints_file.c), set up together once
 * the coordinator's own sockets are bound, and torn down together. The
 * coordinator keeps only hooks: its view, its configuration and its
 * commands as callbacks, and the tap's events where its slots change. */
#ifndef CORRAL_OPERATOR_H
#define CORRAL_OPERATOR_H

#include <czmq.h>

#include "bus.h"
#include "cluster_view.h"
#include "config.h"
#include "desk_tools.h"
#include "log_collector.h"
#include "tap.h"

typedef struct corral_operator corral_operator_t;

typedef struct {
    zloop_t *loop;
    const corral_config_t *config;
    const char *uuid;
    const char *runtime_dir;
    const char *desk_endpoint;
    int port;                           /* the bound HTTP port */
    corral_bus_t *bus;
    corral_log_collector_t *logs;       /* NULL: records stay on stderr */
    corral_cluster_view_t *view;        /* gets the counters of bus-in and the tools */
    corral_desk_tools_setup_t tools;    /* the coordinator's callbacks; uuid set here */
    bool hold_endpoints;                /* endpoints.json later (a successor, upgrade.h) */
} corral_operator_setup_t;

/* Binds tap (and node.remote), writes endpoints.json; NULL (logged) on
 * failure. */
corral_operator_t *corral_operator_new(const corral_operator_setup_t *setup);
/* Removes endpoints.json, closes the sockets. */
void corral_operator_destroy(corral_operator_t **self_p);

corral_tap_t *corral_operator_tap(const corral_operator_t *self);
corral_desk_tools_t *corral_operator_tools(const corral_operator_t *self);
/* node.remote's desk endpoint, bound at the start; NULL when not exposed. */
const char *corral_operator_remote_desk(const corral_operator_t *self);

/* Writes endpoints.json now, if it was held: NULL, or the error (free
 * it). */
char *corral_operator_write_endpoints(corral_operator_t *self);

/* Before each cluster view: the tools' and the tap's counters now. */
void corral_operator_count(corral_operator_t *self);

#endif
