/* external_loop.c: the worker's zloop, one turn at a time, for another
 * program's event loop (external_loop.h).
 *
 * zloop has no "run what is ready and return": a turn polls, runs the
 * timers that are due, then the readers and pollers in registration
 * order. So a poller on a descriptor that is always readable (an eventfd
 * never read) is kept last, and it ends the turn: zloop_start() then
 * returns after exactly the work that was ready, without blocking, since
 * its poll never waits while that descriptor is readable. If zloop_start()
 * returns without that poller having run, a real handler ended the loop.
 *
 * A ZeroMQ socket's ZMQ_FD only signals that its state may have changed,
 * so after the turns the watched items are polled once more: while any is
 * still ready, more turns run (bounded, then the "again" eventfd keeps the
 * epoll descriptor readable for the caller's next round). */
#include "external_loop.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define TICK_MS 10              /* the loop's timers' lateness at most */
#define TURNS_PER_PROCESS 64    /* then yield to the caller's loop */
#define WATCH_MAX 16

struct corral_external_loop {
    zloop_t *loop;
    int epoll_fd;
    int timer_fd;               /* every TICK_MS, for the loop's timers */
    int again_fd;               /* readable: work was left over */
    int turn_end_fd;            /* always readable: the last poller */
    zmq_pollitem_t turn_end;
    bool turn_ended;
    bool ended;                 /* a handler ended the loop: the worker stopped */
    zmq_pollitem_t watched[WATCH_MAX];
    int watched_count;
};

static int
epoll_add(int epoll_fd, int fd)
{
    struct epoll_event event = { .events = EPOLLIN, .data.fd = fd };
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

corral_external_loop_t *
corral_external_loop_new(zloop_t *loop)
{
    corral_external_loop_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    self->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    self->again_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->turn_end_fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
    self->turn_end = (zmq_pollitem_t) { NULL, self->turn_end_fd, ZMQ_POLLIN, 0 };
    struct itimerspec tick = {
        .it_interval = { 0, TICK_MS * 1000000L }, .it_value = { 0, TICK_MS * 1000000L },
    };
    if (self->epoll_fd < 0 || self->timer_fd < 0 || self->again_fd < 0
        || self->turn_end_fd < 0 || timerfd_settime(self->timer_fd, 0, &tick, NULL) != 0
        || epoll_add(self->epoll_fd, self->timer_fd) != 0
        || epoll_add(self->epoll_fd, self->again_fd) != 0)
        corral_external_loop_destroy(&self);
    return self;
}

void
corral_external_loop_destroy(corral_external_loop_t **self_p)
{
    corral_external_loop_t *self = *self_p;
    if (!self)
        return;
    int fds[] = { self->epoll_fd, self->timer_fd, self->again_fd, self->turn_end_fd };
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(self);
    *self_p = NULL;
}

static int
watch(corral_external_loop_t *self, void *socket, int fd)
{
    if (self->watched_count == WATCH_MAX || epoll_add(self->epoll_fd, fd) != 0)
        return -1;
    self->watched[self->watched_count++] = (zmq_pollitem_t) { socket, socket ? 0 : fd,
                                                              ZMQ_POLLIN, 0 };
    return 0;
}

int
corral_external_loop_watch_socket(corral_external_loop_t *self, void *socket)
{
    void *handle = zsock_resolve(socket);
    int fd;
    size_t size = sizeof fd;
    if (!handle || zmq_getsockopt(handle, ZMQ_FD, &fd, &size) != 0)
        return -1;
    return watch(self, handle, fd);
}

int
corral_external_loop_watch_fd(corral_external_loop_t *self, int fd)
{
    return watch(self, NULL, fd);
}

int
corral_external_loop_fd(const corral_external_loop_t *self)
{
    return self->epoll_fd;
}

int
corral_external_loop_timeout_ms(const corral_external_loop_t *self)
{
    return TICK_MS;
}

static int
on_turn_end(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    corral_external_loop_t *self = arg;
    self->turn_ended = true;
    return -1;
}

/* One zloop turn. False when a handler ended the loop. */
static bool
turn(corral_external_loop_t *self)
{
    /* last in the pollset, whatever was registered since the last turn */
    zloop_poller_end(self->loop, &self->turn_end);
    if (zloop_poller(self->loop, &self->turn_end, on_turn_end, self) != 0)
        return false;
    self->turn_ended = false;
    zloop_start(self->loop);
    zloop_poller_end(self->loop, &self->turn_end);
    return self->turn_ended;
}

static bool
work_left(corral_external_loop_t *self)
{
    return zmq_poll(self->watched, self->watched_count, 0) > 0;
}

static void
drain(int fd)
{
    uint64_t ignored;
    while (read(fd, &ignored, sizeof ignored) == (ssize_t) sizeof ignored)
        ;
}

int
corral_external_loop_process(corral_external_loop_t *self)
{
    if (self->ended)
        return 1;
    drain(self->timer_fd);
    drain(self->again_fd);
    for (int i = 0; i < TURNS_PER_PROCESS; i++) {
        if (!turn(self)) {
            self->ended = true;
            return 1;
        }
        if (!work_left(self))
            return 0;
    }
    uint64_t one = 1;
    if (write(self->again_fd, &one, sizeof one) != (ssize_t) sizeof one)
        return 0;       /* the counter is already set: readable anyway */
    return 0;
}
