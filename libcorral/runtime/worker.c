/* worker.c: the worker process's life: join the instance (clustered: Hello
 * and Welcome on desk; classic: the WorkerConfig on an inherited fd), set
 * up the node service (node_service.c), set up and start the plugins and
 * the HTTP server on fd 3 (ready once no plugin holds it back), run the
 * loop, and stop gracefully on SIGTERM or SIGINT within the shutdown
 * timeout. */
#include "corral/worker.h"

#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access_log.h"
#include "desk_client.h"
#include "envelope.h"
#include "external_loop.h"
#include "http_server.h"
#include "launch_contract.h"
#include "log.h"
#include "log_counters.h"
#include "log_pusher.h"
#include "main_role.h"
#include "router.h"
#include "notify.h"
#include "signals.h"
#include "node_service.h"
#include "plugin_host.h"
#include "reporter.h"
#include "status_api.h"
#include "worker_secret.h"

#define LOGGER "node"
/* A coordinator that starts hundreds of workers on a loaded machine may
 * answer Hello late; a worker whose coordinator dies dies too
 * (PR_SET_PDEATHSIG), so waiting long costs nothing. */
#define WELCOME_TIMEOUT_MS 60000
#define ORPHAN_DRAIN_MS 1000        /* the coordinator died: stop quickly */
#define STOP_MARGIN_MS 500
#define LOG_FLUSH_MS 5000           /* at exit, for the coordinator to take our records */

struct corral_worker {
    zloop_t *loop;
    corral_identity_t identity;
    Corral__V1__WorkerConfig *config;
    corral_envelope_t *welcome;             /* clustered: owns config */
    Corral__V1__WorkerConfig *classic_config; /* classic: owns config */
    corral_desk_client_t *desk;             /* clustered only */
    corral_external_loop_t *external;       /* driven by the program's own loop */
    corral_http_server_t *http;
    corral_plugin_host_t *plugins;
    corral_reporter_t *reporter;            /* status reports */
    corral_node_service_t *node;
    corral_signals_t *signals;
    corral_log_router_t *log_router;        /* levels; classic: the appenders too */
    corral_log_pusher_t *log_pusher;        /* clustered only */
    int log_linger_ms;                      /* at exit, for queued records */
    pid_t coordinator_pid;
    char secret[CORRAL_SECRET_LENGTH + 1];  /* clustered: from CORRAL_SECRET_FD */
    bool started;               /* plugins started: ready once nothing holds us */
    bool accepting;             /* the HTTP server takes connections */
    bool stopping;
    bool finished;              /* the stop path ran */
    int exit_code;
    int64_t stop_deadline;      /* zclock_mono ms: the coordinator's shutdown timeout */
};

corral_worker_t *
corral_worker_new(void)
{
    zsys_handler_set(NULL);         /* signals belong to our signalfd */
    corral_worker_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = zloop_new();
    self->plugins = corral_plugin_host_new(self->loop, &self->identity);
    if (!self->loop || !self->plugins
        || corral_plugin_host_add(self->plugins, &corral_status_plugin) != 0
        || corral_plugin_host_add(self->plugins, &corral_stats_plugin) != 0
        || corral_plugin_host_add(self->plugins, &corral_metrics_plugin) != 0)
        corral_worker_destroy(&self);
    return self;
}

void
corral_worker_destroy(corral_worker_t **self_p)
{
    corral_worker_t *self = *self_p;
    if (!self)
        return;
    corral_external_loop_destroy(&self->external);
    corral_http_server_destroy(&self->http);
    corral_reporter_destroy(&self->reporter);   /* after the server it observes */
    corral_plugin_host_destroy(&self->plugins);
    corral_node_service_destroy(&self->node);
    corral_log_counters_set_source(NULL, NULL);
    corral_log_set_sink(NULL, NULL);
    corral_log_set_levels(NULL);
    corral_log_pusher_destroy(&self->log_pusher, self->log_linger_ms);
    corral_log_router_destroy(&self->log_router);
    corral_desk_client_destroy(&self->desk);
    corral_envelope_free(&self->welcome);
    if (self->classic_config)
        corral__v1__worker_config__free_unpacked(self->classic_config, NULL);
    corral_signals_destroy(&self->signals);
    zloop_destroy(&self->loop);
    free(self);
    *self_p = NULL;
}

int
corral_worker_add_plugin(corral_worker_t *self, const corral_plugin_t *plugin)
{
    return corral_plugin_host_add(self->plugins, plugin);
}

/* --- Joining the instance ------------------------------------------------- */

static int
env_int(const char *name, int fallback)
{
    const char *text = getenv(name);
    if (!text || !*text)
        return fallback;
    char *end;
    long value = strtol(text, &end, 10);
    return *end || value < 0 || value > INT32_MAX ? -1 : (int) value;
}

/* The listening socket on fd 3, unless this worker's type has
 * `http: false` (then it has none, and serves no HTTP). */
static int
check_listen_fd(const Corral__V1__WorkerConfig *config)
{
    if (config && config->without_http)
        return 0;
    if (env_int(CORRAL_ENV_LISTEN_FDS, 0) != 1 || env_int(CORRAL_ENV_LISTEN_PID, -1) != (int) getpid()) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER,
                   "no listening socket: corral-worker is started by corral "
                   "(LISTEN_FDS=1 and LISTEN_PID naming this process)");
        return -1;
    }
    return 0;
}

/* The secret the coordinator handed over on the descriptor named in
 * CORRAL_SECRET_FD (read to its end, then closed); empty without one. */
static void
read_secret(corral_worker_t *self)
{
    int fd = env_int(CORRAL_ENV_SECRET_FD, -1);
    if (fd < 0)
        return;
    size_t length = 0;
    ssize_t n;
    while (length < CORRAL_SECRET_LENGTH
           && ((n = read(fd, self->secret + length, CORRAL_SECRET_LENGTH - length)) > 0
               || (n < 0 && errno == EINTR)))
        length += n > 0 ? (size_t) n : 0;
    self->secret[length] = '\0';
    close(fd);
}

static Corral__V1__WorkerConfig *
read_classic_config(int fd)
{
    uint8_t buffer[64 * 1024];
    size_t length = 0;
    ssize_t n;
    while (length < sizeof buffer
           && (n = pread(fd, buffer + length, sizeof buffer - length, (off_t) length)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        length += (size_t) n;
    }
    close(fd);
    return corral__v1__worker_config__unpack(NULL, length, buffer);
}

/* Classic mode: this process writes its own appenders, line by line. */
static void
write_to_appenders(const corral_log_record_t *record, void *arg)
{
    corral_log_router_t *router = arg;
    corral_log_router_write(router, record);
    corral_log_router_flush(router);
}

/* Clustered: levels here, records to the coordinator. Classic: the
 * appenders run here. Until then, lines go to stderr. */
/* For status reports (see log_counters.h). */
static void
sample_pushed_logs(Corral__V1__LogCounters *counters, void *arg)
{
    counters->dropped = corral_log_pusher_dropped(arg);
}

static void
sample_written_logs(Corral__V1__LogCounters *counters, void *arg)
{
    counters->received = corral_log_last_seq();
    counters->dropped = corral_log_router_lines_lost(arg);
}

static int
setup_logging(corral_worker_t *self)
{
    if (!self->config->logging)
        return 0;       /* a coordinator that sends only log_level */
    corral_log_router_options_t options = { .with_appenders = !self->config->clustered,
                                            .clustered = self->config->clustered };
    char *error = NULL;
    self->log_router = corral_log_router_new(self->config->logging, &options, &error);
    if (!self->log_router) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "logging: %s", error ? error : "out of memory");
        free(error);
        return -1;
    }
    if (self->config->clustered && *self->config->logs_endpoint) {
        self->log_pusher = corral_log_pusher_new(self->loop, self->config->logs_endpoint,
                                                 (int) self->config->worker_id);
        if (!self->log_pusher) {
            corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot connect to %s",
                       self->config->logs_endpoint);
            return -1;
        }
        corral_log_pusher_set_secret(self->log_pusher, self->secret);
        corral_log_set_sink(corral_log_pusher_sink, self->log_pusher);
        corral_log_counters_set_source(sample_pushed_logs, self->log_pusher);
    }
    else if (!self->config->clustered) {
        corral_log_set_sink(write_to_appenders, self->log_router);
        corral_log_counters_set_source(sample_written_logs, self->log_router);
    }
    corral_log_set_levels(self->log_router);
    return 0;
}

/* SIGHUP in the coordinator: new levels (the appenders are its own). */
static void
apply_log_config(corral_worker_t *self, const Corral__V1__LogConfig *config)
{
    corral_log_router_options_t options = { .with_appenders = false, .clustered = true };
    char *error = NULL;
    corral_log_router_t *levels = corral_log_router_new(config, &options, &error);
    if (!levels) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "new log levels refused: %s", error);
        free(error);
        return;
    }
    corral_log_set_levels(levels);
    corral_log_router_destroy(&self->log_router);
    self->log_router = levels;
    corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "log levels changed");
}

static void
on_desk_envelope(const corral_envelope_t *envelope, void *arg)
{
    corral_worker_t *self = arg;
    if (envelope->body_case == CORRAL__V1__ENVELOPE__BODY_LOG_CONFIG)
        apply_log_config(self, envelope->log_config);
    else if (envelope->body_case == CORRAL__V1__ENVELOPE__BODY_REPORT_ACK && self->reporter)
        corral_reporter_take_ack(self->reporter, envelope->report_ack);
    else if (envelope->body_case == CORRAL__V1__ENVELOPE__BODY_CLUSTER_VIEW && self->reporter)
        corral_reporter_take_view(self->reporter, envelope->cluster_view);
    else if (envelope->body_case == CORRAL__V1__ENVELOPE__BODY_MAIN_ROLE && !self->stopping)
        corral_worker_set_main(self, envelope->main_role->main);
}

static int
join_instance(corral_worker_t *self)
{
    int worker_id = env_int(CORRAL_ENV_WORKER_ID, 1);
    const char *desk_endpoint = getenv(CORRAL_ENV_DESK);
    int config_fd = env_int(CORRAL_ENV_CONFIG_FD, -1);
    if (worker_id < 1 || (!desk_endpoint && config_fd < 0)) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER,
                   "corral-worker is started by corral: CORRAL_WORKER_ID and "
                   "CORRAL_DESK or CORRAL_CONFIG_FD are missing or invalid");
        return -1;
    }
    if (desk_endpoint) {
        self->coordinator_pid = getppid();
        read_secret(self);
        self->desk = corral_desk_client_new(desk_endpoint, worker_id);
        if (self->desk)
            corral_desk_client_set_secret(self->desk, self->secret);
        if (self->desk)
            self->welcome = corral_desk_client_hello(self->desk, WELCOME_TIMEOUT_MS);
        if (!self->welcome)
            return -1;
        self->config = self->welcome->welcome->config;
    }
    else {
        self->config = self->classic_config = read_classic_config(config_fd);
        if (!self->config) {
            corral_log(CORRAL_LEVEL_FATAL, LOGGER,
                       "cannot read the WorkerConfig on fd %d", config_fd);
            return -1;
        }
    }
    self->identity = (corral_identity_t) {
        .worker_id = (int) self->config->worker_id,
        .worker_name = self->config->worker_name,
        .pid = getpid(),
        .main = self->config->main,
        .clustered = self->config->clustered,
        .worker_count = (int) self->config->worker_count,
    };
    corral_level_t level = CORRAL_LEVEL_INFO;
    corral_level_parse(self->config->log_level, &level);
    corral_log_init(self->config->clustered ? self->config->worker_name : NULL, level, 2);
    corral_log_set_worker_id(self->config->clustered ? (int) self->config->worker_id : 0);
    return setup_logging(self);
}

/* The node service: on the bus when clustered, its loopback in classic mode. */
static int
start_node_service(corral_worker_t *self)
{
    char private_id[32];
    /* one per process, not per slot: a replacement must not take the
     * persisted messages of the process it replaces for its own */
    snprintf(private_id, sizeof private_id, "w%07ug%07u", self->config->worker_id % 10000000,
             self->config->generation % 10000000);
    corral_node_params_t params = {
        .worker_id = (int) self->config->worker_id,
        .main = self->config->main,
        .clustered = self->config->clustered,
        .instance_uuid = self->config->instance_uuid,
        .bus_in = self->config->bus_in_endpoint,
        .bus_out = self->config->bus_out_endpoint,
        .private_id = private_id,
        .data_dir = *self->config->worker_data_dir ? self->config->worker_data_dir : NULL,
    };
    self->node = corral_node_service_new(self->loop, &params);
    if (!self->node) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot start the node service");
        return -1;
    }
    corral_plugin_host_join(self->plugins, self->config, self->node);
    return 0;
}

/* The coordinator moved the main role (main_role.h). */
void
corral_worker_set_main(corral_worker_t *self, bool main)
{
    if (self->identity.main == main || !self->identity.clustered)
        return;
    self->identity.main = main;
    if (self->node)
        corral_node_service_set_main(self->node, main);
    corral_plugin_host_set_main(self->plugins, main);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "%s the main role", main ? "took" : "gave up");
}

/* --- Stopping ------------------------------------------------------------- */

/* Our parent is the coordinator until it dies and we are reparented. */
static bool
coordinator_alive(const corral_worker_t *self)
{
    return getppid() == self->coordinator_pid;
}

static int
end_loop(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

static void
on_drained(void *arg)
{
    corral_worker_t *self = arg;
    /* called from inside the HTTP server's handlers: end the loop from a
     * handler of our own */
    zloop_timer(self->loop, 0, 1, end_loop, self);
}

static int
on_stop_deadline(zloop_t *loop, int timer_id, void *arg)
{
    corral_worker_t *self = arg;
    corral_log(CORRAL_LEVEL_WARN, LOGGER,
               "%zu requests still in flight at the shutdown timeout; closing them",
               corral_http_server_in_flight(self->http));
    return -1;
}

/* How long the records still queued may take to leave at exit: within
 * the shutdown timeout, which bounds the instance's whole stop. */
static int
log_flush_budget(const corral_worker_t *self)
{
    if (!self->stopping)
        return LOG_FLUSH_MS;
    int64_t left = self->stop_deadline - STOP_MARGIN_MS / 5 - zclock_mono();
    return left <= 0 ? 1 : left < LOG_FLUSH_MS ? (int) left : LOG_FLUSH_MS;
}

static void
begin_stop(corral_worker_t *self, const char *why)
{
    if (self->stopping)
        return;
    self->stopping = true;
    self->stop_deadline = zclock_mono() + (int64_t) self->config->shutdown_timeout_ms;
    /* give up a little before the coordinator's own deadline, to leave
     * time to close connections and say Bye */
    uint64_t timeout_ms = self->config->shutdown_timeout_ms;
    timeout_ms -= timeout_ms / 10 < STOP_MARGIN_MS ? timeout_ms / 10 : STOP_MARGIN_MS;
    bool orphaned = self->desk && !coordinator_alive(self);
    if (orphaned && timeout_ms > ORPHAN_DRAIN_MS)
        timeout_ms = ORPHAN_DRAIN_MS;
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "stopping (%s%s): %zu requests in flight",
               why, orphaned ? ", the coordinator is gone" : "",
               corral_http_server_in_flight(self->http));
    zloop_timer(self->loop, (size_t) timeout_ms, 1, on_stop_deadline, self);
    corral_reporter_set_core(self->reporter, "http", CORRAL_STATUS_DEGRADED,
                             "stopping: not accepting new connections");
    corral_http_server_drain(self->http, on_drained, self);
}

static int
on_signal(int signal_number, void *arg)
{
    corral_worker_t *self = arg;
    if (signal_number == SIGUSR1 && self->log_router && !self->config->clustered) {
        corral_log_router_reopen(self->log_router);
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "SIGUSR1: log files reopened");
    }
    else if (signal_number == SIGUSR1 || signal_number == SIGHUP)
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "SIG%s: nothing to do in %s",
                   sigabbrev_np(signal_number),
                   self->config->clustered ? "a clustered worker (signal the coordinator)"
                                           : "classic mode (restart to apply a new config)");
    else
        begin_stop(self, strsignal(signal_number));
    return 0;
}

static int
watch_signals(corral_worker_t *self)
{
    signal(SIGPIPE, SIG_IGN);
    static const int signals[] = { SIGTERM, SIGINT, SIGUSR1, SIGHUP };
    self->signals = corral_signals_new(self->loop, signals, 4, on_signal, self);
    return self->signals ? 0 : -1;
}

/* --- Running -------------------------------------------------------------- */

/* Classic mode: this process is the instance (corral exec'd into it). */
static void
announce_standalone(corral_worker_t *self)
{
    char status[256];
    snprintf(status, sizeof status, "READY=1\nSTATUS=serving http://%s:%u (classic mode)",
             self->config->server_host, self->config->server_port);
    corral_notify(status);
    corral_log(CORRAL_LEVEL_INFO, "server", "serving http://%s:%u (classic mode, pid %d)",
               self->config->server_host, self->config->server_port, (int) getpid());
}

static int
accept_connections(corral_worker_t *self)
{
    if (self->config->without_http)
        return 0;       /* its routes exist, but no socket brings requests */
    if (corral_http_server_start(self->http) != 0)
        return -1;
    self->accepting = true;
    return 0;
}

/* A replacement (generation 2 on) takes connections only once it is
 * ready: the workers that serve meanwhile answer them, and nobody gets
 * the 503 of a worker still waiting for migration-complete. The first
 * processes of an instance accept at once (nothing else serves yet),
 * unless another coordinator's workers serve meanwhile (an upgrade). */
static bool
accepts_when_ready(const corral_worker_t *self)
{
    return self->desk && (self->config->generation > 1 || self->config->accept_when_ready);
}

static void report_ready(void *arg);

/* Ready means every broadcast sent from now on reaches us: a worker that
 * said so before its first bus snapshot would drop the live ones. */
static void
report_ready_when_synced(void *arg)
{
    corral_worker_t *self = arg;
    if (self->node)
        corral_node_service_when_synced(self->node, report_ready, self);
    else
        report_ready(self);
}

/* Serving, and no plugin holds us back (migrations), and the bus is in
 * sync: tell who waits. */
static void
report_ready(void *arg)
{
    corral_worker_t *self = arg;
    if (!self->started || self->stopping)
        return;
    if (!self->accepting && accept_connections(self) != 0) {
        begin_stop(self, "the HTTP server would not start");
        return;
    }
    if (self->desk && corral_desk_client_ready(self->desk) != 0)
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "cannot tell the coordinator we are ready");
    if (!self->desk)
        announce_standalone(self);
}

static int
start_reporter(corral_worker_t *self)
{
    corral_reporter_setup_t setup = {
        .loop = self->loop, .config = self->config, .http = self->http,
        .plugins = self->plugins, .desk = self->desk,
    };
    self->reporter = corral_reporter_new(&setup);
    if (!self->reporter)
        return -1;
    corral_plugin_host_set_reporter(self->plugins, self->reporter);
    corral_reporter_set_core(self->reporter, "http", CORRAL_STATUS_UNAVAILABLE, "starting");
    return 0;
}

/* server.limits from the WorkerConfig onto the HTTP server's struct, field
 * for field (none sent: every default). */
static corral_http_limits_t
limits_of(const Corral__V1__HttpLimits *sent)
{
    if (!sent)
        return (corral_http_limits_t) { 0 };
    return (corral_http_limits_t) {
        .max_connections = sent->max_connections,
        .max_connections_per_ip = sent->max_connections_per_ip,
        .header_timeout_ms = sent->header_timeout_ms,
        .idle_timeout_ms = sent->idle_timeout_ms,
        .keepalive_requests = sent->keepalive_requests,
        .keepalive_time_ms = sent->keepalive_time_ms,
    };
}

/* Everything up to running the loop. */
static int
begin_serving(corral_worker_t *self)
{
    /* without HTTP, fd 3 is not ours to close at the stop (ZeroMQ may hold it) */
    self->http = corral_http_server_new(self->loop,
                                        self->config->without_http ? -1 : CORRAL_LISTEN_FDS_START,
                                        self->identity.worker_name);
    if (self->http) {
        corral_http_limits_t limits = limits_of(self->config->limits);
        corral_http_server_set_limits(self->http, &limits);
    }
    corral_plugin_host_on_released(self->plugins, report_ready_when_synced, self);
    if (!self->http || corral_access_log_attach(self->http) != 0
        || start_reporter(self) != 0 || start_node_service(self) != 0
        || (self->desk && corral_desk_client_listen(self->desk, self->loop, on_desk_envelope,
                                                    self) != 0)
        || corral_plugin_host_setup(self->plugins, self->http) != 0
        || (!accepts_when_ready(self) && accept_connections(self) != 0)
        || corral_plugin_host_start(self->plugins) != 0)
        return -1;
    corral_reporter_set_core(self->reporter, "http", CORRAL_STATUS_AVAILABLE,
                             self->config->without_http ? "no HTTP (http: false)" : "serving");
    if (corral_reporter_start(self->reporter) != 0)
        return -1;
    self->started = true;
    if (!corral_plugin_host_held(self->plugins))
        report_ready_when_synced(self);
    if (self->config->without_http)
        corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "running without HTTP (pid %d)", (int) getpid());
    else
        corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "serving on fd %d (pid %d)",
                   CORRAL_LISTEN_FDS_START, (int) getpid());
    return 0;
}

/* Joins the instance and serves. Returns 0; -1 when serving failed (the
 * stop path is still due); or an exit status when there is nothing to
 * stop. */
static int
start(corral_worker_t *self)
{
    if (!getenv(CORRAL_ENV_DESK) && check_listen_fd(NULL) != 0)
        return 1;       /* classic mode: the socket is a must */
    if (join_instance(self) != 0)   /* versions that differ are a configuration error */
        return self->desk && corral_desk_client_refused(self->desk) ? CORRAL_WORKER_EXIT_CONFIG
                                                                 : CORRAL_WORKER_EXIT_FAILED;
    if (check_listen_fd(self->config) != 0)
        return 1;
    if (watch_signals(self) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot watch signals: %s", strerror(errno));
        return 1;
    }
    return begin_serving(self) == 0 ? 0 : -1;
}

static int finish(corral_worker_t *self, int exit_code);

int
corral_worker_run(corral_worker_t *self)
{
    int started = start(self);
    if (started > 0)
        return started;
    if (started == 0)
        zloop_start(self->loop);
    return finish(self, started == 0 ? 0 : corral_plugin_host_exit_code(self->plugins));
}

/* --- Driven by the program's own event loop --------------------------------- */

static int
watch_externally(corral_worker_t *self)
{
    self->external = corral_external_loop_new(self->loop);
    if (!self->external)
        return -1;
    zloop_set_nonstop(self->loop, true);    /* a signal of the program's is no reason to stop */
    corral_bus_client_t *bus = corral_node_service_bus(self->node);
    if ((!self->config->without_http
         && corral_external_loop_watch_fd(self->external, corral_http_server_fd(self->http)) != 0)
        || corral_external_loop_watch_fd(self->external, corral_signals_fd(self->signals)) != 0
        || (self->desk && corral_external_loop_watch_socket(
                              self->external, corral_desk_client_socket(self->desk)) != 0)
        || (bus && corral_external_loop_watch_socket(self->external,
                                                     corral_bus_client_socket(bus)) != 0))
        return -1;
    return 0;
}

int
corral_worker_start(corral_worker_t *self)
{
    int started = start(self);
    if (started > 0)
        return started;
    if (started < 0 || watch_externally(self) != 0)
        return finish(self, 1);
    return 0;
}

int
corral_worker_watch_fd(corral_worker_t *self, int fd)
{
    return self->external ? corral_external_loop_watch_fd(self->external, fd) : -1;
}

int
corral_worker_watch_socket(corral_worker_t *self, void *socket)
{
    return self->external ? corral_external_loop_watch_socket(self->external, socket) : -1;
}

int
corral_worker_fd(const corral_worker_t *self)
{
    return self->external ? corral_external_loop_fd(self->external) : -1;
}

int
corral_worker_timeout_ms(const corral_worker_t *self)
{
    return self->external ? corral_external_loop_timeout_ms(self->external) : -1;
}

int
corral_worker_process(corral_worker_t *self)
{
    if (!self->external || self->finished)
        return 1;
    return corral_external_loop_process(self->external);
}

void
corral_worker_stop(corral_worker_t *self)
{
    if (self->started)
        begin_stop(self, "asked by the program");
}

int
corral_worker_finish(corral_worker_t *self)
{
    return self->finished ? self->exit_code : finish(self, 0);
}

/* --- The end ------------------------------------------------------------------ */

/* After the loop: stop the plugins and the server, flush the logs, say
 * Bye. Returns the exit status. */
static int
finish(corral_worker_t *self, int exit_code)
{
    self->finished = true;
    self->exit_code = exit_code;
    corral_plugin_host_stop(self->plugins);
    corral_http_server_destroy(&self->http);   /* closes idle keep-alive connections */
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "stopped");
    if (self->desk && coordinator_alive(self)) {
        int flush_ms = log_flush_budget(self);
        if (self->log_pusher && corral_log_pusher_flush(self->log_pusher, flush_ms) != 0)
            dprintf(2, "[corral][WARN ][node] %s: log records still queued at exit\n",
                    self->identity.worker_name);
        self->log_linger_ms = flush_ms;
        corral_desk_client_bye(self->desk, corral_log_last_seq(), exit_code);
    }
    else if (self->desk)
        corral_desk_client_abandon(self->desk);
    if (!self->config->clustered && *self->config->pid_file)
        unlink(self->config->pid_file);
    corral_log_set_sink(NULL, NULL);
    return exit_code;
}
