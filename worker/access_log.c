/* access_log.c: the access log, an observer of the HTTP server. */
#include "access_log.h"

#include <stdio.h>

#include "log.h"

/* Copies `text` into out as the inside of a JSON string. */
static void
json_escape(const char *text, char *out, size_t size)
{
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *) text; *c && n + 7 < size; c++) {
        if (*c == '"' || *c == '\\') {
            out[n++] = '\\';
            out[n++] = (char) *c;
        }
        else if (*c < 0x20)
            n += (size_t) snprintf(out + n, size - n, "\\u%04x", *c);
        else
            out[n++] = (char) *c;
    }
    out[n] = '\0';
}

static void
log_exchange(const corral_http_exchange_t *exchange, void *arg)
{
    if (!corral_log_logger_enabled(CORRAL_LEVEL_DEBUG, CORRAL_ACCESS_LOGGER))
        return;
    char path[1024], method[32], meta[1400];
    json_escape(exchange->path ? exchange->path : "", path, sizeof path);
    json_escape(exchange->method ? exchange->method : "", method, sizeof method);
    snprintf(meta, sizeof meta,
             "{\"http\":{\"request\":{\"method\":\"%s\"},\"response\":{\"status_code\":%u,"
             "\"body\":{\"bytes\":%zu}}},\"url\":{\"path\":\"%s\"},"
             "\"event\":{\"duration\":%lld}}",
             method, exchange->status, exchange->response_bytes, path,
             (long long) exchange->duration_us * 1000);
    corral_log_meta(CORRAL_LEVEL_DEBUG, CORRAL_ACCESS_LOGGER, meta, NULL,
                    "%s %s %u %lld.%03lldms %zuB%s", exchange->method ? exchange->method : "-",
                    exchange->path ? exchange->path : "-", exchange->status,
                    (long long) exchange->duration_us / 1000,
                    (long long) exchange->duration_us % 1000, exchange->response_bytes,
                    exchange->completed ? "" : " (not completed)");
}

int
corral_access_log_attach(corral_http_server_t *http)
{
    return corral_http_server_observe(http, log_exchange, NULL);
}
