/* log.c: the process's logger: level filter, record, sink. The default
 * sink writes the default pattern layout to one file descriptor. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "layout_pattern.h"
#include "line_buffer.h"
#include "policy.h"
#include "router.h"

#define MESSAGE_MAX_BYTES 4096

static struct {
    char worker[32];
    bool with_worker;
    int worker_id;
    corral_level_t level;
    const corral_log_router_t *levels;
    int fd;
    corral_log_sink_fn *sink;
    void *sink_arg;
    uint64_t seq;
    corral_layout_t *fd_layout;
    bool fd_layout_clustered;
    bool in_sink;               /* a sink that logs would recurse */
    pid_t pid;                  /* getpid() is a system call: once per process */
} logger = { "", false, 0, CORRAL_LEVEL_INFO, NULL, 2, NULL, NULL, 0, NULL, false, false, 0 };

void
corral_log_init(const char *worker, corral_level_t level, int fd)
{
    logger.with_worker = worker != NULL;
    snprintf(logger.worker, sizeof logger.worker, "%s", worker ? worker : "");
    logger.level = level;
    logger.fd = fd;
    logger.pid = getpid();
}

void
corral_log_set_worker_id(int worker_id)
{
    logger.worker_id = worker_id;
}

void
corral_log_set_level(corral_level_t level)
{
    logger.level = level;
    logger.levels = NULL;
}

void
corral_log_set_levels(const corral_log_router_t *levels)
{
    logger.levels = levels;
}

bool
corral_log_enabled(corral_level_t level)
{
    corral_level_t minimum = logger.levels ? corral_log_router_min_level(logger.levels)
                                           : logger.level;
    return level >= minimum && level < CORRAL_LEVEL_OFF;
}

bool
corral_log_logger_enabled(corral_level_t level, const char *logger_name)
{
    corral_level_t threshold = logger.levels ? corral_log_router_level(logger.levels, logger_name)
                                             : logger.level;
    return level >= threshold && level < CORRAL_LEVEL_OFF;
}

void
corral_log_set_sink(corral_log_sink_fn *fn, void *arg)
{
    logger.sink = fn;
    logger.sink_arg = arg;
}

uint64_t
corral_log_last_seq(void)
{
    return logger.seq;
}

/* The default sink: one whole line, one write(2). */
static void
write_line(const corral_log_record_t *record)
{
    if (!logger.fd_layout || logger.fd_layout_clustered != logger.with_worker) {
        char *error = NULL;
        corral_layout_destroy(&logger.fd_layout);
        logger.fd_layout = corral_layout_pattern_new(
            logger.with_worker ? CORRAL_PATTERN_CLUSTERED : CORRAL_PATTERN_CLASSIC, &error);
        logger.fd_layout_clustered = logger.with_worker;
        free(error);
        if (!logger.fd_layout)
            return;
    }
    char storage[MESSAGE_MAX_BYTES + 256];
    corral_line_buffer_t line = CORRAL_LINE_BUFFER_ON(storage);
    corral_layout_format(logger.fd_layout, record, &line);
    ssize_t written;
    do
        written = write(logger.fd, line.data, line.length);
    while (written < 0 && errno == EINTR);
    corral_line_buffer_free(&line);
}

static void
emit(corral_level_t level, const char *logger_name, const char *meta, const char *error,
     const char *message)
{
    corral_log_record_t record = {
        .timestamp_ms = corral_clock_real(),
        .level = level,
        .logger = logger_name,
        .message = message,
        .meta = meta,
        .error = error,
        .pid = logger.pid ? logger.pid : (logger.pid = getpid()),
        .worker_id = logger.worker_id,
        .worker = logger.with_worker ? logger.worker : NULL,
        .seq = logger.sink && !logger.in_sink ? ++logger.seq : 0,  /* where loss is measured */
    };
    if (logger.sink && !logger.in_sink) {
        logger.in_sink = true;
        logger.sink(&record, logger.sink_arg);
        logger.in_sink = false;
    }
    else
        write_line(&record);
}

void
corral_log_text(corral_level_t level, const char *logger_name, const char *meta,
                const char *error, const char *message)
{
    if (!corral_log_logger_enabled(level, logger_name))
        return;
    int saved_errno = errno;
    emit(level, logger_name, meta, error, message);
    errno = saved_errno;
}

void
corral_log_va(corral_level_t level, const char *logger_name, const char *meta,
              const char *error, const char *format, va_list args)
{
    if (!corral_log_logger_enabled(level, logger_name))
        return;
    int saved_errno = errno;
    char message[MESSAGE_MAX_BYTES];
    vsnprintf(message, sizeof message, format, args);
    emit(level, logger_name, meta, error, message);
    errno = saved_errno;
}

void
corral_log_meta(corral_level_t level, const char *logger_name, const char *meta,
                const char *error, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    corral_log_va(level, logger_name, meta, error, format, args);
    va_end(args);
}

void
corral_log(corral_level_t level, const char *logger_name, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    corral_log_va(level, logger_name, NULL, NULL, format, args);
    va_end(args);
}
