/* config_loader.h: the configuration loader's schema and state, shared
 * by the files that walk a document (config.c, config_types.c). */
#ifndef CORRAL_CONFIG_LOADER_H
#define CORRAL_CONFIG_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "config.h"

#define DEFAULT_RECYCLE_JITTER 10
#define KEY_PATH_MAX 256

/* The schema: every key corral accepts, what its value must be, and where
 * it goes in corral_config_t. Any other key is an error. */
typedef enum {
    VALUE_SECTION,      /* a mapping of further keys (or null: all defaults) */
    VALUE_STRING,       /* a non-empty string */
    VALUE_PATH,         /* a non-empty string, made absolute */
    VALUE_PORT,         /* an integer 0..65535 */
    VALUE_BALANCING,    /* shared | reuseport */
    VALUE_BOOL,         /* true | false */
    VALUE_WORKER_COUNT, /* 1..WORKERS_MAX | auto */
    VALUE_DURATION,     /* see corral_parse_duration; at most field->max or a year */
    VALUE_TIMEOUT,      /* a duration from 1s to 1h */
    VALUE_CONNECTIONS,  /* 1..CONNECTIONS_MAX */
    VALUE_CONNECTIONS_OR_ZERO,  /* 0..CONNECTIONS_MAX; 0: no limit */
    VALUE_SIZE,         /* see corral_parse_size; from 1 byte to field->max */
    VALUE_COUNT,        /* a non-negative integer (uint64_t) */
    VALUE_PERCENT,      /* "10%" or 10: 0..100 (uint64_t) */
    VALUE_RESTART,      /* never | on-failure | always */
    VALUE_LEVEL,        /* see corral_level_parse */
    VALUE_LOGGING,      /* the logging section: config_logging.c */
    VALUE_COMMAND,      /* an argv list: config_workers.c */
    VALUE_ENV,          /* variables: config_workers.c */
    VALUE_WORKERS,      /* node.workers: one group, or named types of them */
    VALUE_MAIN,         /* a group's `main`: true | false, and that it was given */
    VALUE_REMOTE        /* node.remote: a section, checked as a whole */
} value_kind_t;

typedef struct field {
    const char *name;
    value_kind_t kind;
    size_t offset;                  /* into the section's base (corral_config_t, or a group) */
    const struct field *fields;     /* for VALUE_SECTION; NULL-terminated */
} field_t;

/* One load in progress. */
typedef struct {
    const char *file;           /* names the configuration in messages */
    char *dir;                  /* its directory, absolute */
    yaml_document_t *document;
    corral_config_t *config;
    char *error;                /* the first error, if any */
} loader_t;

/* Walks `node` (a mapping, or null: all defaults) against `fields`,
 * storing into `base`. 0, or -1 with self->error set. */
int corral_config_parse_section(loader_t *self, yaml_node_t *node, const char *path,
                                const field_t *fields, void *base);
int corral_config_parse_value(loader_t *self, yaml_node_t *node, const char *path,
                              const field_t *field, void *base);
/* node.workers (config_types.c). */
int corral_config_parse_workers(loader_t *self, yaml_node_t *node, const char *path,
                                const field_t *fields);
/* A copy of `group` (its program too) at the end of node.types. */
int corral_config_add_type(loader_t *self, const corral_worker_group_t *group);

bool corral_config_is_null(const yaml_node_t *node);
const char *corral_config_scalar_text(const yaml_node_t *node);
/* The first error, "FILE:LINE:COLUMN: PATH: ...": always -1. */
int corral_config_fail_expected(loader_t *self, const yaml_node_t *node, const char *path,
                                const char *expected);
int corral_config_fail_at(loader_t *self, const yaml_node_t *node, const char *path,
                          const char *format, ...) __attribute__((format(printf, 4, 5)));

#endif
