/* operator.c: setting up and tearing down the tap, the tools' desk,
 * node.remote and endpoints.json. */
#include "operator.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_watch.h"
#include "endpoints_file.h"
#include "fsutil.h"
#include "log.h"
#include "remote.h"

#define LOGGER "coordinator"

struct corral_operator {
    corral_tap_t *tap;
    corral_desk_tools_t *tools;
    corral_remote_t *remote;            /* node.remote, or NULL */
    corral_log_collector_t *logs;       /* it hands records to the tap */
    corral_cluster_view_t *view;        /* it tells the tap of status changes */
    Corral__V1__ToolCounters counters;  /* what the cluster view carries */
    char *endpoints_file;
    corral_data_watch_t *data_watch;    /* path.data still writable? */
    corral_operator_setup_t setup;      /* for endpoints.json written later */
};

static int
start_remote(corral_operator_t *self, const corral_operator_setup_t *setup)
{
    char *error = NULL;
    self->remote = corral_remote_new(setup->loop, setup->config, corral_tap_endpoint(self->tap),
                                     corral_bus_out_endpoint(setup->bus), self->tools, &error);
    if (!self->remote) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s", error ? error : "out of memory");
        free(error);
        return -1;
    }
    corral_desk_tools_set_endpoints(self->tools, true, corral_remote_tap(self->remote),
                                    corral_remote_bus_out(self->remote));
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "remote (CURVE): desk at %s, tap at %s, bus-out at %s",
               corral_remote_desk(self->remote), corral_remote_tap(self->remote),
               corral_remote_bus_out(self->remote));
    return 0;
}

/* endpoints.json under path.data, for tools; and where the instance is, in
 * the log at info. NULL, or the error (free it). */
static char *
write_endpoints(corral_operator_t *self, const corral_operator_setup_t *setup)
{
    char *config_file = realpath(setup->config->file, NULL);
    char *http = corral_format("http://%s:%d", setup->config->server.host, setup->port);
    corral_endpoints_t endpoints = {
        .uuid = setup->uuid,
        .config_file = config_file ? config_file : setup->config->file,
        .runtime_dir = setup->runtime_dir,
        .http = http ? http : "",
        .count = 5,
        .names = { "desk", "bus-in", "bus-out", "logs", "tap" },
        .endpoints = { setup->desk_endpoint, corral_bus_in_endpoint(setup->bus),
                       corral_bus_out_endpoint(setup->bus),
                       setup->logs ? corral_log_collector_endpoint(setup->logs) : "",
                       corral_tap_endpoint(self->tap) },
    };
    if (self->remote) {
        endpoints.remote_desk = corral_remote_desk(self->remote);
        endpoints.remote_tap = corral_remote_tap(self->remote);
        endpoints.remote_bus_out = corral_remote_bus_out(self->remote);
        endpoints.remote_public_key = corral_remote_public_key(self->remote);
    }
    char *error = NULL;
    self->endpoints_file = corral_endpoints_file_write(setup->config->path.data, &endpoints,
                                                       &error);
    free(config_file);
    free(http);
    if (!self->endpoints_file)
        return error ? error : strdup("out of memory");
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "instance %s (pid %d): endpoints in %s",
               setup->uuid, (int) getpid(), self->endpoints_file);
    return NULL;
}

/* At start: an instance that cannot say where it is does not start. */
static int
publish_at_start(corral_operator_t *self, const corral_operator_setup_t *setup)
{
    char *error = write_endpoints(self, setup);
    if (!error)
        return 0;
    corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s", error);
    free(error);
    return -1;
}

corral_operator_t *
corral_operator_new(const corral_operator_setup_t *setup)
{
    corral_operator_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->counters = (Corral__V1__ToolCounters) CORRAL__V1__TOOL_COUNTERS__INIT;
    corral_desk_tools_setup_t tools = setup->tools;
    tools.uuid = setup->uuid;
    self->tap = corral_tap_new(setup->loop, setup->runtime_dir);
    self->tools = corral_desk_tools_new(&tools);
    if (!self->tap || !self->tools) {
        corral_operator_destroy(&self);
        return NULL;
    }
    self->logs = setup->logs;
    if (self->logs)
        corral_log_collector_observe(self->logs, corral_tap_record, self->tap);
    corral_desk_tools_set_endpoints(self->tools, false, corral_tap_endpoint(self->tap),
                                    corral_bus_out_endpoint(setup->bus));
    corral_cluster_view_add_counters(setup->view, corral_bus_stats(setup->bus),
                                     &self->counters);
    self->view = setup->view;
    corral_cluster_view_set_tap(self->view, self->tap);
    self->data_watch = corral_data_watch_new(setup->loop, setup->config->path.data,
                                             setup->config->node.status.interval_ms);
    if (self->data_watch)
        corral_cluster_view_set_data_dir(self->view, corral_data_watch_status(self->data_watch));
    self->setup = *setup;
    if ((setup->config->node.remote.endpoint && start_remote(self, setup) != 0)
        || (!setup->hold_endpoints && publish_at_start(self, setup) != 0))
        corral_operator_destroy(&self);
    return self;
}

/* The stop line of the tap, beside the logs' (log_collector.c). */
static void
log_tap_counters(const corral_tap_t *tap)
{
    Corral__V1__ToolCounters counters = CORRAL__V1__TOOL_COUNTERS__INIT;
    corral_tap_counters(tap, &counters);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "tap: %llu lines published, %llu not sent; %llu "
               "events, %llu not sent (a subscriber's queue was full)",
               (unsigned long long) counters.tap_lines,
               (unsigned long long) counters.tap_lines_dropped,
               (unsigned long long) counters.tap_events,
               (unsigned long long) counters.tap_events_dropped);
}

void
corral_operator_destroy(corral_operator_t **self_p)
{
    corral_operator_t *self = *self_p;
    if (!self)
        return;
    if (self->endpoints_file && corral_endpoints_file_remove(self->endpoints_file) != 0)
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "cannot remove %s: %s (it names this process, "
                   "which is gone: tools treat it as stale)", self->endpoints_file,
                   strerror(errno));
    free(self->endpoints_file);
    corral_remote_destroy(&self->remote);
    corral_desk_tools_destroy(&self->tools);
    if (self->logs)
        corral_log_collector_observe(self->logs, NULL, NULL);
    if (self->view) {
        corral_cluster_view_set_tap(self->view, NULL);
        corral_cluster_view_set_data_dir(self->view, NULL);
    }
    corral_data_watch_destroy(&self->data_watch);
    if (self->tap)
        log_tap_counters(self->tap);    /* the tap no longer sees records: no loop */
    corral_tap_destroy(&self->tap);
    free(self);
    *self_p = NULL;
}

corral_tap_t *
corral_operator_tap(const corral_operator_t *self)
{
    return self ? self->tap : NULL;
}

corral_desk_tools_t *
corral_operator_tools(const corral_operator_t *self)
{
    return self ? self->tools : NULL;
}

const char *
corral_operator_remote_desk(const corral_operator_t *self)
{
    return self && self->remote ? corral_remote_desk(self->remote) : NULL;
}

void
corral_operator_count(corral_operator_t *self)
{
    if (!self)
        return;
    corral_desk_tools_counters(self->tools, &self->counters);
    corral_tap_counters(self->tap, &self->counters);
}

char *
corral_operator_write_endpoints(corral_operator_t *self)
{
    if (!self || self->endpoints_file)
        return NULL;
    return write_endpoints(self, &self->setup);
}
