/* coordinator_private.h: the coordinator's state, shared by the files
 * that make it up: coordinator.c (its life, signals, the loop),
 * coordinator_desk.c (the workers' side of desk), coordinator_workers.c
 * (the supervisor's requests, the slots), coordinator_tools.c (tools'
 * commands, the logging in force), coordinator_reload.c (reloads, whose
 * state is an object of its own, corral_reload_state_t). */
#ifndef CORRAL_COORDINATOR_PRIVATE_H
#define CORRAL_COORDINATOR_PRIVATE_H

#include <czmq.h>

#include "balancer.h"
#include "bus.h"
#include "cluster_view.h"
#include "config_reload.h"
#include "coordinator.h"
#include "signals.h"
#include "desk_tools.h"
#include "log_collector.h"
#include "oom_kills.h"
#include "operator.h"
#include "reload.h"
#include "runtime_dir.h"
#include "supervisor.h"
#include "tap.h"
#include "upgrade.h"
#include "worker_config.h"
#include "worker_types.h"
#include "worker_secret.h"

typedef struct {
    int id;
    const corral_config_t *config;  /* what its next process runs */
    corral_slot_spec_t spec;        /* its place in that configuration (name, type, socket) */
    int worker_count;               /* the instance's count in that configuration */
    corral_binary_id_t binary;      /* its latest process's program on disk */
    corral_worker_config_t message; /* its latest process's WorkerConfig */
    char secret[CORRAL_SECRET_LENGTH + 1];  /* made at its first spawn; kept by its
                                             * replacements, which share its log stream */
} slot_t;

/* What the coordinator knows of one process (corral_process_link). */
typedef struct {
    zframe_t *desk_peer;    /* the routing id its Hello came from */
    bool said_bye;
    uint64_t last_log_seq;  /* from its Bye */
    int channel;            /* its connection channel (balancing shared), or -1 */
    struct corral_worker_output *output;    /* its stdout and stderr, captured */
    struct corral_plain_worker *plain;      /* protocol: none: its notify socket, ... */
} peer_t;

typedef struct corral_reload_state corral_reload_state_t;
typedef struct corral_desk_input corral_desk_input_t;

struct corral_coordinator {
    const corral_config_t *config;          /* running (owned by reloads once one loaded it) */
    corral_worker_slots_t plan;             /* the running configuration's slots */
    uint32_t config_generation;             /* the running configuration's */
    corral_reload_state_t *reloads;         /* coordinator_reload.c */
    corral_listener_t *listener;
    corral_balancer_t *balancer;            /* balancing shared */
    char *worker_program;                   /* when the configuration names none */
    zloop_t *loop;
    corral_runtime_dir_t *runtime;
    const char *runtime_dir;
    char *desk_endpoint;
    zsock_t *desk;
    corral_cluster_view_t *view;
    corral_bus_t *bus;
    char *instance_uuid;
    slot_t **slots;
    int slot_count;                         /* in use */
    int slot_capacity;
    corral_supervisor_t *supervisor;
    corral_oom_kills_t *oom_kills;          /* which SIGKILLs were the OOM killer's */
    corral_signals_t *signals;
    corral_log_router_t *log_router;        /* until the collector takes it */
    corral_log_collector_t *logs;
    Corral__V1__LogConfig *reloaded_log_config;
    corral_operator_t *operator;        /* tap, tools on desk, node.remote */
    corral_tap_t *tap;                  /* the operator's */
    corral_desk_tools_t *tools;         /* the operator's */
    bool stopping;
    int exit_code;
    corral_desk_input_t *desk_input;        /* coordinator_desk.c: refused input */
    corral_upgrade_t *upgrade;          /* SIGUSR2 (upgrade.h); not owned */
    int64_t main_wait_since;            /* workers wait on the main worker since (mono) */
    int64_t main_wait_since_unix;       /* the same, for the message */
    int64_t main_wait_logged;           /* when it was last said */
    int64_t handed_over_at;             /* to the successor; 0: not */
};

/* coordinator.c: the instance's life */
/* Slot `id` (1-based; slots past the ones in use exist too), or NULL. */
slot_t *corral_coordinator_slot(corral_coordinator_t *self, uint32_t id);
/* Slots up to `count` exist (allocated, not started). Returns 0 or -1. */
int corral_coordinator_reserve_slots(corral_coordinator_t *self, int count);
/* Stops gracefully with `exit_code` at least (raised, never lowered). */
void corral_coordinator_begin_stop(corral_coordinator_t *self, int exit_code, const char *why);
/* Upgrade: the successor is ready; this coordinator stops. */
void corral_coordinator_upgrade_taken_over(corral_coordinator_t *self);

/* coordinator_desk.c: the workers' side of desk */
corral_desk_input_t *corral_desk_input_new(void);
void corral_desk_input_destroy(corral_desk_input_t **self_p);
/* Sends on desk to `process`, without blocking. Returns 0, or -1 if it
 * never said Hello or its queue is full. */
int corral_coordinator_send_to_process(corral_coordinator_t *self,
                                       const corral_process_t *process,
                                       const corral_envelope_t *envelope);
int corral_coordinator_on_desk(zloop_t *loop, zsock_t *reader, void *arg);
/* Reads what desk holds now (at a stop: the last Byes). */
void corral_coordinator_drain_desk(corral_coordinator_t *self);
/* The cluster view for a tool (operator.h). */
const Corral__V1__ClusterView *corral_coordinator_tool_view(void *arg);

/* coordinator_workers.c: the supervisor's requests, the slots */
/* Slot `slot`'s next process runs `config` as `spec` (with `worker_count`
 * workers, configuration generation `generation`). */
void corral_coordinator_assign(corral_coordinator_t *self, slot_t *slot,
                               const corral_config_t *config, const corral_slot_spec_t *spec,
                               int worker_count, uint32_t generation);
/* The supervision policy `config` asks for. */
void corral_coordinator_policy(const corral_config_t *config, corral_supervision_t *out);
/* The program a worker of `spec` runs. */
const char *corral_coordinator_program(const corral_coordinator_t *self,
                                       const corral_slot_spec_t *spec);
int corral_coordinator_start_supervisor(corral_coordinator_t *self);
/* balancing shared: the accepting thread (balancer.h). */
int corral_coordinator_start_balancer(corral_coordinator_t *self);
/* coordinator_main.c: says so when workers wait on the main worker's
 * migration-complete, and stops an instance that waits past the bound. */
int corral_coordinator_watch_main(corral_coordinator_t *self);
/* SIGCHLD: every exited child reaped and told to the supervisor. */
void corral_coordinator_reap_workers(corral_coordinator_t *self);
/* What the coordinator keeps of `process` (made at its spawn; NULL only
 * when out of memory). */
peer_t *corral_coordinator_link_peer(corral_process_t *process);
/* A process's life changed: the cluster view and the tap learn it. */
void corral_coordinator_lifecycle(corral_coordinator_t *self, const corral_process_t *process,
                                  const char *kind, const char *detail);

/* coordinator_tools.c: tools' commands */
/* `config` (taken) is the logging in force from now on. */
void corral_coordinator_apply_log_config(corral_coordinator_t *self,
                                         Corral__V1__LogConfig *config);
int corral_coordinator_run_tool_command(void *arg, const char *command, char **args,
                                        size_t argc, char **message);
/* The configuration in force, as JSON (corralctl config). */
char *corral_coordinator_effective_config(void *arg);

/* coordinator_reload.c: the configuration reloads' state (and
 * corral_coordinator_reload, coordinator.h). */
corral_reload_state_t *corral_reload_state_new(corral_coordinator_t *coordinator);
/* Frees the configuration a reload loaded, if it runs: after the last use
 * of coordinator->config. */
void corral_reload_state_destroy(corral_reload_state_t **self_p);
bool corral_reload_state_running(const corral_reload_state_t *self);
/* The instance stops: a running reload ends there (rolled back). */
void corral_reload_state_abort(corral_reload_state_t *self);

#endif
