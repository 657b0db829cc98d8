/* fuzz_layouts.c: libFuzzer target: the pattern layout (its pattern is
 * the input's first line) and the JSON layout, on a record whose fields
 * come from the rest of the input (NUL-separated: logger, message, meta,
 * error, worker), as a worker's LogBatch would carry them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layout_json.h"
#include "layout_pattern.h"

#define FIELDS 5

static void
format_with(corral_layout_t *layout, const corral_log_record_t *record)
{
    char storage[256];
    corral_line_buffer_t line = { storage, 0, sizeof storage, true };
    if (corral_layout_format(layout, record, &line) == 0
        && (line.length == 0 || line.data[line.length - 1] != '\n'))
        abort();            /* a line always ends in one newline */
    corral_line_buffer_free(&line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *rest = strchr(text, '\n');
    if (rest)
        *rest++ = '\0';
    const char *fields[FIELDS] = { NULL };
    for (int i = 0; rest && i < FIELDS; i++) {
        fields[i] = rest;
        size_t length = strlen(rest);
        rest = rest + length < text + size ? rest + length + 1 : NULL;
    }
    int64_t timestamp = 0;
    memcpy(&timestamp, data, size < sizeof timestamp ? size : sizeof timestamp);
    corral_log_record_t record = {
        .timestamp_ms = timestamp % (400LL * 365 * 24 * 3600 * 1000),
        .level = (corral_level_t) (size % (CORRAL_LEVEL_OFF + 1)),
        .logger = fields[0] ? fields[0] : "fuzz",
        .message = fields[1] ? fields[1] : "",
        .meta = fields[2] && *fields[2] ? fields[2] : NULL,
        .error = fields[3] && *fields[3] ? fields[3] : NULL,
        .pid = (pid_t) size,
        .worker_id = (int) (size % 3),
        .worker = fields[4],
        .seq = size,
    };
    char *error = NULL;
    corral_layout_t *pattern = corral_layout_pattern_new(text, &error);
    if (pattern)
        format_with(pattern, &record);
    corral_layout_destroy(&pattern);
    free(error);
    corral_layout_t *json = corral_layout_json_new();
    if (json)
        format_with(json, &record);
    corral_layout_destroy(&json);
    free(text);
    return 0;
}
