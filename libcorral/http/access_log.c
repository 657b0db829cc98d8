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

/* corral_line_buffer_append's work, inlined while the bytes fit (they
 * do but for a huge target or header): a call per field was a third of
 * the line's cost. The NUL comes at the end (terminate). */
static inline void
put_bytes(corral_line_buffer_t *out, const char *bytes, size_t length)
{
    if (out->length + length < out->capacity) {
        memcpy(out->data + out->length, bytes, length);
        out->length += length;
    }
    else
        corral_line_buffer_append(out, bytes, length);
}

static void
terminate(corral_line_buffer_t *out)
{
    put_bytes(out, "", 1);
    out->length--;
}

/* A string literal, its length known at compile time. */
#define PUT(out, literal) put_bytes((out), (literal), sizeof (literal) - 1)

/* The bytes each escaping writes otherwise than as themselves; NUL
 * ends the scan. Tables, so that the loop over a field is one lookup a
 * byte. */
static const unsigned char json_special[256] = {
    [0] = 1, [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1, [8] = 1, [9] = 1, [10] = 1, [11] = 1, [12] = 1, [13] = 1, [14] = 1, [15] = 1, [16] = 1, [17] = 1, [18] = 1, [19] = 1, [20] = 1, [21] = 1, [22] = 1, [23] = 1, [24] = 1, [25] = 1, [26] = 1, [27] = 1, [28] = 1, [29] = 1, [30] = 1, [31] = 1,
    ['"'] = 1, ['\\'] = 1,
};
static const unsigned char quoted_special[256] = {
    [0] = 1, [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1, [8] = 1, [9] = 1, [10] = 1, [11] = 1, [12] = 1, [13] = 1, [14] = 1, [15] = 1, [16] = 1, [17] = 1, [18] = 1, [19] = 1, [20] = 1, [21] = 1, [22] = 1, [23] = 1, [24] = 1, [25] = 1, [26] = 1, [27] = 1, [28] = 1, [29] = 1, [30] = 1, [31] = 1,
    ['"'] = 1, ['\\'] = 1, [0x7f] = 1,
};

/* Writes the escape of `byte` into `escape` (6 bytes); returns its length. */
typedef size_t (escape_fn)(unsigned char byte, char *escape);

/* Appends `text`, the bytes marked in `special` through `escape`: runs of
 * plain bytes are copied whole. */
static inline void
put_escaping(corral_line_buffer_t *out, const char *text, const unsigned char *special,
             escape_fn *escape)
{
    const char *run = text, *c = text;
    for (;; c++) {
        while (!special[(unsigned char) *c])
            c++;
        if (!*c)
            break;
        put_bytes(out, run, (size_t) (c - run));
        char escaped[6];
        put_bytes(out, escaped, escape((unsigned char) *c, escaped));
        run = c + 1;
    }
    put_bytes(out, run, (size_t) (c - run));
}

/* JSON: \" \\ and \u00XX */
static size_t
json_escape(unsigned char byte, char *escape)
{
    static const char hex[] = "0123456789abcdef";
    escape[0] = '\\';
    if (byte >= 0x20) {
        escape[1] = (char) byte;
        return 2;
    }
    memcpy(escape + 1, "u00", 3);
    escape[4] = hex[byte >> 4];
    escape[5] = hex[byte & 15];
    return 6;
}

/* nginx's: \xHH */
static size_t
hex_escape(unsigned char byte, char *escape)
{
    static const char hex[] = "0123456789ABCDEF";
    escape[0] = '\\';
    escape[1] = 'x';
    escape[2] = hex[byte >> 4];
    escape[3] = hex[byte & 15];
    return 4;
}

/* Appends `text` as the inside of a JSON string. */
static void
put_json_string(corral_line_buffer_t *out, const char *text)
{
    put_escaping(out, text, json_special, json_escape);
}

/* Appends `text` as nginx writes what goes between quotes ($request,
 * $http_user_agent): '"', '\\' and control bytes as \xHH, so that the
 * line splits on its quotes whatever a client sent. */
static void
put_unquotable(corral_line_buffer_t *out, const char *text)
{
    put_escaping(out, text, quoted_special, hex_escape);
}

/* "text", or "-" for NULL */
static void
put_quoted(corral_line_buffer_t *out, const char *text)
{
    PUT(out, "\"");
    put_unquotable(out, text ? text : "-");
    PUT(out, "\"");
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
    PUT(out, ".");
    put_bytes(out, zeros, (size_t) (6 - digits));
    corral_line_buffer_put_uint(out, fraction);
}

/* What one line says, gathered once for both the message and the meta. */
typedef struct {
    const corral_http_exchange_t *exchange;
    const char *method, *version;
    const char *path;           /* decoded, for url.path */
    const char *target;         /* as sent: the request line's and url.original */
    const char *query;          /* within target, after its '?'; NULL: none */
    const char *client, *user_agent, *referrer;
    int64_t duration_us;
} line_t;

/* nginx's combined format, less the time the layout already writes, plus
 * the duration in seconds:
 * 127.0.0.1 - - "GET /api/hello?name=x HTTP/1.1" 200 19 "-" "curl/8.5.0" 0.000042 */
static void
put_message(corral_line_buffer_t *out, const line_t *line)
{
    put_bytes(out, line->client, strlen(line->client));
    PUT(out, " - - \"");
    put_unquotable(out, line->method);
    PUT(out, " ");
    put_unquotable(out, line->target);
    if (line->version) {
        PUT(out, " ");
        put_unquotable(out, line->version);
    }
    PUT(out, "\" ");
    corral_line_buffer_put_uint(out, line->exchange->status);
    PUT(out, " ");
    corral_line_buffer_put_uint(out, line->exchange->response_bytes);
    PUT(out, " ");
    put_quoted(out, line->referrer);
    PUT(out, " ");
    put_quoted(out, line->user_agent);
    PUT(out, " ");
    put_seconds(out, line->duration_us);
    if (!line->exchange->completed)
        PUT(out, " (not completed)");
}

/* ECS fields, for the json layout and %meta. */
static void
put_meta(corral_line_buffer_t *out, const line_t *line)
{
    PUT(out, "{\"client\":{\"ip\":\"");
    put_json_string(out, line->client);
    PUT(out, "\"},\"http\":{");
    if (line->version) {
        PUT(out, "\"version\":\"");
        put_json_string(out, strncmp(line->version, "HTTP/", 5) == 0 ? line->version + 5
                                                                    : line->version);
        PUT(out, "\",");
    }
    PUT(out, "\"request\":{\"method\":\"");
    put_json_string(out, line->method);
    if (line->referrer) {
        PUT(out, "\",\"referrer\":\"");
        put_json_string(out, line->referrer);
    }
    PUT(out, "\"},\"response\":{\"status_code\":");
    corral_line_buffer_put_uint(out, line->exchange->status);
    PUT(out, ",\"body\":{\"bytes\":");
    corral_line_buffer_put_uint(out, line->exchange->response_bytes);
    PUT(out, "}}},\"url\":{\"path\":\"");
    put_json_string(out, line->path);
    if (line->query) {
        PUT(out, "\",\"query\":\"");
        put_json_string(out, line->query);
    }
    PUT(out, "\",\"original\":\"");
    put_json_string(out, line->target);
    PUT(out, "\"}");
    if (line->user_agent) {
        PUT(out, ",\"user_agent\":{\"original\":\"");
        put_json_string(out, line->user_agent);
        PUT(out, "\"}");
    }
    PUT(out, ",\"event\":{\"duration\":");
    corral_line_buffer_put_uint(out, (uint64_t) line->duration_us * 1000);
    PUT(out, "}}");
}

static void
log_exchange(const corral_http_exchange_t *exchange, void *arg)
{
    if (!corral_log_logger_enabled(CORRAL_LEVEL_DEBUG, CORRAL_ACCESS_LOGGER))
        return;
    char client[64];
    const char *mark = exchange->target ? strchr(exchange->target, '?') : NULL;
    line_t line = {
        .exchange = exchange,
        .method = exchange->method ? exchange->method : "-",
        .path = exchange->path ? exchange->path : "-",
        .target = exchange->target ? exchange->target : exchange->path ? exchange->path : "-",
        .query = mark ? mark + 1 : NULL,
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
    terminate(&message);
    terminate(&meta);
    corral_log_text(CORRAL_LEVEL_DEBUG, CORRAL_ACCESS_LOGGER, meta.data, NULL, message.data);
    corral_line_buffer_free(&message);
    corral_line_buffer_free(&meta);
}

int
corral_access_log_attach(corral_http_server_t *http)
{
    return corral_http_server_observe(http, log_exchange, NULL);
}
