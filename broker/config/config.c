/* config.c: loads corral's YAML configuration (docs/architecture.md section 7) with
 * libyaml's document API and validates it against the schema below. It owns
 * the corral_config_t it returns, its defaults, the walk of the document
 * against the schema and the error messages it writes ("FILE:LINE:COLUMN:
 * KEY: message"). The file's text and its limits are config_text.c's,
 * node.workers config_types.c's, paths, sizes and durations
 * config_values.c's. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config_loader.h"
#include "config_logging.h"
#include "config_text.h"
#include "config_values.h"
#include "fsutil.h"

#define WORKERS_MAX 1024
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
#define DEFAULT_MAX_PERSISTED_BYTES (64ULL << 20)
#define DEFAULT_KEEPALIVE_REQUESTS 1000     /* nginx's */
#define DEFAULT_KEEPALIVE_TIME_MS 3600000   /* 1h, nginx's */
#define DEFAULT_MAX_CONNECTIONS 4096
#define DEFAULT_HEADER_TIMEOUT_MS 20000
#define DEFAULT_IDLE_TIMEOUT_MS 60000
#define CONNECTIONS_MAX (1024 * 1024)
#define HOUR_MS (60 * 60 * 1000)

#define AT(member) offsetof(corral_config_t, member)
#define IN_GROUP(member) offsetof(corral_worker_group_t, member)

static const field_t limits_fields[] = {
    { "max_connections",   VALUE_CONNECTIONS, AT(server.limits.max_connections),   NULL },
    { "max_connections_per_ip", VALUE_CONNECTIONS_OR_ZERO,
      AT(server.limits.max_connections_per_ip), NULL },
    { "header_timeout",    VALUE_TIMEOUT,     AT(server.limits.header_timeout_ms), NULL },
    { "idle_timeout",      VALUE_TIMEOUT,     AT(server.limits.idle_timeout_ms),   NULL },
    { "keepalive_requests", VALUE_COUNT,      AT(server.limits.keepalive_requests), NULL },
    { "keepalive_time",    VALUE_DURATION,    AT(server.limits.keepalive_time_ms), NULL },
    { NULL, 0, 0, NULL }
};
static const field_t server_fields[] = {
    { "host",        VALUE_STRING,    AT(server.host),        NULL },
    { "port",        VALUE_PORT,      AT(server.port),        NULL },
    { "balancing",   VALUE_BALANCING, AT(server.balancing),   NULL },
    { "test_routes", VALUE_BOOL,      AT(server.test_routes), NULL },
    { "limits",      VALUE_SECTION,   0,                      limits_fields },
    { NULL, 0, 0, NULL }
};
static const field_t path_fields[] = {
    { "data", VALUE_PATH, AT(path.data), NULL },
    { NULL, 0, 0, NULL }
};
static const field_t pid_fields[] = {
    { "file", VALUE_PATH, AT(pid.file), NULL },
    { NULL, 0, 0, NULL }
};
/* The keys of a group of workers (offsets into corral_worker_group_t):
 * node.workers itself, or each of its named types. */
static const field_t recycle_fields[] = {
    { "max_rss",      VALUE_SIZE,    IN_GROUP(recycle.max_rss),        NULL },
    { "max_requests", VALUE_COUNT,   IN_GROUP(recycle.max_requests),   NULL },
    { "jitter",       VALUE_PERCENT, IN_GROUP(recycle.jitter_percent), NULL },
    { NULL, 0, 0, NULL }
};
static const field_t workers_fields[] = {
    { "count", VALUE_WORKER_COUNT, IN_GROUP(count), NULL },
    { "heartbeat_timeout", VALUE_DURATION, IN_GROUP(heartbeat_timeout_ms), NULL },
    { "command", VALUE_COMMAND, IN_GROUP(program.command), NULL },
    { "env", VALUE_ENV, IN_GROUP(program.env), NULL },
    { "max_memory", VALUE_SIZE, IN_GROUP(max_memory), NULL },
    { "startup_delay", VALUE_DURATION, IN_GROUP(startup_delay_ms), NULL },
    { "recycle", VALUE_SECTION, 0, recycle_fields },
    { "http", VALUE_BOOL, IN_GROUP(http), NULL },
    { "main", VALUE_MAIN, IN_GROUP(main), NULL },
    { NULL, 0, 0, NULL }
};
static const field_t coordinator_fields[] = {
    { "max_memory", VALUE_SIZE, AT(node.coordinator.max_memory), NULL },
    { NULL, 0, 0, NULL }
};
static const field_t backoff_fields[] = {
    { "initial", VALUE_DURATION, AT(node.restart.backoff_initial_ms), NULL },
    { "max",     VALUE_DURATION, AT(node.restart.backoff_max_ms),     NULL },
    { NULL, 0, 0, NULL }
};
static const field_t restart_fields[] = {
    { "policy",       VALUE_RESTART,  AT(node.restart.policy),       NULL },
    { "max_restarts", VALUE_COUNT,    AT(node.restart.max_restarts), NULL },
    { "window",       VALUE_DURATION, AT(node.restart.window_ms),    NULL },
    { "backoff",      VALUE_SECTION,  0,                   backoff_fields },
    { NULL, 0, 0, NULL }
};
static const field_t status_fields[] = {
    { "interval", VALUE_DURATION, AT(node.status.interval_ms), NULL },
    { NULL, 0, 0, NULL }
};
static const field_t migrations_fields[] = {
    { "delay", VALUE_DURATION, AT(node.migrations.delay_ms), NULL },
    { NULL, 0, 0, NULL }
};
static const field_t reload_fields[] = {
    { "parallel",      VALUE_COUNT,    AT(node.reload.parallel),         NULL },
    { "ready_timeout", VALUE_DURATION, AT(node.reload.ready_timeout_ms), NULL },
    { NULL, 0, 0, NULL }
};
static const field_t bus_fields[] = {
    { "max_persisted_bytes", VALUE_SIZE, AT(node.bus.max_persisted_bytes), NULL },
    { NULL, 0, 0, NULL }
};
static const field_t curve_fields[] = {
    { "secret_key",      VALUE_PATH, AT(node.remote.secret_key),      NULL },
    { "authorized_keys", VALUE_PATH, AT(node.remote.authorized_keys), NULL },
    { NULL, 0, 0, NULL }
};
static const field_t remote_fields[] = {
    { "endpoint", VALUE_STRING,  AT(node.remote.endpoint), NULL },
    { "curve",    VALUE_SECTION, 0,                curve_fields },
    { NULL, 0, 0, NULL }
};
static const field_t node_fields[] = {
    { "enabled",          VALUE_BOOL,     AT(node.enabled),             NULL },
    { "workers",          VALUE_WORKERS,  AT(node.workers),   workers_fields },
    { "coordinator",      VALUE_SECTION,  0,              coordinator_fields },
    { "restart",          VALUE_SECTION,  0,                  restart_fields },
    { "shutdown_timeout", VALUE_DURATION, AT(node.shutdown_timeout_ms), NULL },
    { "status",           VALUE_SECTION,  0,                   status_fields },
    { "debug_routes",     VALUE_BOOL,     AT(node.debug_routes),        NULL },
    { "migrations",       VALUE_SECTION,  0,               migrations_fields },
    { "reload",           VALUE_SECTION,  0,                   reload_fields },
    { "bus",              VALUE_SECTION,  0,                      bus_fields },
    { "remote",           VALUE_REMOTE,   0,                   remote_fields },
    { NULL, 0, 0, NULL }
};
static const field_t top_fields[] = {
    { "server",  VALUE_SECTION, 0, server_fields },
    { "path",    VALUE_SECTION, 0, path_fields },
    { "pid",     VALUE_SECTION, 0, pid_fields },
    { "node",    VALUE_SECTION, 0, node_fields },
    { "logging", VALUE_LOGGING, 0, NULL },
    { NULL, 0, 0, NULL }
};

/* Sizes and durations with bounds of their own (else 1 byte to
 * CORRAL_SIZE_MAX, 0 to CORRAL_DURATION_MAX_MS). */
static const struct {
    size_t offset;
    uint64_t min, max;
} own_bounds[] = {
    { AT(node.bus.max_persisted_bytes),
      CORRAL_MAX_PERSISTED_BYTES_MIN, CORRAL_MAX_PERSISTED_BYTES_MAX },
};

static void
bounds_of(const field_t *field, uint64_t *min, uint64_t *max)
{
    *min = field->kind == VALUE_SIZE ? 1 : 0;
    *max = field->kind == VALUE_SIZE ? CORRAL_SIZE_MAX : CORRAL_DURATION_MAX_MS;
    for (size_t i = 0; i < sizeof own_bounds / sizeof own_bounds[0]; i++)
        if (own_bounds[i].offset == field->offset) {
            *min = own_bounds[i].min;
            *max = own_bounds[i].max;
        }
}


static int load_document(loader_t *self, const char *text, size_t length);
static void set_defaults(corral_config_t *config);
static int fill_pointer_defaults(loader_t *self);
static int parse_integer(const char *text, long long *value);
static int check_remote(loader_t *self, yaml_node_t *node, const char *path);
static bool is_plain(const yaml_node_t *node);
static int fail_message(void *loader, const yaml_node_t *node, const char *path,
                        const char *message);
static char *resolve_against_config(void *loader, const char *path);
static int fail_syntax(loader_t *self, const yaml_parser_t *parser,
                       const char *text, size_t length);


/* ---- Loading -------------------------------------------------------- */

corral_config_t *
corral_config_load(const char *file, char **error)
{
    *error = NULL;
    size_t length;
    char *text = corral_config_read_file(file, &length);
    if (!text) {
        *error = corral_format("%s: cannot read: %s", file, strerror(errno));
        return NULL;
    }
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
    free(self);
    *self_p = NULL;
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
                rc = corral_config_parse_section(self, root, "", top_fields, self->config);
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

static void
set_defaults(corral_config_t *config)
{
    config->server.port = DEFAULT_PORT;
    config->server.balancing = CORRAL_BALANCING_SHARED;
    config->server.limits.max_connections = DEFAULT_MAX_CONNECTIONS;
    config->server.limits.header_timeout_ms = DEFAULT_HEADER_TIMEOUT_MS;
    config->server.limits.idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
    config->server.limits.keepalive_requests = DEFAULT_KEEPALIVE_REQUESTS;
    config->server.limits.keepalive_time_ms = DEFAULT_KEEPALIVE_TIME_MS;
    config->node.enabled = true;
    config->node.workers.count = 0;
    config->node.workers.count_auto = true;
    config->node.workers.http = true;
    config->node.workers.main = true;
    config->node.shutdown_timeout_ms = DEFAULT_SHUTDOWN_TIMEOUT_MS;
    config->node.reload.parallel = 1;
    config->node.reload.ready_timeout_ms = 30000;
    config->node.status.interval_ms = DEFAULT_STATUS_INTERVAL_MS;
    config->node.workers.heartbeat_timeout_ms = DEFAULT_HEARTBEAT_TIMEOUT_MS;
    config->node.workers.recycle.jitter_percent = DEFAULT_RECYCLE_JITTER;
    config->node.restart.policy = CORRAL_RESTART_ON_FAILURE;
    config->node.restart.max_restarts = DEFAULT_MAX_RESTARTS;
    config->node.restart.window_ms = DEFAULT_RESTART_WINDOW_MS;
    config->node.restart.backoff_initial_ms = DEFAULT_BACKOFF_INITIAL_MS;
    config->node.restart.backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
    config->logging.root_level = CORRAL_LEVEL_INFO;
    config->node.bus.max_persisted_bytes = DEFAULT_MAX_PERSISTED_BYTES;
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
    return corral_config_logging_default(&config->logging.config);
}


/* ---- Walking the document against the schema ------------------------ */

/* A mapping whose keys must all be in `fields`, each at most once. */
int
corral_config_parse_section(loader_t *self, yaml_node_t *node, const char *path,
                            const field_t *fields, void *base)
{
    if (corral_config_is_null(node))
        return 0;
    if (node->type != YAML_MAPPING_NODE)
        return corral_config_fail_expected(self, node, path, "a mapping");

    yaml_node_pair_t *first = node->data.mapping.pairs.start;
    yaml_node_pair_t *end = node->data.mapping.pairs.top;
    for (yaml_node_pair_t *pair = first; pair < end; pair++) {
        yaml_node_t *key = yaml_document_get_node(self->document, pair->key);
        yaml_node_t *value = yaml_document_get_node(self->document, pair->value);
        if (key->type != YAML_SCALAR_NODE)
            return corral_config_fail_expected(self, key, path, "a key name");

        const char *name = corral_config_scalar_text(key);
        char child[KEY_PATH_MAX];
        snprintf(child, sizeof child, "%s%s%s", path, *path ? "." : "", name);

        for (yaml_node_pair_t *earlier = first; earlier < pair; earlier++) {
            yaml_node_t *other = yaml_document_get_node(self->document,
                                                        earlier->key);
            if (other->type == YAML_SCALAR_NODE
                && strcmp(corral_config_scalar_text(other), name) == 0)
                return corral_config_fail_at(self, key, child, "duplicate key");
        }
        const field_t *field = fields;
        while (field->name && strcmp(field->name, name) != 0)
            field++;
        if (!field->name)
            return corral_config_fail_at(self, key, child, "unknown key");
        if (corral_config_parse_value(self, value, child, field, base) != 0)
            return -1;
    }
    return 0;
}

/* For the sections parsed in files of their own. */
static corral_config_reader_t
reader_of(loader_t *self)
{
    return (corral_config_reader_t) {
        self->document, self, fail_message, resolve_against_config,
    };
}

int
corral_config_parse_value(loader_t *self, yaml_node_t *node, const char *path,
                          const field_t *field, void *base)
{
    char *target = (char *) base + field->offset;
    const char *text = node->type == YAML_SCALAR_NODE ? corral_config_scalar_text(node) : "";
    long long number;

    switch (field->kind) {
    case VALUE_SECTION:
        return corral_config_parse_section(self, node, path, field->fields, target);

    case VALUE_REMOTE:
        if (corral_config_parse_section(self, node, path, field->fields, target) != 0)
            return -1;
        return check_remote(self, node, path);

    case VALUE_STRING:
    case VALUE_PATH: {
        if (node->type != YAML_SCALAR_NODE || corral_config_is_null(node) || !*text)
            return corral_config_fail_expected(self, node, path, "a non-empty string");
        char *copy = field->kind == VALUE_PATH ? corral_config_resolve_path(self->dir, text)
                                               : strdup(text);
        if (!copy)
            return -1;
        *(char **) target = copy;
        return 0;
    }
    case VALUE_PORT:
        if (node->type != YAML_SCALAR_NODE || !is_plain(node)
            || parse_integer(text, &number) != 0
            || number < 0 || number > 65535)
            return corral_config_fail_expected(self, node, path, "a port number 0..65535");
        *(int *) target = (int) number;
        return 0;

    case VALUE_BALANCING:
        if (node->type == YAML_SCALAR_NODE && strcmp(text, "shared") == 0)
            *(corral_balancing_t *) target = CORRAL_BALANCING_SHARED;
        else if (node->type == YAML_SCALAR_NODE && strcmp(text, "reuseport") == 0)
            *(corral_balancing_t *) target = CORRAL_BALANCING_REUSEPORT;
        else
            return corral_config_fail_expected(self, node, path, "shared or reuseport");
        return 0;

    case VALUE_BOOL:
        if (node->type == YAML_SCALAR_NODE && is_plain(node)
            && (!strcmp(text, "true") || !strcmp(text, "True")
                || !strcmp(text, "TRUE")))
            *(bool *) target = true;
        else if (node->type == YAML_SCALAR_NODE && is_plain(node)
                 && (!strcmp(text, "false") || !strcmp(text, "False")
                     || !strcmp(text, "FALSE")))
            *(bool *) target = false;
        else
            return corral_config_fail_expected(self, node, path, "true or false");
        return 0;

    case VALUE_WORKER_COUNT: {
        /* Two members of the group: the count and whether it is "auto". */
        corral_worker_group_t *group = (corral_worker_group_t *) (target - IN_GROUP(count));
        if (node->type == YAML_SCALAR_NODE && strcmp(text, "auto") == 0) {
            group->count = 0;
            group->count_auto = true;
            return 0;
        }
        if (node->type != YAML_SCALAR_NODE || !is_plain(node)
            || parse_integer(text, &number) != 0 || number < 1)
            return corral_config_fail_expected(self, node, path,
                                               "a positive integer or \"auto\"");
        if (number > WORKERS_MAX)
            return corral_config_fail_at(self, node, path, "at most %d workers, got %s",
                                         WORKERS_MAX, text);
        group->count = (int) number;
        group->count_auto = false;
        return 0;
    }
    case VALUE_MAIN: {
        corral_worker_group_t *group = (corral_worker_group_t *) (target - IN_GROUP(main));
        group->main_given = true;
        return corral_config_parse_value(self, node, path, &(field_t) { field->name, VALUE_BOOL,
                                                                       field->offset, NULL }, base);
    }
    case VALUE_WORKERS:
        return corral_config_parse_workers(self, node, path, field->fields);
    case VALUE_DURATION:
    case VALUE_SIZE: {
        bool duration = field->kind == VALUE_DURATION;
        uint64_t value, min, max;
        bounds_of(field, &min, &max);
        if (node->type != YAML_SCALAR_NODE
            || (duration ? corral_parse_duration(text, &value)
                         : corral_parse_size(text, &value)) != 0)
            return corral_config_fail_expected(self, node, path, duration
                                               ? "a duration such as 250ms, 30s, 5m or 1h"
                                               : "a size such as 512kb, 64mb or 1gb");
        if (value < min || value > max)
            return corral_config_fail_at(self, node, path,
                                         "expected %s from %llu to %llu%s, got %s",
                                         duration ? "a duration" : "a size",
                                         (unsigned long long) min, (unsigned long long) max,
                                         duration ? "ms" : " bytes", text);
        *(uint64_t *) target = value;
        return 0;
    }

    case VALUE_TIMEOUT: {
        uint64_t ms;
        if (node->type != YAML_SCALAR_NODE || corral_parse_duration(text, &ms) != 0
            || ms < 1000 || ms > HOUR_MS)
            return corral_config_fail_expected(self, node, path, "a duration from 1s to 1h");
        *(uint64_t *) target = ms;
        return 0;
    }
    case VALUE_CONNECTIONS:
    case VALUE_CONNECTIONS_OR_ZERO: {
        long long least = field->kind == VALUE_CONNECTIONS ? 1 : 0;
        if (node->type != YAML_SCALAR_NODE || !is_plain(node)
            || parse_integer(text, &number) != 0 || number < least
            || number > CONNECTIONS_MAX)
            return corral_config_fail_expected(self, node, path,
                                               least ? "an integer from 1 to 1048576"
                                                     : "an integer from 0 to 1048576");
        *(uint64_t *) target = (uint64_t) number;
        return 0;
    }
    case VALUE_COUNT:
        if (node->type != YAML_SCALAR_NODE || !is_plain(node)
            || parse_integer(text, &number) != 0 || number < 0)
            return corral_config_fail_expected(self, node, path, "a non-negative integer");
        *(uint64_t *) target = (uint64_t) number;
        return 0;

    case VALUE_PERCENT: {
        char digits[32];
        size_t length = strlen(text);
        if (length > 0 && length < sizeof digits && text[length - 1] == '%')
            length--;
        snprintf(digits, sizeof digits, "%.*s", (int) length, text);
        if (node->type != YAML_SCALAR_NODE || parse_integer(digits, &number) != 0
            || number < 0 || number > 100)
            return corral_config_fail_expected(self, node, path, "a percentage 0%..100%");
        *(uint64_t *) target = (uint64_t) number;
        return 0;
    }
    case VALUE_RESTART:
        if (node->type == YAML_SCALAR_NODE && strcmp(text, "on-failure") == 0)
            *(corral_restart_policy_t *) target = CORRAL_RESTART_ON_FAILURE;
        else if (node->type == YAML_SCALAR_NODE && strcmp(text, "always") == 0)
            *(corral_restart_policy_t *) target = CORRAL_RESTART_ALWAYS;
        else if (node->type == YAML_SCALAR_NODE && strcmp(text, "never") == 0)
            *(corral_restart_policy_t *) target = CORRAL_RESTART_NEVER;
        else
            return corral_config_fail_expected(self, node, path, "never, on-failure or always");
        return 0;

    case VALUE_LOGGING: {
        corral_config_reader_t reader = reader_of(self);
        return corral_config_logging_parse(&reader, node, path, &self->config->logging.config,
                                           &self->config->logging.root_level);
    }
    case VALUE_COMMAND:
    case VALUE_ENV: {
        corral_config_reader_t reader = reader_of(self);
        return field->kind == VALUE_COMMAND
            ? corral_config_command_parse(&reader, node, path, (char ***) target)
            : corral_config_env_parse(&reader, node, path, (char ***) target);
    }
    case VALUE_LEVEL:
        if (node->type != YAML_SCALAR_NODE
            || corral_level_parse(text, (corral_level_t *) target) != 0)
            return corral_config_fail_expected(self, node, path, "one of all, trace, debug, "
                                               "info, warn, error, fatal, off");
        return 0;
    }
    return corral_config_fail_at(self, node, path, "unsupported value kind");
}

/* node.remote: a tcp:// endpoint, and never without CURVE keys that
 * exist: nothing is exposed on the network in the clear. */
static int
check_remote(loader_t *self, yaml_node_t *node, const char *path)
{
    const char *endpoint = self->config->node.remote.endpoint;
    const char *secret = self->config->node.remote.secret_key;
    const char *authorized = self->config->node.remote.authorized_keys;
    struct stat st;
    if (!endpoint)
        return corral_config_fail_at(self, node, path, "an endpoint (tcp://HOST:PORT) is required");
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return corral_config_fail_at(self, node, path, "endpoint must be tcp://HOST:PORT, got %s",
                                     endpoint);
    if (!secret || !authorized)
        return corral_config_fail_at(self, node, path, "curve.secret_key and "
                                     "curve.authorized_keys are "
                                     "required: nothing is exposed without CURVE keys");
    if (access(secret, R_OK) != 0)
        return corral_config_fail_at(self, node, path, "curve.secret_key: cannot read %s: %s",
                                     secret, strerror(errno));
    if (stat(authorized, &st) != 0 || !S_ISDIR(st.st_mode))
        return corral_config_fail_at(self, node, path,
                                     "curve.authorized_keys: %s is not a directory", authorized);
    return 0;
}

/* A decimal integer, optionally negative, and nothing else. */
static int
parse_integer(const char *text, long long *value)
{
    const char *digits = text[0] == '-' ? text + 1 : text;
    if (*digits < '0' || *digits > '9')
        return -1;
    for (const char *c = digits; *c; c++)
        if (*c < '0' || *c > '9')
            return -1;
    errno = 0;
    *value = strtoll(text, NULL, 10);
    return errno == ERANGE ? -1 : 0;
}

/* A plain "", "~" or "null": YAML's null, as in `server:` with no value. */
bool
corral_config_is_null(const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || !is_plain(node))
        return false;
    const char *text = corral_config_scalar_text(node);
    return !*text || !strcmp(text, "~") || !strcmp(text, "null")
        || !strcmp(text, "Null") || !strcmp(text, "NULL");
}

/* Unquoted: only plain scalars can be numbers or booleans. */
static bool
is_plain(const yaml_node_t *node)
{
    return node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

const char *
corral_config_scalar_text(const yaml_node_t *node)
{
    return (const char *) node->data.scalar.value;
}


/* ---- Messages ------------------------------------------------------- */

/* "KEY: expected EXPECTED, got WHAT-WAS-THERE". */
int
corral_config_fail_expected(loader_t *self, const yaml_node_t *node, const char *path,
                            const char *expected)
{
    if (node->type == YAML_MAPPING_NODE)
        return corral_config_fail_at(self, node, path, "expected %s, got a mapping", expected);
    if (node->type == YAML_SEQUENCE_NODE)
        return corral_config_fail_at(self, node, path, "expected %s, got a sequence", expected);
    if (corral_config_is_null(node))
        return corral_config_fail_at(self, node, path, "expected %s, got nothing", expected);

    /* Quote the value, cut short and without control characters. */
    char shown[64];
    const char *text = corral_config_scalar_text(node);
    size_t n = 0;
    for (; n < sizeof shown - 4 && text[n]; n++)
        shown[n] = (unsigned char) text[n] < 0x20 ? '?' : text[n];
    strcpy(shown + n, text[n] ? "..." : "");
    return corral_config_fail_at(self, node, path, "expected %s, got %s\"%s\"", expected,
                                 is_plain(node) ? "" : "the string ", shown);
}

/* Records "FILE:LINE:COLUMN: KEY: message" (no "KEY: " at the top level)
 * at the node's start, 1-based. Keeps the first error only. Returns -1. */
int
corral_config_fail_at(loader_t *self, const yaml_node_t *node, const char *path,
                      const char *format, ...)
{
    if (self->error)
        return -1;
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    self->error = corral_format("%s:%zu:%zu: %s%s%s", self->file,
                                 node->start_mark.line + 1,
                                 node->start_mark.column + 1,
                                 path, *path ? ": " : "", message);
    return -1;
}

/* For config_logging.c. */
static int
fail_message(void *loader, const yaml_node_t *node, const char *path, const char *message)
{
    return corral_config_fail_at(loader, node, path, "%s", message);
}

static char *
resolve_against_config(void *loader, const char *path)
{
    return corral_config_resolve_path(((loader_t *) loader)->dir, path);
}

/* "FILE:LINE:COLUMN: invalid YAML: problem (context)". */
static int
fail_syntax(loader_t *self, const yaml_parser_t *parser, const char *text,
            size_t length)
{
    size_t line = parser->problem_mark.line, column = parser->problem_mark.column;
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
