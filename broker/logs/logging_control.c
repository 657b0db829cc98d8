/* logging_control.c: opening, reopening and reloading the appenders. */
#include "logging_control.h"

#include <stdlib.h>
#include <string.h>

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

Corral__V1__LogConfig *
corral_logging_set_level(corral_log_collector_t *logs, const Corral__V1__LogConfig *current,
                         const char *logger, corral_level_t level, char **error)
{
    /* a shallow copy with one logger changed or added, then a deep copy */
    Corral__V1__LogConfig changed = *current;
    Corral__V1__LogLogger root = CORRAL__V1__LOG_LOGGER__INIT;
    Corral__V1__LogLogger named = CORRAL__V1__LOG_LOGGER__INIT;
    Corral__V1__LogLogger **loggers = calloc(current->n_loggers + 1, sizeof *loggers);
    if (!loggers) {
        *error = strdup("out of memory");
        return NULL;
    }
    changed.loggers = loggers;
    if (strcmp(logger, "root") == 0) {
        if (current->root)
            root = *current->root;
        root.name = "root";
        root.level = level;
        root.has_level = true;
        changed.root = &root;
        memcpy(loggers, current->loggers, current->n_loggers * sizeof *loggers);
    }
    else {
        named.name = (char *) logger;
        for (size_t i = 0; i < current->n_loggers; i++)
            if (strcmp(current->loggers[i]->name, logger) == 0)
                named = *current->loggers[i];
        named.level = level;
        named.has_level = true;
        size_t count = 0;
        for (size_t i = 0; i < current->n_loggers; i++)
            if (strcmp(current->loggers[i]->name, logger) != 0)
                loggers[count++] = current->loggers[i];
        loggers[count++] = &named;
        changed.n_loggers = count;
    }
    Corral__V1__LogConfig *copy = corral_log_config_copy(&changed);
    free(loggers);
    corral_log_router_options_t options = { .with_appenders = true, .clustered = true };
    char *why = NULL;
    corral_log_router_t *router = copy ? corral_log_router_new(copy, &options, &why) : NULL;
    if (!router) {
        *error = corral_format("cannot apply the level: %s", why ? why : "out of memory");
        free(why);
        if (copy)
            corral__v1__log_config__free_unpacked(copy, NULL);
        return NULL;
    }
    corral_log_collector_replace_router(logs, router);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "logger %s: level %s (asked by a tool)", logger,
               corral_level_name(level));
    return copy;
}
