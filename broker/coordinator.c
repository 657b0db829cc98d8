/* coordinator.c: the clustered instance's life, and its event loop.
 *
 * It owns the runtime directory, the instance UUID, the `desk` ROUTER
 * (its workers' side is coordinator_desk.c, its tools' desk_tools.c), the
 * bus (bus.c) it hands to the workers, the log collector, and the signals
 * (through one signalfd): SIGTERM and SIGINT stop gracefully, SIGCHLD
 * reaps, SIGHUP reloads (coordinator_reload.c), SIGUSR2 upgrades the
 * binary (upgrade.c). The life of the worker slots (when to start,
 * restart, kill or replace a worker, who is main) is the supervisor's
 * (supervisor.c): the coordinator tells it what happened and does what it
 * asks (coordinator_workers.c). Tools' commands: coordinator_tools.c. */
#include "coordinator.h"
#include "coordinator_private.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_quota.h"
#include "fsutil.h"
#include "instance_uuid.h"
#include "log.h"
#include "log_counters.h"
#include "logging_control.h"
#include "notify.h"
#include "spawn.h"

#define LOGGER "coordinator"
#define DRAIN_GRACE_MS 250          /* after the shutdown timeout, at most, for the
                                     * records the last workers sent before dying */
#define UPGRADE_LOG_HOLD_BYTES (64u << 20)  /* records held while the predecessor writes */
#define UPGRADE_SETTLE_CHECK_MS 5   /* handed over: are accepted connections with workers? */
#define UPGRADE_SETTLE_MS 2000      /* at most that long */

corral_coordinator_t *
corral_coordinator_new(const corral_config_t *config, corral_listener_t *listener,
                       corral_worker_slots_t *slots)
{
    corral_coordinator_t *self = calloc(1, sizeof *self);
    if (!self) {
        corral_worker_slots_clear(slots);
        return NULL;
    }
    self->config = config;
    self->listener = listener;
    self->worker_program = corral_spawn_default_program();
    self->config_generation = 1;
    self->plan = *slots;
    *slots = (corral_worker_slots_t) { NULL, 0, 0 };
    int worker_count = self->plan.slot_count;
    int reserved = corral_coordinator_reserve_slots(self, worker_count);
    for (int i = 0; reserved == 0 && i < worker_count; i++)
        corral_coordinator_assign(self, self->slots[i], config, &self->plan.specs[i],
                                  worker_count, 1);
    self->slot_count = worker_count;
    self->loop = zloop_new();
    if (self->loop)
        self->view = corral_cluster_view_new(self->loop, worker_count,
                                             config->node.status.interval_ms,
                                             config->node.workers.heartbeat_timeout_ms,
                                             corral_cpu_quota("/"));
    self->desk_input = corral_desk_input_new();
    if (reserved != 0 || !self->loop || !self->view || !self->worker_program || !self->desk_input
        || corral_coordinator_start_supervisor(self) != 0
        || !(self->reloads = corral_reload_state_new(self)))
        corral_coordinator_destroy(&self);
    return self;
}

int
corral_coordinator_reserve_slots(corral_coordinator_t *self, int count)
{
    if (count <= self->slot_capacity)
        return 0;
    slot_t **slots = realloc(self->slots, (size_t) count * sizeof *slots);
    if (!slots)
        return -1;
    self->slots = slots;
    for (; self->slot_capacity < count; self->slot_capacity++) {
        slot_t *slot = calloc(1, sizeof *slot);
        if (!slot)
            return -1;
        slot->id = self->slot_capacity + 1;
        slots[self->slot_capacity] = slot;
    }
    return 0;
}

void
corral_coordinator_destroy(corral_coordinator_t **self_p)
{
    corral_coordinator_t *self = *self_p;
    if (!self)
        return;
    corral_signals_destroy(&self->signals);     /* before the loop it polls in */
    corral_reload_state_destroy(&self->reloads);      /* and the configuration it loaded */
    if (self->upgrade)
        corral_upgrade_detach(self->upgrade);
    corral_operator_destroy(&self->operator);
    corral_supervisor_destroy(&self->supervisor);
    corral_oom_kills_destroy(&self->oom_kills);
    corral_balancer_destroy(&self->balancer);
    corral_cluster_view_destroy(&self->view);
    corral_bus_destroy(&self->bus);
    corral_log_counters_set_source(NULL, NULL);
    corral_log_collector_destroy(&self->logs);
    corral_log_router_destroy(&self->log_router);
    if (self->reloaded_log_config)
        corral__v1__log_config__free_unpacked(self->reloaded_log_config, NULL);
    zloop_destroy(&self->loop);
    zsock_destroy(&self->desk);
    corral_desk_input_destroy(&self->desk_input);
    free(self->instance_uuid);
    corral_runtime_dir_destroy(&self->runtime);
    free(self->desk_endpoint);
    free(self->worker_program);
    for (int i = 0; i < self->slot_capacity; i++)
        free(self->slots[i]);
    free(self->slots);
    corral_worker_slots_clear(&self->plan);
    free(self);
    *self_p = NULL;
}

void
corral_coordinator_set_upgrade(corral_coordinator_t *self, corral_upgrade_t *upgrade)
{
    self->upgrade = upgrade;
}

void
corral_coordinator_set_log_router(corral_coordinator_t *self, corral_log_router_t *router)
{
    corral_log_router_destroy(&self->log_router);
    self->log_router = router;
}

slot_t *
corral_coordinator_slot(corral_coordinator_t *self, uint32_t id)
{
    return id >= 1 && id <= (uint32_t) self->slot_capacity ? self->slots[id - 1] : NULL;
}

/* --- Stopping --------------------------------------------------------------- */

static int
end_loop(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

void
corral_coordinator_begin_stop(corral_coordinator_t *self, int exit_code, const char *why)
{
    if (exit_code > self->exit_code)
        self->exit_code = exit_code;
    if (self->stopping)
        return;
    self->stopping = true;
    corral_upgrade_cancel(self->upgrade);
    if (!corral_upgrade_handed_over(self->upgrade))
        corral_notify("STOPPING=1");
    corral_reload_state_abort(self->reloads);
    /* no process accepts again: a new connection is refused at once rather
     * than left in the backlog until the last worker exits (not the
     * sockets another coordinator serves on: corral_listener_keep) */
    corral_listener_shut(self->listener);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "stopping %d workers (%s)",
               corral_supervisor_live(self->supervisor), why);
    corral_supervisor_stop(self->supervisor);
    if (corral_supervisor_live(self->supervisor) == 0)
        zloop_timer(self->loop, 0, 1, end_loop, self);     /* nothing left to reap */
    /* the log drains end a little after the shutdown timeout, so that the
     * records of the last workers are written too, and no later */
    uint64_t timeout_ms = self->config->node.shutdown_timeout_ms;
    uint64_t grace_ms = timeout_ms / 20 < DRAIN_GRACE_MS ? timeout_ms / 20 : DRAIN_GRACE_MS;
    if (self->logs)
        corral_log_collector_set_deadline(self->logs,
                                          zclock_mono() + (int64_t) (timeout_ms + grace_ms));
}

/* --- Binary upgrade (upgrade.h) ------------------------------------------------ */

static int
stop_once_settled(zloop_t *loop, int timer_id, void *arg)
{
    corral_coordinator_t *self = arg;
    if (self->balancer && !corral_balancer_settled(self->balancer)
        && zclock_mono() < self->handed_over_at + UPGRADE_SETTLE_MS)
        return 0;
    zloop_timer_end(loop, timer_id);
    corral_coordinator_begin_stop(self, 0, "upgraded: the new coordinator serves");
    return 0;
}

/* The predecessor: the successor serves now; the sockets it shares are
 * left listening, and this instance stops once the connections it
 * accepted are with its workers. */
static void
successor_ready(void *arg, pid_t pid)
{
    corral_coordinator_t *self = arg;
    corral_tap_event(self->tap, "upgrade", 0, NULL, pid, "the new coordinator (pid %d) serves; "
                     "this one stops", (int) pid);
    corral_listener_keep(self->listener, INT_MAX);
    if (self->balancer)
        corral_balancer_hand_over(self->balancer);
    self->handed_over_at = zclock_mono();
    if (zloop_timer(self->loop, UPGRADE_SETTLE_CHECK_MS, 0, stop_once_settled, self) < 0)
        corral_coordinator_begin_stop(self, 0, "upgraded: the new coordinator serves");
}

/* The successor: the log files are ours to write. */
static void
predecessor_gone(void *arg)
{
    corral_coordinator_t *self = arg;
    if (self->logs)
        corral_log_collector_release(self->logs);
}

static char *
publish_endpoints(void *arg)
{
    corral_coordinator_t *self = arg;
    return corral_operator_write_endpoints(self->operator);
}

/* The successor, all its workers ready: it serves and says so, or, if it
 * cannot publish its address, leaves the instance to its predecessor. */
void
corral_coordinator_upgrade_taken_over(corral_coordinator_t *self)
{
    if (corral_upgrade_take_over(self->upgrade, publish_endpoints, self) != 0)
        corral_coordinator_begin_stop(self, 1, "upgrade failed: it could not take over");
}

static int
watch_upgrade(corral_coordinator_t *self)
{
    static const corral_upgrade_ops_t ops = {
        .successor_ready = successor_ready, .predecessor_gone = predecessor_gone,
    };
    return self->upgrade ? corral_upgrade_attach(self->upgrade, self->loop, &ops, self) : 0;
}

/* --- Signals and the loop ----------------------------------------------------- */

/* SIGUSR2, unless something this instance runs cannot be handed over.
 * node.remote's TCP endpoints cannot: a ZeroMQ socket's listening
 * descriptor is its context's, and the successor cannot bind them while
 * this coordinator holds them; refused up front (docs/upgrade.md), so
 * that no new coordinator is started only to fail. */
static void
begin_upgrade(corral_coordinator_t *self)
{
    char refused[400] = "";
    const char *remote = corral_operator_remote_desk(self->operator);
    if (corral_reload_state_running(self->reloads))
        snprintf(refused, sizeof refused, "SIGUSR2 ignored: a reload is in progress");
    else if (remote)
        snprintf(refused, sizeof refused, "SIGUSR2 refused: node.remote is bound (desk at %s, "
                 "tap and bus-out beside it), and a new coordinator cannot bind its TCP "
                 "endpoints while this one holds them; this coordinator keeps serving (to run "
                 "a new binary with node.remote, restart the instance)", remote);
    if (refused[0]) {
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "%s", refused);
        corral_tap_event(self->tap, "upgrade", 0, NULL, 0, "%s", refused);
        return;
    }
    corral_upgrade_begin(self->upgrade, self->listener, self->bus, self->stopping,
                         self->config->node.reload.ready_timeout_ms);
    corral_tap_event(self->tap, "upgrade", 0, NULL, 0, "SIGUSR2");
}

static int
on_signal(int signal_number, void *arg)
{
    corral_coordinator_t *self = arg;
    if (signal_number == SIGCHLD)
        corral_coordinator_reap_workers(self);
    else if (signal_number == SIGTERM || signal_number == SIGINT)
        corral_coordinator_begin_stop(self, 0, strsignal(signal_number));
    else if (signal_number == SIGUSR1 && self->logs)
        corral_logging_reopen(self->logs);
    else if (signal_number == SIGHUP)
        corral_coordinator_reload(self, NULL, NULL);
    else if (signal_number == SIGUSR2 && self->upgrade)
        begin_upgrade(self);
    else
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "SIG%s: nothing to do yet",
                   sigabbrev_np(signal_number));
    return self->stopping && corral_supervisor_live(self->supervisor) == 0 ? -1 : 0;
}

static int
watch_signals(corral_coordinator_t *self)
{
    static const int signals[] = { SIGTERM, SIGINT, SIGCHLD, SIGHUP, SIGUSR1, SIGUSR2 };
    self->signals = corral_signals_new(self->loop, signals,
                                       sizeof signals / sizeof signals[0], on_signal, self);
    return self->signals ? 0 : -1;
}

static int
bind_desk(corral_coordinator_t *self)
{
    self->desk_endpoint = corral_format("ipc://%s/desk", self->runtime_dir);
    self->desk = zsock_new(ZMQ_ROUTER);
    if (!self->desk || !self->desk_endpoint)
        return -1;
    zsock_set_maxmsgsize(self->desk, CORRAL_MAX_TRANSPORT_BYTES);   /* larger: counted */
    zsock_set_router_handover(self->desk, 1);
    if (zsock_bind(self->desk, "%s", self->desk_endpoint) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot bind desk at %s: %s",
                   self->desk_endpoint, zmq_strerror(zmq_errno()));
        return -1;
    }
    corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "desk at %s", self->desk_endpoint);
    return zloop_reader(self->loop, self->desk, corral_coordinator_on_desk, self);
}

/* The instance UUID, and the runtime directory named after it. */
static int
make_runtime_dir(corral_coordinator_t *self)
{
    char *error = NULL;
    self->instance_uuid = corral_instance_uuid_load(self->config->path.data, &error);
    char *name = self->instance_uuid ? corral_upgrade_runtime_name(self->upgrade,
                                                                   self->instance_uuid) : NULL;
    if (name)
        self->runtime = corral_runtime_dir_new(name, &error);
    free(name);
    if (!self->runtime) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s", error ? error : "out of memory");
        free(error);
        return -1;
    }
    self->runtime_dir = corral_runtime_dir_path(self->runtime);
    return 0;
}

/* The bus, handed to every worker. */
static int
start_node_service(corral_coordinator_t *self)
{
    self->bus = corral_bus_new(self->loop, self->runtime_dir,
                               self->config->node.bus.max_persisted_bytes);
    if (!self->bus)
        return -1;
    corral_upgrade_seed_bus(self->upgrade, self->bus);
    return 0;
}

/* For status reports: what reached this process, and what was lost
 * after leaving a worker (each worker counts what it could not send). */
static void
sample_log_counters(Corral__V1__LogCounters *counters, void *arg)
{
    corral_log_collector_sample(arg, counters);
}

static int
bind_logs(corral_coordinator_t *self)
{
    if (!self->log_router)
        return 0;       /* records stay on stderr */
    self->logs = corral_log_collector_new(self->loop, self->runtime_dir, self->slot_count,
                                          self->log_router);
    self->log_router = NULL;
    if (!self->logs)
        return -1;
    if (corral_upgrade_predecessor_alive(self->upgrade))
        corral_log_collector_hold(self->logs, UPGRADE_LOG_HOLD_BYTES);
    for (int i = 0; i < self->slot_count; i++)
        corral_log_collector_name_worker(self->logs, i + 1, self->slots[i]->spec.name);
    corral_log_counters_set_source(sample_log_counters, self->logs);
    return 0;
}

/* The tap, the tools' side of desk, node.remote, endpoints.json. */
static int
start_operator(corral_coordinator_t *self)
{
    corral_operator_setup_t setup = {
        .loop = self->loop, .config = self->config, .uuid = self->instance_uuid,
        .runtime_dir = self->runtime_dir, .desk_endpoint = self->desk_endpoint,
        .port = corral_listener_port(self->listener), .bus = self->bus, .logs = self->logs,
        .view = self->view,
        .hold_endpoints = corral_upgrade_is_successor(self->upgrade),
        .tools = { .view = corral_coordinator_tool_view,
                   .config_json = corral_coordinator_effective_config,
                   .command = corral_coordinator_run_tool_command, .arg = self },
    };
    self->operator = corral_operator_new(&setup);
    self->tap = corral_operator_tap(self->operator);
    self->tools = corral_operator_tools(self->operator);
    return self->operator ? 0 : -1;
}

int
corral_coordinator_run(corral_coordinator_t *self)
{
    if (watch_signals(self) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot watch signals: %s", strerror(errno));
        return 1;
    }
    if (make_runtime_dir(self) != 0 || bind_desk(self) != 0 || start_node_service(self) != 0
        || bind_logs(self) != 0 || corral_coordinator_start_balancer(self) != 0
        || start_operator(self) != 0 || watch_upgrade(self) != 0
        || corral_coordinator_watch_main(self) != 0)
        return 1;
    corral_log(CORRAL_LEVEL_INFO, LOGGER,
               "listening on http://%s:%d (balancing: %s); starting %d workers",
               self->config->server.host, corral_listener_port(self->listener),
               self->config->server.balancing == CORRAL_BALANCING_REUSEPORT
                   ? "reuseport" : "shared",
               self->slot_count);
    corral_supervisor_start(self->supervisor);
    if (!self->stopping || corral_supervisor_live(self->supervisor) > 0)
        zloop_start(self->loop);
    corral_upgrade_send_late_store(self->upgrade, self->bus);
    char restarts[160];
    corral_supervisor_describe_restarts(self->supervisor, restarts, sizeof restarts);
    if (self->exit_code == 0)
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "stopped (restarts: %s)", restarts);
    else
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "stopped with status %d (restarts: %s)",
                   self->exit_code, restarts);
    return self->exit_code;
}
