/* desk_client.h: a worker's side of the coordinator's `desk` socket: the
 * Hello/Welcome exchange that hands the worker its configuration, then
 * Ready and Bye. */
#ifndef CORRAL_DESK_CLIENT_H
#define CORRAL_DESK_CLIENT_H

#include <czmq.h>

#include "envelope.h"

typedef struct corral_desk_client corral_desk_client_t;

corral_desk_client_t *corral_desk_client_new(const char *endpoint, int worker_id);
void corral_desk_client_destroy(corral_desk_client_t **self_p);

/* Sends Hello and waits up to `timeout_ms` for the Welcome. Returns the
 * Welcome envelope (free it with corral_envelope_free), or NULL (logged). */
corral_envelope_t *corral_desk_client_hello(corral_desk_client_t *self, int timeout_ms);

/* The coordinator is gone: nothing queued for it is worth waiting for at
 * exit. */
void corral_desk_client_abandon(corral_desk_client_t *self);

int corral_desk_client_ready(corral_desk_client_t *self);
int corral_desk_client_bye(corral_desk_client_t *self, uint64_t last_log_seq,
                           int exit_code);

#endif
