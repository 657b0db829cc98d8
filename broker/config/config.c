/* config.c: corral's YAML configuration (docs/architecture.md section 7), loaded with
 * libyaml's document API. It owns the corral_config_t it returns and every
 * default in it. A load reads top-down: the file's text and its limits
 * (config_text.c), the defaults (below), one YAML document, the walk of
 * the document against the schema (config_schema.c) by the walker
 * (config_walk.c) and the sections it hands on (config_logging.c,
 * config_types.c, config_workers.c), then the defaults that are
 * allocated. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_loader.h"
#include "config_text.h"
#include "config_values.h"
#include "defaults.h"
#include "fsutil.h"
#include "router.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8080
#define DEFAULT_DATA "data"
#define DEFAULT_SHUTDOWN_TIMEOUT_MS 30000
#define DEFAULT_STATUS_INTERVAL_MS 1000
#define DEFAULT_HEARTBEAT_TIMEOUT_MS 10000
#define DEFAULT_MAX_RESTARTS 5
#define DEFAULT_RESTART_WINDOW_MS 60000
#define DEFAULT_BACKOFF_INITIAL_MS 100
#define DEFAULT_BACKOFF_MAX_MS 30000
#define DEFAULT_RELOAD_READY_TIMEOUT_MS 30000
#define DEFAULT_MAX_PERSISTED_BYTES (64ULL << 20)
#define DEFAULT_RECYCLE_JITTER 10

static void set_defaults(corral_config_t *config);
static int load_document(loader_t *self, const char *text, size_t length);
static int fill_pointer_defaults(loader_t *self);
static int fail_syntax(loader_t *self, const yaml_parser_t *parser,
                       const char *text, size_t length);


/* ---- Loading -------------------------------------------------------- */

corral_config_t *
corral_config_load(const char *file, char **error)
{
    *error = NULL;
    size_t length;
    char *text = corral_config_read_file(file, &length, error);
    if (!text)
        return NULL;
    corral_config_t *config = corral_config_parse(file, text, length, error);
    free(text);
    return config;
}

corral_config_t *
corral_config_parse(const char *file, const char *text, size_t length,
                    char **error)
{
    *error = NULL;
    loader_t loader = { .file = file };
    loader.config = calloc(1, sizeof *loader.config);
    loader.dir = corral_config_directory(file);
    if (!loader.config || !loader.dir || !(loader.config->file = strdup(file))) {
        *error = corral_format("%s: out of memory", file);
        goto failed;
    }
    set_defaults(loader.config);
    if (corral_config_check_limits(file, text, length, &loader.error) != 0
        || load_document(&loader, text, length) != 0
        || fill_pointer_defaults(&loader) != 0)
        goto failed;
    free(loader.dir);
    return loader.config;

failed:
    if (!*error)
        *error = loader.error ? loader.error
                              : corral_format("%s: out of memory", file);
    else
        free(loader.error);
    free(loader.dir);
    corral_config_destroy(&loader.config);
    return NULL;
}

void
corral_config_destroy(corral_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    corral_config_t *self = *self_p;
    free(self->file);
    free(self->server.host);
    free(self->path.data);
    free(self->pid.file);
    corral_worker_program_clear(&self->node.workers.program);
    for (int i = 0; i < self->node.type_count; i++)
        corral_worker_program_clear(&self->node.types[i].program);
    free(self->node.types);
    free(self->node.remote.endpoint);
    free(self->node.remote.secret_key);
    free(self->node.remote.authorized_keys);
    if (self->logging.config)
        corral__v1__log_config__free_unpacked(self->logging.config, NULL);
    for (size_t i = 0; i < self->position_count; i++)
        free(self->positions[i].key);
    free(self->positions);
    free(self);
    *self_p = NULL;
}

static void
set_defaults(corral_config_t *config)
{
    config->server.port = DEFAULT_PORT;
    config->server.balancing = CORRAL_BALANCING_SHARED;
    corral__v1__http_limits__init(&config->server.limits);
    config->server.limits.max_connections = CORRAL_DEFAULT_MAX_CONNECTIONS;
    config->server.limits.header_timeout_ms = CORRAL_DEFAULT_HEADER_TIMEOUT_MS;
    config->server.limits.idle_timeout_ms = CORRAL_DEFAULT_IDLE_TIMEOUT_MS;
    config->server.limits.keepalive_requests = CORRAL_DEFAULT_KEEPALIVE_REQUESTS;
    config->server.limits.keepalive_time_ms = CORRAL_DEFAULT_KEEPALIVE_TIME_MS;
    config->node.enabled = true;
    corral_config_group_defaults(&config->node.workers);
    config->node.workers.heartbeat_timeout_ms = DEFAULT_HEARTBEAT_TIMEOUT_MS;
    config->node.shutdown_timeout_ms = DEFAULT_SHUTDOWN_TIMEOUT_MS;
    config->node.reload.parallel = 1;
    config->node.reload.ready_timeout_ms = DEFAULT_RELOAD_READY_TIMEOUT_MS;
    config->node.status.interval_ms = DEFAULT_STATUS_INTERVAL_MS;
    config->node.restart.policy = CORRAL_RESTART_ON_FAILURE;
    config->node.restart.max_restarts = DEFAULT_MAX_RESTARTS;
    config->node.restart.window_ms = DEFAULT_RESTART_WINDOW_MS;
    config->node.restart.backoff_initial_ms = DEFAULT_BACKOFF_INITIAL_MS;
    config->node.restart.backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
    config->node.bus.max_persisted_bytes = DEFAULT_MAX_PERSISTED_BYTES;
    config->logging.root_level = CORRAL_LEVEL_INFO;
}

/* A group of workers' own defaults (node.workers, and each named type;
 * heartbeat_timeout is the instance's): count auto, serving HTTP, the
 * reference worker. */
void
corral_config_group_defaults(corral_worker_group_t *group)
{
    *group = (corral_worker_group_t) {
        .count_auto = true, .http = true, .main = true,
        .recycle.jitter_percent = DEFAULT_RECYCLE_JITTER,
    };
}

/* Parses exactly one YAML document and walks it against the schema. An
 * empty document (or a lone null) leaves every default in place. */
static int
load_document(loader_t *self, const char *text, size_t length)
{
    yaml_parser_t parser;
    yaml_document_t document, extra;
    int rc = -1;

    if (!yaml_parser_initialize(&parser))
        return -1;
    yaml_parser_set_input_string(&parser, (const unsigned char *) text, length);
    if (!yaml_parser_load(&parser, &document)) {
        fail_syntax(self, &parser, text, length);
        yaml_parser_delete(&parser);
        return -1;
    }
    self->document = &document;
    yaml_node_t *root = yaml_document_get_root_node(&document);
    if (root) {
        if (!yaml_parser_load(&parser, &extra))
            fail_syntax(self, &parser, text, length);
        else {
            if (yaml_document_get_root_node(&extra))
                corral_config_fail_at(self, yaml_document_get_root_node(&extra), "",
                                      "only one YAML document is allowed");
            else
                rc = corral_config_parse_section(self, root, "", corral_config_top_fields,
                                                 self->config);
            yaml_document_delete(&extra);
        }
    }
    else
        rc = 0;
    self->document = NULL;
    yaml_document_delete(&document);
    yaml_parser_delete(&parser);
    return rc;
}

/* Defaults that are allocated: filled in after parsing, where not given. */
static int
fill_pointer_defaults(loader_t *self)
{
    corral_config_t *config = self->config;
    if (!config->server.host && !(config->server.host = strdup(DEFAULT_HOST)))
        return -1;
    if (!config->path.data
        && !(config->path.data = corral_config_resolve_path(self->dir, DEFAULT_DATA)))
        return -1;
    if (config->node.type_count == 0       /* no node.workers: the default group */
        && corral_config_add_type(self, &config->node.workers) != 0)
        return -1;
    if (corral_config_settle_plain_types(self) != 0)
        return -1;
    static const Corral__V1__LogConfig every_default = CORRAL__V1__LOG_CONFIG__INIT;
    if (!config->logging.config
        && !(config->logging.config = corral_log_config_copy(&every_default)))
        return -1;
    return 0;
}


/* ---- path.data alone, for tools ---------------------------------------- */

/* The value of `key` in the mapping `node`, or NULL. */
static yaml_node_t *
value_of(const loader_t *self, yaml_node_t *node, const char *key)
{
    if (!node || node->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        const char *name = corral_config_text(corral_config_node(self, pair->key));
        if (name && strcmp(name, key) == 0)
            return corral_config_node(self, pair->value);
    }
    return NULL;
}

char *
corral_config_read_data_dir(const char *file, char **error)
{
    *error = NULL;
    size_t length;
    char *text = corral_config_read_file(file, &length, error);
    if (!text)
        return NULL;
    loader_t loader = { .file = file, .dir = corral_config_directory(file) };
    yaml_parser_t parser;
    yaml_document_t document;
    char *data = NULL;
    if (loader.dir && corral_config_check_limits(file, text, length, error) == 0
        && yaml_parser_initialize(&parser)) {
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, length);
        if (yaml_parser_load(&parser, &document)) {
            loader.document = &document;
            yaml_node_t *value = value_of(&loader, value_of(&loader,
                yaml_document_get_root_node(&document), "path"), "data");
            const char *given = DEFAULT_DATA;
            if (!value || corral_config_is_null(value)
                || corral_config_string(&loader, value, "path.data", &given) == 0)
                data = corral_config_resolve(&loader, given);
            yaml_document_delete(&document);
        }
        else
            fail_syntax(&loader, &parser, text, length);
        yaml_parser_delete(&parser);
    }
    if (!data && !*error)
        *error = loader.error ? loader.error : corral_format("%s: out of memory", file);
    else
        free(loader.error);
    free(loader.dir);
    free(text);
    return data;
}

/* ---- Messages ------------------------------------------------------- */

char *
corral_config_error(const corral_config_t *self, const char *key, const char *format, ...)
{
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    for (size_t i = 0; i < self->position_count; i++)
        if (strcmp(self->positions[i].key, key) == 0)
            return corral_format("%s:%zu:%zu: %s: %s", self->file, self->positions[i].line,
                                 self->positions[i].column, key, message);
    return corral_format("%s: %s: %s", self->file, key, message);
}

/* "FILE:LINE:COLUMN: invalid YAML: problem (context)"; where the parser
 * stopped at a tab, that tabs are not allowed (YAML indents with spaces
 * only; libyaml's own words are "found character that cannot start any
 * token"). */
static int
fail_syntax(loader_t *self, const yaml_parser_t *parser, const char *text,
            size_t length)
{
    size_t line = parser->problem_mark.line, column = parser->problem_mark.column;
    size_t at = parser->problem_mark.index;
    if (parser->error != YAML_READER_ERROR && at < length && text[at] == '\t') {
        self->error = corral_format("%s:%zu:%zu: tabs are not allowed in YAML: "
                                    "indent with spaces", self->file, line + 1, column + 1);
        return -1;
    }
    if (parser->error == YAML_READER_ERROR) {
        /* Reader errors (bad encoding) carry an offset, not a mark. */
        line = column = 0;
        for (size_t i = 0; i < parser->problem_offset && i < length; i++) {
            if (text[i] == '\n')
                line++, column = 0;
            else
                column++;
        }
    }
    const char *problem = parser->problem ? parser->problem : "cannot parse";
    if (parser->context)
        self->error = corral_format("%s:%zu:%zu: invalid YAML: %s (%s)",
                                     self->file, line + 1, column + 1,
                                     problem, parser->context);
    else
        self->error = corral_format("%s:%zu:%zu: invalid YAML: %s",
                                     self->file, line + 1, column + 1, problem);
    return -1;
}
