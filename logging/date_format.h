/* date_format.h: the %date conversion's formats, as in Kibana's pattern
 * layout: ISO8601 (UTC, "2012-02-01T14:30:22.011Z"), ISO8601_TZ (in the
 * time zone, "2012-02-01T09:30:22.011-05:00"), ABSOLUTE ("09:30:22.011"),
 * UNIX (seconds) and UNIX_MILLIS. The time zone is an IANA name
 * ("America/Los_Angeles"), or local time when none is given. */
#ifndef CORRAL_DATE_FORMAT_H
#define CORRAL_DATE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CORRAL_DATE_ISO8601,
    CORRAL_DATE_ISO8601_TZ,
    CORRAL_DATE_ABSOLUTE,
    CORRAL_DATE_UNIX,
    CORRAL_DATE_UNIX_MILLIS
} corral_date_style_t;

#define CORRAL_DATE_MAX 40      /* the longest formatted date, with its NUL */

/* Returns 0, or -1 if `text` names no format. */
int corral_date_style_parse(const char *text, corral_date_style_t *style);

/* True if `zone` names a time zone this system knows. */
int corral_date_zone_exists(const char *zone);

typedef struct corral_date_format corral_date_format_t;

/* zone: an IANA name, or NULL for local time. */
corral_date_format_t *corral_date_format_new(corral_date_style_t style, const char *zone);
void corral_date_format_destroy(corral_date_format_t **self_p);

/* Writes the date of `timestamp_ms` into out (CORRAL_DATE_MAX bytes).
 * Returns its length. */
size_t corral_date_format(corral_date_format_t *self, int64_t timestamp_ms, char *out);

#endif
