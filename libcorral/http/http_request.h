/* http_request.h: the request object behind corral/http.h, shared by the
 * HTTP server (which creates and dispatches requests) and the request
 * functions (which answer them). Internal to libcorral. */
#ifndef CORRAL_HTTP_REQUEST_H
#define CORRAL_HTTP_REQUEST_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "corral/http.h"

#define CORRAL_MAX_BODY_BYTES (1024 * 1024)

struct corral_request {
    struct MHD_Connection *connection;
    const char *method;             /* owned by libmicrohttpd */
    const char *path;
    const char *version;            /* "HTTP/1.1", owned by libmicrohttpd */
    char *target;                   /* path and query as sent (undecoded); NULL: none */
    bool started;                   /* on_request has seen it (http_server.c) */
    bool target_seen;               /* the URI callback ran: target_end is known */
    const char *target_end;         /* the target's first NUL, in libmicrohttpd's
                                     * buffer; NULL if its path encodes one */
    const char *worker_name;        /* for X-Corral-Worker */
    bool close_connection;          /* draining: answer with Connection: close */
    char *body;
    size_t body_length;
    size_t body_capacity;           /* grows by doubling: tiny chunks stay linear */
    bool body_too_large;
    void *state;
    void (*destroy_state)(void *state);
    bool suspended;
    bool responded;
    unsigned status;                /* once responded */
    size_t response_bytes;          /* body bytes queued */
    int64_t started_us;             /* zclock_usecs() at the request line */
    corral_request_t *prev, *next;  /* the server's requests in flight */
    /* MHD runs resumed connections only when it is run again: the server
     * schedules that */
    void (*wake_server)(void *server);
    void *server;
};

corral_request_t *corral_request_new(struct MHD_Connection *connection,
                                     const char *worker_name);
void corral_request_destroy(corral_request_t **self_p);

/* Appends a chunk of the upload; past CORRAL_MAX_BODY_BYTES the body is
 * dropped and the request answered 413. */
void corral_request_append_body(corral_request_t *self, const char *data,
                                size_t length);

#endif
