/* desk_client.c: Hello/Welcome, Ready and Bye on `desk` (a DEALER that
 * speaks in REQ-compatible [empty][Envelope] messages). */
#include "desk_client.h"

#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop_delay.h"

#define LOGGER "node"
/* Long enough for Bye to reach the coordinator's socket at exit (on ipc://
 * that takes microseconds), short enough not to delay an orphan's exit. */
#define BYE_LINGER_MS 200

struct corral_desk_client {
    zsock_t *socket;
    int worker_id;
    zloop_t *loop;                  /* once listening */
    corral_desk_envelope_fn *on_envelope;
    void *on_envelope_arg;
    uint64_t dropped;
    bool refused;                   /* the protocol versions differ */
    const char *secret;             /* NULL: none was handed over */
};

corral_desk_client_t *
corral_desk_client_new(const char *endpoint, int worker_id)
{
    corral_desk_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->worker_id = worker_id;
    self->socket = zsock_new(ZMQ_DEALER);
    if (!self->socket) {
        free(self);
        return NULL;
    }
    zsock_set_maxmsgsize(self->socket, CORRAL_MAX_FRAME_BYTES);
    zsock_set_linger(self->socket, BYE_LINGER_MS);
    if (zsock_connect(self->socket, "%s", endpoint) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot connect to desk at %s", endpoint);
        corral_desk_client_destroy(&self);
    }
    return self;
}

void
corral_desk_client_destroy(corral_desk_client_t **self_p)
{
    corral_desk_client_t *self = *self_p;
    if (!self)
        return;
    if (self->loop)
        zloop_reader_end(self->loop, self->socket);
    zsock_destroy(&self->socket);
    free(self);
    *self_p = NULL;
}

/* Receives [empty][Envelope]; NULL on timeout or a malformed message. */
static corral_envelope_t *
receive_envelope(corral_desk_client_t *self, int timeout_ms)
{
    zsock_set_rcvtimeo(self->socket, timeout_ms);
    zmsg_t *message = zmsg_recv(self->socket);
    if (!message)
        return NULL;
    zframe_t *delimiter = zmsg_pop(message);
    zframe_t *body = zmsg_pop(message);
    corral_envelope_t *envelope = NULL;
    if (delimiter && zframe_size(delimiter) == 0 && body && zmsg_size(message) == 0)
        envelope = corral_envelope_decode(body);
    zframe_destroy(&delimiter);
    zframe_destroy(&body);
    zmsg_destroy(&message);
    return envelope;
}

/* The versions differ (docs/worker-protocol.md, "Versions"): say so, in
 * the coordinator's words when it sent a ProtocolError. */
static void
refuse(corral_desk_client_t *self, const corral_envelope_t *reply)
{
    self->refused = true;
    if (reply->body_case == CORRAL__V1__ENVELOPE__BODY_PROTOCOL_ERROR)
        corral_log(CORRAL_LEVEL_FATAL, LOGGER,
                   "the coordinator refused this worker (protocol version %u; it speaks %u to "
                   "%u): %s", CORRAL_PROTOCOL_VERSION, reply->protocol_error->min_supported,
                   reply->protocol_error->max_supported, reply->protocol_error->message);
    else
        corral_log(CORRAL_LEVEL_FATAL, LOGGER,
                   "the coordinator speaks corral protocol version %u, this worker speaks "
                   "version %u: use a worker built for this corral", reply->protocol,
                   CORRAL_PROTOCOL_VERSION);
}

bool
corral_desk_client_refused(const corral_desk_client_t *self)
{
    return self->refused;
}

void
corral_desk_client_set_secret(corral_desk_client_t *self, const char *secret)
{
    self->secret = secret;
}

corral_envelope_t *
corral_desk_client_hello(corral_desk_client_t *self, int timeout_ms)
{
    Corral__V1__Hello hello = CORRAL__V1__HELLO__INIT;
    hello.worker_id = (uint32_t) self->worker_id;
    hello.pid = (uint32_t) getpid();
    if (self->secret)
        hello.secret = (ProtobufCBinaryData) { strlen(self->secret), (uint8_t *) self->secret };
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_HELLO;
    envelope.hello = &hello;
    if (corral_envelope_send(self->socket, NULL, &envelope, 0) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot send Hello on desk");
        return NULL;
    }
    corral_envelope_t *reply = receive_envelope(self, timeout_ms);
    if (!reply)
        corral_log(CORRAL_LEVEL_FATAL, LOGGER,
                   "no Welcome from the coordinator within %d ms", timeout_ms);
    else if (reply->protocol != CORRAL_PROTOCOL_VERSION
             || reply->body_case == CORRAL__V1__ENVELOPE__BODY_PROTOCOL_ERROR) {
        refuse(self, reply);
        corral_envelope_free(&reply);
    }
    else if (reply->body_case != CORRAL__V1__ENVELOPE__BODY_WELCOME
             || !reply->welcome->config) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER,
                   "the coordinator answered Hello with something else than a Welcome");
        corral_envelope_free(&reply);
    }
    return reply;
}

void
corral_desk_client_abandon(corral_desk_client_t *self)
{
    zsock_set_linger(self->socket, 0);
}

static int
on_readable(zloop_t *loop, zsock_t *reader, void *arg)
{
    corral_desk_client_t *self = arg;
    corral_loop_delay_turn();
    corral_envelope_t *envelope = receive_envelope(self, 0);
    if (!envelope) {
        self->dropped++;
        if (self->dropped == 1)
            corral_log(CORRAL_LEVEL_WARN, LOGGER,
                       "desk: dropped a message from the coordinator that is not an Envelope");
        return 0;
    }
    self->on_envelope(envelope, self->on_envelope_arg);
    corral_envelope_free(&envelope);
    return 0;
}

int
corral_desk_client_listen(corral_desk_client_t *self, zloop_t *loop,
                          corral_desk_envelope_fn *fn, void *arg)
{
    self->on_envelope = fn;
    self->on_envelope_arg = arg;
    if (self->loop)
        return 0;
    if (zloop_reader(loop, self->socket, on_readable, self) != 0)
        return -1;
    self->loop = loop;
    return 0;
}

int
corral_desk_client_send(corral_desk_client_t *self, const corral_envelope_t *envelope)
{
    return corral_envelope_send(self->socket, NULL, envelope, ZFRAME_DONTWAIT);
}

zsock_t *
corral_desk_client_socket(corral_desk_client_t *self)
{
    return self->socket;
}

uint64_t
corral_desk_client_dropped(const corral_desk_client_t *self)
{
    return self->dropped;
}

int
corral_desk_client_ready(corral_desk_client_t *self)
{
    Corral__V1__Ready ready = CORRAL__V1__READY__INIT;
    ready.worker_id = (uint32_t) self->worker_id;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_READY;
    envelope.ready = &ready;
    return corral_desk_client_send(self, &envelope);
}

int
corral_desk_client_bye(corral_desk_client_t *self, uint64_t last_log_seq, int exit_code)
{
    Corral__V1__Bye bye = CORRAL__V1__BYE__INIT;
    bye.worker_id = (uint32_t) self->worker_id;
    bye.last_log_seq = last_log_seq;
    bye.exit_code = exit_code;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_BYE;
    envelope.bye = &bye;
    return corral_desk_client_send(self, &envelope);
}
