/* supervisor_exits.c: the supervisor's decisions when a worker process
 * exits (supervisor.c makes the others): why it exited (asked, out of
 * memory, crashed), and what follows for its slot: a restart after its
 * backoff, nothing (exit 78 and 65, a clean exit under on-failure, the
 * instance stopping), or the instance's stop (a boot failure, a crash
 * loop, policy never). A replacement that dies before it is ready leaves
 * the old process serving. */
#include "supervisor.h"
#include "supervisor_private.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "corral/worker.h"
#include "exit_history.h"
#include "log.h"

#define LOGGER "coordinator"

/* Why `process` exited: what it was asked (a stop, a recycle, hung), or
 * out of memory (its own exit code when an allocation failed, or the
 * kernel's OOM killer), or crashed. */
static corral_exit_reason_t
reason_of(corral_supervisor_t *self, const corral_process_t *process, int status)
{
    if (process->state == CORRAL_SLOT_STOPPING)
        return process->asked;
    if (WIFEXITED(status) && WEXITSTATUS(status) == CORRAL_WORKER_EXIT_MEMORY)
        return CORRAL_EXIT_MEMORY;
    if (self->ops.killed_for_memory && self->ops.killed_for_memory(self->arg, process, status))
        return CORRAL_EXIT_MEMORY;
    return CORRAL_EXIT_CRASHED;
}

static int
on_restart_due(zloop_t *loop, int timer_id, void *arg)
{
    slot_t *slot = arg;
    slot->restart_timer = -1;
    if (!slot->owner->stopping)
        corral_supervisor_start_slot(slot->owner, slot, false);
    return 0;
}

/* The exit of a slot's current process, not asked for: restart it (after
 * its backoff), leave it, or stop the instance. */
static void
decide(corral_supervisor_t *self, slot_t *slot, corral_process_t *process, int status,
       corral_exit_reason_t reason, const char *how)
{
    const char *name = slot->spec.name;
    int pid = (int) process->pid;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == CORRAL_WORKER_EXIT_CONFIG || code == CORRAL_WORKER_EXIT_MIGRATION) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "%s (pid %d) %s: %s; not restarted, stopping "
                   "the instance", name, pid, how,
                   code == CORRAL_WORKER_EXIT_CONFIG ? "its configuration was refused"
                                                     : "a migration failed");
        slot->state = CORRAL_SLOT_EXITED;
        self->ops.stop_instance(self->arg, code == CORRAL_WORKER_EXIT_CONFIG ? code : 1,
                                "a worker cannot run");
        return;
    }
    if (!self->booted && !process->was_ready) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "%s (pid %d) %s before it was ready: a boot "
                   "failure; not restarted, stopping the instance", name, pid, how);
        slot->state = CORRAL_SLOT_EXITED;
        self->ops.stop_instance(self->arg, 1, "a worker failed to boot");
        return;
    }
    if (self->policy.policy == CORRAL_RESTART_NEVER) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER,
                   "%s (pid %d) %s unexpectedly: %s; stopping the instance (restart policy: never)",
                   name, pid, how, corral_exit_reason_name(reason));
        slot->state = CORRAL_SLOT_EXITED;
        self->ops.stop_instance(self->arg, 1, "a worker failed");
        return;
    }
    if (code == 0 && self->policy.policy == CORRAL_RESTART_ON_FAILURE) {
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "%s (pid %d) %s: a clean exit, not restarted "
                   "(restart policy: on-failure)", name, pid, how);
        slot->state = CORRAL_SLOT_EXITED;
        if (corral_supervisor_live(self) == 0)
            self->ops.stop_instance(self->arg, 0, "every worker exited cleanly");
        return;
    }
    char window[32];
    int64_t now = corral_supervisor_now(self);
    if (process->was_ready && now - process->ready_ms >= (int64_t) self->policy.window_ms)
        slot->exits.failures = 0;   /* it had been ready long enough: the backoff starts over */
    slot->exits.failures++;
    int within = corral_exit_history_count(&slot->exits, now, self->policy.window_ms);
    if ((uint64_t) within > self->policy.max_restarts) {
        char recent[512];
        corral_exit_history_recent(&slot->exits, now, self->policy.window_ms, recent,
                                   sizeof recent);
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s (pid %d) %s: %s; %s is crash-looping: %d "
                   "exits in %s (max_restarts %llu), %s; stopping the instance",
                   name, pid, how, corral_exit_reason_name(reason), name, within,
                   corral_duration_text(self->policy.window_ms, window, sizeof window),
                   (unsigned long long) self->policy.max_restarts, recent);
        slot->state = CORRAL_SLOT_EXITED;
        self->ops.stop_instance(self->arg, 1, "a worker is crash-looping");
        return;
    }
    uint64_t delay = corral_exit_history_backoff(&slot->exits, self->policy.backoff_initial_ms,
                                                 self->policy.backoff_max_ms);
    corral_log(CORRAL_LEVEL_ERROR, LOGGER, "%s (pid %d) %s: %s; restarting in %llu ms, "
               "%d of %llu in %s", name, pid, how, corral_exit_reason_name(reason),
               (unsigned long long) delay, within,
               (unsigned long long) self->policy.max_restarts,
               corral_duration_text(self->policy.window_ms, window, sizeof window));
    self->restarts_by_reason[reason]++;
    slot->state = CORRAL_SLOT_WAITING;
    slot->restart_at_ms = now + (int64_t) delay;
    slot->restart_timer = corral_supervisor_add_timer(self, delay, false, on_restart_due, slot);
}

/* The incoming process of a replacement died before it was ready: the
 * old one keeps serving. It counts towards a crash loop. */
static void
incoming_failed(corral_supervisor_t *self, slot_t *slot, const corral_process_t *process,
                const char *how)
{
    int within = corral_exit_history_count(&slot->exits, corral_supervisor_now(self),
                                           self->policy.window_ms);
    corral_log(CORRAL_LEVEL_ERROR, LOGGER, "%s (pid %d, the replacement) %s before it was "
               "ready: crashed; pid %d keeps serving (%d exits in %llu ms)", slot->spec.name,
               (int) process->pid, how, (int) slot->current->pid, within,
               (unsigned long long) self->policy.window_ms);
    if (slot->done)
        slot->done(slot->done_arg, slot->id, false);
    slot->done = NULL;
    if ((uint64_t) within > self->policy.max_restarts)
        self->ops.stop_instance(self->arg, 1, "a worker is crash-looping");
}

static void
log_asked_exit(corral_supervisor_t *self, const corral_process_t *process, int status,
               corral_exit_reason_t reason, const char *how)
{
    /* a process stopped before it set up its signal handling dies of our SIGTERM */
    bool clean = (WIFEXITED(status) && WEXITSTATUS(status) == 0)
              || (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    const char *name = corral_process_name(process);
    if (reason == CORRAL_EXIT_STOPPED && clean)
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "%s (pid %d) stopped", name, (int) process->pid);
    else if (reason == CORRAL_EXIT_STOPPED) {
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "%s (pid %d) %s while stopping", name,
                   (int) process->pid, how);
        if (!self->killed_stragglers)
            self->ops.stop_instance(self->arg, 1, "a worker failed while stopping");
    }
    else
        corral_log(clean ? CORRAL_LEVEL_INFO : CORRAL_LEVEL_WARN, LOGGER, "%s (pid %d) %s: %s",
                   name, (int) process->pid, how, corral_exit_reason_name(reason));
}

void
corral_supervisor_reaped(corral_supervisor_t *self, corral_process_t *process, int status)
{
    slot_t *slot = corral_supervisor_slot_of(process);
    char how[96];
    corral_exit_describe(status, how, sizeof how);
    corral_exit_reason_t reason = reason_of(self, process, status);
    bool was_main = self->main == process;
    corral_exit_history_record(&slot->exits, process->pid, status,
                               corral_exit_reason_name(reason));
    if (corral_supervisor_unretire(self, process)) {
        log_asked_exit(self, process, status, self->stopping ? CORRAL_EXIT_STOPPED : reason, how);
        if (reason == CORRAL_EXIT_RECYCLED)
            self->restarts_by_reason[reason]++;
    }
    else if (process == slot->beside) {
        slot->beside = NULL;
        if (process->state == CORRAL_SLOT_STOPPING) {
            log_asked_exit(self, process, status, reason, how);
            if (reason == CORRAL_EXIT_RECYCLED)
                self->restarts_by_reason[reason]++;
        }
        else if (!self->stopping)
            incoming_failed(self, slot, process, how);
    }
    else {
        slot->current = NULL;
        bool asked = process->state == CORRAL_SLOT_STOPPING && reason != CORRAL_EXIT_HUNG;
        if (slot->beside && !self->stopping && slot->beside->state == CORRAL_SLOT_STARTING) {
            slot->current = slot->beside;     /* its replacement is on its way already */
            slot->beside = NULL;
        }
        self->ops.slot_changed(self->arg, slot->id, slot->current);
        if (asked || self->stopping) {
            log_asked_exit(self, process, status, self->stopping ? CORRAL_EXIT_STOPPED : reason,
                           how);
            slot->state = CORRAL_SLOT_EXITED;
        }
        else if (slot->done && !process->was_ready) {    /* an added slot that never came up */
            corral_log(CORRAL_LEVEL_ERROR, LOGGER, "%s (pid %d) %s before it was ready",
                       slot->spec.name, (int) process->pid, how);
            slot->state = CORRAL_SLOT_EXITED;
            corral_replace_fn *done = slot->done;
            slot->done = NULL;
            done(slot->done_arg, slot->id, false);
        }
        else if (slot->current) {
            corral_exit_history_count(&slot->exits, corral_supervisor_now(self),
                                      self->policy.window_ms);
            corral_log(CORRAL_LEVEL_ERROR, LOGGER, "%s (pid %d) %s: %s; its replacement "
                       "(pid %d) is starting", slot->spec.name, (int) process->pid, how,
                       corral_exit_reason_name(reason), (int) slot->current->pid);
            self->restarts_by_reason[reason]++;
        }
        else
            decide(self, slot, process, status, reason, how);
    }
    corral_supervisor_free_process(self, &process);
    if (was_main)
        corral_supervisor_elect_main(self);
}
