/* handoff.c: the worker's end of its connection channel (handoff.h). */
#include "handoff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handoff_wire.h"
#include "launch_contract.h"
#include "loop_delay.h"

#define MESSAGES_PER_TURN 16    /* then the loop serves what it took */

struct corral_handoff {
    zloop_t *loop;
    int fd;
    zmq_pollitem_t poll_item;
    bool polling;
    int heartbeat_timer;
    corral_handoff_counters_t *counters;
    corral_handoff_fn *take;
    void *take_arg;
};

static void beat_while_busy(corral_handoff_t *self);

static int
env_fd(const char *name)
{
    const char *text = getenv(name);
    if (!text || !*text)
        return -1;
    char *end;
    long fd = strtol(text, &end, 10);
    return *end || fd < 0 || fd > 1 << 20 ? -1 : (int) fd;
}

/* One message: takes its connections. Returns 0, or -1 when there is
 * nothing more to read now. */
static int
receive(corral_handoff_t *self)
{
    int fds[CORRAL_HANDOFF_MAX_FDS];
    int count = corral_handoff_receive(self->fd, fds);
    if (count < 0)
        return -1;
    atomic_fetch_add_explicit(&self->counters->received, (uint64_t) count,
                              memory_order_relaxed);
    corral_handoff_alive(self);
    if (count > 0) {
        beat_while_busy(self);
        self->take(fds, count, self->take_arg);
    }
    return 0;
}

static int
on_readable(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    corral_loop_delay_turn();   /* the routes of the connections taken run in here */
    corral_handoff_t *self = arg;
    for (int i = 0; i < MESSAGES_PER_TURN && receive(self) == 0; i++)
        ;
    return 0;
}

/* Our loop turns: the coordinator hands us connections only while this
 * moves (a stopped or blocked worker does not take them). It moves with
 * every message taken and connection closed, every CORRAL_HANDOFF_HEARTBEAT_MS
 * while we hold connections, and at every status report: an idle worker
 * wakes for nothing else. */
void
corral_handoff_alive(corral_handoff_t *self)
{
    if (self)
        atomic_fetch_add_explicit(&self->counters->heartbeat, 1, memory_order_relaxed);
}

static int
on_heartbeat(zloop_t *loop, int timer_id, void *arg)
{
    corral_handoff_alive(arg);
    return 0;
}

static uint64_t
held_connections(const corral_handoff_t *self)
{
    uint64_t received = atomic_load_explicit(&self->counters->received, memory_order_relaxed);
    uint64_t closed = atomic_load_explicit(&self->counters->closed, memory_order_relaxed);
    return received > closed ? received - closed : 0;
}

static void
beat_while_busy(corral_handoff_t *self)
{
    if (self->heartbeat_timer < 0)
        self->heartbeat_timer = zloop_timer(self->loop, CORRAL_HANDOFF_HEARTBEAT_MS, 0,
                                            on_heartbeat, self);
}

static void
rest_when_idle(corral_handoff_t *self)
{
    if (self->heartbeat_timer >= 0 && held_connections(self) == 0) {
        zloop_timer_end(self->loop, self->heartbeat_timer);
        self->heartbeat_timer = -1;
    }
}

corral_handoff_t *
corral_handoff_from_env(zloop_t *loop, corral_handoff_fn *take, void *arg)
{
    int fd = env_fd(CORRAL_ENV_HANDOFF_FD);
    int counters_fd = env_fd(CORRAL_ENV_HANDOFF_COUNTERS_FD);
    if (fd < 0 || counters_fd < 0) {
        errno = 0;
        return NULL;
    }
    corral_handoff_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->fd = fd;
    self->heartbeat_timer = -1;
    self->take = take;
    self->take_arg = arg;
    void *counters = mmap(NULL, sizeof *self->counters, PROT_READ | PROT_WRITE, MAP_SHARED,
                          counters_fd, 0);
    int saved = errno;
    close(counters_fd);
    if (counters == MAP_FAILED) {
        corral_handoff_destroy(&self);
        errno = saved;
        return NULL;
    }
    self->counters = counters;
    self->poll_item = (zmq_pollitem_t) { NULL, fd, ZMQ_POLLIN, 0 };
    if (zloop_poller(loop, &self->poll_item, on_readable, self) != 0) {
        corral_handoff_destroy(&self);
        errno = EINVAL;
        return NULL;
    }
    self->polling = true;
    return self;
}

void
corral_handoff_destroy(corral_handoff_t **self_p)
{
    corral_handoff_t *self = *self_p;
    if (!self)
        return;
    if (self->polling)
        zloop_poller_end(self->loop, &self->poll_item);
    if (self->heartbeat_timer >= 0)
        zloop_timer_end(self->loop, self->heartbeat_timer);
    if (self->counters)
        munmap(self->counters, sizeof *self->counters);
    close(self->fd);
    free(self);
    *self_p = NULL;
}

static int
say(corral_handoff_t *self, char what)
{
    return send(self->fd, &what, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1 ? 0 : -1;
}

int
corral_handoff_ready(corral_handoff_t *self)
{
    return say(self, CORRAL_HANDOFF_READY);
}

void
corral_handoff_draining(corral_handoff_t *self)
{
    /* connections handed over before the coordinator reads this are still
     * taken and served (with Connection: close); those queued when we exit
     * go to the other workers */
    say(self, CORRAL_HANDOFF_DRAINING);
}

void
corral_handoff_closed(corral_handoff_t *self)
{
    atomic_fetch_add_explicit(&self->counters->closed, 1, memory_order_relaxed);
    corral_handoff_alive(self);
    rest_when_idle(self);
}
