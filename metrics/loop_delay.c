/* loop_delay.c: a 10 ms zloop timer and the longest gap between its turns. */
#include "loop_delay.h"

#define RESOLUTION_MS 10

struct corral_loop_delay {
    zloop_t *loop;
    int timer_id;
    int64_t last_turn_us;
    int64_t max_gap_us;
};

static void
note_turn(corral_loop_delay_t *self)
{
    int64_t now = zclock_usecs();
    if (now - self->last_turn_us > self->max_gap_us)
        self->max_gap_us = now - self->last_turn_us;
    self->last_turn_us = now;
}

static int
on_turn(zloop_t *loop, int timer_id, void *arg)
{
    note_turn(arg);
    return 0;
}

corral_loop_delay_t *
corral_loop_delay_new(zloop_t *loop)
{
    corral_loop_delay_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->last_turn_us = zclock_usecs();
    self->timer_id = zloop_timer(loop, RESOLUTION_MS, 0, on_turn, self);
    if (self->timer_id < 0) {
        free(self);
        return NULL;
    }
    return self;
}

void
corral_loop_delay_destroy(corral_loop_delay_t **self_p)
{
    corral_loop_delay_t *self = *self_p;
    if (!self)
        return;
    zloop_timer_end(self->loop, self->timer_id);
    free(self);
    *self_p = NULL;
}

double
corral_loop_delay_take_max_ms(corral_loop_delay_t *self)
{
    note_turn(self);
    double max_ms = (double) self->max_gap_us / 1000.0;
    self->max_gap_us = 0;
    return max_ms;
}
