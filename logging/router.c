/* router.c: levels and appenders per logger, built from a LogConfig. */
#include "router.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appender_console.h"
#include "appender_file.h"
#include "appender_rolling_file.h"
#include "layout_json.h"
#include "layout_pattern.h"
#include "message_copy.h"

#define DEFAULT_APPENDER "default"

typedef struct {
    const char *name;                   /* into the config copy */
    size_t name_length;
    corral_level_t level;
    bool has_level;
    corral_appender_t **appenders;      /* NULL: inherited */
    size_t appender_count;
} logger_t;

struct corral_log_router {
    Corral__V1__LogConfig *config;      /* an owned copy */
    corral_appender_t **appenders;
    size_t appender_count;
    logger_t root;
    logger_t *loggers;
    size_t logger_count;
    corral_level_t min_level;
};

Corral__V1__LogConfig *
corral_log_config_copy(const Corral__V1__LogConfig *config)
{
    return corral_message_copy(&config->base);
}

static corral_layout_t *
make_layout(const Corral__V1__LogLayout *layout, bool clustered, char **error)
{
    if (layout && strcmp(layout->type, "json") == 0) {
        corral_layout_t *json = corral_layout_json_new();
        if (!json)
            *error = strdup("out of memory");
        return json;
    }
    const char *pattern = layout && *layout->pattern ? layout->pattern
                        : clustered ? CORRAL_PATTERN_CLUSTERED : CORRAL_PATTERN_CLASSIC;
    return corral_layout_pattern_new(pattern, error);
}

static corral_policy_t *
make_policy(const Corral__V1__LogPolicy *policy)
{
    if (policy && strcmp(policy->type, "time-interval") == 0)
        return corral_policy_time_interval_new(policy->interval_ms, policy->modulate, NULL);
    return corral_policy_size_limit_new(policy && policy->size ? policy->size
                                                               : CORRAL_POLICY_DEFAULT_SIZE);
}

static corral_appender_t *make_file_appender(const Corral__V1__LogAppender *config,
                                              bool clustered, char **error);

/* A file appender with the configured mode for its files. */
static corral_appender_t *
make_appender(const Corral__V1__LogAppender *config, bool clustered, char **error)
{
    corral_appender_t *appender = make_file_appender(config, clustered, error);
    if (appender && config->mode && corral_appender_set_mode(appender, config->mode) != 0) {
        if (asprintf(error, "cannot set mode %o on %s: %s", config->mode, config->file_name,
                     strerror(errno)) < 0)
            *error = NULL;
        corral_appender_destroy(&appender);
    }
    return appender;
}

static corral_appender_t *
make_file_appender(const Corral__V1__LogAppender *config, bool clustered, char **error)
{
    corral_layout_t *layout = make_layout(config->layout, clustered, error);
    if (!layout)
        return NULL;
    if (strcmp(config->type, "file") == 0)
        return corral_appender_file_new(config->name, layout, config->file_name, error);
    if (strcmp(config->type, "rolling-file") == 0) {
        const Corral__V1__LogStrategy *strategy = config->strategy;
        corral_strategy_t *numeric = corral_strategy_numeric_new(
            config->file_name, strategy ? strategy->pattern : NULL,
            strategy && strategy->max ? strategy->max : CORRAL_STRATEGY_DEFAULT_MAX, error);
        if (!numeric) {
            corral_layout_destroy(&layout);
            return NULL;
        }
        return corral_appender_rolling_file_new(config->name, layout, config->file_name,
                                                make_policy(config->policy), numeric, error);
    }
    return corral_appender_console_new(config->name, layout);
}

static corral_appender_t *
appender_by_name(corral_log_router_t *self, const char *name)
{
    for (size_t i = 0; i < self->appender_count; i++)
        if (strcmp(corral_appender_name(self->appenders[i]), name) == 0)
            return self->appenders[i];
    return NULL;
}

static int
build_appenders(corral_log_router_t *self, bool clustered, char **error)
{
    const Corral__V1__LogConfig *config = self->config;
    self->appenders = calloc(config->n_appenders + 1, sizeof *self->appenders);
    if (!self->appenders)
        return -1;
    for (size_t i = 0; i < config->n_appenders; i++) {
        char *why = NULL;
        corral_appender_t *appender = make_appender(config->appenders[i], clustered, &why);
        if (!appender) {
            if (asprintf(error, "appenders.%s: %s", config->appenders[i]->name,
                         why ? why : "out of memory") < 0)
                *error = NULL;
            free(why);
            return -1;
        }
        self->appenders[self->appender_count++] = appender;
    }
    if (!appender_by_name(self, DEFAULT_APPENDER)) {
        char *why = NULL;
        corral_layout_t *layout = make_layout(NULL, clustered, &why);
        free(why);
        corral_appender_t *fallback = layout ? corral_appender_console_new(DEFAULT_APPENDER, layout)
                                             : NULL;
        if (!fallback)
            return -1;
        self->appenders[self->appender_count++] = fallback;
    }
    return 0;
}

/* Resolves a logger's appender names; unknown names were refused by the
 * configuration's validation and are skipped here. */
static int
resolve_logger(corral_log_router_t *self, logger_t *logger, const Corral__V1__LogLogger *config,
               bool with_appenders)
{
    logger->name = config->name;
    logger->name_length = strlen(config->name);
    logger->level = (corral_level_t) config->level;
    logger->has_level = config->has_level && config->level <= CORRAL_LEVEL_OFF;
    if (!with_appenders || config->n_appenders == 0)
        return 0;
    logger->appenders = calloc(config->n_appenders, sizeof *logger->appenders);
    if (!logger->appenders)
        return -1;
    for (size_t i = 0; i < config->n_appenders; i++) {
        corral_appender_t *appender = appender_by_name(self, config->appenders[i]);
        if (appender)
            logger->appenders[logger->appender_count++] = appender;
    }
    return 0;
}

static int
build_loggers(corral_log_router_t *self, bool with_appenders)
{
    static Corral__V1__LogLogger default_root = CORRAL__V1__LOG_LOGGER__INIT;
    const Corral__V1__LogConfig *config = self->config;
    if (resolve_logger(self, &self->root, config->root ? config->root : &default_root,
                       with_appenders) != 0)
        return -1;
    if (!self->root.has_level) {
        self->root.level = CORRAL_LEVEL_INFO;
        self->root.has_level = true;
    }
    if (with_appenders && self->root.appender_count == 0) {
        free(self->root.appenders);
        self->root.appenders = calloc(1, sizeof *self->root.appenders);
        if (!self->root.appenders)
            return -1;
        self->root.appenders[0] = appender_by_name(self, DEFAULT_APPENDER);
        self->root.appender_count = 1;
    }
    self->loggers = calloc(config->n_loggers + 1, sizeof *self->loggers);
    if (!self->loggers)
        return -1;
    self->min_level = self->root.level;
    for (size_t i = 0; i < config->n_loggers; i++) {
        if (resolve_logger(self, &self->loggers[i], config->loggers[i], with_appenders) != 0)
            return -1;
        self->logger_count++;
        if (self->loggers[i].has_level && self->loggers[i].level < self->min_level)
            self->min_level = self->loggers[i].level;
    }
    return 0;
}

corral_log_router_t *
corral_log_router_new(const Corral__V1__LogConfig *config,
                      const corral_log_router_options_t *options, char **error)
{
    *error = NULL;
    static const Corral__V1__LogConfig empty = CORRAL__V1__LOG_CONFIG__INIT;
    corral_log_router_t *self = calloc(1, sizeof *self);
    if (!self || !(self->config = corral_log_config_copy(config ? config : &empty))
        || (options->with_appenders && build_appenders(self, options->clustered, error) != 0)
        || build_loggers(self, options->with_appenders) != 0) {
        if (!*error)
            *error = strdup("out of memory");
        corral_log_router_destroy(&self);
    }
    return self;
}

void
corral_log_router_destroy(corral_log_router_t **self_p)
{
    corral_log_router_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->appender_count; i++)
        corral_appender_destroy(&self->appenders[i]);
    free(self->appenders);
    for (size_t i = 0; self->loggers && i < self->logger_count; i++)
        free(self->loggers[i].appenders);
    free(self->loggers);
    free(self->root.appenders);
    if (self->config)
        corral__v1__log_config__free_unpacked(self->config, NULL);
    free(self);
    *self_p = NULL;
}

/* True if `name` is `ancestor` or below it ("plugins.migrations" is below
 * "plugins", "pluginsX" is not). */
static bool
is_within(const char *name, const logger_t *ancestor)
{
    return strncmp(name, ancestor->name, ancestor->name_length) == 0
        && (name[ancestor->name_length] == '\0' || name[ancestor->name_length] == '.');
}

/* The nearest configured logger at or above `name` that satisfies `has`. */
static const logger_t *
nearest(const corral_log_router_t *self, const char *name,
        bool (*has)(const logger_t *logger))
{
    const logger_t *best = &self->root;
    size_t best_length = 0;
    for (size_t i = 0; name && i < self->logger_count; i++) {
        const logger_t *logger = &self->loggers[i];
        if (has(logger) && logger->name_length > best_length && is_within(name, logger)) {
            best = logger;
            best_length = logger->name_length;
        }
    }
    return best;
}

static bool
has_level(const logger_t *logger)
{
    return logger->has_level;
}

static bool
has_appenders(const logger_t *logger)
{
    return logger->appender_count > 0;
}

corral_level_t
corral_log_router_level(const corral_log_router_t *self, const char *logger)
{
    return nearest(self, logger, has_level)->level;
}

corral_level_t
corral_log_router_min_level(const corral_log_router_t *self)
{
    return self->min_level;
}

void
corral_log_router_write(corral_log_router_t *self, const corral_log_record_t *record)
{
    const logger_t *logger = nearest(self, record->logger, has_appenders);
    for (size_t i = 0; i < logger->appender_count; i++)
        corral_appender_append(logger->appenders[i], record);
}

void
corral_log_router_flush(corral_log_router_t *self)
{
    for (size_t i = 0; i < self->appender_count; i++)
        corral_appender_flush(self->appenders[i]);
}

void
corral_log_router_reopen(corral_log_router_t *self)
{
    for (size_t i = 0; i < self->appender_count; i++)
        corral_appender_reopen(self->appenders[i]);
}

uint64_t
corral_log_router_write_errors(const corral_log_router_t *self)
{
    uint64_t total = 0;
    for (size_t i = 0; i < self->appender_count; i++)
        total += corral_appender_write_errors(self->appenders[i]);
    return total;
}

uint64_t
corral_log_router_lines_lost(const corral_log_router_t *self)
{
    uint64_t total = 0;
    for (size_t i = 0; i < self->appender_count; i++)
        total += corral_appender_lines_lost(self->appenders[i]);
    return total;
}

size_t
corral_log_router_appender_count(const corral_log_router_t *self)
{
    return self->appender_count;
}

const corral_appender_t *
corral_log_router_appender(const corral_log_router_t *self, size_t index)
{
    return index < self->appender_count ? self->appenders[index] : NULL;
}
