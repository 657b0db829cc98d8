/* corral/status.h: a plugin's health, as /api/status shows it.
 *
 * Every plugin has a status: a level and a one-line summary. It starts
 * `available`; the plugin changes it at any time (from the loop's thread)
 * and the next status report carries it to the coordinator, so every
 * worker's /api/status shows it within one `node.status.interval`. For the
 * instance, a plugin's level is the most severe across the workers. */
#ifndef CORRAL_STATUS_H
#define CORRAL_STATUS_H

#include "corral/plugin.h"
#include "corral/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* In order of severity (the values are the wire protocol's StatusLevel). */
typedef enum {
    CORRAL_STATUS_AVAILABLE = 0,
    CORRAL_STATUS_DEGRADED = 1,
    CORRAL_STATUS_UNAVAILABLE = 2,
    CORRAL_STATUS_CRITICAL = 3,
} corral_status_level_t;

/* Sets the plugin's status; `summary` is copied (NULL: the level's name).
 * Returns 0, or -1 if `level` is not a level or memory ran out. */
CORRAL_EXPORT int corral_plugin_set_status(corral_plugin_handle_t *handle,
                                           corral_status_level_t level,
                                           const char *summary);

/* "available", "degraded", "unavailable", "critical"; "unknown" otherwise. */
CORRAL_EXPORT const char *corral_status_level_name(int level);
/* The reverse; returns 0, or -1 if `name` is not a level. */
CORRAL_EXPORT int corral_status_level_parse(const char *name, corral_status_level_t *level);

#ifdef __cplusplus
}
#endif

#endif
