/* policy.h: when a rolling-file appender rolls, as in Kibana:
 * `size-limit` (the file would grow past `size` bytes) and `time-interval`
 * (every `interval`; with `modulate`, on the interval's boundaries in
 * local time: 4h from 03:10 rolls at 04:00, 08:00, ...). Time comes from
 * a clock that tests inject. */
#ifndef CORRAL_POLICY_H
#define CORRAL_POLICY_H

/* Kibana's defaults for a rolling-file policy (logging.appenders.NAME.policy). */
#define CORRAL_POLICY_DEFAULT_SIZE (100ULL * 1024 * 1024)       /* size-limit: 100mb */
#define CORRAL_POLICY_DEFAULT_INTERVAL_MS (24ULL * 3600 * 1000)  /* time-interval: 24h */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Unix time in milliseconds. */
typedef int64_t (corral_clock_fn)(void);
int64_t corral_clock_real(void);

typedef struct corral_policy corral_policy_t;

corral_policy_t *corral_policy_size_limit_new(uint64_t size);
/* clock: NULL for the real clock. */
corral_policy_t *corral_policy_time_interval_new(uint64_t interval_ms, bool modulate,
                                                 corral_clock_fn *clock);
void corral_policy_destroy(corral_policy_t **self_p);

/* A file was (re)opened, holding `size` bytes: the interval starts now. */
void corral_policy_opened(corral_policy_t *self);
/* True if the file, now `size` bytes, must roll before `line` more bytes
 * are written to it. An empty file never rolls. */
bool corral_policy_must_roll(corral_policy_t *self, uint64_t size, size_t line);

#endif
