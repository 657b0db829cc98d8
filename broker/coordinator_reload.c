/* coordinator_reload.c: a reload of the configuration file (SIGHUP, or
 * the control tool through corral_coordinator_reload).
 *
 * The file is read and validated whole; a bad one changes nothing. A good
 * one: its logging applies at once, keys that need a restart are named
 * and kept (config_reload.c), and if what a worker is changed (or the
 * count), reload.c replaces the slots one by one, each slot's next
 * process running the new configuration (assign). On success the new
 * configuration becomes the running one; on failure every slot is back on
 * the running one. The outcome is logged with its duration and shown in
 * /api/status (`reload`). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator_private.h"
#include "cpu_quota.h"
#include "listener.h"
#include "log.h"
#include "logging_control.h"
#include "process_metrics.h"

#define LOGGER "coordinator"

/* What the reloads keep between and during them; the coordinator keeps
 * only what runs (its configuration, its plan, its generation). */
struct corral_reload_state {
    corral_coordinator_t *coordinator;
    corral_reload_t *steps;                 /* reload.c: the slots, one by one */
    corral_config_t *owned_config;          /* the running one, once a reload loaded it */
    corral_config_t *next_config;           /* during a reload */
    corral_worker_slots_t next_plan;        /* during a reload: the new configuration's slots */
    uint32_t next_generation;
    bool workers_differ;                    /* instance-wide: every slot is replaced */
    int64_t started_ms;
    corral_reload_done_fn *done;
    void *done_arg;
    Corral__V1__ReloadOutcome outcome;      /* /api/status `reload` */
    char summary[512];
    char kept[256];                         /* keys a restart would apply: for the reply */
};

static void report(corral_reload_state_t *self, bool ok, const char *summary);

/* The slots `config` asks for, `auto` counted as at the start. Returns 0
 * or -1 (out of memory). */
static int
plan_slots(const corral_config_t *config, corral_worker_slots_t *plan)
{
    int cpus = corral_worker_types_count_cpus(config)
             ? corral_cpu_auto_count(corral_cpu_affinity_count(), corral_cpu_quota("/")) : 1;
    return corral_worker_slots_plan(plan, config, cpus);
}

/* Every slot's next process runs `config` as `plan` says; the WorkerConfig
 * a process is welcomed with is built when it is spawned. */
static void
assign_all(corral_coordinator_t *coordinator, const corral_config_t *config,
           const corral_worker_slots_t *plan, uint32_t generation)
{
    for (int i = 0; i < coordinator->slot_count && i < plan->slot_count; i++)
        corral_coordinator_assign(coordinator, coordinator->slots[i], config, &plan->specs[i],
                                  plan->slot_count, generation);
}

/* `next` (with the slots of next_plan) is the running configuration from
 * now on. */
static void
adopt(corral_reload_state_t *self, corral_config_t *next, uint32_t generation)
{
    corral_coordinator_t *coordinator = self->coordinator;
    coordinator->config_generation = generation;
    assign_all(coordinator, next, &self->next_plan, generation);
    corral_worker_slots_clear(&coordinator->plan);
    coordinator->plan = self->next_plan;
    self->next_plan = (corral_worker_slots_t) { NULL, 0, 0 };
    corral_config_destroy(&self->owned_config);
    self->owned_config = next;
    coordinator->config = next;
    corral_supervision_t policy;
    corral_coordinator_policy(next, &policy);
    corral_supervisor_set_policy(coordinator->supervisor, &policy);
}


/* reuseport: which slots' sockets get new connections (listener.c). */
static void
steer(corral_coordinator_t *coordinator, int active)
{
    if (corral_listener_steer(coordinator->listener, active) != 0)
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "reload: cannot steer new connections to %d "
                   "sockets (%s): a removed or added slot's socket may reset a few",
                   active, strerror(errno));
}

/* reuseport: the sockets of both configurations exist before any new
 * worker starts (a replacement joins its socket before the old process
 * leaves it), and until the end new connections go only to the sockets
 * both keep: none to one whose worker is not ready yet, none to one that
 * goes away. Returns 0, or -1 (logged and reported: nothing changed). */
static int
prepare_sockets(corral_reload_state_t *self)
{
    corral_listener_t *listener = self->coordinator->listener;
    int running = corral_listener_count(listener);
    int next = self->next_plan.http_count > 0 ? self->next_plan.http_count : 1;
    char *error = NULL;
    if (next > running && corral_listener_resize(listener, next, &error) != 0) {
        char summary[400];
        snprintf(summary, sizeof summary, "cannot open the listening sockets for %d HTTP "
                 "workers, nothing changed: %s", next, error ? error : strerror(errno));
        free(error);
        corral_listener_resize(listener, running, NULL);
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "reload: %s", summary);
        report(self, false, summary);
        return -1;
    }
    steer(self->coordinator, next < running ? next : running);
    return 0;
}

/* --- What reload.c asks ------------------------------------------------------ */

static const char *
name_slot(void *arg, int slot_id)
{
    corral_reload_state_t *self = arg;
    const slot_t *slot = corral_coordinator_slot(self->coordinator, (uint32_t) slot_id);
    return slot && slot->spec.name[0] ? slot->spec.name : "a removed slot";
}

/* Whether slot `slot_id`'s process must be replaced to run the new
 * configuration: what every worker is told changed, or what this slot
 * runs (its spec), or its program on disk. */
static bool
changes_slot(void *arg, int slot_id)
{
    corral_reload_state_t *self = arg;
    const slot_t *slot = corral_coordinator_slot(self->coordinator, (uint32_t) slot_id);
    const corral_slot_spec_t *next = &self->next_plan.specs[slot_id - 1];
    corral_binary_id_t binary;
    corral_binary_id(corral_coordinator_program(self->coordinator, next), &binary);
    return self->workers_differ || corral_slot_specs_differ(&slot->spec, next)
        || !corral_binary_id_equal(&binary, &slot->binary);
}

static void
assign_slot(void *arg, int slot_id, bool to_new)
{
    corral_reload_state_t *self = arg;
    corral_coordinator_t *coordinator = self->coordinator;
    slot_t *slot = corral_coordinator_slot(coordinator, slot_id);
    if (!slot)
        return;
    if (to_new)
        corral_coordinator_assign(coordinator, slot, self->next_config,
                                  &self->next_plan.specs[slot_id - 1],
                                  self->next_plan.slot_count, self->next_generation);
    else
        corral_coordinator_assign(coordinator, slot, coordinator->config,
                                  &coordinator->plan.specs[slot_id - 1],
                                  coordinator->plan.slot_count, coordinator->config_generation);
}

static int
add_slot(void *arg, corral_replace_fn *done, void *done_arg)
{
    corral_reload_state_t *self = arg;
    corral_coordinator_t *coordinator = self->coordinator;
    int id = coordinator->slot_count + 1;
    const corral_slot_spec_t *spec = &self->next_plan.specs[id - 1];
    if (corral_coordinator_reserve_slots(coordinator, id) != 0
        || corral_cluster_view_resize(coordinator->view, id) != 0
        || (coordinator->logs && corral_log_collector_grow(coordinator->logs, id) != 0)) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "reload: cannot add %s: out of memory",
                   spec->name);
        return -1;
    }
    slot_t *slot = coordinator->slots[id - 1];
    corral_coordinator_assign(coordinator, slot, self->next_config, spec,
                              self->next_plan.slot_count, self->next_generation);
    coordinator->slot_count = id;
    int added = corral_supervisor_add(coordinator->supervisor, &slot->spec, done, done_arg);
    if (added != id) {
        coordinator->slot_count = id - 1;
        return -1;
    }
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "reload: adding %s", spec->name);
    return id;
}

static void
remove_last_slot(void *arg)
{
    corral_reload_state_t *self = arg;
    corral_coordinator_t *coordinator = self->coordinator;
    if (coordinator->slot_count <= 1)
        return;
    corral_supervisor_remove_last(coordinator->supervisor);
    coordinator->slot_count--;
    corral_cluster_view_resize(coordinator->view, coordinator->slot_count);
}

/* The tap's `reload` events: each step, with the slot's name. */
static void
step_slot(void *arg, int slot_id, const char *what)
{
    corral_reload_state_t *self = arg;
    corral_coordinator_t *coordinator = self->coordinator;
    const slot_t *slot = corral_coordinator_slot(coordinator, (uint32_t) slot_id);
    corral_process_t *process = corral_supervisor_current(coordinator->supervisor, slot_id);
    corral_tap_event(coordinator->tap, "reload", slot_id, slot ? slot->spec.name : NULL,
                     process ? corral_process_pid(process) : 0, "%s", what);
}

static void
reload_finished(void *arg, bool ok, const char *why)
{
    corral_reload_state_t *self = arg;
    corral_coordinator_t *coordinator = self->coordinator;
    int64_t took = zclock_mono() - self->started_ms;
    char summary[400];
    if (ok) {
        adopt(self, self->next_config, self->next_generation);
        self->next_config = NULL;
        snprintf(summary, sizeof summary, "applied in %lld ms: %d workers at configuration "
                 "generation %u", (long long) took, coordinator->slot_count,
                 coordinator->config_generation);
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "reload: %s", summary);
    }
    else {
        assign_all(coordinator, coordinator->config, &coordinator->plan,
                   coordinator->config_generation);
        corral_config_destroy(&self->next_config);
        corral_worker_slots_clear(&self->next_plan);
        snprintf(summary, sizeof summary, "failed after %lld ms and was rolled back: %s; "
                 "%d workers at configuration generation %u", (long long) took, why,
                 coordinator->slot_count, coordinator->config_generation);
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "reload: %s", summary);
    }
    /* reuseport: a socket for each HTTP slot that runs, all steered to;
     * those past it were steered away from since the start, and their
     * workers have drained them */
    int sockets = coordinator->plan.http_count > 0 ? coordinator->plan.http_count : 1;
    corral_listener_resize(coordinator->listener, sockets, NULL);
    steer(coordinator, sockets);
    self->outcome.duration_ms = (uint64_t) took;
    report(self, ok, summary);
}

/* --- The outcome --------------------------------------------------------------- */

static void
report(corral_reload_state_t *self, bool ok, const char *summary)
{
    corral_coordinator_t *coordinator = self->coordinator;
    /* the keys that need a restart, which an applied reload kept as they run */
    bool kept = ok && self->kept[0];
    snprintf(self->summary, sizeof self->summary, "%s%s%s", summary,
             kept ? "; kept until a restart (set once at start): " : "", kept ? self->kept : "");
    self->kept[0] = '\0';
    summary = self->summary;
    Corral__V1__ReloadOutcome *outcome = &self->outcome;
    outcome->running = false;
    outcome->ok = ok;
    outcome->summary = self->summary;
    outcome->at_unix_ms = corral_unix_ms();
    outcome->config_generation = coordinator->config_generation;
    corral_cluster_view_set_reload(coordinator->view, outcome);
    corral_tap_event(coordinator->tap, "reload", 0, NULL, 0, "%s: %s", ok ? "ok" : "failed",
                     summary);
    corral_reload_done_fn *done = self->done;
    self->done = NULL;
    if (done)
        done(self->done_arg, ok, summary);
}

/* --- The object ------------------------------------------------------------------ */

corral_reload_state_t *
corral_reload_state_new(corral_coordinator_t *coordinator)
{
    static const corral_reload_ops_t ops = {
        .name = name_slot, .changes = changes_slot, .assign = assign_slot, .add = add_slot,
        .remove_last = remove_last_slot, .step = step_slot, .finished = reload_finished,
    };
    corral_reload_state_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->coordinator = coordinator;
    corral__v1__reload_outcome__init(&self->outcome);
    self->steps = corral_reload_new(coordinator->loop, coordinator->supervisor, &ops, self);
    if (!self->steps)
        corral_reload_state_destroy(&self);
    return self;
}

void
corral_reload_state_destroy(corral_reload_state_t **self_p)
{
    corral_reload_state_t *self = *self_p;
    if (!self)
        return;
    corral_reload_destroy(&self->steps);
    corral_config_destroy(&self->next_config);
    corral_config_destroy(&self->owned_config);
    corral_worker_slots_clear(&self->next_plan);
    free(self);
    *self_p = NULL;
}

bool
corral_reload_state_running(const corral_reload_state_t *self)
{
    return self && corral_reload_running(self->steps);
}

void
corral_reload_state_abort(corral_reload_state_t *self)
{
    if (corral_reload_state_running(self))
        corral_reload_abort(self->steps, "the instance is stopping");
}

/* --- Beginning ------------------------------------------------------------------- */

/* The file, validated whole, with its appenders opened; NULL (logged,
 * nothing changed) if anything is wrong. */
static corral_config_t *
load(corral_reload_state_t *self, corral_log_router_t **router)
{
    char *error = NULL;
    corral_config_t *next = corral_config_load(self->coordinator->config->file, &error);
    if (next)
        *router = corral_logging_open(next, true, &error);
    if (next && *router)
        return next;
    corral_log(CORRAL_LEVEL_ERROR, LOGGER, "reload: configuration error, nothing changed: %s",
               error ? error : "out of memory");
    char summary[400];
    snprintf(summary, sizeof summary, "configuration error, nothing changed: %s",
             error ? error : "out of memory");
    free(error);
    corral_config_destroy(&next);
    report(self, false, summary);
    return NULL;
}

/* A reload the coordinator may begin, or why not. */
static const char *
refusal(const corral_coordinator_t *coordinator)
{
    if (coordinator->stopping)
        return "the instance is stopping";
    if (corral_reload_state_running(coordinator->reloads))
        return "a reload is in progress; this one is ignored";
    if (corral_upgrade_in_progress(coordinator->upgrade))
        return "a binary upgrade (SIGUSR2) is in progress; no reload meanwhile";
    return NULL;
}

/* The new configuration is read and its logging applied; now the
 * workers: unchanged (adopted at once), or replaced by reload.c. */
static void
begin(corral_reload_state_t *self, corral_config_t *next, corral_worker_slots_t *next_plan)
{
    corral_coordinator_t *coordinator = self->coordinator;
    self->next_plan = *next_plan;
    int count = next_plan->slot_count;
    self->workers_differ = corral_config_workers_differ(coordinator->config, next);
    int changing = 0;
    for (int id = 1; id <= coordinator->slot_count && id <= count; id++)
        changing += changes_slot(self, id);
    if (changing == 0 && count == coordinator->slot_count) {
        adopt(self, next, coordinator->config_generation);
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "reload: the workers are unchanged");
        report(self, true, "applied: the workers are unchanged");
        return;
    }
    if (prepare_sockets(self) != 0) {
        corral_config_destroy(&next);
        corral_worker_slots_clear(&self->next_plan);
        return;
    }
    self->next_config = next;
    self->next_generation = coordinator->config_generation + (changing ? 1 : 0);
    char what[96] = "";
    if (changing)
        snprintf(what, sizeof what, "replacing %d workers (configuration generation %u), ",
                 changing, self->next_generation);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "reload: %s%d -> %d workers, %llu at a time, "
               "ready_timeout %llu ms", what, coordinator->slot_count, count,
               (unsigned long long) (next->node.reload.parallel ? next->node.reload.parallel : 1),
               (unsigned long long) next->node.reload.ready_timeout_ms);
    self->outcome.running = true;
    self->outcome.at_unix_ms = corral_unix_ms();
    corral_tap_event(coordinator->tap, "reload", 0, NULL, 0, "started: %d -> %d workers, %d to "
                     "replace", coordinator->slot_count, count, changing);
    corral_reload_plan_t plan = {
        .from_count = coordinator->slot_count, .to_count = count,
        .parallel = next->node.reload.parallel,
        .ready_timeout_ms = next->node.reload.ready_timeout_ms,
    };
    corral_reload_start(self->steps, &plan);
}

void
corral_coordinator_reload(corral_coordinator_t *coordinator, corral_reload_done_fn *done,
                          void *arg)
{
    corral_reload_state_t *self = coordinator->reloads;
    const char *why = refusal(coordinator);
    if (why) {
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "reload: %s", why);
        if (done)
            done(arg, false, why);
        return;
    }
    self->done = done;
    self->done_arg = arg;
    self->started_ms = zclock_mono();
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "reload: reading %s", coordinator->config->file);
    corral_log_router_t *router = NULL;
    corral_config_t *next = load(self, &router);
    if (!next)
        return;
    corral_config_pin_restart_keys(coordinator->config, next, self->kept, sizeof self->kept);
    Corral__V1__LogConfig *levels = corral_logging_apply(coordinator->logs, router, next);
    corral_coordinator_apply_log_config(coordinator, levels);  /* the new levels to every worker */

    corral_worker_slots_t next_plan;
    if (plan_slots(next, &next_plan) != 0) {
        corral_config_destroy(&next);
        report(self, false, "out of memory, nothing changed");
        return;
    }
    begin(self, next, &next_plan);
}
