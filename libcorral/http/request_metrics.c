/* request_metrics.c: counts from corral_http_server_observe(). */
#include "request_metrics.h"

#include <stdlib.h>

#include "response_buckets.h"

#define STATUS_CODES 600        /* 0 (no response) .. 599 */

struct corral_request_metrics {
    corral_http_server_t *http;
    uint64_t total;
    uint64_t disconnects;
    uint64_t by_status[STATUS_CODES];
    uint64_t interval_count;
    uint64_t interval_total_us;
    uint64_t interval_max_us;
    uint64_t buckets[CORRAL_RESPONSE_BUCKET_COUNT];     /* not cumulative */
    uint64_t count;
    uint64_t sum_us;
    /* what the last take() points to */
    uint64_t cumulative[CORRAL_RESPONSE_BUCKET_COUNT];
    Corral__V1__StatusCodeCount codes[STATUS_CODES];
    Corral__V1__StatusCodeCount *code_pointers[STATUS_CODES];
};

static void
on_exchange(const corral_http_exchange_t *exchange, void *arg)
{
    corral_request_metrics_t *self = arg;
    self->total++;
    if (!exchange->completed)
        self->disconnects++;
    if (exchange->status > 0 && exchange->status < STATUS_CODES)
        self->by_status[exchange->status]++;
    uint64_t duration_us = exchange->duration_us > 0 ? (uint64_t) exchange->duration_us : 0;
    self->interval_count++;
    self->interval_total_us += duration_us;
    if (duration_us > self->interval_max_us)
        self->interval_max_us = duration_us;
    self->count++;
    self->sum_us += duration_us;
    for (int i = 0; i < CORRAL_RESPONSE_BUCKET_COUNT; i++)
        if (duration_us <= corral_response_buckets_us[i]) {
            self->buckets[i]++;
            break;
        }
}

corral_request_metrics_t *
corral_request_metrics_new(corral_http_server_t *http)
{
    corral_request_metrics_t *self = calloc(1, sizeof *self);
    if (self && corral_http_server_observe(http, on_exchange, self) != 0) {
        free(self);
        return NULL;
    }
    if (self)
        self->http = http;
    return self;
}

void
corral_request_metrics_destroy(corral_request_metrics_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

void
corral_request_metrics_take(corral_request_metrics_t *self,
                            Corral__V1__RequestMetrics *metrics)
{
    size_t count = 0;
    for (unsigned code = 100; code < STATUS_CODES; code++) {
        if (!self->by_status[code])
            continue;
        Corral__V1__StatusCodeCount *entry = &self->codes[count];
        *entry = (Corral__V1__StatusCodeCount) CORRAL__V1__STATUS_CODE_COUNT__INIT;
        entry->code = code;
        entry->count = self->by_status[code];
        self->code_pointers[count++] = entry;
    }
    metrics->total = self->total;
    metrics->disconnects = self->disconnects;
    metrics->n_status_codes = count;
    metrics->status_codes = self->code_pointers;
    metrics->interval_count = self->interval_count;
    metrics->interval_total_us = self->interval_total_us;
    metrics->interval_max_us = self->interval_max_us;
    metrics->concurrent_connections = corral_http_server_connections(self->http);
    corral_http_server_connection_counts(self->http, &metrics->connections_accepted,
                                         &metrics->connections_recycled);
    uint64_t below = 0;
    for (int i = 0; i < CORRAL_RESPONSE_BUCKET_COUNT; i++)
        self->cumulative[i] = below += self->buckets[i];
    metrics->n_response_time_buckets = CORRAL_RESPONSE_BUCKET_COUNT;
    metrics->response_time_buckets = self->cumulative;
    metrics->response_time_count = self->count;
    metrics->response_time_sum_us = self->sum_us;
    self->interval_count = self->interval_total_us = self->interval_max_us = 0;
}
