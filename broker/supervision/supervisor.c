/* supervisor.c: every decision about the life of a worker slot, in two
 * files (as nginx keeps its cycle in ngx_process_cycle.c): this one while
 * its processes live (start, replace, ready, heard, hung, stop, the main
 * role), supervisor_exits.c when one exits.
 *
 * A slot shows one process, its `current`; while it is being replaced it
 * has a second, `beside` (the incoming one while it starts, then the
 * outgoing one while it stops). Each process of a slot has the next
 * generation. The slot's state is its current process's, or its own when
 * it has none:
 *
 *   EMPTY --start--> STARTING --Ready--> READY --SIGTERM (stop, replaced)--> STOPPING
 *                        |                 |  \--SIGABRT (hung), SIGKILL later--/   |
 *                        |                 |                                        |
 *                        +-------- reaped, unasked ---------+----------- reaped ----+
 *                                          |
 *            restart policy, crash loop, exit status, boot phase decide:
 *              WAITING --backoff timer--> STARTING (next generation)
 *              EXITED  (policy never, or a clean exit under on-failure,
 *                       or the instance stops: exit 78, exit 65, a boot
 *                       failure, a crash loop, a stop)
 *
 * Replacing (recycle, and later reload): the incoming process starts
 * beside a READY current; when it is ready it becomes the current and the
 * old one is stopped gracefully; if it dies first, the old one stays.
 *
 * The main role: one process holds it. The first slot whose type may be
 * main (worker_types.h) starts with
 * it. When its holder is reaped, the lowest-numbered slot with a ready
 * process gets it (told over desk), or the next process to become ready
 * if there is none: never two holders, never none for longer than a
 * restart takes. */
#include "supervisor.h"
#include "supervisor_private.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "process_metrics.h"

#define LOGGER "coordinator"
#define HUNG_GRACE_MS 2000      /* after SIGABRT (a core dump takes time), SIGKILL */

static void retire(corral_supervisor_t *self, corral_process_t *process);
static void stop_slot(corral_supervisor_t *self, slot_t *slot, corral_exit_reason_t reason);
static void stop_process(corral_process_t *process, int signal_number,
                         corral_exit_reason_t reason, uint64_t kill_after_ms);

/* --- Time, timers and signals (ops, or the loop's and the kernel's) ------------- */

int64_t
corral_supervisor_now(const corral_supervisor_t *self)
{
    return self->ops.now_ms ? self->ops.now_ms(self->arg) : zclock_mono();
}

int
corral_supervisor_add_timer(corral_supervisor_t *self, uint64_t delay_ms, bool repeat,
                            zloop_timer_fn *fn, void *fn_arg)
{
    if (self->ops.timer)
        return self->ops.timer(self->arg, delay_ms, repeat, fn, fn_arg);
    return zloop_timer(self->loop, (size_t) delay_ms, repeat ? 0 : 1, fn, fn_arg);
}

static void
end_timer(corral_supervisor_t *self, int *timer_id)
{
    if (*timer_id == -1)
        return;
    if (self->ops.timer_end)
        self->ops.timer_end(self->arg, *timer_id);
    else
        zloop_timer_end(self->loop, *timer_id);
    *timer_id = -1;
}

static void
send_signal(corral_supervisor_t *self, pid_t pid, int signal_number)
{
    if (self->ops.signal)
        self->ops.signal(self->arg, pid, signal_number);
    else
        kill(pid, signal_number);
}

/* --- Life and death of the supervisor ------------------------------------------ */

static int on_hung_check(zloop_t *loop, int timer_id, void *arg);

/* Slots slot_count+1.. with `specs`, allocated or reused (a removed slot
 * keeps its history). */
static int
add_slots(corral_supervisor_t *self, const corral_slot_spec_t *specs, int count)
{
    int total = self->slot_count + count;
    if (total > self->slot_capacity) {
        slot_t **slots = realloc(self->slots, (size_t) total * sizeof *slots);
        if (!slots)
            return -1;
        self->slots = slots;
        for (; self->slot_capacity < total; self->slot_capacity++) {
            slot_t *slot = calloc(1, sizeof *slot);
            if (!slot)
                return -1;
            *slot = (slot_t) { .owner = self, .id = self->slot_capacity + 1,
                               .restart_timer = -1 };
            self->slots[self->slot_capacity] = slot;
        }
    }
    for (int i = 0; i < count; i++) {
        slot_t *slot = self->slots[self->slot_count + i];
        slot->spec = specs[i];
        slot->state = CORRAL_SLOT_EMPTY;
    }
    self->slot_count = total;
    return 0;
}

corral_supervisor_t *
corral_supervisor_new(zloop_t *loop, const corral_supervision_t *policy,
                      const corral_slot_spec_t *specs, int slot_count,
                      const corral_supervisor_ops_t *ops, void *arg)
{
    corral_supervisor_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->policy = *policy;
    self->ops = *ops;
    self->arg = arg;
    self->hung_timer = -1;
    if (add_slots(self, specs, slot_count) != 0) {
        corral_supervisor_destroy(&self);
        return NULL;
    }
    srandom((unsigned) getpid() ^ (unsigned) zclock_mono());
    uint64_t shortest = policy->heartbeat_timeout_ms;
    if (!shortest || (policy->ready_timeout_ms && policy->ready_timeout_ms < shortest))
        shortest = policy->ready_timeout_ms;
    if (shortest > 0 && policy->policy != CORRAL_RESTART_NEVER) {
        uint64_t every = shortest / 4;
        every = every < 10 ? 10 : every > 1000 ? 1000 : every;
        self->hung_timer = corral_supervisor_add_timer(self, every, true, on_hung_check, self);
    }
    return self;
}

void
corral_supervisor_free_process(corral_supervisor_t *self, corral_process_t **process_p)
{
    corral_process_t *process = *process_p;
    if (!process)
        return;
    end_timer(self, &process->kill_timer);
    if (self->main == process)
        self->main = NULL;
    self->ops.forget(self->arg, process);
    free(process);
    *process_p = NULL;
}

void
corral_supervisor_destroy(corral_supervisor_t **self_p)
{
    corral_supervisor_t *self = *self_p;
    if (!self)
        return;
    end_timer(self, &self->hung_timer);
    for (int i = 0; i < self->slot_capacity; i++) {
        slot_t *slot = self->slots[i];
        end_timer(self, &slot->restart_timer);
        corral_supervisor_free_process(self, &slot->current);
        corral_supervisor_free_process(self, &slot->beside);
        free(slot);
    }
    while (self->retiring) {
        corral_process_t *process = self->retiring;
        self->retiring = process->next_retiring;
        corral_supervisor_free_process(self, &process);
    }
    free(self->slots);
    free(self);
    *self_p = NULL;
}

/* --- Starting -------------------------------------------------------------------- */

/* A limit with up to jitter% added, so that workers started together are
 * not recycled together. */
static uint64_t
with_jitter(uint64_t limit, uint64_t jitter_percent)
{
    if (limit == 0 || jitter_percent == 0)
        return limit;
    double share = (double) jitter_percent / 100.0 * ((double) random() / RAND_MAX);
    return limit + (uint64_t) ((double) limit * share);
}

static corral_process_t *
spawn_process(corral_supervisor_t *self, slot_t *slot, bool main)
{
    corral_process_t *process = calloc(1, sizeof *process);
    if (!process)
        return NULL;
    *process = (corral_process_t) {
        .owner = self, .slot_id = slot->id, .generation = slot->generations + 1,
        .config_generation = slot->spec.config_generation,
        .state = CORRAL_SLOT_STARTING, .main = main, .kill_timer = -1,
        .started_ms = corral_supervisor_now(self), .started_unix_ms = corral_unix_ms(),
        .recycle_rss = with_jitter(slot->spec.recycle_max_rss,
                                   slot->spec.recycle_jitter_percent),
        .recycle_requests = with_jitter(slot->spec.recycle_max_requests,
                                        slot->spec.recycle_jitter_percent),
    };
    process->heard_ms = process->started_ms;
    char *error = NULL;
    process->pid = self->ops.spawn(self->arg, process, &error);
    if (process->pid < 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s", error ? error : "cannot start a worker");
        free(error);
        free(process);
        return NULL;
    }
    if (slot->generations++ > 0)
        slot->restarts++;
    if (main)
        self->main = process;
    corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "started %s (pid %d, generation %u)%s",
               slot->spec.name, (int) process->pid, process->generation,
               main ? ", main" : "");
    return process;
}

/* The slot's current process, a new one. */
int
corral_supervisor_start_slot(corral_supervisor_t *self, slot_t *slot, bool main)
{
    slot->current = spawn_process(self, slot, main);
    if (!slot->current) {
        slot->state = CORRAL_SLOT_EXITED;
        self->ops.stop_instance(self->arg, 1, "a worker could not be started");
        return -1;
    }
    self->ops.slot_changed(self->arg, slot->id, slot->current);
    return 0;
}

int
corral_supervisor_start(corral_supervisor_t *self)
{
    int main = 0;       /* the first slot whose type may be main starts as main */
    while (main < self->slot_count && !self->slots[main]->spec.may_be_main)
        main++;         /* none (only plain programs): no one is main */
    for (int i = 0; i < self->slot_count; i++)
        if (corral_supervisor_start_slot(self, self->slots[i], i == main) != 0)
            return -1;
    return 0;
}

int
corral_supervisor_replace(corral_supervisor_t *self, int slot_id, const char *why,
                          corral_replace_fn *done, void *done_arg)
{
    slot_t *slot = slot_id >= 1 && slot_id <= self->slot_count ? self->slots[slot_id - 1] : NULL;
    if (!slot || self->stopping || slot->beside || !slot->current
        || slot->current->state != CORRAL_SLOT_READY)
        return -1;
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "%s (pid %d): %s; starting its replacement beside it",
               slot->spec.name, (int) slot->current->pid, why);
    slot->beside = spawn_process(self, slot, false);
    if (!slot->beside)
        return -1;
    slot->done = done;
    slot->done_arg = done_arg;
    return 0;
}

void
corral_supervisor_set_spec(corral_supervisor_t *self, int slot_id,
                           const corral_slot_spec_t *spec)
{
    if (slot_id >= 1 && slot_id <= self->slot_capacity)
        self->slots[slot_id - 1]->spec = *spec;
}

void
corral_supervisor_set_policy(corral_supervisor_t *self, const corral_supervision_t *policy)
{
    corral_supervision_t running = self->policy;
    self->policy = *policy;
    if (self->hung_timer == -1) {   /* no hung check runs: none is started now */
        self->policy.heartbeat_timeout_ms = running.heartbeat_timeout_ms;
        self->policy.ready_timeout_ms = running.ready_timeout_ms;
    }
}

int
corral_supervisor_slot_count(const corral_supervisor_t *self)
{
    return self->slot_count;
}

int
corral_supervisor_add(corral_supervisor_t *self, const corral_slot_spec_t *spec,
                      corral_replace_fn *done, void *done_arg)
{
    if (self->stopping || add_slots(self, spec, 1) != 0)
        return -1;
    slot_t *slot = self->slots[self->slot_count - 1];
    if (corral_supervisor_start_slot(self, slot, false) != 0)
        return -1;
    slot->done = done;
    slot->done_arg = done_arg;
    return slot->id;
}

static void stop_process(corral_process_t *process, int signal_number,
                         corral_exit_reason_t reason, uint64_t kill_after_ms);

void
corral_supervisor_remove_last(corral_supervisor_t *self)
{
    if (self->slot_count <= 1)
        return;
    slot_t *slot = self->slots[self->slot_count - 1];
    self->slot_count--;
    slot->done = NULL;
    for (corral_process_t *p = slot->current; p; p = p == slot->current ? slot->beside : NULL)
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "%s (pid %d): its slot is removed; it stops "
                   "gracefully", slot->spec.name, (int) p->pid);
    stop_slot(self, slot, CORRAL_EXIT_RECYCLED);
}

void
corral_supervisor_cancel(corral_supervisor_t *self, int slot_id)
{
    if (slot_id < 1 || slot_id > self->slot_capacity)
        return;
    slot_t *slot = self->slots[slot_id - 1];
    slot->done = NULL;
    corral_process_t *incoming = slot->beside && slot->beside->state == CORRAL_SLOT_STARTING
                               ? slot->beside : NULL;
    if (!incoming)
        return;
    corral_log(CORRAL_LEVEL_WARN, LOGGER, "%s (pid %d, the replacement): not ready in time; "
               "stopping it, pid %d keeps serving", slot->spec.name, (int) incoming->pid,
               slot->current ? (int) slot->current->pid : 0);
    slot->beside = NULL;
    retire(self, incoming);
    stop_process(incoming, SIGTERM, CORRAL_EXIT_RECYCLED, self->policy.shutdown_timeout_ms);
}

/* --- Stopping -------------------------------------------------------------------- */

static int
on_kill_due(zloop_t *loop, int timer_id, void *arg)
{
    corral_process_t *process = arg;
    process->kill_timer = -1;
    corral_log(CORRAL_LEVEL_WARN, LOGGER, "%s (pid %d) still running %s; killing it",
               corral_process_name(process), (int) process->pid,
               process->asked == CORRAL_EXIT_HUNG ? "after SIGABRT"
                                                  : "after the shutdown timeout");
    if (process->owner->stopping)
        process->owner->killed_stragglers = true;
    send_signal(process->owner, process->pid, SIGKILL);
    return 0;
}

static void
stop_process(corral_process_t *process, int signal_number, corral_exit_reason_t reason,
             uint64_t kill_after_ms)
{
    if (process->state == CORRAL_SLOT_STOPPING && reason != CORRAL_EXIT_STOPPED)
        return;
    if (process->state != CORRAL_SLOT_STOPPING)
        process->asked = reason;
    process->state = CORRAL_SLOT_STOPPING;
    send_signal(process->owner, process->pid, signal_number);
    if (process->kill_timer == -1)
        process->kill_timer = corral_supervisor_add_timer(process->owner, kill_after_ms, false,
                                                          on_kill_due, process);
}

/* No restart pending, and its processes asked to stop. */
static void
stop_slot(corral_supervisor_t *self, slot_t *slot, corral_exit_reason_t reason)
{
    if (slot->restart_timer != -1) {
        end_timer(self, &slot->restart_timer);
        slot->state = CORRAL_SLOT_EXITED;
    }
    corral_process_t *processes[] = { slot->current, slot->beside };
    for (int k = 0; k < 2; k++)
        if (processes[k])
            stop_process(processes[k], SIGTERM, reason, self->policy.shutdown_timeout_ms);
}

void
corral_supervisor_stop(corral_supervisor_t *self)
{
    self->stopping = true;
    for (corral_process_t *p = self->retiring; p; p = p->next_retiring)
        stop_process(p, SIGTERM, CORRAL_EXIT_STOPPED, self->policy.shutdown_timeout_ms);
    for (int i = 0; i < self->slot_capacity; i++)
        stop_slot(self, self->slots[i], CORRAL_EXIT_STOPPED);
}

/* --- The main role --------------------------------------------------------------- */

static void
give_main(corral_supervisor_t *self, corral_process_t *process)
{
    self->main = process;
    process->main = true;
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "%s (pid %d) is the main worker now",
               corral_process_name(process), (int) process->pid);
    self->ops.tell_main(self->arg, process, true);
}

/* The lowest-numbered ready process whose type may be main takes the
 * role, if nobody holds it. */
void
corral_supervisor_elect_main(corral_supervisor_t *self)
{
    if (self->main || self->stopping)
        return;
    for (int i = 0; i < self->slot_count; i++) {
        corral_process_t *process = self->slots[i]->current;
        if (process && process->state == CORRAL_SLOT_READY && self->slots[i]->spec.may_be_main) {
            give_main(self, process);
            return;
        }
    }
}

/* --- Ready and heard --------------------------------------------------------------- */

/* A replaced process stops on the side, so that its slot can be replaced
 * again (the next reload, a rollback) before it is gone. */
static void
retire(corral_supervisor_t *self, corral_process_t *process)
{
    process->next_retiring = self->retiring;
    self->retiring = process;
}

bool
corral_supervisor_unretire(corral_supervisor_t *self, corral_process_t *process)
{
    for (corral_process_t **p = &self->retiring; *p; p = &(*p)->next_retiring)
        if (*p == process) {
            *p = process->next_retiring;
            return true;
        }
    return false;
}

static void
swap_in(corral_supervisor_t *self, slot_t *slot)
{
    corral_process_t *outgoing = slot->current;
    slot->current = slot->beside;
    slot->beside = NULL;
    retire(self, outgoing);
    self->ops.slot_changed(self->arg, slot->id, slot->current);
    stop_process(outgoing, SIGTERM, CORRAL_EXIT_RECYCLED, self->policy.shutdown_timeout_ms);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "%s (pid %d) replaces pid %d, which stops gracefully",
               slot->spec.name, (int) slot->current->pid, (int) outgoing->pid);
    if (slot->done)
        slot->done(slot->done_arg, slot->id, true);
    slot->done = NULL;
}

void
corral_supervisor_ready(corral_supervisor_t *self, corral_process_t *process)
{
    slot_t *slot = corral_supervisor_slot_of(process);
    process->state = CORRAL_SLOT_READY;
    process->was_ready = true;
    process->ready_ms = process->heard_ms = corral_supervisor_now(self);
    corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "%s (pid %d) is ready", slot->spec.name,
               (int) process->pid);
    if (process == slot->beside && !self->stopping)
        swap_in(self, slot);
    else if (process == slot->current && slot->done) {   /* the old one died meanwhile */
        slot->done(slot->done_arg, slot->id, true);
        slot->done = NULL;
    }
    corral_supervisor_elect_main(self);
    if (self->booted)
        return;
    for (int i = 0; i < self->slot_count; i++)
        if (!self->slots[i]->current || self->slots[i]->current->state != CORRAL_SLOT_READY)
            return;
    self->booted = true;
    self->ops.all_ready(self->arg);
}

void
corral_supervisor_heard(corral_supervisor_t *self, corral_process_t *process,
                        uint64_t rss_bytes, uint64_t requests)
{
    process->heard_ms = corral_supervisor_now(self);
    slot_t *slot = corral_supervisor_slot_of(process);
    if (process != slot->current || process->state != CORRAL_SLOT_READY || slot->beside)
        return;
    char why[160];
    if (process->recycle_rss && rss_bytes > process->recycle_rss)
        snprintf(why, sizeof why, "its RSS %llu MB is over recycle.max_rss (%llu MB with jitter)",
                 (unsigned long long) (rss_bytes >> 20),
                 (unsigned long long) (process->recycle_rss >> 20));
    else if (process->recycle_requests && requests >= process->recycle_requests)
        snprintf(why, sizeof why, "it served %llu requests, recycle.max_requests is %llu "
                 "with jitter", (unsigned long long) requests,
                 (unsigned long long) process->recycle_requests);
    else
        return;
    corral_supervisor_replace(self, slot->id, why, NULL, NULL);
}

/* A process the check finds hung: SIGABRT (a core dump says where the loop
 * is stuck), then SIGKILL; its exit is then `hung`, and the restart
 * policy decides as for a crash. */
static void
hung(corral_supervisor_t *self, slot_t *slot, corral_process_t *process, const char *what)
{
    corral_log(CORRAL_LEVEL_ERROR, LOGGER, "%s (pid %d) %s: hung; sending SIGABRT, then "
               "SIGKILL after %d ms", slot->spec.name, (int) process->pid, what, HUNG_GRACE_MS);
    stop_process(process, SIGABRT, CORRAL_EXIT_HUNG, HUNG_GRACE_MS);
}

/* Ready workers whose reports stopped (the heartbeat timeout), and
 * restarted workers that are not ready within the ready timeout (a worker
 * that hangs before it is ready sends no Ready and may send no report):
 * both are hung. A slot's first process is the boot's or a reload's,
 * whose own bounds apply. */
static int
on_hung_check(zloop_t *loop, int timer_id, void *arg)
{
    corral_supervisor_t *self = arg;
    int64_t now = corral_supervisor_now(self);
    char what[160];
    for (int i = 0; i < self->slot_count && !self->stopping; i++) {
        slot_t *slot = self->slots[i];
        corral_process_t *process = slot->current;
        if (!process)
            continue;
        uint64_t heartbeat = self->policy.heartbeat_timeout_ms;
        uint64_t ready = self->policy.ready_timeout_ms;
        if (process->state == CORRAL_SLOT_READY && heartbeat
            && now - process->heard_ms > (int64_t) heartbeat) {
            snprintf(what, sizeof what, "has not reported for %lld ms (heartbeat timeout "
                     "%llu ms)", (long long) (now - process->heard_ms),
                     (unsigned long long) heartbeat);
            hung(self, slot, process, what);
        }
        else if (process->state == CORRAL_SLOT_STARTING && process->generation > 1 && ready
                 && now - process->started_ms > (int64_t) ready) {
            snprintf(what, sizeof what, "was restarted %lld ms ago and is not ready "
                     "(node.reload.ready_timeout %llu ms)",
                     (long long) (now - process->started_ms), (unsigned long long) ready);
            hung(self, slot, process, what);
        }
    }
    return 0;
}

void
corral_supervisor_hung(corral_supervisor_t *self, corral_process_t *process, const char *why)
{
    if (self->stopping || process->state == CORRAL_SLOT_STOPPING)
        return;
    hung(self, corral_supervisor_slot_of(process), process, why);
}
