/* worker_config.c: configuration to WorkerConfig. */
#include "worker_config.h"

#include <stdio.h>

#include "cpu_quota.h"

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
    message.migration_delay_ms = config->node.migrations.delay_ms;
    message.logging = config->logging.config;
    message.logs_endpoint = (char *) "";       /* clustered: set once logs is bound */
    message.keepalive_requests = config->server.limits.keepalive_requests;
    message.keepalive_time_ms = config->server.limits.keepalive_time_ms;
    self->message = message;
}

void
corral_worker_config_set_node(corral_worker_config_t *self, const char *uuid,
                              const char *bus_in_endpoint, const char *bus_out_endpoint)
{
    self->message.instance_uuid = (char *) uuid;
    self->message.bus_in_endpoint = bus_in_endpoint ? (char *) bus_in_endpoint : (char *) "";
    self->message.bus_out_endpoint = bus_out_endpoint ? (char *) bus_out_endpoint : (char *) "";
}
