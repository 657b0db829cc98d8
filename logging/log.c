/* log.c: the process's logger: level filter and the default pattern layout
 * on one file descriptor. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static struct {
    char worker[32];
    bool with_worker;
    corral_level_t level;
    int fd;
} logger = { "", false, CORRAL_LEVEL_INFO, 2 };

void
corral_log_init(const char *worker, corral_level_t level, int fd)
{
    logger.with_worker = worker != NULL;
    snprintf(logger.worker, sizeof logger.worker, "%s", worker ? worker : "");
    logger.level = level;
    logger.fd = fd;
}

void
corral_log_set_level(corral_level_t level)
{
    logger.level = level;
}

bool
corral_log_enabled(corral_level_t level)
{
    return level >= logger.level && level < CORRAL_LEVEL_OFF;
}

/* ISO8601 with milliseconds and the local offset: 2026-11-23T18:48:25.123+01:00 */
static size_t
format_date(char *out, size_t size)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    struct tm local;
    localtime_r(&now.tv_sec, &local);
    char zone[8];
    strftime(zone, sizeof zone, "%z", &local);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &local);
    int n = snprintf(out, size, "%.19s.%03d%.3s:%.2s", date,
                     (int) (now.tv_usec / 1000) % 1000, zone, zone + 3);
    return n < 0 ? 0 : (size_t) n;
}

void
corral_log(corral_level_t level, const char *logger_name, const char *format, ...)
{
    if (!corral_log_enabled(level))
        return;
    int saved_errno = errno;
    char line[LINE_MAX_BYTES];
    char date[64];
    format_date(date, sizeof date);
    int n;
    if (logger.with_worker)
        n = snprintf(line, sizeof line, "[%s][%s][%s][%s] ", date,
                     corral_level_label(level), logger.worker, logger_name);
    else
        n = snprintf(line, sizeof line, "[%s][%s][%s] ", date,
                     corral_level_label(level), logger_name);
    va_list args;
    va_start(args, format);
    int m = vsnprintf(line + n, sizeof line - (size_t) n - 1, format, args);
    va_end(args);
    size_t length = (size_t) n + (m < 0 ? 0 : (size_t) m);
    if (length > sizeof line - 2)
        length = sizeof line - 2;     /* truncated: keep the line whole */
    line[length++] = '\n';
    ssize_t written;
    do
        written = write(logger.fd, line, length);
    while (written < 0 && errno == EINTR);
    errno = saved_errno;
}
