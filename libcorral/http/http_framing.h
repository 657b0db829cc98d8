/* http_framing.h: the framing and header checks a request must pass before
 * a route sees it (RFC 9112 and 9110), where libmicrohttpd does not make
 * them itself. */
#ifndef CORRAL_HTTP_FRAMING_H
#define CORRAL_HTTP_FRAMING_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* For the access handler's first call (the headers are in): 0 if the
 * request may be served, else the status to answer with before closing
 * the connection (400, 413 or 501), and *problem says why. */
unsigned corral_http_framing_check(struct MHD_Connection *connection, const char *method,
                                   const char *version, const char **problem);

/* A Content-Length value (`length` bytes, not NUL-terminated): 0 if it is
 * plain digits (RFC 9110 section 8.6) and at most `limit`, 413 if it is
 * digits over `limit` (2^64 and more included), 400 otherwise. */
unsigned corral_http_framing_content_length(const char *value, size_t length, uint64_t limit);

/* For MHD_OPTION_URI_LOG_CALLBACK (the request target as received, before
 * libmicrohttpd decodes it in place): where `uri` ends, at its first NUL;
 * NULL if its path holds "%00" (decoded, it would cut the path a route
 * sees). */
const char *corral_http_framing_target_end(const char *uri);

/* For the access handler: whether the target whose end the URI callback
 * found ended where the request line did, right before `version` (the
 * handler's, in the same buffer). If not, a NUL cut it short, and the
 * path a route would see is not the one the client sent. */
bool corral_http_framing_target_intact(const char *target_end, const char *version);

#endif
