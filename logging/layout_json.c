/* layout_json.c: the json layout, with jansson. */
#include "layout_json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "date_format.h"

static int
set_new(json_t *object, const char *key, json_t *value)
{
    return value ? json_object_set_new(object, key, value) : -1;
}

static json_t *
level_name(corral_level_t level)
{
    char name[8];
    const char *label = corral_level_label(level);
    size_t length = strcspn(label, " ");
    memcpy(name, label, length);
    name[length] = '\0';
    return json_string(name);
}

/* The meta's keys where the record has none, at every depth: a meta's
 * event.duration joins the record's event.sequence; the record's own
 * fields win. */
static void
merge_missing(json_t *object, json_t *meta)
{
    const char *key;
    json_t *value;
    json_object_foreach(meta, key, value) {
        json_t *own = json_object_get(object, key);
        if (!own)
            json_object_set(object, key, value);
        else if (json_is_object(own) && json_is_object(value))
            merge_missing(own, value);
    }
}

static json_t *
record_object(corral_date_format_t *date_format, const corral_log_record_t *record)
{
    char date[CORRAL_DATE_MAX];
    corral_date_format(date_format, record->timestamp_ms, date);
    json_t *object = json_object();
    json_t *log = json_object();
    json_t *process = json_object();
    int rc = set_new(object, "@timestamp", json_string(date))
           | set_new(object, "message", json_string(record->message ? record->message : ""))
           | set_new(object, "log", log)
           | set_new(log, "level", level_name(record->level))
           | set_new(log, "logger", json_string(record->logger ? record->logger : ""))
           | set_new(object, "process", process)
           | set_new(process, "pid", json_integer(record->pid));
    if (record->worker) {
        json_t *worker = json_object();
        rc |= set_new(object, "worker", worker)
            | set_new(worker, "id", json_integer(record->worker_id))
            | set_new(worker, "name", json_string(record->worker));
    }
    if (record->seq)
        rc |= set_new(object, "event", json_pack("{sI}", "sequence", (json_int_t) record->seq));
    if (record->error && *record->error)
        rc |= set_new(object, "error", json_pack("{ss}", "message", record->error));
    if (record->meta && *record->meta) {
        json_t *meta = json_loads(record->meta, 0, NULL);
        if (json_is_object(meta))
            merge_missing(object, meta);
        else if (meta)
            json_object_set(object, "meta", meta);
        json_decref(meta);
    }
    if (rc != 0)
        json_decref(object);
    return rc == 0 ? object : NULL;
}

static int
json_format(void *state, const corral_log_record_t *record, corral_line_buffer_t *out)
{
    json_t *object = record_object(state, record);
    char *text = object ? json_dumps(object, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(object);
    int rc = text ? corral_line_buffer_puts(out, text) : -1;
    free(text);
    return rc == 0 ? corral_line_buffer_append(out, "\n", 1) : rc;
}

static void
json_free(void *state)
{
    corral_date_format_t *date_format = state;
    corral_date_format_destroy(&date_format);
}

corral_layout_t *
corral_layout_json_new(void)
{
    corral_date_format_t *date_format = corral_date_format_new(CORRAL_DATE_ISO8601_TZ, NULL);
    return date_format ? corral_layout_new(json_format, json_free, date_format) : NULL;
}
