/* log.h: the process's logger. One line per record, written with a single
 * write(2) so that lines from several processes sharing a pipe never
 * interleave. Layout: [%date][%level][%worker][%logger] %message, without
 * %worker in classic mode. Records below the configured level are dropped
 * in the process that logs them, before any formatting. */
#ifndef CORRAL_LOG_H
#define CORRAL_LOG_H

#include <stdbool.h>

#include "level.h"

/* worker: "coordinator", "worker-2", or NULL in classic mode (no %worker).
 * fd: where lines go (2 for stderr). */
void corral_log_init(const char *worker, corral_level_t level, int fd);
void corral_log_set_level(corral_level_t level);
bool corral_log_enabled(corral_level_t level);

void corral_log(corral_level_t level, const char *logger, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#endif
