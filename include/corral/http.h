/* corral/http.h: HTTP requests as route handlers see them.
 *
 * A route handler runs on the worker's event loop thread. It answers with
 * one of the respond calls, or suspends the request to answer later
 * without blocking the loop: it calls corral_request_suspend(), returns,
 * and when its event has happened calls corral_request_resume(); the
 * handler is then called again for the same request (with the state it
 * left on it) and responds. */
#ifndef CORRAL_HTTP_H
#define CORRAL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "corral/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corral_request corral_request_t;
/* A jansson document (corral_request_respond_json), declared as
 * <jansson.h> declares it, so that only a handler that builds one needs
 * that header. */
typedef struct json_t json_t;
typedef void (corral_route_fn)(corral_request_t *request, void *arg);

CORRAL_EXPORT const char *corral_request_method(const corral_request_t *request);
CORRAL_EXPORT const char *corral_request_path(const corral_request_t *request);
/* A query parameter's value; NULL when absent. */
CORRAL_EXPORT const char *corral_request_query(const corral_request_t *request,
                                               const char *key);
/* The request body (NUL-terminated; empty when there is none). */
CORRAL_EXPORT const char *corral_request_body(const corral_request_t *request, size_t *length);

/* Per-request state for a handler that suspends; `destroy` (may be NULL)
 * frees it when the request ends, however it ends. */
CORRAL_EXPORT void *corral_request_state(const corral_request_t *request);
CORRAL_EXPORT void corral_request_set_state(corral_request_t *request, void *state,
                                            void (*destroy)(void *state));

CORRAL_EXPORT void corral_request_suspend(corral_request_t *request);
CORRAL_EXPORT void corral_request_resume(corral_request_t *request);

/* Responds with a copy of `body`. */
CORRAL_EXPORT void corral_request_respond(corral_request_t *request, unsigned status,
                                          const char *content_type, const void *body,
                                          size_t length);
/* Responds with `document` serialized; takes ownership of it. */
CORRAL_EXPORT void corral_request_respond_json(corral_request_t *request, unsigned status,
                                               json_t *document);
/* Responds with the error shape Kibana's API uses:
 * {"statusCode": 404, "error": "Not Found", "message": "..."}. */
CORRAL_EXPORT void corral_request_respond_error(corral_request_t *request, unsigned status,
                                                const char *message);

#ifdef __cplusplus
}
#endif

#endif
