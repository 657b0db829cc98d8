/* http_framing.c: the request checks that libmicrohttpd leaves to us.
 *
 * Bookworm's libmicrohttpd (0.9.75) takes Transfer-Encoding over
 * Content-Length, reads the first of two Content-Lengths, waits for the
 * close on an unknown coding, serves HTTP/1.1 without Host, and keeps NUL,
 * bare CR and other control characters in header lines. (Its strict mode,
 * MHD_OPTION_STRICT_FOR_CLIENT, refuses a missing Host, but sends the 400's
 * status line and headers twice; so Host is checked here too.) Each of those lets a proxy in front and this
 * server disagree on where a request ends (request smuggling), so each is
 * refused here, as RFC 9112 sections 6.1 and 6.3 and RFC 9110 section 5.5
 * say, before any route sees the request.
 *
 * A NUL in a header value is the one thing the parsed headers cannot show:
 * libmicrohttpd cuts the value there. In 0.9.75 the header section stays
 * in the connection's read buffer, with only the colons and line ends
 * overwritten by NULs, and every parsed name and value points into it; so
 * the bytes between them must be exactly those separators, and anything
 * else is a byte the parse dropped. libmicrohttpd 1.0 refuses NUL and bare
 * CR itself.
 *
 * An Expect: 100-continue request whose Content-Length is over the body
 * limit is refused here, on the first call, so that libmicrohttpd does
 * not answer "100 Continue" (it sends that only when no response is
 * queued yet) and the client sends no body.
 *
 * What 0.9.75 refuses itself, before any callback of ours sees the
 * headers (a Content-Length with a sign, a list, blanks inside or over
 * 2^64), it answers with its status line and headers twice; and a chunk
 * size or chunk extension it accepts is never shown to us (only the chunk
 * data is). Those are not reachable from here: see docs/http.md. */
#include "http_framing.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http_request.h"

/* RFC 9110 section 5.6.2 */
static bool
is_token(const char *text, size_t length)
{
    static const char specials[] = "!#$%&'*+-.^_`|~";
    if (length == 0)
        return false;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char) text[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c && strchr(specials, c))))
            return false;
    }
    return true;
}

/* RFC 9110 section 8.6: Content-Length = 1*DIGIT, nothing else (no sign,
 * no list, no blank around it: libmicrohttpd hands the value over
 * trimmed, so a blank here was inside). */
static bool
all_digits(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (text[i] < '0' || text[i] > '9')
            return false;
    return true;
}

/* Field values: no control character but HTAB (RFC 9110 section 5.5). */
static bool
is_field_value(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char) text[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

unsigned
corral_http_framing_content_length(const char *value, size_t length, uint64_t limit)
{
    if (length == 0 || length > 20)
        return length == 0 ? 400 : all_digits(value, length) ? 413 : 400;
    if (!all_digits(value, length))
        return 400;
    uint64_t declared = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned digit = (unsigned) (value[i] - '0');
        if (declared > (UINT64_MAX - digit) / 10)
            return 413;         /* 2^64 and beyond: larger than any limit */
        declared = declared * 10 + digit;
    }
    return declared > limit ? 413 : 0;
}

typedef struct {
    const char *problem;            /* the first one found */
    unsigned status;
    unsigned content_lengths;
    unsigned transfer_encodings;
    unsigned hosts;
    unsigned content_length_status;     /* corral_http_framing_content_length's */
    bool expects_continue;              /* Expect: 100-continue */
    const char *transfer_encoding;
    size_t transfer_encoding_length;
    /* the walk over the header section (0.9.75) */
    bool walk;
    const char *at;                 /* where the next header line must start */
    const char *end;                /* past the header section */
} check_t;

static void
refuse(check_t *self, unsigned status, const char *problem)
{
    if (!self->problem) {
        self->problem = problem;
        self->status = status;
    }
}

/* The bytes from self->at to `next` are `least` to `most` NULs. */
static bool
only_separators(const check_t *self, const char *next, size_t least, size_t most)
{
    if (next < self->at || next > self->end || (size_t) (next - self->at) < least
        || (size_t) (next - self->at) > most)
        return false;
    for (const char *c = self->at; c < next; c++)
        if (*c != '\0')
            return false;
    return true;
}

/* key: the line starts right after the previous one's CRLF (or LF);
 * then the colon, now a NUL; then spaces or tabs up to the value. */
static void
walk_header(check_t *self, const char *key, size_t key_size, const char *value,
            size_t value_size)
{
    if (!only_separators(self, key, 1, 2) || key + key_size >= self->end
        || key[key_size] != '\0') {
        refuse(self, 400, "a header line holds a NUL or is folded");
        self->walk = false;
        return;
    }
    self->at = key + key_size + 1;
    while (self->at < value && self->at < self->end && (*self->at == ' ' || *self->at == '\t'))
        self->at++;
    if (self->at != value || value + value_size >= self->end) {
        refuse(self, 400, "a header line holds a NUL or is folded");
        self->walk = false;
        return;
    }
    self->at = value + value_size;
}

static enum MHD_Result
check_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
             const char *value, size_t value_size)
{
    check_t *self = cls;
    if (!is_token(key, key_size))
        refuse(self, 400, "a header name is not a token");
    if (!is_field_value(value, value_size))
        refuse(self, 400, "a header value holds a control character (NUL, CR, ...)");
    if (self->walk)
        walk_header(self, key, key_size, value, value_size);
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        self->content_lengths++;
        self->content_length_status = corral_http_framing_content_length(value, value_size,
                                                                         CORRAL_MAX_BODY_BYTES);
        if (self->content_length_status == 400)
            refuse(self, 400, "a Content-Length that is not plain digits");
    }
    else if (strcasecmp(key, MHD_HTTP_HEADER_EXPECT) == 0)
        self->expects_continue = strcasecmp(value, "100-continue") == 0;
    else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
        self->hosts++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        self->transfer_encodings++;
        self->transfer_encoding = value;
        self->transfer_encoding_length = value_size;
    }
    return MHD_YES;
}

/* Whether the coding list ends with "chunked", and is nothing else. */
static void
check_transfer_encoding(check_t *self)
{
    const char *value = self->transfer_encoding;
    size_t length = self->transfer_encoding_length;
    while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\t'))
        length--;
    static const char chunked[] = "chunked";
    size_t n = sizeof chunked - 1;
    if (self->transfer_encodings > 1)
        refuse(self, 400, "several Transfer-Encoding headers");
    else if (length == n && strncasecmp(value, chunked, n) == 0)
        return;
    else if (length > n && strncasecmp(value + length - n, chunked, n) == 0
             && (value[length - n - 1] == ',' || value[length - n - 1] == ' '))
        refuse(self, 501, "a transfer coding other than chunked");
    else
        refuse(self, 400, "a Transfer-Encoding that does not end with chunked");
}

/* "%00" in the path, before any query: the path a route sees is
 * decoded, and would end there. */
static bool
path_encodes_nul(const char *uri)
{
    for (const char *c = uri; *c && *c != '?' && *c != '#'; c++)
        if (c[0] == '%' && c[1] == '0' && c[2] == '0')
            return true;
    return false;
}

const char *
corral_http_framing_target_end(const char *uri)
{
    return path_encodes_nul(uri) ? NULL : uri + strlen(uri);
}

bool
corral_http_framing_target_intact(const char *target_end, const char *version)
{
    if (!target_end)
        return false;
#if MHD_VERSION == 0x00097500
    /* libmicrohttpd 0.9.75 puts a NUL where the request line's last space
     * was and points the version just past it, in the same buffer: the
     * target's first NUL is that one, or the client sent a NUL in the
     * target (whatever follows it, an imitated version and line end
     * included) */
    return target_end + 1 == version;
#else
    (void) version;
    return true;        /* 1.0 refuses a NUL in the request line itself */
#endif
}

unsigned
corral_http_framing_check(struct MHD_Connection *connection, const char *method,
                          const char *version, const char **problem)
{
    check_t self = { 0 };
#if MHD_VERSION == 0x00097500
    const union MHD_ConnectionInfo *header =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (header && version && *version) {
        self.walk = true;
        self.at = version + strlen(version);
        self.end = method + header->header_size;
    }
#endif
    MHD_get_connection_values_n(connection, MHD_HEADER_KIND, check_header, &self);
    /* after the last line: its line end, then the empty line's */
    if (self.walk && !only_separators(&self, self.end, 2, 4))
        refuse(&self, 400, "a header line holds a NUL or is folded");
    if (self.hosts > 1)
        refuse(&self, 400, "several Host headers");
    if (self.hosts == 0 && strcmp(version, MHD_HTTP_VERSION_1_1) == 0)
        refuse(&self, 400, "no Host header (required in HTTP/1.1)");
    if (self.content_lengths > 1)
        refuse(&self, 400, "several Content-Length headers");
    /* the client waits for this answer before it sends the body; one that
     * is sending it already gets the 413 once it has (http_server.c):
     * answering and closing now would reset the connection under it, and
     * the reset can destroy the answer before it is read */
    if (self.content_length_status == 413 && self.expects_continue)
        refuse(&self, 413, "request body too large (Content-Length, Expect: 100-continue)");
    if (self.transfer_encodings > 0) {
        if (self.content_lengths > 0)
            refuse(&self, 400, "both Content-Length and Transfer-Encoding");
        if (strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
            refuse(&self, 400, "Transfer-Encoding in an HTTP/1.0 request");
        check_transfer_encoding(&self);
    }
    *problem = self.problem;
    return self.problem ? self.status : 0;
}
