/* coordinator.h: the clustered instance: the broker's sockets, the worker
 * slots it spawns and supervises, and its signals, in one zloop. */
#ifndef CORRAL_COORDINATOR_H
#define CORRAL_COORDINATOR_H

#include <stdbool.h>
#include <czmq.h>

#include "config.h"
#include "listener.h"
#include "router.h"
#include "worker_types.h"

typedef struct corral_coordinator corral_coordinator_t;

/* `slots`: the planned worker slots (worker_types.h), taken. */
corral_coordinator_t *corral_coordinator_new(const corral_config_t *config,
                                             corral_listener_t *listener,
                                             corral_worker_slots_t *slots);
void corral_coordinator_destroy(corral_coordinator_t **self_p);

/* The appenders built from the configuration (taken): the coordinator
 * writes every record to them (log_collector.h). */
void corral_coordinator_set_log_router(corral_coordinator_t *self,
                                       corral_log_router_t *router);

/* Reloads the configuration file (SIGHUP does the same): a bad file
 * changes nothing; a valid one applies its logging, names the keys that
 * need a restart, and replaces the workers one slot at a time when what
 * they are changed (docs/reload.md). `done` (may be NULL) learns, once,
 * whether it applied (`ok`) and a one-line summary; it may be called
 * before this returns (a bad file, a reload already running). */
typedef void (corral_reload_done_fn)(void *arg, bool ok, const char *summary);
void corral_coordinator_reload(corral_coordinator_t *self, corral_reload_done_fn *done,
                               void *arg);

/* SIGUSR2 (upgrade.h; not owned, NULL: none): starts a successor, or this
 * coordinator is one. */
struct corral_upgrade;
void corral_coordinator_set_upgrade(corral_coordinator_t *self, struct corral_upgrade *upgrade);

/* Spawns the workers and runs until the instance stops. Returns the exit
 * status: 0 after a graceful stop, non-zero when a worker failed. */
int corral_coordinator_run(corral_coordinator_t *self);

/* What desk's reader does with one message ([routing id][empty][Envelope]
 * or [routing id][Envelope]; taken): the fuzz target's way in. */
void corral_coordinator_take_desk_message(corral_coordinator_t *self, zmsg_t **message_p);

#endif
