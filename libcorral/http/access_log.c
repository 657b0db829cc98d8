/* access_log.c: the access log, an observer of the HTTP server. One record
 * per request: its message in nginx's combined format (less the time,
 * which the layout writes), its meta in ECS fields for the json layout.
 * Both are built by hand, not with printf: at tens of thousands of
 * requests a second per worker, printf's format parsing was most of the
 * access log's cost. */
#include "access_log.h"

#include <string.h>

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

/* Appends `text` as nginx writes what goes between quotes ($request,
 * $http_user_agent): '"', '\\' and control bytes as \xHH, so that the
 * line splits on its quotes whatever a client sent. */
static void
put_unquotable(corral_line_buffer_t *out, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *run = text;
    for (const char *c = text; *c; c++) {
        unsigned char byte = (unsigned char) *c;
        if (byte != '"' && byte != '\\' && byte >= 0x20 && byte != 0x7f)
            continue;
        corral_line_buffer_append(out, run, (size_t) (c - run));
        char escape[4] = { '\\', 'x', hex[byte >> 4], hex[byte & 15] };
        corral_line_buffer_append(out, escape, 4);
        run = c + 1;
    }
    corral_line_buffer_puts(out, run);
}

/* "text", or "-" for NULL */
static void
put_quoted(corral_line_buffer_t *out, const char *text)
{
    corral_line_buffer_puts(out, "\"");
    put_unquotable(out, text ? text : "-");
    corral_line_buffer_puts(out, "\"");
}

/* Microseconds as seconds: "0.000042" (nginx's $request_time, finer). */
static void
put_seconds(corral_line_buffer_t *out, int64_t us)
{
    static const char zeros[] = "000000";
    uint64_t fraction = (uint64_t) (us % 1000000);
    int digits = 1;
    for (uint64_t rest = fraction; rest >= 10; rest /= 10)
        digits++;
    corral_line_buffer_put_uint(out, (uint64_t) (us / 1000000));
    corral_line_buffer_puts(out, ".");
    corral_line_buffer_append(out, zeros, (size_t) (6 - digits));
    corral_line_buffer_put_uint(out, fraction);
}

/* What one line says, gathered once for both the message and the meta. */
typedef struct {
    const corral_http_exchange_t *exchange;
    const char *method, *path, *query, *version;
    const char *client, *user_agent, *referrer;
    int64_t duration_us;
} line_t;

/* nginx's combined format, less the time the layout already writes, plus
 * the duration in seconds:
 * 127.0.0.1 - - "GET /api/hello?name=x HTTP/1.1" 200 19 "-" "curl/8.5.0" 0.000042 */
static void
put_message(corral_line_buffer_t *out, const line_t *line)
{
    corral_line_buffer_puts(out, line->client);
    corral_line_buffer_puts(out, " - - \"");
    put_unquotable(out, line->method);
    corral_line_buffer_puts(out, " ");
    put_unquotable(out, line->path);
    if (line->query) {
        corral_line_buffer_puts(out, "?");
        put_unquotable(out, line->query);
    }
    if (line->version) {
        corral_line_buffer_puts(out, " ");
        put_unquotable(out, line->version);
    }
    corral_line_buffer_puts(out, "\" ");
    corral_line_buffer_put_uint(out, line->exchange->status);
    corral_line_buffer_puts(out, " ");
    corral_line_buffer_put_uint(out, line->exchange->response_bytes);
    corral_line_buffer_puts(out, " ");
    put_quoted(out, line->referrer);
    corral_line_buffer_puts(out, " ");
    put_quoted(out, line->user_agent);
    corral_line_buffer_puts(out, " ");
    put_seconds(out, line->duration_us);
    if (!line->exchange->completed)
        corral_line_buffer_puts(out, " (not completed)");
}

/* ECS fields, for the json layout and %meta. */
static void
put_meta(corral_line_buffer_t *out, const line_t *line)
{
    corral_line_buffer_puts(out, "{\"client\":{\"ip\":\"");
    put_json_string(out, line->client);
    corral_line_buffer_puts(out, "\"},\"http\":{");
    if (line->version) {
        corral_line_buffer_puts(out, "\"version\":\"");
        put_json_string(out, strncmp(line->version, "HTTP/", 5) == 0 ? line->version + 5
                                                                    : line->version);
        corral_line_buffer_puts(out, "\",");
    }
    corral_line_buffer_puts(out, "\"request\":{\"method\":\"");
    put_json_string(out, line->method);
    if (line->referrer) {
        corral_line_buffer_puts(out, "\",\"referrer\":\"");
        put_json_string(out, line->referrer);
    }
    corral_line_buffer_puts(out, "\"},\"response\":{\"status_code\":");
    corral_line_buffer_put_uint(out, line->exchange->status);
    corral_line_buffer_puts(out, ",\"body\":{\"bytes\":");
    corral_line_buffer_put_uint(out, line->exchange->response_bytes);
    corral_line_buffer_puts(out, "}}},\"url\":{\"path\":\"");
    put_json_string(out, line->path);
    if (line->query) {
        corral_line_buffer_puts(out, "\",\"query\":\"");
        put_json_string(out, line->query);
    }
    corral_line_buffer_puts(out, "\",\"original\":\"");
    put_json_string(out, line->path);
    if (line->query) {
        corral_line_buffer_puts(out, "?");
        put_json_string(out, line->query);
    }
    corral_line_buffer_puts(out, "\"}");
    if (line->user_agent) {
        corral_line_buffer_puts(out, ",\"user_agent\":{\"original\":\"");
        put_json_string(out, line->user_agent);
        corral_line_buffer_puts(out, "\"}");
    }
    corral_line_buffer_puts(out, ",\"event\":{\"duration\":");
    corral_line_buffer_put_uint(out, (uint64_t) line->duration_us * 1000);
    corral_line_buffer_puts(out, "}}");
}

static void
log_exchange(const corral_http_exchange_t *exchange, void *arg)
{
    if (!corral_log_logger_enabled(CORRAL_LEVEL_DEBUG, CORRAL_ACCESS_LOGGER))
        return;
    char client[64];
    line_t line = {
        .exchange = exchange,
        .method = exchange->method ? exchange->method : "-",
        .path = exchange->path ? exchange->path : "-",
        .query = exchange->query,
        .version = exchange->version,
        .client = corral_http_exchange_client(exchange, client, sizeof client),
        .user_agent = corral_http_exchange_header(exchange, "User-Agent"),
        .referrer = corral_http_exchange_header(exchange, "Referer"),
        .duration_us = exchange->duration_us > 0 ? exchange->duration_us : 0,
    };
    char message_storage[LINE_BYTES], meta_storage[LINE_BYTES];
    corral_line_buffer_t message = CORRAL_LINE_BUFFER_ON(message_storage);
    corral_line_buffer_t meta = CORRAL_LINE_BUFFER_ON(meta_storage);
    put_message(&message, &line);
    put_meta(&meta, &line);
    corral_log_text(CORRAL_LEVEL_DEBUG, CORRAL_ACCESS_LOGGER, meta.data, NULL, message.data);
    corral_line_buffer_free(&message);
    corral_line_buffer_free(&meta);
}

int
corral_access_log_attach(corral_http_server_t *http)
{
    return corral_http_server_observe(http, log_exchange, NULL);
}
