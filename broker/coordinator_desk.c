/* coordinator_desk.c: the coordinator's `desk` ROUTER, the workers' side:
 * Hello and Welcome (a worker proves its slot's secret), Ready, Report and
 * its ack, view requests, Bye; tools' messages go to desk_tools.c. Bad
 * input is dropped, counted and logged once in a while, never fatal; the
 * counters of refused input travel in the cluster view. */
#include "coordinator_private.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "loop_delay.h"

#define LOGGER "coordinator"
#define DROP_LOG_INTERVAL_MS 10000
#define DESK_BATCH 256              /* desk messages read in one turn */

/* The desk's counts of refused input, and what the views carry of every
 * broker socket's (refreshed once per status interval). */
struct corral_desk_input {
    uint64_t dropped;
    int64_t dropped_logged_at;
    uint64_t hello_refused;
    int64_t hello_refused_logged_at;
    Corral__V1__InputCounters input;                /* what the views carry */
    Corral__V1__BalancerCounters balancer_counters; /* the same */
    int64_t refreshed_at;                           /* when both were summed */
};

corral_desk_input_t *
corral_desk_input_new(void)
{
    corral_desk_input_t *self = calloc(1, sizeof *self);
    if (self) {
        corral__v1__input_counters__init(&self->input);
        corral__v1__balancer_counters__init(&self->balancer_counters);
    }
    return self;
}

void
corral_desk_input_destroy(corral_desk_input_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

static void
count_dropped(corral_coordinator_t *self, const char *what)
{
    corral_desk_input_t *counts = self->desk_input;
    counts->dropped++;
    corral_tap_event(self->tap, "dropped", 0, NULL, 0, "desk: %s", what);
    int64_t now = zclock_mono();
    if (counts->dropped == 1 || now - counts->dropped_logged_at >= DROP_LOG_INTERVAL_MS) {
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "desk: dropped %s (%llu dropped so far)",
                   what, (unsigned long long) counts->dropped);
        counts->dropped_logged_at = now;
    }
}

/* Sends on desk to `process`, without blocking. Returns 0, or -1 if it
 * never said Hello or its queue is full. */
int
corral_coordinator_send_to_process(corral_coordinator_t *self, const corral_process_t *process,
                const corral_envelope_t *envelope)
{
    peer_t *peer = process ? corral_process_link(process) : NULL;
    if (!peer || !peer->desk_peer)
        return -1;
    return corral_envelope_send(self->desk, peer->desk_peer, envelope, ZFRAME_DONTWAIT);
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

/* Counts a refused Hello, whatever made it wrong (the slot, the pid, the
 * secret, the protocol version); true when it may be logged: the first,
 * then at most one every 10 s, so that no sender can flood the log. */
static bool
count_refused_hello(corral_coordinator_t *self, const char *why)
{
    corral_desk_input_t *counts = self->desk_input;
    counts->hello_refused++;
    counts->dropped++;
    corral_tap_event(self->tap, "dropped", 0, NULL, 0, "desk: %s", why);
    int64_t now = zclock_mono();
    if (counts->hello_refused > 1 && now - counts->hello_refused_logged_at < DROP_LOG_INTERVAL_MS)
        return false;
    counts->hello_refused_logged_at = now;
    return true;
}

/* A Hello that did not prove itself: it names nobody in the log (what it
 * says about itself is what anyone can say), and gets the refusal any
 * stranger gets. */
static void
refuse_hello(corral_coordinator_t *self, zframe_t *routing_id, const char *why)
{
    if (count_refused_hello(self, why))
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "desk: refused %s (%llu Hellos refused so far)",
                   why, (unsigned long long) self->desk_input->hello_refused);
    corral_desk_tools_refuse(self->tools, self->desk, routing_id,
                             "not a worker of this instance (a tool says ToolHello)");
}

/* The process a Hello comes from: the one the slot named by `worker_id`
 * runs with the pid it names, and only when it presents the slot's
 * secret. The secret is checked first, before anything the Hello says is
 * believed (its protocol version included). Anything else is refused and
 * the slot keeps its worker (and that worker's connection). */
static corral_process_t *
process_for_hello(corral_coordinator_t *self, zframe_t *routing_id,
                  const Corral__V1__Hello *hello)
{
    slot_t *slot = corral_coordinator_slot(self, hello->worker_id);
    corral_process_t *process = corral_supervisor_process(self->supervisor, (pid_t) hello->pid);
    if (!slot || !process || corral_process_slot(process) != slot->id) {
        refuse_hello(self, routing_id, "a Hello from no worker of this instance");
        return NULL;
    }
    if (!corral_secret_matches(slot->secret, hello->secret.data, hello->secret.len)) {
        refuse_hello(self, routing_id, "a Hello without the worker's secret (refused)");
        return NULL;
    }
    return process;
}

/* A worker of ours that speaks another protocol version (it proved who it
 * is with its secret): it gets a ProtocolError instead of a Welcome, so
 * that it can say why it cannot serve, and the operator reads the reason
 * here too (docs/worker-protocol.md, "Versions"). */
static void
refuse_protocol(corral_coordinator_t *self, zframe_t *routing_id,
                const corral_process_t *process, uint32_t version)
{
    char text[256];
    snprintf(text, sizeof text,
             "this worker speaks corral protocol version %u, the coordinator speaks version %u: "
             "use a worker built for this corral (or a corral that speaks version %u)",
             version, CORRAL_PROTOCOL_VERSION, version);
    char why[400];
    snprintf(why, sizeof why, "the Hello of %s (pid %d): %s", corral_process_name(process),
             (int) corral_process_pid(process), text);
    if (count_refused_hello(self, why))
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "%s (pid %d) refused: %s",
                   corral_process_name(process), (int) corral_process_pid(process), text);
    Corral__V1__ProtocolError refusal = CORRAL__V1__PROTOCOL_ERROR__INIT;
    refusal.received = version;
    refusal.min_supported = CORRAL_PROTOCOL_VERSION;
    refusal.max_supported = CORRAL_PROTOCOL_VERSION;
    refusal.message = text;
    corral_envelope_t reply = CORRAL__V1__ENVELOPE__INIT;
    reply.body_case = CORRAL__V1__ENVELOPE__BODY_PROTOCOL_ERROR;
    reply.protocol_error = &refusal;
    corral_envelope_send(self->desk, routing_id, &reply, ZFRAME_DONTWAIT);
}

/* A Hello of any protocol version: the secret first, then the version,
 * then the Welcome. */
static void
welcome(corral_coordinator_t *self, zframe_t *routing_id, const corral_envelope_t *envelope)
{
    corral_process_t *process = process_for_hello(self, routing_id, envelope->hello);
    if (!process)
        return;
    if (envelope->protocol != CORRAL_PROTOCOL_VERSION) {
        refuse_protocol(self, routing_id, process, envelope->protocol);
        return;
    }
    slot_t *slot = corral_coordinator_slot(self, (uint32_t) corral_process_slot(process));
    peer_t *peer = corral_coordinator_link_peer(process);
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
    if (corral_coordinator_send_to_process(self, process, &reply) != 0)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "cannot send the Welcome to %s",
                   slot->message.name);
}

/* Bad input on every broker socket and the balancer's counters, for
 * /api/stats; summed once per status interval, not per report (the sum
 * is O(workers)). */
static void
refresh_input_counters(corral_coordinator_t *self)
{
    int64_t now = zclock_mono();
    if (self->desk_input->refreshed_at
        && now - self->desk_input->refreshed_at < (int64_t) self->config->node.status.interval_ms)
        return;
    self->desk_input->refreshed_at = now;
    Corral__V1__InputCounters input = CORRAL__V1__INPUT_COUNTERS__INIT;
    input.bus_in = self->bus ? corral_bus_stats(self->bus) : NULL;
    input.desk_dropped = self->desk_input->dropped;
    input.desk_hello_refused = self->desk_input->hello_refused;
    if (self->logs) {
        corral_log_counters_t logs;
        corral_log_collector_counters(self->logs, &logs);
        input.logs_malformed = logs.malformed;
        input.logs_forged = logs.forged;
        input.logs_invalid = logs.invalid;
        input.logs_oversized = logs.oversized;
    }
    self->desk_input->input = input;
    corral_cluster_view_set_input(self->view, &self->desk_input->input);
    if (self->balancer) {
        corral_balancer_stats_t stats;
        corral_balancer_stats(self->balancer, &stats);
        Corral__V1__BalancerCounters counters = CORRAL__V1__BALANCER_COUNTERS__INIT;
        counters.accepted = stats.accepted;
        counters.handed = stats.handed;
        counters.taken_back = stats.taken_back;
        counters.dropped = stats.dropped;
        counters.accept_errors = stats.accept_errors;
        counters.bad_messages = stats.bad_messages;
        self->desk_input->balancer_counters = counters;
        corral_cluster_view_set_balancer(self->view, &self->desk_input->balancer_counters);
    }
}

/* The cluster view now, with the tools' counters now. */
static const corral_envelope_t *
view_envelope(corral_coordinator_t *self)
{
    refresh_input_counters(self);
    corral_operator_count(self->operator);
    return corral_cluster_view_envelope(self->view, self->desk_input->dropped);
}

/* The whole view, packed once for every worker that asks meanwhile. */
static void
send_view_to(corral_coordinator_t *self, const corral_process_t *process)
{
    peer_t *peer = corral_process_link(process);
    refresh_input_counters(self);
    corral_operator_count(self->operator);
    zframe_t *view = corral_cluster_view_frame(self->view, self->desk_input->dropped);
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
    corral_coordinator_send_to_process(self, process, &reply);
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
const Corral__V1__ClusterView *
corral_coordinator_tool_view(void *arg)
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
        welcome(self, routing_id, envelope);
        break;
    case CORRAL__V1__ENVELOPE__BODY_READY:
        process = process_by_peer(self, routing_id, envelope->ready->worker_id);
        if (!process)
            count_dropped(self, "a Ready that is not from the worker it names");
        else if (corral_process_starting(process)) {  /* not one asked to stop meanwhile */
            peer = corral_process_link(process);
            if (self->balancer && peer && peer->channel >= 0)
                /* its channel is open before the instance says ready */
                corral_balancer_sync(self->balancer, peer->channel);
            corral_supervisor_ready(self->supervisor, process);
            corral_coordinator_lifecycle(self, process, "ready", "serving");
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

/* One message, peeled (envelope.h): a Hello of any version goes to
 * welcome, which checks its secret before its version; any other envelope
 * of another version, like any message that is not an Envelope, is
 * dropped, counted and answered (a tool learns why). */
static void
receive_desk_message(corral_coordinator_t *self, zmsg_t *message)
{
    corral_peeled_t peeled;
    corral_peel_status_t status = corral_envelope_peel(message, &peeled);
    if (status == CORRAL_PEEL_OK)
        handle_envelope(self, peeled.routing_id, peeled.envelope);
    else if (status == CORRAL_PEEL_OTHER_VERSION
             && peeled.envelope->body_case == CORRAL__V1__ENVELOPE__BODY_HELLO)
        welcome(self, peeled.routing_id, peeled.envelope);
    else {
        count_dropped(self, corral_peel_refusal(status));
        if (peeled.routing_id)
            corral_desk_tools_refuse(self->tools, self->desk, peeled.routing_id,
                                     corral_peel_refusal(status));
    }
    corral_peeled_release(&peeled);
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
int
corral_coordinator_on_desk(zloop_t *loop, zsock_t *reader, void *arg)
{
    corral_loop_delay_turn();
    read_desk(arg, DESK_BATCH);
    return 0;
}

/* Reads what desk already holds, so that a worker's Bye is seen before
 * its exit is judged. */
void
corral_coordinator_drain_desk(corral_coordinator_t *self)
{
    read_desk(self, INT_MAX);
}
