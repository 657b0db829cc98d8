/* config_json.h: the effective configuration (defaults applied, paths
 * resolved, the worker count resolved) as JSON text, for `corralctl
 * config` and any tool that asks desk. */
#ifndef CORRAL_CONFIG_JSON_H
#define CORRAL_CONFIG_JSON_H

#include "config.h"

/* Returns the text (free it), or NULL when out of memory. `logging` is
 * the logging section in force (after SIGHUP or `level`), `workers` the
 * resolved count. */
char *corral_config_json(const corral_config_t *config, const Corral__V1__LogConfig *logging,
                         int workers, int port);

#endif
