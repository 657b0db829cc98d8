/* metrics_plugin.c: the built-in plugin `metrics`: GET /api/metrics, the
 * whole instance in the Prometheus text format (0.0.4, which OpenMetrics
 * parsers read too), from the same cluster view as /api/stats: per
 * process (labels worker and type: "coordinator", or the worker's type),
 * requests by status code, the response-time histogram the workers
 * report, connections, memory, event-loop delay, report age, and the
 * coordinator's counters (bus, logs, desk, tools, tap). Counters are
 * since each process started, as Prometheus expects. */
#include "status_api.h"

#include <stdio.h>
#include <string.h>

#include "line_buffer.h"
#include "plugin_host.h"
#include "reporter.h"
#include "response_buckets.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef const Corral__V1__ClusterView view_t;
typedef const Corral__V1__WorkerView worker_view_t;
typedef corral_line_buffer_t out_t;

static void
family(out_t *out, const char *name, const char *type, const char *help)
{
    corral_line_buffer_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
sample(out_t *out, const char *name, const char *labels, double value)
{
    corral_line_buffer_printf(out, "%s{%s} %.15g\n", name, labels, value);
}

static void
count(out_t *out, const char *name, const char *labels, uint64_t value)
{
    corral_line_buffer_printf(out, "%s{%s} %llu\n", name, labels, (unsigned long long) value);
}

/* The processes of the view: the coordinator first, then the workers
 * that run. */
typedef struct {
    char labels[96];
    const Corral__V1__ProcessMetrics *process;
    worker_view_t *worker;      /* NULL: the coordinator */
} process_t;

static size_t
list_processes(view_t *view, process_t *list, size_t max)
{
    size_t n = 0;
    if (view->coordinator && n < max) {
        list[n] = (process_t) { .process = view->coordinator };
        snprintf(list[n++].labels, sizeof list[0].labels,
                 "worker=\"coordinator\",type=\"coordinator\"");
    }
    for (size_t i = 0; i < view->n_workers && n < max; i++) {
        worker_view_t *worker = view->workers[i];
        if (worker->pid == 0)
            continue;
        list[n] = (process_t) { .process = worker->report->process, .worker = worker };
        /* its worker type: the name without its number ("http" of
         * "http-2"; "worker" for the single group's "worker-3") */
        const char *dash = strrchr(worker->name, '-');
        int type_length = dash ? (int) (dash - worker->name) : (int) strlen(worker->name);
        snprintf(list[n++].labels, sizeof list[0].labels, "worker=\"%s\",type=\"%.*s\"",
                 worker->name, type_length, worker->name);
    }
    return n;
}

static void
process_families(out_t *out, const process_t *list, size_t n)
{
    static const struct { const char *name, *help; int field; } gauges[] = {
        { "corral_process_resident_memory_bytes", "Resident set size.", 0 },
        { "corral_process_heap_total_bytes", "Heap from the allocator (mallinfo2).", 1 },
        { "corral_process_heap_used_bytes", "Heap in use (mallinfo2).", 2 },
        { "corral_process_heap_size_limit_bytes", "RLIMIT_AS; 0 when unlimited.", 3 },
        { "corral_event_loop_delay_seconds", "Longest loop turn in the last interval.", 4 },
        { "corral_process_uptime_seconds", "Since the process started.", 5 },
    };
    for (size_t g = 0; g < sizeof gauges / sizeof gauges[0]; g++) {
        family(out, gauges[g].name, "gauge", gauges[g].help);
        for (size_t i = 0; i < n; i++) {
            const Corral__V1__ProcessMetrics *p = list[i].process;
            if (!p)
                continue;
            double values[] = { (double) p->resident_set_size_bytes,
                                (double) p->heap_total_bytes, (double) p->heap_used_bytes,
                                (double) p->heap_size_limit, p->event_loop_delay_ms / 1000.0,
                                (double) p->uptime_ms / 1000.0 };
            sample(out, gauges[g].name, list[i].labels, values[gauges[g].field]);
        }
    }
    family(out, "corral_worker_up", "gauge", "1 while the worker reports within the "
           "heartbeat timeout.");
    for (size_t i = 0; i < n; i++)
        if (list[i].worker)
            count(out, "corral_worker_up", list[i].labels, list[i].worker->reporting);
    family(out, "corral_worker_main", "gauge", "1 for the elected main worker.");
    for (size_t i = 0; i < n; i++)
        if (list[i].worker)
            count(out, "corral_worker_main", list[i].labels, list[i].worker->main);
    family(out, "corral_worker_restarts_total", "counter", "Processes started in the worker's "
           "slot after its first (restarts, recycles, replacements).");
    for (size_t i = 0; i < n; i++)
        if (list[i].worker)
            count(out, "corral_worker_restarts_total", list[i].labels, list[i].worker->restarts);
    family(out, "corral_worker_generation", "gauge", "The generation of the slot's current "
           "process: 1 for the first.");
    for (size_t i = 0; i < n; i++)
        if (list[i].worker)
            count(out, "corral_worker_generation", list[i].labels, list[i].worker->generation);
    family(out, "corral_worker_last_exit_timestamp_seconds", "gauge", "When a process of the "
           "slot last exited, by its reason (crashed, hung, memory, recycled, stopped).");
    for (size_t i = 0; i < n; i++) {
        const Corral__V1__WorkerExit *exit = list[i].worker ? list[i].worker->last_exit : NULL;
        if (!exit)
            continue;
        char labels[192];
        snprintf(labels, sizeof labels, "%s,reason=\"%s\"", list[i].labels, exit->reason);
        sample(out, "corral_worker_last_exit_timestamp_seconds", labels,
               (double) exit->at_unix_ms / 1000.0);
    }
    family(out, "corral_report_age_seconds", "gauge", "Since the worker's last status report.");
    for (size_t i = 0; i < n; i++)
        if (list[i].worker)
            sample(out, "corral_report_age_seconds", list[i].labels,
                   (double) list[i].worker->last_report_age_ms / 1000.0);
}

static void
histogram(out_t *out, const char *process_labels, const Corral__V1__RequestMetrics *r)
{
    char labels[128];
    for (size_t b = 0; b < r->n_response_time_buckets && b < CORRAL_RESPONSE_BUCKET_COUNT; b++) {
        snprintf(labels, sizeof labels, "%s,le=\"%g\"", process_labels,
                 (double) corral_response_buckets_us[b] / 1e6);
        count(out, "corral_http_response_seconds_bucket", labels, r->response_time_buckets[b]);
    }
    snprintf(labels, sizeof labels, "%s,le=\"+Inf\"", process_labels);
    count(out, "corral_http_response_seconds_bucket", labels, r->response_time_count);
    sample(out, "corral_http_response_seconds_sum", process_labels,
           (double) r->response_time_sum_us / 1e6);
    count(out, "corral_http_response_seconds_count", process_labels, r->response_time_count);
}

static void
request_families(out_t *out, const process_t *list, size_t n)
{
    family(out, "corral_http_requests_total", "counter", "Responses by status code.");
    for (size_t i = 0; i < n; i++) {
        const Corral__V1__RequestMetrics *r = list[i].worker ? list[i].worker->report->requests
                                                             : NULL;
        for (size_t c = 0; r && c < r->n_status_codes; c++) {
            char labels[128];
            snprintf(labels, sizeof labels, "%s,code=\"%u\"", list[i].labels,
                     r->status_codes[c]->code);
            count(out, "corral_http_requests_total", labels, r->status_codes[c]->count);
        }
    }
    family(out, "corral_http_disconnects_total", "counter", "Requests the client left "
           "before the response.");
    for (size_t i = 0; i < n; i++)
        if (list[i].worker && list[i].worker->report->requests)
            count(out, "corral_http_disconnects_total", list[i].labels,
                  list[i].worker->report->requests->disconnects);
    family(out, "corral_http_connections", "gauge", "Connections open now.");
    for (size_t i = 0; i < n; i++)
        if (list[i].worker && list[i].worker->report->requests)
            count(out, "corral_http_connections", list[i].labels,
                  list[i].worker->report->requests->concurrent_connections);
    family(out, "corral_http_response_seconds", "histogram", "Response times.");
    for (size_t i = 0; i < n; i++)
        if (list[i].worker && list[i].worker->report->requests)
            histogram(out, list[i].labels, list[i].worker->report->requests);
}

static void
log_families(out_t *out, view_t *view, const process_t *list, size_t n)
{
    family(out, "corral_logs_received_total", "counter", "Log records the coordinator "
           "received (workers: as the worker reports it).");
    family(out, "corral_logs_dropped_total", "counter", "Log records lost on the way.");
    for (size_t i = 0; i < n; i++) {
        const Corral__V1__LogCounters *logs = list[i].worker ? list[i].worker->report->logs
                                                             : view->coordinator_logs;
        if (!logs)
            continue;
        count(out, "corral_logs_received_total", list[i].labels, logs->received);
        count(out, "corral_logs_dropped_total", list[i].labels, logs->dropped);
    }
}

/* appender="NAME"[,reason="REASON"], the name escaped as the text format
 * says (backslash, double quote, line feed). */
static void
appender_labels(char *labels, size_t size, const char *name, const char *reason)
{
    size_t used = (size_t) snprintf(labels, size, "appender=\"");
    for (const char *c = name; *c && used + 4 < size; c++) {
        if (*c == '\\' || *c == '"' || *c == '\n')
            labels[used++] = '\\';
        labels[used++] = *c == '\n' ? 'n' : *c;
    }
    labels[used] = '\0';
    snprintf(labels + used, size - used, "\"%s%s%s", reason ? ",reason=\"" : "",
             reason ? reason : "", reason ? "\"" : "");
}

/* The coordinator's appenders' losses, since the start (reloads keep
 * them): corral_logs_dropped_total{worker="coordinator"} is their lines
 * lost plus the gaps. */
static void
appender_families(out_t *out, const Corral__V1__LogCounters *logs)
{
    if (!logs || logs->n_appenders == 0)
        return;
    char labels[320];
    family(out, "corral_log_appender_write_errors_total", "counter", "Failed writes of the "
           "coordinator's appenders (disk full, closed stdout...).");
    for (size_t i = 0; i < logs->n_appenders; i++) {
        appender_labels(labels, sizeof labels, logs->appenders[i]->name, NULL);
        count(out, "corral_log_appender_write_errors_total", labels,
              logs->appenders[i]->write_errors);
    }
    family(out, "corral_log_appender_lines_lost_total", "counter", "Lines the coordinator's "
           "appenders lost, by reason: writing (failed writes), formatting.");
    for (size_t i = 0; i < logs->n_appenders; i++) {
        appender_labels(labels, sizeof labels, logs->appenders[i]->name, "writing");
        count(out, "corral_log_appender_lines_lost_total", labels,
              logs->appenders[i]->lost_writing);
        appender_labels(labels, sizeof labels, logs->appenders[i]->name, "formatting");
        count(out, "corral_log_appender_lines_lost_total", labels,
              logs->appenders[i]->lost_formatting);
    }
}

static void
coordinator_families(out_t *out, view_t *view)
{
    const char *labels = "worker=\"coordinator\",type=\"coordinator\"";
    family(out, "corral_workers", "gauge", "Worker slots.");
    count(out, "corral_workers", labels, view->n_workers);
    family(out, "corral_desk_dropped_total", "counter", "Bad input dropped on desk.");
    count(out, "corral_desk_dropped_total", labels, view->desk_dropped);
    appender_families(out, view->coordinator_logs);
    if (view->input) {
        family(out, "corral_logs_oversized_total", "counter", "Frames over 4 MiB dropped on "
               "logs.");
        count(out, "corral_logs_oversized_total", labels, view->input->logs_oversized);
    }
    if (view->bus) {
        family(out, "corral_bus_broadcasts_total", "counter", "Broadcasts sequenced.");
        count(out, "corral_bus_broadcasts_total", labels, view->bus->received);
        family(out, "corral_bus_dropped_total", "counter", "Bad input dropped on bus-in.");
        count(out, "corral_bus_dropped_total", labels, view->bus->dropped);
    }
    if (view->tools) {
        const Corral__V1__ToolCounters *t = view->tools;
        family(out, "corral_tool_requests_total", "counter", "Tool requests answered on desk.");
        count(out, "corral_tool_requests_total", labels, t->requests);
        family(out, "corral_tool_errors_total", "counter", "Tool requests answered with an "
               "error.");
        count(out, "corral_tool_errors_total", labels, t->errors);
        family(out, "corral_tap_subscriptions", "gauge", "Topics subscribed on tap.");
        count(out, "corral_tap_subscriptions", labels, t->tap_subscriptions);
        family(out, "corral_tap_lines_total", "counter", "Log lines published on tap.");
        count(out, "corral_tap_lines_total", labels, t->tap_lines);
        family(out, "corral_tap_events_total", "counter", "Events published on tap.");
        count(out, "corral_tap_events_total", labels, t->tap_events);
        family(out, "corral_tap_lines_dropped_total", "counter", "Log lines published on tap "
               "that at least one subscriber did not get (its queue was full).");
        count(out, "corral_tap_lines_dropped_total", labels, t->tap_lines_dropped);
        family(out, "corral_tap_events_dropped_total", "counter", "Events published on tap "
               "that at least one subscriber did not get (its queue was full).");
        count(out, "corral_tap_events_dropped_total", labels, t->tap_events_dropped);
    }
    if (view->balancer) {
        const Corral__V1__BalancerCounters *b = view->balancer;
        family(out, "corral_balancer_accepted_total", "counter", "Connections the coordinator "
               "accepted (balancing shared).");
        count(out, "corral_balancer_accepted_total", labels, b->accepted);
        family(out, "corral_balancer_dropped_total", "counter", "Connections closed because no "
               "worker could take them.");
        count(out, "corral_balancer_dropped_total", labels, b->dropped);
        family(out, "corral_balancer_accept_errors_total", "counter", "accept() failures for "
               "want of descriptors or memory.");
        count(out, "corral_balancer_accept_errors_total", labels, b->accept_errors);
    }
    family(out, "corral_view_generated_timestamp_seconds", "gauge", "When the coordinator "
           "made the view these figures come from (Unix time).");
    sample(out, "corral_view_generated_timestamp_seconds", labels,
           (double) view->generated_unix_ms / 1000.0);
}

static void
metrics_route(corral_request_t *request, void *arg)
{
    if (corral_reporter_await_view(arg, request))
        return;                 /* called again with a fresh view */
    view_t *view = corral_reporter_view(arg);
    process_t *list = calloc(view->n_workers + 1, sizeof *list);
    char storage[16384];
    out_t out = CORRAL_LINE_BUFFER_ON(storage);
    if (!list) {
        corral_request_respond_error(request, 500, "out of memory");
        return;
    }
    size_t n = list_processes(view, list, view->n_workers + 1);
    process_families(&out, list, n);
    request_families(&out, list, n);
    log_families(&out, view, list, n);
    coordinator_families(&out, view);
    corral_request_respond(request, 200, CONTENT_TYPE, out.data, out.length);
    corral_line_buffer_free(&out);
    free(list);
}

static int
metrics_setup(corral_plugin_handle_t *handle)
{
    return corral_plugin_route(handle, "GET", "/api/metrics", metrics_route,
                               corral_plugin_reporter(handle));
}

const corral_plugin_t corral_metrics_plugin = {
    .name = "metrics",
    .setup = metrics_setup,
    .start = corral_status_api_serving,
};
