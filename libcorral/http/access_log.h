/* access_log.h: one record per HTTP request on logger
 * `http.server.response` at debug level, so that turning it on is one
 * logger entry: `loggers: [{ name: http.server.response, level: debug }]`.
 * The message is nginx's combined format less the time, plus the duration
 * in seconds:
 *   127.0.0.1 - - "GET /a?b=c HTTP/1.1" 200 19 "-" "curl/8.5.0" 0.000042
 * (the target as the client sent it, undecoded, as in nginx's $request),
 * and the meta the same as ECS fields (client.ip, http.request.method,
 * url.original, url.path (decoded), url.query, http.response.status_code,
 * http.response.body.bytes, user_agent.original, event.duration in ns).
 * When that logger is not at debug, a request costs one level lookup. */
#ifndef CORRAL_ACCESS_LOG_H
#define CORRAL_ACCESS_LOG_H

#include "http_server.h"

#define CORRAL_ACCESS_LOGGER "http.server.response"

/* Returns 0, or -1 when out of memory. */
int corral_access_log_attach(corral_http_server_t *http);

#endif
