/* bus.c: the broadcast bus. It owns the bus-in and bus-out sockets, the
 * global sequence, the persisted store and the counters of dropped input.
 *
 * Clone pattern on one connection: a subscriber subscribes to "B" (every
 * broadcast) and then to its private topic; XPUB applies subscriptions in
 * order, so when we read the private one, "B" is live for that subscriber
 * and the Snapshot we send (upto_seq = the last seq sent) joins the stream
 * exactly where its broadcasts begin. */
#include "bus.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "bus_wire.h"
#include "envelope.h"
#include "fsutil.h"
#include "log.h"
#include "snapshot_queue.h"
#include "loop_delay.h"

#define LOGGER "coordinator.bus"
#define DROP_LOG_INTERVAL_MS 10000
#define SNAPSHOT_MARGIN_BYTES 4096     /* the Snapshot's own fields */
#define READ_BATCH 4096         /* messages read per wake-up, to let the loop breathe */
#define HELD_SNAPSHOT_CHECK_MS 20   /* how soon a held snapshot follows the earlier one */
#define SNAPSHOT_QUEUE_MIN_BYTES (8 * 1024 * 1024)

struct corral_bus {
    zloop_t *loop;
    char *in_endpoint;
    char *out_endpoint;
    zsock_t *in;
    zsock_t *out;
    uint64_t seq;
    uint64_t epoch;
    zhashx_t *persisted;        /* "plugin\x1ftype" -> corral_envelope_t* */
    uint64_t max_persisted_bytes;   /* node.bus.max_persisted_bytes */
    corral_snapshot_queue_t *snapshots;     /* what bus-out's snapshots hold in ZeroMQ */
    int held_timer;             /* -1: none armed */
    Corral__V1__BusStats stats;
    int64_t drop_logged_at;
    corral_arena_t *arena;      /* broadcasts in transit, one at a time */
    uint64_t imported_upto;     /* a successor's: the predecessor's store ends here */
};

static int on_bus_in(zloop_t *loop, zsock_t *reader, void *arg);
static int on_bus_out(zloop_t *loop, zsock_t *reader, void *arg);

static void
destroy_envelope(void **item)
{
    corral_envelope_free((corral_envelope_t **) item);
}

static uint64_t
unix_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t) now.tv_sec * 1000000u + (uint64_t) now.tv_nsec / 1000u;
}

static zsock_t *
bind_socket(int type, const char *endpoint)
{
    zsock_t *socket = zsock_new(type);
    if (!socket)
        return NULL;
    CORRAL_BUS_SOCKET_OPTIONS(socket, 0);
    if (type == ZMQ_PULL)       /* bus-in: a frame over the limit is received to be counted */
        zsock_set_maxmsgsize(socket, CORRAL_MAX_TRANSPORT_BYTES);
    if (type == ZMQ_XPUB)
        zsock_set_xpub_verbose(socket, 1);     /* every resubscription asks for a snapshot */
    if (zsock_bind(socket, "%s", endpoint) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot bind %s: %s", endpoint,
                   zmq_strerror(zmq_errno()));
        zsock_destroy(&socket);
    }
    return socket;
}

corral_bus_t *
corral_bus_new(zloop_t *loop, const char *runtime_dir, uint64_t max_persisted_bytes)
{
    corral_bus_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->max_persisted_bytes = max_persisted_bytes;
    self->held_timer = -1;
    /* room for a worker's snapshot while another one is still on its way */
    uint64_t queue_bytes = 2 * max_persisted_bytes;
    self->snapshots = corral_snapshot_queue_new(
        queue_bytes > SNAPSHOT_QUEUE_MIN_BYTES ? (size_t) queue_bytes : SNAPSHOT_QUEUE_MIN_BYTES);
    self->epoch = unix_us();
    self->arena = corral_arena_new();
    Corral__V1__BusStats stats = CORRAL__V1__BUS_STATS__INIT;
    self->stats = stats;
    self->persisted = zhashx_new();
    self->in_endpoint = corral_format("ipc://%s/%s", runtime_dir, CORRAL_BUS_IN_NAME);
    self->out_endpoint = corral_format("ipc://%s/%s", runtime_dir, CORRAL_BUS_OUT_NAME);
    if (!self->persisted || !self->snapshots || !self->in_endpoint || !self->out_endpoint
        || !(self->in = bind_socket(ZMQ_PULL, self->in_endpoint))
        || !(self->out = bind_socket(ZMQ_XPUB, self->out_endpoint))
        || zloop_reader(loop, self->in, on_bus_in, self) != 0
        || zloop_reader(loop, self->out, on_bus_out, self) != 0) {
        corral_bus_destroy(&self);
        return NULL;
    }
    zhashx_set_destructor(self->persisted, destroy_envelope);
    /* clients on the same machine find the bus here (or under
     * $XDG_RUNTIME_DIR/corral.*): see README, "The node service" */
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "bus at %s and %s (epoch %llu)",
               self->in_endpoint, self->out_endpoint, (unsigned long long) self->epoch);
    return self;
}

void
corral_bus_destroy(corral_bus_t **self_p)
{
    corral_bus_t *self = *self_p;
    if (!self)
        return;
    if (self->in)
        zloop_reader_end(self->loop, self->in);
    if (self->out)
        zloop_reader_end(self->loop, self->out);
    if (self->held_timer >= 0)
        zloop_timer_end(self->loop, self->held_timer);
    zsock_destroy(&self->in);
    zsock_destroy(&self->out);
    zhashx_destroy(&self->persisted);
    corral_snapshot_queue_destroy(&self->snapshots);
    corral_arena_destroy(&self->arena);
    free(self->in_endpoint);
    free(self->out_endpoint);
    free(self);
    *self_p = NULL;
}

const char *
corral_bus_in_endpoint(const corral_bus_t *self)
{
    return self->in_endpoint;
}

const char *
corral_bus_out_endpoint(const corral_bus_t *self)
{
    return self->out_endpoint;
}

Corral__V1__BusStats *
corral_bus_stats(corral_bus_t *self)
{
    return &self->stats;
}

/* --- bus-in ------------------------------------------------------------------- */

/* Counts the drop in `counter` and the total; one warning line per
 * DROP_LOG_INTERVAL_MS at most. */
static void
drop(corral_bus_t *self, uint64_t *counter, const char *what)
{
    (*counter)++;
    self->stats.dropped++;
    int64_t now = zclock_mono();
    if (self->stats.dropped == 1 || now - self->drop_logged_at >= DROP_LOG_INTERVAL_MS) {
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "bus-in: dropped %s (%llu dropped so far)",
                   what, (unsigned long long) self->stats.dropped);
        self->drop_logged_at = now;
    }
}

/* Sends [topic][envelope] without blocking. A snapshot's part is
 * accounted in the snapshot queue until ZeroMQ lets go of it. */
static void
send_on_topic(corral_bus_t *self, const char *topic, size_t topic_length,
              corral_envelope_t *envelope)
{
    envelope->protocol = CORRAL_PROTOCOL_VERSION;
    size_t size = corral__v1__envelope__get_packed_size(envelope);
    zmq_msg_t body;
    if (envelope->body_case == CORRAL__V1__ENVELOPE__BODY_SNAPSHOT
        ? corral_snapshot_queue_message(self->snapshots, topic, topic_length, &body, size) != 0
        : zmq_msg_init_size(&body, size) != 0)
        return;
    corral__v1__envelope__pack(envelope, zmq_msg_data(&body));
    void *out = zsock_resolve(self->out);
    if (zmq_send(out, topic, topic_length, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_msg_send(&body, out, ZMQ_DONTWAIT) < 0)
        zmq_msg_close(&body);
}

static char *
persisted_key(const Corral__V1__Broadcast *broadcast)
{
    return corral_format("%s\x1f%s", broadcast->plugin, broadcast->type);
}

bool
corral_bus_has_persisted(corral_bus_t *self, const char *plugin, const char *type)
{
    char *key = corral_format("%s\x1f%s", plugin, type);
    bool found = key && zhashx_lookup(self->persisted, key) != NULL;
    free(key);
    return found;
}

/* The store's size if `envelope` took the place of what it holds for the
 * same (plugin, type). */
static uint64_t
store_bytes_with(corral_bus_t *self, const char *key, corral_envelope_t *envelope)
{
    corral_envelope_t *old = zhashx_lookup(self->persisted, key);
    uint64_t old_size = old ? corral__v1__envelope__get_packed_size(old) : 0;
    return self->stats.persisted_bytes - old_size
         + corral__v1__envelope__get_packed_size(envelope);
}

/* The store keeps its own copy, off the arena. */
static void
keep_persisted(corral_bus_t *self, const char *key, corral_envelope_t *envelope)
{
    size_t size = corral__v1__envelope__get_packed_size(envelope);
    uint64_t total = store_bytes_with(self, key, envelope);
    uint8_t *packed = malloc(size ? size : 1);
    corral_envelope_t *copy = NULL;
    if (packed) {
        corral__v1__envelope__pack(envelope, packed);
        copy = corral__v1__envelope__unpack(NULL, size, packed);
        free(packed);
    }
    if (!copy)
        return;
    zhashx_update(self->persisted, key, copy);      /* the store owns it now */
    self->stats.persisted_bytes = total;
}

/* A valid broadcast: sequenced and sent, and kept when it persists, unless
 * keeping it would take the store past its limit (then it is refused as
 * a whole: the sender counts on it being kept). */
static void
sequence(corral_bus_t *self, corral_envelope_t *envelope)
{
    Corral__V1__Broadcast *broadcast = envelope->broadcast;
    char *key = broadcast->persist ? persisted_key(broadcast) : NULL;
    if (broadcast->persist && !key)
        return;
    broadcast->seq = self->seq + 1;
    broadcast->epoch = self->epoch;
    if (key && store_bytes_with(self, key, envelope) > self->max_persisted_bytes) {
        drop(self, &self->stats.over_store_limit,
             "a persisted Broadcast that would take the store past "
             "node.bus.max_persisted_bytes");
        free(key);
        return;
    }
    self->seq++;
    self->stats.received++;
    send_on_topic(self, CORRAL_BUS_TOPIC_BROADCAST, strlen(CORRAL_BUS_TOPIC_BROADCAST),
                  envelope);
    if (key)
        keep_persisted(self, key, envelope);
    free(key);
}

static void
take_broadcast(corral_bus_t *self, const void *data, size_t size)
{
    if (size > CORRAL_MAX_BROADCAST_BYTES) {
        drop(self, &self->stats.oversized, "an oversized frame");
        return;
    }
    corral_envelope_t *envelope = corral_arena_unpack(self->arena, size, data);
    if (!envelope) {
        drop(self, &self->stats.not_envelope, "a frame that is not an Envelope");
        return;
    }
    Corral__V1__Broadcast *broadcast = envelope->broadcast;
    if (envelope->body_case != CORRAL__V1__ENVELOPE__BODY_BROADCAST)
        drop(self, &self->stats.wrong_body, "an Envelope that is not a Broadcast");
    else if (!*broadcast->plugin || !*broadcast->type)
        drop(self, &self->stats.invalid, "a Broadcast with an empty plugin or type");
    else
        sequence(self, envelope);
    corral_arena_free_envelope(self->arena, &envelope);
}

/* Reads what bus-in holds (up to a batch) without blocking. */
static int
on_bus_in(zloop_t *loop, zsock_t *reader, void *arg)
{
    corral_bus_t *self = arg;
    corral_loop_delay_turn();
    void *in = zsock_resolve(self->in);
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    for (int i = 0; i < READ_BATCH && zmq_msg_recv(&frame, in, ZMQ_DONTWAIT) >= 0; i++) {
        if (!zmq_msg_more(&frame)) {
            take_broadcast(self, zmq_msg_data(&frame), zmq_msg_size(&frame));
            continue;
        }
        while (zmq_msg_more(&frame) && zmq_msg_recv(&frame, in, ZMQ_DONTWAIT) >= 0)
            ;
        drop(self, &self->stats.invalid, "a message of several frames");
    }
    zmq_msg_close(&frame);
    return 0;
}

void
corral_bus_read_pending(corral_bus_t *self)
{
    for (int i = 0; i < 64 && zsock_events(self->in) & ZMQ_POLLIN; i++)
        on_bus_in(self->loop, self->in, self);
}

/* --- bus-out: snapshots --------------------------------------------------------- */

static int
by_seq(const void *a, const void *b)
{
    uint64_t x = (*(Corral__V1__Broadcast *const *) a)->seq;
    uint64_t y = (*(Corral__V1__Broadcast *const *) b)->seq;
    return x < y ? -1 : x > y;
}

static void
send_snapshot_part(corral_bus_t *self, const char *topic, size_t topic_length,
                   Corral__V1__Broadcast **messages, size_t count, bool partial)
{
    Corral__V1__Snapshot snapshot = CORRAL__V1__SNAPSHOT__INIT;
    snapshot.upto_seq = partial ? 0 : self->seq;
    snapshot.epoch = self->epoch;
    snapshot.n_messages = count;
    snapshot.messages = messages;
    snapshot.stats = partial ? NULL : &self->stats;
    snapshot.partial = partial;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_SNAPSHOT;
    envelope.snapshot = &snapshot;
    send_on_topic(self, topic, topic_length, &envelope);
}

/* The persisted messages in seq order (borrowed from the store; free the
 * array), or NULL when out of memory. */
static Corral__V1__Broadcast **
persisted_by_seq(corral_bus_t *self, size_t *n_out)
{
    size_t count = zhashx_size(self->persisted);
    Corral__V1__Broadcast **messages = calloc(count ? count : 1, sizeof *messages);
    size_t n = 0;
    for (corral_envelope_t *envelope = zhashx_first(self->persisted);
         messages && envelope && n < count; envelope = zhashx_next(self->persisted))
        messages[n++] = envelope->broadcast;
    if (messages)
        qsort(messages, n, sizeof *messages, by_seq);
    *n_out = n;
    return messages;
}

/* The persisted store in seq order, in parts that each fit in a frame
 * (every persisted message is at most CORRAL_MAX_BROADCAST_BYTES). */
static void
send_snapshot(corral_bus_t *self, const char *topic, size_t topic_length)
{
    size_t n;
    Corral__V1__Broadcast **messages = persisted_by_seq(self, &n);
    if (!messages)
        return;
    size_t first = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        size_t size = corral__v1__broadcast__get_packed_size(messages[i]) + 16;
        if (i > first && bytes + size > CORRAL_MAX_FRAME_BYTES - SNAPSHOT_MARGIN_BYTES) {
            send_snapshot_part(self, topic, topic_length, messages + first, i - first, true);
            first = i;
            bytes = 0;
        }
        bytes += size;
    }
    send_snapshot_part(self, topic, topic_length, messages + first, n - first, false);
    free(messages);
}

static void
send_held_snapshot(const char *topic, size_t length, void *arg)
{
    send_snapshot(arg, topic, length);
}

static size_t
snapshot_estimate(const corral_bus_t *self)
{
    return (size_t) self->stats.persisted_bytes + SNAPSHOT_MARGIN_BYTES;
}

static int
on_held_snapshots(zloop_t *loop, int timer_id, void *arg)
{
    corral_bus_t *self = arg;
    corral_snapshot_queue_release(self->snapshots, snapshot_estimate(self), send_held_snapshot,
                                  self);
    if (!corral_snapshot_queue_has_held(self->snapshots)) {
        zloop_timer_end(loop, timer_id);
        self->held_timer = -1;
    }
    return 0;
}

/* One outstanding snapshot per private topic and a cap on the bytes
 * queued in all (snapshot_queue.h): a subscriber that asks again before
 * taking the last one gets one more, once that one is gone. */
static void
request_snapshot(corral_bus_t *self, const char *topic, size_t length)
{
    switch (corral_snapshot_queue_request(self->snapshots, topic, length,
                                          snapshot_estimate(self))) {
    case CORRAL_SNAPSHOT_SEND:
        send_snapshot(self, topic, length);
        return;
    case CORRAL_SNAPSHOT_HELD:
        self->stats.snapshots_deferred++;
        if (self->held_timer < 0)
            self->held_timer = zloop_timer(self->loop, HELD_SNAPSHOT_CHECK_MS, 0,
                                           on_held_snapshots, self);
        return;
    case CORRAL_SNAPSHOT_REFUSED:
        drop(self, &self->stats.snapshots_deferred,
             "a snapshot request (too many private topics at once)");
        return;
    }
}

/* Subscription messages: [1 or 0][topic]. A subscription to a private
 * topic asks for a snapshot. */
static int
on_bus_out(zloop_t *loop, zsock_t *reader, void *arg)
{
    corral_bus_t *self = arg;
    corral_loop_delay_turn();
    void *out = zsock_resolve(self->out);
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    for (int i = 0; i < READ_BATCH && zmq_msg_recv(&frame, out, ZMQ_DONTWAIT) >= 0; i++)
        corral_bus_take_subscription(self, zmq_msg_data(&frame), zmq_msg_size(&frame));
    zmq_msg_close(&frame);
    return 0;
}

void
corral_bus_take_subscription(corral_bus_t *self, const void *bytes, size_t size)
{
    const char *data = bytes;
    size_t prefix = strlen(CORRAL_BUS_PRIVATE_PREFIX);
    if (size == 1 + CORRAL_BUS_PRIVATE_TOPIC_LENGTH && data[0] == 1
        && memcmp(data + 1, CORRAL_BUS_PRIVATE_PREFIX, prefix) == 0)
        request_snapshot(self, data + 1, size - 1);
}

void
corral_bus_take_frame(corral_bus_t *self, const void *data, size_t size)
{
    take_broadcast(self, data, size);
}

/* --- Binary upgrade (upgrade.h) --------------------------------------------------- */

uint64_t
corral_bus_last_seq(const corral_bus_t *self)
{
    return self->seq;
}

uint8_t *
corral_bus_export(corral_bus_t *self, uint64_t after_seq, size_t *size)
{
    size_t n;
    Corral__V1__Broadcast **messages = persisted_by_seq(self, &n);
    if (!messages)
        return NULL;
    size_t first = 0;
    while (first < n && messages[first]->seq <= after_seq)
        first++;
    Corral__V1__Snapshot snapshot = CORRAL__V1__SNAPSHOT__INIT;
    snapshot.upto_seq = self->seq;
    snapshot.epoch = self->epoch;
    snapshot.n_messages = n - first;
    snapshot.messages = messages + first;
    *size = corral__v1__snapshot__get_packed_size(&snapshot);
    uint8_t *packed = malloc(*size ? *size : 1);
    if (packed)
        corral__v1__snapshot__pack(&snapshot, packed);
    free(messages);
    return packed;
}

/* A late message of the predecessor's, unless this bus's own traffic
 * has replaced it since the store was taken over: sequenced and sent as
 * if broadcast now. Returns 1 if it was. */
static int
take_late(corral_bus_t *self, const char *key, corral_envelope_t *envelope)
{
    corral_envelope_t *ours = zhashx_lookup(self->persisted, key);
    if (ours && ours->broadcast->seq > self->imported_upto)
        return 0;
    uint64_t seq = self->seq;
    envelope->broadcast->persist = true;
    sequence(self, envelope);
    return self->seq > seq;
}

int
corral_bus_import(corral_bus_t *self, const uint8_t *data, size_t size, bool late)
{
    Corral__V1__Snapshot *snapshot = corral__v1__snapshot__unpack(NULL, size, data);
    if (!snapshot)
        return -1;
    int kept = 0;
    for (size_t i = 0; i < snapshot->n_messages; i++) {
        Corral__V1__Broadcast *broadcast = snapshot->messages[i];
        char *key = persisted_key(broadcast);
        corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
        envelope.protocol = CORRAL_PROTOCOL_VERSION;
        envelope.body_case = CORRAL__V1__ENVELOPE__BODY_BROADCAST;
        envelope.broadcast = broadcast;
        if (late) {
            kept += key ? take_late(self, key, &envelope) : 0;
            free(key);
            continue;
        }
        /* sequenced anew, in their order, in this bus's epoch: a
         * subscriber's snapshot and stream join on this bus's numbers */
        broadcast->seq = self->seq + 1;
        broadcast->epoch = self->epoch;
        if (key && store_bytes_with(self, key, &envelope) <= self->max_persisted_bytes) {
            self->seq++;
            keep_persisted(self, key, &envelope);
            kept++;
        }
        free(key);
    }
    corral__v1__snapshot__free_unpacked(snapshot, NULL);
    if (!late)
        self->imported_upto = self->seq;
    return kept;
}
