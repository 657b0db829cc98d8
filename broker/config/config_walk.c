/* config_walk.c: the one walker of the configuration's document. It visits
 * a mapping's keys against a schema (unknown keys, with the nearest known
 * one suggested, and duplicates are errors), parses each value by its kind
 * into its place, remembers where every value was, and writes the
 * messages ("FILE:LINE:COLUMN: KEY: message"). Every section reads the
 * document through it (config_loader.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_loader.h"
#include "config_values.h"
#include "fsutil.h"

#define CONNECTIONS_MAX (1024 * 1024)
#define HOUR_MS (60 * 60 * 1000)
#define IN_GROUP(member) offsetof(corral_worker_group_t, member)

static const field_t *find_field(const field_t *fields, const char *name);
static int fail_unknown(loader_t *self, const yaml_node_t *key, const char *path,
                        const field_t *fields, const char *name);
static int remember(loader_t *self, const char *path, const yaml_node_t *value);
static int parse_integer(const char *text, long long *value);


/* ---- The walk --------------------------------------------------------- */

int
corral_config_walk(loader_t *self, yaml_node_t *node, const char *path,
                   const field_t *fields, visit_fn *visit, void *arg)
{
    if (corral_config_is_null(node))
        return 0;
    if (node->type != YAML_MAPPING_NODE)
        return corral_config_fail_expected(self, node, path, "a mapping");
    yaml_node_pair_t *first = node->data.mapping.pairs.start;
    yaml_node_pair_t *end = node->data.mapping.pairs.top;
    for (yaml_node_pair_t *pair = first; pair < end; pair++) {
        yaml_node_t *key = corral_config_node(self, pair->key);
        yaml_node_t *value = corral_config_node(self, pair->value);
        if (key->type != YAML_SCALAR_NODE)
            return corral_config_fail_expected(self, key, path, "a key name");
        const char *name = corral_config_text(key);
        char child[KEY_PATH_MAX];
        corral_config_child(child, path, *path ? "." : "", name);
        for (yaml_node_pair_t *earlier = first; earlier < pair; earlier++) {
            const char *other = corral_config_text(corral_config_node(self, earlier->key));
            if (other && strcmp(other, name) == 0)
                return corral_config_fail_at(self, key, child, "duplicate key");
        }
        const field_t *field = find_field(fields, name);
        if (!field)
            return fail_unknown(self, key, child, fields, name);
        if (remember(self, child, value) != 0
            || visit(self, field, key, value, child, arg) != 0)
            return -1;
    }
    return 0;
}

/* The entry named `name`, else the table's any_key entry, else NULL. */
static const field_t *
find_field(const field_t *fields, const char *name)
{
    const field_t *any = NULL;
    for (const field_t *field = fields; field->name; field++) {
        if (field->any_key)
            any = field;
        else if (strcmp(field->name, name) == 0)
            return field;
    }
    return any;
}

static int
parse_into(loader_t *self, const field_t *field, yaml_node_t *key, yaml_node_t *value,
           const char *path, void *base)
{
    return corral_config_parse_value(self, value, path, field, base);
}

int
corral_config_parse_section(loader_t *self, yaml_node_t *node, const char *path,
                            const field_t *fields, void *base)
{
    return corral_config_walk(self, node, path, fields, parse_into, base);
}

typedef struct {
    const field_t *fields;
    yaml_node_t **values;
} collected_t;

static int
keep_node(loader_t *self, const field_t *field, yaml_node_t *key, yaml_node_t *value,
          const char *path, void *arg)
{
    collected_t *collected = arg;
    collected->values[field - collected->fields] = value;
    return 0;
}

int
corral_config_collect(loader_t *self, yaml_node_t *node, const char *path,
                      const field_t *fields, yaml_node_t *values[])
{
    size_t count = 0;
    while (fields[count].name)
        values[count++] = NULL;
    collected_t collected = { fields, values };
    return corral_config_walk(self, node, path, fields, keep_node, &collected);
}

/* Damerau-Levenshtein distance (optimal string alignment) between two
 * short key names; capped for long ones. */
static size_t
distance(const char *a, const char *b)
{
    enum { MAX = 48 };
    size_t m = strlen(a), n = strlen(b);
    if (m >= MAX || n >= MAX)
        return MAX;
    size_t d[MAX + 1][MAX + 1];
    for (size_t i = 0; i <= m; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= n; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= m; i++)
        for (size_t j = 1; j <= n; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
                && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[m][n];
}

/* "unknown key", and the nearest known key when one is near enough to be
 * a slip of the keyboard: at most 2 edits, and fewer than half its length. */
static int
fail_unknown(loader_t *self, const yaml_node_t *key, const char *path, const field_t *fields,
             const char *name)
{
    const char *nearest = NULL;
    size_t best = 3;
    for (const field_t *field = fields; field->name; field++) {
        size_t edits = distance(name, field->name);
        if (edits < best && edits * 2 < strlen(field->name)) {
            best = edits;
            nearest = field->name;
        }
    }
    if (nearest)
        return corral_config_fail_at(self, key, path, "unknown key (did you mean %s?)", nearest);
    return corral_config_fail_at(self, key, path, "unknown key");
}

/* Keeps where the value of `path` is, for corral_config_error. */
static int
remember(loader_t *self, const char *path, const yaml_node_t *value)
{
    corral_config_t *config = self->config;
    if (config->position_count % 32 == 0) {
        struct corral_config_position *grown = realloc(
            config->positions, (config->position_count + 32) * sizeof *grown);
        if (!grown)
            return -1;
        config->positions = grown;
    }
    struct corral_config_position *position = &config->positions[config->position_count];
    if (!(position->key = strdup(path)))
        return -1;
    position->line = value->start_mark.line + 1;
    position->column = value->start_mark.column + 1;
    config->position_count++;
    return 0;
}


/* ---- Values by kind --------------------------------------------------- */

static void
bounds_of(const field_t *field, uint64_t *min, uint64_t *max)
{
    *min = field->kind == VALUE_SIZE ? 1 : 0;
    *max = field->kind == VALUE_SIZE ? CORRAL_SIZE_MAX : CORRAL_DURATION_MAX_MS;
    if (field->min || field->max) {
        *min = field->min;
        *max = field->max;
    }
}

static int
parse_scaled(loader_t *self, yaml_node_t *node, const char *path, const field_t *field,
             uint64_t *target)
{
    bool duration = field->kind == VALUE_DURATION;
    const char *text = corral_config_text(node);
    uint64_t value, min, max;
    bounds_of(field, &min, &max);
    if (!text || (duration ? corral_parse_duration(text, &value)
                           : corral_parse_size(text, &value)) != 0)
        return corral_config_fail_expected(self, node, path, duration
                                           ? "a duration such as 250ms, 30s, 5m or 1h"
                                           : "a size such as 512kb, 64mb or 1gb");
    if (value < min || value > max)
        return corral_config_fail_at(self, node, path, "expected %s from %llu to %llu%s, got %s",
                                     duration ? "a duration" : "a size",
                                     (unsigned long long) min, (unsigned long long) max,
                                     duration ? "ms" : " bytes", text);
    *target = value;
    return 0;
}

static int
parse_worker_count(loader_t *self, yaml_node_t *node, const char *path,
                   corral_worker_group_t *group)
{
    const char *text = corral_config_text(node);
    long long number;
    if (text && strcmp(text, "auto") == 0) {
        group->count = 0;
        group->count_auto = true;
        return 0;
    }
    if (!text || !corral_config_is_plain(node) || parse_integer(text, &number) != 0
        || number < 1)
        return corral_config_fail_expected(self, node, path, "a positive integer or \"auto\"");
    if (number > CORRAL_WORKERS_MAX)
        return corral_config_fail_at(self, node, path, "at most %d workers, got %s",
                                     CORRAL_WORKERS_MAX, text);
    group->count = (int) number;
    group->count_auto = false;
    return 0;
}

/* One of the names of an enumeration, as its index. */
static int
parse_enum(loader_t *self, yaml_node_t *node, const char *path, const char *const names[],
           const char *expected, int *index)
{
    const char *chosen = NULL;
    if (corral_config_choice(self, node, path, names, expected, &chosen) != 0)
        return -1;
    for (*index = 0; names[*index] != chosen; (*index)++)
        ;
    return 0;
}

int
corral_config_parse_value(loader_t *self, yaml_node_t *node, const char *path,
                          const field_t *field, void *base)
{
    static const char *const balancing[] = { "shared", "reuseport", NULL };
    static const char *const restart[] = { "on-failure", "always", "never", NULL };
    static const char *const protocol[] = { "corral", "none", NULL };
    char *target = (char *) base + field->offset;
    const char *text = corral_config_text(node);
    bool plain = text && corral_config_is_plain(node);
    long long number;
    int index;

    switch (field->kind) {
    case VALUE_SECTION:
        return corral_config_parse_section(self, node, path, field->fields, target);
    case VALUE_STRING:
    case VALUE_PATH: {
        const char *value = NULL;
        if (corral_config_string(self, node, path, &value) != 0)
            return -1;
        char *copy = field->kind == VALUE_PATH ? corral_config_resolve(self, value)
                                               : strdup(value);
        if (!copy)
            return -1;
        free(*(char **) target);
        *(char **) target = copy;
        return 0;
    }
    case VALUE_PORT:
        if (!plain || parse_integer(text, &number) != 0 || number < 0 || number > 65535)
            return corral_config_fail_expected(self, node, path, "a port number 0..65535");
        *(int *) target = (int) number;
        return 0;
    case VALUE_BALANCING:
        if (parse_enum(self, node, path, balancing, "shared or reuseport", &index) != 0)
            return -1;
        *(corral_balancing_t *) target = index ? CORRAL_BALANCING_REUSEPORT
                                               : CORRAL_BALANCING_SHARED;
        return 0;
    case VALUE_PROTOCOL:
        if (parse_enum(self, node, path, protocol, "corral (the worker protocol) or none "
                       "(a plain server on fd 3)", &index) != 0)
            return -1;
        *(bool *) target = index == 1;
        return 0;
    case VALUE_RESTART:
        if (parse_enum(self, node, path, restart, "never, on-failure or always", &index) != 0)
            return -1;
        *(corral_restart_policy_t *) target = index == 0 ? CORRAL_RESTART_ON_FAILURE
                                            : index == 1 ? CORRAL_RESTART_ALWAYS
                                                         : CORRAL_RESTART_NEVER;
        return 0;
    case VALUE_BOOL:
        return corral_config_bool(self, node, path, (bool *) target);
    case VALUE_MAIN: {
        corral_worker_group_t *group = (corral_worker_group_t *) (target - IN_GROUP(main));
        group->main_given = true;
        return corral_config_bool(self, node, path, &group->main);
    }
    case VALUE_WORKER_COUNT:
        return parse_worker_count(self, node, path,
                                  (corral_worker_group_t *) (target - IN_GROUP(count)));
    case VALUE_DURATION:
    case VALUE_SIZE:
        return parse_scaled(self, node, path, field, (uint64_t *) target);
    case VALUE_TIMEOUT: {
        uint64_t ms;
        if (!text || corral_parse_duration(text, &ms) != 0 || ms < 1000 || ms > HOUR_MS)
            return corral_config_fail_expected(self, node, path, "a duration from 1s to 1h");
        *(uint64_t *) target = ms;
        return 0;
    }
    case VALUE_CONNECTIONS:
    case VALUE_CONNECTIONS_OR_ZERO: {
        long long least = field->kind == VALUE_CONNECTIONS ? 1 : 0;
        if (!plain || parse_integer(text, &number) != 0 || number < least
            || number > CONNECTIONS_MAX)
            return corral_config_fail_expected(self, node, path,
                                               least ? "an integer from 1 to 1048576"
                                                     : "an integer from 0 to 1048576");
        *(uint32_t *) target = (uint32_t) number;
        return 0;
    }
    case VALUE_COUNT:
        if (!plain || parse_integer(text, &number) != 0 || number < 0)
            return corral_config_fail_expected(self, node, path, "a non-negative integer");
        *(uint64_t *) target = (uint64_t) number;
        return 0;
    case VALUE_PERCENT: {
        char digits[32];
        size_t length = text ? strlen(text) : 0;
        if (length > 0 && length < sizeof digits && text[length - 1] == '%')
            length--;
        snprintf(digits, sizeof digits, "%.*s", (int) length, text ? text : "");
        if (!text || parse_integer(digits, &number) != 0 || number < 0 || number > 100)
            return corral_config_fail_expected(self, node, path, "a percentage 0%..100%");
        *(uint64_t *) target = (uint64_t) number;
        return 0;
    }
    /* the sections with rules of their own; a list or a mapping with no
     * value keeps its default, as a section does */
    case VALUE_REMOTE:
        return corral_config_is_null(node) ? 0
            : corral_config_parse_remote(self, node, path, field->fields);
    case VALUE_LOGGING:
        return corral_config_parse_logging(self, node, path);
    case VALUE_WORKERS:
        return corral_config_parse_workers(self, node, path);
    case VALUE_COMMAND:
        return corral_config_is_null(node) ? 0
            : corral_config_parse_command(self, node, path, (char ***) target);
    case VALUE_ENV:
        return corral_config_is_null(node) ? 0
            : corral_config_parse_env(self, node, path, (char ***) target);
    case VALUE_NODE:
        break;
    }
    return corral_config_fail_at(self, node, path, "unsupported value kind");
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


/* ---- Typed values for the sections' own code --------------------------- */

/* Plain true or false (YAML 1.2's core schema spellings); never quoted. */
int
corral_config_bool(loader_t *self, yaml_node_t *node, const char *path, bool *out)
{
    const char *text = corral_config_is_plain(node) ? corral_config_text(node) : NULL;
    if (text && (!strcmp(text, "true") || !strcmp(text, "True") || !strcmp(text, "TRUE")))
        *out = true;
    else if (text && (!strcmp(text, "false") || !strcmp(text, "False")
                      || !strcmp(text, "FALSE")))
        *out = false;
    else
        return corral_config_fail_expected(self, node, path, "true or false");
    return 0;
}

int
corral_config_string(loader_t *self, yaml_node_t *node, const char *path, const char **out)
{
    const char *text = corral_config_text(node);
    if (!text || !*text || corral_config_is_null(node))
        return corral_config_fail_expected(self, node, path, "a non-empty string");
    *out = text;
    return 0;
}

int
corral_config_choice(loader_t *self, yaml_node_t *node, const char *path,
                     const char *const choices[], const char *expected, const char **out)
{
    const char *text = corral_config_text(node);
    for (size_t i = 0; text && choices[i]; i++)
        if (strcmp(text, choices[i]) == 0) {
            *out = choices[i];
            return 0;
        }
    return corral_config_fail_expected(self, node, path, expected);
}


/* ---- Nodes -------------------------------------------------------------- */

yaml_node_t *
corral_config_node(const loader_t *self, int index)
{
    return yaml_document_get_node(self->document, index);
}

bool
corral_config_is_null(const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || !corral_config_is_plain(node))
        return false;
    const char *text = corral_config_text(node);
    return !*text || !strcmp(text, "~") || !strcmp(text, "null")
        || !strcmp(text, "Null") || !strcmp(text, "NULL");
}

const char *
corral_config_text(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE ? (const char *) node->data.scalar.value : NULL;
}

/* Unquoted: only plain scalars can be numbers, booleans or null. */
bool
corral_config_is_plain(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE
        && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

const char *
corral_config_child(char out[KEY_PATH_MAX], const char *path, const char *separator,
                    const char *name)
{
    if (snprintf(out, KEY_PATH_MAX, "%s%s%s", path, separator, name) >= KEY_PATH_MAX)
        out[KEY_PATH_MAX - 1] = '\0';
    return out;
}

char *
corral_config_resolve(const loader_t *self, const char *path)
{
    return corral_config_resolve_path(self->dir, path);
}


/* ---- Messages ----------------------------------------------------------- */

const char *
corral_config_describe(const yaml_node_t *node, char out[80])
{
    if (node->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (node->type == YAML_SEQUENCE_NODE)
        return "a sequence";
    if (corral_config_is_null(node))
        return "nothing";
    /* quoted, cut short and without control characters */
    const char *text = corral_config_text(node);
    const char *string = corral_config_is_plain(node) ? "" : "the string ";
    size_t at = (size_t) snprintf(out, 80, "%s\"", string);
    size_t n = 0;
    for (; n < 60 && text[n]; n++)
        out[at + n] = (unsigned char) text[n] < 0x20 ? '?' : text[n];
    snprintf(out + at + n, 80 - at - n, "%s\"", text[n] ? "..." : "");
    return out;
}

int
corral_config_fail_expected(loader_t *self, const yaml_node_t *node, const char *path,
                            const char *expected)
{
    char shown[80];
    return corral_config_fail_at(self, node, path, "expected %s, got %s", expected,
                                 corral_config_describe(node, shown));
}

/* At the node's start, 1-based; no "KEY: " at the top level. */
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
    self->error = corral_format("%s:%zu:%zu: %s%s%s", self->file, node->start_mark.line + 1,
                                node->start_mark.column + 1, path, *path ? ": " : "",
                                message);
    return -1;
}
