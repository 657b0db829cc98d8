/* stats_plugin.c: the built-in plugin `stats`: GET /api/stats, Kibana's
 * ops metrics for the whole instance with the RFC's aggregation (6.1.4):
 * heap and RSS summed over the coordinator and the workers, the
 * coordinator's pid and uptime, the largest event-loop delay; plus
 * `processes[]` (each process's own figures, coordinator first), `os`,
 * `requests`, `response_times`, `concurrent_connections`, `logs`, `desk`
 * and the per-worker `workers` extension. */
#include "status_api.h"

#include <stdio.h>

#include "plugin_host.h"
#include "reporter.h"

typedef const Corral__V1__ClusterView view_t;
typedef const Corral__V1__WorkerView worker_view_t;

/* --- /api/stats ------------------------------------------------------------- */

static json_t *
process_json(const Corral__V1__ProcessMetrics *process)
{
    return json_pack("{s:{s:{s:I, s:I, s:I}, s:I}, s:I, s:f, s:I, s:f}",
                     "memory", "heap",
                     "total_bytes", (json_int_t) process->heap_total_bytes,
                     "used_bytes", (json_int_t) process->heap_used_bytes,
                     "size_limit", (json_int_t) process->heap_size_limit,
                     "resident_set_size_bytes", (json_int_t) process->resident_set_size_bytes,
                     "pid", (json_int_t) process->pid,
                     "event_loop_delay", process->event_loop_delay_ms,
                     "uptime_ms", (json_int_t) process->uptime_ms,
                     "cpu_seconds", process->cpu_seconds);
}

static json_t *
named_process_json(const Corral__V1__ProcessMetrics *process, const char *name, int worker_id)
{
    json_t *entry = process_json(process);
    json_object_set_new(entry, "name", json_string(name));
    json_object_set_new(entry, "worker_id", worker_id ? json_integer(worker_id) : json_null());
    return entry;
}

/* {code} or {signal}, with the reason and when. */
static json_t *
exit_json(const Corral__V1__WorkerExit *last)
{
    json_t *entry = json_pack("{s:I, s:s, s:o}", "pid", (json_int_t) last->pid,
                              "reason", last->reason,
                              "at", corral_status_api_time(last->at_unix_ms));
    if (last->signaled) {
        json_object_set_new(entry, "signal", json_integer(last->signal));
        json_object_set_new(entry, "core_dumped", json_boolean(last->core_dumped));
    }
    else
        json_object_set_new(entry, "code", json_integer(last->code));
    return entry;
}

/* What the supervisor knows of a worker slot (docs/architecture.md section 8.1). */
static void
add_supervision(json_t *entry, worker_view_t *worker)
{
    json_object_set_new(entry, "state", json_string(*worker->state ? worker->state : "ready"));
    json_object_set_new(entry, "generation", json_integer(worker->generation));
    json_object_set_new(entry, "config_generation", json_integer(worker->config_generation));
    json_object_set_new(entry, "restarts", json_integer(worker->restarts));
    json_object_set_new(entry, "started_at", worker->started_unix_ms
                        ? corral_status_api_time(worker->started_unix_ms) : json_null());
    json_object_set_new(entry, "last_exit", worker->last_exit ? exit_json(worker->last_exit)
                                                              : json_null());
    if (worker->restart_in_ms)
        json_object_set_new(entry, "restart_in_ms", json_integer((json_int_t) worker->restart_in_ms));
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

static uint64_t
saturating_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void
add_logs(totals_t *totals, const Corral__V1__LogCounters *logs)
{
    if (!logs)
        return;
    totals->logs_received = saturating_add(totals->logs_received, logs->received);
    totals->logs_dropped = saturating_add(totals->logs_dropped, logs->dropped);
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
    add_supervision(entry, worker);
    if (requests) {
        json_object_set_new(entry, "requests", json_pack("{s:I, s:I}",
            "total", (json_int_t) requests->total, "disconnects", (json_int_t) requests->disconnects));
        json_object_set_new(entry, "response_times", response_times_json(
            requests->interval_count, requests->interval_total_us, requests->interval_max_us));
        json_object_set_new(entry, "concurrent_connections",
                            json_integer((json_int_t) requests->concurrent_connections));
        json_object_set_new(entry, "connections", json_pack("{s:I, s:I, s:I}",
            "open", (json_int_t) requests->concurrent_connections,
            "accepted", (json_int_t) requests->connections_accepted,
            "recycled", (json_int_t) requests->connections_recycled));
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

/* A counter as JSON: jansson's integers are signed, so a count past
 * INT64_MAX shows as INT64_MAX, never negative. */
static json_int_t
counter(uint64_t value)
{
    return value > INT64_MAX ? INT64_MAX : (json_int_t) value;
}

/* What the coordinator refused on each socket (malformed, forged, over a bound). */
static json_t *
input_json(const Corral__V1__InputCounters *input)
{
    const Corral__V1__BusStats *bus = input->bus_in;
    json_t *bus_in = bus ? json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "dropped", counter(bus->dropped), "not_envelope", counter(bus->not_envelope),
        "wrong_body", counter(bus->wrong_body), "oversized", counter(bus->oversized),
        "invalid", counter(bus->invalid), "over_store_limit", counter(bus->over_store_limit),
        "snapshots_deferred", counter(bus->snapshots_deferred),
        "persisted_bytes", counter(bus->persisted_bytes)) : json_object();
    return json_pack("{s:o, s:{s:I, s:I}, s:{s:I, s:I, s:I, s:I}}",
        "bus_in", bus_in,
        "desk", "dropped", counter(input->desk_dropped),
        "hello_refused", counter(input->desk_hello_refused),
        "logs", "malformed", counter(input->logs_malformed),
        "oversized", counter(input->logs_oversized),
        "forged", counter(input->logs_forged), "invalid", counter(input->logs_invalid));
}

/* Where the coordinator's dropped lines were lost: gaps, and each
 * appender's, by reason (counted since the start; reloads keep them). */
static json_t *
coordinator_logs_json(const Corral__V1__LogCounters *logs)
{
    json_t *appenders = json_object();
    for (size_t i = 0; i < logs->n_appenders; i++) {
        const Corral__V1__AppenderLosses *a = logs->appenders[i];
        json_object_set_new(appenders, a->name, json_pack(
            "{s:I, s:I, s:I}", "write_errors", counter(a->write_errors),
            "lost_writing", counter(a->lost_writing),
            "lost_formatting", counter(a->lost_formatting)));
    }
    return json_pack("{s:I, s:I, s:I, s:o}", "received", counter(logs->received),
                     "dropped", counter(logs->dropped), "gaps", counter(logs->gaps),
                     "appenders", appenders);
}

static json_t *
tap_json(const Corral__V1__ToolCounters *tools)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I}",
                     "subscriptions", counter(tools->tap_subscriptions),
                     "lines", counter(tools->tap_lines),
                     "lines_dropped", counter(tools->tap_lines_dropped),
                     "events", counter(tools->tap_events),
                     "events_dropped", counter(tools->tap_events_dropped));
}

json_t *
corral_stats_json(view_t *view, bool clustered)
{
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
        json_t *entry = named_process_json(worker->report->process, worker->name,
                                           (int) worker->worker_id);
        add_supervision(entry, worker);
        json_array_append_new(processes, entry);
        add_process(&totals, worker->report->process, json_array_size(processes) == 1);
        if (worker->report->requests)
            add_requests(&totals, worker->report->requests);
        add_logs(&totals, worker->report->logs);
    }
    json_t *document = json_pack(
        "{s:s, s:o, s:I, s:o, s:o, s:o, s:{s:I, s:I, s:o}, s:o, s:I, s:{s:I, s:I}, s:o}",
        "name", CORRAL_STATUS_API_PRODUCT,
        "last_updated", corral_status_api_time(view->generated_unix_ms),
        "collection_interval_ms", (json_int_t) view->collection_interval_ms,
        "process", process_json(&totals.process),
        "processes", processes,
        "os", view->os ? os_json(view->os) : json_object(),
        "requests", "total", (json_int_t) totals.requests,
        "disconnects", (json_int_t) totals.disconnects, "status_codes", totals.status_codes,
        "response_times", response_times_json(totals.response_count, totals.response_total_us,
                                               totals.response_max_us),
        "concurrent_connections", (json_int_t) totals.connections,
        "logs", "received", counter(totals.logs_received),
        "dropped", counter(totals.logs_dropped),
        "workers", workers);
    const Corral__V1__LogCounters *own = view->coordinator_logs;
    if (own)
        json_object_set_new(json_object_get(document, "logs"), "coordinator",
                            coordinator_logs_json(own));
    if (view->tools)
        json_object_set_new(document, "tap", tap_json(view->tools));
    if (view->data_dir)
        json_object_set_new(document, "data_dir", json_pack(
            "{s:b, s:s}", "writable",
            view->data_dir->level == CORRAL__V1__STATUS_LEVEL__STATUS_LEVEL_AVAILABLE,
            "summary", view->data_dir->summary));
    if (clustered)
        json_object_set_new(document, "desk",
                            json_pack("{s:I}", "dropped", counter(view->desk_dropped)));
    if (view->input)
        json_object_set_new(document, "input", input_json(view->input));
    const Corral__V1__BalancerCounters *balancer = view->balancer;
    if (balancer)       /* balancing shared */
        json_object_set_new(document, "balancer", json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:I}", "accepted", counter(balancer->accepted),
            "handed", counter(balancer->handed), "taken_back", counter(balancer->taken_back),
            "dropped", counter(balancer->dropped),
            "accept_errors", counter(balancer->accept_errors),
            "bad_messages", counter(balancer->bad_messages)));
    return document;
}

static void
stats_route(corral_request_t *request, void *arg)
{
    const corral_reporter_t *reporter = arg;
    if (corral_reporter_await_view(arg, request))
        return;                 /* called again with a fresh view */
    corral_request_respond_json(request, 200, corral_stats_json(corral_reporter_view(reporter),
                                                                corral_reporter_clustered(reporter)));
}

/* --- The plugin ------------------------------------------------------------- */

static int
stats_setup(corral_plugin_handle_t *handle)
{
    return corral_plugin_route(handle, "GET", "/api/stats", stats_route,
                               corral_plugin_reporter(handle));
}

const corral_plugin_t corral_stats_plugin = {
    .name = "stats",
    .setup = stats_setup,
    .start = corral_status_api_serving,
};
