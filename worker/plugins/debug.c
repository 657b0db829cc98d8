/* debug.c: the node service's debug route, for tests (node.debug_routes:
 * true; off by default). Two probe plugins, probe-a and probe-b, stand for
 * plugins that broadcast and handle messages; the debug plugin drives them
 * in any worker through its own messages on the bus:
 *
 *   GET /api/debug/node?action=A&worker=N&...
 *     worker   which worker acts: 1..N, or 0 (default) for every worker
 *     action   broadcast  plugin, type, count (1), payload ("{}"),
 *                         persist (0|1), self (send_to_self, 0|1)
 *              on         plugin, type: record what a new handler receives
 *              cancel     plugin, type: cancel those handlers
 *              received   what each handler received (payloads=1: with
 *                         payloads), the node's identity and gap count
 *
 * Whichever worker serves the request broadcasts a `command` (plugin
 * debug, send_to_self); the workers it names act and broadcast a `reply`;
 * the request is answered with every reply, {"replies":[{worker, ...}]}.
 * The bus keeps order, so a command is handled after every message that
 * was sent before the previous command's replies. */
#include "plugins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "node_service.h"
#include "plugin_host.h"

#define LOGGER "plugins.debug"
#define REPLY_TIMEOUT_MS 60000
#define MAX_COUNT 1000000

/* --- Probes and what their handlers received ------------------------------------ */

static corral_plugin_handle_t *probe_handles[2];
static const char *const probe_names[] = { "probe-a", "probe-b" };

typedef struct recorder {
    char *plugin;
    char *type;
    corral_subscription_t *subscription;
    json_t *seqs;
    json_t *payloads;
    struct recorder *next;
} recorder_t;

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

static void
record(const corral_message_t *message, void *arg)
{
    recorder_t *recorder = arg;
    json_array_append_new(recorder->seqs, json_integer((json_int_t) message->seq));
    json_array_append_new(recorder->payloads,
                          json_stringn(message->payload, message->len));
}

/* --- Acting on a command ---------------------------------------------------------- */

static json_t *
act_broadcast(json_t *command, corral_node_t *node, const char *type)
{
    const char *payload = json_string_value(json_object_get(command, "payload"));
    json_int_t count = json_integer_value(json_object_get(command, "count"));
    corral_broadcast_opts_t opts = {
        .persist = json_is_true(json_object_get(command, "persist")),
        .send_to_self = json_is_true(json_object_get(command, "self")),
    };
    json_int_t sent = 0;
    for (json_int_t i = 0; i < count; i++)
        sent += corral_node_broadcast(node, type, payload, strlen(payload), &opts) == 0;
    return json_pack("{s:I, s:I}", "sent", sent, "failed", count - sent);
}

static json_t *
act_on(corral_node_t *node, const char *plugin, const char *type)
{
    recorder_t *recorder = calloc(1, sizeof *recorder);
    if (!recorder)
        return json_pack("{s:s}", "error", "out of memory");
    recorder->plugin = strdup(plugin);
    recorder->type = strdup(type);
    recorder->seqs = json_array();
    recorder->payloads = json_array();
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
        json_t *handler = json_pack("{s:s, s:s, s:b, s:O}", "plugin", r->plugin, "type", r->type,
                                    "active", r->subscription != NULL, "seqs", r->seqs);
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
    if (!node || !type)
        return json_pack("{s:s}", "error", "plugin must be probe-a or probe-b, and type given");
    if (strcmp(action, "broadcast") == 0)
        return act_broadcast(command, node, type);
    if (strcmp(action, "on") == 0)
        return act_on(node, plugin, type);
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

static void
on_command(const corral_message_t *message, void *arg)
{
    json_t *command = json_loadb(message->payload, message->len, 0, NULL);
    json_int_t target = json_integer_value(json_object_get(command, "worker"));
    int me = corral_node_worker_id(corral_plugin_node(debug.handle));
    if (command && (target == 0 || target == me)) {
        json_t *reply = json_pack("{s:O, s:i, s:o}", "id", json_object_get(command, "id"),
                                  "worker", me, "result", act(command));
        send_json("reply", reply);
        json_decref(reply);
    }
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

static long
query_long(corral_request_t *request, const char *key, long fallback)
{
    const char *text = corral_request_query(request, key);
    char *end;
    long value = text ? strtol(text, &end, 10) : fallback;
    return text && (!*text || *end) ? -1 : value;
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
    long worker = query_long(request, "worker", 0);
    long count = query_long(request, "count", 1);
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
    return json_pack("{s:s, s:s, s:i, s:s?, s:s?, s:I, s:s, s:b, s:b, s:b}", "id", id,
                     "action", action, "worker", (int) worker, "plugin", plugin, "type", type,
                     "count", (json_int_t) count, "payload", payload ? payload : "{}",
                     "persist", query_flag(request, "persist"), "self", query_flag(request, "self"),
                     "payloads", query_flag(request, "payloads"));
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
                                     "worker 0..N; count 0..1000000");
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
    corral_subscription_cancel(&debug.commands);
    corral_subscription_cancel(&debug.replies);
    while (debug.recorders) {
        recorder_t *next = debug.recorders->next;
        corral_subscription_cancel(&debug.recorders->subscription);
        json_decref(debug.recorders->seqs);
        json_decref(debug.recorders->payloads);
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
