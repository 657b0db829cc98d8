/* logging_control.h: the coordinator's logging at start and on signals:
 * opening the configured appenders (an unwritable file is a configuration
 * error), SIGUSR1 (reopen files), SIGHUP (re-read the `logging` section
 * of the configuration file and apply it). */
#ifndef CORRAL_LOGGING_CONTROL_H
#define CORRAL_LOGGING_CONTROL_H

#include <stdbool.h>

#include "config.h"
#include "log_collector.h"
#include "router.h"

/* The appenders of config's logging section, opened. NULL with *error set
 * (free it): "FILE: logging.appenders.NAME: cannot open PATH: why". */
corral_log_router_t *corral_logging_open(const corral_config_t *config, bool clustered,
                                         char **error);

/* SIGUSR1. */
void corral_logging_reopen(corral_log_collector_t *logs);

/* A reload: the collector writes with `router` (taken; opened from
 * `config`) from now on. Returns config's LogConfig, taken from it (free
 * with corral__v1__log_config__free_unpacked), for the workers' levels. */
Corral__V1__LogConfig *corral_logging_apply(corral_log_collector_t *logs,
                                            corral_log_router_t *router,
                                            corral_config_t *config);

/* A tool's `level LOGGER LEVEL`: `current` with that logger's level set
 * (added if it has none; "root" is the root logger), applied like SIGHUP.
 * Returns the new LogConfig (free with corral__v1__log_config__free_unpacked),
 * or NULL with *error set (free it). */
Corral__V1__LogConfig *corral_logging_set_level(corral_log_collector_t *logs,
                                                const Corral__V1__LogConfig *current,
                                                const char *logger, corral_level_t level,
                                                char **error);

#endif
