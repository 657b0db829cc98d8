/* policy.c: the size-limit and time-interval triggering policies. */
#define INTERVAL_MAX_MS (365LL * 24 * 3600 * 1000)
#include "policy.h"

#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef enum { POLICY_SIZE_LIMIT, POLICY_TIME_INTERVAL } policy_kind_t;

struct corral_policy {
    policy_kind_t kind;
    uint64_t size;
    int64_t interval_ms;
    bool modulate;
    corral_clock_fn *clock;
    int64_t next_roll_ms;
};

int64_t
corral_clock_real(void)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    return (int64_t) now.tv_sec * 1000 + now.tv_usec / 1000;
}

corral_policy_t *
corral_policy_size_limit_new(uint64_t size)
{
    corral_policy_t *self = calloc(1, sizeof *self);
    if (self)
        *self = (corral_policy_t) { .kind = POLICY_SIZE_LIMIT, .size = size };
    return self;
}

corral_policy_t *
corral_policy_time_interval_new(uint64_t interval_ms, bool modulate, corral_clock_fn *clock)
{
    corral_policy_t *self = calloc(1, sizeof *self);
    if (self)
        *self = (corral_policy_t) {
            .kind = POLICY_TIME_INTERVAL,
            /* the configuration refuses more than a year; never past what
             * the date arithmetic below holds */
            .interval_ms = interval_ms == 0 ? 1
                         : interval_ms > INTERVAL_MAX_MS ? INTERVAL_MAX_MS : (int64_t) interval_ms,
            .modulate = modulate, .clock = clock ? clock : corral_clock_real,
        };
    return self;
}

void
corral_policy_destroy(corral_policy_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

/* The next boundary of the interval after `now`, in local time. */
static int64_t
next_boundary(int64_t now_ms, int64_t interval_ms)
{
    time_t seconds = (time_t) (now_ms / 1000);
    struct tm local;
    localtime_r(&seconds, &local);
    int64_t offset_ms = (int64_t) local.tm_gmtoff * 1000;
    int64_t local_ms = now_ms + offset_ms;
    int64_t start = local_ms - ((local_ms % interval_ms) + interval_ms) % interval_ms;
    return start + interval_ms - offset_ms;
}

void
corral_policy_opened(corral_policy_t *self)
{
    if (self->kind != POLICY_TIME_INTERVAL)
        return;
    int64_t now = self->clock();
    self->next_roll_ms = self->modulate ? next_boundary(now, self->interval_ms)
                                        : now + self->interval_ms;
}

bool
corral_policy_must_roll(corral_policy_t *self, uint64_t size, size_t line)
{
    if (size == 0)
        return false;
    if (self->kind == POLICY_SIZE_LIMIT)
        return size + line > self->size;
    return self->clock() >= self->next_roll_ms;
}
