/* reload.h: the rolling replacement of a reload (SIGHUP, corralctl
 * reload): each slot gets a new process beside its old one, the old one
 * stops once the new one is ready, `parallel` slots at a time; a changed
 * worker count adds or removes slots at the end. A new process that dies
 * or is not ready within `ready_timeout_ms` aborts the reload: it is
 * stopped, slots added are removed, and the slots already replaced are
 * replaced again with the previous configuration, so that the instance
 * ends on one generation. Which configuration a slot's next process runs
 * is the coordinator's (ops.assign); this file only orders the steps. */
#ifndef CORRAL_RELOAD_H
#define CORRAL_RELOAD_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "supervisor.h"

typedef struct corral_reload corral_reload_t;

typedef struct {
    /* Slot `slot_id`'s name for the log ("worker-2", "http-3"). */
    const char *(*name)(void *arg, int slot_id);
    /* Whether slot `slot_id` must be replaced to run the new configuration. */
    bool (*changes)(void *arg, int slot_id);
    /* Slot `slot_id`'s next process runs the new configuration (or, with
     * `to_new` false, the previous one again). */
    void (*assign)(void *arg, int slot_id, bool to_new);
    /* Adds a slot at the end running the new configuration: its id, or -1. */
    int (*add)(void *arg, corral_replace_fn *done, void *done_arg);
    /* Removes the last slot (its process stops gracefully). */
    void (*remove_last)(void *arg);
    /* A step happened to slot `slot_id` ("replaced", "added", "removed",
     * "rolled back", "failed: ..."): for the tap. */
    void (*step)(void *arg, int slot_id, const char *what);
    /* The reload ended: `ok`, or why it failed (it was rolled back). */
    void (*finished)(void *arg, bool ok, const char *why);
} corral_reload_ops_t;

typedef struct {
    int from_count;             /* slots before */
    int to_count;               /* slots after */
    uint64_t parallel;          /* slots replaced at a time, >= 1 */
    uint64_t ready_timeout_ms;
} corral_reload_plan_t;

corral_reload_t *corral_reload_new(zloop_t *loop, corral_supervisor_t *supervisor,
                                   const corral_reload_ops_t *ops, void *arg);
void corral_reload_destroy(corral_reload_t **self_p);

/* Begins. Returns 0, or -1 when one is running already. */
int corral_reload_start(corral_reload_t *self, const corral_reload_plan_t *plan);
bool corral_reload_running(const corral_reload_t *self);
/* The instance stops: no more steps and no rollback (every process is
 * being stopped); ops.finished learns it failed. */
void corral_reload_abort(corral_reload_t *self, const char *why);

#endif
