/* coordinator_private.h: the coordinator's state, shared by the files
 * that make it up (coordinator.c: desk, signals, the supervisor's
 * requests; coordinator_reload.c: reloads). */
#ifndef CORRAL_COORDINATOR_PRIVATE_H
#define CORRAL_COORDINATOR_PRIVATE_H

#include <czmq.h>

#include "bus.h"
#include "cluster_view.h"
#include "config_reload.h"
#include "coordinator.h"
#include "corral/signals.h"
#include "log_collector.h"
#include "reload.h"
#include "supervisor.h"
#include "worker_config.h"

typedef struct {
    int id;
    const corral_config_t *config;  /* what its next process runs */
    int worker_count;               /* the instance's count in that configuration */
    uint32_t config_generation;
    corral_worker_config_t message; /* its latest process's WorkerConfig */
} slot_t;

/* What the coordinator knows of one process (corral_process_link). */
typedef struct {
    zframe_t *desk_peer;    /* the routing id its Hello came from */
    bool said_bye;
    uint64_t last_log_seq;  /* from its Bye */
} peer_t;

struct corral_coordinator {
    const corral_config_t *config;          /* running */
    corral_config_t *owned_config;          /* running, when a reload loaded it */
    corral_config_t *next_config;           /* during a reload */
    int next_count;
    int running_count;                      /* slots before the reload */
    uint32_t next_generation;
    corral_listener_t *listener;
    char *worker_program;                   /* when the configuration names none */
    corral_binary_id_t program_id;          /* of the running workers' binary */
    zloop_t *loop;
    char *runtime_dir;
    char *desk_endpoint;
    zsock_t *desk;
    corral_cluster_view_t *view;
    corral_bus_t *bus;
    char *instance_uuid;
    slot_t **slots;
    int slot_count;                         /* in use */
    int slot_capacity;
    corral_supervisor_t *supervisor;
    corral_reload_t *reload;
    uint32_t config_generation;
    int64_t reload_started_ms;
    corral_reload_done_fn *reload_done;
    void *reload_done_arg;
    Corral__V1__ReloadOutcome reload_outcome;
    char reload_summary[512];
    corral_signals_t *signals;
    corral_log_router_t *log_router;        /* until the collector takes it */
    corral_log_collector_t *logs;
    Corral__V1__LogConfig *reloaded_log_config;
    bool stopping;
    int exit_code;
    uint64_t desk_dropped;
    int64_t desk_dropped_logged_at;
};

/* coordinator.c */
slot_t *corral_coordinator_slot(corral_coordinator_t *self, int id);
/* Slots up to `count` exist (allocated, not started). Returns 0 or -1. */
int corral_coordinator_reserve_slots(corral_coordinator_t *self, int count);
/* Slot `slot`'s next process runs `config` (with `worker_count` workers,
 * configuration generation `generation`). */
void corral_coordinator_assign(corral_coordinator_t *self, slot_t *slot,
                               const corral_config_t *config, int worker_count,
                               uint32_t generation);
/* The supervision policy `config` asks for. */
void corral_coordinator_policy(const corral_config_t *config, corral_supervision_t *out);
/* The program a slot's worker runs under `config`. */
const char *corral_coordinator_program(const corral_coordinator_t *self,
                                       const corral_config_t *config);

/* coordinator_reload.c */
int corral_coordinator_reload_setup(corral_coordinator_t *self);
void corral_coordinator_reload_teardown(corral_coordinator_t *self);
/* The instance stops: a running reload ends there. */
void corral_coordinator_reload_abort(corral_coordinator_t *self);

#endif
