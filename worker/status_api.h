/* status_api.h: the built-in plugins `status` (GET /api/status) and
 * `stats` (GET /api/stats), answered from the reporter's latest view of
 * the instance (DESIGN section 6). Built into the runtime: every worker
 * that links libcorral answers them, because monitoring reads them from
 * whichever worker the port hands the request to. */
#ifndef CORRAL_STATUS_API_H
#define CORRAL_STATUS_API_H

#include "corral/plugin.h"

extern const corral_plugin_t corral_status_plugin;
extern const corral_plugin_t corral_stats_plugin;

#endif
