/* status_api.h: the built-in plugins `status` (GET /api/status) and
 * `stats` (GET /api/stats), answered from the reporter's latest view of
 * the instance (docs/architecture.md section 6). Built into the runtime: every worker
 * that links libcorral answers them, because monitoring reads them from
 * whichever worker the port hands the request to. */
#ifndef CORRAL_STATUS_API_H
#define CORRAL_STATUS_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "corral/plugin.h"
#include "corral/v1/corral.pb-c.h"

#define CORRAL_STATUS_API_PRODUCT "corral"

extern const corral_plugin_t corral_status_plugin;     /* status_plugin.c */
extern const corral_plugin_t corral_stats_plugin;      /* stats_plugin.c */
extern const corral_plugin_t corral_metrics_plugin;    /* metrics_plugin.c: /api/metrics */

/* The documents, from a view: corralctl builds the same shapes from the
 * view desk gives it. view_age_ms: how old the view is (the coordinator
 * is unavailable past the heartbeat timeout); *overall_level: the
 * overall level (503 from unavailable). Decref the result. */
json_t *corral_status_json(const Corral__V1__ClusterView *view, bool clustered,
                           uint64_t view_age_ms, int *overall_level);
json_t *corral_stats_json(const Corral__V1__ClusterView *view, bool clustered);

/* Shared by the two: `unix_ms` as ISO 8601 UTC with milliseconds (for
 * last_updated), and the start phase that sets the plugin available. */
json_t *corral_status_api_time(uint64_t unix_ms);
int corral_status_api_serving(corral_plugin_handle_t *handle);

#endif
