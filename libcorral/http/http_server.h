/* http_server.h: the worker's HTTP server: libmicrohttpd in external-epoll
 * mode on an inherited listening socket, driven by the worker's zloop, with
 * exact-match routes and a graceful drain. */
#ifndef CORRAL_HTTP_SERVER_H
#define CORRAL_HTTP_SERVER_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "corral/http.h"
#include "http_guard.h"

typedef struct corral_http_server corral_http_server_t;
typedef void (corral_drained_fn)(void *arg);

/* `worker_name` goes in every response's X-Corral-Worker header. */
corral_http_server_t *corral_http_server_new(zloop_t *loop, int listen_fd,
                                             const char *worker_name);
void corral_http_server_destroy(corral_http_server_t **self_p);

/* Returns 0, or -1 if METHOD PATH is taken. */
int corral_http_server_route(corral_http_server_t *self, const char *method,
                             const char *path, corral_route_fn *fn, void *arg);

/* server.limits; before the start (else the defaults, and no keep-alive
 * limit). A connection is kept alive after keepalive_requests responses at
 * most (the next response says "Connection: close": 100 closes on the
 * 101st request), and its first response once it is keepalive_time_ms old
 * closes it, so that clients reconnect and load spreads again over time. */
void corral_http_server_set_limits(corral_http_server_t *self,
                                   const corral_http_limits_t *limits);

/* Starts accepting. Returns 0, or -1 (logged). */
int corral_http_server_start(corral_http_server_t *self);

/* Stops accepting new connections; requests in flight finish and are
 * answered with "Connection: close". Calls `drained` once no request is in
 * flight (at once if none is). Idle keep-alive connections close when the
 * server is destroyed. */
void corral_http_server_drain(corral_http_server_t *self,
                              corral_drained_fn *drained, void *arg);

size_t corral_http_server_in_flight(const corral_http_server_t *self);

/* MHD's epoll descriptor once started (-1 before), for a loop other than
 * the server's to watch as well: poll it, never epoll_wait on it. */
int corral_http_server_fd(const corral_http_server_t *self);

/* What an observer learns of each request when it ends: the access log
 * and the request metrics are observers. */
typedef struct {
    const char *method;
    const char *path;           /* decoded by libmicrohttpd, without the query */
    const char *target;         /* path and query as the client sent them; NULL: unknown */
    const char *version;        /* "HTTP/1.1" */
    void *connection;           /* for the lookups below */
    unsigned status;            /* 0 if no response was queued */
    size_t response_bytes;
    int64_t duration_us;        /* from the request line to the end */
    bool completed;             /* false: the client went away, or a timeout */
} corral_http_exchange_t;

typedef void (corral_http_observer_fn)(const corral_http_exchange_t *exchange, void *arg);

/* The client's address ("192.0.2.7", "2001:db8::7"; "-" if unknown), in
 * `buffer`; asked only by the observers that need it. */
const char *corral_http_exchange_client(const corral_http_exchange_t *exchange, char *buffer,
                                        size_t size);
/* A request header's value, or NULL. */
const char *corral_http_exchange_header(const corral_http_exchange_t *exchange,
                                        const char *name);

/* Calls `fn` after every request, in the loop's thread, in the order the
 * observers were added. Returns 0, or -1 when out of memory. */
int corral_http_server_observe(corral_http_server_t *self, corral_http_observer_fn *fn,
                               void *arg);

/* Connections open now (idle keep-alive ones included). */
size_t corral_http_server_connections(const corral_http_server_t *self);
/* Connections taken since start, and those closed by the keep-alive limits. */
void corral_http_server_connection_counts(const corral_http_server_t *self,
                                          uint64_t *accepted, uint64_t *recycled);


/* The loop turns (called at each status report): with balancing shared,
 * the coordinator's sign that this worker takes connections. */
void corral_http_server_alive(corral_http_server_t *self);

#endif
