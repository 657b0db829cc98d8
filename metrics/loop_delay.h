/* loop_delay.h: event-loop delay measured by the loop itself. A timer
 * turns every 10 ms; the delay is the longest time between two turns (as
 * Node's monitorEventLoopDelay, whose figures include its resolution: an
 * idle loop shows about 10 ms, a loop blocked for 300 ms at least 300). */
#ifndef CORRAL_LOOP_DELAY_H
#define CORRAL_LOOP_DELAY_H

#include <czmq.h>

typedef struct corral_loop_delay corral_loop_delay_t;

corral_loop_delay_t *corral_loop_delay_new(zloop_t *loop);
void corral_loop_delay_destroy(corral_loop_delay_t **self_p);

/* The longest gap since the last call (the gap in progress included), in
 * ms; starts a new measurement. Call it from the same loop. */
double corral_loop_delay_take_max_ms(corral_loop_delay_t *self);

#endif
