/* bus_client.c: a bus connection and the exactly-once, in-order stream.
 *
 * Before the first snapshot (and after a gap, until the fresh one) live
 * broadcasts are dropped: the snapshot that follows them in the stream
 * holds the persisted ones, and upto_seq says where the live stream
 * resumes. */
#include "bus_client.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bus_wire.h"
#include "log.h"

#define LOGGER "node.bus"
#define READ_BATCH 4096
#define LINGER_MS 1000
#define GAP_LOG_INTERVAL_MS 10000          /* broadcasts sent just before exit still leave */

struct corral_bus_client {
    zsock_t *push;
    zsock_t *sub;
    char topic[CORRAL_BUS_PRIVATE_TOPIC_LENGTH + 1];   /* "S/..." */
    int worker_id;
    corral_bus_deliver_fn *deliver;
    void *arg;
    bool live;                  /* delivering the live stream */
    bool awaiting_snapshot;
    int64_t asked_at;           /* when we last asked for a snapshot */
    uint64_t epoch;
    uint64_t last_seq;
    uint64_t gaps;
    int64_t gap_logged_at;      /* one warning per GAP_LOG_INTERVAL_MS */
    uint64_t send_failures;
    Corral__V1__BusStats stats;
    corral_arena_t *arena;      /* what we unpack, one message at a time */
};

static zsock_t *
connect_socket(int type, const char *endpoint)
{
    zsock_t *socket = zsock_new(type);
    if (!socket)
        return NULL;
    CORRAL_BUS_SOCKET_OPTIONS(socket, LINGER_MS);
    if (zsock_connect(socket, "%s", endpoint) != 0) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "cannot connect to %s", endpoint);
        zsock_destroy(&socket);
    }
    return socket;
}

corral_bus_client_t *
corral_bus_client_new(const char *bus_in, const char *bus_out, const char *id,
                      int worker_id, corral_bus_deliver_fn *fn, void *arg)
{
    corral_bus_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->topic, sizeof self->topic, "%s%s", CORRAL_BUS_PRIVATE_PREFIX, id);
    self->worker_id = worker_id;
    self->deliver = fn;
    self->arg = arg;
    self->arena = corral_arena_new();
    Corral__V1__BusStats stats = CORRAL__V1__BUS_STATS__INIT;
    self->stats = stats;
    if (!self->arena || strlen(self->topic) != CORRAL_BUS_PRIVATE_TOPIC_LENGTH
        || !(self->push = connect_socket(ZMQ_PUSH, bus_in))
        || !(self->sub = connect_socket(ZMQ_SUB, bus_out))) {
        corral_bus_client_destroy(&self);
        return NULL;
    }
    /* in this order: "B" is live when the coordinator reads our topic */
    zsock_set_subscribe(self->sub, CORRAL_BUS_TOPIC_BROADCAST);
    zsock_set_subscribe(self->sub, self->topic);
    self->awaiting_snapshot = true;
    self->asked_at = zclock_mono();
    return self;
}

void
corral_bus_client_destroy(corral_bus_client_t **self_p)
{
    corral_bus_client_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy(&self->push);
    zsock_destroy(&self->sub);
    corral_arena_destroy(&self->arena);
    free(self);
    *self_p = NULL;
}

zsock_t *
corral_bus_client_socket(corral_bus_client_t *self)
{
    return self->sub;
}

void
corral_bus_client_resync(corral_bus_client_t *self)
{
    self->awaiting_snapshot = true;
    self->asked_at = zclock_mono();
    zsock_set_unsubscribe(self->sub, self->topic);
    zsock_set_subscribe(self->sub, self->topic);
}

void
corral_bus_client_tick(corral_bus_client_t *self)
{
    if (self->awaiting_snapshot
        && zclock_mono() - self->asked_at >= CORRAL_BUS_SNAPSHOT_RETRY_MS) {
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "no snapshot from the bus in %d ms; asking again",
                   CORRAL_BUS_SNAPSHOT_RETRY_MS);
        corral_bus_client_resync(self);
    }
}

/* --- The stream ------------------------------------------------------------------ */

/* A snapshot, or a part of one: its persisted messages newer than ours in
 * order; the last part says where the live stream resumes. */
static void
take_snapshot(corral_bus_client_t *self, const Corral__V1__Snapshot *snapshot)
{
    if (snapshot->epoch != self->epoch) {      /* a coordinator we have not seen */
        self->epoch = snapshot->epoch;
        self->last_seq = 0;
    }
    for (size_t i = 0; i < snapshot->n_messages; i++)
        if (snapshot->messages[i]->seq > self->last_seq) {
            self->last_seq = snapshot->messages[i]->seq;
            self->deliver(snapshot->messages[i], self->arg);
        }
    if (snapshot->partial)
        return;
    const Corral__V1__BusStats *stats = snapshot->stats;
    if (stats) {        /* field by field: the message's base points into the envelope */
        self->stats.received = stats->received;
        self->stats.dropped = stats->dropped;
        self->stats.not_envelope = stats->not_envelope;
        self->stats.wrong_body = stats->wrong_body;
        self->stats.oversized = stats->oversized;
        self->stats.invalid = stats->invalid;
    }
    self->awaiting_snapshot = false;
    self->live = true;
    if (snapshot->upto_seq > self->last_seq)
        self->last_seq = snapshot->upto_seq;
}

static bool
take_broadcast(corral_bus_client_t *self, const Corral__V1__Broadcast *broadcast)
{
    if (!self->live || broadcast->epoch != self->epoch || broadcast->seq <= self->last_seq)
        return false;           /* before our snapshot, or a duplicate */
    if (broadcast->seq > self->last_seq + 1) {
        self->gaps++;
        int64_t now = zclock_mono();
        bool quiet = self->gaps > 1 && now - self->gap_logged_at < GAP_LOG_INTERVAL_MS;
        if (!quiet)
            self->gap_logged_at = now;
        corral_log(quiet ? CORRAL_LEVEL_DEBUG : CORRAL_LEVEL_WARN, LOGGER,
                   "gap on the bus: seq %llu after %llu (%llu gaps so far); resubscribing "
                   "for a fresh snapshot",
                   (unsigned long long) broadcast->seq, (unsigned long long) self->last_seq,
                   (unsigned long long) self->gaps);
        self->live = false;
        corral_bus_client_resync(self);
        return false;
    }
    self->last_seq = broadcast->seq;
    self->deliver(broadcast, self->arg);
    return true;
}

/* One [topic][Envelope] message; true if it delivered a broadcast. */
static bool
take_message(corral_bus_client_t *self, zmq_msg_t *topic, zmq_msg_t *body)
{
    return corral_bus_client_take(self, zmq_msg_data(topic), zmq_msg_size(topic),
                                  zmq_msg_data(body), zmq_msg_size(body)) == 1;
}

int
corral_bus_client_take(corral_bus_client_t *self, const void *topic, size_t length,
                       const void *body, size_t body_length)
{
    corral_envelope_t *envelope = corral_arena_unpack(self->arena, body_length, body);
    if (!envelope)
        return 0;
    bool delivered = false;
    if (envelope->body_case == CORRAL__V1__ENVELOPE__BODY_BROADCAST
        && length == strlen(CORRAL_BUS_TOPIC_BROADCAST))
        delivered = take_broadcast(self, envelope->broadcast);
    else if (envelope->body_case == CORRAL__V1__ENVELOPE__BODY_SNAPSHOT
             && length == CORRAL_BUS_PRIVATE_TOPIC_LENGTH
             && memcmp(topic, self->topic, length) == 0)
        take_snapshot(self, envelope->snapshot);
    corral_arena_free_envelope(self->arena, &envelope);
    return delivered;
}

int
corral_bus_client_read(corral_bus_client_t *self)
{
    void *sub = zsock_resolve(self->sub);
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    int delivered = 0;
    for (int i = 0; i < READ_BATCH && zmq_msg_recv(&topic, sub, ZMQ_DONTWAIT) >= 0; i++) {
        if (!zmq_msg_more(&topic) || zmq_msg_recv(&body, sub, ZMQ_DONTWAIT) < 0)
            continue;
        if (!zmq_msg_more(&body))
            delivered += take_message(self, &topic, &body);
        while (zmq_msg_more(&body) && zmq_msg_recv(&body, sub, ZMQ_DONTWAIT) >= 0)
            ;
    }
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
    return delivered;
}

/* --- Sending ------------------------------------------------------------------- */

int
corral_bus_client_send(corral_bus_client_t *self, Corral__V1__Broadcast *broadcast)
{
    broadcast->sender = self->topic;
    broadcast->sender_worker_id = (uint32_t) self->worker_id;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.protocol = CORRAL_PROTOCOL_VERSION;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_BROADCAST;
    envelope.broadcast = broadcast;
    size_t size = corral__v1__envelope__get_packed_size(&envelope);
    zmq_msg_t frame;
    if (zmq_msg_init_size(&frame, size) != 0) {
        self->send_failures++;
        return -1;
    }
    corral__v1__envelope__pack(&envelope, zmq_msg_data(&frame));
    if (zmq_msg_send(&frame, zsock_resolve(self->push), ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&frame);
        self->send_failures++;
        return -1;
    }
    return 0;
}

/* --- Accessors ------------------------------------------------------------------ */

bool
corral_bus_client_synced(const corral_bus_client_t *self)
{
    return !self->awaiting_snapshot;
}

const char *
corral_bus_client_sender(const corral_bus_client_t *self)
{
    return self->topic;
}

uint64_t
corral_bus_client_last_seq(const corral_bus_client_t *self)
{
    return self->last_seq;
}

uint64_t
corral_bus_client_gaps(const corral_bus_client_t *self)
{
    return self->gaps;
}

uint64_t
corral_bus_client_send_failures(const corral_bus_client_t *self)
{
    return self->send_failures;
}

const Corral__V1__BusStats *
corral_bus_client_stats(const corral_bus_client_t *self)
{
    return &self->stats;
}
