/* access_log.h: one record per HTTP request on logger
 * `http.server.response` at debug level (method, path, status, duration,
 * bytes, and the same as ECS fields in meta), so that turning it on is one
 * logger entry: `loggers: [{ name: http.server.response, level: debug }]`.
 * When that logger is not at debug, a request costs one level lookup. */
#ifndef CORRAL_ACCESS_LOG_H
#define CORRAL_ACCESS_LOG_H

#include "http_server.h"

#define CORRAL_ACCESS_LOGGER "http.server.response"

/* Returns 0, or -1 when out of memory. */
int corral_access_log_attach(corral_http_server_t *http);

#endif
