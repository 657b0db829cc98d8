/* supervisor.h: the life of the worker slots (docs/architecture.md section 8): which
 * process each slot runs, when it is replaced and why, the restart policy
 * with its backoff and crash-loop stop, hung workers, recycling, and who
 * holds the main role. The coordinator tells it what happened (a process
 * said Hello, became ready, reported, was reaped) and it decides; what it
 * needs done in return (start a process, send a message on desk, stop
 * the instance) it asks through corral_supervisor_ops_t. */
#ifndef CORRAL_SUPERVISOR_H
#define CORRAL_SUPERVISOR_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "envelope.h"

typedef struct corral_supervisor corral_supervisor_t;
/* One worker process; a slot has one, or two while one replaces the other. */
typedef struct corral_process corral_process_t;

typedef enum {
    CORRAL_SLOT_EMPTY,          /* never started */
    CORRAL_SLOT_STARTING,       /* spawned, not ready yet */
    CORRAL_SLOT_READY,          /* serving */
    CORRAL_SLOT_STOPPING,       /* asked to stop (SIGTERM, or SIGABRT when hung) */
    CORRAL_SLOT_EXITED,         /* reaped, and not to be restarted */
    CORRAL_SLOT_WAITING,        /* reaped, restarting after its backoff */
} corral_slot_state_t;

typedef enum {
    CORRAL_EXIT_CRASHED,        /* exited or was killed unasked */
    CORRAL_EXIT_HUNG,           /* killed for missing its heartbeats */
    CORRAL_EXIT_MEMORY,         /* out of memory (CORRAL_WORKER_EXIT_MEMORY) */
    CORRAL_EXIT_RECYCLED,       /* replaced on purpose (recycle, reload) */
    CORRAL_EXIT_STOPPED,        /* the instance stopped */
    CORRAL_EXIT_REASONS
} corral_exit_reason_t;

/* The restart policy and the timers, from node.restart and friends. */
typedef struct {
    corral_restart_policy_t policy;
    uint64_t max_restarts;
    uint64_t window_ms;
    uint64_t backoff_initial_ms;
    uint64_t backoff_max_ms;
    uint64_t heartbeat_timeout_ms;  /* 0: hung workers are not looked for */
    uint64_t ready_timeout_ms;      /* a restarted process not ready by then is hung; 0: none */
    uint64_t shutdown_timeout_ms;
} corral_supervision_t;

/* What one slot runs. Slots of one worker type share these. */
typedef struct {
    char name[32];              /* "worker-2", or "http-2" for a named type */
    const corral_worker_group_t *type;  /* its group: command, env */
    bool http;                  /* serves HTTP; false: no listening socket */
    int listen_index;           /* its socket (corral_listener_fd), 0 without HTTP */
    bool may_be_main;           /* its type may hold the main role */
    uint64_t max_memory;        /* RLIMIT_AS; 0: none */
    uint64_t recycle_max_rss;   /* 0: never for its RSS */
    uint64_t recycle_max_requests;
    uint64_t recycle_jitter_percent;
    uint32_t config_generation; /* the configuration's: 1, then one more per reload */
} corral_slot_spec_t;

typedef struct {
    /* fork+exec `process` (corral_process_slot, _generation, _main say
     * what). Returns its pid, or -1 with *error set (freed by the caller). */
    pid_t (*spawn)(void *arg, corral_process_t *process, char **error);
    /* Slot `slot_id` now shows `process` (NULL: no process). */
    void (*slot_changed)(void *arg, int slot_id, const corral_process_t *process);
    /* Tells `process` over desk that it holds the main role now (or not). */
    void (*tell_main)(void *arg, const corral_process_t *process, bool main);
    /* The instance must stop with `exit_code` (raised, never lowered). */
    void (*stop_instance)(void *arg, int exit_code, const char *why);
    /* Every slot is ready, for the first time. */
    void (*all_ready)(void *arg);
    /* `process` is about to be freed: drop what is attached to it. */
    void (*forget)(void *arg, corral_process_t *process);
    /* Whether `process`, reaped with wait status `status` without being
     * asked to stop, was killed by the kernel's OOM killer (oom_kills.h).
     * NULL: never. */
    bool (*killed_for_memory)(void *arg, const corral_process_t *process, int status);

    /* Time, timers and signals. NULL: the monotonic clock, the loop's
     * timers and kill(2); a test brings its own to drive the decisions
     * with a fake clock and fake processes (tests/unit/test_supervisor.c).
     * `timer` returns an id for `timer_end`, or -1. */
    int64_t (*now_ms)(void *arg);
    int (*timer)(void *arg, uint64_t delay_ms, bool repeat, zloop_timer_fn *fn, void *fn_arg);
    void (*timer_end)(void *arg, int timer_id);
    int (*signal)(void *arg, pid_t pid, int signal_number);
} corral_supervisor_ops_t;

corral_supervisor_t *corral_supervisor_new(zloop_t *loop, const corral_supervision_t *policy,
                                           const corral_slot_spec_t *specs, int slot_count,
                                           const corral_supervisor_ops_t *ops, void *arg);
void corral_supervisor_destroy(corral_supervisor_t **self_p);

/* Starts every slot (slot 1 as main). Returns 0, or -1 when one could not
 * be started (the instance is being stopped). */
int corral_supervisor_start(corral_supervisor_t *self);

/* Asks every process to stop gracefully and restarts nothing from then
 * on; what is left at the shutdown timeout is killed. */
void corral_supervisor_stop(corral_supervisor_t *self);

/* Starts a new generation of slot `slot_id` beside its process; once the
 * new one is ready, the old one is stopped gracefully (reason
 * `recycled`). Returns 0, or -1 if the slot is already being replaced or
 * has no ready process. `done` (may be NULL) learns how it ended: true
 * once the old one was asked to stop, false if the new one died first. */
typedef void (corral_replace_fn)(void *arg, int slot_id, bool replaced);
int corral_supervisor_replace(corral_supervisor_t *self, int slot_id, const char *why,
                              corral_replace_fn *done, void *done_arg);

/* Slot `slot_id`'s next process runs `spec` (a reload, its rollback). */
void corral_supervisor_set_spec(corral_supervisor_t *self, int slot_id,
                                const corral_slot_spec_t *spec);
/* A reload's restart policy and timers, from now on (the heartbeat check
 * keeps its period). */
void corral_supervisor_set_policy(corral_supervisor_t *self, const corral_supervision_t *policy);
/* Slots in use. */
int corral_supervisor_slot_count(const corral_supervisor_t *self);
/* A new slot at the end, started with `spec`: returns its id, or -1.
 * `done` learns whether its first process became ready (true) or died
 * before (false; the slot is then left exited, not restarted). */
int corral_supervisor_add(corral_supervisor_t *self, const corral_slot_spec_t *spec,
                          corral_replace_fn *done, void *done_arg);
/* The last slot goes: its processes stop gracefully (never slot 1). */
void corral_supervisor_remove_last(corral_supervisor_t *self);
/* Forgets slot `slot_id`'s pending `done`; a replacement still starting
 * there is stopped (its old process keeps serving). */
void corral_supervisor_cancel(corral_supervisor_t *self, int slot_id);

/* --- What the coordinator tells it ------------------------------------------ */

/* The live process with this pid, or NULL. */
corral_process_t *corral_supervisor_process(corral_supervisor_t *self, pid_t pid);
/* The first live process for which `match` is true, or NULL. */
typedef bool (corral_process_match_fn)(const corral_process_t *process, void *arg);
corral_process_t *corral_supervisor_find(corral_supervisor_t *self,
                                         corral_process_match_fn *match, void *arg);
/* The same among slot `slot_id`'s processes only: O(1), for what every
 * report does. */
corral_process_t *corral_supervisor_find_in_slot(corral_supervisor_t *self, int slot_id,
                                                 corral_process_match_fn *match, void *arg);
/* The process slot `slot_id` shows (for its status reports), or NULL. */
corral_process_t *corral_supervisor_current(corral_supervisor_t *self, int slot_id);

/* `process` reported ready. */
void corral_supervisor_ready(corral_supervisor_t *self, corral_process_t *process);
/* `process` reported (its heartbeat), with its RSS and requests so far. */
void corral_supervisor_heard(corral_supervisor_t *self, corral_process_t *process,
                             uint64_t rss_bytes, uint64_t requests);
/* `process` missed its own liveness bound (a plain worker's watchdog,
 * `why` says how): SIGABRT, then SIGKILL; its exit is `hung`. */
void corral_supervisor_hung(corral_supervisor_t *self, corral_process_t *process,
                            const char *why);
/* `process` was reaped with wait status `status`; it is freed. */
void corral_supervisor_reaped(corral_supervisor_t *self, corral_process_t *process,
                              int status);

/* The holder of the main role (from its spawn), or NULL. */
corral_process_t *corral_supervisor_main(const corral_supervisor_t *self);
/* Every slot was ready once: the instance has been ready. */
bool corral_supervisor_booted(const corral_supervisor_t *self);
/* Processes not reaped yet. */
int corral_supervisor_live(const corral_supervisor_t *self);
/* "2 crashed, 1 hung, 0 memory, 1 recycled": replacements by reason. */
void corral_supervisor_describe_restarts(const corral_supervisor_t *self, char *out,
                                         size_t size);
/* Fills slot `slot_id`'s supervision fields (restarts, state, last exit,
 * ...) of `view`; they point into the supervisor until its next change. */
void corral_supervisor_fill_view(corral_supervisor_t *self, int slot_id,
                                 Corral__V1__WorkerView *view);

/* --- A process ----------------------------------------------------------------- */

int corral_process_slot(const corral_process_t *process);
const char *corral_process_name(const corral_process_t *process);
pid_t corral_process_pid(const corral_process_t *process);
uint32_t corral_process_generation(const corral_process_t *process);
/* It holds the main role (or is to start with it). */
bool corral_process_main(const corral_process_t *process);
uint64_t corral_process_max_memory(const corral_process_t *process);
/* Spawned, not ready yet. */
bool corral_process_starting(const corral_process_t *process);
/* The coordinator's own data for it (its desk peer), NULL until set. */
void *corral_process_link(const corral_process_t *process);
void corral_process_set_link(corral_process_t *process, void *link);

const char *corral_exit_reason_name(corral_exit_reason_t reason);

#endif
