/* config_logging.c: the `logging` section, validated key by key, into a
 * LogConfig. The message is built with pointers into the YAML document,
 * then packed and unpacked into one owned copy; `scratch` holds what the
 * build allocated. */
#include "config_logging.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "date_format.h"
#include "layout_pattern.h"
#include "router.h"
#include "strategy.h"

#define KEY_PATH_MAX 256
#define MAX_KEYS 8

typedef struct {
    const corral_config_reader_t *reader;
    void **scratch;
    size_t scratch_count;
    size_t scratch_capacity;
} builder_t;

/* Keeps `block` to be freed after the build; frees it at once (and
 * returns NULL) when out of memory. */
static void *
scratch_keep(builder_t *self, void *block)
{
    if (block && self->scratch_count == self->scratch_capacity) {
        size_t capacity = self->scratch_capacity ? self->scratch_capacity * 2 : 32;
        void **bigger = realloc(self->scratch, capacity * sizeof *bigger);
        if (!bigger) {
            free(block);
            return NULL;
        }
        self->scratch = bigger;
        self->scratch_capacity = capacity;
    }
    if (block)
        self->scratch[self->scratch_count++] = block;
    return block;
}

/* path + suffix, cut short if it must be (it only names keys in messages). */
static const char *
child_path(char out[KEY_PATH_MAX], const char *path, const char *separator, const char *name)
{
    if (snprintf(out, KEY_PATH_MAX, "%s%s%s", path, separator, name) >= KEY_PATH_MAX)
        out[KEY_PATH_MAX - 1] = '\0';
    return out;
}

static void *
scratch_alloc(builder_t *self, size_t size)
{
    return scratch_keep(self, calloc(1, size ? size : 1));
}

static int
fail(builder_t *self, const yaml_node_t *node, const char *path, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(builder_t *self, const yaml_node_t *node, const char *path, const char *format, ...)
{
    char message[384];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    return self->reader->fail(self->reader->loader, node, path, message);
}

/* The error at `path`.`key`. */
static int
fail_key(builder_t *self, const yaml_node_t *node, const char *path, const char *key,
         const char *format, ...) __attribute__((format(printf, 5, 6)));

static int
fail_key(builder_t *self, const yaml_node_t *node, const char *path, const char *key,
         const char *format, ...)
{
    char message[384], child[KEY_PATH_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    return self->reader->fail(self->reader->loader, node, child_path(child, path, ".", key),
                              message);
}

static yaml_node_t *
node_at(builder_t *self, int index)
{
    return yaml_document_get_node(self->reader->document, index);
}

static bool
is_null(const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *text = (const char *) node->data.scalar.value;
    return !*text || !strcmp(text, "~") || !strcmp(text, "null");
}

static const char *
text_of(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE ? (const char *) node->data.scalar.value : NULL;
}

/* The values of a mapping's keys, each one of `names` (NULL-terminated),
 * at most once. Returns 0, or -1 (reported). */
static int
collect(builder_t *self, yaml_node_t *node, const char *path, const char *const names[],
        yaml_node_t *values[])
{
    for (size_t i = 0; names[i]; i++)
        values[i] = NULL;
    if (is_null(node))
        return 0;
    if (node->type != YAML_MAPPING_NODE)
        return fail(self, node, path, "expected a mapping");
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = node_at(self, pair->key);
        const char *name = text_of(key);
        char child[KEY_PATH_MAX];
        child_path(child, path, ".", name ? name : "?");
        size_t i = 0;
        while (names[i] && (!name || strcmp(names[i], name) != 0))
            i++;
        if (!names[i])
            return fail(self, key, child, "unknown key");
        if (values[i])
            return fail(self, key, child, "duplicate key");
        values[i] = node_at(self, pair->value);
    }
    return 0;
}

/* What was there instead, for "expected X, got Y". */
static const char *
got(const yaml_node_t *node, char out[96])
{
    if (node->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (node->type == YAML_SEQUENCE_NODE)
        return "a sequence";
    if (is_null(node))
        return "nothing";
    snprintf(out, 96, "\"%.60s\"", text_of(node));
    return out;
}

static int
string_value(builder_t *self, yaml_node_t *node, const char *path, const char *key,
             char **out)
{
    const char *text = text_of(node);
    if (!text || !*text || is_null(node))
        return fail_key(self, node, path, key, "expected a non-empty string");
    *out = (char *) text;
    return 0;
}

static int
choice_value(builder_t *self, yaml_node_t *node, const char *path, const char *key,
             const char *const choices[], const char *expected, char **out)
{
    const char *text = text_of(node);
    for (size_t i = 0; text && choices[i]; i++)
        if (strcmp(text, choices[i]) == 0) {
            *out = (char *) choices[i];
            return 0;
        }
    char shown[96];
    return fail_key(self, node, path, key, "expected %s, got %s", expected, got(node, shown));
}

static int
bool_value(builder_t *self, yaml_node_t *node, const char *path, const char *key, bool *out)
{
    const char *text = text_of(node);
    if (text && strcmp(text, "true") == 0)
        *out = true;
    else if (text && strcmp(text, "false") == 0)
        *out = false;
    else
        return fail_key(self, node, path, key, "expected true or false");
    return 0;
}

static int
level_value(builder_t *self, yaml_node_t *node, const char *path, uint32_t *out)
{
    corral_level_t level;
    char shown[96];
    if (!text_of(node) || corral_level_parse(text_of(node), &level) != 0)
        return fail_key(self, node, path, "level", "expected one of all, trace, debug, info, "
                        "warn, error, fatal, off, got %s", got(node, shown));
    *out = (uint32_t) level;
    return 0;
}

/* --- Appenders ------------------------------------------------------------- */

static int
parse_layout(builder_t *self, yaml_node_t *node, const char *path,
             Corral__V1__LogLayout **out)
{
    static const char *const names[] = { "type", "pattern", "highlight", NULL };
    static const char *const types[] = { "pattern", "json", NULL };
    yaml_node_t *values[MAX_KEYS];
    Corral__V1__LogLayout *layout = scratch_alloc(self, sizeof *layout);
    if (!layout || collect(self, node, path, names, values) != 0)
        return -1;
    corral__v1__log_layout__init(layout);
    layout->type = (char *) "pattern";
    bool highlight;
    if ((values[0] && choice_value(self, values[0], path, "type", types, "pattern or json",
                                   &layout->type) != 0)
        || (values[1] && string_value(self, values[1], path, "pattern", &layout->pattern) != 0)
        || (values[2] && bool_value(self, values[2], path, "highlight", &highlight) != 0))
        return -1;
    if (values[1] && strcmp(layout->type, "pattern") != 0)
        return fail_key(self, values[1], path, "pattern", "only for the pattern layout");
    if (values[1]) {
        char *error = NULL;
        corral_layout_t *check = corral_layout_pattern_new(layout->pattern, &error);
        corral_layout_destroy(&check);
        if (error) {
            fail_key(self, values[1], path, "pattern", "%s", error);
            free(error);
            return -1;
        }
    }
    *out = layout;
    return 0;
}

static int
parse_policy(builder_t *self, yaml_node_t *node, const char *path, Corral__V1__LogPolicy **out)
{
    static const char *const names[] = { "type", "size", "interval", "modulate", NULL };
    static const char *const types[] = { "size-limit", "time-interval", NULL };
    yaml_node_t *values[MAX_KEYS];
    Corral__V1__LogPolicy *policy = scratch_alloc(self, sizeof *policy);
    if (!policy || collect(self, node, path, names, values) != 0)
        return -1;
    corral__v1__log_policy__init(policy);
    if (!values[0])
        return fail_key(self, node, path, "type", "required (size-limit or time-interval)");
    if (choice_value(self, values[0], path, "type", types, "size-limit or time-interval",
                     &policy->type) != 0)
        return -1;
    bool by_size = strcmp(policy->type, "size-limit") == 0;
    if (values[by_size ? 2 : 1])
        return fail_key(self, values[by_size ? 2 : 1], path, by_size ? "interval" : "size",
                        "not a key of a %s policy", policy->type);
    if (by_size && values[3])
        return fail_key(self, values[3], path, "modulate", "not a key of a size-limit policy");
    policy->size = 100 * 1024 * 1024;       /* Kibana's defaults: 100mb, 24h, true */
    policy->interval_ms = 24 * 3600 * 1000;
    policy->modulate = true;
    if (values[1] && (!text_of(values[1]) || corral_parse_size(text_of(values[1]),
                                                               &policy->size) != 0
                      || policy->size == 0))
        return fail_key(self, values[1], path, "size", "expected a size such as 512kb or 10mb");
    if (policy->size > CORRAL_SIZE_MAX)
        return fail_key(self, values[1], path, "size", "at most 1024gb, got %s",
                        text_of(values[1]));
    if (values[2] && (!text_of(values[2]) || corral_parse_duration(text_of(values[2]),
                                                                   &policy->interval_ms) != 0
                      || policy->interval_ms == 0))
        return fail_key(self, values[2], path, "interval", "expected a duration such as 1h or 24h");
    if (policy->interval_ms > CORRAL_DURATION_MAX_MS)
        return fail_key(self, values[2], path, "interval", "at most a year (8760h), got %s",
                        text_of(values[2]));
    bool modulate = true;
    if (values[3] && bool_value(self, values[3], path, "modulate", &modulate) != 0)
        return -1;
    policy->modulate = modulate;
    *out = policy;
    return 0;
}

static int
parse_strategy(builder_t *self, yaml_node_t *node, const char *path,
               Corral__V1__LogStrategy **out)
{
    static const char *const names[] = { "type", "pattern", "max", NULL };
    static const char *const types[] = { "numeric", NULL };
    yaml_node_t *values[MAX_KEYS];
    Corral__V1__LogStrategy *strategy = scratch_alloc(self, sizeof *strategy);
    if (!strategy || collect(self, node, path, names, values) != 0)
        return -1;
    corral__v1__log_strategy__init(strategy);
    strategy->type = (char *) "numeric";
    strategy->pattern = (char *) "-%i";
    strategy->max = 7;
    if ((values[0] && choice_value(self, values[0], path, "type", types, "numeric",
                                   &strategy->type) != 0)
        || (values[1] && string_value(self, values[1], path, "pattern",
                                      &strategy->pattern) != 0))
        return -1;
    if (values[2]) {
        const char *text = text_of(values[2]);
        char *end = NULL;
        long max = text ? strtol(text, &end, 10) : 0;
        if (!text || !*text || *end || max < 1 || max > CORRAL_STRATEGY_MAX_FILES)
            return fail_key(self, values[2], path, "max", "expected an integer from 1 to 100");
        strategy->max = (uint32_t) max;
    }
    char *error = NULL;
    corral_strategy_t *check = corral_strategy_numeric_new("x.log", strategy->pattern,
                                                           strategy->max, &error);
    corral_strategy_destroy(&check);
    if (error) {
        fail_key(self, values[1] ? values[1] : node, path, "pattern", "%s", error);
        free(error);
        return -1;
    }
    *out = strategy;
    return 0;
}

/* A log file's permission bits, in octal ("0640", 640): the owner
 * reads and writes; nothing executes; at most the group and others read
 * and write. */
static int
mode_value(builder_t *self, yaml_node_t *node, const char *path, uint32_t *out)
{
    const char *text = text_of(node);
    char *end = NULL;
    unsigned long mode = text && *text ? strtoul(text, &end, 8) : 0;
    if (!text || !*text || *end || strspn(text, "01234567") != strlen(text) || strlen(text) > 4
        || (mode & 0600) != 0600 || (mode & ~0666UL)) {
        char shown[96];
        return fail_key(self, node, path, "mode", "expected permission bits in octal such as "
                        "0640 or 0644 (owner rw, no x), got %s", got(node, shown));
    }
    *out = (uint32_t) mode;
    return 0;
}

static int
parse_appender(builder_t *self, const char *name, yaml_node_t *node, const char *path,
               Corral__V1__LogAppender **out)
{
    static const char *const names[] = {
        "type", "layout", "fileName", "policy", "strategy", "mode", NULL
    };
    static const char *const types[] = { "console", "file", "rolling-file", NULL };
    yaml_node_t *values[MAX_KEYS];
    Corral__V1__LogAppender *appender = scratch_alloc(self, sizeof *appender);
    if (!appender || collect(self, node, path, names, values) != 0)
        return -1;
    corral__v1__log_appender__init(appender);
    appender->name = (char *) name;
    if (!values[0])
        return fail_key(self, node, path, "type", "required (console, file or rolling-file)");
    if (choice_value(self, values[0], path, "type", types, "console, file or rolling-file",
                     &appender->type) != 0)
        return -1;
    bool console = strcmp(appender->type, "console") == 0;
    bool rolling = strcmp(appender->type, "rolling-file") == 0;
    if (console && values[2])
        return fail_key(self, values[2], path, "fileName", "not a key of a console appender");
    if (console && values[5])
        return fail_key(self, values[5], path, "mode", "not a key of a console appender");
    if (values[5] && mode_value(self, values[5], path, &appender->mode) != 0)
        return -1;
    if (!console && !values[2])
        return fail_key(self, node, path, "fileName", "required for a %s appender", appender->type);
    if (!rolling && (values[3] || values[4]))
        return fail_key(self, values[3] ? values[3] : values[4], path,
                        values[3] ? "policy" : "strategy", "only for a rolling-file appender");
    char *file_name = NULL;
    if (values[2]) {
        if (string_value(self, values[2], path, "fileName", &file_name) != 0)
            return -1;
        appender->file_name = scratch_keep(
            self, self->reader->resolve_path(self->reader->loader, file_name));
        if (!appender->file_name)
            return -1;
    }
    char child[KEY_PATH_MAX];
    child_path(child, path, ".", "layout");
    if (values[1] && parse_layout(self, values[1], child, &appender->layout) != 0)
        return -1;
    child_path(child, path, ".", "policy");
    if (values[3] && parse_policy(self, values[3], child, &appender->policy) != 0)
        return -1;
    child_path(child, path, ".", "strategy");
    if (values[4] && parse_strategy(self, values[4], child, &appender->strategy) != 0)
        return -1;
    *out = appender;
    return 0;
}

/* A mapping or a sequence (null: empty), and room for its entries in
 * *array. Returns 0, or -1 (reported). */
static int
collection(builder_t *self, yaml_node_t *node, const char *path, yaml_node_type_t type,
           const char *expected, size_t entry_size, void **array)
{
    *array = NULL;
    if (is_null(node))
        return 0;
    if (node->type != type)
        return fail(self, node, path, "expected %s", expected);
    size_t count = type == YAML_MAPPING_NODE
        ? (size_t) (node->data.mapping.pairs.top - node->data.mapping.pairs.start)
        : (size_t) (node->data.sequence.items.top - node->data.sequence.items.start);
    *array = scratch_alloc(self, count * entry_size);
    return *array ? 0 : -1;
}

static int
parse_appenders(builder_t *self, yaml_node_t *node, const char *path,
                Corral__V1__LogConfig *config)
{
    if (collection(self, node, path, YAML_MAPPING_NODE, "a mapping of appender names",
                   sizeof *config->appenders, (void **) &config->appenders) != 0)
        return -1;
    if (!config->appenders)
        return 0;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = node_at(self, pair->key);
        const char *name = text_of(key);
        char child[KEY_PATH_MAX];
        child_path(child, path, ".", name ? name : "?");
        if (!name || !*name || strchr(name, '.'))
            return fail(self, key, path, "expected an appender name without dots");
        for (size_t i = 0; i < config->n_appenders; i++)
            if (strcmp(config->appenders[i]->name, name) == 0)
                return fail(self, key, child, "duplicate key");
        if (parse_appender(self, name, node_at(self, pair->value), child,
                           &config->appenders[config->n_appenders]) != 0)
            return -1;
        config->n_appenders++;
    }
    return 0;
}

/* --- Loggers ---------------------------------------------------------------- */

static bool
appender_known(const Corral__V1__LogConfig *config, const char *name)
{
    for (size_t i = 0; i < config->n_appenders; i++)
        if (strcmp(config->appenders[i]->name, name) == 0)
            return true;
    return strcmp(name, "default") == 0;
}

static int
parse_appender_names(builder_t *self, yaml_node_t *node, const char *path,
                     const Corral__V1__LogConfig *config, Corral__V1__LogLogger *logger)
{
    if (node->type != YAML_SEQUENCE_NODE)
        return fail_key(self, node, path, "appenders", "expected a list of appender names");
    if (collection(self, node, path, YAML_SEQUENCE_NODE, "a list", sizeof *logger->appenders,
                   (void **) &logger->appenders) != 0)
        return -1;
    for (yaml_node_item_t *item = node->data.sequence.items.start;
         item < node->data.sequence.items.top; item++) {
        yaml_node_t *entry = node_at(self, *item);
        const char *name = text_of(entry);
        if (!name || !appender_known(config, name))
            return fail_key(self, entry, path, "appenders", "no appender named \"%s\"",
                        name ? name : "?");
        logger->appenders[logger->n_appenders++] = (char *) name;
    }
    return 0;
}

static int
parse_logger(builder_t *self, yaml_node_t *node, const char *path, bool root,
             const Corral__V1__LogConfig *config, Corral__V1__LogLogger **out)
{
    static const char *const names[] = { "appenders", "level", "name", NULL };
    yaml_node_t *values[MAX_KEYS];
    Corral__V1__LogLogger *logger = scratch_alloc(self, sizeof *logger);
    if (!logger || collect(self, node, path, names, values) != 0)
        return -1;
    corral__v1__log_logger__init(logger);
    logger->name = (char *) "root";
    if (root && values[2])
        return fail_key(self, values[2], path, "name", "the root logger has no name");
    if (!root && !values[2])
        return fail_key(self, node, path, "name", "required");
    if (values[2] && string_value(self, values[2], path, "name", &logger->name) != 0)
        return -1;
    if (values[0] && parse_appender_names(self, values[0], path, config, logger) != 0)
        return -1;
    if (values[1]) {
        if (level_value(self, values[1], path, &logger->level) != 0)
            return -1;
        logger->has_level = true;
    }
    *out = logger;
    return 0;
}

static int
parse_loggers(builder_t *self, yaml_node_t *node, const char *path,
              Corral__V1__LogConfig *config)
{
    if (collection(self, node, path, YAML_SEQUENCE_NODE, "a list of loggers",
                   sizeof *config->loggers, (void **) &config->loggers) != 0)
        return -1;
    if (!config->loggers)
        return 0;
    for (yaml_node_item_t *item = node->data.sequence.items.start;
         item < node->data.sequence.items.top; item++) {
        char child[KEY_PATH_MAX];
        char index[24];
        snprintf(index, sizeof index, "[%zu]", config->n_loggers);
        child_path(child, path, "", index);
        if (parse_logger(self, node_at(self, *item), child, false, config,
                         &config->loggers[config->n_loggers]) != 0)
            return -1;
        config->n_loggers++;
    }
    return 0;
}

int
corral_config_logging_parse(const corral_config_reader_t *reader, yaml_node_t *node,
                            const char *path, Corral__V1__LogConfig **config,
                            corral_level_t *root_level)
{
    static const char *const names[] = { "appenders", "root", "loggers", NULL };
    builder_t self = { .reader = reader };
    yaml_node_t *values[MAX_KEYS];
    Corral__V1__LogConfig built = CORRAL__V1__LOG_CONFIG__INIT;
    char child[KEY_PATH_MAX];
    int rc = collect(&self, node, path, names, values);
    child_path(child, path, ".", "appenders");
    if (rc == 0 && values[0])
        rc = parse_appenders(&self, values[0], child, &built);
    child_path(child, path, ".", "root");
    if (rc == 0 && values[1])
        rc = parse_logger(&self, values[1], child, true, &built, &built.root);
    child_path(child, path, ".", "loggers");
    if (rc == 0 && values[2])
        rc = parse_loggers(&self, values[2], child, &built);
    if (rc == 0) {
        *root_level = built.root && built.root->has_level ? (corral_level_t) built.root->level
                                                          : CORRAL_LEVEL_INFO;
        if (*config)
            corral__v1__log_config__free_unpacked(*config, NULL);
        *config = corral_log_config_copy(&built);
        rc = *config ? 0 : -1;
    }
    for (size_t i = 0; i < self.scratch_count; i++)
        free(self.scratch[i]);
    free(self.scratch);
    return rc;
}

int
corral_config_logging_default(Corral__V1__LogConfig **config)
{
    static const Corral__V1__LogConfig empty = CORRAL__V1__LOG_CONFIG__INIT;
    if (!*config)
        *config = corral_log_config_copy(&empty);
    return *config ? 0 : -1;
}
