/* layout_pattern.h: Kibana's pattern layout. Conversions:
 *   %date, %date{FORMAT}, %date{FORMAT}{TIME ZONE}   (date_format.h; default ISO8601)
 *   %level (padded to five columns), %logger, %message, %meta (JSON),
 *   %pid, %worker ("worker-2", "coordinator")
 * Anything else is copied as it is. */
#ifndef CORRAL_LAYOUT_PATTERN_H
#define CORRAL_LAYOUT_PATTERN_H

#include "layout.h"

#define CORRAL_PATTERN_CLUSTERED "[%date][%level][%worker][%logger] %message"
#define CORRAL_PATTERN_CLASSIC "[%date][%level][%logger] %message"

/* Returns the layout, or NULL with *error set (free it) for an unknown
 * date format or time zone. */
corral_layout_t *corral_layout_pattern_new(const char *pattern, char **error);

#endif
