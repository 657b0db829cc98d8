/* access_log.c: the access log, an observer of the HTTP server. One record
 * per request, so the line and its meta are built by hand, not with
 * printf: at tens of thousands of requests a second per worker, printf's
 * format parsing was most of the access log's cost. */
#include "access_log.h"

#include "line_buffer.h"
#include "log.h"

#define LINE_BYTES 2048

/* Appends `text` as the inside of a JSON string. */
static void
put_json_string(corral_line_buffer_t *out, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = text;
    for (const char *c = text; *c; c++) {
        unsigned char byte = (unsigned char) *c;
        if (byte != '"' && byte != '\\' && byte >= 0x20)
            continue;
        corral_line_buffer_append(out, run, (size_t) (c - run));
        char escape[6] = { '\\', (char) byte, 0 };
        if (byte < 0x20) {
            escape[1] = 'u';
            escape[2] = escape[3] = '0';
            escape[4] = hex[byte >> 4];
            escape[5] = hex[byte & 15];
        }
        corral_line_buffer_append(out, escape, byte < 0x20 ? 6 : 2);
        run = c + 1;
    }
    corral_line_buffer_puts(out, run);
}

/* "GET /api/hello 200 0.123ms 17B" */
static void
put_message(corral_line_buffer_t *out, const corral_http_exchange_t *exchange,
            const char *method, const char *path)
{
    static const char *const fraction[] = { ".", ".0", ".00" };
    int64_t us = exchange->duration_us > 0 ? exchange->duration_us : 0;
    uint64_t thousandths = (uint64_t) (us % 1000);
    corral_line_buffer_puts(out, method);
    corral_line_buffer_puts(out, " ");
    corral_line_buffer_puts(out, path);
    corral_line_buffer_puts(out, " ");
    corral_line_buffer_put_uint(out, exchange->status);
    corral_line_buffer_puts(out, " ");
    corral_line_buffer_put_uint(out, (uint64_t) (us / 1000));
    corral_line_buffer_puts(out, fraction[thousandths >= 100 ? 0 : thousandths >= 10 ? 1 : 2]);
    corral_line_buffer_put_uint(out, thousandths);
    corral_line_buffer_puts(out, "ms ");
    corral_line_buffer_put_uint(out, exchange->response_bytes);
    corral_line_buffer_puts(out, exchange->completed ? "B" : "B (not completed)");
}

/* ECS fields, for the json layout and %meta. */
static void
put_meta(corral_line_buffer_t *out, const corral_http_exchange_t *exchange,
         const char *method, const char *path)
{
    corral_line_buffer_puts(out, "{\"http\":{\"request\":{\"method\":\"");
    put_json_string(out, method);
    corral_line_buffer_puts(out, "\"},\"response\":{\"status_code\":");
    corral_line_buffer_put_uint(out, exchange->status);
    corral_line_buffer_puts(out, ",\"body\":{\"bytes\":");
    corral_line_buffer_put_uint(out, exchange->response_bytes);
    corral_line_buffer_puts(out, "}}},\"url\":{\"path\":\"");
    put_json_string(out, path);
    corral_line_buffer_puts(out, "\"},\"event\":{\"duration\":");
    corral_line_buffer_put_uint(out, (uint64_t) (exchange->duration_us > 0
                                                 ? exchange->duration_us : 0) * 1000);
    corral_line_buffer_puts(out, "}}");
}

static void
log_exchange(const corral_http_exchange_t *exchange, void *arg)
{
    if (!corral_log_logger_enabled(CORRAL_LEVEL_DEBUG, CORRAL_ACCESS_LOGGER))
        return;
    const char *method = exchange->method ? exchange->method : "-";
    const char *path = exchange->path ? exchange->path : "-";
    char message_storage[LINE_BYTES], meta_storage[LINE_BYTES];
    corral_line_buffer_t message = CORRAL_LINE_BUFFER_ON(message_storage);
    corral_line_buffer_t meta = CORRAL_LINE_BUFFER_ON(meta_storage);
    put_message(&message, exchange, method, path);
    put_meta(&meta, exchange, method, path);
    corral_log_text(CORRAL_LEVEL_DEBUG, CORRAL_ACCESS_LOGGER, meta.data, NULL, message.data);
    corral_line_buffer_free(&message);
    corral_line_buffer_free(&meta);
}

int
corral_access_log_attach(corral_http_server_t *http)
{
    return corral_http_server_observe(http, log_exchange, NULL);
}
