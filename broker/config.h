/* config.h: corral's YAML configuration (DESIGN section 7), loaded with
 * libyaml and validated strictly: unknown keys, wrong types, bad sizes and
 * durations and out-of-range values are errors that name the file, line,
 * column and key. Relative paths are resolved against the directory of the
 * configuration file. */
#ifndef CORRAL_CONFIG_H
#define CORRAL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/v1/corral.pb-c.h"
#include "level.h"

#define CORRAL_EX_CONFIG 78     /* sysexits.h EX_CONFIG */

typedef enum {
    CORRAL_BALANCING_SHARED,    /* one socket, inherited by every worker */
    CORRAL_BALANCING_REUSEPORT  /* one SO_REUSEPORT socket per worker */
} corral_balancing_t;

typedef struct {
    char *file;                 /* the configuration file, as given */
    struct {
        char *host;             /* default "127.0.0.1" */
        int port;               /* 0..65535, 0 = ephemeral; default 8080 */
        corral_balancing_t balancing;
    } server;
    struct {
        char *data;             /* absolute; default <config dir>/data */
    } path;
    struct {
        char *file;             /* absolute, or NULL: no PID file */
    } pid;
    struct {
        bool enabled;           /* default true */
        struct {
            int count;          /* >= 1; 0 when auto */
            bool count_auto;    /* "auto" (the default) */
            uint64_t heartbeat_timeout_ms;  /* silent longer: unavailable; default 10s */
        } workers;
        uint64_t shutdown_timeout_ms;   /* default 30s */
        struct {
            uint64_t interval_ms;       /* status reports; default 1s */
        } status;
        bool debug_routes;              /* /api/debug/node; default false */
        struct {
            uint64_t delay_ms;          /* pause before migrating; default 0 */
        } migrations;
        struct {
            char *endpoint;             /* tcp://HOST:PORT, or NULL: not exposed */
            char *secret_key;           /* absolute: a zcert secret file */
            char *authorized_keys;      /* absolute: a directory of public certs */
        } remote;
    } node;
    struct {
        corral_level_t root_level;      /* default info */
        Corral__V1__LogConfig *config;  /* the whole section; NULL: defaults */
    } logging;
} corral_config_t;

/* Loads and validates a configuration file. Returns NULL on error and sets
 * *error to a message "FILE:LINE:COLUMN: KEY: what is wrong" (freed by the
 * caller with free()). */
corral_config_t *corral_config_load(const char *file, char **error);

/* Same, from text in memory; `file` names it in messages and anchors
 * relative paths. */
corral_config_t *corral_config_parse(const char *file, const char *text,
                                     size_t length, char **error);

void corral_config_destroy(corral_config_t **self_p);

/* Strict value parsers, shared with the command line and tests.
 * Sizes: "512", "512b", "64kb", "512mb", "1gb" (lower-case units, as in
 * Kibana). Durations: "250ms", "30s", "5m", "1h", or a plain integer in
 * milliseconds. Return 0, or -1 if the text is not a valid value. */
int corral_parse_size(const char *text, uint64_t *bytes);
int corral_parse_duration(const char *text, uint64_t *ms);

#endif
