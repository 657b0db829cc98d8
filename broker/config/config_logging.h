/* config_logging.h: the `logging` section of the configuration (docs/architecture.md
 * section 7; Kibana's names): appenders (a mapping of user-named entries),
 * root {appenders, level} and loggers [{name, appenders, level}], parsed
 * into a corral.v1.LogConfig. Part of config.c's loader; errors go through
 * its "FILE:LINE:COLUMN: KEY: message". */
#ifndef CORRAL_CONFIG_LOGGING_H
#define CORRAL_CONFIG_LOGGING_H

#include <yaml.h>

#include "corral/v1/corral.pb-c.h"
#include "level.h"

/* What the parser needs from config.c's loader. */
typedef struct {
    yaml_document_t *document;
    void *loader;
    /* records the error at node; returns -1 */
    int (*fail)(void *loader, const yaml_node_t *node, const char *path, const char *message);
    /* an absolute path against the configuration's directory (malloc'd) */
    char *(*resolve_path)(void *loader, const char *path);
} corral_config_reader_t;

/* Parses the section at `node` (path "logging"). On success *config is a
 * new LogConfig (free with corral__v1__log_config__free_unpacked) and
 * *root_level the root logger's level. Returns 0 or -1. */
int corral_config_logging_parse(const corral_config_reader_t *reader, yaml_node_t *node,
                                const char *path, Corral__V1__LogConfig **config,
                                corral_level_t *root_level);

/* An empty LogConfig (every default) if *config is NULL. Returns 0 or -1. */
int corral_config_logging_default(Corral__V1__LogConfig **config);

#endif
