/* status_plugin.c: the built-in plugin `status`: GET /api/status in
 * Kibana's shape (`status.overall`, `status.core`, `status.plugins`, levels
 * available < degraded < unavailable < critical) plus the `workers`
 * extension. A service's level is the most severe across the workers; a
 * worker silent past the heartbeat timeout is unavailable there and makes
 * `overall` at least degraded; 503 when `overall` is unavailable or worse. */
#include "status_api.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "corral/status.h"
#include "corral/version.h"
#include "plugin_host.h"
#include "reporter.h"

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

json_t *
corral_status_api_time(uint64_t unix_ms)
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
    char summary[160];
    if (worker->restart_in_ms) {
        level = CORRAL_STATUS_UNAVAILABLE;
        snprintf(summary, sizeof summary, "restarting in %llu ms (its last process %s)",
                 (unsigned long long) worker->restart_in_ms,
                 worker->last_exit ? worker->last_exit->reason : "exited");
    }
    else if (!worker->reporting) {
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
add_coordinator_core(uint64_t age, view_t *view, json_t *core)
{
    char summary[160];
    bool fresh = age <= view->heartbeat_timeout_ms && view->coordinator;
    if (fresh)
        snprintf(summary, sizeof summary, "answering status reports");
    else
        snprintf(summary, sizeof summary, "no answer from the coordinator for %llu ms",
                 (unsigned long long) age);
    json_object_set_new(core, "coordinator",
                        level_json(fresh ? CORRAL_STATUS_AVAILABLE : CORRAL_STATUS_UNAVAILABLE,
                                   summary));
}

static json_t *
overall_status(json_t *core, json_t *plugins, int silent, const char *silent_names)
{
    int level = worse(worst_level(core), worst_level(plugins));
    if (silent)     /* silent, or waiting to restart: the others still serve */
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

/* The last reload (SIGHUP): a failed one was rolled back, and says why. */
static json_t *
reload_json(const Corral__V1__ReloadOutcome *reload)
{
    return json_pack("{s:b, s:b, s:s, s:o, s:I, s:I}", "running", reload->running,
                     "ok", reload->ok, "summary", reload->summary ? reload->summary : "",
                     "at", corral_status_api_time(reload->at_unix_ms),
                     "config_generation", (json_int_t) reload->config_generation,
                     "duration_ms", (json_int_t) reload->duration_ms);
}

json_t *
corral_status_json(view_t *view, bool clustered, uint64_t view_age_ms, int *overall_level)
{
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
        if (!worker->reporting || worker->restart_in_ms) {
            size_t used = strlen(silent_names);
            if (worker->restart_in_ms)
                snprintf(silent_names + used, sizeof silent_names - used,
                         "%s%s (restarting in %llu ms)", silent++ ? ", " : "", worker->name,
                         (unsigned long long) worker->restart_in_ms);
            else
                snprintf(silent_names + used, sizeof silent_names - used, "%s%s",
                         silent++ ? ", " : "", worker->name);
        }
    }
    if (clustered)
        add_coordinator_core(view_age_ms, view, core);
    if (view->data_dir)         /* path.data writable, or why not */
        json_object_set_new(core, "data", level_json(view->data_dir->level,
                                                     view->data_dir->summary));
    json_t *overall = overall_status(core, plugins, silent, silent_names);
    *overall_level = level_of(overall);
    json_t *document = json_pack("{s:s, s:{s:s}, s:{s:o, s:o, s:o}, s:o, s:o, s:I}",
                     "name", CORRAL_STATUS_API_PRODUCT, "version", "number", CORRAL_VERSION_STRING,
                     "status", "overall", overall, "core", core, "plugins", plugins,
                     "workers", workers,
                     "last_updated", corral_status_api_time(view->generated_unix_ms),
                     "collection_interval_ms", (json_int_t) view->collection_interval_ms);
    if (document && view->last_reload)
        json_object_set_new(document, "reload", reload_json(view->last_reload));
    return document;
}

static void
status_route(corral_request_t *request, void *arg)
{
    if (corral_reporter_await_view(arg, request))
        return;                 /* called again with a fresh view */
    int level;
    const corral_reporter_t *reporter = arg;
    json_t *document = corral_status_json(corral_reporter_view(reporter),
                                          corral_reporter_clustered(reporter),
                                          corral_reporter_view_age_ms(reporter), &level);
    corral_request_respond_json(request, level >= CORRAL_STATUS_UNAVAILABLE ? 503 : 200,
                                document);
}

/* --- The plugin ------------------------------------------------------------- */

static int
status_setup(corral_plugin_handle_t *handle)
{
    return corral_plugin_route(handle, "GET", "/api/status", status_route,
                               corral_plugin_reporter(handle));
}

int
corral_status_api_serving(corral_plugin_handle_t *handle)
{
    return corral_plugin_set_status(handle, CORRAL_STATUS_AVAILABLE, "serving");
}

const corral_plugin_t corral_status_plugin = {
    .name = "status",
    .setup = status_setup,
    .start = corral_status_api_serving,
};
