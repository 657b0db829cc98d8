/* log_pusher.h: a clustered worker's log sink: records (already filtered
 * by level) are packed into LogBatch envelopes and PUSHed on the
 * coordinator's `logs` socket without ever blocking the event loop
 * (ZMQ_DONTWAIT, a high HWM, then a bounded local queue retried from the
 * loop). What still cannot be queued is counted as dropped, with one
 * warning on stderr, and reported to the coordinator in the next batch. */
#ifndef CORRAL_LOG_PUSHER_H
#define CORRAL_LOG_PUSHER_H

#include <czmq.h>
#include <stdint.h>

#include "record.h"

typedef struct corral_log_pusher corral_log_pusher_t;

corral_log_pusher_t *corral_log_pusher_new(zloop_t *loop, const char *endpoint, int worker_id);
/* Every LogBatch carries `secret` (kept by the caller; NULL: none) from now on. */
void corral_log_pusher_set_secret(corral_log_pusher_t *self, const char *secret);

/* Flushes for at most `linger_ms`, then closes the socket. */
void corral_log_pusher_destroy(corral_log_pusher_t **self_p, int linger_ms);

/* The sink (corral_log_set_sink): arg is the pusher. */
void corral_log_pusher_sink(const corral_log_record_t *record, void *arg);

/* Sends everything queued, waiting up to `timeout_ms` for room. Returns 0
 * if nothing is left, -1 otherwise. */
int corral_log_pusher_flush(corral_log_pusher_t *self, int timeout_ms);

uint64_t corral_log_pusher_dropped(const corral_log_pusher_t *self);

#endif
