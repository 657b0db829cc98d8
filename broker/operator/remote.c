/* remote.c: the CURVE-secured TCP sockets of node.remote. */
#include "remote.h"

#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "fsutil.h"
#include "log.h"

#define LOGGER "coordinator"
#define ZAP_DOMAIN "corral"
#define SUBSCRIPTION_MAX 4096    /* and the CURVE handshake's commands */

typedef struct {
    zsock_t *outside;           /* XPUB on tcp, CURVE server */
    zsock_t *inside;            /* XSUB on the local ipc endpoint */
    char *endpoint;
} forward_t;

struct corral_remote {
    zloop_t *loop;
    zactor_t *auth;
    zcert_t *cert;
    corral_desk_tools_t *tools;
    zsock_t *desk;
    char *desk_endpoint;
    forward_t tap;
    forward_t bus_out;
};

/* A CURVE server socket of `type` bound on host:port (port 0: any). */
static zsock_t *
bind_secure(corral_remote_t *self, int type, const char *host, int port, char **endpoint,
            char **error)
{
    zsock_t *socket = zsock_new(type);
    if (!socket) {
        *error = strdup("cannot create a socket");
        return NULL;
    }
    zcert_apply(self->cert, socket);
    zsock_set_curve_server(socket, 1);
    zsock_set_zap_domain(socket, ZAP_DOMAIN);
    zsock_set_maxmsgsize(socket, type == ZMQ_XPUB ? SUBSCRIPTION_MAX : CORRAL_MAX_FRAME_BYTES);
    char port_text[16];
    if (port)
        snprintf(port_text, sizeof port_text, "%d", port);
    else
        snprintf(port_text, sizeof port_text, "*");
    if (zsock_bind(socket, "tcp://%s:%s", host, port_text) < 0) {
        *error = corral_format("node.remote: cannot bind tcp://%s:%s: %s", host, port_text,
                               zmq_strerror(zmq_errno()));
        zsock_destroy(&socket);
        return NULL;
    }
    *endpoint = zsock_last_endpoint(socket);
    return socket;
}

/* Peeled as the local desk peels (envelope.h): the same shape and the
 * same protocol version; anything but a tool's request of this version
 * gets an error reply saying why. */
static int
on_desk(zloop_t *loop, zsock_t *reader, void *arg)
{
    corral_remote_t *self = arg;
    zmsg_t *message = zmsg_recv(reader);
    corral_peeled_t peeled;
    corral_peel_status_t status = corral_envelope_peel(message, &peeled);
    if (peeled.routing_id && (status != CORRAL_PEEL_OK
                              || !corral_desk_tools_handle(self->tools, reader, peeled.routing_id,
                                                           peeled.envelope, true)))
        corral_desk_tools_refuse(self->tools, reader, peeled.routing_id,
                                 status != CORRAL_PEEL_OK
                                 ? corral_peel_refusal(status)
                                 : "the remote desk takes tools' requests only");
    corral_peeled_release(&peeled);
    zmsg_destroy(&message);
    return 0;
}

/* Subscriptions from outside go upstream; messages come down. */
static int
on_outside(zloop_t *loop, zsock_t *reader, void *arg)
{
    forward_t *forward = arg;
    zmsg_t *message = zmsg_recv(reader);
    if (message)
        zmsg_send(&message, forward->inside);
    zmsg_destroy(&message);
    return 0;
}

static int
on_inside(zloop_t *loop, zsock_t *reader, void *arg)
{
    forward_t *forward = arg;
    zmsg_t *message = zmsg_recv(reader);
    if (message)
        zmsg_send(&message, forward->outside);     /* XPUB drops at its HWM */
    zmsg_destroy(&message);
    return 0;
}

static int
start_forward(corral_remote_t *self, forward_t *forward, const char *inside, const char *host,
              int port, char **error)
{
    forward->outside = bind_secure(self, ZMQ_XPUB, host, port, &forward->endpoint, error);
    if (!forward->outside)
        return -1;
    forward->inside = zsock_new_xsub(inside);
    if (!forward->inside) {
        *error = corral_format("node.remote: cannot connect to %s", inside);
        return -1;
    }
    zloop_reader(self->loop, forward->outside, on_outside, forward);
    zloop_reader(self->loop, forward->inside, on_inside, forward);
    return 0;
}

static void
stop_forward(corral_remote_t *self, forward_t *forward)
{
    if (forward->outside)
        zloop_reader_end(self->loop, forward->outside);
    if (forward->inside)
        zloop_reader_end(self->loop, forward->inside);
    zsock_destroy(&forward->outside);
    zsock_destroy(&forward->inside);
    zstr_free(&forward->endpoint);
}

/* tcp://HOST:PORT -> host (free it) and port. */
static char *
split_endpoint(const char *endpoint, int *port)
{
    const char *address = endpoint + strlen("tcp://");
    const char *colon = strrchr(address, ':');
    if (!colon)
        return NULL;
    *port = strcmp(colon + 1, "*") == 0 ? 0 : atoi(colon + 1);
    if (*port < 0 || *port > 65533)
        return NULL;
    return strndup(address, (size_t) (colon - address));
}

corral_remote_t *
corral_remote_new(zloop_t *loop, const corral_config_t *config, const char *tap_endpoint,
                  const char *bus_out_endpoint, corral_desk_tools_t *tools, char **error)
{
    corral_remote_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->tools = tools;
    int port = 0;
    char *host = split_endpoint(config->node.remote.endpoint, &port);
    self->cert = zcert_load(config->node.remote.secret_key);
    if (!host)
        *error = corral_format("node.remote.endpoint: %s is not tcp://HOST:PORT",
                               config->node.remote.endpoint);
    else if (!self->cert || !*zcert_secret_txt(self->cert)
             || strcmp(zcert_secret_txt(self->cert), "0000000000000000000000000000000000000000") == 0)
        *error = corral_format("node.remote.curve.secret_key: %s holds no secret key",
                               config->node.remote.secret_key);
    else {
        self->auth = zactor_new(zauth, NULL);
        zstr_sendx(self->auth, "CURVE", config->node.remote.authorized_keys, NULL);
        zsock_wait(self->auth);
        self->desk = bind_secure(self, ZMQ_ROUTER, host, port, &self->desk_endpoint, error);
        if (self->desk && zloop_reader(loop, self->desk, on_desk, self) == 0
            && start_forward(self, &self->tap, tap_endpoint, host, port ? port + 1 : 0,
                             error) == 0
            && start_forward(self, &self->bus_out, bus_out_endpoint, host,
                             port ? port + 2 : 0, error) == 0) {
            free(host);
            return self;
        }
    }
    free(host);
    corral_remote_destroy(&self);
    return NULL;
}

void
corral_remote_destroy(corral_remote_t **self_p)
{
    corral_remote_t *self = *self_p;
    if (!self)
        return;
    stop_forward(self, &self->tap);
    stop_forward(self, &self->bus_out);
    if (self->desk)
        zloop_reader_end(self->loop, self->desk);
    zsock_destroy(&self->desk);
    zstr_free(&self->desk_endpoint);
    zactor_destroy(&self->auth);
    zcert_destroy(&self->cert);
    free(self);
    *self_p = NULL;
}

const char *
corral_remote_desk(const corral_remote_t *self)
{
    return self->desk_endpoint;
}

const char *
corral_remote_tap(const corral_remote_t *self)
{
    return self->tap.endpoint;
}

const char *
corral_remote_bus_out(const corral_remote_t *self)
{
    return self->bus_out.endpoint;
}

const char *
corral_remote_public_key(const corral_remote_t *self)
{
    return zcert_public_txt(self->cert);
}
