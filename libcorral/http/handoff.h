/* handoff.h: the worker's end of its connection channel (balancing
 * shared; proto/handoff_wire.h): the connections the coordinator hands to
 * this worker, READY and DRAINING back, and the count of those closed, in
 * the memory it shares with the coordinator. */
#ifndef CORRAL_HANDOFF_H
#define CORRAL_HANDOFF_H

#include <czmq.h>

typedef struct corral_handoff corral_handoff_t;

/* Connections handed to this worker, `count` of them: the callee owns them. */
typedef void (corral_handoff_fn)(const int *fds, int count, void *arg);

/* The channel named in the environment, read from the loop. NULL with
 * errno 0 when there is none (the worker accepts on fd 3), NULL with
 * errno set on failure. */
corral_handoff_t *corral_handoff_from_env(zloop_t *loop, corral_handoff_fn *take, void *arg);
void corral_handoff_destroy(corral_handoff_t **self_p);

/* Tells the coordinator to hand connections to us from now on, or no more. */
int corral_handoff_ready(corral_handoff_t *self);
void corral_handoff_draining(corral_handoff_t *self);

/* One connection handed to us is closed. */
void corral_handoff_closed(corral_handoff_t *self);
/* Our loop turned (the status report's timer): the coordinator learns we
 * take connections again after a stall. NULL: nothing. */
void corral_handoff_alive(corral_handoff_t *self);

#endif
