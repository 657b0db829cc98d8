/* config_json.c: corral_config_t and the LogConfig in force as JSON. */
#include "config_json.h"

#include <jansson.h>

static json_t *
loggers_json(const Corral__V1__LogConfig *logging)
{
    json_t *loggers = json_array();
    for (size_t i = 0; logging && i < logging->n_loggers; i++) {
        const Corral__V1__LogLogger *logger = logging->loggers[i];
        json_array_append_new(loggers, json_pack("{s:s, s:s}", "name", logger->name, "level",
            logger->has_level ? corral_level_name((corral_level_t) logger->level)
                              : "inherited"));
    }
    return loggers;
}

/* node.workers' groups: named types in their order, or the single group
 * (name ""): count (configured, or "auto"), http, main. */
static json_t *
types_json(const corral_config_t *config)
{
    json_t *types = json_array();
    for (int i = 0; types && i < config->node.type_count; i++) {
        const corral_worker_group_t *type = &config->node.types[i];
        json_array_append_new(types, json_pack(
            "{s:s, s:o, s:b, s:b}", "name", type->name,
            "count", type->count_auto ? json_string("auto") : json_integer(type->count),
            "http", type->http, "main", type->main));
    }
    return types;
}

static json_t *
appenders_json(const Corral__V1__LogConfig *logging)
{
    json_t *appenders = json_object();
    for (size_t i = 0; logging && i < logging->n_appenders; i++) {
        const Corral__V1__LogAppender *appender = logging->appenders[i];
        json_t *entry = json_pack("{s:s}", "type", appender->type);
        if (appender->file_name && *appender->file_name)
            json_object_set_new(entry, "fileName", json_string(appender->file_name));
        if (appender->layout)
            json_object_set_new(entry, "layout", json_pack("{s:s}", "type",
                                                           appender->layout->type));
        json_object_set_new(appenders, appender->name, entry);
    }
    return appenders;
}

char *
corral_config_json(const corral_config_t *config, const Corral__V1__LogConfig *logging,
                   int workers, int port)
{
    const char *root_level = corral_level_name(
        logging && logging->root && logging->root->has_level
            ? (corral_level_t) logging->root->level : config->logging.root_level);
    json_t *document = json_pack(
        "{s:s, s:{s:s, s:i, s:i, s:s}, s:{s:s}, s:o,"
        " s:{s:b, s:{s:i, s:b, s:I}, s:I, s:{s:I}, s:b},"
        " s:{s:o, s:{s:s}, s:o}}",
        "file", config->file,
        "server", "host", config->server.host, "port", config->server.port,
        "bound_port", port,
        "balancing", config->server.balancing == CORRAL_BALANCING_REUSEPORT
                         ? "reuseport" : "shared",
        "path", "data", config->path.data,
        "pid", json_pack("{s:s?}", "file", config->pid.file),
        "node", "enabled", config->node.enabled,
        "workers", "count", workers, "auto", config->node.workers.count_auto,
        "heartbeat_timeout_ms", (json_int_t) config->node.workers.heartbeat_timeout_ms,
        "shutdown_timeout_ms", (json_int_t) config->node.shutdown_timeout_ms,
        "status", "interval_ms", (json_int_t) config->node.status.interval_ms,
        "debug_routes", config->node.debug_routes,
        "logging", "appenders", appenders_json(logging), "root", "level", root_level,
        "loggers", loggers_json(logging));
    json_t *workers_json = json_object_get(json_object_get(document, "node"), "workers");
    if (workers_json)
        json_object_set_new(workers_json, "types", types_json(config));
    char *text = document ? json_dumps(document, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(document);
    return text;
}
