/* snapshot_queue.c: what bus-out's snapshots still hold in ZeroMQ, per
 * private topic and in all.
 *
 * ZeroMQ calls a message's free function from whichever thread releases
 * it (its I/O thread once the bytes are written), so the counts it
 * touches are atomic and the structures it touches are reference-counted:
 * they outlive this queue while ZeroMQ still holds a part. */
#include "snapshot_queue.h"

#include <czmq.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define TOPICS_MAX 4096         /* private topics remembered at once */

typedef struct {
    atomic_size_t bytes;        /* held by ZeroMQ */
    atomic_long refs;           /* the queue's, and one per part ZeroMQ holds */
} ledger_t;

typedef struct {
    atomic_int parts;           /* held by ZeroMQ */
    atomic_int refs;            /* the table's, and one per part ZeroMQ holds */
    bool held;                  /* a request waits (the loop's thread only) */
    size_t length;
    char name[];                /* NUL-terminated too, for the table's key */
} topic_t;

/* In front of each part's bytes: what its release gives back. */
typedef struct {
    ledger_t *ledger;
    topic_t *topic;
    size_t size;
} part_t;

struct corral_snapshot_queue {
    ledger_t *ledger;
    zhashx_t *topics;           /* name -> topic_t */
    size_t max_bytes;
    size_t held;
};

static void
ledger_release(ledger_t *ledger)
{
    if (atomic_fetch_sub(&ledger->refs, 1) == 1)
        free(ledger);
}

static void
topic_release(topic_t *topic)
{
    if (atomic_fetch_sub(&topic->refs, 1) == 1)
        free(topic);
}

static void
destroy_topic(void **item)
{
    topic_release(*item);
    *item = NULL;
}

/* ZeroMQ is done with a part: written to the subscriber, or dropped. */
static void
release_part(void *data, void *hint)
{
    part_t *part = hint;
    atomic_fetch_sub(&part->ledger->bytes, part->size);
    atomic_fetch_sub(&part->topic->parts, 1);
    topic_release(part->topic);
    ledger_release(part->ledger);
    free(part);
}

corral_snapshot_queue_t *
corral_snapshot_queue_new(size_t max_bytes)
{
    corral_snapshot_queue_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->max_bytes = max_bytes;
    self->ledger = calloc(1, sizeof *self->ledger);
    self->topics = zhashx_new();
    if (!self->ledger || !self->topics) {
        free(self->ledger);
        zhashx_destroy(&self->topics);
        free(self);
        return NULL;
    }
    atomic_init(&self->ledger->bytes, 0);
    atomic_init(&self->ledger->refs, 1);
    zhashx_set_destructor(self->topics, destroy_topic);
    return self;
}

void
corral_snapshot_queue_destroy(corral_snapshot_queue_t **self_p)
{
    corral_snapshot_queue_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy(&self->topics);
    ledger_release(self->ledger);
    free(self);
    *self_p = NULL;
}

/* Forgets the topics that hold nothing and wait for nothing. */
static void
forget_idle_topics(corral_snapshot_queue_t *self)
{
    zlistx_t *names = zhashx_keys(self->topics);
    for (const char *name = names ? zlistx_first(names) : NULL; name; name = zlistx_next(names)) {
        topic_t *topic = zhashx_lookup(self->topics, name);
        if (!topic->held && atomic_load(&topic->parts) == 0)
            zhashx_delete(self->topics, name);
    }
    zlistx_destroy(&names);
}

static topic_t *
find_topic(corral_snapshot_queue_t *self, const char *name, size_t length)
{
    char key[length + 1];
    memcpy(key, name, length);
    key[length] = '\0';
    topic_t *topic = zhashx_lookup(self->topics, key);
    if (topic)
        return topic;
    if (zhashx_size(self->topics) >= TOPICS_MAX)
        forget_idle_topics(self);
    if (zhashx_size(self->topics) >= TOPICS_MAX || !(topic = calloc(1, sizeof *topic + length + 1)))
        return NULL;
    atomic_init(&topic->parts, 0);
    atomic_init(&topic->refs, 1);
    topic->length = length;
    memcpy(topic->name, key, length + 1);
    if (zhashx_insert(self->topics, key, topic) != 0) {
        free(topic);
        return NULL;
    }
    return topic;
}

static bool
may_send(const corral_snapshot_queue_t *self, topic_t *topic, size_t estimate)
{
    size_t queued = atomic_load(&self->ledger->bytes);
    return atomic_load(&topic->parts) == 0
        && (queued == 0 || queued + estimate <= self->max_bytes);
}

corral_snapshot_verdict_t
corral_snapshot_queue_request(corral_snapshot_queue_t *self, const char *name, size_t length,
                              size_t estimate)
{
    if (memchr(name, '\0', length))
        return CORRAL_SNAPSHOT_REFUSED;
    topic_t *topic = find_topic(self, name, length);
    if (!topic)
        return CORRAL_SNAPSHOT_REFUSED;
    if (!topic->held && may_send(self, topic, estimate))
        return CORRAL_SNAPSHOT_SEND;
    if (!topic->held) {
        topic->held = true;
        self->held++;
    }
    return CORRAL_SNAPSHOT_HELD;
}

int
corral_snapshot_queue_message(corral_snapshot_queue_t *self, const char *name, size_t length,
                              zmq_msg_t *message, size_t size)
{
    topic_t *topic = find_topic(self, name, length);
    part_t *part = topic ? malloc(sizeof *part + (size ? size : 1)) : NULL;
    if (!part)
        return -1;
    *part = (part_t) { self->ledger, topic, size };
    atomic_fetch_add(&self->ledger->bytes, size);
    atomic_fetch_add(&self->ledger->refs, 1);
    atomic_fetch_add(&topic->parts, 1);
    atomic_fetch_add(&topic->refs, 1);
    if (zmq_msg_init_data(message, part + 1, size, release_part, part) != 0) {
        release_part(part + 1, part);
        return -1;
    }
    return 0;
}

void
corral_snapshot_queue_release(corral_snapshot_queue_t *self, size_t estimate,
                              corral_snapshot_send_fn *send, void *arg)
{
    if (self->held == 0)
        return;
    zlistx_t *names = zhashx_keys(self->topics);
    for (const char *name = names ? zlistx_first(names) : NULL; name; name = zlistx_next(names)) {
        topic_t *topic = zhashx_lookup(self->topics, name);
        if (!topic || !topic->held || !may_send(self, topic, estimate))
            continue;
        topic->held = false;
        self->held--;
        send(topic->name, topic->length, arg);
    }
    zlistx_destroy(&names);
}

bool
corral_snapshot_queue_has_held(const corral_snapshot_queue_t *self)
{
    return self->held > 0;
}

size_t
corral_snapshot_queue_bytes(const corral_snapshot_queue_t *self)
{
    return atomic_load(&self->ledger->bytes);
}
