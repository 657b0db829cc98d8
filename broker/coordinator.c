/* coordinator.c: the clustered instance's event loop.
 *
 * It owns the worker slots (spawn, Hello/Welcome, Ready, Bye, reaping),
 * the `desk` ROUTER, the runtime directory, the instance UUID and the bus
 * (bus.c) it hands to the workers, and the signals (through one
 * signalfd): SIGTERM and SIGINT stop gracefully, SIGCHLD reaps. Policy
 * `never` (the RFC's first phase): a worker that exits unexpectedly stops
 * the whole instance with a non-zero status. */
#include "coordinator.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster_view.h"
#include "cpu_quota.h"
#include "bus.h"
#include "envelope.h"
#include "fsutil.h"
#include "instance_uuid.h"
#include "log.h"
#include "log_collector.h"
#include "log_counters.h"
#include "logging_control.h"
#include "loop_delay.h"
#include "corral/notify.h"
#include "corral/signals.h"
#include "runtime_dir.h"
#include "spawn.h"
#include "worker_config.h"

#define LOGGER "coordinator"
#define DROP_LOG_INTERVAL_MS 10000
#define LOG_DRAIN_MS 5000           /* for a worker's records up to its Bye */
#define SPAWN_BATCH 32              /* workers that exec at once */
#define DESK_BATCH 256              /* desk messages read in one turn */

typedef enum {
    SLOT_EMPTY,         /* not started, or reaped */
    SLOT_STARTING,      /* spawned, not Ready yet */
    SLOT_READY,         /* serving */
} slot_state_t;

typedef struct {
    int id;
    corral_worker_config_t config;
    pid_t pid;
    slot_state_t state;
    bool said_bye;
    uint64_t last_log_seq;  /* from its Bye */
    zframe_t *desk_peer;    /* the routing id its Hello came from */
} slot_t;

struct corral_coordinator {
    const corral_config_t *config;
    corral_listener_t *listener;
    char *worker_program;
    zloop_t *loop;
    char *runtime_dir;
    char *desk_endpoint;
    zsock_t *desk;
    corral_cluster_view_t *view;
    corral_bus_t *bus;
    char *instance_uuid;
    slot_t *slots;
    int slot_count;
    int spawned;                /* slots started so far, in order */
    corral_signals_t *signals;
    corral_log_router_t *log_router;        /* until the collector takes it */
    corral_log_collector_t *logs;
    Corral__V1__LogConfig *reloaded_log_config;
    bool stopping;
    bool announced_ready;
    bool killed_stragglers;
    int exit_code;
    uint64_t desk_dropped;
    int64_t desk_dropped_logged_at;
};

corral_coordinator_t *
corral_coordinator_new(const corral_config_t *config, corral_listener_t *listener,
                       int worker_count, const char *worker_program)
{
    corral_coordinator_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    self->listener = listener;
    self->worker_program = strdup(worker_program);
    self->slot_count = worker_count;
    self->slots = calloc((size_t) worker_count, sizeof *self->slots);
    for (int i = 0; self->slots && i < worker_count; i++) {
        self->slots[i].id = i + 1;
        corral_worker_config_init(&self->slots[i].config, config, i + 1, worker_count,
                                  corral_listener_port(listener), true);
    }
    self->loop = zloop_new();
    if (self->loop)
        self->view = corral_cluster_view_new(self->loop, worker_count,
                                             config->node.status.interval_ms,
                                             config->node.workers.heartbeat_timeout_ms,
                                             corral_cpu_quota("/"));
    if (!self->slots || !self->loop || !self->view || !self->worker_program)
        corral_coordinator_destroy(&self);
    return self;
}

void
corral_coordinator_destroy(corral_coordinator_t **self_p)
{
    corral_coordinator_t *self = *self_p;
    if (!self)
        return;
    corral_signals_destroy(&self->signals);     /* before the loop it polls in */
    corral_cluster_view_destroy(&self->view);
    corral_bus_destroy(&self->bus);
    corral_log_counters_set_source(NULL, NULL);
    corral_log_collector_destroy(&self->logs);
    corral_log_router_destroy(&self->log_router);
    if (self->reloaded_log_config)
        corral__v1__log_config__free_unpacked(self->reloaded_log_config, NULL);
    zloop_destroy(&self->loop);
    zsock_destroy(&self->desk);
    free(self->instance_uuid);
    if (self->runtime_dir)
        corral_runtime_dir_remove(self->runtime_dir);
    free(self->runtime_dir);
    free(self->desk_endpoint);
    free(self->worker_program);
    for (int i = 0; self->slots && i < self->slot_count; i++)
        zframe_destroy(&self->slots[i].desk_peer);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

void
corral_coordinator_set_log_router(corral_coordinator_t *self, corral_log_router_t *router)
{
    corral_log_router_destroy(&self->log_router);
    self->log_router = router;
}

static slot_t *
slot_by_pid(corral_coordinator_t *self, pid_t pid)
{
    for (int i = 0; i < self->slot_count; i++)
        if (self->slots[i].pid == pid && self->slots[i].state != SLOT_EMPTY)
            return &self->slots[i];
    return NULL;
}

static slot_t *
slot_by_id(corral_coordinator_t *self, uint32_t id)
{
    return id >= 1 && id <= (uint32_t) self->slot_count ? &self->slots[id - 1] : NULL;
}

static int
live_workers(const corral_coordinator_t *self)
{
    int live = 0;
    for (int i = 0; i < self->slot_count; i++)
        live += self->slots[i].state != SLOT_EMPTY;
    return live;
}

static void
signal_workers(corral_coordinator_t *self, int signal_number)
{
    for (int i = 0; i < self->slot_count; i++)
        if (self->slots[i].state != SLOT_EMPTY)
            kill(self->slots[i].pid, signal_number);
}

/* --- Stopping --------------------------------------------------------------- */

static int
on_shutdown_timeout(zloop_t *loop, int timer_id, void *arg)
{
    corral_coordinator_t *self = arg;
    for (int i = 0; i < self->slot_count; i++)
        if (self->slots[i].state != SLOT_EMPTY)
            corral_log(CORRAL_LEVEL_WARN, LOGGER,
                       "%s (pid %d) still running after the shutdown timeout; killing it",
                       self->slots[i].config.name, (int) self->slots[i].pid);
    self->killed_stragglers = true;
    signal_workers(self, SIGKILL);
    return 0;
}

static void
begin_stop(corral_coordinator_t *self, int exit_code, const char *why)
{
    if (exit_code > self->exit_code)
        self->exit_code = exit_code;
    if (self->stopping)
        return;
    self->stopping = true;
    corral_notify("STOPPING=1");
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "stopping %d workers (%s)",
               live_workers(self), why);
    signal_workers(self, SIGTERM);
    zloop_timer(self->loop, (size_t) self->config->node.shutdown_timeout_ms, 1,
                on_shutdown_timeout, self);
}

/* --- desk ------------------------------------------------------------------- */

static void
count_dropped(corral_coordinator_t *self, const char *what)
{
    self->desk_dropped++;
    int64_t now = zclock_mono();
    if (self->desk_dropped == 1 || now - self->desk_dropped_logged_at >= DROP_LOG_INTERVAL_MS) {
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "desk: dropped %s (%llu dropped so far)",
                   what, (unsigned long long) self->desk_dropped);
        self->desk_dropped_logged_at = now;
    }
}

/* Sends on desk to the worker of `slot`, without blocking. Returns 0, or -1
 * if it never said Hello or its queue is full. */
static int
send_to_slot(corral_coordinator_t *self, const slot_t *slot, const corral_envelope_t *envelope)
{
    if (!slot->desk_peer || slot->state == SLOT_EMPTY)
        return -1;
    return corral_envelope_send(self->desk, slot->desk_peer, envelope, ZFRAME_DONTWAIT);
}

/* The slot whose worker said Hello from `routing_id`, or NULL. */
static slot_t *
slot_by_peer(corral_coordinator_t *self, zframe_t *routing_id)
{
    for (int i = 0; i < self->slot_count; i++)
        if (self->slots[i].state != SLOT_EMPTY && self->slots[i].desk_peer
            && zframe_eq(self->slots[i].desk_peer, routing_id))
            return &self->slots[i];
    return NULL;
}

static void
welcome(corral_coordinator_t *self, zframe_t *routing_id, const Corral__V1__Hello *hello)
{
    slot_t *slot = slot_by_id(self, hello->worker_id);
    if (!slot || slot->state == SLOT_EMPTY || slot->pid != (pid_t) hello->pid) {
        count_dropped(self, "a Hello from an unknown worker");
        return;
    }
    zframe_destroy(&slot->desk_peer);
    slot->desk_peer = zframe_dup(routing_id);
    Corral__V1__Welcome body = CORRAL__V1__WELCOME__INIT;
    body.config = &slot->config.message;
    corral_envelope_t reply = CORRAL__V1__ENVELOPE__INIT;
    reply.body_case = CORRAL__V1__ENVELOPE__BODY_WELCOME;
    reply.welcome = &body;
    if (send_to_slot(self, slot, &reply) != 0)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "cannot send the Welcome to %s",
                   slot->config.name);
}

static void
announce_ready_if_all(corral_coordinator_t *self)
{
    if (self->announced_ready || self->stopping)
        return;
    for (int i = 0; i < self->slot_count; i++)
        if (self->slots[i].state != SLOT_READY)
            return;
    self->announced_ready = true;
    char status[256];
    snprintf(status, sizeof status, "READY=1\nSTATUS=serving http://%s:%d with %d workers",
             self->config->server.host, corral_listener_port(self->listener),
             self->slot_count);
    corral_notify(status);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "ready: %d workers serving http://%s:%d",
               self->slot_count, self->config->server.host,
               corral_listener_port(self->listener));
}

/* The slot of worker `id` if `routing_id` is the connection it said Hello
 * from; NULL otherwise. O(1): every Report goes through it. */
static slot_t *
slot_of_sender(corral_coordinator_t *self, zframe_t *routing_id, uint32_t id)
{
    slot_t *slot = slot_by_id(self, id);
    return slot && slot->state != SLOT_EMPTY && slot->desk_peer
        && zframe_eq(slot->desk_peer, routing_id) ? slot : NULL;
}

/* The whole view, packed once for every worker that asks meanwhile. */
static void
send_view_to(corral_coordinator_t *self, const slot_t *slot)
{
    zframe_t *view = corral_cluster_view_frame(self->view, self->desk_dropped);
    if (view)
        corral_envelope_send_packed(self->desk, slot->desk_peer, view, ZFRAME_DONTWAIT);
}

/* A worker's heartbeat: keep it, acknowledge it (the view itself is for
 * those who ask: its size grows with the worker count). A worker that
 * does not fetch the view gets it with every acknowledgement, as before. */
static void
receive_report(corral_coordinator_t *self, zframe_t *routing_id,
               const Corral__V1__Report *report)
{
    slot_t *slot = slot_of_sender(self, routing_id, report->worker_id);
    if (!slot) {
        count_dropped(self, "a Report that is not from the worker it names");
        return;
    }
    if (corral_cluster_view_accept(self->view, slot->id, report) != 0) {
        count_dropped(self, "a Report (out of memory)");
        return;
    }
    if (!report->fetches_view) {
        send_view_to(self, slot);
        return;
    }
    Corral__V1__ReportAck ack = CORRAL__V1__REPORT_ACK__INIT;
    ack.seq = report->seq;
    corral_envelope_t reply = CORRAL__V1__ENVELOPE__INIT;
    reply.body_case = CORRAL__V1__ENVELOPE__BODY_REPORT_ACK;
    reply.report_ack = &ack;
    send_to_slot(self, slot, &reply);
}

/* A worker must answer from the whole view (/api/status, /api/stats). */
static void
send_view(corral_coordinator_t *self, zframe_t *routing_id, const Corral__V1__ViewRequest *request)
{
    slot_t *slot = slot_of_sender(self, routing_id, request->worker_id);
    if (!slot) {
        count_dropped(self, "a ViewRequest that is not from the worker it names");
        return;
    }
    send_view_to(self, slot);
}

static void
handle_envelope(corral_coordinator_t *self, zframe_t *routing_id,
                const corral_envelope_t *envelope)
{
    slot_t *slot;
    switch (envelope->body_case) {
    case CORRAL__V1__ENVELOPE__BODY_HELLO:
        welcome(self, routing_id, envelope->hello);
        break;
    case CORRAL__V1__ENVELOPE__BODY_READY:
        slot = slot_by_peer(self, routing_id);
        if (!slot || slot->id != (int) envelope->ready->worker_id
            || slot->state != SLOT_STARTING) {
            count_dropped(self, "a Ready that is not from the worker it names");
            break;
        }
        slot->state = SLOT_READY;
        corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "%s (pid %d) is ready",
                   slot->config.name, (int) slot->pid);
        announce_ready_if_all(self);
        break;
    case CORRAL__V1__ENVELOPE__BODY_BYE:
        slot = slot_by_peer(self, routing_id);
        if (!slot || slot->id != (int) envelope->bye->worker_id) {
            count_dropped(self, "a Bye that is not from the worker it names");
            break;
        }
        slot->said_bye = true;
        slot->last_log_seq = envelope->bye->last_log_seq;
        break;
    case CORRAL__V1__ENVELOPE__BODY_REPORT:
        receive_report(self, routing_id, envelope->report);
        break;
    case CORRAL__V1__ENVELOPE__BODY_VIEW_REQUEST:
        send_view(self, routing_id, envelope->view_request);
        break;
    default:
        count_dropped(self, "an envelope desk does not take");
    }
}

/* One message: [routing id][empty][Envelope] (REQ, or DEALER speaking
 * like REQ) or [routing id][Envelope] (bare DEALER). */
static void
receive_desk_message(corral_coordinator_t *self, zmsg_t *message)
{
    zframe_t *routing_id = zmsg_pop(message);
    zframe_t *body = zmsg_pop(message);
    if (body && zframe_size(body) == 0) {
        zframe_destroy(&body);
        body = zmsg_pop(message);
    }
    corral_envelope_t *envelope = NULL;
    if (!routing_id || !body || zmsg_size(message) != 0)
        count_dropped(self, "a message of the wrong shape");
    else if (!(envelope = corral_envelope_decode(body)))
        count_dropped(self, "a frame that is not an Envelope");
    else
        handle_envelope(self, routing_id, envelope);
    corral_envelope_free(&envelope);
    zframe_destroy(&routing_id);
    zframe_destroy(&body);
}

/* Reads up to `max` of the messages desk already holds. */
static void
read_desk(corral_coordinator_t *self, int max)
{
    zmq_pollitem_t item = { zsock_resolve(self->desk), 0, ZMQ_POLLIN, 0 };
    for (int i = 0; i < max && zmq_poll(&item, 1, 0) > 0; i++) {
        zmsg_t *message = zmsg_recv(self->desk);
        if (!message)
            break;
        receive_desk_message(self, message);
        zmsg_destroy(&message);
    }
}

/* A batch a turn: one message a turn left hundreds of workers' Hellos
 * waiting behind the loop's other work (starting workers). */
static int
on_desk(zloop_t *loop, zsock_t *reader, void *arg)
{
    corral_loop_delay_turn();
    read_desk(arg, DESK_BATCH);
    return 0;
}

/* Reads what desk already holds, so that a worker's Bye is seen before
 * its exit is judged. */
static void
drain_desk(corral_coordinator_t *self)
{
    read_desk(self, INT_MAX);
}

/* --- Workers ---------------------------------------------------------------- */

static void
describe_status(int status, char *out, size_t size)
{
    if (WIFEXITED(status))
        snprintf(out, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, size, "was killed by signal %d (SIG%s)%s", WTERMSIG(status),
                 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?",
                 WCOREDUMP(status) ? ", core dumped" : "");
    else
        snprintf(out, size, "changed state (%d)", status);
}

static void
worker_exited(corral_coordinator_t *self, slot_t *slot, int status)
{
    char how[96];
    describe_status(status, how, sizeof how);
    pid_t pid = slot->pid;
    if (self->logs) {   /* its records before the news of its exit */
        corral_log_collector_drain_worker(self->logs, slot->id,
                                          slot->said_bye ? slot->last_log_seq : 0, LOG_DRAIN_MS);
        drain_desk(self);   /* a Bye that came meanwhile */
    }
    slot->state = SLOT_EMPTY;
    slot->pid = 0;
    zframe_destroy(&slot->desk_peer);
    corral_cluster_view_worker_gone(self->view, slot->id);
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!self->stopping) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER,
                   "%s (pid %d) %s unexpectedly%s; stopping the instance (restart policy: never)",
                   slot->config.name, (int) pid, how,
                   slot->said_bye ? " (it stopped on its own, after a signal sent to it)" : "");
        begin_stop(self, 1, "a worker failed");
    }
    else if (clean)
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "%s (pid %d) stopped", slot->config.name, (int) pid);
    else {
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "%s (pid %d) %s while stopping",
                   slot->config.name, (int) pid, how);
        if (!self->killed_stragglers)
            self->exit_code = 1;
    }
}

static void
reap_workers(corral_coordinator_t *self)
{
    drain_desk(self);
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        slot_t *slot = slot_by_pid(self, pid);
        if (slot)
            worker_exited(self, slot, status);
    }
}

static corral_spawn_t
spawn_of(corral_coordinator_t *self, slot_t *slot)
{
    return (corral_spawn_t) {
        .program = self->worker_program,
        .name = slot->config.name,
        .worker_id = slot->id,
        .listen_fd = corral_listener_fd(self->listener, slot->id),
        .desk_endpoint = self->desk_endpoint,
        .config_fd = -1,
    };
}

static void
slot_started(corral_coordinator_t *self, slot_t *slot)
{
    slot->state = SLOT_STARTING;
    slot->said_bye = false;
    corral_cluster_view_worker_started(self->view, slot->id, slot->config.name, slot->pid);
    slot->last_log_seq = 0;
    corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "started %s (pid %d)%s", slot->config.name,
               (int) slot->pid, slot->config.message.main ? ", main" : "");
}

/* Starts the workers of slots [first, end) at once. Returns 0, or -1
 * (logged) if one could not start; the others run. */
static int
spawn_slots(corral_coordinator_t *self, int first, int end)
{
    corral_spawn_t spawns[SPAWN_BATCH] = { { 0 } };
    pid_t pids[SPAWN_BATCH];
    for (int i = first; i < end; i++)
        spawns[i - first] = spawn_of(self, &self->slots[i]);
    char *error = NULL;
    int rc = corral_spawn_workers(spawns, end - first, pids, &error);
    for (int i = first; i < end; i++)
        if ((self->slots[i].pid = pids[i - first]) > 0)
            slot_started(self, &self->slots[i]);
    if (rc != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s", error);
        free(error);
    }
    return rc;
}

/* A batch a loop turn, so that the workers already started get their
 * Welcome meanwhile: starting hundreds before answering any left the
 * first ones waiting past their Welcome timeout on a loaded machine. */
static int
on_spawn_next(zloop_t *loop, int timer_id, void *arg)
{
    corral_coordinator_t *self = arg;
    if (self->stopping)
        return 0;
    int end = self->spawned + SPAWN_BATCH < self->slot_count ? self->spawned + SPAWN_BATCH
                                                             : self->slot_count;
    if (spawn_slots(self, self->spawned, end) != 0
        || ((self->spawned = end) < self->slot_count
            && zloop_timer(self->loop, 0, 1, on_spawn_next, self) < 0))
        begin_stop(self, 1, "a worker could not be started");
    return 0;
}

/* The first worker now (a program that cannot start fails at once), the
 * others from the loop. */
static int
spawn_workers(corral_coordinator_t *self)
{
    if (spawn_slots(self, 0, 1) != 0)
        return -1;
    self->spawned = 1;
    if (self->spawned < self->slot_count
        && zloop_timer(self->loop, 0, 1, on_spawn_next, self) < 0)
        return -1;
    return 0;
}

/* --- Signals and the loop ----------------------------------------------------- */

/* SIGHUP: the logging section again; new appenders here, new levels to
 * every worker over desk. A bad configuration keeps the old one. */
static void
reload_logging(corral_coordinator_t *self)
{
    Corral__V1__LogConfig *config = corral_logging_reload(self->logs, self->config->file);
    if (!config)
        return;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_LOG_CONFIG;
    envelope.log_config = config;
    for (int i = 0; i < self->slot_count; i++) {
        slot_t *slot = &self->slots[i];
        slot->config.message.logging = config;      /* for workers started later */
        if (slot->state != SLOT_EMPTY && send_to_slot(self, slot, &envelope) != 0)
            corral_log(CORRAL_LEVEL_WARN, LOGGER, "cannot send the new log levels to %s",
                       slot->config.name);
    }
    if (self->reloaded_log_config)
        corral__v1__log_config__free_unpacked(self->reloaded_log_config, NULL);
    self->reloaded_log_config = config;
}

static int
on_signal(int signal_number, void *arg)
{
    corral_coordinator_t *self = arg;
    if (signal_number == SIGCHLD)
        reap_workers(self);
    else if (signal_number == SIGTERM || signal_number == SIGINT)
        begin_stop(self, 0, strsignal(signal_number));
    else if (signal_number == SIGUSR1 && self->logs)
        corral_logging_reopen(self->logs);
    else if (signal_number == SIGHUP && self->logs)
        reload_logging(self);
    else
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "SIG%s: nothing to do yet",
                   sigabbrev_np(signal_number));
    return self->stopping && live_workers(self) == 0 ? -1 : 0;
}

static int
watch_signals(corral_coordinator_t *self)
{
    static const int signals[] = { SIGTERM, SIGINT, SIGCHLD, SIGHUP, SIGUSR1 };
    self->signals = corral_signals_new(self->loop, signals,
                                       sizeof signals / sizeof signals[0], on_signal, self);
    return self->signals ? 0 : -1;
}

static int
bind_desk(corral_coordinator_t *self)
{
    self->runtime_dir = corral_runtime_dir_create();
    if (!self->runtime_dir) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot create a runtime directory: %s",
                   strerror(errno));
        return -1;
    }
    self->desk_endpoint = corral_format("ipc://%s/desk", self->runtime_dir);
    self->desk = zsock_new(ZMQ_ROUTER);
    if (!self->desk || !self->desk_endpoint)
        return -1;
    zsock_set_maxmsgsize(self->desk, CORRAL_MAX_FRAME_BYTES);
    zsock_set_router_handover(self->desk, 1);
    if (zsock_bind(self->desk, "%s", self->desk_endpoint) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot bind desk at %s: %s",
                   self->desk_endpoint, zmq_strerror(zmq_errno()));
        return -1;
    }
    corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "desk at %s", self->desk_endpoint);
    return zloop_reader(self->loop, self->desk, on_desk, self);
}

/* The instance UUID and the bus, handed to every worker. */
static int
start_node_service(corral_coordinator_t *self)
{
    char *error = NULL;
    self->instance_uuid = corral_instance_uuid_load(self->config->path.data, &error);
    if (!self->instance_uuid) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "%s", error ? error : "out of memory");
        free(error);
        return -1;
    }
    self->bus = corral_bus_new(self->loop, self->runtime_dir);
    if (!self->bus)
        return -1;
    for (int i = 0; i < self->slot_count; i++)
        corral_worker_config_set_node(&self->slots[i].config, self->instance_uuid,
                                      corral_bus_in_endpoint(self->bus),
                                      corral_bus_out_endpoint(self->bus));
    return 0;
}

/* For status reports: what reached this process, and what was lost
 * after leaving a worker (each worker counts what it could not send). */
static void
sample_log_counters(Corral__V1__LogCounters *counters, void *arg)
{
    corral_log_counters_t totals;
    corral_log_collector_counters(arg, &totals);
    counters->received = totals.received;
    counters->dropped = totals.gaps + totals.lines_lost;
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
    for (int i = 0; i < self->slot_count; i++)
        self->slots[i].config.message.logs_endpoint =
            (char *) corral_log_collector_endpoint(self->logs);
    corral_log_counters_set_source(sample_log_counters, self->logs);
    return 0;
}

int
corral_coordinator_run(corral_coordinator_t *self)
{
    if (watch_signals(self) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot watch signals: %s", strerror(errno));
        return 1;
    }
    if (bind_desk(self) != 0 || start_node_service(self) != 0 || bind_logs(self) != 0)
        return 1;
    corral_log(CORRAL_LEVEL_INFO, LOGGER,
               "listening on http://%s:%d (balancing: %s); starting %d workers",
               self->config->server.host, corral_listener_port(self->listener),
               self->config->server.balancing == CORRAL_BALANCING_REUSEPORT
                   ? "reuseport" : "shared",
               self->slot_count);
    if (spawn_workers(self) != 0)
        begin_stop(self, 1, "a worker could not be started");
    if (!self->stopping || live_workers(self) > 0)
        zloop_start(self->loop);
    if (self->exit_code == 0)
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "stopped");
    else
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "stopped with status %d", self->exit_code);
    return self->exit_code;
}
