/* debug.c: the node service's debug route, for tests (node.debug_routes:
 * true; off by default). Two probe plugins, probe-a and probe-b, stand for
 * plugins that broadcast and handle messages; the debug plugin drives them
 * in any worker through its own messages on the bus:
 *
 *   GET /api/debug/node?action=A&worker=N&...
 *     worker   which worker acts: 1..N, or 0 (default) for every worker
 *     action   broadcast  plugin, type, count (1), payload ("{}"),
 *                         persist (0|1), self (send_to_self, 0|1),
 *                         size (pad the payload to this many bytes),
 *                         stamp=1 (the payload starts with the send time),
 *                         rate (messages per second; 0: all at once)
 *              on         plugin, type: record what a new handler receives;
 *                         record=count (only count) or latency (count and
 *                         the latency of stamped payloads)
 *              cancel     plugin, type: cancel those handlers
 *              received   what each handler received (payloads=1: with
 *                         payloads), the node's identity and gap count
 *
 * Whichever worker serves the request broadcasts a `command` (plugin
 * debug, send_to_self); the workers it names act and broadcast a `reply`;
 * the request is answered with every reply, {"replies":[{worker, ...}]}.
 * The bus keeps order, so a command is handled after every message that
 * was sent before the previous command's replies. */
#include "test_plugins.h"

#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "node_service.h"
#include "plugin_host.h"

#define LOGGER "plugins.debug"
#define REPLY_TIMEOUT_MS 60000
#define MAX_COUNT 10000000
#define BURST_CHUNK 1000

/* --- Probes and what their handlers received ------------------------------------ */

static corral_plugin_handle_t *probe_handles[2];
static const char *const probe_names[] = { "probe-a", "probe-b" };

typedef enum { RECORD_ALL, RECORD_COUNT, RECORD_LATENCY } record_mode_t;

typedef struct recorder {
    char *plugin;
    char *type;
    corral_subscription_t *subscription;
    record_mode_t mode;
    json_t *seqs;
    json_t *payloads;
    uint64_t count;
    uint64_t last_ns;           /* when the last one arrived */
    uint64_t *latencies_ns;     /* RECORD_LATENCY */
    size_t latency_capacity;
    struct recorder *next;
} recorder_t;

/* What a broadcast command sends, worked out once (not per message). */
typedef struct {
    corral_node_t *node;
    const char *type;           /* in the command, which outlives the sender */
    char payload[4096];
    size_t length;
    bool stamp;                 /* the payload starts with the send time */
    corral_broadcast_opts_t opts;
} sender_t;

/* A broadcast sent over several loop turns (rate, or a large count). */
typedef struct {
    json_t *command;
    sender_t sender;
    json_int_t left;
    json_int_t sent;
    json_int_t per_tick;
    int timer_id;
    uint64_t started_ns;
} paced_t;

typedef struct pending {
    char id[48];
    corral_request_t *request;
    json_t *replies;
    int expected;
    int timer_id;
    bool timed_out;
    struct pending *next;
} pending_t;

static struct {
    corral_plugin_handle_t *handle;
    zloop_t *loop;
    const corral_identity_t *identity;
    corral_subscription_t *commands;
    corral_subscription_t *replies;
    recorder_t *recorders;
    pending_t *pending;
    paced_t *paced;             /* at most one at a time */
    unsigned long next_id;
} debug;

static corral_node_t *
probe_node(const char *plugin)
{
    for (size_t i = 0; i < 2; i++)
        if (plugin && strcmp(plugin, probe_names[i]) == 0 && probe_handles[i])
            return corral_plugin_node(probe_handles[i]);
    return NULL;
}

static uint64_t
now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);     /* one clock for every process */
    return (uint64_t) now.tv_sec * 1000000000u + (uint64_t) now.tv_nsec;
}

static void
record_latency(recorder_t *recorder, const corral_message_t *message, uint64_t now)
{
    char stamp[32];
    size_t length = message->len < sizeof stamp - 1 ? message->len : sizeof stamp - 1;
    memcpy(stamp, message->payload, length);
    stamp[length] = '\0';
    uint64_t sent = strtoull(stamp, NULL, 10);
    if (recorder->count > recorder->latency_capacity) {
        size_t capacity = recorder->latency_capacity ? recorder->latency_capacity * 2 : 4096;
        uint64_t *grown = realloc(recorder->latencies_ns, capacity * sizeof *grown);
        if (!grown)
            return;
        recorder->latencies_ns = grown;
        recorder->latency_capacity = capacity;
    }
    recorder->latencies_ns[recorder->count - 1] = sent && now > sent ? now - sent : 0;
}

static void
record(const corral_message_t *message, void *arg)
{
    recorder_t *recorder = arg;
    recorder->count++;
    recorder->last_ns = now_ns();
    if (recorder->mode == RECORD_LATENCY)
        record_latency(recorder, message, recorder->last_ns);
    if (recorder->mode != RECORD_ALL)
        return;
    json_array_append_new(recorder->seqs, json_integer((json_int_t) message->seq));
    json_array_append_new(recorder->payloads,
                          json_stringn(message->payload, message->len));
}

static int
by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

/* {count, p50, p99, max} in microseconds. */
static json_t *
latency_summary(recorder_t *recorder)
{
    size_t n = recorder->latencies_ns ? (size_t) recorder->count : 0;
    if (n > recorder->latency_capacity)
        n = recorder->latency_capacity;
    if (n == 0)
        return json_pack("{s:i}", "count", 0);
    qsort(recorder->latencies_ns, n, sizeof (uint64_t), by_value);
    return json_pack("{s:I, s:f, s:f, s:f}", "count", (json_int_t) n,
                     "p50", recorder->latencies_ns[n / 2] / 1000.0,
                     "p99", recorder->latencies_ns[n * 99 / 100] / 1000.0,
                     "max", recorder->latencies_ns[n - 1] / 1000.0);
}

/* --- Acting on a command ---------------------------------------------------------- */

static void
sender_init(sender_t *sender, json_t *command)
{
    const char *text = json_string_value(json_object_get(command, "payload"));
    size_t size = (size_t) json_integer_value(json_object_get(command, "size"));
    sender->node = probe_node(json_string_value(json_object_get(command, "plugin")));
    sender->type = json_string_value(json_object_get(command, "type"));
    sender->stamp = json_is_true(json_object_get(command, "stamp"));
    sender->opts = (corral_broadcast_opts_t) {
        .persist = json_is_true(json_object_get(command, "persist")),
        .send_to_self = json_is_true(json_object_get(command, "self")),
    };
    sender->length = sender->stamp ? 0 : (size_t) snprintf(sender->payload, sizeof sender->payload,
                                                           "%s", text ? text : "{}");
    if (sender->length >= sizeof sender->payload)
        sender->length = sizeof sender->payload - 1;
    if (size > sizeof sender->payload)
        size = sizeof sender->payload;
    if (size > sender->length) {
        memset(sender->payload + sender->length, 'x', size - sender->length);
        sender->length = size;
    }
}

static bool
broadcast_one(sender_t *sender)
{
    if (sender->stamp) {        /* "<ns> " over the start of the padding */
        char stamp[32];
        size_t length = (size_t) snprintf(stamp, sizeof stamp, "%llu ",
                                          (unsigned long long) now_ns());
        memcpy(sender->payload, stamp, length);
        if (sender->length < length)
            sender->length = length;
    }
    return corral_node_broadcast(sender->node, sender->type, sender->payload, sender->length,
                                 &sender->opts) == 0;
}

static json_t *
broadcast_result(json_int_t count, json_int_t sent, uint64_t started_ns)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "sent", sent, "failed", count - sent,
                     "started_ns", (json_int_t) started_ns, "finished_ns", (json_int_t) now_ns());
}

static void send_reply(json_t *command, json_t *result);

static void
paced_destroy(paced_t **paced_p)
{
    paced_t *paced = *paced_p;
    if (!paced)
        return;
    zloop_timer_end(debug.loop, paced->timer_id);
    json_decref(paced->command);
    free(paced);
    *paced_p = NULL;
}

static int
on_paced_tick(zloop_t *loop, int timer_id, void *arg)
{
    paced_t *paced = arg;
    for (json_int_t i = 0; i < paced->per_tick && paced->left > 0; i++, paced->left--)
        paced->sent += broadcast_one(&paced->sender);
    if (paced->left > 0)
        return 0;
    json_int_t count = json_integer_value(json_object_get(paced->command, "count"));
    send_reply(paced->command, broadcast_result(count, paced->sent, paced->started_ns));
    paced_destroy(&debug.paced);
    return 0;
}

/* NULL when the reply comes later: paced (rate), or a large burst sent
 * BURST_CHUNK per loop turn, so that the sender keeps reading the bus. */
static json_t *
act_broadcast(json_t *command)
{
    json_int_t count = json_integer_value(json_object_get(command, "count"));
    json_int_t rate = json_integer_value(json_object_get(command, "rate"));
    uint64_t started_ns = now_ns();
    bool later = (rate > 0 || count > BURST_CHUNK) && count > 0 && !debug.paced;
    paced_t *paced = later ? calloc(1, sizeof *paced) : NULL;
    if (paced) {
        debug.paced = paced;
        json_int_t per_tick = rate == 0 ? BURST_CHUNK : rate > 1000 ? rate / 1000 : 1;
        paced->command = json_incref(command);
        sender_init(&paced->sender, command);
        paced->left = count;
        paced->per_tick = per_tick;
        paced->started_ns = started_ns;
        size_t interval_ms = rate == 0 ? 0 : rate >= 1000 ? 1 : (size_t) (1000 / rate);
        paced->timer_id = zloop_timer(debug.loop, interval_ms, 0, on_paced_tick, paced);
        return NULL;
    }
    sender_t sender;
    sender_init(&sender, command);
    json_int_t sent = 0;
    for (json_int_t i = 0; i < count; i++)
        sent += broadcast_one(&sender);
    return broadcast_result(count, sent, started_ns);
}

static json_t *
act_on(json_t *command, corral_node_t *node, const char *plugin, const char *type)
{
    recorder_t *recorder = calloc(1, sizeof *recorder);
    if (!recorder)
        return json_pack("{s:s}", "error", "out of memory");
    recorder->plugin = strdup(plugin);
    recorder->type = strdup(type);
    recorder->seqs = json_array();
    recorder->payloads = json_array();
    const char *mode = json_string_value(json_object_get(command, "record"));
    recorder->mode = !mode || strcmp(mode, "all") == 0 ? RECORD_ALL
                   : strcmp(mode, "count") == 0 ? RECORD_COUNT : RECORD_LATENCY;
    recorder->subscription = corral_node_on(node, type, record, recorder);
    recorder->next = debug.recorders;
    debug.recorders = recorder;
    return json_pack("{s:b}", "subscribed", recorder->subscription != NULL);
}

static json_t *
act_cancel(const char *plugin, const char *type)
{
    int cancelled = 0;
    for (recorder_t *r = debug.recorders; r; r = r->next)
        if (r->subscription && strcmp(r->plugin, plugin) == 0 && strcmp(r->type, type) == 0) {
            corral_subscription_cancel(&r->subscription);
            cancelled++;
        }
    return json_pack("{s:i}", "cancelled", cancelled);
}

static json_t *
act_received(json_t *command)
{
    corral_node_t *node = corral_plugin_node(debug.handle);
    corral_bus_client_t *bus = corral_node_service_bus(corral_node_service_of(node));
    bool with_payloads = json_is_true(json_object_get(command, "payloads"));
    json_t *handlers = json_array();
    for (recorder_t *r = debug.recorders; r; r = r->next) {   /* newest first */
        json_t *handler = json_pack("{s:s, s:s, s:b, s:O, s:I, s:I}", "plugin", r->plugin,
                                    "type", r->type, "active", r->subscription != NULL,
                                    "seqs", r->seqs, "count", (json_int_t) r->count,
                                    "last_ns", (json_int_t) r->last_ns);
        if (r->mode == RECORD_LATENCY)
            json_object_set_new(handler, "latency_us", latency_summary(r));
        if (with_payloads)
            json_object_set(handler, "payloads", r->payloads);
        json_array_insert_new(handlers, 0, handler);
    }
    return json_pack("{s:s, s:s, s:b, s:b, s:i, s:I, s:I, s:o}",
                     "node_id", corral_node_id(node),
                     "instance_uuid", corral_node_instance_uuid(node),
                     "enabled", corral_node_is_enabled(node),
                     "main", corral_node_is_main_worker(node),
                     "worker_id", corral_node_worker_id(node),
                     "gaps", (json_int_t) (bus ? corral_bus_client_gaps(bus) : 0),
                     "last_seq", (json_int_t) (bus ? corral_bus_client_last_seq(bus) : 0),
                     "handlers", handlers);
}

static json_t *
act(json_t *command)
{
    const char *action = json_string_value(json_object_get(command, "action"));
    const char *plugin = json_string_value(json_object_get(command, "plugin"));
    const char *type = json_string_value(json_object_get(command, "type"));
    if (action && strcmp(action, "received") == 0)
        return act_received(command);
    corral_node_t *node = probe_node(plugin);
    if (!action || !node || !type || !*type)   /* commands may come from any bus client */
        return json_pack("{s:s}", "error",
                         "action, plugin (probe-a or probe-b) and type must be given");
    if (strcmp(action, "broadcast") == 0)
        return act_broadcast(command);
    if (strcmp(action, "on") == 0)
        return act_on(command, node, plugin, type);
    return act_cancel(plugin, type);
}

static void
send_json(const char *type, json_t *document)
{
    char *text = json_dumps(document, JSON_COMPACT);
    corral_broadcast_opts_t opts = { .send_to_self = true };
    if (!text || corral_node_broadcast(corral_plugin_node(debug.handle), type, text,
                                       strlen(text), &opts) != 0)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "cannot broadcast a %s", type);
    free(text);
}

/* Takes `result`. */
static void
send_reply(json_t *command, json_t *result)
{
    int me = corral_node_worker_id(corral_plugin_node(debug.handle));
    json_t *reply = json_pack("{s:O, s:i, s:o}", "id", json_object_get(command, "id"),
                              "worker", me, "result", result);
    send_json("reply", reply);
    json_decref(reply);
}

static void
on_command(const corral_message_t *message, void *arg)
{
    json_t *command = json_loadb(message->payload, message->len, 0, NULL);
    json_int_t target = json_integer_value(json_object_get(command, "worker"));
    int me = corral_node_worker_id(corral_plugin_node(debug.handle));
    json_t *result = command && (target == 0 || target == me) ? act(command) : NULL;
    if (result)
        send_reply(command, result);
    json_decref(command);
}

/* --- The route -------------------------------------------------------------------- */

static void
on_reply(const corral_message_t *message, void *arg)
{
    json_t *reply = json_loadb(message->payload, message->len, 0, NULL);
    const char *id = json_string_value(json_object_get(reply, "id"));
    for (pending_t *p = debug.pending; p && id; p = p->next)
        if (strcmp(p->id, id) == 0) {
            json_array_append(p->replies, reply);
            if ((int) json_array_size(p->replies) == p->expected)
                corral_request_resume(p->request);
            break;
        }
    json_decref(reply);
}

static int
on_reply_timeout(zloop_t *loop, int timer_id, void *arg)
{
    pending_t *pending = arg;
    pending->timer_id = -1;
    pending->timed_out = true;
    corral_request_resume(pending->request);
    return 0;
}

static void
pending_destroy(void *arg)
{
    pending_t *pending = arg;
    for (pending_t **link = &debug.pending; *link; link = &(*link)->next)
        if (*link == pending) {
            *link = pending->next;
            break;
        }
    if (pending->timer_id != -1)
        zloop_timer_end(debug.loop, pending->timer_id);
    json_decref(pending->replies);
    free(pending);
}

static bool
query_flag(corral_request_t *request, const char *key)
{
    const char *text = corral_request_query(request, key);
    return text && strcmp(text, "1") == 0;
}

static json_t *
command_from_query(corral_request_t *request, const char *id)
{
    const char *action = corral_request_query(request, "action");
    long worker = corral_query_number(request, "worker", 0, INT32_MAX);
    long count = corral_query_number(request, "count", 1, LONG_MAX);
    static const char *const actions[] = { "broadcast", "on", "cancel", "received" };
    bool known = false;
    for (size_t i = 0; action && i < 4; i++)
        known |= strcmp(action, actions[i]) == 0;
    if (!known || worker < 0 || worker > debug.identity->worker_count || count < 0
        || count > MAX_COUNT)
        return NULL;
    const char *plugin = corral_request_query(request, "plugin");
    const char *type = corral_request_query(request, "type");
    const char *payload = corral_request_query(request, "payload");
    long size = corral_query_number(request, "size", 0, LONG_MAX);
    long rate = corral_query_number(request, "rate", 0, LONG_MAX);
    if (size < 0 || size > 4096 || rate < 0)
        return NULL;
    return json_pack("{s:s, s:s, s:i, s:s?, s:s?, s:I, s:s, s:b, s:b, s:b, s:b, s:I, s:I, s:s?}",
                     "id", id, "action", action, "worker", (int) worker, "plugin", plugin,
                     "type", type, "count", (json_int_t) count,
                     "payload", payload ? payload : "{}",
                     "persist", query_flag(request, "persist"), "self", query_flag(request, "self"),
                     "payloads", query_flag(request, "payloads"),
                     "stamp", query_flag(request, "stamp"), "size", (json_int_t) size,
                     "rate", (json_int_t) rate, "record", corral_request_query(request, "record"));
}

static void
answer(corral_request_t *request, pending_t *pending)
{
    if (pending->timed_out) {
        corral_request_respond_error(request, 504, "not every worker replied in time");
        return;
    }
    corral_request_respond_json(request, 200, json_pack("{s:O}", "replies", pending->replies));
}

static void
debug_route(corral_request_t *request, void *arg)
{
    pending_t *pending = corral_request_state(request);
    if (pending) {
        answer(request, pending);
        return;
    }
    char id[48];
    snprintf(id, sizeof id, "%d-%lu", debug.identity->worker_id, ++debug.next_id);
    json_t *command = command_from_query(request, id);
    if (!command) {
        corral_request_respond_error(request, 400,
                                     "action must be broadcast, on, cancel or received; "
                                     "worker 0..N; count 0..10000000; size 0..4096");
        return;
    }
    pending = calloc(1, sizeof *pending);
    if (!pending) {
        json_decref(command);
        corral_request_respond_error(request, 503, "out of memory");
        return;
    }
    snprintf(pending->id, sizeof pending->id, "%s", id);
    pending->request = request;
    pending->replies = json_array();
    pending->expected = json_integer_value(json_object_get(command, "worker")) == 0
                        ? debug.identity->worker_count : 1;
    pending->timer_id = zloop_timer(debug.loop, REPLY_TIMEOUT_MS, 1, on_reply_timeout, pending);
    pending->next = debug.pending;
    debug.pending = pending;
    corral_request_set_state(request, pending, pending_destroy);
    corral_request_suspend(request);
    send_json("command", command);
    json_decref(command);
}

/* --- The plugins ------------------------------------------------------------------ */

static bool
debug_enabled(corral_plugin_handle_t *handle)
{
    return corral_plugin_worker_config(handle)->debug_routes;
}

static int
debug_setup(corral_plugin_handle_t *handle)
{
    if (!debug_enabled(handle))
        return 0;
    debug.handle = handle;
    debug.loop = corral_plugin_loop(handle);
    debug.identity = corral_plugin_identity(handle);
    corral_node_t *node = corral_plugin_node(handle);
    debug.commands = corral_node_on(node, "command", on_command, NULL);
    debug.replies = corral_node_on(node, "reply", on_reply, NULL);
    corral_log(CORRAL_LEVEL_WARN, LOGGER, "debug routes enabled: GET /api/debug/node");
    return debug.commands && debug.replies
        ? corral_plugin_route(handle, "GET", "/api/debug/node", debug_route, NULL) : -1;
}

static void
debug_stop(corral_plugin_handle_t *handle)
{
    paced_destroy(&debug.paced);
    corral_subscription_cancel(&debug.commands);
    corral_subscription_cancel(&debug.replies);
    while (debug.recorders) {
        recorder_t *next = debug.recorders->next;
        corral_subscription_cancel(&debug.recorders->subscription);
        json_decref(debug.recorders->seqs);
        json_decref(debug.recorders->payloads);
        free(debug.recorders->latencies_ns);
        free(debug.recorders->plugin);
        free(debug.recorders->type);
        free(debug.recorders);
        debug.recorders = next;
    }
}

static int
probe_setup(corral_plugin_handle_t *handle)
{
    for (size_t i = 0; i < 2; i++)
        if (strcmp(corral_plugin_name(handle), probe_names[i]) == 0)
            probe_handles[i] = handle;
    return 0;
}

const corral_plugin_t corral_debug_plugin = {
    .name = "debug",
    .setup = debug_setup,
    .stop = debug_stop,
};
const corral_plugin_t corral_probe_a_plugin = { .name = "probe-a", .setup = probe_setup };
const corral_plugin_t corral_probe_b_plugin = { .name = "probe-b", .setup = probe_setup };
