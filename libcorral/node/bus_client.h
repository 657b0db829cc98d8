/* bus_client.h: one connection to the coordinator's bus (a PUSH to bus-in,
 * a SUB to bus-out), shared by the worker's node service and by tools. It
 * turns what bus-out sends into broadcasts delivered exactly once and in
 * seq order: a Snapshot on our private topic starts (or restarts) the
 * stream, duplicates are dropped, and a gap asks for a fresh snapshot.
 * Internal to libcorral. */
#ifndef CORRAL_BUS_CLIENT_H
#define CORRAL_BUS_CLIENT_H

#include <czmq.h>
#include <stdbool.h>

#include "envelope.h"

typedef struct corral_bus_client corral_bus_client_t;

/* Called for each broadcast in seq order (from a snapshot or live). */
typedef void (corral_bus_deliver_fn)(const Corral__V1__Broadcast *broadcast, void *arg);

/* `id`: the 16 characters after "S/" of our private topic. NULL (logged)
 * when the endpoints cannot be connected. */
corral_bus_client_t *corral_bus_client_new(const char *bus_in, const char *bus_out,
                                           const char *id, int worker_id,
                                           corral_bus_deliver_fn *fn, void *arg);
void corral_bus_client_destroy(corral_bus_client_t **self_p);

/* The SUB socket, for a loop to poll; call corral_bus_client_read when it
 * is readable. */
zsock_t *corral_bus_client_socket(corral_bus_client_t *self);
/* Reads and delivers what has arrived, without blocking. Returns the
 * number of broadcasts delivered. */
int corral_bus_client_read(corral_bus_client_t *self);
/* What the reader does with one [topic][Envelope] message: the fuzz
 * target's way in. Returns 1 if it delivered a broadcast. */
int corral_bus_client_take(corral_bus_client_t *self, const void *topic, size_t topic_length,
                           const void *body, size_t body_length);

/* Sends `broadcast` (sender fields filled in here) without blocking.
 * Returns 0, or -1 when bus-in's queue is full (counted). */
int corral_bus_client_send(corral_bus_client_t *self, Corral__V1__Broadcast *broadcast);

/* Asks for a fresh snapshot (for its counters; a gap does it too, and then
 * stops the live stream until the snapshot comes). */
void corral_bus_client_resync(corral_bus_client_t *self);
/* Call now and then (every second will do): asks again when a snapshot
 * has not come within CORRAL_BUS_SNAPSHOT_RETRY_MS (a full queue may have
 * dropped it). */
void corral_bus_client_tick(corral_bus_client_t *self);
#define CORRAL_BUS_SNAPSHOT_RETRY_MS 2000

/* True once a snapshot answered the last (re)subscription. */
bool corral_bus_client_synced(const corral_bus_client_t *self);

const char *corral_bus_client_sender(const corral_bus_client_t *self);
uint64_t corral_bus_client_last_seq(const corral_bus_client_t *self);
uint64_t corral_bus_client_gaps(const corral_bus_client_t *self);
uint64_t corral_bus_client_send_failures(const corral_bus_client_t *self);
/* bus-in's counters as of the last snapshot. */
const Corral__V1__BusStats *corral_bus_client_stats(const corral_bus_client_t *self);

#endif
