/* config_logging.c: the `logging` section (docs/architecture.md section 7; Kibana's
 * names): appenders (a mapping of user-named entries), root {appenders,
 * level} and loggers [{name, appenders, level}], validated key by key into
 * a corral.v1.LogConfig through the loader's walker (config_loader.h).
 * The message is built with pointers into the YAML document, then packed
 * and unpacked into one owned copy; `scratch` holds what the build
 * allocated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_loader.h"
#include "layout_pattern.h"
#include "policy.h"
#include "router.h"
#include "strategy.h"

#define KEY(key) { .name = key, .kind = VALUE_NODE }
#define KEYS(key, keys) { .name = key, .kind = VALUE_NODE, .fields = keys }
#define END { .name = NULL }
#define MAX_KEYS 8

enum { LAYOUT_TYPE, LAYOUT_PATTERN, LAYOUT_HIGHLIGHT };
static const field_t layout_fields[] = {
    KEY("type"), KEY("pattern"), KEY("highlight"), END
};
enum { POLICY_TYPE, POLICY_SIZE, POLICY_INTERVAL, POLICY_MODULATE };
static const field_t policy_fields[] = {
    KEY("type"), KEY("size"), KEY("interval"), KEY("modulate"), END
};
enum { STRATEGY_TYPE, STRATEGY_PATTERN, STRATEGY_MAX };
static const field_t strategy_fields[] = {
    KEY("type"), KEY("pattern"), KEY("max"), END
};
enum { APPENDER_TYPE, APPENDER_LAYOUT, APPENDER_FILE, APPENDER_POLICY, APPENDER_STRATEGY,
       APPENDER_MODE };
static const field_t appender_fields[] = {
    KEY("type"), KEYS("layout", layout_fields), KEY("fileName"),
    KEYS("policy", policy_fields), KEYS("strategy", strategy_fields), KEY("mode"), END
};
static const field_t appenders_fields[] = {
    { .name = "NAME", .kind = VALUE_NODE, .fields = appender_fields, .any_key = true }, END
};
enum { LOGGER_APPENDERS, LOGGER_LEVEL, LOGGER_NAME };
static const field_t root_fields[] = {
    KEY("appenders"), KEY("level"), END
};
static const field_t logger_fields[] = {
    KEY("appenders"), KEY("level"), KEY("name"), END
};
enum { LOGGING_APPENDERS, LOGGING_ROOT, LOGGING_LOGGERS };
const field_t corral_config_logging_fields[] = {
    KEYS("appenders", appenders_fields), KEYS("root", root_fields),
    { .name = "loggers", .kind = VALUE_NODE, .fields = logger_fields, .listed = true }, END
};

typedef struct {
    loader_t *loader;
    Corral__V1__LogConfig *config;  /* being built */
    void **scratch;
    size_t scratch_count;
    size_t scratch_capacity;
} builder_t;

static int parse_appender(builder_t *self, const char *name, yaml_node_t *node,
                          const char *path, Corral__V1__LogAppender **out);
static int parse_logger(builder_t *self, yaml_node_t *node, const char *path, bool root,
                        Corral__V1__LogLogger **out);
static void *scratch_keep(builder_t *self, void *block);
static void *scratch_alloc(builder_t *self, size_t size);
static void *collection(builder_t *self, yaml_node_t *node, size_t entry_size);

/* ---- The section ------------------------------------------------------------ */

static int
visit_appender(loader_t *loader, const field_t *any, yaml_node_t *key, yaml_node_t *value,
               const char *path, void *arg)
{
    builder_t *self = arg;
    const char *name = corral_config_text(key);
    if (!*name || strchr(name, '.'))
        return corral_config_fail_at(loader, key, "logging.appenders",
                                     "expected an appender name without dots");
    Corral__V1__LogConfig *config = self->config;
    return parse_appender(self, name, value, path, &config->appenders[config->n_appenders++]);
}

static int
parse_loggers(builder_t *self, yaml_node_t *node, const char *path)
{
    Corral__V1__LogConfig *config = self->config;
    if (corral_config_is_null(node))
        return 0;
    if (node->type != YAML_SEQUENCE_NODE)
        return corral_config_fail_expected(self->loader, node, path, "a list of loggers");
    if (!(config->loggers = collection(self, node, sizeof *config->loggers)))
        return -1;
    for (yaml_node_item_t *item = node->data.sequence.items.start;
         item < node->data.sequence.items.top; item++) {
        char child[KEY_PATH_MAX], index[24];
        snprintf(index, sizeof index, "[%zu]", config->n_loggers);
        corral_config_child(child, path, "", index);
        if (parse_logger(self, corral_config_node(self->loader, *item), child, false,
                         &config->loggers[config->n_loggers]) != 0)
            return -1;
        config->n_loggers++;
    }
    return 0;
}

/* Into self->config->logging (the whole LogConfig and the root level). */
int
corral_config_parse_logging(loader_t *loader, yaml_node_t *node, const char *path)
{
    Corral__V1__LogConfig built = CORRAL__V1__LOG_CONFIG__INIT;
    builder_t self = { .loader = loader, .config = &built };
    yaml_node_t *values[MAX_KEYS];
    char child[KEY_PATH_MAX];
    int rc = corral_config_collect(loader, node, path, corral_config_logging_fields, values);
    yaml_node_t *appenders = values[LOGGING_APPENDERS];
    if (rc == 0 && appenders && !corral_config_is_null(appenders)) {
        corral_config_child(child, path, ".", "appenders");
        if (appenders->type != YAML_MAPPING_NODE)
            rc = corral_config_fail_expected(loader, appenders, child,
                                             "a mapping of appender names");
        else if (!(built.appenders = collection(&self, appenders, sizeof *built.appenders)))
            rc = -1;
        else
            rc = corral_config_walk(loader, appenders, child, appenders_fields,
                                    visit_appender, &self);
    }
    if (rc == 0 && values[LOGGING_ROOT] && !corral_config_is_null(values[LOGGING_ROOT]))
        rc = parse_logger(&self, values[LOGGING_ROOT], corral_config_child(child, path, ".",
                                                                           "root"),
                          true, &built.root);
    if (rc == 0 && values[LOGGING_LOGGERS])
        rc = parse_loggers(&self, values[LOGGING_LOGGERS],
                           corral_config_child(child, path, ".", "loggers"));
    if (rc == 0) {
        corral_config_t *config = loader->config;
        config->logging.root_level = built.root && built.root->has_level
            ? (corral_level_t) built.root->level : CORRAL_LEVEL_INFO;
        if (config->logging.config)
            corral__v1__log_config__free_unpacked(config->logging.config, NULL);
        config->logging.config = corral_log_config_copy(&built);
        rc = config->logging.config ? 0 : -1;
    }
    for (size_t i = 0; i < self.scratch_count; i++)
        free(self.scratch[i]);
    free(self.scratch);
    return rc;
}

/* ---- Values ------------------------------------------------------------------- */

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
    return corral_config_fail_at(self->loader, node, corral_config_child(child, path, ".", key),
                                 "%s", message);
}

static int
string_value(builder_t *self, yaml_node_t *node, const char *path, const char *key,
             char **out)
{
    char child[KEY_PATH_MAX];
    return corral_config_string(self->loader, node, corral_config_child(child, path, ".", key),
                                (const char **) out);
}

static int
choice_value(builder_t *self, yaml_node_t *node, const char *path, const char *key,
             const char *const choices[], const char *expected, char **out)
{
    char child[KEY_PATH_MAX];
    return corral_config_choice(self->loader, node, corral_config_child(child, path, ".", key),
                                choices, expected, (const char **) out);
}

static int
bool_value(builder_t *self, yaml_node_t *node, const char *path, const char *key,
           protobuf_c_boolean *out)
{
    char child[KEY_PATH_MAX];
    bool value;
    if (corral_config_bool(self->loader, node, corral_config_child(child, path, ".", key),
                           &value) != 0)
        return -1;
    *out = value;
    return 0;
}

static int
level_value(builder_t *self, yaml_node_t *node, const char *path, uint32_t *out)
{
    corral_level_t level;
    const char *text = corral_config_text(node);
    char child[KEY_PATH_MAX];
    if (!text || corral_level_parse(text, &level) != 0)
        return corral_config_fail_expected(self->loader, node,
                                           corral_config_child(child, path, ".", "level"),
                                           "one of all, trace, debug, info, warn, error, "
                                           "fatal, off");
    *out = (uint32_t) level;
    return 0;
}

/* A log file's permission bits, in octal ("0640", 640): the owner
 * reads and writes; nothing executes; at most the group and others read
 * and write. */
static int
mode_value(builder_t *self, yaml_node_t *node, const char *path, uint32_t *out)
{
    const char *text = corral_config_text(node);
    char *end = NULL;
    unsigned long mode = text && *text ? strtoul(text, &end, 8) : 0;
    if (!text || !*text || *end || strspn(text, "01234567") != strlen(text) || strlen(text) > 4
        || (mode & 0600) != 0600 || (mode & ~0666UL)) {
        char shown[80];
        return fail_key(self, node, path, "mode", "expected permission bits in octal such as "
                        "0640 or 0644 (owner rw, no x), got %s",
                        corral_config_describe(node, shown));
    }
    *out = (uint32_t) mode;
    return 0;
}

/* ---- Appenders ---------------------------------------------------------------- */

static int
parse_layout(builder_t *self, yaml_node_t *node, const char *path,
             Corral__V1__LogLayout **out)
{
    static const char *const types[] = { "pattern", "json", NULL };
    yaml_node_t *values[MAX_KEYS];
    Corral__V1__LogLayout *layout = scratch_alloc(self, sizeof *layout);
    if (!layout || corral_config_collect(self->loader, node, path, layout_fields, values) != 0)
        return -1;
    corral__v1__log_layout__init(layout);
    layout->type = (char *) "pattern";
    protobuf_c_boolean highlight;   /* Kibana's; accepted, corral does not colour */
    yaml_node_t *pattern = values[LAYOUT_PATTERN];
    if ((values[LAYOUT_TYPE] && choice_value(self, values[LAYOUT_TYPE], path, "type", types,
                                             "pattern or json", &layout->type) != 0)
        || (pattern && string_value(self, pattern, path, "pattern", &layout->pattern) != 0)
        || (values[LAYOUT_HIGHLIGHT] && bool_value(self, values[LAYOUT_HIGHLIGHT], path,
                                                   "highlight", &highlight) != 0))
        return -1;
    if (pattern && strcmp(layout->type, "pattern") != 0)
        return fail_key(self, pattern, path, "pattern", "only for the pattern layout");
    if (pattern) {
        char *error = NULL;
        corral_layout_t *check = corral_layout_pattern_new(layout->pattern, &error);
        corral_layout_destroy(&check);
        if (error) {
            fail_key(self, pattern, path, "pattern", "%s", error);
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
    static const char *const types[] = { "size-limit", "time-interval", NULL };
    yaml_node_t *values[MAX_KEYS];
    Corral__V1__LogPolicy *policy = scratch_alloc(self, sizeof *policy);
    if (!policy || corral_config_collect(self->loader, node, path, policy_fields, values) != 0)
        return -1;
    corral__v1__log_policy__init(policy);
    yaml_node_t *size = values[POLICY_SIZE], *interval = values[POLICY_INTERVAL];
    if (!values[POLICY_TYPE])
        return fail_key(self, node, path, "type", "required (size-limit or time-interval)");
    if (choice_value(self, values[POLICY_TYPE], path, "type", types,
                     "size-limit or time-interval", &policy->type) != 0)
        return -1;
    bool by_size = strcmp(policy->type, "size-limit") == 0;
    if (by_size ? interval : size)
        return fail_key(self, by_size ? interval : size, path, by_size ? "interval" : "size",
                        "not a key of a %s policy", policy->type);
    if (by_size && values[POLICY_MODULATE])
        return fail_key(self, values[POLICY_MODULATE], path, "modulate",
                        "not a key of a size-limit policy");
    policy->size = CORRAL_POLICY_DEFAULT_SIZE;
    policy->interval_ms = CORRAL_POLICY_DEFAULT_INTERVAL_MS;
    policy->modulate = true;
    const char *text = size ? corral_config_text(size) : NULL;
    if (size && (!text || corral_parse_size(text, &policy->size) != 0 || policy->size == 0))
        return fail_key(self, size, path, "size", "expected a size such as 512kb or 10mb");
    if (policy->size > CORRAL_SIZE_MAX)
        return fail_key(self, size, path, "size", "at most 1024gb, got %s", text);
    text = interval ? corral_config_text(interval) : NULL;
    if (interval && (!text || corral_parse_duration(text, &policy->interval_ms) != 0
                     || policy->interval_ms == 0))
        return fail_key(self, interval, path, "interval", "expected a duration such as 1h or 24h");
    if (policy->interval_ms > CORRAL_DURATION_MAX_MS)
        return fail_key(self, interval, path, "interval", "at most a year (8760h), got %s", text);
    if (values[POLICY_MODULATE] && bool_value(self, values[POLICY_MODULATE], path, "modulate",
                                              &policy->modulate) != 0)
        return -1;
    *out = policy;
    return 0;
}

static int
parse_strategy(builder_t *self, yaml_node_t *node, const char *path,
               Corral__V1__LogStrategy **out)
{
    static const char *const types[] = { "numeric", NULL };
    yaml_node_t *values[MAX_KEYS];
    Corral__V1__LogStrategy *strategy = scratch_alloc(self, sizeof *strategy);
    if (!strategy
        || corral_config_collect(self->loader, node, path, strategy_fields, values) != 0)
        return -1;
    corral__v1__log_strategy__init(strategy);
    strategy->type = (char *) "numeric";
    strategy->pattern = (char *) CORRAL_STRATEGY_DEFAULT_PATTERN;
    strategy->max = CORRAL_STRATEGY_DEFAULT_MAX;
    yaml_node_t *pattern = values[STRATEGY_PATTERN], *max = values[STRATEGY_MAX];
    if ((values[STRATEGY_TYPE] && choice_value(self, values[STRATEGY_TYPE], path, "type", types,
                                               "numeric", &strategy->type) != 0)
        || (pattern && string_value(self, pattern, path, "pattern", &strategy->pattern) != 0))
        return -1;
    if (max) {
        const char *text = corral_config_text(max);
        char *end = NULL;
        long count = text ? strtol(text, &end, 10) : 0;
        if (!text || !*text || *end || count < 1 || count > CORRAL_STRATEGY_MAX_FILES)
            return fail_key(self, max, path, "max", "expected an integer from 1 to 100");
        strategy->max = (uint32_t) count;
    }
    char *error = NULL;
    corral_strategy_t *check = corral_strategy_numeric_new("x.log", strategy->pattern,
                                                           strategy->max, &error);
    corral_strategy_destroy(&check);
    if (error) {
        fail_key(self, pattern ? pattern : node, path, "pattern", "%s", error);
        free(error);
        return -1;
    }
    *out = strategy;
    return 0;
}

static int
parse_appender(builder_t *self, const char *name, yaml_node_t *node, const char *path,
               Corral__V1__LogAppender **out)
{
    static const char *const types[] = { "console", "file", "rolling-file", NULL };
    yaml_node_t *values[MAX_KEYS];
    Corral__V1__LogAppender *appender = scratch_alloc(self, sizeof *appender);
    if (!appender
        || corral_config_collect(self->loader, node, path, appender_fields, values) != 0)
        return -1;
    corral__v1__log_appender__init(appender);
    appender->name = (char *) name;
    yaml_node_t *file = values[APPENDER_FILE], *mode = values[APPENDER_MODE];
    yaml_node_t *policy = values[APPENDER_POLICY], *strategy = values[APPENDER_STRATEGY];
    if (!values[APPENDER_TYPE])
        return fail_key(self, node, path, "type", "required (console, file or rolling-file)");
    if (choice_value(self, values[APPENDER_TYPE], path, "type", types,
                     "console, file or rolling-file", &appender->type) != 0)
        return -1;
    bool console = strcmp(appender->type, "console") == 0;
    bool rolling = strcmp(appender->type, "rolling-file") == 0;
    if (console && (file || mode))
        return fail_key(self, file ? file : mode, path, file ? "fileName" : "mode",
                        "not a key of a console appender");
    if (mode && mode_value(self, mode, path, &appender->mode) != 0)
        return -1;
    if (!console && !file)
        return fail_key(self, node, path, "fileName", "required for a %s appender",
                        appender->type);
    if (!rolling && (policy || strategy))
        return fail_key(self, policy ? policy : strategy, path,
                        policy ? "policy" : "strategy", "only for a rolling-file appender");
    const char *file_name;
    if (file) {
        if (string_value(self, file, path, "fileName", (char **) &file_name) != 0
            || !(appender->file_name = scratch_keep(self, corral_config_resolve(self->loader,
                                                                              file_name))))
            return -1;
    }
    char child[KEY_PATH_MAX];
    if (values[APPENDER_LAYOUT] && parse_layout(self, values[APPENDER_LAYOUT],
            corral_config_child(child, path, ".", "layout"), &appender->layout) != 0)
        return -1;
    if (policy && parse_policy(self, policy, corral_config_child(child, path, ".", "policy"),
                               &appender->policy) != 0)
        return -1;
    if (strategy && parse_strategy(self, strategy,
                                   corral_config_child(child, path, ".", "strategy"),
                                   &appender->strategy) != 0)
        return -1;
    *out = appender;
    return 0;
}

/* ---- Loggers ------------------------------------------------------------------ */

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
                     Corral__V1__LogLogger *logger)
{
    if (corral_config_is_null(node))
        return 0;       /* as if not given: the parent's appenders */
    if (node->type != YAML_SEQUENCE_NODE)
        return fail_key(self, node, path, "appenders", "expected a list of appender names");
    if (!(logger->appenders = collection(self, node, sizeof *logger->appenders)))
        return -1;
    for (yaml_node_item_t *item = node->data.sequence.items.start;
         item < node->data.sequence.items.top; item++) {
        yaml_node_t *entry = corral_config_node(self->loader, *item);
        const char *name = corral_config_text(entry);
        if (!name || !appender_known(self->config, name))
            return fail_key(self, entry, path, "appenders", "no appender named \"%s\"",
                            name ? name : "?");
        logger->appenders[logger->n_appenders++] = (char *) name;
    }
    return 0;
}

static int
parse_logger(builder_t *self, yaml_node_t *node, const char *path, bool root,
             Corral__V1__LogLogger **out)
{
    yaml_node_t *values[MAX_KEYS];
    Corral__V1__LogLogger *logger = scratch_alloc(self, sizeof *logger);
    if (!logger || corral_config_collect(self->loader, node, path,
                                         root ? root_fields : logger_fields, values) != 0)
        return -1;
    corral__v1__log_logger__init(logger);
    logger->name = (char *) "root";
    yaml_node_t *name = root ? NULL : values[LOGGER_NAME];
    if (!root && !name)
        return fail_key(self, node, path, "name", "required");
    if (name && string_value(self, name, path, "name", &logger->name) != 0)
        return -1;
    if (values[LOGGER_APPENDERS]
        && parse_appender_names(self, values[LOGGER_APPENDERS], path, logger) != 0)
        return -1;
    if (values[LOGGER_LEVEL]) {
        if (level_value(self, values[LOGGER_LEVEL], path, &logger->level) != 0)
            return -1;
        logger->has_level = true;
    }
    *out = logger;
    return 0;
}

/* ---- Scratch memory ----------------------------------------------------------- */

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

static void *
scratch_alloc(builder_t *self, size_t size)
{
    return scratch_keep(self, calloc(1, size ? size : 1));
}

/* Room for the entries of a mapping or a sequence. */
static void *
collection(builder_t *self, yaml_node_t *node, size_t entry_size)
{
    size_t count = node->type == YAML_MAPPING_NODE
        ? (size_t) (node->data.mapping.pairs.top - node->data.mapping.pairs.start)
        : (size_t) (node->data.sequence.items.top - node->data.sequence.items.start);
    return scratch_alloc(self, count * entry_size);
}
