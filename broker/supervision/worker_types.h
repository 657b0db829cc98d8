/* worker_types.h: the worker slots of an instance, from node.workers' one
 * group or named types (docs/architecture.md section 11): how many of each (`auto`
 * resolved once), their names ("worker-3", or "http-2" and "background-1"),
 * which of them serve HTTP and on which socket, and which may be main. */
#ifndef CORRAL_WORKER_TYPES_H
#define CORRAL_WORKER_TYPES_H

#include "config.h"
#include "supervisor.h"

/* The usable CPUs (corral_cpu_auto_count), read once by the caller. Each
 * type with `count: auto` that serves HTTP gets an even share of them (at
 * least 1); one without HTTP gets 1. */
typedef struct {
    corral_slot_spec_t *specs;      /* one per slot, slot i + 1 at [i] */
    int slot_count;
    int http_count;                 /* slots that serve HTTP: sockets needed */
} corral_worker_slots_t;

/* Fills *slots from `config` (free with corral_worker_slots_clear).
 * Returns 0, or -1 out of memory. */
int corral_worker_slots_plan(corral_worker_slots_t *slots, const corral_config_t *config,
                             int usable_cpus);
void corral_worker_slots_clear(corral_worker_slots_t *slots);

/* Whether some type has `count: auto` and serves HTTP (the CPUs must be counted). */
bool corral_worker_types_count_cpus(const corral_config_t *config);

/* Whether every type has its own max_memory (each worker's share is said). */
bool corral_worker_types_memory_capped(const corral_config_t *config);

#endif
