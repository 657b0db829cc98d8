/* remote.h: node.remote (docs/architecture.md section 2.4): `tap`, `bus-out` and the tool
 * side of `desk` on TCP, only with CURVE (czmq's zcert and zauth): the
 * server's certificate from curve.secret_key, clients' public certificates
 * in curve.authorized_keys; a client whose key is not there, or that does
 * not speak CURVE, gets nothing. desk is at the configured port, tap at
 * port + 1, bus-out at port + 2 (each its own ephemeral port when the
 * port is 0). tap and bus-out are forwarded from the local sockets
 * (XSUB -> XPUB, subscriptions upstream), so the tap still formats only
 * what some subscriber, local or remote, asked for. */
#ifndef CORRAL_REMOTE_H
#define CORRAL_REMOTE_H

#include <czmq.h>

#include "config.h"
#include "desk_tools.h"

typedef struct corral_remote corral_remote_t;

/* NULL with *error set (free it) on failure. */
corral_remote_t *corral_remote_new(zloop_t *loop, const corral_config_t *config,
                                   const char *tap_endpoint, const char *bus_out_endpoint,
                                   corral_desk_tools_t *tools, char **error);
void corral_remote_destroy(corral_remote_t **self_p);

/* The bound tcp:// endpoints, and the server's public key (Z85). */
const char *corral_remote_desk(const corral_remote_t *self);
const char *corral_remote_tap(const corral_remote_t *self);
const char *corral_remote_bus_out(const corral_remote_t *self);
const char *corral_remote_public_key(const corral_remote_t *self);

#endif
