/* config_workers.h: what a worker group runs (docs/architecture.md section 11): its
 * `command` (an argv list; default the reference worker) and its `env` (a
 * mapping of variables added to the workers' environment). Part of
 * the configuration's loader (errors "FILE:LINE:COLUMN: KEY: message"); the
 * single `node.workers` group and each named worker type call the same
 * parsers for their own keys. */
#ifndef CORRAL_CONFIG_WORKERS_H
#define CORRAL_CONFIG_WORKERS_H

#include <stdbool.h>
#include <stddef.h>

/* What one group of workers runs. NULL members: the defaults. */
typedef struct {
    char **command;     /* argv, NULL-terminated; [0] absolute, checked executable */
    char **env;         /* "NAME=value", NULL-terminated */
    char *cwd;          /* the working directory, absolute; default: the
                         * configuration file's directory */
} corral_worker_program_t;

/* The `command` and `env` keys are parsed through the loader's interface
 * (corral_config_parse_command, _env in config_loader.h). `command`: a
 * non-empty sequence of non-empty strings; a program with a slash is
 * resolved against the configuration's directory, one without is looked
 * up in PATH, and it must be an executable file now (a worker that cannot
 * start would otherwise be a crash loop). `env`: a mapping of variable
 * names (letters, digits, _, not starting with a digit; not LISTEN_* nor
 * CORRAL_*, which belong to corral) to scalar values. */

void corral_worker_program_clear(corral_worker_program_t *program);
/* A deep copy of `from` into the empty `to`. 0, or -1 (out of memory). */
int corral_worker_program_copy(corral_worker_program_t *to, const corral_worker_program_t *from);

/* A worker type's name (the key of a named type, which names its workers
 * "http-1", "http-2"): a letter or _, then letters, digits and _, under
 * `max` characters. */
bool corral_worker_type_name_valid(const char *name, size_t max);

#endif
