/* config_schema.c: every key corral's configuration accepts
 * (docs/architecture.md section 7), what its value must be and where it goes in
 * corral_config_t; any other key is an error. Also the listing of the
 * keys that docs/configuration.md is checked against, and node.remote's
 * rule across its keys. The defaults are config.c's. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_loader.h"

#define AT(member) offsetof(corral_config_t, member)
#define IN_GROUP(member) offsetof(corral_worker_group_t, member)
#define IN_LIMITS(member) (AT(server.limits) + offsetof(Corral__V1__HttpLimits, member))
#define KEY(key, value, offset_) { .name = key, .kind = value, .offset = offset_ }
#define SECTION(key, keys) { .name = key, .kind = VALUE_SECTION, .fields = keys }
#define END { .name = NULL }

static const field_t limits_fields[] = {
    KEY("max_connections",        VALUE_CONNECTIONS,         IN_LIMITS(max_connections)),
    KEY("max_connections_per_ip", VALUE_CONNECTIONS_OR_ZERO, IN_LIMITS(max_connections_per_ip)),
    KEY("header_timeout",         VALUE_TIMEOUT,             IN_LIMITS(header_timeout_ms)),
    KEY("idle_timeout",           VALUE_TIMEOUT,             IN_LIMITS(idle_timeout_ms)),
    KEY("keepalive_requests",     VALUE_COUNT,               IN_LIMITS(keepalive_requests)),
    KEY("keepalive_time",         VALUE_DURATION,            IN_LIMITS(keepalive_time_ms)),
    END
};
static const field_t server_fields[] = {
    KEY("host",        VALUE_STRING,    AT(server.host)),
    KEY("port",        VALUE_PORT,      AT(server.port)),
    KEY("balancing",   VALUE_BALANCING, AT(server.balancing)),
    KEY("test_routes", VALUE_BOOL,      AT(server.test_routes)),
    SECTION("limits", limits_fields),
    END
};
static const field_t path_fields[] = {
    KEY("data", VALUE_PATH, AT(path.data)),
    END
};
static const field_t pid_fields[] = {
    KEY("file", VALUE_PATH, AT(pid.file)),
    END
};
/* The keys of a group of workers (offsets into corral_worker_group_t):
 * node.workers itself, or each of its named types. */
static const field_t recycle_fields[] = {
    KEY("max_rss",      VALUE_SIZE,    IN_GROUP(recycle.max_rss)),
    KEY("max_requests", VALUE_COUNT,   IN_GROUP(recycle.max_requests)),
    KEY("jitter",       VALUE_PERCENT, IN_GROUP(recycle.jitter_percent)),
    END
};
const field_t corral_config_group_fields[] = {
    KEY("count",             VALUE_WORKER_COUNT, IN_GROUP(count)),
    KEY("heartbeat_timeout", VALUE_DURATION,     IN_GROUP(heartbeat_timeout_ms)),
    KEY("command",           VALUE_COMMAND,      IN_GROUP(program.command)),
    KEY("env",               VALUE_ENV,          IN_GROUP(program.env)),
    KEY("max_memory",        VALUE_SIZE,         IN_GROUP(max_memory)),
    KEY("startup_delay",     VALUE_DURATION,     IN_GROUP(startup_delay_ms)),
    SECTION("recycle", recycle_fields),
    KEY("http",              VALUE_BOOL,         IN_GROUP(http)),
    KEY("main",              VALUE_MAIN,         IN_GROUP(main)),
    KEY("protocol",          VALUE_PROTOCOL,     IN_GROUP(plain)),
    KEY("cwd",               VALUE_PATH,         IN_GROUP(program.cwd)),
    KEY("ready_after",       VALUE_DURATION,     IN_GROUP(ready_after_ms)),
    KEY("watchdog",          VALUE_DURATION,     IN_GROUP(watchdog_ms)),
    END
};
static const field_t coordinator_fields[] = {
    KEY("max_memory", VALUE_SIZE, AT(node.coordinator.max_memory)),
    END
};
static const field_t backoff_fields[] = {
    KEY("initial", VALUE_DURATION, AT(node.restart.backoff_initial_ms)),
    KEY("max",     VALUE_DURATION, AT(node.restart.backoff_max_ms)),
    END
};
static const field_t restart_fields[] = {
    KEY("policy",       VALUE_RESTART,  AT(node.restart.policy)),
    KEY("max_restarts", VALUE_COUNT,    AT(node.restart.max_restarts)),
    KEY("window",       VALUE_DURATION, AT(node.restart.window_ms)),
    SECTION("backoff", backoff_fields),
    END
};
static const field_t status_fields[] = {
    KEY("interval", VALUE_DURATION, AT(node.status.interval_ms)),
    END
};
static const field_t migrations_fields[] = {
    KEY("delay", VALUE_DURATION, AT(node.migrations.delay_ms)),
    END
};
static const field_t reload_fields[] = {
    KEY("parallel",      VALUE_COUNT,    AT(node.reload.parallel)),
    KEY("ready_timeout", VALUE_DURATION, AT(node.reload.ready_timeout_ms)),
    END
};
static const field_t bus_fields[] = {
    { .name = "max_persisted_bytes", .kind = VALUE_SIZE, .offset = AT(node.bus.max_persisted_bytes),
      .min = CORRAL_MAX_PERSISTED_BYTES_MIN, .max = CORRAL_MAX_PERSISTED_BYTES_MAX },
    END
};
static const field_t curve_fields[] = {
    KEY("secret_key",      VALUE_PATH, AT(node.remote.secret_key)),
    KEY("authorized_keys", VALUE_PATH, AT(node.remote.authorized_keys)),
    END
};
static const field_t remote_fields[] = {
    KEY("endpoint", VALUE_STRING, AT(node.remote.endpoint)),
    SECTION("curve", curve_fields),
    END
};
static const field_t node_fields[] = {
    KEY("enabled", VALUE_BOOL, AT(node.enabled)),
    { .name = "workers", .kind = VALUE_WORKERS, .fields = corral_config_group_fields },
    SECTION("coordinator", coordinator_fields),
    SECTION("restart", restart_fields),
    KEY("shutdown_timeout", VALUE_DURATION, AT(node.shutdown_timeout_ms)),
    SECTION("status", status_fields),
    KEY("debug_routes", VALUE_BOOL, AT(node.debug_routes)),
    SECTION("migrations", migrations_fields),
    SECTION("reload", reload_fields),
    SECTION("bus", bus_fields),
    { .name = "remote", .kind = VALUE_REMOTE, .fields = remote_fields },
    END
};
const field_t corral_config_top_fields[] = {
    SECTION("server", server_fields),
    SECTION("path", path_fields),
    SECTION("pid", pid_fields),
    SECTION("node", node_fields),
    { .name = "logging", .kind = VALUE_LOGGING, .fields = corral_config_logging_fields },
    END
};


/* ---- node.remote ---------------------------------------------------------- */

/* A tcp:// endpoint, and never without CURVE keys that exist: nothing is
 * exposed on the network in the clear. */
int
corral_config_parse_remote(loader_t *self, yaml_node_t *node, const char *path,
                           const field_t *fields)
{
    if (corral_config_parse_section(self, node, path, fields, self->config) != 0)
        return -1;
    const char *endpoint = self->config->node.remote.endpoint;
    const char *secret = self->config->node.remote.secret_key;
    const char *authorized = self->config->node.remote.authorized_keys;
    struct stat st;
    if (!endpoint)
        return corral_config_fail_at(self, node, path, "an endpoint (tcp://HOST:PORT) is required");
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return corral_config_fail_at(self, node, path, "endpoint must be tcp://HOST:PORT, got %s",
                                     endpoint);
    if (!secret || !authorized)
        return corral_config_fail_at(self, node, path, "curve.secret_key and "
                                     "curve.authorized_keys are "
                                     "required: nothing is exposed without CURVE keys");
    if (access(secret, R_OK) != 0)
        return corral_config_fail_at(self, node, path, "curve.secret_key: cannot read %s: %s",
                                     secret, strerror(errno));
    if (stat(authorized, &st) != 0 || !S_ISDIR(st.st_mode))
        return corral_config_fail_at(self, node, path,
                                     "curve.authorized_keys: %s is not a directory", authorized);
    return 0;
}


/* ---- The listing of the keys ------------------------------------------------ */

static void
list_keys(const field_t *fields, const char *path,
          void (*fn)(const char *key, bool section, void *arg), void *arg)
{
    for (const field_t *field = fields; field->name; field++) {
        char key[KEY_PATH_MAX];
        corral_config_child(key, path, *path ? "." : "", field->name);
        fn(key, field->fields != NULL, arg);
        if (!field->fields)
            continue;
        char under[KEY_PATH_MAX];
        corral_config_child(under, key, "", field->listed ? "[]" : "");
        list_keys(field->fields, under, fn, arg);
        if (field->kind == VALUE_WORKERS) {
            corral_config_child(under, key, ".", "<type>");
            fn(under, false, arg);
        }
    }
}

void
corral_config_keys(void (*fn)(const char *key, bool section, void *arg), void *arg)
{
    list_keys(corral_config_top_fields, "", fn, arg);
}
