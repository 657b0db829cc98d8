/* level.c: log level names, both ways. */
#include "level.h"

#include <stddef.h>
#include <strings.h>

static const char *const level_names[] = {
    "all", "trace", "debug", "info", "warn", "error", "fatal", "off"
};
static const char *const level_labels[] = {
    "ALL  ", "TRACE", "DEBUG", "INFO ", "WARN ", "ERROR", "FATAL", "OFF  "
};
#define LEVEL_COUNT (sizeof level_names / sizeof level_names[0])

int
corral_level_parse(const char *text, corral_level_t *level)
{
    for (size_t i = 0; text && i < LEVEL_COUNT; i++)
        if (strcasecmp(text, level_names[i]) == 0) {
            *level = (corral_level_t) i;
            return 0;
        }
    return -1;
}

const char *
corral_level_name(corral_level_t level)
{
    return (unsigned) level < LEVEL_COUNT ? level_names[level] : "?";
}

const char *
corral_level_label(corral_level_t level)
{
    return (unsigned) level < LEVEL_COUNT ? level_labels[level] : "?    ";
}
