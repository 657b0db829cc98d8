/* supervisor_private.h: the supervisor's state, shared by the files that
 * make it up (supervisor.c: the decisions while processes live;
 * supervisor_exits.c: the decisions when one exits; supervisor_query.c:
 * what the coordinator reads of it). */
#ifndef CORRAL_SUPERVISOR_PRIVATE_H
#define CORRAL_SUPERVISOR_PRIVATE_H

#include "exit_history.h"
#include "supervisor.h"

struct corral_process {
    corral_supervisor_t *owner;
    int slot_id;
    uint32_t generation;
    pid_t pid;
    corral_slot_state_t state;
    bool main;
    bool was_ready;
    corral_exit_reason_t asked;     /* why it was asked to stop (when STOPPING) */
    int64_t started_ms, ready_ms, heard_ms;
    uint64_t started_unix_ms;
    uint64_t recycle_rss, recycle_requests;     /* thresholds with jitter; 0: none */
    int kill_timer;                 /* SIGKILL when due; -1: none */
    uint32_t config_generation;     /* of the configuration it was started with */
    corral_process_t *next_retiring;
    void *link;
};

typedef struct {
    corral_supervisor_t *owner;
    int id;
    corral_slot_spec_t spec;        /* what its next process runs */
    corral_process_t *current;
    corral_process_t *beside;
    corral_slot_state_t state;      /* when there is no current process */
    uint32_t generations;
    uint32_t restarts;
    corral_exit_history_t exits;
    int restart_timer;
    int64_t restart_at_ms;
    corral_replace_fn *done;
    void *done_arg;
} slot_t;

struct corral_supervisor {
    zloop_t *loop;
    corral_supervision_t policy;
    corral_supervisor_ops_t ops;
    void *arg;
    slot_t **slots;
    int slot_count;                 /* slots in use: 1..slot_count */
    int slot_capacity;              /* allocated; the ones past slot_count were removed */
    corral_process_t *retiring;     /* replaced, stopping, not reaped yet */
    corral_process_t *main;         /* the holder of the main role, or NULL */
    bool booted;                    /* every slot was ready once */
    bool stopping;
    bool killed_stragglers;
    int hung_timer;
    uint64_t restarts_by_reason[CORRAL_EXIT_REASONS];
};

/* supervisor.c, for supervisor_exits.c and supervisor_query.c */
/* The supervisor's clock (ops.now_ms, or the monotonic one). */
int64_t corral_supervisor_now(const corral_supervisor_t *self);
/* A timer through ops.timer, or the loop's: its id, or -1. */
int corral_supervisor_add_timer(corral_supervisor_t *self, uint64_t delay_ms, bool repeat,
                                zloop_timer_fn *fn, void *fn_arg);
/* The slot's current process, a new one; -1 (the instance stops) if it
 * cannot be started. */
int corral_supervisor_start_slot(corral_supervisor_t *self, slot_t *slot, bool main);
/* The lowest-numbered ready process whose type may be main takes the
 * role, if nobody holds it. */
void corral_supervisor_elect_main(corral_supervisor_t *self);
/* Takes a replaced process off the retiring list; false if it was not on it. */
bool corral_supervisor_unretire(corral_supervisor_t *self, corral_process_t *process);
void corral_supervisor_free_process(corral_supervisor_t *self, corral_process_t **process_p);

static inline slot_t *
corral_supervisor_slot_of(const corral_process_t *process)
{
    return process->owner->slots[process->slot_id - 1];
}

#endif
