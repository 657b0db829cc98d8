/* http_guard.h: the worker's connections held within server.limits: how
 * many it keeps, and how long a connection may wait without a request.
 * It learns of connections from libmicrohttpd's notifications, so it works
 * whoever accepts them (libmicrohttpd, or our code through
 * MHD_add_connection). */
#ifndef CORRAL_HTTP_GUARD_H
#define CORRAL_HTTP_GUARD_H

#include <czmq.h>
#include <microhttpd.h>
#include <stdint.h>

/* server.limits, as the WorkerConfig carries them (corral.v1.HttpLimits,
 * mapped field for field in worker.c). The first four: 0 is the default
 * (base/defaults.h); the keep-alive ones: 0 is no limit. */
typedef struct {
    uint32_t max_connections;           /* per worker; default 4096 */
    uint32_t max_connections_per_ip;    /* 0: no limit */
    uint64_t header_timeout_ms;         /* default 20 s */
    uint64_t idle_timeout_ms;           /* default 60 s */
    uint64_t keepalive_requests;        /* per connection; 0: no limit */
    uint64_t keepalive_time_ms;         /* per connection; 0: no limit */
} corral_http_limits_t;

typedef struct corral_http_guard corral_http_guard_t;
typedef struct corral_guarded corral_guarded_t;     /* one connection */

/* `wake(arg)` must make libmicrohttpd run soon: the guard closes
 * connections by shutting their sockets down, and libmicrohttpd then
 * reads the end and releases them. */
corral_http_guard_t *corral_http_guard_new(zloop_t *loop, const corral_http_limits_t *limits,
                                           void (*wake)(void *arg), void *arg);
void corral_http_guard_destroy(corral_http_guard_t **self_p);

/* The connections this worker keeps: max_connections, lowered if the
 * descriptors this process may open (RLIMIT_NOFILE, less a reserve for its
 * own files and sockets) cannot hold that many. */
unsigned corral_http_guard_max_connections(const corral_http_guard_t *self);
/* For MHD_OPTION_CONNECTION_LIMIT: a little above the guard's own limit,
 * so that libmicrohttpd keeps accepting (and the guard closing) rather
 * than leaving connections in the backlog; never past the descriptors. */
unsigned corral_http_guard_mhd_limit(const corral_http_guard_t *self);
/* For MHD_OPTION_CONNECTION_TIMEOUT: idle_timeout in whole seconds. */
unsigned corral_http_guard_idle_seconds(const corral_http_guard_t *self);
unsigned corral_http_guard_per_ip(const corral_http_guard_t *self);

/* MHD_CONNECTION_NOTIFY_STARTED: returns what to keep in the socket
 * context (NULL when out of memory: the connection is then closed). At
 * the limit, the connection that has waited longest without a request is
 * closed to make room, or this one if every connection is busy. */
corral_guarded_t *corral_http_guard_opened(corral_http_guard_t *self,
                                           struct MHD_Connection *connection);
/* A request's headers are in: no deadline until it is answered. Returns
 * how many requests the connection has started, this one included (0 for
 * NULL), for the keep-alive limits. */
uint64_t corral_http_guard_request_started(corral_http_guard_t *self, corral_guarded_t *guarded);
/* How long the connection has been open, in ms (0 for NULL). */
int64_t corral_http_guard_age_ms(const corral_guarded_t *guarded);
/* Answered: the next request must come within idle_timeout. */
void corral_http_guard_request_ended(corral_http_guard_t *self, corral_guarded_t *guarded);
/* MHD_CONNECTION_NOTIFY_CLOSED. */
void corral_http_guard_closed(corral_http_guard_t *self, corral_guarded_t **guarded_p);

size_t corral_http_guard_connections(const corral_http_guard_t *self);
/* Open connections that have not started a request yet: a graceful stop
 * waits for their request (a client writes it right after connecting)
 * rather than closing them unanswered; header_timeout bounds the wait. */
size_t corral_http_guard_fresh(const corral_http_guard_t *self);

#endif
