/* logging_control.c: opening, reopening and reloading the appenders. */
#include "logging_control.h"

#include <stdlib.h>

#include "fsutil.h"
#include "log.h"

#define LOGGER "coordinator"

corral_log_router_t *
corral_logging_open(const corral_config_t *config, bool clustered, char **error)
{
    corral_log_router_options_t options = { .with_appenders = true, .clustered = clustered };
    char *why = NULL;
    corral_log_router_t *router = corral_log_router_new(config->logging.config, &options, &why);
    if (!router) {
        *error = corral_format("%s: logging.%s", config->file, why ? why : "out of memory");
        free(why);
    }
    return router;
}

void
corral_logging_reopen(corral_log_collector_t *logs)
{
    corral_log_collector_reopen(logs);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "SIGUSR1: log files reopened");
}

Corral__V1__LogConfig *
corral_logging_apply(corral_log_collector_t *logs, corral_log_router_t *router,
                     corral_config_t *config)
{
    if (logs)
        corral_log_collector_replace_router(logs, router);
    else
        corral_log_router_destroy(&router);
    Corral__V1__LogConfig *taken = config->logging.config;
    config->logging.config = NULL;
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "reload: logging configuration applied");
    return taken;
}
