/* tap.c: the tap's XPUB socket, its subscriptions, and the lines and
 * events it publishes. */
#include "tap.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "envelope.h"
#include "fsutil.h"
#include "layout_pattern.h"
#include "log.h"

#define LOGGER "coordinator"
#define SEND_HWM 50000              /* then that subscriber misses what follows */
#define TOPIC_MAX 256

struct corral_tap {
    zloop_t *loop;
    zsock_t *socket;
    char *endpoint;
    zlistx_t *topics;               /* subscribed prefixes (XPUB passes each once) */
    corral_layout_t *layout;
    uint64_t lines;
    uint64_t events;
    uint64_t lines_dropped;         /* not sent: a subscriber's queue was full */
    uint64_t events_dropped;
};

/* [1|0][prefix]: a subscription or its end. */
static int
on_subscription(zloop_t *loop, zsock_t *reader, void *arg)
{
    corral_tap_t *self = arg;
    zframe_t *frame = zframe_recv(reader);
    if (!frame)
        return 0;
    size_t size = zframe_size(frame);
    const char *data = (const char *) zframe_data(frame);
    if (size >= 1 && (data[0] == 0 || data[0] == 1)) {
        char *prefix = strndup(data + 1, size - 1);
        void *found = prefix ? zlistx_find(self->topics, prefix) : NULL;
        if (data[0] == 1 && prefix && !found)
            zlistx_add_end(self->topics, prefix);
        else if (data[0] == 0 && found)
            zlistx_delete(self->topics, found);
        free(prefix);
    }
    zframe_destroy(&frame);
    return 0;
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* XPUB drops a message for a subscriber whose queue is full, silently;
 * with ZMQ_XPUB_NODROP it refuses the message instead (EAGAIN), which is
 * how a loss is seen and counted. It is refused for every subscriber: a
 * send that went on to the others would mark the full subscriber's pipe
 * inactive, and XPUB would then skip it unseen until it reads again. */
static void
set_nodrop(corral_tap_t *self, int on)
{
    zmq_setsockopt(zsock_resolve(self->socket), ZMQ_XPUB_NODROP, &on, sizeof on);
}

corral_tap_t *
corral_tap_new(zloop_t *loop, const char *runtime_dir)
{
    corral_tap_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    char *error = NULL;
    self->layout = corral_layout_pattern_new(CORRAL_PATTERN_CLUSTERED, &error);
    free(error);
    self->topics = zlistx_new();
    self->endpoint = corral_format("ipc://%s/tap", runtime_dir);
    self->socket = zsock_new(ZMQ_XPUB);
    if (!self->layout || !self->topics || !self->endpoint || !self->socket) {
        corral_tap_destroy(&self);
        return NULL;
    }
    zlistx_set_duplicator(self->topics, (zlistx_duplicator_fn *) strdup);
    zlistx_set_destructor(self->topics, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_comparator(self->topics, compare_strings);
    zsock_set_sndhwm(self->socket, SEND_HWM);
    zsock_set_sndtimeo(self->socket, 0);        /* never wait for a subscriber */
    set_nodrop(self, 1);
    zsock_set_maxmsgsize(self->socket, TOPIC_MAX + 1);   /* subscriptions only */
    if (zsock_bind(self->socket, "%s", self->endpoint) != 0
        || zloop_reader(loop, self->socket, on_subscription, self) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot bind tap at %s: %s", self->endpoint,
                   zmq_strerror(zmq_errno()));
        corral_tap_destroy(&self);
    }
    return self;
}

void
corral_tap_destroy(corral_tap_t **self_p)
{
    corral_tap_t *self = *self_p;
    if (!self)
        return;
    if (self->socket)
        zloop_reader_end(self->loop, self->socket);
    zsock_destroy(&self->socket);
    zlistx_destroy(&self->topics);
    corral_layout_destroy(&self->layout);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

const char *
corral_tap_endpoint(const corral_tap_t *self)
{
    return self->endpoint;
}

/* True if a subscription is a prefix of `topic`. */
static bool
wanted(corral_tap_t *self, const char *topic)
{
    for (const char *prefix = zlistx_first(self->topics); prefix;
         prefix = zlistx_next(self->topics))
        if (strncmp(topic, prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

static int
send_message(corral_tap_t *self, const char *topic, zframe_t **frame)
{
    void *socket = zsock_resolve(self->socket);
    if (zmq_send(socket, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return zframe_send(frame, self->socket, ZFRAME_DONTWAIT);
}

/* Returns false if it was not sent: a subscriber's queue (SEND_HWM) is
 * full (see set_nodrop). */
static bool
publish(corral_tap_t *self, const char *topic, const corral_envelope_t *envelope)
{
    zframe_t *frame = corral_envelope_pack(envelope);
    bool sent = frame && send_message(self, topic, &frame) == 0;
    zframe_destroy(&frame);
    return sent;
}

static int64_t
unix_ms(void)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    return (int64_t) now.tv_sec * 1000 + now.tv_usec / 1000;
}

void
corral_tap_record(const corral_log_record_t *record, void *arg)
{
    corral_tap_t *self = arg;
    if (zlistx_size(self->topics) == 0)
        return;     /* the cost of the tap with no subscriber */
    const char *worker = record->worker ? record->worker : "coordinator";
    char topic[TOPIC_MAX];
    snprintf(topic, sizeof topic, "log/%s/%s/%s", corral_level_name(record->level), worker,
             record->logger);
    if (!wanted(self, topic))
        return;
    char storage[1024];
    corral_line_buffer_t line = CORRAL_LINE_BUFFER_ON(storage);
    corral_layout_format(self->layout, record, &line);
    if (line.length && line.data[line.length - 1] == '\n')
        line.length--;
    if (corral_line_buffer_append(&line, "", 1) != 0) {
        corral_line_buffer_free(&line);
        return;
    }
    Corral__V1__LogRecord out = CORRAL__V1__LOG_RECORD__INIT;
    out.timestamp_ms = record->timestamp_ms;
    out.level = (uint32_t) record->level;
    out.logger = (char *) record->logger;
    out.message = (char *) record->message;
    out.meta = (char *) (record->meta ? record->meta : "");
    out.error = (char *) (record->error ? record->error : "");
    out.pid = (uint32_t) record->pid;
    out.seq = record->seq;
    Corral__V1__TapLine body = CORRAL__V1__TAP_LINE__INIT;
    body.worker_id = (uint32_t) record->worker_id;
    body.worker = (char *) worker;
    body.record = &out;
    body.line = line.data;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TAP_LINE;
    envelope.tap_line = &body;
    if (!publish(self, topic, &envelope))
        self->lines_dropped++;
    self->lines++;
    corral_line_buffer_free(&line);
}

void
corral_tap_event(corral_tap_t *self, const char *kind, int worker_id, const char *worker,
                 pid_t pid, const char *format, ...)
{
    if (!self || zlistx_size(self->topics) == 0)
        return;
    char topic[TOPIC_MAX];
    snprintf(topic, sizeof topic, "event/%s/%s", kind, worker ? worker : "coordinator");
    if (!wanted(self, topic))
        return;
    char detail[512];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    Corral__V1__TapEvent body = CORRAL__V1__TAP_EVENT__INIT;
    body.kind = (char *) kind;
    body.worker_id = (uint32_t) worker_id;
    body.worker = (char *) (worker ? worker : "coordinator");
    body.pid = (uint32_t) pid;
    body.detail = detail;
    body.timestamp_ms = unix_ms();
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TAP_EVENT;
    envelope.tap_event = &body;
    if (!publish(self, topic, &envelope))
        self->events_dropped++;
    self->events++;
}

void
corral_tap_counters(const corral_tap_t *self, Corral__V1__ToolCounters *counters)
{
    counters->tap_subscriptions = zlistx_size(self->topics);
    counters->tap_lines = self->lines;
    counters->tap_events = self->events;
    counters->tap_lines_dropped = self->lines_dropped;
    counters->tap_events_dropped = self->events_dropped;
}
