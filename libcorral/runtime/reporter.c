/* reporter.c: the Report timer, the desk exchange (Report, ReportAck) and
 * the views it answers from. */
#include "reporter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "log.h"
#include "log_counters.h"
#include "loop_delay.h"
#include "message_copy.h"
#include "os_metrics.h"
#include "process_metrics.h"
#include "request_metrics.h"
#include "view_cache.h"

#define LOGGER "node"
#define CORE_MAX 8
#define RTT_SAMPLES 1024

typedef struct {
    const char *name;
    corral_status_level_t level;
    const char *summary;
} core_t;

struct corral_reporter {
    zloop_t *loop;
    const Corral__V1__WorkerConfig *config;
    corral_plugin_host_t *plugins;
    corral_desk_client_t *desk;
    corral_loop_delay_t *loop_delay;
    double previous_delay_ms;               /* the interval before the last */
    corral_request_metrics_t *requests;
    corral_http_server_t *http;             /* for its heartbeat to the balancer */
    uint64_t interval_ms;
    int timer_id;
    int64_t due_us;             /* when the timer should fire */
    core_t core[CORE_MAX];
    size_t core_count;
    uint64_t seq;
    bool warned_send;
    /* the last Report */
    Corral__V1__Report report;
    Corral__V1__ServiceStatus *statuses;
    Corral__V1__ServiceStatus **status_pointers;
    Corral__V1__ProcessMetrics process;
    Corral__V1__RequestMetrics request_metrics;
    Corral__V1__LogCounters logs;
    Corral__V1__DeskRoundTrip round_trip;
    /* the local view (classic mode; clustered until the coordinator answers) */
    Corral__V1__ClusterView local;
    Corral__V1__WorkerView local_worker;
    Corral__V1__WorkerView *local_workers[1];
    Corral__V1__OsMetrics os;
    /* the coordinator's view, fetched when a route needs it */
    corral_view_cache_t *remote;
    int64_t answered_at_ms;     /* the coordinator's last answer, or start */
    /* Report -> ReportAck round trips, microseconds */
    int64_t sent_at_us;
    int64_t rtt_us[RTT_SAMPLES];
    uint64_t rtt_count;
};

corral_reporter_t *
corral_reporter_new(const corral_reporter_setup_t *setup)
{
    corral_process_metrics_start();
    corral_reporter_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = setup->loop;
    self->config = setup->config;
    self->plugins = setup->plugins;
    self->desk = setup->desk;
    self->timer_id = -1;
    self->interval_ms = setup->config->status_interval_ms;
    if (self->interval_ms < CORRAL_STATUS_INTERVAL_MIN_MS)
        self->interval_ms = CORRAL_STATUS_INTERVAL_MIN_MS;
    self->answered_at_ms = zclock_mono();
    size_t plugins = corral_plugin_host_count(setup->plugins) + CORE_MAX;
    self->statuses = calloc(plugins, sizeof *self->statuses);
    self->status_pointers = calloc(plugins, sizeof *self->status_pointers);
    self->loop_delay = corral_loop_delay_new(setup->loop);
    self->requests = corral_request_metrics_new(setup->http);
    self->http = setup->http;
    if (setup->desk)
        self->remote = corral_view_cache_new(setup->loop, setup->desk,
                                             (int) setup->config->worker_id, self->interval_ms);
    if (!self->statuses || !self->status_pointers || !self->loop_delay || !self->requests
        || (setup->desk && !self->remote))
        corral_reporter_destroy(&self);
    return self;
}

void
corral_reporter_destroy(corral_reporter_t **self_p)
{
    corral_reporter_t *self = *self_p;
    if (!self)
        return;
    if (self->timer_id >= 0)
        zloop_timer_end(self->loop, self->timer_id);
    corral_loop_delay_destroy(&self->loop_delay);
    corral_request_metrics_destroy(&self->requests);
    corral_view_cache_destroy(&self->remote);
    free(self->statuses);
    free(self->status_pointers);
    free(self);
    *self_p = NULL;
}

void
corral_reporter_set_core(corral_reporter_t *self, const char *name,
                         corral_status_level_t level, const char *summary)
{
    size_t i = 0;
    while (i < self->core_count && strcmp(self->core[i].name, name) != 0)
        i++;
    if (i == CORE_MAX)
        return;
    if (i == self->core_count)
        self->core_count++;
    else if (self->core[i].level != level)
        corral_reporter_report_soon(self);
    self->core[i] = (core_t) { name, level, summary };
}

/* --- Building the Report ---------------------------------------------------- */

static Corral__V1__ServiceStatus *
next_status(corral_reporter_t *self, size_t index, const char *name,
            corral_status_level_t level, const char *summary)
{
    Corral__V1__ServiceStatus *status = &self->statuses[index];
    *status = (Corral__V1__ServiceStatus) CORRAL__V1__SERVICE_STATUS__INIT;
    status->name = (char *) name;
    status->level = (Corral__V1__StatusLevel) level;
    status->summary = (char *) summary;
    self->status_pointers[index] = status;
    return status;
}

static void
fill_statuses(corral_reporter_t *self)
{
    size_t index = 0;
    for (size_t i = 0; i < self->core_count; i++, index++)
        next_status(self, index, self->core[i].name, self->core[i].level,
                    self->core[i].summary);
    self->report.n_core = self->core_count;
    self->report.core = self->status_pointers;
    size_t plugins = corral_plugin_host_count(self->plugins);
    for (size_t i = 0; i < plugins; i++, index++) {
        const char *name, *summary;
        corral_status_level_t level;
        corral_plugin_host_status(self->plugins, i, &name, &level, &summary);
        next_status(self, index, name, level, summary);
    }
    self->report.n_plugins = plugins;
    self->report.plugins = self->status_pointers + self->core_count;
}

static int
compare_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

static void
fill_round_trip(corral_reporter_t *self)
{
    self->round_trip = (Corral__V1__DeskRoundTrip) CORRAL__V1__DESK_ROUND_TRIP__INIT;
    size_t count = self->rtt_count < RTT_SAMPLES ? (size_t) self->rtt_count : RTT_SAMPLES;
    if (count == 0)
        return;
    int64_t sorted[RTT_SAMPLES];
    memcpy(sorted, self->rtt_us, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, compare_int64);
    self->round_trip.p50_ms = (double) sorted[(count - 1) / 2] / 1000.0;
    self->round_trip.p99_ms = (double) sorted[(count - 1) * 99 / 100] / 1000.0;
    self->round_trip.max_ms = (double) sorted[count - 1] / 1000.0;
    self->round_trip.samples = self->rtt_count;
}

static void
build_report(corral_reporter_t *self)
{
    self->report = (Corral__V1__Report) CORRAL__V1__REPORT__INIT;
    self->report.worker_id = self->config->worker_id;
    self->report.seq = ++self->seq;
    self->report.fetches_view = true;
    fill_statuses(self);
    self->process = (Corral__V1__ProcessMetrics) CORRAL__V1__PROCESS_METRICS__INIT;
    corral_process_metrics_sample(&self->process);
    /* the longest turn of the last two intervals: a view is up to one
     * interval old when a worker answers from it, so a block shows in it
     * for at least that long */
    double delay_ms = corral_loop_delay_take_max_ms(self->loop_delay);
    self->process.event_loop_delay_ms = delay_ms > self->previous_delay_ms
                                            ? delay_ms : self->previous_delay_ms;
    self->previous_delay_ms = delay_ms;
    self->report.process = &self->process;
    self->request_metrics = (Corral__V1__RequestMetrics) CORRAL__V1__REQUEST_METRICS__INIT;
    corral_request_metrics_take(self->requests, &self->request_metrics);
    self->report.requests = &self->request_metrics;
    self->logs = (Corral__V1__LogCounters) CORRAL__V1__LOG_COUNTERS__INIT;
    corral_log_counters_sample(&self->logs);
    self->report.logs = &self->logs;
    fill_round_trip(self);
    self->report.desk_round_trip = &self->round_trip;
}

/* This worker alone, as the coordinator would show it: the view in
 * classic mode, and until the coordinator's first answer. */
static void
build_local_view(corral_reporter_t *self)
{
    self->os = (Corral__V1__OsMetrics) CORRAL__V1__OS_METRICS__INIT;
    corral_os_metrics_sample(&self->os, self->config->cpu_quota);
    Corral__V1__WorkerView *worker = &self->local_worker;
    *worker = (Corral__V1__WorkerView) CORRAL__V1__WORKER_VIEW__INIT;
    worker->worker_id = self->config->worker_id;
    worker->name = self->config->worker_name;
    worker->pid = self->process.pid;
    worker->reporting = worker->reported = true;
    worker->report = &self->report;
    self->local_workers[0] = worker;
    self->local = (Corral__V1__ClusterView) CORRAL__V1__CLUSTER_VIEW__INIT;
    self->local.generated_unix_ms = corral_unix_ms();
    self->local.collection_interval_ms = self->interval_ms;
    self->local.heartbeat_timeout_ms = self->config->heartbeat_timeout_ms;
    self->local.n_workers = 1;
    self->local.workers = self->local_workers;
    self->local.os = &self->os;
    self->local.coordinator_logs = NULL;      /* no coordinator: the Report has them */
}

static void
report(corral_reporter_t *self)
{
    build_report(self);
    if (!self->desk || !corral_view_cache_view(self->remote))
        build_local_view(self);
    if (!self->desk)
        return;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_REPORT;
    envelope.report = &self->report;
    if (corral_desk_client_send(self->desk, &envelope) == 0) {
        self->sent_at_us = zclock_usecs();
        self->warned_send = false;
    }
    else if (!self->warned_send) {
        self->warned_send = true;
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "cannot send a status report on desk now");
    }
}

static int on_interval(zloop_t *loop, int timer_id, void *arg);

/* Reports now and arms the next report one interval from now. Not a
 * repeating zloop timer: after a blocked loop that one fires once per
 * missed interval back to back, and the report that carries the delay
 * would be overwritten at once. */
static int
report_and_rearm(corral_reporter_t *self)
{
    report(self);
    self->timer_id = zloop_timer(self->loop, (size_t) self->interval_ms, 1, on_interval, self);
    self->due_us = zclock_usecs() + (int64_t) self->interval_ms * 1000;
    return self->timer_id < 0 ? -1 : 0;
}

/* A timer that fires anyway: how late it is counts as loop delay. */
static int
on_interval(zloop_t *loop, int timer_id, void *arg)
{
    corral_reporter_t *self = arg;
    corral_loop_delay_turn();
    corral_loop_delay_late(self->loop_delay, self->due_us);
    if (self->http)
        corral_http_server_alive(self->http);
    self->timer_id = -1;
    report_and_rearm(self);
    return 0;
}

int
corral_reporter_start(corral_reporter_t *self)
{
    return report_and_rearm(self);
}

void
corral_reporter_report_soon(corral_reporter_t *self)
{
    if (self->timer_id < 0)
        return;                 /* not started */
    zloop_timer_end(self->loop, self->timer_id);
    self->timer_id = zloop_timer(self->loop, 0, 1, on_interval, self);
    self->due_us = zclock_usecs();
}

/* --- The coordinator's answers ---------------------------------------------- */

void
corral_reporter_take_ack(corral_reporter_t *self, const Corral__V1__ReportAck *ack)
{
    if (self->sent_at_us && ack->seq == self->seq) {
        self->rtt_us[self->rtt_count++ % RTT_SAMPLES] = zclock_usecs() - self->sent_at_us;
        self->sent_at_us = 0;
    }
    self->answered_at_ms = zclock_mono();
}

void
corral_reporter_take_view(corral_reporter_t *self, const Corral__V1__ClusterView *view)
{
    if (!self->remote)
        return;
    corral_view_cache_take(self->remote, view);
    self->answered_at_ms = zclock_mono();
}

bool
corral_reporter_await_view(corral_reporter_t *self, corral_request_t *request)
{
    return self->remote && corral_view_cache_await(self->remote, request);
}

const Corral__V1__ClusterView *
corral_reporter_view(const corral_reporter_t *self)
{
    const Corral__V1__ClusterView *remote = self->remote ? corral_view_cache_view(self->remote)
                                                         : NULL;
    return remote ? remote : &self->local;
}

bool
corral_reporter_clustered(const corral_reporter_t *self)
{
    return self->desk != NULL;
}

uint64_t
corral_reporter_view_age_ms(const corral_reporter_t *self)
{
    if (!self->desk)
        return 0;
    return (uint64_t) (zclock_mono() - self->answered_at_ms);
}
