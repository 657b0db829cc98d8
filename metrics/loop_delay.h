/* loop_delay.h: event-loop delay, measured without waking the loop.
 *
 * An idle loop must not wake up to measure itself (a 10 ms timer made
 * every idle worker wake 100 times a second). Instead the handlers the
 * loop dispatches say when they begin (corral_loop_delay_turn), and the
 * first of a turn arms a zero-delay timer, which fires first thing in the
 * loop's next turn: the time between is that turn's length, whatever ran
 * in it. Timers that fire anyway (the status report's) add their lateness.
 * The delay is the longest of these over an interval: a loop blocked for
 * 300 ms shows at least 300 ms, an idle loop about 0.
 *
 * A handler that a plugin registers on the loop itself is seen when it
 * shares a turn with one of the runtime's handlers after it (HTTP, the
 * bus, desk, the tasks plugin) or holds up the report timer. */
#ifndef CORRAL_LOOP_DELAY_H
#define CORRAL_LOOP_DELAY_H

#include <czmq.h>

typedef struct corral_loop_delay corral_loop_delay_t;

/* Measures `loop`, the process's loop (one a process: the last made is
 * the one corral_loop_delay_turn reaches). */
corral_loop_delay_t *corral_loop_delay_new(zloop_t *loop);
void corral_loop_delay_destroy(corral_loop_delay_t **self_p);

/* First thing in a handler the loop dispatches: the turn it belongs to is
 * measured. A clock read and, once a turn, a zero-delay timer; nothing
 * when no loop is measured. */
void corral_loop_delay_turn(void);

/* A timer that was due at `due_us` (zclock_usecs) fires now: its lateness
 * counts as delay. */
void corral_loop_delay_late(corral_loop_delay_t *self, int64_t due_us);

/* The longest turn or lateness since the last call, in ms; starts a new
 * measurement. Call it from the same loop. */
double corral_loop_delay_take_max_ms(corral_loop_delay_t *self);

#endif
