/* log_pusher.c: records to LogBatch frames on `logs`.
 *
 * Each record is packed as it comes, straight after the bytes of the
 * batch being built (a LogBatch is its fields' encodings one after the
 * other), so a flush only adds the Envelope's header: one frame per flush,
 * still exactly one corral.v1.Envelope. */
#include "log_pusher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "worker_secret.h"

#define BATCH_BYTES (64 * 1024)             /* a frame is sent at this size */
#define QUEUE_BYTES (32 * 1024 * 1024)      /* then records are dropped */
#define SEND_HWM 1000                       /* frames in the socket's own queue */
#define FLUSH_DELAY_MS 10          /* a frame per 10 ms at most, at low rates */
#define RETRY_DELAY_MS 10
#define RECORD_MAX_BYTES (CORRAL_MAX_FRAME_BYTES / 4)   /* a huge meta: dropped, counted */

/* Envelope.protocol (field 1, varint) and Envelope.log_batch (field 30,
 * length-delimited), LogBatch.worker_id (1), .records (2), .dropped (3). */
#define TAG_PROTOCOL 0x08
#define TAG_LOG_BATCH 0xF2, 0x01
#define TAG_WORKER_ID 0x08
#define TAG_RECORD 0x12
#define TAG_DROPPED 0x18
#define TAG_SECRET 0xD2, 0x05       /* LogBatch.secret (90, length-delimited) */

struct corral_log_pusher {
    zloop_t *loop;
    zsock_t *socket;
    uint32_t worker_id;
    uint8_t *batch;             /* LogBatch.records encodings */
    size_t batch_length;
    size_t batch_capacity;
    size_t batch_records;
    zlist_t *queue;             /* zframe_t: built, not sent yet */
    size_t queued_bytes;
    int timer_id;               /* -1: none armed */
    uint64_t dropped;
    uint64_t reported_dropped;
    bool warned;
    const char *secret;
};

static size_t
put_varint(uint8_t *out, uint64_t value)
{
    size_t n = 0;
    while (value >= 0x80) {
        out[n++] = (uint8_t) (value | 0x80);
        value >>= 7;
    }
    out[n++] = (uint8_t) value;
    return n;
}

corral_log_pusher_t *
corral_log_pusher_new(zloop_t *loop, const char *endpoint, int worker_id)
{
    corral_log_pusher_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->worker_id = (uint32_t) worker_id;
    self->timer_id = -1;
    self->queue = zlist_new();
    self->batch_capacity = BATCH_BYTES + 4096;
    self->batch = malloc(self->batch_capacity);
    self->socket = zsock_new(ZMQ_PUSH);
    if (!self->queue || !self->batch || !self->socket) {
        corral_log_pusher_destroy(&self, 0);
        return NULL;
    }
    zsock_set_sndhwm(self->socket, SEND_HWM);
    zsock_set_maxmsgsize(self->socket, CORRAL_MAX_FRAME_BYTES);
    zsock_set_linger(self->socket, 0);
    if (zsock_connect(self->socket, "%s", endpoint) != 0)
        corral_log_pusher_destroy(&self, 0);
    return self;
}

void
corral_log_pusher_set_secret(corral_log_pusher_t *self, const char *secret)
{
    self->secret = secret;
}

static void
cancel_timer(corral_log_pusher_t *self)
{
    if (self->timer_id >= 0)
        zloop_timer_end(self->loop, self->timer_id);
    self->timer_id = -1;
}

void
corral_log_pusher_destroy(corral_log_pusher_t **self_p, int linger_ms)
{
    corral_log_pusher_t *self = *self_p;
    if (!self)
        return;
    if (self->socket && linger_ms > 0) {
        corral_log_pusher_flush(self, linger_ms);
        /* what zmq_send took is still in its queue: give it time to go */
        zsock_set_linger(self->socket, linger_ms);
    }
    cancel_timer(self);
    zframe_t *frame;
    while (self->queue && (frame = zlist_pop(self->queue)))
        zframe_destroy(&frame);
    zlist_destroy(&self->queue);
    zsock_destroy(&self->socket);
    free(self->batch);
    free(self);
    *self_p = NULL;
}

/* The batch being built becomes a queued frame. */
static int
seal_batch(corral_log_pusher_t *self)
{
    if (self->batch_records == 0 && self->dropped == self->reported_dropped)
        return 0;
    uint8_t head[32], tail[16 + 4 + CORRAL_SECRET_LENGTH], worker_id[10];
    size_t head_length = 0, tail_length = 0;
    size_t worker_id_length = put_varint(worker_id, self->worker_id);
    tail[tail_length++] = TAG_DROPPED;
    tail_length += put_varint(tail + tail_length, self->dropped);
    size_t secret_length = self->secret ? strlen(self->secret) : 0;
    if (secret_length == CORRAL_SECRET_LENGTH) {
        static const uint8_t secret_tag[] = { TAG_SECRET };
        memcpy(tail + tail_length, secret_tag, sizeof secret_tag);
        tail_length += sizeof secret_tag;
        tail_length += put_varint(tail + tail_length, secret_length);
        memcpy(tail + tail_length, self->secret, secret_length);
        tail_length += secret_length;
    }
    size_t body = 1 + worker_id_length + self->batch_length + tail_length;
    head[head_length++] = TAG_PROTOCOL;
    head[head_length++] = CORRAL_PROTOCOL_VERSION;
    static const uint8_t log_batch_tag[] = { TAG_LOG_BATCH };
    memcpy(head + head_length, log_batch_tag, sizeof log_batch_tag);
    head_length += sizeof log_batch_tag;
    head_length += put_varint(head + head_length, body);
    head[head_length++] = TAG_WORKER_ID;
    memcpy(head + head_length, worker_id, worker_id_length);
    head_length += worker_id_length;

    zframe_t *frame = zframe_new(NULL, head_length + self->batch_length + tail_length);
    if (!frame)
        return -1;
    uint8_t *data = zframe_data(frame);
    memcpy(data, head, head_length);
    memcpy(data + head_length, self->batch, self->batch_length);
    memcpy(data + head_length + self->batch_length, tail, tail_length);
    self->queued_bytes += zframe_size(frame);
    zlist_append(self->queue, frame);
    self->batch_length = 0;
    self->batch_records = 0;
    self->reported_dropped = self->dropped;
    return 0;
}

/* Sends queued frames while the socket takes them. Returns 0 when the
 * queue is empty. */
static int
send_queued(corral_log_pusher_t *self, int flags)
{
    zframe_t *frame;
    while ((frame = zlist_first(self->queue))) {
        size_t size = zframe_size(frame);
        if (zmq_send(zsock_resolve(self->socket), zframe_data(frame), size, flags) < 0)
            return -1;
        zlist_pop(self->queue);
        zframe_destroy(&frame);
        self->queued_bytes -= size;
    }
    return 0;
}

static int on_timer(zloop_t *loop, int timer_id, void *arg);

static void
arm_timer(corral_log_pusher_t *self, size_t delay_ms)
{
    if (self->timer_id < 0)
        self->timer_id = zloop_timer(self->loop, delay_ms, 1, on_timer, self);
}

static int
on_timer(zloop_t *loop, int timer_id, void *arg)
{
    corral_log_pusher_t *self = arg;
    self->timer_id = -1;
    seal_batch(self);
    if (send_queued(self, ZMQ_DONTWAIT) != 0)
        arm_timer(self, RETRY_DELAY_MS);
    return 0;
}

static void
count_dropped(corral_log_pusher_t *self)
{
    self->dropped++;
    if (self->warned)
        return;
    self->warned = true;
    dprintf(2, "[corral][WARN ][logging] worker %u: dropping log records (the coordinator "
               "does not take them fast enough, or one is too big); counted, reported as "
               "logs.dropped\n", self->worker_id);
}

/* LogRecord's fields (proto3: zeros and empty strings are left out). */
enum {
    TAG_TIMESTAMP = 0x08, TAG_LEVEL = 0x10, TAG_LOGGER = 0x1A, TAG_MESSAGE = 0x22,
    TAG_META = 0x2A, TAG_ERROR = 0x32, TAG_PID = 0x38, TAG_SEQ = 0x40,
};

static size_t
varint_size(uint64_t value)
{
    size_t n = 1;
    while (value >= 0x80) {
        value >>= 7;
        n++;
    }
    return n;
}

static size_t
string_field_size(size_t length)
{
    return length ? 1 + varint_size(length) + length : 0;
}

static size_t
varint_field_size(uint64_t value)
{
    return value ? 1 + varint_size(value) : 0;
}

static size_t
put_varint_field(uint8_t *out, uint8_t tag, uint64_t value)
{
    if (!value)
        return 0;
    out[0] = tag;
    return 1 + put_varint(out + 1, value);
}

static size_t
put_string_field(uint8_t *out, uint8_t tag, const char *text, size_t length)
{
    if (!length)
        return 0;
    out[0] = tag;
    size_t n = 1 + put_varint(out + 1, length);
    memcpy(out + n, text, length);
    return n + length;
}

/* Encodes the record straight into the batch: this runs for every record
 * (the access log: every request), and protobuf-c's generic packer was
 * the larger part of its cost. */
void
corral_log_pusher_sink(const corral_log_record_t *record, void *arg)
{
    corral_log_pusher_t *self = arg;
    if (self->queued_bytes >= QUEUE_BYTES) {
        count_dropped(self);
        return;
    }
    const char *strings[] = { record->logger, record->message, record->meta, record->error };
    static const uint8_t string_tags[] = { TAG_LOGGER, TAG_MESSAGE, TAG_META, TAG_ERROR };
    size_t lengths[4];
    uint64_t timestamp = (uint64_t) record->timestamp_ms;
    size_t size = varint_field_size(timestamp) + varint_field_size((uint32_t) record->level)
                + varint_field_size((uint32_t) record->pid) + varint_field_size(record->seq);
    for (size_t i = 0; i < 4; i++) {
        lengths[i] = strings[i] ? strlen(strings[i]) : 0;
        size += string_field_size(lengths[i]);
    }
    if (size > RECORD_MAX_BYTES) {      /* its frame would be refused by the coordinator */
        count_dropped(self);
        return;
    }
    size_t needed = self->batch_length + 1 + 10 + size;
    if (needed > self->batch_capacity) {
        uint8_t *bigger = realloc(self->batch, needed);
        if (!bigger) {
            count_dropped(self);
            return;
        }
        self->batch = bigger;
        self->batch_capacity = needed;
    }
    uint8_t *out = self->batch + self->batch_length;
    size_t n = 0;
    out[n++] = TAG_RECORD;
    n += put_varint(out + n, size);
    n += put_varint_field(out + n, TAG_TIMESTAMP, timestamp);
    n += put_varint_field(out + n, TAG_LEVEL, (uint32_t) record->level);
    for (size_t i = 0; i < 4; i++)
        n += put_string_field(out + n, string_tags[i], strings[i], lengths[i]);
    n += put_varint_field(out + n, TAG_PID, (uint32_t) record->pid);
    n += put_varint_field(out + n, TAG_SEQ, record->seq);
    self->batch_length += n;
    self->batch_records++;
    if (self->batch_length >= BATCH_BYTES || self->batch_records >= CORRAL_LOG_BATCH_MAX_RECORDS) {
        seal_batch(self);
        if (send_queued(self, ZMQ_DONTWAIT) != 0)
            arm_timer(self, RETRY_DELAY_MS);
    }
    else
        arm_timer(self, FLUSH_DELAY_MS);
}

int
corral_log_pusher_flush(corral_log_pusher_t *self, int timeout_ms)
{
    seal_batch(self);
    int64_t deadline = zclock_mono() + timeout_ms;
    while (send_queued(self, ZMQ_DONTWAIT) != 0) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0)
            return -1;
        zmq_pollitem_t item = { zsock_resolve(self->socket), 0, ZMQ_POLLOUT, 0 };
        zmq_poll(&item, 1, (long) left);
    }
    return 0;
}

uint64_t
corral_log_pusher_dropped(const corral_log_pusher_t *self)
{
    return self->dropped;
}
