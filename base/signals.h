/* signals.h: signals delivered to a zloop as events through one
 * signalfd. The watched signals are blocked, so they never run a handler
 * or take their default action; each one that arrives calls `fn` on the
 * loop's thread. */
#ifndef CORRAL_SIGNALS_H
#define CORRAL_SIGNALS_H

#include <czmq.h>

typedef struct corral_signals corral_signals_t;

/* Returns 0, or -1 to end the loop (as a zloop handler does). */
typedef int (corral_signal_fn)(int signal_number, void *arg);

/* Watches the `count` signals in `signals`. NULL (errno set) on failure. */
corral_signals_t *corral_signals_new(zloop_t *loop, const int *signals, size_t count,
                                     corral_signal_fn *fn, void *arg);
void corral_signals_destroy(corral_signals_t **self_p);
/* The signalfd, for a loop other than `loop` to watch as well. */
int corral_signals_fd(const corral_signals_t *self);

/* SIGPIPE does nothing in this process: a write to a pipe or socket whose
 * reader is gone fails with EPIPE (counted by whoever writes), never a
 * death. A handler that returns, not SIG_IGN, so that the programs this
 * process execs get the default action back (exec resets a handler; an
 * ignored signal would stay ignored in them). */
void corral_signals_survive_sigpipe(void);

#endif
