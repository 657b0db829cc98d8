/* public_log.c: corral/log.h, the plugins' way into the process's logger
 * (logging/log.h): the same level filter and the same sink as corral's
 * own lines; and corral/version.h's run-time half. */
#include "corral/log.h"
#include "corral/version.h"

#include <stddef.h>

#include "log.h"

#define DEFAULT_LOGGER "plugins"

_Static_assert((int) CORRAL_LOG_TRACE == (int) CORRAL_LEVEL_TRACE
               && (int) CORRAL_LOG_FATAL == (int) CORRAL_LEVEL_FATAL,
               "corral/log.h's levels are logging/level.h's");

static corral_level_t
internal_level(corral_log_level_t level)
{
    if ((int) level < (int) CORRAL_LOG_TRACE)
        return CORRAL_LEVEL_TRACE;
    if ((int) level > (int) CORRAL_LOG_FATAL)
        return CORRAL_LEVEL_FATAL;
    return (corral_level_t) level;
}

static const char *
logger_name(const char *logger)
{
    return logger && *logger ? logger : DEFAULT_LOGGER;
}

void
corral_log_vwrite(corral_log_level_t level, const char *logger, const char *format,
                  va_list args)
{
    corral_log_va(internal_level(level), logger_name(logger), NULL, NULL, format, args);
}

void
corral_log_write(corral_log_level_t level, const char *logger, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    corral_log_vwrite(level, logger, format, args);
    va_end(args);
}

bool
corral_log_is_enabled(corral_log_level_t level, const char *logger)
{
    return corral_log_logger_enabled(internal_level(level), logger_name(logger));
}

unsigned
corral_version(void)
{
    return CORRAL_VERSION_HEX;
}

const char *
corral_version_string(void)
{
    return CORRAL_VERSION_STRING;
}
