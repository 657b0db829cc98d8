/* layout_pattern.c: the pattern layout, compiled once into segments. */
#include "layout_pattern.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date_format.h"

typedef enum {
    SEGMENT_LITERAL, SEGMENT_DATE, SEGMENT_LEVEL, SEGMENT_LOGGER, SEGMENT_MESSAGE,
    SEGMENT_META, SEGMENT_PID, SEGMENT_WORKER
} segment_kind_t;

typedef struct {
    segment_kind_t kind;
    const char *text;           /* literal: into the pattern copy */
    size_t length;
    corral_date_format_t *date;
} segment_t;

typedef struct {
    char *pattern;
    segment_t *segments;
    size_t count;
} pattern_t;

static const struct {
    const char *name;
    segment_kind_t kind;
} conversions[] = {
    { "%date", SEGMENT_DATE }, { "%level", SEGMENT_LEVEL }, { "%logger", SEGMENT_LOGGER },
    { "%message", SEGMENT_MESSAGE }, { "%meta", SEGMENT_META }, { "%pid", SEGMENT_PID },
    { "%worker", SEGMENT_WORKER },
};

static void
pattern_free(void *state)
{
    pattern_t *self = state;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        corral_date_format_destroy(&self->segments[i].date);
    free(self->segments);
    free(self->pattern);
    free(self);
}

static char *error_text(const char *format, ...) __attribute__((format(printf, 1, 2)));

static char *
error_text(const char *format, ...)
{
    char *text = NULL;
    va_list args;
    va_start(args, format);
    if (vasprintf(&text, format, args) < 0)
        text = NULL;
    va_end(args);
    return text;
}

/* After "%date": optional {FORMAT} then optional {TIME ZONE}. Advances *at. */
static corral_date_format_t *
parse_date(const char **at, char **error)
{
    char arguments[2][64] = { "ISO8601", "" };
    for (int i = 0; i < 2 && **at == '{'; i++) {
        const char *close = strchr(*at, '}');
        size_t length = close ? (size_t) (close - *at - 1) : 0;
        if (!close || length == 0 || length >= sizeof arguments[i]) {
            *error = error_text("%%date: unterminated or bad {...} in \"%s\"", *at);
            return NULL;
        }
        memcpy(arguments[i], *at + 1, length);
        arguments[i][length] = '\0';
        *at = close + 1;
    }
    corral_date_style_t style;
    if (corral_date_style_parse(arguments[0], &style) != 0) {
        *error = error_text("%%date: unknown format \"%s\" (ISO8601, ISO8601_TZ, "
                            "ABSOLUTE, UNIX, UNIX_MILLIS)", arguments[0]);
        return NULL;
    }
    if (*arguments[1] && !corral_date_zone_exists(arguments[1])) {
        *error = error_text("%%date: unknown time zone \"%s\"", arguments[1]);
        return NULL;
    }
    corral_date_format_t *date = corral_date_format_new(style, *arguments[1] ? arguments[1] : NULL);
    if (!date)
        *error = strdup("out of memory");
    return date;
}

static int
compile(pattern_t *self, char **error)
{
    const char *at = self->pattern;
    while (*at) {
        segment_t *segment = &self->segments[self->count];
        *segment = (segment_t) { SEGMENT_LITERAL, at, 0, NULL };
        size_t name_length = 0;
        for (size_t i = 0; *at == '%' && i < sizeof conversions / sizeof conversions[0]; i++) {
            size_t length = strlen(conversions[i].name);
            if (strncmp(at, conversions[i].name, length) == 0 && length > name_length) {
                name_length = length;
                segment->kind = conversions[i].kind;
            }
        }
        if (name_length == 0) {         /* literal text up to the next % */
            const char *next = strchr(at + 1, '%');
            segment->length = next ? (size_t) (next - at) : strlen(at);
            at += segment->length;
        }
        else {
            at += name_length;
            if (segment->kind == SEGMENT_DATE && !(segment->date = parse_date(&at, error)))
                return -1;
        }
        self->count++;
    }
    return 0;
}

/* Every text in a record may have come from outside (a request path, a
 * status summary, a worker's frame): escaped, so that it cannot forge a
 * line or send escape codes to a terminal. */
static int
put_text(corral_line_buffer_t *out, const char *text)
{
    return text ? corral_line_buffer_put_escaped(out, text) : 0;
}

static int
pattern_format(void *state, const corral_log_record_t *record, corral_line_buffer_t *out)
{
    pattern_t *self = state;
    int rc = 0;
    char date[CORRAL_DATE_MAX];
    for (size_t i = 0; rc == 0 && i < self->count; i++) {
        const segment_t *segment = &self->segments[i];
        switch (segment->kind) {
        case SEGMENT_LITERAL:
            rc = corral_line_buffer_append(out, segment->text, segment->length);
            break;
        case SEGMENT_DATE:
            rc = corral_line_buffer_append(out, date,
                                           corral_date_format(segment->date,
                                                              record->timestamp_ms, date));
            break;
        case SEGMENT_LEVEL:
            rc = corral_line_buffer_puts(out, corral_level_label(record->level));
            break;
        case SEGMENT_LOGGER:
            rc = put_text(out, record->logger);
            break;
        case SEGMENT_MESSAGE:
            rc = put_text(out, record->message);
            if (rc == 0 && record->error && *record->error)
                rc = corral_line_buffer_append(out, " (", 2) || put_text(out, record->error)
                     || corral_line_buffer_append(out, ")", 1) ? -1 : 0;
            break;
        case SEGMENT_META:
            rc = put_text(out, record->meta);
            break;
        case SEGMENT_PID:
            rc = corral_line_buffer_printf(out, "%d", (int) record->pid);
            break;
        case SEGMENT_WORKER:
            rc = put_text(out, record->worker);
            break;
        }
    }
    return rc == 0 ? corral_line_buffer_append(out, "\n", 1) : rc;
}

corral_layout_t *
corral_layout_pattern_new(const char *pattern, char **error)
{
    *error = NULL;
    pattern_t *self = calloc(1, sizeof *self);
    if (self && (self->pattern = strdup(pattern)))
        self->segments = calloc(strlen(pattern) + 1, sizeof *self->segments);
    if (!self || !self->segments) {
        pattern_free(self);
        *error = strdup("out of memory");
        return NULL;
    }
    if (compile(self, error) != 0) {
        pattern_free(self);
        return NULL;
    }
    return corral_layout_new(pattern_format, pattern_free, self);
}
