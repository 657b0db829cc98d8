/* loop_delay.c: loop turns timed from their first handler to the next
 * turn's start, and the lateness of timers, without a timer of its own. */
#include "loop_delay.h"

struct corral_loop_delay {
    zloop_t *loop;
    int probe_id;               /* the zero-delay timer; -1: no turn measured */
    int64_t turn_began_us;
    int64_t max_us;
};

static corral_loop_delay_t *measured;   /* the process's loop */

static void
note(corral_loop_delay_t *self, int64_t delay_us)
{
    if (delay_us > self->max_us)
        self->max_us = delay_us;
}

/* Fires first thing in the turn after the one it was armed in: zloop
 * starts a new timer's delay at its next poll (so never in the turn that
 * made it), and runs due timers before readers. */
static int
on_next_turn(zloop_t *loop, int timer_id, void *arg)
{
    corral_loop_delay_t *self = arg;
    self->probe_id = -1;
    note(self, zclock_usecs() - self->turn_began_us);
    return 0;
}

corral_loop_delay_t *
corral_loop_delay_new(zloop_t *loop)
{
    corral_loop_delay_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->probe_id = -1;
    measured = self;
    return self;
}

void
corral_loop_delay_destroy(corral_loop_delay_t **self_p)
{
    corral_loop_delay_t *self = *self_p;
    if (!self)
        return;
    if (self->probe_id >= 0)
        zloop_timer_end(self->loop, self->probe_id);
    if (measured == self)
        measured = NULL;
    free(self);
    *self_p = NULL;
}

void
corral_loop_delay_turn(void)
{
    corral_loop_delay_t *self = measured;
    if (!self || self->probe_id >= 0)
        return;
    self->turn_began_us = zclock_usecs();
    self->probe_id = zloop_timer(self->loop, 0, 1, on_next_turn, self);
}

void
corral_loop_delay_late(corral_loop_delay_t *self, int64_t due_us)
{
    note(self, zclock_usecs() - due_us);
}

double
corral_loop_delay_take_max_ms(corral_loop_delay_t *self)
{
    double max_ms = (double) self->max_us / 1000.0;
    self->max_us = 0;
    return max_ms;
}
