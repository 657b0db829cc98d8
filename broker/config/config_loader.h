/* config_loader.h: the one interface of the configuration's loader, for
 * every file that reads a part of the document: the schema's entries
 * (field_t), the load in progress (loader_t), the walker that visits a
 * mapping's keys against a schema (config_walk.c), the value kinds it
 * parses, and the messages it writes ("FILE:LINE:COLUMN: KEY: message").
 * The sections with rules of their own (config_logging.c, config_types.c,
 * config_workers.c) read the document through it too, so a key, a null
 * and an error mean the same in every section. */
#ifndef CORRAL_CONFIG_LOADER_H
#define CORRAL_CONFIG_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "config.h"

#define KEY_PATH_MAX 256

/* What a key's value must be, and how it is stored. */
typedef enum {
    VALUE_SECTION,      /* a mapping of further keys (or null: all defaults) */
    VALUE_STRING,       /* a non-empty string */
    VALUE_PATH,         /* a non-empty string, made absolute */
    VALUE_PORT,         /* an integer 0..65535 */
    VALUE_BALANCING,    /* shared | reuseport */
    VALUE_PROTOCOL,     /* a worker type's protocol: corral | none (bool plain) */
    VALUE_BOOL,         /* true | false */
    VALUE_WORKER_COUNT, /* 1..CORRAL_WORKERS_MAX | auto */
    VALUE_DURATION,     /* see corral_parse_duration; at most a year, or own bounds */
    VALUE_TIMEOUT,      /* a duration from 1s to 1h */
    VALUE_CONNECTIONS,  /* 1..CONNECTIONS_MAX (uint32_t) */
    VALUE_CONNECTIONS_OR_ZERO,  /* 0..CONNECTIONS_MAX; 0: no limit (uint32_t) */
    VALUE_SIZE,         /* see corral_parse_size; from 1 byte to CORRAL_SIZE_MAX, or own bounds */
    VALUE_COUNT,        /* a non-negative integer (uint64_t) */
    VALUE_PERCENT,      /* "10%" or 10: 0..100 (uint64_t) */
    VALUE_RESTART,      /* never | on-failure | always */
    VALUE_LOGGING,      /* the logging section: config_logging.c */
    VALUE_COMMAND,      /* an argv list: config_workers.c */
    VALUE_ENV,          /* variables: config_workers.c */
    VALUE_WORKERS,      /* node.workers: one group, or named types of them */
    VALUE_MAIN,         /* a group's `main`: true | false, and that it was given */
    VALUE_REMOTE,       /* node.remote: a section, checked as a whole */
    VALUE_NODE          /* read by its section's own code (config_logging.c) */
} value_kind_t;

/* One key the schema accepts: what its value must be, where it goes
 * (an offset into the section's base: corral_config_t, a worker group, or
 * the section's own struct) and, for a section, its keys. Tables end with
 * a NULL name. An entry with `any_key` stands for every key the others do
 * not name (a user's names: appenders, worker types); its name is how the
 * listing shows it ("NAME", "<type>"). A `listed` entry holds a list of
 * mappings of `fields` (listed as "logging.loggers[].name"). */
typedef struct field {
    const char *name;
    value_kind_t kind;
    size_t offset;
    const struct field *fields;     /* the keys under it, NULL-terminated, or NULL */
    bool any_key;
    bool listed;
    uint64_t min, max;              /* a size's or duration's own bounds; 0, 0: the kind's */
} field_t;

/* Where a key's value was (corral_config_t.positions). */
struct corral_config_position {
    char *key;                      /* dotted path */
    size_t line, column;            /* 1-based */
};

/* The whole schema (config_schema.c); node.workers' keys for its types. */
extern const field_t corral_config_top_fields[];
extern const field_t corral_config_group_fields[];
/* The logging section's keys (config_logging.c). */
extern const field_t corral_config_logging_fields[];

/* One load in progress. */
typedef struct {
    const char *file;           /* names the configuration in messages */
    char *dir;                  /* its directory, absolute */
    yaml_document_t *document;
    corral_config_t *config;
    char *error;                /* the first error, if any */
    yaml_mark_t workers_mark;   /* where node.workers is, for the checks made once
                                 * the whole file is read */
} loader_t;

/* ---- The walker (config_walk.c) -------------------------------------- */

/* Called for each key of a mapping that the schema knows, in the
 * document's order, with the key's dotted path. 0, or -1 (reported). */
typedef int (visit_fn)(loader_t *self, const field_t *field, yaml_node_t *key,
                       yaml_node_t *value, const char *path, void *arg);

/* Visits `node`'s keys (a mapping; null, "~", "NULL", an empty value:
 * none). A key that is not a scalar, not in `fields` (with the nearest
 * known key suggested; any key, where `fields` has an any_key entry) or
 * given twice is an error. Records where each
 * key's value is, for later messages (corral_config_error). */
int corral_config_walk(loader_t *self, yaml_node_t *node, const char *path,
                       const field_t *fields, visit_fn *visit, void *arg);
/* Walks `node` against `fields`, parsing each value into `base`. */
int corral_config_parse_section(loader_t *self, yaml_node_t *node, const char *path,
                                const field_t *fields, void *base);
/* `values[i]` is the value of fields[i], or NULL when not given. */
int corral_config_collect(loader_t *self, yaml_node_t *node, const char *path,
                          const field_t *fields, yaml_node_t *values[]);
/* One value, by its field's kind, into `base` + field->offset. */
int corral_config_parse_value(loader_t *self, yaml_node_t *node, const char *path,
                              const field_t *field, void *base);

/* ---- Nodes ------------------------------------------------------------ */

yaml_node_t *corral_config_node(const loader_t *self, int index);
/* A plain "", "~", "null", "Null" or "NULL": YAML's null, as in `server:`
 * with no value. The one definition for every section. */
bool corral_config_is_null(const yaml_node_t *node);
/* A scalar's text; NULL for a mapping or a sequence. */
const char *corral_config_text(const yaml_node_t *node);
bool corral_config_is_plain(const yaml_node_t *node);
/* `path` + `separator` + `name`, cut short if it must be (it only names
 * keys in messages). Returns `out`. */
const char *corral_config_child(char out[KEY_PATH_MAX], const char *path,
                                const char *separator, const char *name);
/* `path` made absolute against the configuration's directory (malloc'd). */
char *corral_config_resolve(const loader_t *self, const char *path);

/* ---- Typed values, for the sections' own code ------------------------- */

int corral_config_bool(loader_t *self, yaml_node_t *node, const char *path, bool *out);
/* A non-empty string: a pointer into the document. */
int corral_config_string(loader_t *self, yaml_node_t *node, const char *path,
                         const char **out);
/* One of `choices` (NULL-terminated): the matching entry of `choices`. */
int corral_config_choice(loader_t *self, yaml_node_t *node, const char *path,
                         const char *const choices[], const char *expected,
                         const char **out);

/* ---- Messages --------------------------------------------------------- */

/* "KEY: expected EXPECTED, got WHAT-WAS-THERE". Always -1. */
int corral_config_fail_expected(loader_t *self, const yaml_node_t *node, const char *path,
                                const char *expected);
/* Records "FILE:LINE:COLUMN: PATH: message" at the node (the first error
 * only). Always -1. */
int corral_config_fail_at(loader_t *self, const yaml_node_t *node, const char *path,
                          const char *format, ...) __attribute__((format(printf, 4, 5)));
/* What a node holds, for "got ...": "a mapping", "nothing", "\"8080\"". */
const char *corral_config_describe(const yaml_node_t *node, char out[80]);

/* ---- Sections with rules of their own --------------------------------- */

/* node.remote (config_schema.c): an endpoint and CURVE keys that exist. */
int corral_config_parse_remote(loader_t *self, yaml_node_t *node, const char *path,
                               const field_t *fields);

/* logging (config_logging.c): into config->logging. */
int corral_config_parse_logging(loader_t *self, yaml_node_t *node, const char *path);
/* A group's own defaults (config.c), for node.workers and each type. */
void corral_config_group_defaults(corral_worker_group_t *group);
/* node.workers (config_types.c). */
int corral_config_parse_workers(loader_t *self, yaml_node_t *node, const char *path);
/* A copy of `group` (its program too) at the end of node.types. */
int corral_config_add_type(loader_t *self, const corral_worker_group_t *group);
/* What needs the whole file read: plain types and the balancing mode, the
 * working directories' default. 0, or -1 with self->error set. */
int corral_config_settle_plain_types(loader_t *self);
/* A group's `command` and `env` (config_workers.c). */
int corral_config_parse_command(loader_t *self, yaml_node_t *node, const char *path,
                                char ***argv);
int corral_config_parse_env(loader_t *self, yaml_node_t *node, const char *path, char ***env);

#endif
