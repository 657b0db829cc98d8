/* view_cache.h: a worker's copy of the coordinator's cluster view,
 * fetched only when a route must answer from it.
 *
 * The view grows with the worker count, so it does not answer every
 * Report (that made the instance's idle work grow with the square of the
 * worker count): a Report gets a small ReportAck, and a route that answers
 * for the whole instance (/api/status, /api/stats) awaits the view. A copy
 * younger than the status interval is used as it is; an older one is
 * fetched again with a ViewRequest on desk, once for every request that
 * waits meanwhile. A fetch the coordinator does not answer in time leaves
 * the older copy. Internal to libcorral. */
#ifndef CORRAL_VIEW_CACHE_H
#define CORRAL_VIEW_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "corral/http.h"
#include "desk_client.h"
#include "envelope.h"

typedef struct corral_view_cache corral_view_cache_t;

corral_view_cache_t *corral_view_cache_new(zloop_t *loop, corral_desk_client_t *desk,
                                           int worker_id, uint64_t interval_ms);
/* Requests still waiting are left to the HTTP server, which ends them. */
void corral_view_cache_destroy(corral_view_cache_t **self_p);

/* In a route handler: true if `request` was suspended until the view is
 * fresh (the handler is then called again and must answer); false when
 * the handler can answer now, from corral_view_cache_view. */
bool corral_view_cache_await(corral_view_cache_t *self, corral_request_t *request);

/* The coordinator's view, the answer to a ViewRequest. */
void corral_view_cache_take(corral_view_cache_t *self, const Corral__V1__ClusterView *view);

/* The latest copy; NULL if none came yet. */
const Corral__V1__ClusterView *corral_view_cache_view(const corral_view_cache_t *self);

#endif
