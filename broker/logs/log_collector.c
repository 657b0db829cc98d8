/* log_collector.c: `logs` PULL to the appenders. */
#include "log_collector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "envelope.h"
#include "fsutil.h"
#include "log.h"
#include "log_hold.h"
#include "log_losses.h"
#include "policy.h"
#include "worker_secret.h"
#include "loop_delay.h"

#define LOGGER "coordinator"
#define RECEIVE_HWM 10000
#define BATCHES_PER_WAKE 256        /* then flush and let the loop breathe */
#define RECORDS_PER_WAKE 8192       /* so signals, timers and desk wait for little */
#define FINAL_DRAIN_MS 200
#define MALFORMED_LOG_INTERVAL_MS 10000

typedef struct {
    uint64_t last_seq;
    uint64_t received;
    uint64_t reported_dropped;      /* the worker's own count */
    uint64_t gaps;                  /* records missing between seqs */
    char name[32];                  /* %worker: "worker-2", or "http-2" for a named type */
    uint64_t bye_seq;               /* the last record its Bye announced */
    char secret[CORRAL_SECRET_LENGTH + 1];  /* empty: nothing is accepted */
} worker_logs_t;

struct corral_log_collector {
    corral_arena_t *arena;          /* one LogBatch unpacked at a time (arena.h) */
    zloop_t *loop;
    zsock_t *socket;
    char *endpoint;
    corral_log_router_t *router;
    corral_log_observer_fn *observer;
    void *observer_arg;
    worker_logs_t *workers;         /* [1..worker_count] */
    int worker_count;
    uint64_t malformed;
    uint64_t oversized;             /* frames over CORRAL_MAX_FRAME_BYTES */
    uint64_t forged;
    uint64_t invalid;
    corral_log_losses_t *losses;    /* the appenders', across logging reloads */
    Corral__V1__AppenderLosses *sampled;    /* what the last sample points to */
    Corral__V1__AppenderLosses **sampled_list;
    size_t sampled_capacity;
    int64_t malformed_logged_at;
    int64_t deadline;               /* 0: none; else no drain reads past it */
    uint64_t records_received;      /* from every worker */
    uint64_t frames_unread;         /* left on the socket at the deadline */
    corral_log_hold_t *hold;        /* binary upgrade: another process writes the files */
};

/* To the appenders, or held while they are not ours to write. */
static void
emit(corral_log_collector_t *self, const corral_log_record_t *record)
{
    if (self->hold)
        corral_log_hold_push(self->hold, record);
    else
        corral_log_router_write(self->router, record);
}

static void
write_own(const corral_log_record_t *record, void *arg)
{
    corral_log_collector_t *self = arg;
    emit(self, record);
    corral_log_router_flush(self->router);
    if (self->observer)
        self->observer(record, self->observer_arg);
}

static uint64_t
saturating_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Counts bad input in `counter`; one warning per interval at most. */
static void
count_bad(corral_log_collector_t *self, uint64_t *counter, const char *what)
{
    *counter = saturating_add(*counter, 1);
    uint64_t total = saturating_add(saturating_add(self->malformed, self->forged), self->invalid);
    int64_t now = zclock_mono();
    if (total == 1 || now - self->malformed_logged_at >= MALFORMED_LOG_INTERVAL_MS) {
        self->malformed_logged_at = now;
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "logs: dropped %s (%llu dropped so far)", what,
                   (unsigned long long) total);
    }
}

static void
count_malformed(corral_log_collector_t *self, const char *what)
{
    count_bad(self, &self->malformed, what);
}

/* The records a worker may be missing before `seq`: those it said it
 * dropped in this batch (each took a seq), and at most a batch more. A
 * longer jump is not loss but bad input. */
static bool
plausible_seq(const worker_logs_t *worker, uint64_t seq, uint64_t newly_dropped)
{
    if (seq <= worker->last_seq + 1)
        return true;
    uint64_t missing = seq - worker->last_seq - 1;
    return missing <= saturating_add(newly_dropped, CORRAL_LOG_BATCH_MAX_RECORDS);
}

static void
write_batch(corral_log_collector_t *self, const Corral__V1__LogBatch *batch)
{
    if (batch->worker_id < 1 || batch->worker_id > (uint32_t) self->worker_count) {
        count_malformed(self, "a LogBatch from an unknown worker");
        return;
    }
    worker_logs_t *worker = &self->workers[batch->worker_id];
    if (!corral_secret_matches(worker->secret, batch->secret.data, batch->secret.len)) {
        count_bad(self, &self->forged, "a LogBatch without its worker's secret");
        return;
    }
    if (batch->n_records > CORRAL_LOG_BATCH_MAX_RECORDS) {
        count_bad(self, &self->invalid, "a LogBatch of too many records");
        return;
    }
    uint64_t newly_dropped = batch->dropped > worker->reported_dropped
                           ? batch->dropped - worker->reported_dropped : 0;
    for (size_t i = 0; i < batch->n_records; i++) {
        const Corral__V1__LogRecord *in = batch->records[i];
        if (!plausible_seq(worker, in->seq, newly_dropped)) {
            count_bad(self, &self->invalid, "a log record whose seq jumps past the bound");
            continue;
        }
        if (in->seq > worker->last_seq + 1)
            worker->gaps = saturating_add(worker->gaps, in->seq - worker->last_seq - 1);
        if (in->seq > worker->last_seq)
            worker->last_seq = in->seq;
        worker->received++;
        self->records_received++;
        corral_log_record_t record = {
            .timestamp_ms = in->timestamp_ms,
            .level = in->level <= CORRAL_LEVEL_OFF ? (corral_level_t) in->level
                                                   : CORRAL_LEVEL_INFO,
            .logger = in->logger,
            .message = in->message,
            .meta = *in->meta ? in->meta : NULL,
            .error = *in->error ? in->error : NULL,
            .pid = (pid_t) in->pid,
            .worker_id = (int) batch->worker_id,
            .worker = worker->name,
            .seq = in->seq,
        };
        emit(self, &record);
        if (self->observer)
            self->observer(&record, self->observer_arg);
    }
    if (batch->dropped > worker->reported_dropped)
        worker->reported_dropped = batch->dropped;
}

void
corral_log_collector_write_output(corral_log_collector_t *self, int worker_id, pid_t pid,
                                  const char *logger, corral_level_t level,
                                  const char *message, const char *meta)
{
    if (worker_id < 1 || worker_id > self->worker_count)
        return;
    worker_logs_t *worker = &self->workers[worker_id];
    worker->received++;
    self->records_received++;
    corral_log_record_t record = {
        .timestamp_ms = corral_clock_real(), .level = level, .logger = logger,
        .message = message, .meta = meta, .pid = pid, .worker_id = worker_id,
        .worker = worker->name,
    };
    emit(self, &record);
    if (self->observer)
        self->observer(&record, self->observer_arg);
}

/* One frame from `logs`, without waiting. Returns false if none was there. */
static bool
receive_one(corral_log_collector_t *self)
{
    zmq_msg_t message;
    zmq_msg_init(&message);
    if (zmq_msg_recv(&message, zsock_resolve(self->socket), ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&message);
        return false;
    }
    if (zmq_msg_more(&message)) {
        count_malformed(self, "a multi-part message");
        zmq_msg_close(&message);
        int more = 1;
        while (more) {      /* the rest of it */
            zmq_msg_init(&message);
            if (zmq_msg_recv(&message, zsock_resolve(self->socket), ZMQ_DONTWAIT) < 0)
                more = 0;
            else
                more = zmq_msg_more(&message);
            zmq_msg_close(&message);
        }
        return true;
    }
    if (zmq_msg_size(&message) > CORRAL_MAX_FRAME_BYTES)
        count_bad(self, &self->oversized, "a frame larger than the limit");
    else
        corral_log_collector_take_frame(self, zmq_msg_data(&message), zmq_msg_size(&message));
    zmq_msg_close(&message);
    return true;
}

void
corral_log_collector_take_frame(corral_log_collector_t *self, const void *data, size_t size)
{
    corral_envelope_t *envelope = corral_arena_unpack(self->arena, size, data);
    if (!envelope || envelope->body_case != CORRAL__V1__ENVELOPE__BODY_LOG_BATCH)
        count_malformed(self, envelope ? "an envelope logs does not take"
                                       : "a frame that is not an Envelope");
    else
        write_batch(self, envelope->log_batch);
    corral_arena_free_envelope(self->arena, &envelope);
}

static int
on_logs(zloop_t *loop, zsock_t *reader, void *arg)
{
    corral_log_collector_t *self = arg;
    corral_loop_delay_turn();
    uint64_t received = self->records_received;
    for (int i = 0; i < BATCHES_PER_WAKE && self->records_received - received < RECORDS_PER_WAKE
                    && receive_one(self); i++)
        ;
    corral_log_router_flush(self->router);
    return 0;
}

corral_log_collector_t *
corral_log_collector_new(zloop_t *loop, const char *runtime_dir, int worker_count,
                         corral_log_router_t *router)
{
    corral_log_collector_t *self = calloc(1, sizeof *self);
    if (!self) {
        corral_log_router_destroy(&router);
        return NULL;
    }
    self->loop = loop;
    self->router = router;
    self->worker_count = worker_count;
    self->arena = corral_arena_new();
    self->workers = calloc((size_t) worker_count + 1, sizeof *self->workers);
    for (int id = 1; self->workers && id <= worker_count; id++)
        snprintf(self->workers[id].name, sizeof self->workers[id].name, "worker-%d", id);
    self->endpoint = corral_format("ipc://%s/logs", runtime_dir);
    self->socket = zsock_new(ZMQ_PULL);
    self->losses = corral_log_losses_new();
    if (!self->arena || !self->workers || !self->endpoint || !self->socket || !self->losses) {
        corral_log_collector_destroy(&self);
        return NULL;
    }
    zsock_set_rcvhwm(self->socket, RECEIVE_HWM);
    /* a frame over the limit is received to be counted (oversized), up to
     * the transport's bound: past it ZeroMQ drops the connection */
    zsock_set_maxmsgsize(self->socket, CORRAL_MAX_TRANSPORT_BYTES);
    if (zsock_bind(self->socket, "%s", self->endpoint) != 0
        || zloop_reader(loop, self->socket, on_logs, self) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot bind logs at %s: %s", self->endpoint,
                   zmq_strerror(zmq_errno()));
        corral_log_collector_destroy(&self);
        return NULL;
    }
    corral_log_set_sink(write_own, self);
    corral_log_set_levels(router);
    return self;
}

int
corral_log_collector_grow(corral_log_collector_t *self, int worker_count)
{
    if (worker_count <= self->worker_count)
        return 0;   /* a removed slot's counters stay */
    worker_logs_t *workers = realloc(self->workers, ((size_t) worker_count + 1) * sizeof *workers);
    if (!workers)
        return -1;
    for (int id = self->worker_count + 1; id <= worker_count; id++)
        memset(&workers[id], 0, sizeof workers[id]);
    self->workers = workers;
    self->worker_count = worker_count;
    return 0;
}

/* Past the stop deadline: what is left on the socket is not written, only
 * counted (frames; the records in them count through the Byes). */
static void
count_unread(corral_log_collector_t *self)
{
    if (!self->deadline || zclock_mono() < self->deadline)
        return;
    zmq_msg_t message;
    zmq_msg_init(&message);
    while (zmq_msg_recv(&message, zsock_resolve(self->socket), ZMQ_DONTWAIT) >= 0)
        self->frames_unread++;
    zmq_msg_close(&message);
}

/* "; appenders: file: 3 write errors, 120 lines lost writing, 0 formatting" */
static void
describe_appenders(corral_log_collector_t *self, char *out, size_t size)
{
    size_t count, used = 0;
    const corral_appender_losses_t *list = corral_log_losses_now(self->losses, self->router,
                                                                 &count);
    out[0] = '\0';
    for (size_t i = 0; i < count && used + 96 < size; i++)
        used += (size_t) snprintf(out + used, size - used,
                                  "%s%s: %llu write errors, %llu lines lost writing, %llu "
                                  "formatting", i ? "; " : " (appenders: ", list[i].name,
                                  (unsigned long long) list[i].write_errors,
                                  (unsigned long long) list[i].lost_writing,
                                  (unsigned long long) list[i].lost_formatting);
    if (used && used + 1 < size)
        snprintf(out + used, size - used, ")");
}

static void
log_counters(corral_log_collector_t *self)
{
    corral_log_counters_t totals;
    corral_log_collector_counters(self, &totals);
    char appenders[1024];
    describe_appenders(self, appenders, sizeof appenders);
    char per_worker[1024] = "";
    size_t used = 0;
    for (int id = 1; id <= self->worker_count && used < sizeof per_worker - 64; id++) {
        corral_log_counters_t one;
        corral_log_collector_worker_counters(self, id, &one);
        used += (size_t) snprintf(per_worker + used, sizeof per_worker - used,
                                  "%s%s: %llu received, %llu dropped",
                                  id > 1 ? "; " : "", self->workers[id].name,
                                  (unsigned long long) one.received,
                                  (unsigned long long) one.dropped);
    }
    corral_log(CORRAL_LEVEL_INFO, LOGGER,
               "logs: received %llu, dropped %llu, write errors %llu, lines lost %llu, "
               "malformed %llu, oversized %llu, forged %llu, invalid %llu, not written by the "
               "stop deadline %llu (%llu frames unread) (%s)%s",
               (unsigned long long) totals.received, (unsigned long long) totals.dropped,
               (unsigned long long) totals.write_errors,
               (unsigned long long) totals.lines_lost, (unsigned long long) totals.malformed,
               (unsigned long long) totals.oversized,
               (unsigned long long) totals.forged, (unsigned long long) totals.invalid,
               (unsigned long long) totals.unwritten, (unsigned long long) self->frames_unread,
               per_worker, appenders);
}

void
corral_log_collector_destroy(corral_log_collector_t **self_p)
{
    corral_log_collector_t *self = *self_p;
    if (!self)
        return;
    if (self->socket && self->router) {
        corral_log_collector_drain_worker(self, 0, 0, FINAL_DRAIN_MS);
        count_unread(self);
        log_counters(self);
    }
    corral_log_set_sink(NULL, NULL);
    corral_log_set_levels(NULL);
    if (self->hold) {       /* never released: the files are someone else's */
        corral_log_hold_spill(self->hold, 2);
        corral_log_hold_destroy(&self->hold);
    }
    if (self->loop && self->socket)
        zloop_reader_end(self->loop, self->socket);
    zsock_destroy(&self->socket);
    corral_log_router_destroy(&self->router);
    corral_arena_destroy(&self->arena);
    corral_log_losses_destroy(&self->losses);
    free(self->sampled);
    free(self->sampled_list);
    free(self->workers);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

const char *
corral_log_collector_endpoint(const corral_log_collector_t *self)
{
    return self->endpoint;
}

void
corral_log_collector_set_secret(corral_log_collector_t *self, int worker_id, const char *secret)
{
    if (worker_id >= 1 && worker_id <= self->worker_count)
        snprintf(self->workers[worker_id].secret, sizeof self->workers[worker_id].secret, "%s",
                 secret);
}

static bool
has_written(const corral_log_collector_t *self, int worker_id, uint64_t last_seq)
{
    return last_seq == 0 || worker_id < 1 || worker_id > self->worker_count
        || self->workers[worker_id].last_seq >= last_seq;
}

void
corral_log_collector_set_deadline(corral_log_collector_t *self, int64_t deadline)
{
    self->deadline = deadline;
}

void
corral_log_collector_expect(corral_log_collector_t *self, int worker_id, uint64_t last_seq)
{
    if (worker_id >= 1 && worker_id <= self->worker_count)
        self->workers[worker_id].bye_seq = last_seq;
}

void
corral_log_collector_drain_worker(corral_log_collector_t *self, int worker_id,
                                  uint64_t last_seq, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    if (self->deadline && self->deadline < deadline)
        deadline = self->deadline;
    bool done = false;
    while (!done) {
        while (!(done = last_seq && has_written(self, worker_id, last_seq))
               && zclock_mono() < deadline && receive_one(self))
            ;
        int64_t left = deadline - zclock_mono();
        /* last_seq 0: until nothing came for a short while */
        long wait_ms = last_seq ? (long) left : (long) (left < 20 ? left : 20);
        zmq_pollitem_t item = { zsock_resolve(self->socket), 0, ZMQ_POLLIN, 0 };
        if (!done && (left <= 0 || zmq_poll(&item, 1, wait_ms) <= 0))
            break;
    }
    corral_log_router_flush(self->router);
}

void
corral_log_collector_observe(corral_log_collector_t *self, corral_log_observer_fn *fn,
                             void *arg)
{
    self->observer = fn;
    self->observer_arg = arg;
}

void
corral_log_collector_reopen(corral_log_collector_t *self)
{
    corral_log_router_reopen(self->router);
}

void
corral_log_collector_replace_router(corral_log_collector_t *self, corral_log_router_t *router)
{
    corral_log_set_levels(router);
    corral_log_router_flush(self->router);      /* what it still holds, counted now */
    corral_log_losses_bank(self->losses, self->router);
    corral_log_router_destroy(&self->router);
    self->router = router;
}

void
corral_log_collector_name_worker(corral_log_collector_t *self, int worker_id, const char *name)
{
    if (worker_id >= 1 && worker_id <= self->worker_count)
        snprintf(self->workers[worker_id].name, sizeof self->workers[worker_id].name, "%s",
                 name);
}

void
corral_log_collector_counters(const corral_log_collector_t *self, corral_log_counters_t *out)
{
    size_t count;
    const corral_appender_losses_t *list =
        corral_log_losses_now(self->losses, self->router, &count);
    corral_appender_losses_t appenders = corral_log_losses_sum(list, count);
    *out = (corral_log_counters_t) {
        .write_errors = appenders.write_errors,
        .lines_lost = saturating_add(appenders.lost_writing, appenders.lost_formatting),
        .malformed = self->malformed,
        .oversized = self->oversized,
        .forged = self->forged,
        .invalid = self->invalid,
    };
    for (int id = 1; id <= self->worker_count; id++) {
        corral_log_counters_t one;
        corral_log_collector_worker_counters(self, id, &one);
        out->received = saturating_add(out->received, one.received);
        out->dropped = saturating_add(out->dropped, one.dropped);
        out->gaps = saturating_add(out->gaps, one.gaps);
        out->unwritten = saturating_add(out->unwritten, one.unwritten);
    }
}

void
corral_log_collector_worker_counters(const corral_log_collector_t *self, int worker_id,
                                     corral_log_counters_t *out)
{
    *out = (corral_log_counters_t) { 0 };
    if (worker_id < 1 || worker_id > self->worker_count)
        return;
    const worker_logs_t *worker = &self->workers[worker_id];
    out->received = worker->received;
    out->dropped = saturating_add(worker->reported_dropped, worker->gaps);
    out->gaps = worker->gaps;
    out->unwritten = worker->bye_seq > worker->last_seq ? worker->bye_seq - worker->last_seq : 0;
}

void
corral_log_collector_hold(corral_log_collector_t *self, size_t max_bytes)
{
    if (!self->hold)
        self->hold = corral_log_hold_new(max_bytes);
}

void
corral_log_collector_release(corral_log_collector_t *self)
{
    corral_log_hold_t *hold = self->hold;
    if (!hold)
        return;
    self->hold = NULL;
    /* the files as they are now: the other writer may have rolled them */
    corral_log_router_reopen(self->router);
    uint64_t count = corral_log_hold_count(hold), dropped = corral_log_hold_dropped(hold);
    corral_log_hold_replay(hold, self->router);
    corral_log_hold_destroy(&hold);
    corral_log(dropped ? CORRAL_LEVEL_WARN : CORRAL_LEVEL_INFO, LOGGER,
               "logs: writing the log files from now on (%llu records held meanwhile, %llu "
               "dropped past the bound)", (unsigned long long) count,
               (unsigned long long) dropped);
}

void
corral_log_collector_sample(corral_log_collector_t *self, Corral__V1__LogCounters *out)
{
    corral_log_counters_t totals;
    corral_log_collector_counters(self, &totals);
    out->received = totals.received;
    out->gaps = totals.gaps;
    out->dropped = saturating_add(totals.gaps, totals.lines_lost);
    out->n_appenders = 0;
    out->appenders = NULL;
    size_t count;
    const corral_appender_losses_t *list = corral_log_losses_now(self->losses, self->router,
                                                                 &count);
    if (count > self->sampled_capacity) {
        Corral__V1__AppenderLosses *sampled = realloc(self->sampled, count * sizeof *sampled);
        if (sampled)
            self->sampled = sampled;
        Corral__V1__AppenderLosses **pointers = realloc(self->sampled_list,
                                                        count * sizeof *pointers);
        if (pointers)
            self->sampled_list = pointers;
        if (!sampled || !pointers)
            return;
        self->sampled_capacity = count;
    }
    for (size_t i = 0; i < count; i++) {
        Corral__V1__AppenderLosses *entry = &self->sampled[i];
        *entry = (Corral__V1__AppenderLosses) CORRAL__V1__APPENDER_LOSSES__INIT;
        entry->name = (char *) list[i].name;
        entry->write_errors = list[i].write_errors;
        entry->lost_writing = list[i].lost_writing;
        entry->lost_formatting = list[i].lost_formatting;
        self->sampled_list[i] = entry;
    }
    out->appenders = self->sampled_list;
    out->n_appenders = count;
}
