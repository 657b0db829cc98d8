/* response_buckets.h: the bounds of the response-time histogram that
 * workers report (RequestMetrics.response_time_buckets, cumulative, one
 * count per bound) and /api/metrics exposes as
 * corral_http_response_seconds_bucket{le=...}. Fixed, so that every
 * worker's counts add up. */
#ifndef CORRAL_RESPONSE_BUCKETS_H
#define CORRAL_RESPONSE_BUCKETS_H

#include <stdint.h>

#define CORRAL_RESPONSE_BUCKET_COUNT 14

/* upper bounds in microseconds: 0.5 ms .. 10 s */
static const uint64_t corral_response_buckets_us[CORRAL_RESPONSE_BUCKET_COUNT] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000,
};

#endif
