/* config.h: corral's YAML configuration (docs/architecture.md section 7), loaded with
 * libyaml and validated strictly: unknown keys, wrong types, bad sizes and
 * durations and out-of-range values are errors that name the file, line,
 * column and key. Relative paths are resolved against the directory of the
 * configuration file. */
#ifndef CORRAL_CONFIG_H
#define CORRAL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_workers.h"
#include "corral/v1/corral.pb-c.h"
#include "level.h"


/* Upper bounds, checked at parse time: every size and duration has one,
 * so no arithmetic on a configured value can overflow. */
#define CORRAL_DURATION_MAX_MS (365ULL * 24 * 3600 * 1000)     /* a year */
#define CORRAL_SIZE_MAX (1ULL << 40)                            /* 1 TiB */
#define CORRAL_MAX_PERSISTED_BYTES_MIN (1ULL << 20)             /* one broadcast */
#define CORRAL_MAX_PERSISTED_BYTES_MAX (1ULL << 30)
/* A configuration file is at most this large and this deep, and no
 * mapping or list in it has more entries: larger input is refused before
 * it is walked (a hostile file cannot make the parse slow). */
#define CORRAL_CONFIG_MAX_BYTES (1024 * 1024)
#define CORRAL_CONFIG_MAX_DEPTH 32
#define CORRAL_CONFIG_MAX_ENTRIES 1024
#define CORRAL_CONFIG_MAX_ALIASES 64

typedef enum {
    CORRAL_RESTART_ON_FAILURE,  /* the default */
    CORRAL_RESTART_ALWAYS,
    CORRAL_RESTART_NEVER        /* any unexpected worker exit stops the instance */
} corral_restart_policy_t;

typedef enum {
    CORRAL_BALANCING_SHARED,    /* one socket, inherited by every worker */
    CORRAL_BALANCING_REUSEPORT  /* one SO_REUSEPORT socket per worker */
} corral_balancing_t;

#define CORRAL_WORKER_TYPE_NAME_MAX 24
#define CORRAL_WORKERS_MAX 1024

/* One group of workers: node.workers itself, or one of its named types
 * (`http: { count: auto }`, `background: { http: false, command: [...] }`). */
typedef struct {
    char name[CORRAL_WORKER_TYPE_NAME_MAX]; /* the type's key; "" for the single group */
    int count;          /* >= 1; 0 when auto */
    bool count_auto;    /* "auto" (the default) */
    bool http;          /* serves HTTP on the listening socket; default true */
    bool main;          /* may hold the main role (see the loader for the default) */
    bool main_given;    /* `main` was written */
    corral_worker_program_t program;    /* command, env, cwd */
    bool plain;         /* protocol: none: a program that does not speak the
                         * worker protocol (fd 3, sd_notify; docs/plain-workers.md) */
    uint64_t ready_after_ms;        /* plain: ready once it ran this long; 0: on READY=1 */
    uint64_t watchdog_ms;           /* plain: WATCHDOG=1 at least this often; 0: none */
    uint64_t heartbeat_timeout_ms;  /* silent longer: hung; default 10s (instance-wide) */
    uint64_t max_memory;            /* RLIMIT_AS per worker; 0: none */
    uint64_t startup_delay_ms;      /* a slow start (tests, demos); default 0 */
    struct {
        uint64_t max_rss;           /* bytes; 0: no limit */
        uint64_t max_requests;      /* 0: no limit */
        uint64_t jitter_percent;    /* 0..100, default 10 */
    } recycle;
} corral_worker_group_t;

typedef struct {
    char *file;                 /* the configuration file, as given */
    struct {
        char *host;             /* default "127.0.0.1" */
        int port;               /* 0..65535, 0 = ephemeral; default 8080 */
        corral_balancing_t balancing;
        bool test_routes;       /* demo routes that change, stall or fill; default false */
        /* the HTTP server's limits, in the shape the workers get them
         * (WorkerConfig.limits) and map onto corral_http_limits_t */
        Corral__V1__HttpLimits limits;
    } server;
    struct {
        char *data;             /* absolute; default <config dir>/data */
    } path;
    struct {
        char *file;             /* absolute, or NULL: no PID file */
    } pid;
    struct {
        bool enabled;           /* default true */
        corral_worker_group_t workers;  /* the single group (also the defaults) */
        /* The groups that run: node.workers' named types in their order,
         * or the single group (name "") alone. */
        corral_worker_group_t *types;
        int type_count;
        struct {
            uint64_t max_memory;            /* RLIMIT_AS of the coordinator; 0: none */
        } coordinator;
        struct {
            corral_restart_policy_t policy;
            uint64_t max_restarts;          /* exits of one slot in window; default 5 */
            uint64_t window_ms;             /* default 60s */
            uint64_t backoff_initial_ms;    /* default 100ms */
            uint64_t backoff_max_ms;        /* default 30s */
        } restart;
        uint64_t shutdown_timeout_ms;   /* default 30s */
        struct {
            uint64_t interval_ms;       /* status reports; default 1s */
        } status;
        bool debug_routes;              /* /api/debug/node; default false */
        struct {
            uint64_t delay_ms;          /* pause before migrating; default 0 */
        } migrations;
        struct {
            uint64_t parallel;          /* slots replaced at a time; default 1 (0 reads as 1) */
            uint64_t ready_timeout_ms;  /* for each new worker; default 30s */
        } reload;
        struct {
            uint64_t max_persisted_bytes;   /* the persisted store; default 64mb */
        } bus;
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
    /* Where each key's value was in the file, for messages about values
     * checked after the load (a log file that cannot be opened). */
    struct corral_config_position *positions;
    size_t position_count;
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

/* path.data of `file` (absolute; the default where not given), read
 * leniently: the file must be YAML, but any other key may be wrong, so
 * that a tool finds a running instance while its file has a typo.
 * Freed by the caller; NULL with *error set. */
char *corral_config_read_data_dir(const char *file, char **error);

/* "FILE:LINE:COLUMN: KEY: message" at the value of `key` (a dotted path,
 * "logging.appenders.file.fileName"), or "FILE: KEY: message" when the file
 * did not give it (a default). Freed by the caller; NULL: out of memory. */
char *corral_config_error(const corral_config_t *self, const char *key, const char *format,
                          ...) __attribute__((format(printf, 3, 4)));

/* What corral would create or open at its start, checked without creating
 * anything (corral --check): path.data can be made, and the PID file and
 * each log file can be created or written where they are. 0, or -1 with
 * *error as corral_config_error writes it. */
int corral_config_check_files(const corral_config_t *self, char **error);

/* Every key of the schema as docs/configuration.md names it ("server.port",
 * "logging.appenders.NAME.type", "logging.loggers[].name",
 * "node.workers.<type>"), in the schema's order; `section`: a key that
 * holds further keys ("server.limits"). */
void corral_config_keys(void (*fn)(const char *key, bool section, void *arg), void *arg);

/* Strict value parsers, shared with the command line and tests.
 * Sizes: "512", "512b", "64kb", "512mb", "1gb" (lower-case units, as in
 * Kibana). Durations: "250ms", "30s", "5m", "1h", or a plain integer in
 * milliseconds. Return 0, or -1 if the text is not a valid value. */
int corral_parse_size(const char *text, uint64_t *bytes);
int corral_parse_duration(const char *text, uint64_t *ms);

#endif
