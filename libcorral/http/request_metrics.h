/* request_metrics.h: the worker's HTTP figures for status reports: request
 * and disconnect counts and status codes since start, response times over
 * the last interval, connections open now. An observer of the HTTP server. */
#ifndef CORRAL_REQUEST_METRICS_H
#define CORRAL_REQUEST_METRICS_H

#include "envelope.h"
#include "http_server.h"

typedef struct corral_request_metrics corral_request_metrics_t;

corral_request_metrics_t *corral_request_metrics_new(corral_http_server_t *http);
void corral_request_metrics_destroy(corral_request_metrics_t **self_p);

/* Fills `metrics` (initialised by the caller; its arrays point into self
 * until the next call) and starts a new response-time interval. */
void corral_request_metrics_take(corral_request_metrics_t *self,
                                 Corral__V1__RequestMetrics *metrics);

#endif
