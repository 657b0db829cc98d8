/* snapshot_queue.h: bounds the snapshots bus-out has handed to ZeroMQ
 * and that a subscriber has not taken yet (docs/architecture.md section 2.5, "every input
 * is bounded"). A subscriber that asks again and again and never reads
 * would otherwise make the coordinator queue the whole persisted store
 * once per request. Every snapshot part is a ZeroMQ message whose buffer
 * this queue accounts for until ZeroMQ releases it (written to the
 * subscriber's connection, or dropped); so it knows exactly what is still
 * queued, and allows one outstanding snapshot per private topic and at
 * most `max_bytes` queued in all. A request beyond either is held, and
 * the requests held for one topic become one snapshot, sent when the
 * earlier one is gone. */
#ifndef CORRAL_SNAPSHOT_QUEUE_H
#define CORRAL_SNAPSHOT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

typedef struct corral_snapshot_queue corral_snapshot_queue_t;

corral_snapshot_queue_t *corral_snapshot_queue_new(size_t max_bytes);
/* What ZeroMQ still holds is freed when ZeroMQ releases it. */
void corral_snapshot_queue_destroy(corral_snapshot_queue_t **self_p);

typedef enum {
    CORRAL_SNAPSHOT_SEND,       /* send it now */
    CORRAL_SNAPSHOT_HELD,       /* remembered: corral_snapshot_queue_release sends it */
    CORRAL_SNAPSHOT_REFUSED,    /* too many topics at once: the subscriber asks again */
} corral_snapshot_verdict_t;

/* A request for a snapshot of about `estimate` bytes on `topic`. */
corral_snapshot_verdict_t corral_snapshot_queue_request(corral_snapshot_queue_t *self,
                                                        const char *topic, size_t length,
                                                        size_t estimate);

/* Initialises `message` with `size` bytes for a part of `topic`'s
 * snapshot, accounted until ZeroMQ releases it. Returns 0 or -1. */
int corral_snapshot_queue_message(corral_snapshot_queue_t *self, const char *topic,
                                  size_t length, zmq_msg_t *message, size_t size);

/* Calls `send` for each held topic that may be served now (nothing of its
 * own still queued, and room in the cap). */
typedef void (corral_snapshot_send_fn)(const char *topic, size_t length, void *arg);
void corral_snapshot_queue_release(corral_snapshot_queue_t *self, size_t estimate,
                                   corral_snapshot_send_fn *send, void *arg);

bool corral_snapshot_queue_has_held(const corral_snapshot_queue_t *self);
/* Bytes ZeroMQ holds now. */
size_t corral_snapshot_queue_bytes(const corral_snapshot_queue_t *self);

#endif
