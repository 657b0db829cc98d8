/* node_service.c: handles, subscriptions and delivery (corral/node.h).
 *
 * Every message reaches deliver() exactly once and in seq order: from the
 * bus client (clustered) or from the local queue (classic). deliver()
 * keeps a copy of persisted ones; a handler registered later starts with
 * that copy (delivered from the loop, before anything newer reaches it)
 * and then takes every message whose seq is above the last delivered when
 * it registered. */
#include "node_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_wire.h"
#include "log.h"
#include "loop_delay.h"

#define LOGGER "node"
#define TICK_MS 1000
/* what fits in a Broadcast under CORRAL_MAX_BROADCAST_BYTES with its other fields */
#define CORRAL_MAX_PAYLOAD_BYTES (CORRAL_MAX_BROADCAST_BYTES - 4096)

/* A message as handlers get it, with what delivery needs to know. */
typedef struct stored {
    corral_message_t message;   /* strings and payload owned here */
    bool persist;
    bool for_self;              /* may reach the sender's own handlers */
    struct stored *next;        /* in the classic queue */
} stored_t;

struct corral_node {
    corral_node_service_t *service;
    char *plugin;
};

struct corral_subscription {
    corral_node_t *node;
    char *type;
    corral_message_fn *fn;
    void *arg;
    uint64_t min_seq;           /* live messages from this seq on */
    stored_t *pending;          /* the persisted message it starts with */
    bool cancelled;
    struct corral_subscription *next;
};

/* A corral_node_on_main_change registration. */
typedef struct main_watcher {
    corral_node_t *node;
    corral_main_fn *fn;
    void *arg;
    struct main_watcher *next;
} main_watcher_t;

struct corral_node_service {
    zloop_t *loop;
    main_watcher_t *main_watchers;
    int worker_id;
    bool main;
    bool clustered;
    char *instance_uuid;
    char *data_dir;             /* NULL for a tool */
    char *node_id;
    corral_bus_client_t *bus;
    corral_node_t **nodes;
    size_t node_count;
    corral_subscription_t *subscriptions;
    int dispatching;            /* depth: cancelled ones are freed at 0 */
    zhashx_t *persisted;        /* "plugin\x1ftype" -> stored_t* */
    uint64_t last_seq;          /* the last delivered */
    uint64_t assigned_seq;      /* classic: the last given to a broadcast */
    stored_t *queue_head;       /* classic: broadcasts not delivered yet */
    stored_t *queue_tail;
    bool has_pending;
    int flush_timer;            /* -1: none scheduled */
    int tick_timer;             /* the bus client's retries; -1: none */
    corral_node_synced_fn *synced_fn;  /* waits for the first snapshot */
    void *synced_arg;
};

static void deliver(corral_node_service_t *self, stored_t *message);

/* --- Stored messages --------------------------------------------------------------- */

static stored_t *
stored_new(const char *plugin, const char *type, const void *payload, size_t len)
{
    stored_t *stored = calloc(1, sizeof *stored);
    if (!stored)
        return NULL;
    stored->message.plugin = strdup(plugin);
    stored->message.type = strdup(type);
    void *copy = malloc(len ? len : 1);
    if (copy && len)
        memcpy(copy, payload, len);
    stored->message.payload = copy;
    stored->message.len = len;
    if (!stored->message.plugin || !stored->message.type || !copy) {
        free((char *) stored->message.plugin);
        free((char *) stored->message.type);
        free(copy);
        free(stored);
        return NULL;
    }
    return stored;
}

static stored_t *
stored_copy(const stored_t *from)
{
    stored_t *stored = stored_new(from->message.plugin, from->message.type,
                                  from->message.payload, from->message.len);
    if (stored) {
        stored->message.seq = from->message.seq;
        stored->message.sender_worker_id = from->message.sender_worker_id;
        stored->persist = from->persist;
        stored->for_self = from->for_self;
    }
    return stored;
}

static void
stored_destroy(stored_t **stored_p)
{
    stored_t *stored = *stored_p;
    if (!stored)
        return;
    free((char *) stored->message.plugin);
    free((char *) stored->message.type);
    free((void *) stored->message.payload);
    free(stored);
    *stored_p = NULL;
}

static void
destroy_stored_item(void **item)
{
    stored_destroy((stored_t **) item);
}

static char *
store_key(const char *plugin, const char *type)
{
    char *key = NULL;
    return asprintf(&key, "%s\x1f%s", plugin, type) < 0 ? NULL : key;
}

/* --- The service ------------------------------------------------------------------- */

static void
on_bus_message(const Corral__V1__Broadcast *broadcast, void *arg)
{
    corral_node_service_t *self = arg;
    stored_t view = {
        .message = {
            .plugin = broadcast->plugin, .type = broadcast->type,
            .payload = broadcast->payload.data, .len = broadcast->payload.len,
            .seq = broadcast->seq, .sender_worker_id = (int) broadcast->sender_worker_id,
        },
        .persist = broadcast->persist,
        .for_self = broadcast->send_to_self
                    || strcmp(broadcast->sender, corral_bus_client_sender(self->bus)) != 0,
    };
    deliver(self, &view);
}

static int on_tick(zloop_t *loop, int timer_id, void *arg);

/* The bus client asks again for a snapshot that does not come: a timer
 * only while it waits for one, so that an idle worker does not wake. */
static int
keep_ticking(corral_node_service_t *self)
{
    if (!self->loop || self->tick_timer != -1 || corral_bus_client_synced(self->bus))
        return 0;
    self->tick_timer = zloop_timer(self->loop, TICK_MS, 1, on_tick, self);
    return self->tick_timer != -1 ? 0 : -1;
}

static int
on_tick(zloop_t *loop, int timer_id, void *arg)
{
    corral_node_service_t *self = arg;
    self->tick_timer = -1;
    corral_bus_client_tick(self->bus);
    keep_ticking(self);
    return 0;
}

static int
on_bus_readable(zloop_t *loop, zsock_t *reader, void *arg)
{
    corral_node_service_t *self = arg;
    corral_loop_delay_turn();   /* the plugins' handlers run in here */
    corral_bus_client_read(self->bus);
    keep_ticking(self);
    corral_node_synced_fn *synced = self->synced_fn;
    if (synced && corral_bus_client_synced(self->bus)) {
        self->synced_fn = NULL;
        synced(self->synced_arg);
    }
    return 0;
}

void
corral_node_service_when_synced(corral_node_service_t *self, corral_node_synced_fn *fn,
                                void *arg)
{
    if (!self->bus || !self->loop || corral_bus_client_synced(self->bus)) {
        self->synced_fn = NULL;
        fn(arg);
        return;
    }
    self->synced_fn = fn;
    self->synced_arg = arg;
}

corral_node_service_t *
corral_node_service_new(zloop_t *loop, const corral_node_params_t *params)
{
    corral_node_service_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->worker_id = params->clustered ? params->worker_id : 1;
    self->main = params->clustered ? params->main : true;
    self->clustered = params->clustered;
    self->flush_timer = -1;
    self->tick_timer = -1;
    self->instance_uuid = strdup(params->instance_uuid ? params->instance_uuid : "");
    self->data_dir = params->data_dir ? strdup(params->data_dir) : NULL;
    self->persisted = zhashx_new();
    if (!self->instance_uuid || !self->persisted || (params->data_dir && !self->data_dir)
        || asprintf(&self->node_id, "%s-%d", self->instance_uuid, self->worker_id) < 0) {
        self->node_id = NULL;
        corral_node_service_destroy(&self);
        return NULL;
    }
    zhashx_set_destructor(self->persisted, destroy_stored_item);
    if (params->clustered) {
        self->bus = corral_bus_client_new(params->bus_in, params->bus_out, params->private_id,
                                          params->worker_id, on_bus_message, self);
        if (!self->bus
            || (loop && zloop_reader(loop, corral_bus_client_socket(self->bus),
                                     on_bus_readable, self) != 0)
            || keep_ticking(self) != 0)
            corral_node_service_destroy(&self);
    }
    return self;
}

void
corral_node_service_destroy(corral_node_service_t **self_p)
{
    corral_node_service_t *self = *self_p;
    if (!self)
        return;
    if (self->loop && self->flush_timer != -1)
        zloop_timer_end(self->loop, self->flush_timer);
    if (self->loop && self->tick_timer != -1)
        zloop_timer_end(self->loop, self->tick_timer);
    if (self->loop && self->bus)
        zloop_reader_end(self->loop, corral_bus_client_socket(self->bus));
    corral_bus_client_destroy(&self->bus);
    while (self->subscriptions) {
        corral_subscription_t *sub = self->subscriptions;
        self->subscriptions = sub->next;
        stored_destroy(&sub->pending);
        free(sub->type);
        free(sub);
    }
    while (self->queue_head) {
        stored_t *next = self->queue_head->next;
        stored_destroy(&self->queue_head);
        self->queue_head = next;
    }
    while (self->main_watchers) {
        main_watcher_t *next = self->main_watchers->next;
        free(self->main_watchers);
        self->main_watchers = next;
    }
    for (size_t i = 0; i < self->node_count; i++) {
        free(self->nodes[i]->plugin);
        free(self->nodes[i]);
    }
    free(self->nodes);
    zhashx_destroy(&self->persisted);
    free(self->instance_uuid);
    free(self->data_dir);
    free(self->node_id);
    free(self);
    *self_p = NULL;
}

corral_node_t *
corral_node_service_plugin(corral_node_service_t *self, const char *plugin)
{
    for (size_t i = 0; i < self->node_count; i++)
        if (strcmp(self->nodes[i]->plugin, plugin) == 0)
            return self->nodes[i];
    corral_node_t **grown = realloc(self->nodes, (self->node_count + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    self->nodes = grown;
    corral_node_t *node = calloc(1, sizeof *node);
    if (!node || !(node->plugin = strdup(plugin))) {
        free(node);
        return NULL;
    }
    node->service = self;
    self->nodes[self->node_count++] = node;
    return node;
}

corral_node_service_t *
corral_node_service_of(const corral_node_t *node)
{
    return node->service;
}

corral_bus_client_t *
corral_node_service_bus(corral_node_service_t *self)
{
    return self->bus;
}

/* --- Delivery ---------------------------------------------------------------------- */

static void
sweep_cancelled(corral_node_service_t *self)
{
    corral_subscription_t **link = &self->subscriptions;
    while (*link) {
        corral_subscription_t *sub = *link;
        if (!sub->cancelled) {
            link = &sub->next;
            continue;
        }
        *link = sub->next;
        stored_destroy(&sub->pending);
        free(sub->type);
        free(sub);
    }
}

static void
deliver_pending(corral_subscription_t *sub)
{
    stored_t *pending = sub->pending;
    sub->pending = NULL;
    if (pending && !sub->cancelled)
        sub->fn(&pending->message, sub->arg);
    stored_destroy(&pending);
}

static bool
matches(const corral_subscription_t *sub, const corral_message_t *message)
{
    return !sub->cancelled && strcmp(sub->node->plugin, message->plugin) == 0
        && strcmp(sub->type, message->type) == 0;
}

static void
keep_persisted(corral_node_service_t *self, const stored_t *message)
{
    char *key = store_key(message->message.plugin, message->message.type);
    stored_t *copy = stored_copy(message);
    if (key && copy)
        zhashx_update(self->persisted, key, copy);
    else
        stored_destroy(&copy);
    free(key);
}

static void
deliver(corral_node_service_t *self, stored_t *message)
{
    if (message->message.seq <= self->last_seq)     /* a new epoch: seqs start again */
        for (corral_subscription_t *sub = self->subscriptions; sub; sub = sub->next)
            sub->min_seq = 0;
    self->last_seq = message->message.seq;
    if (message->persist)
        keep_persisted(self, message);
    if (!message->for_self)
        return;
    self->dispatching++;
    /* handlers registered meanwhile have min_seq above this one */
    for (corral_subscription_t *sub = self->subscriptions; sub; sub = sub->next)
        if (matches(sub, &message->message) && message->message.seq >= sub->min_seq) {
            deliver_pending(sub);
            if (!sub->cancelled)
                sub->fn(&message->message, sub->arg);
        }
    if (--self->dispatching == 0)
        sweep_cancelled(self);
}

/* Pending persisted messages of new handlers, then (classic) the queue. */
static int
flush(corral_node_service_t *self)
{
    int delivered = 0;
    self->dispatching++;
    while (self->has_pending) {
        self->has_pending = false;
        for (corral_subscription_t *sub = self->subscriptions; sub; sub = sub->next)
            if (sub->pending) {
                deliver_pending(sub);
                delivered++;
            }
    }
    while (self->queue_head) {
        stored_t *message = self->queue_head;
        self->queue_head = message->next;
        if (!self->queue_head)
            self->queue_tail = NULL;
        deliver(self, message);
        stored_destroy(&message);
        delivered++;
    }
    if (--self->dispatching == 0)
        sweep_cancelled(self);
    return delivered;
}

static int
on_flush_timer(zloop_t *loop, int timer_id, void *arg)
{
    corral_node_service_t *self = arg;
    corral_loop_delay_turn();
    self->flush_timer = -1;
    flush(self);
    return 0;
}

static void
schedule_flush(corral_node_service_t *self)
{
    if (self->loop && self->flush_timer == -1)
        self->flush_timer = zloop_timer(self->loop, 0, 1, on_flush_timer, self);
}

int
corral_node_service_poll(corral_node_service_t *self, int timeout_ms)
{
    int delivered = flush(self);
    if (delivered > 0 || !self->bus)
        return delivered;
    corral_bus_client_tick(self->bus);
    zmq_pollitem_t item = { zsock_resolve(corral_bus_client_socket(self->bus)), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&item, 1, timeout_ms) > 0)
        delivered = corral_bus_client_read(self->bus);
    return delivered + flush(self);
}

/* --- corral/node.h ------------------------------------------------------------------ */

bool
corral_node_is_enabled(const corral_node_t *node)
{
    return node->service->clustered;
}

int
corral_node_worker_id(const corral_node_t *node)
{
    return node->service->worker_id;
}

bool
corral_node_is_main_worker(const corral_node_t *node)
{
    return node->service->main;
}

int
corral_node_on_main_change(corral_node_t *node, corral_main_fn *fn, void *arg)
{
    main_watcher_t *watcher = calloc(1, sizeof *watcher);
    if (!watcher)
        return -1;
    *watcher = (main_watcher_t) { node, fn, arg, NULL };
    main_watcher_t **link = &node->service->main_watchers;
    while (*link)
        link = &(*link)->next;
    *link = watcher;
    return 0;
}

void
corral_node_service_set_main(corral_node_service_t *self, bool main)
{
    if (self->main == main || !self->clustered)
        return;
    self->main = main;
    for (main_watcher_t *watcher = self->main_watchers; watcher; watcher = watcher->next)
        watcher->fn(watcher->node, main, watcher->arg);
}

const char *
corral_node_worker_data_dir(const corral_node_t *node)
{
    return node->service->data_dir;
}

const char *
corral_node_instance_uuid(const corral_node_t *node)
{
    return node->service->instance_uuid;
}

const char *
corral_node_id(const corral_node_t *node)
{
    return node->service->node_id;
}

/* Classic mode: the message goes round through our own queue. */
static int
loop_back(corral_node_service_t *self, stored_t *message)
{
    message->message.seq = ++self->assigned_seq;
    message->message.sender_worker_id = self->worker_id;
    if (self->queue_tail)
        self->queue_tail->next = message;
    else
        self->queue_head = message;
    self->queue_tail = message;
    schedule_flush(self);
    return 0;
}

int
corral_node_broadcast(corral_node_t *node, const char *type, const void *payload, size_t len,
                      const corral_broadcast_opts_t *opts)
{
    corral_node_service_t *self = node->service;
    bool send_to_self = opts && opts->send_to_self;
    bool persist = opts && opts->persist;
    if (!type || !*type || len > CORRAL_MAX_PAYLOAD_BYTES)
        return -1;
    if (!self->bus) {
        if (!send_to_self)
            return 0;       /* classic: nobody else to tell */
        stored_t *message = stored_new(node->plugin, type, payload, len);
        if (!message)
            return -1;
        message->persist = persist;
        message->for_self = true;
        return loop_back(self, message);
    }
    Corral__V1__Broadcast broadcast = CORRAL__V1__BROADCAST__INIT;
    broadcast.plugin = node->plugin;
    broadcast.type = (char *) type;
    broadcast.payload.data = (uint8_t *) payload;
    broadcast.payload.len = len;
    broadcast.persist = persist;
    broadcast.send_to_self = send_to_self;
    return corral_bus_client_send(self->bus, &broadcast);
}

corral_subscription_t *
corral_node_on(corral_node_t *node, const char *type, corral_message_fn fn, void *arg)
{
    corral_node_service_t *self = node->service;
    corral_subscription_t *sub = calloc(1, sizeof *sub);
    if (!sub || !type || !fn || !(sub->type = strdup(type))) {
        free(sub);
        return NULL;
    }
    sub->node = node;
    sub->fn = fn;
    sub->arg = arg;
    sub->min_seq = self->last_seq + 1;
    char *key = store_key(node->plugin, type);
    stored_t *persisted = key ? zhashx_lookup(self->persisted, key) : NULL;
    free(key);
    if (persisted && persisted->for_self && (sub->pending = stored_copy(persisted))) {
        self->has_pending = true;
        schedule_flush(self);
    }
    corral_subscription_t **link = &self->subscriptions;
    while (*link)
        link = &(*link)->next;
    *link = sub;
    return sub;
}

void
corral_subscription_cancel(corral_subscription_t **sub_p)
{
    corral_subscription_t *sub = sub_p ? *sub_p : NULL;
    if (!sub)
        return;
    *sub_p = NULL;
    sub->cancelled = true;
    stored_destroy(&sub->pending);
    if (sub->node->service->dispatching == 0)
        sweep_cancelled(sub->node->service);
}
