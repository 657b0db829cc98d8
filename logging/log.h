/* log.h: the process's logger, the front of the logging library.
 *
 * corral_log() filters by the level of its logger (hierarchical names:
 * `plugins.migrations` inherits from `plugins`, then from root), in the
 * process that logs, before any formatting; then hands a record
 * (record.h) to the process's sink: until one is set, one line on a file
 * descriptor written with a single write(2) in the default pattern layout
 * ([%date][%level][%worker][%logger] %message, without %worker in classic
 * mode). The coordinator's sink is its appenders, a clustered worker's the
 * `logs` socket, a classic worker's its own appenders. */
#ifndef CORRAL_LOG_H
#define CORRAL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "level.h"
#include "record.h"

struct corral_log_router;

/* worker: "coordinator", "worker-2", or NULL in classic mode (no %worker).
 * fd: where lines go until a sink is set (2 for stderr). */
void corral_log_init(const char *worker, corral_level_t level, int fd);
/* worker_id for records (0 for the coordinator). */
void corral_log_set_worker_id(int worker_id);
/* One level for every logger (drops the levels of corral_log_set_levels). */
void corral_log_set_level(corral_level_t level);
/* Levels per logger from a router (not owned; NULL: back to one level). */
void corral_log_set_levels(const struct corral_log_router *levels);

/* True if some logger logs at `level`. */
bool corral_log_enabled(corral_level_t level);
/* True if `logger` logs at `level`: check this before costly formatting. */
bool corral_log_logger_enabled(corral_level_t level, const char *logger);

typedef void (corral_log_sink_fn)(const corral_log_record_t *record, void *arg);
/* fn NULL: back to lines on the fd of corral_log_init. */
void corral_log_set_sink(corral_log_sink_fn *fn, void *arg);

/* The seq of the last record handed to the sink (records are numbered from
 * 1 in each process, after the level filter). */
uint64_t corral_log_last_seq(void);

void corral_log(corral_level_t level, const char *logger, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* With a meta object (JSON text: merged into the json layout's output,
 * printed by %meta) and/or an error description; either may be NULL. */
void corral_log_meta(corral_level_t level, const char *logger, const char *meta,
                     const char *error, const char *format, ...)
    __attribute__((format(printf, 5, 6)));
/* A message already formatted (no printf on hot paths). */
void corral_log_text(corral_level_t level, const char *logger, const char *meta,
                     const char *error, const char *message);
void corral_log_va(corral_level_t level, const char *logger, const char *meta,
                   const char *error, const char *format, va_list args)
    __attribute__((format(printf, 5, 0)));

#endif
