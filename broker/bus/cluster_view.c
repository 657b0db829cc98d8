/* cluster_view.c: the latest Report of each worker slot (an owned copy),
 * silence detection against the heartbeat timeout, and the ClusterView
 * built from them with the coordinator's own process and os figures,
 * packed once for every worker that asks within a short while. */
#include "cluster_view.h"

#include <stdio.h>
#include <stdlib.h>

#include "defaults.h"
#include "log.h"
#include "message_copy.h"
#include "log_counters.h"
#include "loop_delay.h"
#include "os_metrics.h"
#include "process_metrics.h"
#include "tap.h"

#define LOGGER "coordinator"
#define SAMPLE_EVERY_MS 50      /* the coordinator's and os figures, at most */
/* Workers that ask for the view within this share one packing of it (at
 * most a tenth of the interval): many workers answering /api/status at
 * once cost one view, not one each. */
#define SHARE_MAX_MS 100

typedef struct {
    char name[32];
    pid_t pid;                  /* 0: no process */
    int64_t heard_at_ms;        /* last report, or start */
    bool silent;                /* as last logged */
    const char *state;          /* a literal: "starting", "ready"; NULL: empty */
    bool main;
    Corral__V1__Report *report; /* NULL until the first one */
} worker_t;

struct corral_cluster_view {
    zloop_t *loop;
    int timer_id;
    int64_t check_due_us;
    corral_loop_delay_t *loop_delay;
    double loop_delay_ms;       /* the coordinator's, over the last interval */
    worker_t *workers;
    int worker_count;
    uint64_t interval_ms;
    uint64_t heartbeat_timeout_ms;
    double cpu_quota;
    const Corral__V1__BusStats *bus;
    const Corral__V1__ToolCounters *tools;
    corral_tap_t *tap;
    int64_t sampled_at_ms;
    /* what the last envelope points to */
    Corral__V1__ProcessMetrics coordinator;
    Corral__V1__OsMetrics os;
    Corral__V1__LogCounters logs;
    Corral__V1__WorkerView *views;
    Corral__V1__WorkerView **view_pointers;
    Corral__V1__Report empty_report;
    Corral__V1__ClusterView message;
    corral_envelope_t envelope;
    corral_view_filler_fn *filler;
    void *filler_arg;
    const Corral__V1__ReloadOutcome *last_reload;
    const Corral__V1__ServiceStatus *data_dir;
    const Corral__V1__InputCounters *input;
    const Corral__V1__BalancerCounters *balancer;
    zframe_t *packed;           /* the envelope, for those who ask meanwhile */
    int64_t packed_at_ms;
};

static int on_check(zloop_t *loop, int timer_id, void *arg);

/* One interval from now. Not a repeating timer: after a blocked loop that
 * one fires back to back for every missed interval, and the loop delay
 * measured by the first would be replaced at once. */
static int
arm_check(corral_cluster_view_t *self)
{
    size_t delay = self->interval_ms > CORRAL_STATUS_INTERVAL_MIN_MS
                       ? (size_t) self->interval_ms : CORRAL_STATUS_INTERVAL_MIN_MS;
    self->check_due_us = zclock_usecs() + (int64_t) delay * 1000;
    return zloop_timer(self->loop, delay, 1, on_check, self);
}

corral_cluster_view_t *
corral_cluster_view_new(zloop_t *loop, int worker_count, uint64_t interval_ms,
                        uint64_t heartbeat_timeout_ms, double cpu_quota)
{
    corral_process_metrics_start();
    corral_cluster_view_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->worker_count = worker_count;
    self->interval_ms = interval_ms;
    self->heartbeat_timeout_ms = heartbeat_timeout_ms;
    self->cpu_quota = cpu_quota;
    self->sampled_at_ms = -SAMPLE_EVERY_MS;
    if (heartbeat_timeout_ms < 2 * interval_ms)
        corral_log(CORRAL_LEVEL_WARN, LOGGER,
                   "node.workers.heartbeat_timeout (%llu ms) is under two "
                   "node.status.interval (%llu ms): healthy workers will be "
                   "reported unavailable", (unsigned long long) heartbeat_timeout_ms,
                   (unsigned long long) interval_ms);
    self->workers = calloc((size_t) worker_count, sizeof *self->workers);
    self->views = calloc((size_t) worker_count, sizeof *self->views);
    self->view_pointers = calloc((size_t) worker_count, sizeof *self->view_pointers);
    self->loop_delay = corral_loop_delay_new(loop);
    self->timer_id = arm_check(self);
    if (!self->workers || !self->views || !self->view_pointers || !self->loop_delay
        || self->timer_id < 0)
        corral_cluster_view_destroy(&self);
    return self;
}

void
corral_cluster_view_destroy(corral_cluster_view_t **self_p)
{
    corral_cluster_view_t *self = *self_p;
    if (!self)
        return;
    if (self->timer_id >= 0)
        zloop_timer_end(self->loop, self->timer_id);
    corral_loop_delay_destroy(&self->loop_delay);
    for (int i = 0; self->workers && i < self->worker_count; i++)
        if (self->workers[i].report)
            corral__v1__report__free_unpacked(self->workers[i].report, NULL);
    zframe_destroy(&self->packed);
    free(self->workers);
    free(self->views);
    free(self->view_pointers);
    free(self);
    *self_p = NULL;
}

int
corral_cluster_view_resize(corral_cluster_view_t *self, int worker_count)
{
    for (int i = worker_count; i < self->worker_count; i++)
        if (self->workers[i].report)
            corral__v1__report__free_unpacked(self->workers[i].report, NULL);
    size_t n = (size_t) worker_count;
    worker_t *workers = realloc(self->workers, n * sizeof *workers);
    if (workers)
        self->workers = workers;
    Corral__V1__WorkerView *views = realloc(self->views, n * sizeof *views);
    if (views)
        self->views = views;
    Corral__V1__WorkerView **pointers = realloc(self->view_pointers, n * sizeof *pointers);
    if (pointers)
        self->view_pointers = pointers;
    if (!workers || !views || !pointers)
        return -1;
    for (int i = self->worker_count; i < worker_count; i++)
        self->workers[i] = (worker_t) { .pid = 0 };
    self->worker_count = worker_count;
    return 0;
}

void
corral_cluster_view_set_data_dir(corral_cluster_view_t *self,
                                 const Corral__V1__ServiceStatus *status)
{
    self->data_dir = status;
}

void
corral_cluster_view_set_reload(corral_cluster_view_t *self,
                               const Corral__V1__ReloadOutcome *outcome)
{
    self->last_reload = outcome;
}

static worker_t *
worker_by_id(corral_cluster_view_t *self, int id)
{
    return id >= 1 && id <= self->worker_count ? &self->workers[id - 1] : NULL;
}

static void
forget_report(worker_t *worker)
{
    if (worker->report)
        corral__v1__report__free_unpacked(worker->report, NULL);
    worker->report = NULL;
}

void
corral_cluster_view_worker_started(corral_cluster_view_t *self, int id,
                                   const char *name, pid_t pid)
{
    worker_t *worker = worker_by_id(self, id);
    if (!worker)
        return;
    snprintf(worker->name, sizeof worker->name, "%s", name);
    worker->pid = pid;
    worker->heard_at_ms = zclock_mono();
    worker->silent = false;
    worker->state = "starting";
    forget_report(worker);
}

void
corral_cluster_view_worker_state(corral_cluster_view_t *self, int id, const char *state,
                                 bool main)
{
    worker_t *worker = worker_by_id(self, id);
    if (worker) {
        worker->state = state;
        worker->main = main;
    }
}

void
corral_cluster_view_add_counters(corral_cluster_view_t *self, const Corral__V1__BusStats *bus,
                                 const Corral__V1__ToolCounters *tools)
{
    self->bus = bus;
    self->tools = tools;
}

void
corral_cluster_view_worker_gone(corral_cluster_view_t *self, int id)
{
    worker_t *worker = worker_by_id(self, id);
    if (worker) {
        worker->pid = 0;
        worker->state = NULL;
    }
}

void
corral_cluster_view_set_tap(corral_cluster_view_t *self, corral_tap_t *tap)
{
    self->tap = tap;
}

/* The most severe level of a report's services; -1 without a report. */
static int
worst_level(const Corral__V1__Report *report)
{
    int worst = -1;
    for (size_t i = 0; report && i < report->n_core; i++)
        if ((int) report->core[i]->level > worst)
            worst = (int) report->core[i]->level;
    for (size_t i = 0; report && i < report->n_plugins; i++)
        if ((int) report->plugins[i]->level > worst)
            worst = (int) report->plugins[i]->level;
    return report && worst < 0 ? 0 : worst;
}

static const char *
level_name(int level)
{
    static const char *names[] = { "available", "degraded", "unavailable", "critical" };
    return level >= 0 && level < 4 ? names[level] : "unknown";
}

void
corral_cluster_view_set_filler(corral_cluster_view_t *self, corral_view_filler_fn *fn, void *arg)
{
    self->filler = fn;
    self->filler_arg = arg;
}

int
corral_cluster_view_accept(corral_cluster_view_t *self, int id,
                           const Corral__V1__Report *report)
{
    worker_t *worker = worker_by_id(self, id);
    Corral__V1__Report *copy = worker ? corral_message_copy(&report->base) : NULL;
    if (!copy)
        return -1;
    int before = worst_level(worker->report), after = worst_level(copy);
    if (before != after && before >= 0)
        corral_tap_event(self->tap, "status", id, worker->name, worker->pid, "%s -> %s",
                         level_name(before), level_name(after));
    forget_report(worker);
    worker->report = copy;
    worker->heard_at_ms = zclock_mono();
    if (worker->silent) {
        worker->silent = false;
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "%s (pid %d) reports again", worker->name,
                   (int) worker->pid);
        corral_tap_event(self->tap, "reporting", id, worker->name, worker->pid,
                         "reports again");
    }
    return 0;
}

static uint64_t
silence_ms(const worker_t *worker, int64_t now)
{
    return now > worker->heard_at_ms ? (uint64_t) (now - worker->heard_at_ms) : 0;
}

static bool
is_silent(const corral_cluster_view_t *self, const worker_t *worker, int64_t now)
{
    return worker->pid == 0 || silence_ms(worker, now) > self->heartbeat_timeout_ms;
}

/* Every interval: the coordinator's loop delay, and a log line once when
 * a worker falls silent (accept() logs when it comes back). */
static int
on_check(zloop_t *loop, int timer_id, void *arg)
{
    corral_cluster_view_t *self = arg;
    corral_loop_delay_turn();
    corral_loop_delay_late(self->loop_delay, self->check_due_us);
    self->loop_delay_ms = corral_loop_delay_take_max_ms(self->loop_delay);
    self->timer_id = arm_check(self);
    int64_t now = zclock_mono();
    for (int i = 0; i < self->worker_count; i++) {
        worker_t *worker = &self->workers[i];
        if (worker->pid == 0 || worker->silent || !is_silent(self, worker, now))
            continue;
        worker->silent = true;
        corral_tap_event(self->tap, "silent", i + 1, worker->name, worker->pid,
                         "no report for %llu ms", (unsigned long long) silence_ms(worker, now));
        corral_log(CORRAL_LEVEL_WARN, LOGGER,
                   "%s (pid %d) has not reported for %llu ms (heartbeat timeout %llu ms): "
                   "unavailable; its loop is blocked or it is gone",
                   worker->name, (int) worker->pid,
                   (unsigned long long) silence_ms(worker, now),
                   (unsigned long long) self->heartbeat_timeout_ms);
    }
    return 0;
}

static void
sample_own_figures(corral_cluster_view_t *self, int64_t now)
{
    if (now - self->sampled_at_ms < SAMPLE_EVERY_MS)
        return;
    self->sampled_at_ms = now;
    self->coordinator = (Corral__V1__ProcessMetrics) CORRAL__V1__PROCESS_METRICS__INIT;
    corral_process_metrics_sample(&self->coordinator);
    self->coordinator.event_loop_delay_ms = self->loop_delay_ms;
    self->os = (Corral__V1__OsMetrics) CORRAL__V1__OS_METRICS__INIT;
    corral_os_metrics_sample(&self->os, self->cpu_quota);
    self->logs = (Corral__V1__LogCounters) CORRAL__V1__LOG_COUNTERS__INIT;
    corral_log_counters_sample(&self->logs);
}

static void
fill_worker_view(corral_cluster_view_t *self, int index, int64_t now)
{
    worker_t *worker = &self->workers[index];
    Corral__V1__WorkerView *view = &self->views[index];
    *view = (Corral__V1__WorkerView) CORRAL__V1__WORKER_VIEW__INIT;
    view->worker_id = (uint32_t) index + 1;
    view->name = worker->name;
    view->pid = (uint32_t) worker->pid;
    view->reporting = !is_silent(self, worker, now);
    view->reported = worker->report != NULL;
    view->last_report_age_ms = silence_ms(worker, now);
    view->report = worker->report ? worker->report : &self->empty_report;
    if (self->filler)
        self->filler(self->filler_arg, index + 1, view);
    view->main = worker->main;
    self->view_pointers[index] = view;
}

void
corral_cluster_view_set_input(corral_cluster_view_t *self, const Corral__V1__InputCounters *input)
{
    self->input = input;
}

void
corral_cluster_view_set_balancer(corral_cluster_view_t *self,
                                 const Corral__V1__BalancerCounters *balancer)
{
    self->balancer = balancer;
}

const corral_envelope_t *
corral_cluster_view_envelope(corral_cluster_view_t *self, uint64_t desk_dropped)
{
    int64_t now = zclock_mono();
    sample_own_figures(self, now);
    self->empty_report = (Corral__V1__Report) CORRAL__V1__REPORT__INIT;
    for (int i = 0; i < self->worker_count; i++)
        fill_worker_view(self, i, now);
    Corral__V1__ClusterView message = CORRAL__V1__CLUSTER_VIEW__INIT;
    message.generated_unix_ms = corral_unix_ms();
    message.collection_interval_ms = self->interval_ms;
    message.heartbeat_timeout_ms = self->heartbeat_timeout_ms;
    message.coordinator = &self->coordinator;
    message.n_workers = (size_t) self->worker_count;
    message.workers = self->view_pointers;
    message.os = &self->os;
    message.desk_dropped = desk_dropped;
    message.coordinator_logs = &self->logs;
    message.last_reload = (Corral__V1__ReloadOutcome *) self->last_reload;
    message.data_dir = (Corral__V1__ServiceStatus *) self->data_dir;
    message.input = (Corral__V1__InputCounters *) self->input;
    message.balancer = (Corral__V1__BalancerCounters *) self->balancer;
    message.bus = (Corral__V1__BusStats *) self->bus;
    message.tools = (Corral__V1__ToolCounters *) self->tools;
    self->message = message;
    self->envelope = (corral_envelope_t) CORRAL__V1__ENVELOPE__INIT;
    self->envelope.body_case = CORRAL__V1__ENVELOPE__BODY_CLUSTER_VIEW;
    self->envelope.cluster_view = &self->message;
    return &self->envelope;
}

zframe_t *
corral_cluster_view_frame(corral_cluster_view_t *self, uint64_t desk_dropped)
{
    uint64_t share_ms = self->interval_ms / 10 < SHARE_MAX_MS ? self->interval_ms / 10
                                                              : SHARE_MAX_MS;
    int64_t now = zclock_mono();
    if (self->packed && (uint64_t) (now - self->packed_at_ms) <= share_ms)
        return self->packed;
    zframe_destroy(&self->packed);
    self->packed = corral_envelope_pack(corral_cluster_view_envelope(self, desk_dropped));
    self->packed_at_ms = now;
    return self->packed;
}
