/* plain_worker.c: one plain worker process (plain_worker.h). */
#include "plain_worker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify_socket.h"
#include "process_metrics.h"

#define REFUSED_LOG_INTERVAL_MS 10000

struct corral_plain_worker {
    zloop_t *loop;
    corral_plain_worker_spec_t spec;
    corral_plain_worker_ops_t ops;
    void *arg;
    void *link;
    corral_notify_socket_t *notify;
    zmq_pollitem_t poll_item;
    bool polling;
    pid_t pid;
    int64_t started_ms;
    bool ready;
    bool reloading;             /* RELOADING=1, and no READY=1 since */
    bool stopping;              /* STOPPING=1 */
    bool hung;
    int64_t watchdog_at_ms;     /* its last WATCHDOG=1 (or its readiness) */
    int ready_timer;
    int sample_timer;
    uint64_t report_seq;
    int64_t refused_logged_at;
    char status[CORRAL_NOTIFY_STATUS_MAX];
};

static void
become_ready(corral_plain_worker_t *self)
{
    if (self->ready)
        return;
    self->ready = true;
    self->watchdog_at_ms = zclock_mono();   /* the watchdog runs from readiness */
    char how[64];
    if (self->spec.ready_after_ms)
        snprintf(how, sizeof how, "is ready (it ran ready_after, %llu ms)",
                 (unsigned long long) self->spec.ready_after_ms);
    else
        snprintf(how, sizeof how, "is ready (READY=1)");
    self->ops.event(self->arg, self, "ready", how);
    self->ops.ready(self->arg, self);
}

static void
on_message(corral_plain_worker_t *self, const corral_notify_message_t *message)
{
    if (message->has_status) {
        snprintf(self->status, sizeof self->status, "%s", message->status);
        char detail[CORRAL_NOTIFY_STATUS_MAX + 16];
        snprintf(detail, sizeof detail, "status: %s", self->status);
        self->ops.event(self->arg, self, "status", detail);
    }
    if (message->watchdog)
        self->watchdog_at_ms = zclock_mono();
    if (message->ready && self->ready && self->reloading) {
        self->reloading = false;
        self->ops.event(self->arg, self, "reloaded", "is ready again (READY=1 after RELOADING=1)");
    }
    else if (message->ready && self->spec.ready_after_ms == 0)
        become_ready(self);
    if (message->stopping && !self->stopping) {
        self->stopping = true;
        self->ops.event(self->arg, self, "stopping", "says it is stopping (STOPPING=1)");
    }
    if (message->reloading && self->ready && !self->reloading) {
        self->reloading = true;     /* as systemd: reloading until READY=1 */
        self->ops.event(self->arg, self, "reloading",
                        "says it is reloading its configuration (RELOADING=1)");
    }
    if (message->watchdog_trigger && !self->hung) {
        self->hung = true;
        self->ops.hung(self->arg, self, "asked to be taken as hung (WATCHDOG=trigger)");
    }
}

/* A datagram from another process (or without credentials): refused,
 * counted, said at most every REFUSED_LOG_INTERVAL_MS. */
static void
on_refused(corral_plain_worker_t *self)
{
    int64_t now = zclock_mono();
    if (self->refused_logged_at && now - self->refused_logged_at < REFUSED_LOG_INTERVAL_MS)
        return;
    self->refused_logged_at = now;
    char detail[128];
    snprintf(detail, sizeof detail, "notify socket: refused a datagram not from pid %d "
             "(%llu refused so far)", (int) self->pid,
             (unsigned long long) corral_notify_socket_refused(self->notify));
    self->ops.event(self->arg, self, "refused", detail);
}

static int
on_readable(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    corral_plain_worker_t *self = arg;
    corral_notify_message_t message;
    int rc;
    for (int i = 0; i < 64 && (rc = corral_notify_socket_read(self->notify, &message)) >= 0;
         i++) {
        if (rc == 1)
            on_message(self, &message);
        else
            on_refused(self);
    }
    return 0;
}

static int
on_ready_after(zloop_t *loop, int timer_id, void *arg)
{
    corral_plain_worker_t *self = arg;
    self->ready_timer = -1;
    become_ready(self);
    return 0;
}

/* Every status interval: its report, and its watchdog. */
static int
on_sample(zloop_t *loop, int timer_id, void *arg)
{
    corral_plain_worker_t *self = arg;
    int64_t now = zclock_mono();
    if (self->ready && self->spec.watchdog_ms && !self->hung
        && now - self->watchdog_at_ms > (int64_t) self->spec.watchdog_ms) {
        char why[128];
        snprintf(why, sizeof why, "sent no WATCHDOG=1 for %lld ms (watchdog %llu ms)",
                 (long long) (now - self->watchdog_at_ms),
                 (unsigned long long) self->spec.watchdog_ms);
        self->hung = true;
        self->ops.hung(self->arg, self, why);
        return 0;
    }
    uint64_t rss = 0;
    double cpu = 0;
    if (self->hung || corral_process_metrics_of(self->pid, &rss, &cpu) != 0)
        return 0;
    Corral__V1__ServiceStatus service = CORRAL__V1__SERVICE_STATUS__INIT;
    service.name = (char *) "process";
    service.level = CORRAL__V1__STATUS_LEVEL__STATUS_LEVEL_AVAILABLE;
    service.summary = self->status[0] ? self->status
                    : self->ready ? (char *) "running" : (char *) "starting";
    Corral__V1__ServiceStatus *core[] = { &service };
    Corral__V1__ProcessMetrics process = CORRAL__V1__PROCESS_METRICS__INIT;
    process.pid = (uint32_t) self->pid;
    process.resident_set_size_bytes = rss;
    process.uptime_ms = (uint64_t) (now - self->started_ms);
    process.cpu_seconds = cpu;
    Corral__V1__Report report = CORRAL__V1__REPORT__INIT;
    report.worker_id = (uint32_t) self->spec.worker_id;
    report.seq = ++self->report_seq;
    report.n_core = 1;
    report.core = core;
    report.process = &process;
    self->ops.report(self->arg, self, &report);
    return 0;
}

corral_plain_worker_t *
corral_plain_worker_new(zloop_t *loop, const corral_plain_worker_spec_t *spec,
                        const corral_plain_worker_ops_t *ops, void *arg)
{
    corral_plain_worker_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->spec = *spec;
    self->spec.notify_path = NULL;
    self->ops = *ops;
    self->arg = arg;
    self->ready_timer = self->sample_timer = -1;
    self->notify = corral_notify_socket_new(spec->notify_path);
    if (!self->notify) {
        int saved = errno;
        free(self);
        errno = saved;
        return NULL;
    }
    return self;
}

void
corral_plain_worker_destroy(corral_plain_worker_t **self_p)
{
    corral_plain_worker_t *self = *self_p;
    if (!self)
        return;
    if (self->polling)
        zloop_poller_end(self->loop, &self->poll_item);
    if (self->ready_timer >= 0)
        zloop_timer_end(self->loop, self->ready_timer);
    if (self->sample_timer >= 0)
        zloop_timer_end(self->loop, self->sample_timer);
    corral_notify_socket_destroy(&self->notify);
    free(self);
    *self_p = NULL;
}

const char *
corral_plain_worker_notify_path(const corral_plain_worker_t *self)
{
    return corral_notify_socket_path(self->notify);
}

uint64_t
corral_plain_worker_watchdog_usec(const corral_plain_worker_t *self)
{
    return self->spec.watchdog_ms * 1000;
}

int
corral_plain_worker_started(corral_plain_worker_t *self, pid_t pid)
{
    self->pid = pid;
    self->started_ms = zclock_mono();
    corral_notify_socket_expect(self->notify, pid);
    self->poll_item = (zmq_pollitem_t) { NULL, corral_notify_socket_fd(self->notify),
                                         ZMQ_POLLIN, 0 };
    if (zloop_poller(self->loop, &self->poll_item, on_readable, self) != 0)
        return -1;
    self->polling = true;
    if (self->spec.ready_after_ms)
        self->ready_timer = zloop_timer(self->loop, (size_t) self->spec.ready_after_ms, 1,
                                        on_ready_after, self);
    uint64_t interval = self->spec.status_interval_ms ? self->spec.status_interval_ms : 1000;
    if (self->spec.watchdog_ms && self->spec.watchdog_ms / 2 < interval)
        interval = self->spec.watchdog_ms / 2 ? self->spec.watchdog_ms / 2 : 1;
    self->sample_timer = zloop_timer(self->loop, (size_t) interval, 0, on_sample, self);
    return self->sample_timer >= 0 && (!self->spec.ready_after_ms || self->ready_timer >= 0)
        ? 0 : -1;
}

void *
corral_plain_worker_link(const corral_plain_worker_t *self)
{
    return self->link;
}

void
corral_plain_worker_set_link(corral_plain_worker_t *self, void *link)
{
    self->link = link;
}

const char *
corral_plain_worker_state(const corral_plain_worker_t *self)
{
    return self->stopping ? "stopping" : self->reloading ? "reloading" : NULL;
}

const char *
corral_plain_worker_status(const corral_plain_worker_t *self)
{
    return self->status;
}
