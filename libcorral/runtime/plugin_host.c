/* plugin_host.c: plugins, their handles, and their lifecycle. */
#include "plugin_host.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "task_manager.h"
#include "reporter.h"

#define LOGGER "plugins"

struct corral_plugin_handle {
    const corral_plugin_t *plugin;
    corral_plugin_host_t *host;
    void *state;
    corral_status_level_t level;
    char *summary;              /* NULL: the level's name */
    bool holding;
    const char *hold_reason;
};

/* An app route: the route and the host that gates it. */
typedef struct app_route {
    corral_plugin_host_t *host;
    corral_route_fn *fn;
    void *arg;
    struct app_route *next;
} app_route_t;

struct corral_plugin_host {
    zloop_t *loop;
    const corral_identity_t *identity;
    corral_http_server_t *http;     /* during setup only */
    struct corral_reporter *reporter;
    corral_plugin_handle_t *handles;
    size_t count;
    size_t started;
    const Corral__V1__WorkerConfig *config;
    corral_node_service_t *node_service;
    app_route_t *app_routes;
    int holds;
    int exit_code;              /* a plugin's, for a failed setup or start */
    void (*on_released)(void *arg);
    void *on_released_arg;
    corral_task_manager_t *tasks;   /* corral/tasks.h */
};

corral_plugin_host_t *
corral_plugin_host_new(zloop_t *loop, const corral_identity_t *identity)
{
    corral_plugin_host_t *self = calloc(1, sizeof *self);
    if (self) {
        self->loop = loop;
        self->identity = identity;
        self->tasks = corral_task_manager_new(loop);
        if (!self->tasks)
            corral_plugin_host_destroy(&self);
    }
    return self;
}

void
corral_plugin_host_destroy(corral_plugin_host_t **self_p)
{
    corral_plugin_host_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        free(self->handles[i].summary);
    while (self->app_routes) {
        app_route_t *next = self->app_routes->next;
        free(self->app_routes);
        self->app_routes = next;
    }
    corral_task_manager_destroy(&self->tasks);
    free(self->handles);
    free(self);
    *self_p = NULL;
}

void
corral_plugin_host_join(corral_plugin_host_t *self, const Corral__V1__WorkerConfig *config,
                        corral_node_service_t *service)
{
    self->config = config;
    self->node_service = service;
    corral_task_manager_set_main(self->tasks, self->identity->main);
}

void
corral_plugin_host_set_main(corral_plugin_host_t *self, bool main)
{
    corral_task_manager_set_main(self->tasks, main);
}

int
corral_task_register(corral_plugin_handle_t *handle, const char *name, uint64_t interval_ms,
                     corral_task_fn *fn, void *arg)
{
    return corral_task_manager_add(handle->host->tasks, handle, name, interval_ms, fn, arg);
}

const Corral__V1__WorkerConfig *
corral_plugin_worker_config(const corral_plugin_handle_t *handle)
{
    return handle->host->config;
}

void
corral_plugin_host_on_released(corral_plugin_host_t *self, void (*fn)(void *arg), void *arg)
{
    self->on_released = fn;
    self->on_released_arg = arg;
}

bool
corral_plugin_host_held(const corral_plugin_host_t *self)
{
    return self->holds > 0;
}

int
corral_plugin_host_add(corral_plugin_host_t *self, const corral_plugin_t *plugin)
{
    corral_plugin_handle_t *grown = realloc(self->handles, (self->count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    self->handles = grown;
    self->handles[self->count++] = (corral_plugin_handle_t) {
        plugin, self, NULL, CORRAL_STATUS_AVAILABLE, NULL, false, NULL };
    return 0;
}

typedef enum { PHASE_SETUP, PHASE_START } phase_t;

static int
run_phase(corral_plugin_host_t *self, phase_t phase, size_t *completed)
{
    for (size_t i = 0; i < self->count; i++) {
        corral_plugin_handle_t *handle = &self->handles[i];
        int (*fn)(corral_plugin_handle_t *) =
            phase == PHASE_SETUP ? handle->plugin->setup : handle->plugin->start;
        if (fn && fn(handle) != 0) {
            corral_log(CORRAL_LEVEL_FATAL, LOGGER, "plugin %s failed to %s",
                       handle->plugin->name, phase == PHASE_SETUP ? "set up" : "start");
            return -1;
        }
        if (completed)
            *completed = i + 1;
    }
    return 0;
}

int
corral_plugin_host_setup(corral_plugin_host_t *self, corral_http_server_t *http)
{
    self->http = http;
    int rc = run_phase(self, PHASE_SETUP, NULL);
    self->http = NULL;
    return rc;
}

int
corral_plugin_host_start(corral_plugin_host_t *self)
{
    return run_phase(self, PHASE_START, &self->started);
}

void
corral_plugin_host_stop(corral_plugin_host_t *self)
{
    corral_task_manager_set_main(self->tasks, false);      /* no run while stopping */
    while (self->started > 0) {
        corral_plugin_handle_t *handle = &self->handles[--self->started];
        if (handle->plugin->stop)
            handle->plugin->stop(handle);
    }
}

/* --- The handle (corral/plugin.h) ----------------------------------------- */

const char *
corral_plugin_name(const corral_plugin_handle_t *handle)
{
    return handle->plugin->name;
}

const corral_identity_t *
corral_plugin_identity(const corral_plugin_handle_t *handle)
{
    return handle->host->identity;
}

const char *
corral_plugin_data_path(const corral_plugin_handle_t *handle)
{
    const Corral__V1__WorkerConfig *config = handle->host->config;
    return config && config->data_path && *config->data_path ? config->data_path : NULL;
}

zloop_t *
corral_plugin_loop(corral_plugin_handle_t *handle)
{
    return handle->host->loop;
}

void *
corral_plugin_state(const corral_plugin_handle_t *handle)
{
    return handle->state;
}

void
corral_plugin_set_state(corral_plugin_handle_t *handle, void *state)
{
    handle->state = state;
}

int
corral_plugin_route(corral_plugin_handle_t *handle, const char *method,
                    const char *path, corral_route_fn *fn, void *arg)
{
    if (!handle->host->http) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER,
                   "plugin %s: routes are registered during setup only",
                   handle->plugin->name);
        return -1;
    }
    if (corral_http_server_route(handle->host->http, method, path, fn, arg) != 0) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "plugin %s: route %s %s is taken",
                   handle->plugin->name, method, path);
        return -1;
    }
    return 0;
}

/* --- Statuses (corral/status.h) ------------------------------------------- */

int
corral_plugin_set_status(corral_plugin_handle_t *handle, corral_status_level_t level,
                         const char *summary)
{
    if (level < CORRAL_STATUS_AVAILABLE || level > CORRAL_STATUS_CRITICAL)
        return -1;
    char *copy = NULL;
    if (summary && !(copy = strdup(summary)))
        return -1;
    if (level != handle->level) {
        corral_log(level > handle->level ? CORRAL_LEVEL_WARN : CORRAL_LEVEL_INFO, LOGGER,
                   "plugin %s is %s: %s", handle->plugin->name,
                   corral_status_level_name(level), summary ? summary : "");
        if (handle->host->reporter)
            corral_reporter_report_soon(handle->host->reporter);
    }
    free(handle->summary);
    handle->summary = copy;
    handle->level = level;
    return 0;
}

size_t
corral_plugin_host_count(const corral_plugin_host_t *self)
{
    return self->count;
}

void
corral_plugin_host_status(const corral_plugin_host_t *self, size_t index, const char **name,
                          corral_status_level_t *level, const char **summary)
{
    const corral_plugin_handle_t *handle = &self->handles[index];
    *name = handle->plugin->name;
    *level = handle->level;
    *summary = handle->summary ? handle->summary : corral_status_level_name(handle->level);
}

void
corral_plugin_host_set_reporter(corral_plugin_host_t *self, struct corral_reporter *reporter)
{
    self->reporter = reporter;
}

struct corral_reporter *
corral_plugin_reporter(const corral_plugin_handle_t *handle)
{
    return handle->host->reporter;
}

corral_node_t *
corral_plugin_node(corral_plugin_handle_t *handle)
{
    corral_node_service_t *service = handle->host->node_service;
    return service ? corral_node_service_plugin(service, handle->plugin->name) : NULL;
}

/* --- App routes and holds ------------------------------------------------- */

static const char *
hold_reason(const corral_plugin_host_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->handles[i].holding)
            return self->handles[i].hold_reason;
    return "starting";
}

static void
gate(corral_request_t *request, void *arg)
{
    app_route_t *route = arg;
    if (route->host->holds > 0)
        corral_request_respond_error(request, 503, hold_reason(route->host));
    else
        route->fn(request, route->arg);
}

int
corral_plugin_app_route(corral_plugin_handle_t *handle, const char *method,
                        const char *path, corral_route_fn *fn, void *arg)
{
    app_route_t *route = calloc(1, sizeof *route);
    if (!route)
        return -1;
    *route = (app_route_t) { handle->host, fn, arg, handle->host->app_routes };
    handle->host->app_routes = route;
    return corral_plugin_route(handle, method, path, gate, route);
}

void
corral_plugin_hold(corral_plugin_handle_t *handle, const char *reason)
{
    handle->hold_reason = reason;
    if (!handle->holding) {
        handle->holding = true;
        handle->host->holds++;
    }
}

void
corral_plugin_fail_with(corral_plugin_handle_t *handle, int exit_code)
{
    handle->host->exit_code = exit_code;
}

int
corral_plugin_host_exit_code(const corral_plugin_host_t *self)
{
    return self->exit_code ? self->exit_code : 1;
}

void
corral_plugin_release(corral_plugin_handle_t *handle)
{
    corral_plugin_host_t *self = handle->host;
    if (!handle->holding)
        return;
    handle->holding = false;
    if (--self->holds == 0 && self->on_released)
        self->on_released(self->on_released_arg);
}
