/* status_api.c: /api/status and /api/stats as JSON (Kibana's shapes:
 * levels, `overall`, `core`, `plugins`; snake_case metrics in _bytes and
 * _ms), plus the `workers` and `processes` extensions. Aggregation rules:
 * a service's level is the most severe across workers; a silent worker is
 * unavailable and degrades `overall`; memory figures are sums over the
 * processes, `pid` and `uptime_ms` the coordinator's, `event_loop_delay`
 * the maximum. */
#include "status_api.h"

#include <stdio.h>
#include <time.h>

#include "corral/status.h"
#include "plugin_host.h"
#include "reporter.h"

#define PRODUCT "corral"

typedef const Corral__V1__ClusterView view_t;
typedef const Corral__V1__WorkerView worker_view_t;

static json_t *
level_json(int level, const char *summary)
{
    return json_pack("{s:s, s:s}", "level", corral_status_level_name(level),
                     "summary", summary ? summary : "");
}

static int
level_of(json_t *status)
{
    corral_status_level_t level = CORRAL_STATUS_AVAILABLE;
    corral_status_level_parse(json_string_value(json_object_get(status, "level")), &level);
    return (int) level;
}

static json_t *
iso_time(uint64_t unix_ms)
{
    time_t seconds = (time_t) (unix_ms / 1000);
    struct tm utc;
    gmtime_r(&seconds, &utc);
    char text[40];
    size_t length = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(text + length, sizeof text - length, ".%03uZ", (unsigned) (unix_ms % 1000));
    return json_string(text);
}

/* --- /api/status ------------------------------------------------------------ */

/* Keeps in `services` (name -> {level, summary}) the most severe status
 * seen for each service; the summary names the worker when clustered. */
static void
merge_services(json_t *services, Corral__V1__ServiceStatus **statuses, size_t count,
               const char *worker, bool clustered)
{
    for (size_t i = 0; i < count; i++) {
        const Corral__V1__ServiceStatus *status = statuses[i];
        json_t *known = json_object_get(services, status->name);
        if (known && level_of(known) >= (int) status->level)
            continue;
        char summary[512];
        if (clustered && (int) status->level != CORRAL_STATUS_AVAILABLE)
            snprintf(summary, sizeof summary, "[%s] %s", worker, status->summary);
        else
            snprintf(summary, sizeof summary, "%s", status->summary);
        json_object_set_new(services, status->name, level_json(status->level, summary));
    }
}

static json_t *
own_services(Corral__V1__ServiceStatus **statuses, size_t count)
{
    json_t *services = json_object();
    merge_services(services, statuses, count, NULL, false);
    return services;
}

static int
worst_level(json_t *services)
{
    int worst = CORRAL_STATUS_AVAILABLE;
    const char *name;
    json_t *status;
    json_object_foreach(services, name, status)
        if (level_of(status) > worst)
            worst = level_of(status);
    return worst;
}

/* Appends the names of services at `level` or worse to `out`. */
static void
name_problems(json_t *services, char *out, size_t size, int *count)
{
    const char *name;
    json_t *status;
    json_object_foreach(services, name, status) {
        if (level_of(status) == CORRAL_STATUS_AVAILABLE)
            continue;
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s (%s)", *count ? ", " : "", name,
                 json_string_value(json_object_get(status, "level")));
        ++*count;
    }
}

static int
worse(int a, int b)
{
    return a > b ? a : b;
}

/* One worker's own view, for the `workers` extension. */
static json_t *
worker_status(worker_view_t *worker)
{
    json_t *core = own_services(worker->report->core, worker->report->n_core);
    json_t *plugins = own_services(worker->report->plugins, worker->report->n_plugins);
    int level = worse(worst_level(core), worst_level(plugins));
    char summary[128];
    if (!worker->reporting) {
        level = CORRAL_STATUS_UNAVAILABLE;
        snprintf(summary, sizeof summary, "%s for %llu ms: its loop is blocked or it is gone",
                 worker->pid ? "silent" : "not running",
                 (unsigned long long) worker->last_report_age_ms);
    }
    else
        snprintf(summary, sizeof summary, "reporting");
    return json_pack("{s:I, s:I, s:b, s:I, s:o, s:o, s:o}",
                     "worker_id", (json_int_t) worker->worker_id,
                     "pid", (json_int_t) worker->pid,
                     "reporting", worker->reporting,
                     "last_report_ms_ago", (json_int_t) worker->last_report_age_ms,
                     "overall", level_json(level, summary),
                     "core", core, "plugins", plugins);
}

static void
add_coordinator_core(const corral_reporter_t *reporter, view_t *view, json_t *core)
{
    uint64_t age = corral_reporter_view_age_ms(reporter);
    char summary[160];
    bool fresh = age <= view->heartbeat_timeout_ms && view->coordinator;
    if (fresh)
        snprintf(summary, sizeof summary, "answering status reports");
    else
        snprintf(summary, sizeof summary, "no cluster view from the coordinator for %llu ms",
                 (unsigned long long) age);
    json_object_set_new(core, "coordinator",
                        level_json(fresh ? CORRAL_STATUS_AVAILABLE : CORRAL_STATUS_UNAVAILABLE,
                                   summary));
}

static json_t *
overall_status(json_t *core, json_t *plugins, int silent, const char *silent_names)
{
    int level = worse(worst_level(core), worst_level(plugins));
    if (silent)
        level = worse(level, CORRAL_STATUS_DEGRADED);
    char problems[1024] = "";
    int count = 0;
    name_problems(core, problems, sizeof problems, &count);
    name_problems(plugins, problems, sizeof problems, &count);
    char services[1100] = "", workers[600] = "", summary[1700];
    if (count)
        snprintf(services, sizeof services, "%d service%s not available: %s", count,
                 count == 1 ? "" : "s", problems);
    if (silent)
        snprintf(workers, sizeof workers, "%d worker%s unavailable: %s", silent,
                 silent == 1 ? "" : "s", silent_names);
    if (!count && !silent)
        snprintf(summary, sizeof summary, "All services and workers are available");
    else
        snprintf(summary, sizeof summary, "%s%s%s", services, count && silent ? "; " : "",
                 workers);
    return level_json(level, summary);
}

static json_t *
status_document(const corral_reporter_t *reporter, int *overall_level)
{
    view_t *view = corral_reporter_view(reporter);
    bool clustered = corral_reporter_clustered(reporter);
    json_t *core = json_object(), *plugins = json_object(), *workers = json_object();
    int silent = 0;
    char silent_names[512] = "";
    for (size_t i = 0; i < view->n_workers; i++) {
        worker_view_t *worker = view->workers[i];
        json_object_set_new(workers, worker->name, worker_status(worker));
        merge_services(core, worker->report->core, worker->report->n_core, worker->name,
                       clustered);
        merge_services(plugins, worker->report->plugins, worker->report->n_plugins,
                       worker->name, clustered);
        if (!worker->reporting) {
            size_t used = strlen(silent_names);
            snprintf(silent_names + used, sizeof silent_names - used, "%s%s",
                     silent++ ? ", " : "", worker->name);
        }
    }
    if (clustered)
        add_coordinator_core(reporter, view, core);
    json_t *overall = overall_status(core, plugins, silent, silent_names);
    *overall_level = level_of(overall);
    return json_pack("{s:s, s:{s:s}, s:{s:o, s:o, s:o}, s:o, s:o, s:I}",
                     "name", PRODUCT, "version", "number", CORRAL_VERSION_STRING,
                     "status", "overall", overall, "core", core, "plugins", plugins,
                     "workers", workers,
                     "last_updated", iso_time(view->generated_unix_ms),
                     "collection_interval_ms", (json_int_t) view->collection_interval_ms);
}

static void
status_route(corral_request_t *request, void *arg)
{
    int level;
    json_t *document = status_document(arg, &level);
    corral_request_respond_json(request, level >= CORRAL_STATUS_UNAVAILABLE ? 503 : 200,
                                document);
}

/* --- /api/stats ------------------------------------------------------------- */

static json_t *
process_json(const Corral__V1__ProcessMetrics *process)
{
    return json_pack("{s:{s:{s:I, s:I, s:I}, s:I}, s:I, s:f, s:I}",
                     "memory", "heap",
                     "total_bytes", (json_int_t) process->heap_total_bytes,
                     "used_bytes", (json_int_t) process->heap_used_bytes,
                     "size_limit", (json_int_t) process->heap_size_limit,
                     "resident_set_size_bytes", (json_int_t) process->resident_set_size_bytes,
                     "pid", (json_int_t) process->pid,
                     "event_loop_delay", process->event_loop_delay_ms,
                     "uptime_ms", (json_int_t) process->uptime_ms);
}

static json_t *
named_process_json(const Corral__V1__ProcessMetrics *process, const char *name, int worker_id)
{
    json_t *entry = process_json(process);
    json_object_set_new(entry, "name", json_string(name));
    json_object_set_new(entry, "worker_id", worker_id ? json_integer(worker_id) : json_null());
    return entry;
}

/* Sums and maxima over the processes, as the RFC's 6.1.4 aggregates them. */
typedef struct {
    Corral__V1__ProcessMetrics process;
    uint64_t requests, disconnects, connections, response_count, response_total_us,
             response_max_us, logs_received, logs_dropped;
    json_t *status_codes;
} totals_t;

static void
add_process(totals_t *totals, const Corral__V1__ProcessMetrics *process, bool first)
{
    Corral__V1__ProcessMetrics *sum = &totals->process;
    sum->heap_total_bytes += process->heap_total_bytes;
    sum->heap_used_bytes += process->heap_used_bytes;
    sum->heap_size_limit += process->heap_size_limit;
    sum->resident_set_size_bytes += process->resident_set_size_bytes;
    if (process->event_loop_delay_ms > sum->event_loop_delay_ms)
        sum->event_loop_delay_ms = process->event_loop_delay_ms;
    if (first) {
        sum->pid = process->pid;
        sum->uptime_ms = process->uptime_ms;
    }
}

static void
add_logs(totals_t *totals, const Corral__V1__LogCounters *logs)
{
    if (!logs)
        return;
    totals->logs_received += logs->received;
    totals->logs_dropped += logs->dropped;
}

static void
add_requests(totals_t *totals, const Corral__V1__RequestMetrics *requests)
{
    totals->requests += requests->total;
    totals->disconnects += requests->disconnects;
    totals->connections += requests->concurrent_connections;
    totals->response_count += requests->interval_count;
    totals->response_total_us += requests->interval_total_us;
    if (requests->interval_max_us > totals->response_max_us)
        totals->response_max_us = requests->interval_max_us;
    for (size_t i = 0; i < requests->n_status_codes; i++) {
        char code[16];
        snprintf(code, sizeof code, "%u", requests->status_codes[i]->code);
        json_int_t before = json_integer_value(json_object_get(totals->status_codes, code));
        json_object_set_new(totals->status_codes, code,
                            json_integer(before + (json_int_t) requests->status_codes[i]->count));
    }
}

static json_t *
response_times_json(uint64_t count, uint64_t total_us, uint64_t max_us)
{
    return json_pack("{s:f, s:f}", "avg_ms", count ? (double) total_us / (double) count / 1000.0 : 0.0,
                     "max_ms", (double) max_us / 1000.0);
}

static json_t *
worker_stats(worker_view_t *worker)
{
    const Corral__V1__RequestMetrics *requests = worker->report->requests;
    const Corral__V1__DeskRoundTrip *rtt = worker->report->desk_round_trip;
    const Corral__V1__LogCounters *logs = worker->report->logs;
    json_t *entry = json_pack("{s:I, s:I, s:b, s:I}",
                              "worker_id", (json_int_t) worker->worker_id,
                              "pid", (json_int_t) worker->pid,
                              "reporting", worker->reporting,
                              "last_report_ms_ago", (json_int_t) worker->last_report_age_ms);
    if (requests) {
        json_object_set_new(entry, "requests", json_pack("{s:I, s:I}",
            "total", (json_int_t) requests->total, "disconnects", (json_int_t) requests->disconnects));
        json_object_set_new(entry, "response_times", response_times_json(
            requests->interval_count, requests->interval_total_us, requests->interval_max_us));
        json_object_set_new(entry, "concurrent_connections",
                            json_integer((json_int_t) requests->concurrent_connections));
    }
    if (logs)
        json_object_set_new(entry, "logs", json_pack("{s:I, s:I}",
            "received", (json_int_t) logs->received, "dropped", (json_int_t) logs->dropped));
    if (rtt && rtt->samples)
        json_object_set_new(entry, "desk_round_trip_ms", json_pack("{s:f, s:f, s:f, s:I}",
            "p50", rtt->p50_ms, "p99", rtt->p99_ms, "max", rtt->max_ms,
            "samples", (json_int_t) rtt->samples));
    return entry;
}

static json_t *
os_json(const Corral__V1__OsMetrics *os)
{
    return json_pack("{s:s, s:s, s:{s:f, s:f, s:f}, s:{s:I, s:I, s:I}, s:I, s:{s:f, s:i}}",
                     "platform", os->platform, "platform_release", os->platform_release,
                     "load", "1m", os->load_1m, "5m", os->load_5m, "15m", os->load_15m,
                     "memory", "total_bytes", (json_int_t) os->memory_total_bytes,
                     "free_bytes", (json_int_t) os->memory_free_bytes,
                     "used_bytes", (json_int_t) os->memory_used_bytes,
                     "uptime_ms", (json_int_t) os->uptime_ms,
                     "cpu", "quota", os->cpu_quota, "count", (int) os->cpus);
}

static json_t *
stats_document(const corral_reporter_t *reporter)
{
    view_t *view = corral_reporter_view(reporter);
    totals_t totals = { .process = CORRAL__V1__PROCESS_METRICS__INIT,
                        .status_codes = json_object() };
    json_t *processes = json_array(), *workers = json_object();
    if (view->coordinator) {
        json_array_append_new(processes, named_process_json(view->coordinator, "coordinator", 0));
        add_process(&totals, view->coordinator, true);
    }
    add_logs(&totals, view->coordinator_logs);
    for (size_t i = 0; i < view->n_workers; i++) {
        worker_view_t *worker = view->workers[i];
        json_object_set_new(workers, worker->name, worker_stats(worker));
        if (worker->pid == 0 || !worker->report->process)
            continue;
        json_array_append_new(processes, named_process_json(worker->report->process,
                                                            worker->name, (int) worker->worker_id));
        add_process(&totals, worker->report->process, json_array_size(processes) == 1);
        if (worker->report->requests)
            add_requests(&totals, worker->report->requests);
        add_logs(&totals, worker->report->logs);
    }
    json_t *document = json_pack(
        "{s:s, s:o, s:I, s:o, s:o, s:o, s:{s:I, s:I, s:o}, s:o, s:I, s:{s:I, s:I}, s:o}",
        "name", PRODUCT,
        "last_updated", iso_time(view->generated_unix_ms),
        "collection_interval_ms", (json_int_t) view->collection_interval_ms,
        "process", process_json(&totals.process),
        "processes", processes,
        "os", view->os ? os_json(view->os) : json_object(),
        "requests", "total", (json_int_t) totals.requests,
        "disconnects", (json_int_t) totals.disconnects, "status_codes", totals.status_codes,
        "response_times", response_times_json(totals.response_count, totals.response_total_us,
                                               totals.response_max_us),
        "concurrent_connections", (json_int_t) totals.connections,
        "logs", "received", (json_int_t) totals.logs_received,
        "dropped", (json_int_t) totals.logs_dropped,
        "workers", workers);
    if (corral_reporter_clustered(reporter))
        json_object_set_new(document, "desk",
                            json_pack("{s:I}", "dropped", (json_int_t) view->desk_dropped));
    return document;
}

static void
stats_route(corral_request_t *request, void *arg)
{
    corral_request_respond_json(request, 200, stats_document(arg));
}

/* --- The plugins ------------------------------------------------------------ */

static int
status_setup(corral_plugin_handle_t *handle)
{
    return corral_plugin_route(handle, "GET", "/api/status", status_route,
                               corral_plugin_reporter(handle));
}

static int
stats_setup(corral_plugin_handle_t *handle)
{
    return corral_plugin_route(handle, "GET", "/api/stats", stats_route,
                               corral_plugin_reporter(handle));
}

static int
serving_start(corral_plugin_handle_t *handle)
{
    return corral_plugin_set_status(handle, CORRAL_STATUS_AVAILABLE, "serving");
}

const corral_plugin_t corral_status_plugin = {
    .name = "status",
    .setup = status_setup,
    .start = serving_start,
};

const corral_plugin_t corral_stats_plugin = {
    .name = "stats",
    .setup = stats_setup,
    .start = serving_start,
};
