/* date_format.c: dates in Kibana's formats and a given time zone. Breaking
 * a time down in a named zone switches TZ for the call; that costs a
 * zone-file lookup, so the formatted second is cached and only the
 * milliseconds change between records of the same second. */
#include "date_format.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *const style_names[] = {
    "ISO8601", "ISO8601_TZ", "ABSOLUTE", "UNIX", "UNIX_MILLIS"
};

struct corral_date_format {
    corral_date_style_t style;
    char *zone;
    int64_t cached_second;      /* INT64_MIN: nothing cached */
    char before_millis[32];     /* "2012-02-01T09:30:22." */
    char after_millis[8];       /* "-05:00", "Z", or "" */
};

int
corral_date_style_parse(const char *text, corral_date_style_t *style)
{
    for (size_t i = 0; i < sizeof style_names / sizeof style_names[0]; i++)
        if (strcmp(text, style_names[i]) == 0) {
            *style = (corral_date_style_t) i;
            return 0;
        }
    return -1;
}

int
corral_date_zone_exists(const char *zone)
{
    if (!zone || !*zone || zone[0] == '/' || strstr(zone, ".."))
        return 0;
    if (strcasecmp(zone, "UTC") == 0)
        return 1;
    const char *dir = getenv("TZDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
    return access(path, R_OK) == 0;
}

corral_date_format_t *
corral_date_format_new(corral_date_style_t style, const char *zone)
{
    corral_date_format_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->style = style;
    self->cached_second = INT64_MIN;
    if (zone && *zone && !(self->zone = strdup(zone)))
        corral_date_format_destroy(&self);
    return self;
}

void
corral_date_format_destroy(corral_date_format_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->zone);
    free(*self_p);
    *self_p = NULL;
}

/* localtime_r in self->zone (TZ switched for the call, then restored). */
static void
break_down(const corral_date_format_t *self, time_t seconds, struct tm *out)
{
    if (self->style == CORRAL_DATE_ISO8601) {
        gmtime_r(&seconds, out);
        return;
    }
    if (!self->zone) {
        localtime_r(&seconds, out);
        return;
    }
    const char *previous = getenv("TZ");
    char *saved = previous ? strdup(previous) : NULL;
    setenv("TZ", self->zone, 1);
    tzset();
    localtime_r(&seconds, out);
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
}

static void
cache_second(corral_date_format_t *self, int64_t second)
{
    struct tm tm = { .tm_mday = 1 };
    break_down(self, (time_t) second, &tm);
    if (self->style == CORRAL_DATE_ABSOLUTE)
        strftime(self->before_millis, sizeof self->before_millis, "%H:%M:%S.", &tm);
    else {      /* ISO 8601 years have four digits; strftime's %Y may have fewer */
        int year = snprintf(self->before_millis, sizeof self->before_millis, "%04d",
                            tm.tm_year + 1900);
        strftime(self->before_millis + year, sizeof self->before_millis - (size_t) year,
                 "-%m-%dT%H:%M:%S.", &tm);
    }
    if (self->style == CORRAL_DATE_ISO8601)
        strcpy(self->after_millis, "Z");
    else if (self->style == CORRAL_DATE_ISO8601_TZ) {
        long offset = tm.tm_gmtoff;
        char sign = offset < 0 ? '-' : '+';
        offset = labs(offset);
        snprintf(self->after_millis, sizeof self->after_millis, "%c%02ld:%02ld", sign,
                 offset / 3600 % 100, offset / 60 % 60);
    }
    else
        self->after_millis[0] = '\0';
    self->cached_second = second;
}

/* Timestamps come from other processes' records: any int64. Dates are
 * shown for years 0 to 9999; anything outside is shown at the nearest end
 * (no negation overflows, every broken-down time fits the format). */
#define DATE_MIN_MS (-62167219200000LL)         /* 0000-01-01T00:00:00.000Z */
#define DATE_MAX_MS (253402300799999LL)         /* 9999-12-31T23:59:59.999Z */

size_t
corral_date_format(corral_date_format_t *self, int64_t timestamp_ms, char *out)
{
    if (self->style == CORRAL_DATE_UNIX_MILLIS) {
        int n = snprintf(out, CORRAL_DATE_MAX, "%" PRId64, timestamp_ms);
        return n < 0 ? 0 : (size_t) n;
    }
    timestamp_ms = timestamp_ms < DATE_MIN_MS ? DATE_MIN_MS
                 : timestamp_ms > DATE_MAX_MS ? DATE_MAX_MS : timestamp_ms;
    int64_t second = timestamp_ms >= 0 ? timestamp_ms / 1000 : -((-timestamp_ms + 999) / 1000);
    int millis = (int) (timestamp_ms - second * 1000);
    int n;
    switch (self->style) {
    case CORRAL_DATE_UNIX:
        n = snprintf(out, CORRAL_DATE_MAX, "%" PRId64, second);
        break;
    default: {   /* by hand: this runs for every record */
        if (second != self->cached_second)
            cache_second(self, second);
        size_t before = strlen(self->before_millis), after = strlen(self->after_millis);
        memcpy(out, self->before_millis, before);
        out[before] = (char) ('0' + millis / 100);
        out[before + 1] = (char) ('0' + millis / 10 % 10);
        out[before + 2] = (char) ('0' + millis % 10);
        memcpy(out + before + 3, self->after_millis, after + 1);
        n = (int) (before + 3 + after);
    }
    }
    return n < 0 ? 0 : (size_t) n;
}
