/* desk_tools.c: tools' Hello, queries and commands on desk. */
#include "desk_tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define LOGGER "coordinator"
#define TOOLS_MAX 256               /* known tools; the oldest is forgotten */

typedef struct {
    zframe_t *routing_id;
    bool remote;
} tool_t;

struct corral_desk_tools {
    corral_desk_tools_setup_t setup;
    tool_t tools[TOOLS_MAX];
    size_t next_tool;
    const char *tap[2];             /* [remote] */
    const char *bus_out[2];
    uint64_t requests;
    uint64_t errors;
    zsock_t *answering;             /* during setup.command: the request's socket, */
    zframe_t *answering_to;         /* its tool */
    uint64_t answering_id;          /* and id, for corral_desk_tools_defer */
    bool deferred;
};

/* name, arguments, query (answered with the view or the config) */
static const struct {
    const char *name;
    size_t argc;
    const char *usage;
} commands[] = {
    { "status", 0, "status" },
    { "stats", 0, "stats" },
    { "workers", 0, "workers" },
    { "config", 0, "config" },
    { "reload", 0, "reload" },
    { "restart", 1, "restart WORKER" },
    { "stop", 0, "stop" },
    { "reopen-logs", 0, "reopen-logs" },
    { "level", 2, "level LOGGER LEVEL" },
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

corral_desk_tools_t *
corral_desk_tools_new(const corral_desk_tools_setup_t *setup)
{
    corral_desk_tools_t *self = calloc(1, sizeof *self);
    if (self)
        self->setup = *setup;
    return self;
}

void
corral_desk_tools_destroy(corral_desk_tools_t **self_p)
{
    corral_desk_tools_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < TOOLS_MAX; i++)
        zframe_destroy(&self->tools[i].routing_id);
    free(self);
    *self_p = NULL;
}

void
corral_desk_tools_set_endpoints(corral_desk_tools_t *self, bool remote, const char *tap,
                                const char *bus_out)
{
    self->tap[remote] = tap;
    self->bus_out[remote] = bus_out;
}

static bool
known(const corral_desk_tools_t *self, zframe_t *routing_id, bool remote)
{
    for (size_t i = 0; i < TOOLS_MAX; i++)
        if (self->tools[i].routing_id && self->tools[i].remote == remote
            && zframe_eq(self->tools[i].routing_id, routing_id))
            return true;
    return false;
}

static void
remember(corral_desk_tools_t *self, zframe_t *routing_id, bool remote)
{
    if (known(self, routing_id, remote))
        return;
    tool_t *tool = &self->tools[self->next_tool++ % TOOLS_MAX];
    zframe_destroy(&tool->routing_id);
    tool->routing_id = zframe_dup(routing_id);
    tool->remote = remote;
}

static void
send_reply(corral_desk_tools_t *self, zsock_t *socket, zframe_t *routing_id,
           Corral__V1__ToolReply *reply)
{
    self->requests++;
    self->errors += !reply->ok;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TOOL_REPLY;
    envelope.tool_reply = reply;
    corral_envelope_send(socket, routing_id, &envelope, ZFRAME_DONTWAIT);
}

void
corral_desk_tools_refuse(corral_desk_tools_t *self, zsock_t *socket, zframe_t *routing_id,
                         const char *why)
{
    if (!self)
        return;     /* no tools yet: the instance is not running (fuzz_sockets) */
    Corral__V1__ToolReply reply = CORRAL__V1__TOOL_REPLY__INIT;
    reply.error = (char *) why;
    reply.instance_uuid = (char *) self->setup.uuid;
    send_reply(self, socket, routing_id, &reply);
}

static void
welcome_tool(corral_desk_tools_t *self, zsock_t *socket, zframe_t *routing_id,
             const Corral__V1__ToolHello *hello, bool remote)
{
    remember(self, routing_id, remote);
    corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "desk: tool %s (pid %u) said hello%s",
               hello->name, hello->pid, remote ? " (remote)" : "");
    Corral__V1__ToolEndpoint tap = CORRAL__V1__TOOL_ENDPOINT__INIT;
    Corral__V1__ToolEndpoint bus_out = CORRAL__V1__TOOL_ENDPOINT__INIT;
    tap.name = "tap";
    tap.endpoint = (char *) (self->tap[remote] ? self->tap[remote] : "");
    bus_out.name = "bus-out";
    bus_out.endpoint = (char *) (self->bus_out[remote] ? self->bus_out[remote] : "");
    Corral__V1__ToolEndpoint *endpoints[] = { &tap, &bus_out };
    Corral__V1__ToolReply reply = CORRAL__V1__TOOL_REPLY__INIT;
    reply.ok = true;
    reply.instance_uuid = (char *) self->setup.uuid;
    reply.n_endpoints = 2;
    reply.endpoints = endpoints;
    send_reply(self, socket, routing_id, &reply);
}

static int
find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return (int) i;
    return -1;
}

static void
answer(corral_desk_tools_t *self, zsock_t *socket, zframe_t *routing_id,
       const Corral__V1__ToolRequest *request, bool remote)
{
    Corral__V1__ToolReply reply = CORRAL__V1__TOOL_REPLY__INIT;
    reply.id = request->id;
    reply.instance_uuid = (char *) self->setup.uuid;
    char error[256] = "";
    char *text = NULL;
    int index = find_command(request->command);
    if (!known(self, routing_id, remote))
        snprintf(error, sizeof error, "say ToolHello first");
    else if (index < 0)
        snprintf(error, sizeof error, "unknown request \"%.64s\" (known: status, stats, "
                 "workers, config, reload, restart, stop, reopen-logs, level)",
                 request->command);
    else if (request->n_args != commands[index].argc)
        snprintf(error, sizeof error, "usage: %s", commands[index].usage);
    else if (index <= 2)
        reply.view = (Corral__V1__ClusterView *) self->setup.view(self->setup.arg);
    else if (index == 3)
        reply.json = text = self->setup.config_json(self->setup.arg);
    else {
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "desk: a tool%s asks: %s", remote ? " (remote)" : "",
                   request->command);
        self->answering = socket;
        self->answering_to = routing_id;
        self->answering_id = request->id;
        self->deferred = false;
        int rc = self->setup.command(self->setup.arg, request->command, request->args,
                                     request->n_args, &text);
        self->answering = NULL;
        if (self->deferred) {
            free(text);
            return;     /* corral_desk_tools_finish answers */
        }
        if (rc == 0)
            reply.message = text;
        else
            snprintf(error, sizeof error, "%s", text ? text : "failed");
    }
    reply.ok = !error[0];
    if (error[0])
        reply.error = error;
    send_reply(self, socket, routing_id, &reply);
    free(text);
}

/* A command answered later (reload): what its reply needs. */
struct corral_desk_tools_pending {
    corral_desk_tools_t *owner;
    zsock_t *socket;
    zframe_t *routing_id;
    uint64_t id;
};

corral_desk_tools_pending_t *
corral_desk_tools_defer(corral_desk_tools_t *self)
{
    if (!self->answering)
        return NULL;
    corral_desk_tools_pending_t *pending = calloc(1, sizeof *pending);
    if (!pending)
        return NULL;
    *pending = (corral_desk_tools_pending_t) { self, self->answering, zframe_dup(
        self->answering_to), self->answering_id };
    self->deferred = true;
    return pending;
}

void
corral_desk_tools_finish(corral_desk_tools_pending_t **pending_p, bool ok, const char *message)
{
    corral_desk_tools_pending_t *pending = *pending_p;
    if (!pending)
        return;
    Corral__V1__ToolReply reply = CORRAL__V1__TOOL_REPLY__INIT;
    reply.id = pending->id;
    reply.instance_uuid = (char *) pending->owner->setup.uuid;
    reply.ok = ok;
    if (ok)
        reply.message = (char *) message;
    else
        reply.error = (char *) message;
    send_reply(pending->owner, pending->socket, pending->routing_id, &reply);
    zframe_destroy(&pending->routing_id);
    free(pending);
    *pending_p = NULL;
}

bool
corral_desk_tools_handle(corral_desk_tools_t *self, zsock_t *socket, zframe_t *routing_id,
                         const corral_envelope_t *envelope, bool remote)
{
    if (!self)
        return false;
    if (envelope->body_case == CORRAL__V1__ENVELOPE__BODY_TOOL_HELLO)
        welcome_tool(self, socket, routing_id, envelope->tool_hello, remote);
    else if (envelope->body_case == CORRAL__V1__ENVELOPE__BODY_TOOL_REQUEST)
        answer(self, socket, routing_id, envelope->tool_request, remote);
    else
        return false;
    return true;
}

void
corral_desk_tools_counters(const corral_desk_tools_t *self, Corral__V1__ToolCounters *counters)
{
    counters->requests = self->requests;
    counters->errors = self->errors;
}
