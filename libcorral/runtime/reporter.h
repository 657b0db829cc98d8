/* reporter.h: the worker's heartbeat. Every node.status.interval, from the
 * worker's own loop, it builds a Report (core and plugin statuses, process
 * figures, event-loop delay, request metrics, log counters) and, when
 * clustered, sends it on desk; the coordinator answers with a small
 * ReportAck. The cluster view that /api/status and /api/stats answer from
 * is fetched only when they need it (view_cache.h). In classic mode the
 * view is built locally from the same Report. Internal to libcorral. */
#ifndef CORRAL_REPORTER_H
#define CORRAL_REPORTER_H

#include "corral/plugin.h"
#include "corral/status.h"
#include "desk_client.h"
#include "envelope.h"
#include "http_server.h"
#include "plugin_host.h"

typedef struct corral_reporter corral_reporter_t;

typedef struct {
    zloop_t *loop;
    const Corral__V1__WorkerConfig *config;
    corral_http_server_t *http;
    corral_plugin_host_t *plugins;
    corral_desk_client_t *desk;         /* NULL in classic mode */
} corral_reporter_setup_t;

corral_reporter_t *corral_reporter_new(const corral_reporter_setup_t *setup);
void corral_reporter_destroy(corral_reporter_t **self_p);

/* Reports now, then every interval. Returns 0 or -1. */
int corral_reporter_start(corral_reporter_t *self);

/* A level changed: report in the loop's next turn instead of at the end
 * of the interval (the next one counts from then), so that every worker
 * shows it within one interval. Once started. */
void corral_reporter_report_soon(corral_reporter_t *self);

/* A core service's status (the runtime's own: "http"). `name` and
 * `summary` must outlive the reporter (string literals). */
void corral_reporter_set_core(corral_reporter_t *self, const char *name,
                              corral_status_level_t level, const char *summary);

/* The coordinator's answers on desk: to a Report, and to a ViewRequest. */
void corral_reporter_take_ack(corral_reporter_t *self, const Corral__V1__ReportAck *ack);
void corral_reporter_take_view(corral_reporter_t *self, const Corral__V1__ClusterView *view);

/* For a route that answers from the view: true if `request` was suspended
 * until a view at most one status interval old is here (the route is
 * called again, then answers); false: answer now. Owns the request's
 * state. Always false in classic mode. */
bool corral_reporter_await_view(corral_reporter_t *self, corral_request_t *request);

/* The latest view of the instance: the coordinator's, or until it has
 * answered (and in classic mode) one built from this worker's own Report. */
const Corral__V1__ClusterView *corral_reporter_view(const corral_reporter_t *self);

bool corral_reporter_clustered(const corral_reporter_t *self);
/* Clustered: ms since the coordinator last answered a Report or a
 * ViewRequest (since start if it never did). 0 in classic mode. */
uint64_t corral_reporter_view_age_ms(const corral_reporter_t *self);

#endif
