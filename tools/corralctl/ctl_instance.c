/* ctl_instance.c: finding an instance and talking to its desk. */
#include "ctl_instance.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_data_dir.h"

#define DEFAULT_CONFIG "config/corral.yml"
#define ENDPOINTS_FILE "endpoints.json"

struct ctl_instance {
    zsock_t *desk;
    zcert_t *cert;              /* remote: ours */
    char *server_key;           /* remote: the server's public key (Z85) */
    char *uuid;
    char *tap;
    char *bus_out;
    int timeout_ms;
    uint64_t next_id;
    pid_t pid;                  /* the coordinator's; 0 when remote */
};

/* The desk endpoint from <data>/endpoints.json, if its PID lives. */
static char *
local_desk(const ctl_target_t *target, pid_t *coordinator, int *exit_code)
{
    char *data = target->data_dir ? strdup(target->data_dir)
                                  : ctl_data_dir(target->config_file ? target->config_file
                                                                     : DEFAULT_CONFIG, exit_code);
    if (!data)
        return NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/" ENDPOINTS_FILE, data);
    free(data);
    json_error_t error;
    json_t *document = json_load_file(path, 0, &error);
    const char *desk = json_string_value(json_object_get(
        json_object_get(document, "endpoints"), "desk"));
    json_int_t pid = json_integer_value(json_object_get(document, "pid"));
    char *endpoint = NULL;
    if (!document)
        fprintf(stderr, "corralctl: no instance: %s: %s\n", path,
                errno == ENOENT ? "no such file (is corral running?)" : error.text);
    else if (!desk || pid <= 0)
        fprintf(stderr, "corralctl: %s names no desk endpoint\n", path);
    else if (kill((pid_t) pid, 0) != 0 && errno == ESRCH)
        fprintf(stderr, "corralctl: no instance: %s is stale (process %lld is gone)\n", path,
                (long long) pid);
    else {
        endpoint = strdup(desk);
        *coordinator = (pid_t) pid;
    }
    json_decref(document);
    return endpoint;
}

/* CURVE client on `socket`: our certificate and the server's key. */
static void
secure(ctl_instance_t *self, zsock_t *socket)
{
    if (!self->cert)
        return;
    zcert_apply(self->cert, socket);
    zsock_set_curve_serverkey(socket, self->server_key);
}

static int
load_keys(ctl_instance_t *self, const ctl_target_t *target)
{
    if (!target->key_file || !target->server_key) {
        fprintf(stderr, "corralctl: --remote needs --key FILE and --server-key FILE "
                        "(corralctl keygen writes a pair)\n");
        return -1;
    }
    self->cert = zcert_load(target->key_file);
    zcert_t *server = zcert_load(target->server_key);
    if (!self->cert || !server) {
        fprintf(stderr, "corralctl: cannot read the key %s\n",
                self->cert ? target->server_key : target->key_file);
        zcert_destroy(&server);
        return -1;
    }
    self->server_key = strdup(zcert_public_txt(server));
    zcert_destroy(&server);
    return 0;
}

static corral_envelope_t *
exchange(ctl_instance_t *self, const corral_envelope_t *request)
{
    if (corral_envelope_send(self->desk, NULL, request, 0) != 0)
        return NULL;
    zmq_pollitem_t item = { zsock_resolve(self->desk), 0, ZMQ_POLLIN, 0 };
    int64_t deadline = zclock_mono() + self->timeout_ms;
    while (zclock_mono() < deadline) {
        if (zmq_poll(&item, 1, (long) (deadline - zclock_mono())) <= 0)
            continue;
        zmsg_t *message = zmsg_recv(self->desk);
        zframe_t *frame = message ? zmsg_last(message) : NULL;
        corral_envelope_t *reply = frame ? corral_envelope_decode(frame) : NULL;
        zmsg_destroy(&message);
        if (reply && reply->body_case == CORRAL__V1__ENVELOPE__BODY_TOOL_REPLY
            && (request->body_case != CORRAL__V1__ENVELOPE__BODY_TOOL_REQUEST
                || reply->tool_reply->id == request->tool_request->id))
            return reply;
        corral_envelope_free(&reply);   /* an answer to an earlier request */
    }
    return NULL;
}

static int
say_hello(ctl_instance_t *self)
{
    Corral__V1__ToolHello hello = CORRAL__V1__TOOL_HELLO__INIT;
    hello.name = "corralctl";
    hello.pid = (uint32_t) getpid();
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TOOL_HELLO;
    envelope.tool_hello = &hello;
    corral_envelope_t *reply = exchange(self, &envelope);
    if (!reply || !reply->tool_reply->ok) {
        fprintf(stderr, "corralctl: no instance answers on desk%s%s\n",
                reply ? ": " : "", reply ? reply->tool_reply->error : "");
        corral_envelope_free(&reply);
        return -1;
    }
    Corral__V1__ToolReply *answer = reply->tool_reply;
    self->uuid = strdup(answer->instance_uuid);
    for (size_t i = 0; i < answer->n_endpoints; i++) {
        if (strcmp(answer->endpoints[i]->name, "tap") == 0)
            self->tap = strdup(answer->endpoints[i]->endpoint);
        else if (strcmp(answer->endpoints[i]->name, "bus-out") == 0)
            self->bus_out = strdup(answer->endpoints[i]->endpoint);
    }
    corral_envelope_free(&reply);
    return 0;
}

ctl_instance_t *
ctl_instance_connect(const ctl_target_t *target, int *exit_code)
{
    *exit_code = CTL_EXIT_NO_INSTANCE;
    ctl_instance_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->timeout_ms = target->timeout_ms;
    self->next_id = 1;
    char *endpoint = NULL;
    if (target->remote) {
        if (load_keys(self, target) == 0)
            endpoint = strdup(target->remote);
        else
            *exit_code = CTL_EXIT_USAGE;
    }
    else
        endpoint = local_desk(target, &self->pid, exit_code);
    if (endpoint) {
        self->desk = zsock_new(ZMQ_DEALER);
        zsock_set_linger(self->desk, 0);
        secure(self, self->desk);
        if (zsock_connect(self->desk, "%s", endpoint) != 0)
            fprintf(stderr, "corralctl: cannot connect to %s\n", endpoint);
        else if (say_hello(self) == 0) {
            free(endpoint);
            return self;
        }
    }
    free(endpoint);
    ctl_instance_destroy(&self);
    return NULL;
}

void
ctl_instance_destroy(ctl_instance_t **self_p)
{
    ctl_instance_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy(&self->desk);
    zcert_destroy(&self->cert);
    free(self->server_key);
    free(self->uuid);
    free(self->tap);
    free(self->bus_out);
    free(self);
    *self_p = NULL;
}

const char *
ctl_instance_uuid(const ctl_instance_t *self)
{
    return self->uuid;
}

corral_envelope_t *
ctl_instance_ask(ctl_instance_t *self, const char *command, char **args, size_t argc)
{
    Corral__V1__ToolRequest request = CORRAL__V1__TOOL_REQUEST__INIT;
    request.command = (char *) command;
    request.args = args;
    request.n_args = argc;
    request.id = self->next_id++;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TOOL_REQUEST;
    envelope.tool_request = &request;
    corral_envelope_t *reply = exchange(self, &envelope);
    if (!reply)
        fprintf(stderr, "corralctl: the instance did not answer \"%s\" within %d ms\n",
                command, self->timeout_ms);
    return reply;
}

zsock_t *
ctl_instance_subscribe(ctl_instance_t *self, const char *name)
{
    const char *endpoint = strcmp(name, "tap") == 0 ? self->tap : self->bus_out;
    if (!endpoint || !*endpoint) {
        fprintf(stderr, "corralctl: the instance names no %s endpoint\n", name);
        return NULL;
    }
    zsock_t *socket = zsock_new(ZMQ_SUB);
    if (!socket)
        return NULL;
    zsock_set_rcvhwm(socket, 100000);
    secure(self, socket);
    if (zsock_connect(socket, "%s", endpoint) != 0) {
        fprintf(stderr, "corralctl: cannot connect to %s\n", endpoint);
        zsock_destroy(&socket);
    }
    return socket;
}

/* A zombie's state in /proc/PID/stat is Z: exited, not reaped yet. */
static bool
zombie(pid_t pid)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen(path, "r");
    if (!file)
        return false;
    size_t length = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[length] = '\0';
    const char *end_of_name = strrchr(text, ')');   /* the name may hold spaces */
    return end_of_name && end_of_name[1] == ' ' && end_of_name[2] == 'Z';
}

bool
ctl_instance_alive(const ctl_instance_t *self)
{
    if (self->pid == 0)
        return true;
    if (kill(self->pid, 0) != 0 && errno == ESRCH)
        return false;
    return !zombie(self->pid);
}

pid_t
ctl_instance_pid(const ctl_instance_t *self)
{
    return self->pid;
}
