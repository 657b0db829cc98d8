/* load.h: a keep-alive HTTP load for the supervision tests: a few
 * connections, each a thread sending GET after GET (20 per connection,
 * then a new one, so that connections spread over the workers that
 * share the port), that count what
 * succeeded and what failed per connection and which worker (its
 * X-Corral-Worker) each connection was on when it failed.
 *
 * A connection the server closes cleanly between requests (the graceful
 * stop of a recycled worker closes idle keep-alive connections) is
 * reopened and its request retried once, as HTTP clients do for an
 * idempotent request that got no byte of an answer (RFC 9112, 9.3.1);
 * anything else is a failure. */
#ifndef CORRAL_TEST_LOAD_H
#define CORRAL_TEST_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#define LOAD_CONNECTIONS_MAX 32
/* the worker of a connection that failed before its first answer */
#define LOAD_NEW_CONNECTION "(new connection)"

typedef struct load load_t;

typedef struct {
    uint64_t ok;
    uint64_t failed;
    /* per connection: failures, and the worker it was on at each */
    uint64_t connection_failed[LOAD_CONNECTIONS_MAX];
    char failed_on[LOAD_CONNECTIONS_MAX][8][32];  /* the first 8 failures' workers */
} load_result_t;

/* Starts `connections` connections sending GET `path` to 127.0.0.1:port. */
load_t *load_start(int port, const char *path, int connections);
/* Responses so far from `worker` (its X-Corral-Worker name), all connections. */
uint64_t load_served_by(load_t *self, const char *worker);
uint64_t load_ok(load_t *self);
/* Stops the connections, fills `result`, frees the load. */
void load_stop(load_t **self_p, load_result_t *result);

#endif
