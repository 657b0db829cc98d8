/* balancer.c: accepting connections for the workers and handing each to
 * the one with the fewest open connections (see balancer.h and
 * proto/handoff_wire.h).
 *
 * One thread, one epoll set: the listening socket (level-triggered,
 * present only while some worker takes connections) and the coordinator's
 * end of each channel (the workers' READY and DRAINING, and room to send
 * again after a full queue). A thread and not the coordinator's zloop: a
 * loop turn spent writing logs to a slow disk must not hold up accepts.
 * The main thread opens and closes channels under the same lock.
 *
 * A worker's open connections are those handed to it (queued ones too)
 * minus those it has closed, which it counts in shared memory: the choice
 * is made per connection with exact, current numbers. Among equals the
 * turn rotates, so short connections go round-robin. Up to BATCH accepts
 * per wake-up, sent as one message per worker.
 *
 * A worker that is handed connections but does not take them for
 * CORRAL_HANDOFF_STALL_MS (its loop is blocked, or it is stopped) is
 * stalled: they are taken back from its queue and handed to the others,
 * and it gets no more until its heartbeat moves. So a blocked worker
 * holds up a new connection for that long at most, as in the shared-socket
 * model, where it would simply not accept. While no worker takes
 * connections at all (a single worker being replaced), accepted and
 * taken-back ones are held, up to HELD_MAX, and handed out as soon as one
 * does: the wait a client would otherwise have in the listen backlog. */
#include "balancer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "handoff_wire.h"

#define BATCH 64                /* accepts per wake-up */
#define EVENTS 64
#define ACCEPT_PAUSE_MS 100     /* after EMFILE and the like */
#define STALL_CHECK_MS 50       /* while connections are queued to a worker */
#define TAG_LISTEN 0
#define TAG_WAKE 1
#define TAG_CHANNEL 2           /* + the channel's index */
#define HELD_MAX 4096           /* connections kept while no worker takes any */

typedef struct {
    bool used;
    bool ready;                 /* said READY and not DRAINING since */
    bool blocked;               /* its queue was full: waits for room */
    int fd;                     /* our end */
    int worker_fd;              /* the worker's end: what is queued stays ours */
    int counters_fd;
    corral_handoff_counters_t *counters;
    uint64_t handed;            /* pending ones included */
    uint64_t sent;              /* handed and sent (pending ones not) */
    uint64_t last_received;     /* its counter when we last looked */
    int64_t queued_since_ms;    /* its queue last moved, or became non-empty */
    bool stalled;
    uint64_t stalled_heartbeat; /* its heartbeat when it was found stalled */
    int pending[CORRAL_HANDOFF_MAX_FDS];
    int pending_count;
} channel_t;

struct corral_balancer {
    int listen_fd;
    int epoll_fd;
    int wake_fd;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    channel_t *channels;
    int channel_count;
    int turn;                   /* where the search for the least loaded starts */
    bool listening;             /* listen_fd is in the epoll set */
    int64_t paused_until_ms;    /* accept failed for want of resources */
    atomic_bool stopping;
    bool handed_over;           /* another process accepts on listen_fd now */
    corral_balancer_stats_t stats;
    int held[HELD_MAX];         /* accepted or taken back while no worker takes any */
    int held_count;
};

static void *run(void *arg);
static void update_listening(corral_balancer_t *self);

static int64_t
now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

corral_balancer_t *
corral_balancer_new(int listen_fd)
{
    corral_balancer_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->listen_fd = listen_fd;
    pthread_mutex_init(&self->lock, NULL);
    self->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    self->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event wake = { .events = EPOLLIN, .data.u32 = TAG_WAKE };
    int flags = fcntl(listen_fd, F_GETFL);
    if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) != 0
        || self->epoll_fd < 0 || self->wake_fd < 0
        || epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, self->wake_fd, &wake) != 0
        || pthread_create(&self->thread, NULL, run, self) != 0) {
        int saved = errno;
        corral_balancer_destroy(&self);
        errno = saved;
        return NULL;
    }
    self->thread_started = true;
    return self;
}

static void
close_pending(channel_t *channel)
{
    for (int i = 0; i < channel->pending_count; i++)
        close(channel->pending[i]);
    channel->pending_count = 0;
}

static void
release_channel(corral_balancer_t *self, channel_t *channel)
{
    close_pending(channel);
    if (channel->fd >= 0) {
        epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, channel->fd, NULL);
        close(channel->fd);
    }
    if (channel->worker_fd >= 0)
        close(channel->worker_fd);
    if (channel->counters_fd >= 0)
        close(channel->counters_fd);
    if (channel->counters)
        munmap(channel->counters, sizeof *channel->counters);
    *channel = (channel_t) { .used = false, .fd = -1, .worker_fd = -1, .counters_fd = -1 };
}

void
corral_balancer_destroy(corral_balancer_t **self_p)
{
    corral_balancer_t *self = *self_p;
    if (!self)
        return;
    if (self->thread_started) {
        atomic_store(&self->stopping, true);
        uint64_t one = 1;
        ssize_t ignored = write(self->wake_fd, &one, sizeof one);
        (void) ignored;
        pthread_join(self->thread, NULL);
    }
    for (int i = 0; i < self->channel_count; i++)
        if (self->channels[i].used)
            release_channel(self, &self->channels[i]);
    for (int i = 0; i < self->held_count; i++)
        close(self->held[i]);
    free(self->channels);
    if (self->epoll_fd >= 0)
        close(self->epoll_fd);
    if (self->wake_fd >= 0)
        close(self->wake_fd);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

/* --- Choosing and handing over ----------------------------------------------- */

static uint64_t
open_connections(const channel_t *channel)
{
    uint64_t closed = atomic_load_explicit(&channel->counters->closed, memory_order_relaxed);
    return closed < channel->handed ? channel->handed - closed : 0;
}

static bool
takes_connections(const channel_t *channel)
{
    return channel->used && channel->ready && !channel->blocked && !channel->stalled;
}

/* Sent to the worker and not taken by it yet. */
static uint64_t
queued_connections(const channel_t *channel)
{
    uint64_t received = atomic_load_explicit(&channel->counters->received, memory_order_relaxed);
    return received < channel->sent ? channel->sent - received : 0;
}

/* The worker with the fewest open connections; among equals, the next in
 * turn. NULL when none takes connections. */
static channel_t *
least_loaded(corral_balancer_t *self)
{
    channel_t *best = NULL;
    uint64_t best_open = 0;
    int best_index = 0;
    for (int n = 0; n < self->channel_count; n++) {
        int i = (self->turn + n) % self->channel_count;
        channel_t *channel = &self->channels[i];
        if (!takes_connections(channel))
            continue;
        uint64_t open = open_connections(channel);
        if (!best || open < best_open) {
            best = channel;
            best_open = open;
            best_index = i;
        }
    }
    if (best)
        self->turn = best_index + 1;
    return best;
}

/* Sends what is pending to the worker in one message. */
static void
flush(corral_balancer_t *self, channel_t *channel)
{
    if (channel->pending_count == 0 || channel->blocked)
        return;
    char tag = CORRAL_HANDOFF_CONNECTIONS;
    struct iovec iov = { &tag, 1 };
    union {
        char buffer[CMSG_SPACE(sizeof channel->pending)];
        struct cmsghdr align;
    } control;
    size_t bytes = (size_t) channel->pending_count * sizeof(int);
    struct msghdr message = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = control.buffer, .msg_controllen = CMSG_SPACE(bytes),
    };
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(bytes);
    memcpy(CMSG_DATA(header), channel->pending, bytes);
    if (sendmsg(channel->fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL) == 1) {
        if (queued_connections(channel) == 0)
            channel->queued_since_ms = now_ms();
        channel->sent += (uint64_t) channel->pending_count;
        self->stats.handed += (uint64_t) channel->pending_count;
        close_pending(channel);     /* the worker has its own copies */
        return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        /* its queue is full (a worker that does not keep up): keep them
         * for when there is room, give the next ones to the others */
        channel->blocked = true;
        struct epoll_event event = { .events = EPOLLIN | EPOLLOUT,
                                     .data.u32 = TAG_CHANNEL + (uint32_t) (channel - self->channels) };
        epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, channel->fd, &event);
        return;
    }
    self->stats.dropped += (uint64_t) channel->pending_count;
    channel->handed -= (uint64_t) channel->pending_count;
    close_pending(channel);
}

static void
flush_all(corral_balancer_t *self)
{
    for (int i = 0; i < self->channel_count; i++)
        if (self->channels[i].used)
            flush(self, &self->channels[i]);
}

static void
hand(corral_balancer_t *self, int fd)
{
    channel_t *channel = least_loaded(self);
    if (!channel) {
        /* no worker takes connections now (the only one is being
         * replaced): the connection waits, as it would in the backlog */
        if (self->held_count < HELD_MAX)
            self->held[self->held_count++] = fd;
        else {
            self->stats.dropped++;
            close(fd);
        }
        return;
    }
    channel->pending[channel->pending_count++] = fd;
    channel->handed++;
    if (channel->pending_count == CORRAL_HANDOFF_MAX_FDS)
        flush(self, channel);
}

static bool
anyone_takes(const corral_balancer_t *self)
{
    for (int i = 0; i < self->channel_count; i++)
        if (takes_connections(&self->channels[i]))
            return true;
    return false;
}

/* The connections held while no worker took any, once one does. */
static void
hand_held(corral_balancer_t *self)
{
    if (self->held_count == 0 || !anyone_takes(self))
        return;
    int count = self->held_count;
    self->held_count = 0;
    int *fds = malloc((size_t) count * sizeof *fds);
    if (!fds) {
        self->held_count = count;
        return;
    }
    memcpy(fds, self->held, (size_t) count * sizeof *fds);
    for (int i = 0; i < count; i++)
        hand(self, fds[i]);
    free(fds);
}

static void
accept_some(corral_balancer_t *self)
{
    for (int i = 0; i < BATCH && anyone_takes(self); i++) {
        int fd = accept4(self->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            self->stats.accepted++;
            hand(self, fd);
        }
        else if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        else {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                /* EMFILE, ENFILE, ENOBUFS, ENOMEM: the socket stays
                 * readable; wait a little instead of spinning */
                self->stats.accept_errors++;
                self->paused_until_ms = now_ms() + ACCEPT_PAUSE_MS;
            }
            return;
        }
    }
}

/* --- The workers' messages ------------------------------------------------------- */

static void
read_messages(corral_balancer_t *self, channel_t *channel)
{
    char message[16];
    ssize_t n;
    while ((n = recv(channel->fd, message, sizeof message, MSG_DONTWAIT)) >= 0) {
        if (n == 1 && message[0] == CORRAL_HANDOFF_READY)
            channel->ready = true;
        else if (n == 1 && message[0] == CORRAL_HANDOFF_DRAINING)
            channel->ready = false;
        else
            self->stats.bad_messages++;
        if (n == 0)
            break;
    }
}

static void
channel_event(corral_balancer_t *self, channel_t *channel, uint32_t events)
{
    if (!channel->used)
        return;
    if ((events & EPOLLOUT) && channel->blocked) {
        channel->blocked = false;
        struct epoll_event event = { .events = EPOLLIN,
                                     .data.u32 = TAG_CHANNEL + (uint32_t) (channel - self->channels) };
        epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, channel->fd, &event);
    }
    if (events & EPOLLIN)
        read_messages(self, channel);
}

static int take_back(channel_t *channel, int *fds, int max);

/* Its queue has not moved for CORRAL_HANDOFF_STALL_MS: what is queued goes
 * to the others, if there are any. */
static void
stall(corral_balancer_t *self, channel_t *channel)
{
    channel->stalled = true;
    channel->stalled_heartbeat = atomic_load_explicit(&channel->counters->heartbeat,
                                                      memory_order_relaxed);
    if (!anyone_takes(self))
        return;     /* nobody else either: leave them where they are */
    int taken[CORRAL_HANDOFF_MAX_FDS * 4];
    int pending = channel->pending_count;
    int count = take_back(channel, taken, (int) (sizeof taken / sizeof taken[0]));
    channel->handed -= (uint64_t) count;
    channel->sent -= (uint64_t) (count - pending);
    self->stats.taken_back += (uint64_t) count;
    for (int i = 0; i < count; i++)
        hand(self, taken[i]);
}

static void
check_stalls(corral_balancer_t *self)
{
    int64_t now = now_ms();
    for (int i = 0; i < self->channel_count; i++) {
        channel_t *channel = &self->channels[i];
        if (!channel->used)
            continue;
        if (channel->stalled) {
            if (atomic_load_explicit(&channel->counters->heartbeat, memory_order_relaxed)
                != channel->stalled_heartbeat)
                channel->stalled = false;   /* its loop turns again */
            continue;
        }
        uint64_t received = atomic_load_explicit(&channel->counters->received,
                                                 memory_order_relaxed);
        if (received != channel->last_received) {
            channel->last_received = received;
            channel->queued_since_ms = now;
        }
        if (channel->ready && queued_connections(channel) > 0
            && now - channel->queued_since_ms >= CORRAL_HANDOFF_STALL_MS)
            stall(self, channel);
    }
}

/* How long the thread may sleep: until a pause ends, and no longer than
 * STALL_CHECK_MS while a queue or a stalled worker must be watched. */
static int
wait_ms(const corral_balancer_t *self)
{
    int64_t pause = self->paused_until_ms - now_ms();
    int wait = pause > 0 ? (int) pause : -1;
    if (self->held_count > 0)
        return wait >= 0 && wait < STALL_CHECK_MS ? wait : STALL_CHECK_MS;
    for (int i = 0; i < self->channel_count; i++) {
        const channel_t *channel = &self->channels[i];
        if (channel->used && (channel->stalled || queued_connections(channel) > 0))
            return wait >= 0 && wait < STALL_CHECK_MS ? wait : STALL_CHECK_MS;
    }
    return wait;
}

static void
update_listening(corral_balancer_t *self)
{
    bool paused = self->paused_until_ms > now_ms();
    bool want = !paused && !atomic_load(&self->stopping) && !self->handed_over
              && anyone_takes(self);
    if (want == self->listening)
        return;
    struct epoll_event event = { .events = EPOLLIN, .data.u32 = TAG_LISTEN };
    if (epoll_ctl(self->epoll_fd, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, self->listen_fd,
                  &event) == 0)
        self->listening = want;
}

static void *
run(void *arg)
{
    corral_balancer_t *self = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);     /* signals are the main loop's */
    struct epoll_event events[EVENTS];
    while (!atomic_load(&self->stopping)) {
        pthread_mutex_lock(&self->lock);
        int wait = wait_ms(self);
        pthread_mutex_unlock(&self->lock);
        int n = epoll_wait(self->epoll_fd, events, EVENTS, wait);
        if (n < 0 && errno != EINTR)
            break;
        pthread_mutex_lock(&self->lock);
        for (int i = 0; i < n; i++) {
            uint32_t tag = events[i].data.u32;
            if (tag == TAG_LISTEN)
                accept_some(self);
            else if (tag >= TAG_CHANNEL && (int) (tag - TAG_CHANNEL) < self->channel_count)
                channel_event(self, &self->channels[tag - TAG_CHANNEL], events[i].events);
        }
        check_stalls(self);
        hand_held(self);
        flush_all(self);
        update_listening(self);
        pthread_mutex_unlock(&self->lock);
    }
    return NULL;
}

/* --- Channels ----------------------------------------------------------------------- */

static channel_t *
free_channel(corral_balancer_t *self)
{
    for (int i = 0; i < self->channel_count; i++)
        if (!self->channels[i].used)
            return &self->channels[i];
    channel_t *grown = realloc(self->channels, (size_t) (self->channel_count + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    self->channels = grown;
    channel_t *channel = &self->channels[self->channel_count++];
    *channel = (channel_t) { .used = false, .fd = -1, .worker_fd = -1, .counters_fd = -1 };
    return channel;
}

static int
open_channel(corral_balancer_t *self, channel_t *channel)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) != 0)
        return -1;
    channel->used = true;
    /* the launcher places the worker's ends wherever they are (launch.h) */
    channel->fd = pair[0];
    channel->worker_fd = pair[1];
    channel->counters_fd = memfd_create("corral-handoff", MFD_CLOEXEC);
    if (channel->fd < 0 || channel->worker_fd < 0 || channel->counters_fd < 0
        || ftruncate(channel->counters_fd, sizeof *channel->counters) != 0)
        return -1;
    void *counters = mmap(NULL, sizeof *channel->counters, PROT_READ | PROT_WRITE, MAP_SHARED,
                          channel->counters_fd, 0);
    if (counters == MAP_FAILED)
        return -1;
    channel->counters = counters;
    struct epoll_event event = { .events = EPOLLIN,
                                 .data.u32 = TAG_CHANNEL + (uint32_t) (channel - self->channels) };
    return epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, channel->fd, &event);
}

int
corral_balancer_open(corral_balancer_t *self, corral_handoff_fds_t *fds)
{
    pthread_mutex_lock(&self->lock);
    channel_t *channel = free_channel(self);
    int rc = -1;
    if (channel && open_channel(self, channel) == 0) {
        *fds = (corral_handoff_fds_t) { (int) (channel - self->channels), channel->worker_fd,
                                        channel->counters_fd };
        rc = 0;
    }
    else if (channel) {
        int saved = errno;
        release_channel(self, channel);
        errno = saved;
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}

void
corral_balancer_sync(corral_balancer_t *self, int index)
{
    pthread_mutex_lock(&self->lock);
    if (index >= 0 && index < self->channel_count && self->channels[index].used) {
        read_messages(self, &self->channels[index]);
        hand_held(self);
        flush_all(self);
        update_listening(self);
    }
    pthread_mutex_unlock(&self->lock);
}

/* Connections queued to the channel's worker and never received, as many
 * as fit in `max` (the pending ones must); the rest stay queued. */
static int
take_back(channel_t *channel, int *fds, int max)
{
    int count = 0;
    for (int i = 0; i < channel->pending_count && count < max; i++)
        fds[count++] = channel->pending[i];
    channel->pending_count = 0;
    int received;
    while (count + CORRAL_HANDOFF_MAX_FDS <= max            /* a whole message fits */
           && (received = corral_handoff_receive(channel->worker_fd, fds + count)) >= 0)
        count += received;
    return count;
}

void
corral_balancer_close(corral_balancer_t *self, int index)
{
    pthread_mutex_lock(&self->lock);
    if (index >= 0 && index < self->channel_count && self->channels[index].used) {
        channel_t *channel = &self->channels[index];
        channel->ready = false;
        /* bounded: the socket's buffer holds far fewer messages */
        enum { MAX_TAKEN = 64 * CORRAL_HANDOFF_MAX_FDS };
        int *taken = malloc(MAX_TAKEN * sizeof *taken);
        int count = taken ? take_back(channel, taken, MAX_TAKEN) : 0;
        self->stats.taken_back += (uint64_t) count;
        for (int i = 0; i < count; i++)
            hand(self, taken[i]);
        free(taken);
        flush_all(self);
        release_channel(self, channel);
        update_listening(self);
    }
    pthread_mutex_unlock(&self->lock);
}

void
corral_balancer_stats(corral_balancer_t *self, corral_balancer_stats_t *stats)
{
    pthread_mutex_lock(&self->lock);
    *stats = self->stats;
    pthread_mutex_unlock(&self->lock);
}

/* --- Binary upgrade ------------------------------------------------------------------ */

void
corral_balancer_hand_over(corral_balancer_t *self)
{
    pthread_mutex_lock(&self->lock);
    self->handed_over = true;
    update_listening(self);
    pthread_mutex_unlock(&self->lock);
    uint64_t one = 1;
    ssize_t ignored = write(self->wake_fd, &one, sizeof one);
    (void) ignored;
}

bool
corral_balancer_settled(corral_balancer_t *self)
{
    pthread_mutex_lock(&self->lock);
    bool settled = self->held_count == 0;
    for (int i = 0; settled && i < self->channel_count; i++) {
        const channel_t *channel = &self->channels[i];
        settled = !channel->used || (channel->pending_count == 0
                                     && queued_connections(channel) == 0);
    }
    pthread_mutex_unlock(&self->lock);
    return settled;
}
