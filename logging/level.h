/* level.h: log levels and their names (all, trace, debug, info, warn,
 * error, fatal, off), as in Kibana's logging configuration. */
#ifndef CORRAL_LEVEL_H
#define CORRAL_LEVEL_H

typedef enum {
    CORRAL_LEVEL_ALL = 0,
    CORRAL_LEVEL_TRACE,
    CORRAL_LEVEL_DEBUG,
    CORRAL_LEVEL_INFO,
    CORRAL_LEVEL_WARN,
    CORRAL_LEVEL_ERROR,
    CORRAL_LEVEL_FATAL,
    CORRAL_LEVEL_OFF
} corral_level_t;

/* Parses a level name, case-insensitively. Returns 0, or -1 if unknown. */
int corral_level_parse(const char *text, corral_level_t *level);

/* The lower-case configuration name: "info". */
const char *corral_level_name(corral_level_t level);

/* The upper-case name padded to five columns, as the pattern layout
 * prints it: "INFO ". */
const char *corral_level_label(corral_level_t level);

#endif
