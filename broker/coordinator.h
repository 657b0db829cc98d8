/* coordinator.h: the clustered instance: the broker's sockets, the worker
 * slots it spawns and supervises, and its signals, in one zloop. */
#ifndef CORRAL_COORDINATOR_H
#define CORRAL_COORDINATOR_H

#include "config.h"
#include "listener.h"

typedef struct corral_coordinator corral_coordinator_t;

/* `worker_count` is the resolved count (auto already computed). */
corral_coordinator_t *corral_coordinator_new(const corral_config_t *config,
                                             corral_listener_t *listener,
                                             int worker_count, const char *worker_program);
void corral_coordinator_destroy(corral_coordinator_t **self_p);

/* Spawns the workers and runs until the instance stops. Returns the exit
 * status: 0 after a graceful stop, non-zero when a worker failed. */
int corral_coordinator_run(corral_coordinator_t *self);

#endif
