/* ctl_views.c: tables and summaries. */
#include "ctl_views.h"

#include <stdio.h>
#include <string.h>

static double
requests_per_second(const Corral__V1__ClusterView *view, const Corral__V1__Report *report)
{
    if (!report->requests || !view->collection_interval_ms)
        return 0;
    return (double) report->requests->interval_count * 1000.0
         / (double) view->collection_interval_ms;
}

json_t *
ctl_workers_json(const Corral__V1__ClusterView *view)
{
    json_t *workers = json_array();
    for (size_t i = 0; i < view->n_workers; i++) {
        const Corral__V1__WorkerView *worker = view->workers[i];
        const Corral__V1__ProcessMetrics *process = worker->report->process;
        json_array_append_new(workers, json_pack(
            "{s:s, s:I, s:I, s:s, s:b, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:b}",
            "name", worker->name, "worker_id", (json_int_t) worker->worker_id,
            "pid", (json_int_t) worker->pid, "state", worker->state, "main", worker->main,
            "uptime_ms", (json_int_t) (process ? process->uptime_ms : 0),
            "restarts", (json_int_t) worker->restarts,
            "generation", (json_int_t) worker->generation,
            "rss_bytes", (json_int_t) (process ? process->resident_set_size_bytes : 0),
            "requests_per_s", requests_per_second(view, worker->report),
            "event_loop_delay_ms", process ? process->event_loop_delay_ms : 0.0,
            "last_report_ms_ago", (json_int_t) worker->last_report_age_ms,
            "reporting", worker->reporting));
    }
    return workers;
}

static void
format_duration(char *out, size_t size, uint64_t ms)
{
    uint64_t s = ms / 1000;
    if (s < 60)
        snprintf(out, size, "%llus", (unsigned long long) s);
    else if (s < 3600)
        snprintf(out, size, "%llum%02llus", (unsigned long long) s / 60,
                 (unsigned long long) s % 60);
    else
        snprintf(out, size, "%lluh%02llum", (unsigned long long) s / 3600,
                 (unsigned long long) (s / 60) % 60);
}

/* A plain worker's STATUS= (docs/plain-workers.md): its `process` service's
 * summary; "" for a worker speaking the protocol. */
static const char *
plain_status(const Corral__V1__Report *report)
{
    for (size_t i = 0; report && i < report->n_core; i++)
        if (strcmp(report->core[i]->name, "process") == 0)
            return report->core[i]->summary;
    return "";
}

/* "12.5" or "-" (not known yet) */
static void
format_cpu(char *out, size_t size, ctl_cpu_t *cpu, pid_t pid)
{
    double percent = ctl_cpu_percent(cpu, pid);
    if (percent < 0)
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%.1f", percent);
}

void
ctl_print_workers(FILE *out, const Corral__V1__ClusterView *view, ctl_cpu_t *cpu)
{
    fprintf(out, "%-12s %8s %-9s %-4s %8s %8s %9s %9s %8s %8s%s %s\n", "NAME", "PID", "STATE",
            "MAIN", "UPTIME", "RESTARTS", "RSS", "REQ/S", "LOOP", "REPORT", cpu ? "     CPU%" : "",
            "STATUS");
    for (size_t i = 0; i < view->n_workers; i++) {
        const Corral__V1__WorkerView *worker = view->workers[i];
        const Corral__V1__ProcessMetrics *process = worker->report->process;
        char uptime[32], rss[32], loop[32], age[32], restarts[16];
        format_duration(uptime, sizeof uptime, process ? process->uptime_ms : 0);
        snprintf(rss, sizeof rss, "%.1fMB",
                 process ? (double) process->resident_set_size_bytes / 1048576.0 : 0.0);
        snprintf(loop, sizeof loop, "%.1fms", process ? process->event_loop_delay_ms : 0.0);
        snprintf(age, sizeof age, "%s%llums", worker->reporting ? "" : "!",
                 (unsigned long long) worker->last_report_age_ms);
        snprintf(restarts, sizeof restarts, "%u", worker->restarts);
        char cpu_use[24] = "", percent[16];
        if (cpu) {
            format_cpu(percent, sizeof percent, cpu, (pid_t) worker->pid);
            snprintf(cpu_use, sizeof cpu_use, " %8s", percent);
        }
        fprintf(out, "%-12s %8u %-9s %-4s %8s %8s %9s %9.1f %8s %8s%s %s\n", worker->name,
                worker->pid, worker->state, worker->main ? "yes" : "", uptime, restarts, rss,
                requests_per_second(view, worker->report), loop, age, cpu_use,
                plain_status(worker->report));
    }
}

static void
print_services(FILE *out, const char *title, json_t *services)
{
    const char *name;
    json_t *status;
    json_object_foreach(services, name, status)
        fprintf(out, "  %-8s %-24s %-11s %s\n", title, name,
                json_string_value(json_object_get(status, "level")),
                json_string_value(json_object_get(status, "summary")));
}

void
ctl_print_status(FILE *out, json_t *document)
{
    json_t *status = json_object_get(document, "status");
    json_t *overall = json_object_get(status, "overall");
    fprintf(out, "overall: %s (%s)\n", json_string_value(json_object_get(overall, "level")),
            json_string_value(json_object_get(overall, "summary")));
    print_services(out, "core", json_object_get(status, "core"));
    print_services(out, "plugin", json_object_get(status, "plugins"));
    const char *name;
    json_t *worker;
    json_object_foreach(json_object_get(document, "workers"), name, worker)
        fprintf(out, "  %-8s %-24s %-11s reported %lld ms ago\n", "worker", name,
                json_string_value(json_object_get(json_object_get(worker, "overall"), "level")),
                (long long) json_integer_value(json_object_get(worker, "last_report_ms_ago")));
}

void
ctl_print_stats(FILE *out, json_t *document)
{
    json_t *process = json_object_get(document, "process");
    json_t *memory = json_object_get(process, "memory");
    json_t *requests = json_object_get(document, "requests");
    json_t *times = json_object_get(document, "response_times");
    json_t *logs = json_object_get(document, "logs");
    fprintf(out, "coordinator pid     %lld, up %lld ms\n",
            (long long) json_integer_value(json_object_get(process, "pid")),
            (long long) json_integer_value(json_object_get(process, "uptime_ms")));
    fprintf(out, "processes           %zu\n",
            json_array_size(json_object_get(document, "processes")));
    fprintf(out, "resident memory     %.1f MB (sum)\n",
            (double) json_integer_value(json_object_get(memory, "resident_set_size_bytes"))
                / 1048576.0);
    fprintf(out, "event loop delay    %.1f ms (max)\n",
            json_number_value(json_object_get(process, "event_loop_delay")));
    fprintf(out, "requests            %lld total, %lld disconnects\n",
            (long long) json_integer_value(json_object_get(requests, "total")),
            (long long) json_integer_value(json_object_get(requests, "disconnects")));
    const char *code;
    json_t *count;
    json_object_foreach(json_object_get(requests, "status_codes"), code, count)
        fprintf(out, "  status %s         %lld\n", code, (long long) json_integer_value(count));
    fprintf(out, "response times      avg %.2f ms, max %.2f ms\n",
            json_number_value(json_object_get(times, "avg_ms")),
            json_number_value(json_object_get(times, "max_ms")));
    fprintf(out, "connections         %lld\n",
            (long long) json_integer_value(json_object_get(document, "concurrent_connections")));
    fprintf(out, "logs                %lld received, %lld dropped\n",
            (long long) json_integer_value(json_object_get(logs, "received")),
            (long long) json_integer_value(json_object_get(logs, "dropped")));
}
