/* corral/log.h: logging from a plugin, through the worker's logging.
 *
 * A line logged here takes the path corral's own lines take: it is kept
 * or dropped by the level the configuration gives `logger` (`logging.
 * loggers`; names are hierarchical, so `plugins.hello` inherits from
 * `plugins`, then from the root), before any formatting; a clustered
 * worker sends it to the coordinator, whose appenders (console, files,
 * layouts) write it with the worker's name; a classic worker writes it
 * with its own appenders. Before corral_worker_run() (or _start()) and
 * after it returned, lines go to stderr in the default layout.
 *
 * Call it from the thread that runs the worker (the loop's thread), like
 * every other call of libcorral. By convention a plugin's logger is
 * `plugins.<plugin name>`. */
#ifndef CORRAL_API_LOG_H
#define CORRAL_API_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "corral/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* In order of severity, as the configuration names them (trace ... fatal). */
typedef enum {
    CORRAL_LOG_TRACE = 1,
    CORRAL_LOG_DEBUG = 2,
    CORRAL_LOG_INFO = 3,
    CORRAL_LOG_WARN = 4,
    CORRAL_LOG_ERROR = 5,
    CORRAL_LOG_FATAL = 6,
} corral_log_level_t;

#if defined(__GNUC__) || defined(__clang__)
#define CORRAL_LOG_PRINTF(format_index, first_argument) \
    __attribute__((__format__(__printf__, format_index, first_argument)))
#else
#define CORRAL_LOG_PRINTF(format_index, first_argument)
#endif

/* Logs a printf-style message at `level` as `logger` (NULL or "": the
 * logger `plugins`). A level below TRACE counts as TRACE, above FATAL as
 * FATAL. A FATAL line is only a line: it stops nothing. */
CORRAL_EXPORT void corral_log_write(corral_log_level_t level, const char *logger,
                                    const char *format, ...) CORRAL_LOG_PRINTF(3, 4);
CORRAL_EXPORT void corral_log_vwrite(corral_log_level_t level, const char *logger,
                                     const char *format, va_list args)
                                     CORRAL_LOG_PRINTF(3, 0);
/* True if `logger` logs at `level`: check this before costly formatting. */
CORRAL_EXPORT bool corral_log_is_enabled(corral_log_level_t level, const char *logger);

#ifdef __cplusplus
}
#endif

#endif
