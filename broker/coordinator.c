/* coordinator.c: the clustered instance's event loop.
 *
 * It owns the `desk` ROUTER (Hello/Welcome, Ready, Report, Bye), the
 * runtime directory, the instance UUID and the bus (bus.c) it hands to
 * the workers, the log collector, and the signals (through one
 * signalfd): SIGTERM and SIGINT stop gracefully, SIGCHLD reaps. The life
 * of the worker slots (when to start, restart, kill or replace a worker,
 * who is main) is the supervisor's (supervisor.c): the coordinator tells
 * it what happened and does what it asks. */
#include "coordinator.h"
#include "coordinator_private.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "balancer.h"
#include "cluster_view.h"
#include "config_json.h"
#include "cpu_quota.h"
#include "bus.h"
#include "envelope.h"
#include "exit_history.h"
#include "fsutil.h"
#include "instance_uuid.h"
#include "log.h"
#include "log_collector.h"
#include "log_counters.h"
#include "logging_control.h"
#include "operator.h"
#include "loop_delay.h"
#include "corral/notify.h"
#include "corral/signals.h"
#include "runtime_dir.h"
#include "spawn.h"
#include "supervisor.h"
#include "upgrade.h"
#include "worker_config.h"
#include "worker_secret.h"

#define LOGGER "coordinator"
#define DROP_LOG_INTERVAL_MS 10000
#define LOG_DRAIN_MS 5000           /* for a worker's records up to its Bye */
#define DRAIN_GRACE_MS 250          /* after the shutdown timeout, at most, for the
                                     * records the last workers sent before dying */
#define DESK_BATCH 256              /* desk messages read in one turn */
#define UPGRADE_LOG_HOLD_BYTES (64u << 20)  /* records held while the predecessor writes */
#define UPGRADE_SETTLE_CHECK_MS 5   /* handed over: are accepted connections with workers? */
#define UPGRADE_SETTLE_MS 2000      /* at most that long */

static int start_supervisor(corral_coordinator_t *self);
static void upgrade_taken_over(corral_coordinator_t *self);

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
    if (reserved != 0 || !self->loop || !self->view || !self->worker_program
        || start_supervisor(self) != 0 || corral_coordinator_reload_setup(self) != 0)
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

const char *
corral_coordinator_program(const corral_coordinator_t *self, const corral_slot_spec_t *spec)
{
    char **command = spec->type->program.command;
    return command ? command[0] : self->worker_program;
}

void
corral_coordinator_assign(corral_coordinator_t *self, slot_t *slot,
                          const corral_config_t *config, const corral_slot_spec_t *spec,
                          int worker_count, uint32_t generation)
{
    slot->config = config;
    slot->spec = *spec;
    slot->spec.config_generation = generation;
    slot->worker_count = worker_count;
    if (self->supervisor)
        corral_supervisor_set_spec(self->supervisor, slot->id, &slot->spec);
}

/* The WorkerConfig the slot's next process is welcomed with. */
static void
build_worker_config(corral_coordinator_t *self, slot_t *slot)
{
    corral_worker_config_init(&slot->message, slot->config, slot->id, slot->worker_count,
                              corral_listener_port(self->listener), true);
    corral_worker_config_set_type(&slot->message, slot->spec.name, slot->spec.type);
    if (self->bus)
        corral_worker_config_set_node(&slot->message, self->instance_uuid,
                                      corral_bus_in_endpoint(self->bus),
                                      corral_bus_out_endpoint(self->bus));
    if (self->logs)
        slot->message.message.logs_endpoint = (char *) corral_log_collector_endpoint(self->logs);
    if (self->reloaded_log_config)
        slot->message.message.logging = self->reloaded_log_config;
}

void
corral_coordinator_destroy(corral_coordinator_t **self_p)
{
    corral_coordinator_t *self = *self_p;
    if (!self)
        return;
    corral_signals_destroy(&self->signals);     /* before the loop it polls in */
    corral_coordinator_reload_teardown(self);
    if (self->upgrade)
        corral_upgrade_detach(self->upgrade);
    corral_operator_destroy(&self->operator);
    corral_supervisor_destroy(&self->supervisor);
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

static slot_t *
slot_by_id(corral_coordinator_t *self, uint32_t id)
{
    return id >= 1 && id <= (uint32_t) self->slot_capacity ? self->slots[id - 1] : NULL;
}

slot_t *
corral_coordinator_slot(corral_coordinator_t *self, int id)
{
    return id >= 1 ? slot_by_id(self, (uint32_t) id) : NULL;
}

/* A process's life changed: the cluster view and the tap learn it. */
static void
lifecycle(corral_coordinator_t *self, const corral_process_t *process, const char *kind,
          const char *detail)
{
    int id = corral_process_slot(process);
    corral_cluster_view_worker_state(self->view, id, kind, corral_process_main(process));
    corral_tap_event(self->tap, kind, id, corral_process_name(process),
                     corral_process_pid(process), "%s", detail);
}

/* --- Stopping --------------------------------------------------------------- */

static int
end_loop(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

static void
begin_stop(corral_coordinator_t *self, int exit_code, const char *why)
{
    if (exit_code > self->exit_code)
        self->exit_code = exit_code;
    if (self->stopping)
        return;
    self->stopping = true;
    corral_upgrade_cancel(self->upgrade);
    if (!corral_upgrade_handed_over(self->upgrade))
        corral_notify("STOPPING=1");
    corral_coordinator_reload_abort(self);
    /* no process accepts again: a new connection is refused at once rather
     * than left in the backlog until the last worker exits. Not the
     * sockets handed to a successor (corral_listener_keep), nor those of
     * a successor whose predecessor still serves on them. */
    if (!corral_upgrade_predecessor_alive(self->upgrade))
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

/* --- desk ------------------------------------------------------------------- */

static void
count_dropped(corral_coordinator_t *self, const char *what)
{
    self->desk_dropped++;
    corral_tap_event(self->tap, "dropped", 0, NULL, 0, "desk: %s", what);
    int64_t now = zclock_mono();
    if (self->desk_dropped == 1 || now - self->desk_dropped_logged_at >= DROP_LOG_INTERVAL_MS) {
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "desk: dropped %s (%llu dropped so far)",
                   what, (unsigned long long) self->desk_dropped);
        self->desk_dropped_logged_at = now;
    }
}

/* Sends on desk to `process`, without blocking. Returns 0, or -1 if it
 * never said Hello or its queue is full. */
static int
send_to_process(corral_coordinator_t *self, const corral_process_t *process,
                const corral_envelope_t *envelope)
{
    peer_t *peer = process ? corral_process_link(process) : NULL;
    if (!peer || !peer->desk_peer)
        return -1;
    return corral_envelope_send(self->desk, peer->desk_peer, envelope, ZFRAME_DONTWAIT);
}

/* What the coordinator keeps for `process`, made at its spawn. NULL only
 * when out of memory. */
static peer_t *
link_peer(corral_process_t *process)
{
    peer_t *peer = corral_process_link(process);
    if (!peer && (peer = calloc(1, sizeof *peer))) {
        peer->channel = -1;
        corral_process_set_link(process, peer);
    }
    return peer;
}

/* The connections still queued to the process go to the others. */
static void
close_channel(corral_coordinator_t *self, peer_t *peer)
{
    if (self->balancer && peer && peer->channel >= 0)
        corral_balancer_close(self->balancer, peer->channel);
    if (peer)
        peer->channel = -1;
}

static bool
said_hello_from(const corral_process_t *process, void *routing_id)
{
    peer_t *peer = corral_process_link(process);
    return peer && peer->desk_peer && zframe_eq(peer->desk_peer, routing_id);
}

/* The process that said Hello from `routing_id`, if it still runs the
 * slot it names. */
static corral_process_t *
process_by_peer(corral_coordinator_t *self, zframe_t *routing_id, uint32_t worker_id)
{
    return corral_supervisor_find_in_slot(self->supervisor, (int) worker_id, said_hello_from,
                                          routing_id);
}

/* The slot a Hello may take: the one it names, running the pid it names,
 * whose secret it presents. Anything else is refused and the slot keeps
 * its worker (and that worker's connection). */
static slot_t *
slot_for_hello(corral_coordinator_t *self, const Corral__V1__Hello *hello,
               corral_process_t **process_out)
{
    slot_t *slot = slot_by_id(self, hello->worker_id);
    corral_process_t *process = corral_supervisor_process(self->supervisor, (pid_t) hello->pid);
    if (!slot || !process || corral_process_slot(process) != slot->id) {
        count_dropped(self, "a Hello from an unknown worker");
        return NULL;
    }
    if (!corral_secret_matches(slot->secret, hello->secret.data, hello->secret.len)) {
        self->hello_refused++;
        count_dropped(self, "a Hello without the worker's secret (refused)");
        return NULL;
    }
    *process_out = process;
    return slot;
}

static void
welcome(corral_coordinator_t *self, zframe_t *routing_id, const Corral__V1__Hello *hello)
{
    corral_process_t *process = NULL;
    slot_t *slot = slot_for_hello(self, hello, &process);
    if (!slot) {
        corral_desk_tools_refuse(self->tools, self->desk, routing_id,
                                 "not a worker of this instance (a tool says ToolHello)");
        return;
    }
    peer_t *peer = link_peer(process);
    if (!peer)
        return;
    zframe_destroy(&peer->desk_peer);
    peer->desk_peer = zframe_dup(routing_id);
    slot->message.message.main = corral_process_main(process);
    slot->message.message.generation = corral_process_generation(process);
    slot->message.message.accept_when_ready = corral_upgrade_predecessor_alive(self->upgrade);
    Corral__V1__Welcome body = CORRAL__V1__WELCOME__INIT;
    body.config = &slot->message.message;
    corral_envelope_t reply = CORRAL__V1__ENVELOPE__INIT;
    reply.body_case = CORRAL__V1__ENVELOPE__BODY_WELCOME;
    reply.welcome = &body;
    if (send_to_process(self, process, &reply) != 0)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "cannot send the Welcome to %s",
                   slot->message.name);
}

/* Every slot was ready once: the instance is up. */
static void
announce_ready(void *arg)
{
    corral_coordinator_t *self = arg;
    if (self->stopping)
        return;
    char status[256];
    snprintf(status, sizeof status, "READY=1\nSTATUS=serving http://%s:%d with %d workers",
             self->config->server.host, corral_listener_port(self->listener),
             self->slot_count);
    corral_notify(status);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "ready: %d workers serving http://%s:%d",
               self->slot_count, self->config->server.host,
               corral_listener_port(self->listener));
    upgrade_taken_over(self);
}

/* Bad input on every broker socket and the balancer's counters, for
 * /api/stats; summed once per status interval, not per report (the sum
 * is O(workers)). */
static void
refresh_input_counters(corral_coordinator_t *self)
{
    int64_t now = zclock_mono();
    if (self->input_refreshed_at
        && now - self->input_refreshed_at < (int64_t) self->config->node.status.interval_ms)
        return;
    self->input_refreshed_at = now;
    Corral__V1__InputCounters input = CORRAL__V1__INPUT_COUNTERS__INIT;
    input.bus_in = self->bus ? corral_bus_stats(self->bus) : NULL;
    input.desk_dropped = self->desk_dropped;
    input.desk_hello_refused = self->hello_refused;
    if (self->logs) {
        corral_log_counters_t logs;
        corral_log_collector_counters(self->logs, &logs);
        input.logs_malformed = logs.malformed;
        input.logs_forged = logs.forged;
        input.logs_invalid = logs.invalid;
    }
    self->input = input;
    corral_cluster_view_set_input(self->view, &self->input);
    if (self->balancer) {
        corral_balancer_stats_t stats;
        corral_balancer_stats(self->balancer, &stats);
        self->balancing = (Corral__V1__BalancerCounters) CORRAL__V1__BALANCER_COUNTERS__INIT;
        self->balancing.accepted = stats.accepted;
        self->balancing.handed = stats.handed;
        self->balancing.taken_back = stats.taken_back;
        self->balancing.dropped = stats.dropped;
        self->balancing.accept_errors = stats.accept_errors;
        self->balancing.bad_messages = stats.bad_messages;
        corral_cluster_view_set_balancer(self->view, &self->balancing);
    }
}

/* The cluster view now, with the tools' counters now. */
static const corral_envelope_t *
view_envelope(corral_coordinator_t *self)
{
    refresh_input_counters(self);
    corral_operator_count(self->operator);
    return corral_cluster_view_envelope(self->view, self->desk_dropped);
}

/* The whole view, packed once for every worker that asks meanwhile. */
static void
send_view_to(corral_coordinator_t *self, const corral_process_t *process)
{
    peer_t *peer = corral_process_link(process);
    refresh_input_counters(self);
    corral_operator_count(self->operator);
    zframe_t *view = corral_cluster_view_frame(self->view, self->desk_dropped);
    if (view && peer && peer->desk_peer)
        corral_envelope_send_packed(self->desk, peer->desk_peer, view, ZFRAME_DONTWAIT);
}

/* A worker's heartbeat: keep it, acknowledge it (the view itself is for
 * those who ask: its size grows with the worker count). A worker that
 * does not fetch the view gets it with every acknowledgement, as before.
 * Only from the connection that said Hello for the slot it names. */
static void
receive_report(corral_coordinator_t *self, zframe_t *routing_id,
               const Corral__V1__Report *report)
{
    corral_process_t *process = process_by_peer(self, routing_id, report->worker_id);
    if (!process) {
        count_dropped(self, "a Report that is not from the worker it names");
        return;
    }
    corral_supervisor_heard(self->supervisor, process,
                            report->process ? report->process->resident_set_size_bytes : 0,
                            report->requests ? report->requests->total : 0);
    /* the slot's view is its current process's; one starting beside it
     * gets the view without changing it */
    if (corral_supervisor_current(self->supervisor, (int) report->worker_id) == process
        && corral_cluster_view_accept(self->view, (int) report->worker_id, report) != 0) {
        count_dropped(self, "a Report (out of memory)");
        return;
    }
    if (!report->fetches_view) {
        send_view_to(self, process);
        return;
    }
    Corral__V1__ReportAck ack = CORRAL__V1__REPORT_ACK__INIT;
    ack.seq = report->seq;
    corral_envelope_t reply = CORRAL__V1__ENVELOPE__INIT;
    reply.body_case = CORRAL__V1__ENVELOPE__BODY_REPORT_ACK;
    reply.report_ack = &ack;
    send_to_process(self, process, &reply);
}

/* A worker must answer from the whole view (/api/status, /api/stats). */
static void
send_view(corral_coordinator_t *self, zframe_t *routing_id, const Corral__V1__ViewRequest *request)
{
    corral_process_t *process = process_by_peer(self, routing_id, request->worker_id);
    if (!process) {
        count_dropped(self, "a ViewRequest that is not from the worker it names");
        return;
    }
    send_view_to(self, process);
}

/* The view for tools: as workers get it. */
static const Corral__V1__ClusterView *
tool_view(void *arg)
{
    return view_envelope(arg)->cluster_view;
}

static void
handle_envelope(corral_coordinator_t *self, zframe_t *routing_id,
                const corral_envelope_t *envelope)
{
    corral_process_t *process;
    peer_t *peer;
    switch (envelope->body_case) {
    case CORRAL__V1__ENVELOPE__BODY_HELLO:
        welcome(self, routing_id, envelope->hello);
        break;
    case CORRAL__V1__ENVELOPE__BODY_READY:
        process = process_by_peer(self, routing_id, envelope->ready->worker_id);
        if (!process)
            count_dropped(self, "a Ready that is not from the worker it names");
        else if (corral_process_starting(process)) {  /* not one asked to stop meanwhile */
            if (self->balancer && link_peer(process)->channel >= 0)
                /* its channel is open before the instance says ready */
                corral_balancer_sync(self->balancer, link_peer(process)->channel);
            corral_supervisor_ready(self->supervisor, process);
            lifecycle(self, process, "ready", "serving");
        }
        break;
    case CORRAL__V1__ENVELOPE__BODY_BYE:
        process = process_by_peer(self, routing_id, envelope->bye->worker_id);
        if (!process) {
            count_dropped(self, "a Bye that is not from the worker it names");
            break;
        }
        peer = corral_process_link(process);
        peer->said_bye = true;
        peer->last_log_seq = envelope->bye->last_log_seq;
        if (self->logs)
            corral_log_collector_expect(self->logs, corral_process_slot(process),
                                        peer->last_log_seq);
        break;
    case CORRAL__V1__ENVELOPE__BODY_REPORT:
        receive_report(self, routing_id, envelope->report);
        break;
    case CORRAL__V1__ENVELOPE__BODY_VIEW_REQUEST:
        send_view(self, routing_id, envelope->view_request);
        break;
    default:
        if (corral_desk_tools_handle(self->tools, self->desk, routing_id, envelope, false))
            break;
        count_dropped(self, "an envelope desk does not take");
        corral_desk_tools_refuse(self->tools, self->desk, routing_id,
                                 "an envelope desk does not take");
    }
}

/* An envelope of a protocol version this coordinator does not speak
 * (docs/worker-protocol.md, "Versions"). A Hello gets a ProtocolError, so
 * that the worker can say why it cannot serve; when it is one of ours, the
 * operator reads the reason here too. Anything else is dropped. */
static void
refuse_protocol(corral_coordinator_t *self, zframe_t *routing_id,
                const corral_envelope_t *envelope)
{
    if (envelope->body_case != CORRAL__V1__ENVELOPE__BODY_HELLO) {
        count_dropped(self, "an envelope of a protocol version this coordinator does not speak");
        return;
    }
    char text[256];
    snprintf(text, sizeof text,
             "this worker speaks corral protocol version %u, the coordinator speaks version %u: "
             "use a worker built for this corral (or a corral that speaks version %u)",
             envelope->protocol, CORRAL_PROTOCOL_VERSION, envelope->protocol);
    corral_process_t *process = corral_supervisor_process(self->supervisor,
                                                          (pid_t) envelope->hello->pid);
    if (process && corral_process_slot(process) == (int) envelope->hello->worker_id)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "%s (pid %d) refused: %s",
                   corral_process_name(process), (int) corral_process_pid(process), text);
    else
        count_dropped(self, "a Hello of a protocol version this coordinator does not speak");
    Corral__V1__ProtocolError refusal = CORRAL__V1__PROTOCOL_ERROR__INIT;
    refusal.received = envelope->protocol;
    refusal.min_supported = CORRAL_PROTOCOL_VERSION;
    refusal.max_supported = CORRAL_PROTOCOL_VERSION;
    refusal.message = text;
    corral_envelope_t reply = CORRAL__V1__ENVELOPE__INIT;
    reply.body_case = CORRAL__V1__ENVELOPE__BODY_PROTOCOL_ERROR;
    reply.protocol_error = &refusal;
    corral_envelope_send(self->desk, routing_id, &reply, ZFRAME_DONTWAIT);
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
    const char *refused = NULL;
    if (!routing_id || !body || zmsg_size(message) != 0)
        refused = "a message of the wrong shape";
    else if (!(envelope = corral_envelope_decode(body)))
        refused = "a frame that is not an Envelope";
    else if (envelope->protocol != CORRAL_PROTOCOL_VERSION)
        refuse_protocol(self, routing_id, envelope);
    else
        handle_envelope(self, routing_id, envelope);
    if (refused) {      /* counted, and answered: a tool learns why */
        count_dropped(self, refused);
        if (routing_id)
            corral_desk_tools_refuse(self->tools, self->desk, routing_id, refused);
    }
    corral_envelope_free(&envelope);
    zframe_destroy(&routing_id);
    zframe_destroy(&body);
}

void
corral_coordinator_take_desk_message(corral_coordinator_t *self, zmsg_t **message_p)
{
    if (*message_p)
        receive_desk_message(self, *message_p);
    zmsg_destroy(message_p);
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
worker_exited(corral_coordinator_t *self, corral_process_t *process, int status)
{
    peer_t *peer = corral_process_link(process);
    if (self->logs) {   /* its records before the news of its exit */
        corral_log_collector_drain_worker(self->logs, corral_process_slot(process),
                                          peer && peer->said_bye ? peer->last_log_seq : 0,
                                          LOG_DRAIN_MS);
        drain_desk(self);   /* a Bye that came meanwhile */
    }
    char how[96];
    corral_exit_describe(status, how, sizeof how);
    lifecycle(self, process, "exited", how);
    close_channel(self, peer);
    corral_supervisor_reaped(self->supervisor, process, status);
}

static void
reap_workers(corral_coordinator_t *self)
{
    drain_desk(self);
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        corral_process_t *process = corral_supervisor_process(self->supervisor, pid);
        if (process)
            worker_exited(self, process, status);
        else
            corral_upgrade_reaped(self->upgrade, pid, status);
    }
}

/* --- What the supervisor asks ----------------------------------------------------- */

static pid_t
spawn_process(void *arg, corral_process_t *process, char **error)
{
    corral_coordinator_t *self = arg;
    slot_t *slot = slot_by_id(self, (uint32_t) corral_process_slot(process));
    const corral_slot_spec_t *spec = &slot->spec;
    peer_t *peer = link_peer(process);
    corral_handoff_fds_t handoff = { -1, 0, -1 };
    /* a worker without HTTP gets no connections: no channel, no socket */
    if (!peer || (self->balancer && spec->http
                  && corral_balancer_open(self->balancer, &handoff) != 0)) {
        *error = corral_format("cannot open a connection channel for %s: %s",
                               slot->message.name, strerror(errno));
        return -1;
    }
    peer->channel = handoff.channel;
    build_worker_config(self, slot);
    corral_spawn_t spawn = {
        .program = corral_coordinator_program(self, spec),
        .name = slot->message.name,
        .argv = spec->type->program.command,
        .env = spec->type->program.env,
        .worker_id = slot->id,
        .listen_fd = spec->http ? corral_listener_fd(self->listener, spec->listen_index) : -1,
        .desk_endpoint = self->desk_endpoint,
        .config_fd = -1,
        .max_memory = corral_process_max_memory(process),
        .secret = slot->secret,
        .handoff_fd = handoff.worker_fd,
        .handoff_counters_fd = handoff.counters_fd,
    };
    if (!slot->secret[0] && corral_spawn_make_secret(slot->secret) != 0) {
        *error = corral_format("cannot make a secret for %s: %s", slot->message.name,
                               strerror(errno));
        close_channel(self, peer);
        return -1;
    }
    if (self->logs) {
        corral_log_collector_set_secret(self->logs, slot->id, slot->secret);
        corral_log_collector_name_worker(self->logs, slot->id, spec->name);  /* a reload may rename it */
    }
    corral_binary_id(spawn.program, &slot->binary);     /* a reload compares it */
    pid_t pid = -1;
    if (corral_worker_config_make_data_dir(&slot->message, error) == 0)
        pid = corral_spawn_worker(&spawn, error);
    if (pid < 0)
        close_channel(self, peer);
    return pid;
}

/* balancing shared: the coordinator accepts and hands each connection to
 * the worker with the fewest open connections (balancer.h). */
static int
start_balancer(corral_coordinator_t *self)
{
    if (self->config->server.balancing != CORRAL_BALANCING_SHARED)
        return 0;
    self->balancer = corral_balancer_new(corral_listener_fd(self->listener, 1));
    if (!self->balancer)
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot start the balancer: %s", strerror(errno));
    return self->balancer ? 0 : -1;
}

static void
slot_changed(void *arg, int slot_id, const corral_process_t *process)
{
    corral_coordinator_t *self = arg;
    if (process) {
        corral_cluster_view_worker_started(self->view, slot_id, corral_process_name(process),
                                           corral_process_pid(process));
        lifecycle(self, process, corral_process_generation(process) > 1 ? "restarted" : "started",
                  corral_process_main(process) ? "main" : "");
    }
    else
        corral_cluster_view_worker_gone(self->view, slot_id);
}

static void
tell_main(void *arg, const corral_process_t *process, bool main)
{
    corral_coordinator_t *self = arg;
    Corral__V1__MainRole body = CORRAL__V1__MAIN_ROLE__INIT;
    body.main = main;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_MAIN_ROLE;
    envelope.main_role = &body;
    if (main)
        lifecycle(self, process, "main", "holds the main role now");
    if (send_to_process(self, process, &envelope) != 0)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "cannot tell %s (pid %d) it is main",
                   corral_process_name(process), (int) corral_process_pid(process));
}

static void
stop_instance(void *arg, int exit_code, const char *why)
{
    begin_stop(arg, exit_code, why);
}

static void
forget_process(void *arg, corral_process_t *process)
{
    peer_t *peer = corral_process_link(process);
    close_channel(arg, peer);
    if (peer)
        zframe_destroy(&peer->desk_peer);
    free(peer);
    corral_process_set_link(process, NULL);
}

/* The supervision fields of each slot's view. */
static void
fill_slot_view(void *arg, int slot_id, Corral__V1__WorkerView *view)
{
    corral_coordinator_t *self = arg;
    corral_supervisor_fill_view(self->supervisor, slot_id, view);
}

void
corral_coordinator_policy(const corral_config_t *config, corral_supervision_t *out)
{
    corral_supervision_t policy = {
        .policy = config->node.restart.policy,
        .max_restarts = config->node.restart.max_restarts,
        .window_ms = config->node.restart.window_ms,
        .backoff_initial_ms = config->node.restart.backoff_initial_ms,
        .backoff_max_ms = config->node.restart.backoff_max_ms,
        .heartbeat_timeout_ms = config->node.workers.heartbeat_timeout_ms,
        .shutdown_timeout_ms = config->node.shutdown_timeout_ms,
    };
    *out = policy;
}

static int
start_supervisor(corral_coordinator_t *self)
{
    corral_supervision_t policy;
    corral_coordinator_policy(self->config, &policy);
    static const corral_supervisor_ops_t ops = {
        .spawn = spawn_process, .slot_changed = slot_changed, .tell_main = tell_main,
        .stop_instance = stop_instance, .all_ready = announce_ready,
        .forget = forget_process,
    };
    corral_slot_spec_t *specs = calloc((size_t) self->slot_count, sizeof *specs);
    if (!specs)
        return -1;
    for (int i = 0; i < self->slot_count; i++)
        specs[i] = self->slots[i]->spec;
    self->supervisor = corral_supervisor_new(self->loop, &policy, specs, self->slot_count,
                                             &ops, self);
    free(specs);
    if (!self->supervisor)
        return -1;
    corral_cluster_view_set_filler(self->view, fill_slot_view, self);
    return 0;
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
    begin_stop(self, 0, "upgraded: the new coordinator serves");
    return 0;
}

/* The predecessor: the successor serves now; the sockets it shares are
 * left listening, and this instance stops once the connections it
 * accepted are with its workers. */
static void
successor_ready(void *arg, pid_t pid)
{
    corral_coordinator_t *self = arg;
    corral_listener_keep(self->listener, INT_MAX);
    if (self->balancer)
        corral_balancer_hand_over(self->balancer);
    self->handed_over_at = zclock_mono();
    if (zloop_timer(self->loop, UPGRADE_SETTLE_CHECK_MS, 0, stop_once_settled, self) < 0)
        begin_stop(self, 0, "upgraded: the new coordinator serves");
}

/* The successor: the log files are ours to write. */
static void
predecessor_gone(void *arg)
{
    corral_coordinator_t *self = arg;
    if (self->logs)
        corral_log_collector_release(self->logs);
}

/* The successor, all its workers ready: it serves, and says so. */
static void
upgrade_taken_over(corral_coordinator_t *self)
{
    if (!corral_upgrade_is_successor(self->upgrade))
        return;
    corral_upgrade_announce_ready(self->upgrade);
    corral_operator_write_endpoints(self->operator);
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

/* `config` (taken) is the logging in force from now on: new levels to
 * every worker over desk (workers started later get it in their
 * WorkerConfig). */
void
corral_coordinator_apply_log_config(corral_coordinator_t *self, Corral__V1__LogConfig *config)
{
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_LOG_CONFIG;
    envelope.log_config = config;
    for (int id = 1; id <= self->slot_count; id++) {
        corral_process_t *process = corral_supervisor_current(self->supervisor, id);
        if (process && send_to_process(self, process, &envelope) != 0)
            corral_log(CORRAL_LEVEL_WARN, LOGGER, "cannot send the new log levels to %s",
                       corral_process_name(process));
    }
    if (self->reloaded_log_config && self->reloaded_log_config != config)
        corral__v1__log_config__free_unpacked(self->reloaded_log_config, NULL);
    self->reloaded_log_config = config;
}

static const Corral__V1__LogConfig *
log_config(const corral_coordinator_t *self)
{
    return self->reloaded_log_config ? self->reloaded_log_config : self->config->logging.config;
}

/* --- Tools' commands (desk_tools.c checked their arguments) ------------------ */

static int
set_level(corral_coordinator_t *self, const char *logger, const char *name, char **message)
{
    corral_level_t level;
    if (corral_level_parse(name, &level) != 0) {
        *message = corral_format("unknown level \"%s\" (all, trace, debug, info, warn, "
                                 "error, fatal, off)", name);
        return -1;
    }
    char *error = NULL;
    Corral__V1__LogConfig *config = self->logs ? corral_logging_set_level(
        self->logs, log_config(self), logger, level, &error) : NULL;
    if (!config) {
        *message = error ? error : strdup("logging is not collected by this process");
        return -1;
    }
    corral_coordinator_apply_log_config(self, config);
    *message = corral_format("logger %s: level %s", logger, corral_level_name(level));
    return 0;
}

/* `restart WORKER` (a name, worker-2, or an id, 2): a graceful
 * replacement, as a recycle does: the new process starts beside the old
 * one, which stops once the new one is ready. */
static int
restart_worker(corral_coordinator_t *self, const char *worker, char **message)
{
    const slot_t *slot = NULL;
    char *end;
    long id = strtol(worker, &end, 10);
    if (*worker && !*end)
        slot = slot_by_id(self, (uint32_t) id);
    for (int i = 0; !slot && i < self->slot_count; i++)
        if (strcmp(self->slots[i]->message.name, worker) == 0)
            slot = self->slots[i];
    if (!slot) {
        *message = corral_format("restart: no worker %s", worker);
        return -1;
    }
    if (corral_supervisor_replace(self->supervisor, slot->id, "asked by a tool", NULL, NULL) != 0) {
        *message = corral_format("restart: %s is not ready, or is being replaced already",
                                 slot->message.name);
        return -1;
    }
    *message = corral_format("restarting %s: its replacement starts beside it, then it stops "
                             "gracefully", slot->message.name);
    return 0;
}

static void
tool_reload_done(void *arg, bool ok, const char *summary)
{
    corral_desk_tools_pending_t *pending = arg;
    corral_desk_tools_finish(&pending, ok, summary);
}

static int
run_tool_command(void *arg, const char *command, char **args, size_t argc, char **message)
{
    corral_coordinator_t *self = arg;
    corral_tap_event(self->tap, "command", 0, NULL, 0, "%s", command);
    if (strcmp(command, "stop") == 0) {
        begin_stop(self, 0, "asked by a tool");
        *message = strdup("stopping");
    }
    else if (strcmp(command, "reopen-logs") == 0 && self->logs) {
        corral_logging_reopen(self->logs);
        *message = strdup("log files reopened");
    }
    else if (strcmp(command, "reload") == 0) {
        /* answered when the reload ends (or at once: a bad file, one running) */
        corral_desk_tools_pending_t *pending = corral_desk_tools_defer(self->tools);
        if (!pending) {
            *message = strdup("out of memory");
            return -1;
        }
        corral_coordinator_reload(self, tool_reload_done, pending);
    }
    else if (strcmp(command, "level") == 0)
        return set_level(self, args[0], args[1], message);
    else if (strcmp(command, "restart") == 0)
        return restart_worker(self, args[0], message);
    else {
        *message = corral_format("%s: not supported yet", command);
        return -1;
    }
    return 0;
}

static char *
effective_config(void *arg)
{
    corral_coordinator_t *self = arg;
    return corral_config_json(self->config, log_config(self), self->slot_count,
                              corral_listener_port(self->listener));
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
    else if (signal_number == SIGHUP)
        corral_coordinator_reload(self, NULL, NULL);
    else if (signal_number == SIGUSR2 && self->upgrade) {
        if (corral_reload_running(self->reload))
            corral_log(CORRAL_LEVEL_WARN, LOGGER, "SIGUSR2 ignored: a reload is in progress");
        else
            corral_upgrade_begin(self->upgrade, self->listener, self->bus, self->stopping);
    }
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
    corral_log_counters_t totals;
    corral_log_collector_counters(arg, &totals);
    counters->received = totals.received;
    counters->dropped = totals.gaps > UINT64_MAX - totals.lines_lost
                      ? UINT64_MAX : totals.gaps + totals.lines_lost;
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
        .tools = { .view = tool_view, .config_json = effective_config,
                   .command = run_tool_command, .arg = self },
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
        || bind_logs(self) != 0 || start_balancer(self) != 0 || start_operator(self) != 0
        || watch_upgrade(self) != 0)
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
