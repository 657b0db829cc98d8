/* worker_config.c: configuration to WorkerConfig. */
#include "worker_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cpu_quota.h"
#include "fsutil.h"

void
corral_worker_config_init(corral_worker_config_t *self, const corral_config_t *config,
                          int worker_id, int worker_count, int bound_port, bool clustered)
{
    snprintf(self->name, sizeof self->name, "worker-%d", worker_id);
    Corral__V1__WorkerConfig message = CORRAL__V1__WORKER_CONFIG__INIT;
    message.worker_id = (uint32_t) worker_id;
    message.worker_name = self->name;
    message.main = worker_id == 1;          /* slot 1 is main at start */
    message.clustered = clustered;
    message.shutdown_timeout_ms = config->node.shutdown_timeout_ms;
    message.log_level = (char *) corral_level_name(config->logging.root_level);
    message.data_path = config->path.data;
    message.pid_file = !clustered && config->pid.file ? config->pid.file : (char *) "";
    message.worker_count = (uint32_t) worker_count;
    message.server_host = config->server.host;
    message.server_port = (uint32_t) bound_port;
    message.status_interval_ms = config->node.status.interval_ms;
    message.heartbeat_timeout_ms = config->node.workers.heartbeat_timeout_ms;
    message.cpu_quota = corral_cpu_quota("/");
    message.debug_routes = config->node.debug_routes;
    message.test_routes = config->server.test_routes;
    message.limits = (Corral__V1__HttpLimits *) &config->server.limits;
    message.migration_delay_ms = config->node.migrations.delay_ms;
    message.startup_delay_ms = config->node.workers.startup_delay_ms;
    message.logging = config->logging.config;
    message.logs_endpoint = (char *) "";       /* clustered: set once logs is bound */
    message.worker_data_dir = (char *) "";     /* set with its directory */
    self->message = message;
}

void
corral_worker_config_set_type(corral_worker_config_t *self, const char *name,
                              const corral_worker_group_t *type)
{
    snprintf(self->name, sizeof self->name, "%s", name);
    self->message.without_http = !type->http;
    self->message.startup_delay_ms = type->startup_delay_ms;
}

void
corral_worker_config_set_node(corral_worker_config_t *self, const char *uuid,
                              const char *bus_in_endpoint, const char *bus_out_endpoint)
{
    self->message.instance_uuid = (char *) uuid;
    self->message.bus_in_endpoint = bus_in_endpoint ? (char *) bus_in_endpoint : (char *) "";
    self->message.bus_out_endpoint = bus_out_endpoint ? (char *) bus_out_endpoint : (char *) "";
}

int
corral_worker_config_make_data_dir(corral_worker_config_t *self, char **error)
{
    const char *data = self->message.data_path;
    int length = snprintf(self->data_dir, sizeof self->data_dir, "%s/workers/%s/", data,
                          self->name);
    if (length < 0 || (size_t) length >= sizeof self->data_dir) {
        *error = corral_format("%s: path.data is too long for the workers' directories", data);
        return -1;
    }
    char *parent = corral_format("%s/workers", data);
    int made = parent ? corral_make_dirs(parent) : -1;
    free(parent);
    if (made != 0 || (mkdir(self->data_dir, 0700) == 0 ? chmod(self->data_dir, 0700)
                                                        : errno != EEXIST)) {
        *error = corral_format("cannot create %s: %s", self->data_dir, strerror(errno));
        return -1;
    }
    self->message.worker_data_dir = self->data_dir;
    return 0;
}
