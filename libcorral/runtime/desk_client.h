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

/* The secret to present in Hello (CORRAL_SECRET_LENGTH characters, kept
 * by the caller), read from the descriptor the coordinator handed over. */
void corral_desk_client_set_secret(corral_desk_client_t *self, const char *secret);

/* Sends Hello and waits up to `timeout_ms` for the Welcome. Returns the
 * Welcome envelope (free it with corral_envelope_free), or NULL (logged). */
corral_envelope_t *corral_desk_client_hello(corral_desk_client_t *self, int timeout_ms);

/* After a failed hello: true when the coordinator and this worker speak
 * different protocol versions (the worker then exits 78). */
bool corral_desk_client_refused(const corral_desk_client_t *self);

/* The coordinator is gone: nothing queued for it is worth waiting for at
 * exit. */
void corral_desk_client_abandon(corral_desk_client_t *self);

/* From then on, every Envelope the coordinator sends (unasked, or in
 * answer to corral_desk_client_send) is handed to `fn` from `loop`;
 * malformed messages are dropped and counted. Returns 0 or -1. The
 * envelope is freed after `fn` returns. */
typedef void (corral_desk_envelope_fn)(const corral_envelope_t *envelope, void *arg);
int corral_desk_client_listen(corral_desk_client_t *self, zloop_t *loop,
                              corral_desk_envelope_fn *fn, void *arg);

/* Sends one Envelope without blocking. Returns 0, or -1 if it cannot be
 * queued now. */
int corral_desk_client_send(corral_desk_client_t *self, const corral_envelope_t *envelope);

/* The socket, for a loop of the caller's to watch (external_loop.c). */
zsock_t *corral_desk_client_socket(corral_desk_client_t *self);

/* Messages from the coordinator that were not Envelopes. */
uint64_t corral_desk_client_dropped(const corral_desk_client_t *self);

int corral_desk_client_ready(corral_desk_client_t *self);
int corral_desk_client_bye(corral_desk_client_t *self, uint64_t last_log_seq,
                           int exit_code);

#endif
