/* reload.c: the steps of a rolling replacement and of its rollback.
 *
 * Rolling: step k (1..steps) replaces slot k (k <= both counts) or adds
 * it (k past the old count); up to `parallel` steps run at once, each
 * with its ready timeout. Slots past the new count are removed once every
 * step succeeded. A step that fails (the new process died, or was not
 * ready in time) fails the reload: the other steps in flight are
 * cancelled, added slots removed, and the replaced slots rolled back the
 * same way, `parallel` at a time. */
#include "reload.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"

#define LOGGER "coordinator"

typedef enum { PHASE_IDLE, PHASE_ROLLING, PHASE_ROLLING_BACK } phase_t;

struct corral_reload {
    zloop_t *loop;
    corral_supervisor_t *supervisor;
    corral_reload_ops_t ops;
    void *arg;
    corral_reload_plan_t plan;
    phase_t phase;
    int steps;              /* this phase's */
    int next;               /* the next step to start, 1-based */
    int in_flight;
    int capacity;
    int *timers;            /* per slot id: its ready timeout, -1: none */
    bool *replaced;         /* per slot id: replaced by this reload */
    int added;
    bool failed;
    char why[256];
};

corral_reload_t *
corral_reload_new(zloop_t *loop, corral_supervisor_t *supervisor,
                  const corral_reload_ops_t *ops, void *arg)
{
    corral_reload_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->supervisor = supervisor;
    self->ops = *ops;
    self->arg = arg;
    return self;
}

static void
end_timers(corral_reload_t *self)
{
    for (int i = 0; self->timers && i <= self->capacity; i++)
        if (self->timers[i] != -1) {
            zloop_timer_end(self->loop, self->timers[i]);
            self->timers[i] = -1;
        }
}

void
corral_reload_destroy(corral_reload_t **self_p)
{
    corral_reload_t *self = *self_p;
    if (!self)
        return;
    end_timers(self);
    free(self->timers);
    free(self->replaced);
    free(self);
    *self_p = NULL;
}

bool
corral_reload_running(const corral_reload_t *self)
{
    return self->phase != PHASE_IDLE;
}

static void pump(corral_reload_t *self);

static void
finish(corral_reload_t *self)
{
    end_timers(self);
    self->phase = PHASE_IDLE;
    self->ops.finished(self->arg, !self->failed, self->failed ? self->why : NULL);
}

/* The first failure is the reload's; the steps in flight are cancelled. */
static void
fail(corral_reload_t *self, const char *why)
{
    if (self->phase == PHASE_ROLLING_BACK) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "reload: rollback: %s; that slot runs the new "
                   "configuration", why);
        return;
    }
    if (self->failed)
        return;
    self->failed = true;
    snprintf(self->why, sizeof self->why, "%s", why);
    corral_log(CORRAL_LEVEL_ERROR, LOGGER, "reload: %s; aborting and rolling back", why);
    for (int id = 1; id <= self->capacity; id++)
        if (self->timers[id] != -1) {
            zloop_timer_end(self->loop, self->timers[id]);
            self->timers[id] = -1;
            corral_supervisor_cancel(self->supervisor, id);
            self->in_flight--;
        }
}

static void
step_done(void *arg, int slot_id, bool ok)
{
    corral_reload_t *self = arg;
    if (slot_id < 1 || slot_id > self->capacity || self->timers[slot_id] == -1)
        return;     /* cancelled meanwhile */
    zloop_timer_end(self->loop, self->timers[slot_id]);
    self->timers[slot_id] = -1;
    self->in_flight--;
    if (ok && self->phase == PHASE_ROLLING && slot_id <= self->plan.from_count)
        self->replaced[slot_id] = true;
    if (ok) {
        const char *what = self->phase == PHASE_ROLLING_BACK ? "rolled back"
                         : slot_id <= self->plan.from_count ? "replaced" : "added";
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "reload: %s %s", self->ops.name(self->arg, slot_id),
                   what);
        self->ops.step(self->arg, slot_id, what);
    }
    else {
        char why[96];
        snprintf(why, sizeof why, "the new %s exited before it was ready",
                 self->ops.name(self->arg, slot_id));
        fail(self, why);
    }
    pump(self);
}

static int
on_ready_timeout(zloop_t *loop, int timer_id, void *arg)
{
    corral_reload_t *self = arg;
    for (int id = 1; id <= self->capacity; id++)
        if (self->timers[id] == timer_id) {
            self->timers[id] = -1;
            self->in_flight--;
            corral_supervisor_cancel(self->supervisor, id);
            char why[128];
            snprintf(why, sizeof why, "the new %s was not ready within ready_timeout "
                     "(%llu ms)", self->ops.name(self->arg, id),
                     (unsigned long long) self->plan.ready_timeout_ms);
            fail(self, why);
            pump(self);
            break;
        }
    return 0;
}

/* Step `k` of this phase: slot k replaced, or (rolling) added. */
static int
start_step(corral_reload_t *self, int k)
{
    int slot_id = k;
    if (self->phase == PHASE_ROLLING_BACK || k <= self->plan.from_count) {
        if (self->phase == PHASE_ROLLING && !self->ops.changes(self->arg, k))
            return 0;
        if (self->phase == PHASE_ROLLING_BACK && !self->replaced[k])
            return 0;
        self->ops.assign(self->arg, k, self->phase == PHASE_ROLLING);
        if (corral_supervisor_replace(self->supervisor, k,
                                      self->phase == PHASE_ROLLING ? "reload" : "reload rollback",
                                      step_done, self) != 0)
            return -1;
    }
    else {
        slot_id = self->ops.add(self->arg, step_done, self);
        if (slot_id < 0)
            return -1;
        self->added++;
    }
    self->timers[slot_id] = zloop_timer(self->loop, (size_t) self->plan.ready_timeout_ms, 1,
                                        on_ready_timeout, self);
    self->in_flight++;
    return 0;
}

static void
begin_rollback(corral_reload_t *self)
{
    for (; self->added > 0; self->added--)
        self->ops.remove_last(self->arg);
    self->phase = PHASE_ROLLING_BACK;
    self->steps = self->plan.from_count;
    self->next = 1;
    corral_log(CORRAL_LEVEL_WARN, LOGGER, "reload: rolling back the replaced workers");
}

static void
pump(corral_reload_t *self)
{
    if (self->failed && self->phase == PHASE_ROLLING) {
        if (self->in_flight > 0)
            return;
        begin_rollback(self);
    }
    while (self->phase != PHASE_IDLE && self->in_flight < (int) self->plan.parallel
           && self->next <= self->steps) {
        int k = self->next++;
        if (start_step(self, k) != 0) {
            char why[128];
            snprintf(why, sizeof why, "%s cannot be %s now (it is not ready)",
                     self->ops.name(self->arg, k),
                     self->phase == PHASE_ROLLING_BACK ? "rolled back" : "replaced");
            fail(self, why);
            if (self->phase == PHASE_ROLLING) {
                pump(self);
                return;
            }
        }
    }
    if (self->phase == PHASE_IDLE || self->in_flight > 0 || self->next <= self->steps)
        return;
    if (self->phase == PHASE_ROLLING)
        for (int id = self->plan.from_count; id > self->plan.to_count; id--) {
            corral_log(CORRAL_LEVEL_INFO, LOGGER, "reload: removing %s",
                       self->ops.name(self->arg, id));
            self->ops.step(self->arg, id, "removed");
            self->ops.remove_last(self->arg);
        }
    finish(self);
}

int
corral_reload_start(corral_reload_t *self, const corral_reload_plan_t *plan)
{
    if (self->phase != PHASE_IDLE)
        return -1;
    int capacity = plan->from_count > plan->to_count ? plan->from_count : plan->to_count;
    if (capacity > self->capacity) {
        int *timers = realloc(self->timers, ((size_t) capacity + 1) * sizeof *timers);
        if (timers)
            self->timers = timers;
        bool *replaced = realloc(self->replaced, ((size_t) capacity + 1) * sizeof *replaced);
        if (replaced)
            self->replaced = replaced;
        if (!timers || !replaced)
            return -1;
        self->capacity = capacity;
    }
    for (int i = 0; i <= self->capacity; i++) {
        self->timers[i] = -1;
        self->replaced[i] = false;
    }
    self->plan = *plan;
    if (self->plan.parallel < 1)
        self->plan.parallel = 1;
    self->phase = PHASE_ROLLING;
    self->steps = plan->to_count;
    self->next = 1;
    self->in_flight = 0;
    self->added = 0;
    self->failed = false;
    self->why[0] = '\0';
    pump(self);
    return 0;
}

void
corral_reload_abort(corral_reload_t *self, const char *why)
{
    if (self->phase == PHASE_IDLE)
        return;
    for (int id = 1; id <= self->capacity; id++)
        if (self->timers[id] != -1)
            corral_supervisor_cancel(self->supervisor, id);
    end_timers(self);
    self->failed = true;
    snprintf(self->why, sizeof self->why, "%s", why);
    corral_log(CORRAL_LEVEL_WARN, LOGGER, "reload: aborted (%s), not rolled back", why);
    finish(self);
}
