/* http_guard.c: connection limits and the deadlines libmicrohttpd does not
 * keep.
 *
 * libmicrohttpd 0.9.75 has one timeout, for inactivity: a client that
 * sends a header byte every few seconds is never closed (slowloris). And
 * at its connection limit it stops accepting, so new clients wait in the
 * backlog behind idle sockets. The guard keeps every connection that
 * waits for a request in one of two lists, in the order they began
 * waiting (so each list is also in deadline order):
 *   fresh  accepted, no request yet: its headers are due within
 *          header_timeout of the accept;
 *   kept   kept alive after a response: the next request's headers are
 *          due within idle_timeout (libmicrohttpd does not say when its
 *          first byte comes, so that one deadline covers the wait and the
 *          headers).
 * One zloop timer fires at the earliest deadline. At the connection limit
 * the connection that has waited longest is closed for the new one, as
 * nginx reuses idle connections: so a crowd of idle or trickling sockets
 * cannot lock clients out. A connection is closed by shutting its socket
 * down; libmicrohttpd reads the end and releases it. */
#include "http_guard.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "defaults.h"
#include "log.h"

#define LOGGER "http.server"
/* descriptors kept for the worker's own use: ZeroMQ sockets and their
 * mailboxes, libmicrohttpd's epoll, log files in classic mode */
#define RESERVED_FDS 64
/* connections libmicrohttpd may hold above the guard's limit: those
 * accepted in one run before the guard's shutdowns are seen */
#define MHD_HEADROOM 32
#define WARN_EVERY_MS 10000

typedef enum { LIST_NONE, LIST_FRESH, LIST_KEPT } list_id_t;

struct corral_guarded {
    int fd;
    int64_t opened_at;              /* zclock_mono(), for keepalive_time */
    uint64_t requests;              /* started on it, for keepalive_requests */
    list_id_t list;
    int64_t since;                  /* zclock_mono() when it began waiting */
    corral_guarded_t *prev, *next;
};

typedef struct {
    corral_guarded_t *head, *tail;
    int64_t timeout_ms;
} list_t;

struct corral_http_guard {
    zloop_t *loop;
    unsigned max_connections;       /* after the descriptor reserve */
    unsigned mhd_limit;
    unsigned per_ip;
    uint64_t idle_timeout_ms;
    list_t lists[3];                /* by list_id_t; [LIST_NONE] unused */
    size_t connections;
    size_t fresh;                   /* of those, never started a request */
    int timer_id;                   /* -1: none */
    int64_t timer_due;
    void (*wake)(void *arg);
    void *wake_arg;
    uint64_t displaced;             /* closed to make room, or refused */
    int64_t warned_at;
};

static unsigned
descriptor_budget(void)
{
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY
        || files.rlim_cur > UINT32_MAX)
        return UINT32_MAX;
    /* at least a few connections, even with a tiny limit */
    return files.rlim_cur > RESERVED_FDS + 2 * MHD_HEADROOM
         ? (unsigned) files.rlim_cur - RESERVED_FDS : 2 * MHD_HEADROOM;
}

corral_http_guard_t *
corral_http_guard_new(zloop_t *loop, const corral_http_limits_t *limits,
                      void (*wake)(void *arg), void *arg)
{
    corral_http_guard_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->wake = wake;
    self->wake_arg = arg;
    self->timer_id = -1;
    unsigned wanted = limits->max_connections ? limits->max_connections
                                              : CORRAL_DEFAULT_MAX_CONNECTIONS;
    unsigned budget = descriptor_budget();
    if ((uint64_t) wanted + MHD_HEADROOM <= budget) {
        self->max_connections = wanted;
        self->mhd_limit = wanted + MHD_HEADROOM;
    }
    else {
        self->max_connections = budget - MHD_HEADROOM;
        self->mhd_limit = budget;
    }
    if (self->max_connections < wanted)
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "server.limits.max_connections %u: this "
                   "process may open %u descriptors, so it keeps at most %u connections",
                   wanted, budget + RESERVED_FDS, self->max_connections);
    self->per_ip = limits->max_connections_per_ip;
    self->lists[LIST_FRESH].timeout_ms = (int64_t) (limits->header_timeout_ms
        ? limits->header_timeout_ms : CORRAL_DEFAULT_HEADER_TIMEOUT_MS);
    self->idle_timeout_ms = limits->idle_timeout_ms ? limits->idle_timeout_ms
                                                    : CORRAL_DEFAULT_IDLE_TIMEOUT_MS;
    self->lists[LIST_KEPT].timeout_ms = (int64_t) self->idle_timeout_ms;
    return self;
}

void
corral_http_guard_destroy(corral_http_guard_t **self_p)
{
    corral_http_guard_t *self = *self_p;
    if (!self)
        return;
    if (self->timer_id != -1)
        zloop_timer_end(self->loop, self->timer_id);
    /* the connections' own records go with libmicrohttpd's CLOSED notes */
    free(self);
    *self_p = NULL;
}

unsigned
corral_http_guard_max_connections(const corral_http_guard_t *self)
{
    return self->max_connections;
}

unsigned
corral_http_guard_mhd_limit(const corral_http_guard_t *self)
{
    return self->mhd_limit;
}

unsigned
corral_http_guard_idle_seconds(const corral_http_guard_t *self)
{
    return (unsigned) ((self->idle_timeout_ms + 999) / 1000);
}

unsigned
corral_http_guard_per_ip(const corral_http_guard_t *self)
{
    return self->per_ip;
}

size_t
corral_http_guard_fresh(const corral_http_guard_t *self)
{
    return self->fresh;
}

size_t
corral_http_guard_connections(const corral_http_guard_t *self)
{
    return self->connections;
}

/* --- The waiting lists -------------------------------------------------------------- */

static void
unlink_guarded(corral_http_guard_t *self, corral_guarded_t *guarded)
{
    if (guarded->list == LIST_NONE)
        return;
    list_t *list = &self->lists[guarded->list];
    if (guarded->prev)
        guarded->prev->next = guarded->next;
    else
        list->head = guarded->next;
    if (guarded->next)
        guarded->next->prev = guarded->prev;
    else
        list->tail = guarded->prev;
    guarded->prev = guarded->next = NULL;
    guarded->list = LIST_NONE;
}

static void arm_timer(corral_http_guard_t *self);

static void
append(corral_http_guard_t *self, corral_guarded_t *guarded, list_id_t id)
{
    unlink_guarded(self, guarded);
    list_t *list = &self->lists[id];
    guarded->list = id;
    guarded->since = zclock_mono();
    guarded->prev = list->tail;
    if (list->tail)
        list->tail->next = guarded;
    else
        list->head = guarded;
    list->tail = guarded;
    arm_timer(self);
}

/* Ends the connection; libmicrohttpd sees the socket's end and closes it. */
static void
close_guarded(corral_http_guard_t *self, corral_guarded_t *guarded)
{
    unlink_guarded(self, guarded);
    shutdown(guarded->fd, SHUT_RDWR);
    self->wake(self->wake_arg);
}

/* --- Deadlines ------------------------------------------------------------------------ */

static int
on_deadline(zloop_t *loop, int timer_id, void *arg)
{
    corral_http_guard_t *self = arg;
    self->timer_id = -1;
    int64_t now = zclock_mono();
    for (list_id_t id = LIST_FRESH; id <= LIST_KEPT; id++) {
        list_t *list = &self->lists[id];
        while (list->head && list->head->since + list->timeout_ms <= now) {
            corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "closing a connection: no request headers "
                       "within %lld ms of %s", (long long) list->timeout_ms,
                       id == LIST_FRESH ? "its opening" : "the last response");
            close_guarded(self, list->head);
        }
    }
    arm_timer(self);
    return 0;
}

/* One timer, at the earliest deadline of the two lists. */
static void
arm_timer(corral_http_guard_t *self)
{
    int64_t due = INT64_MAX;
    for (list_id_t id = LIST_FRESH; id <= LIST_KEPT; id++)
        if (self->lists[id].head && self->lists[id].head->since + self->lists[id].timeout_ms < due)
            due = self->lists[id].head->since + self->lists[id].timeout_ms;
    if (due == INT64_MAX || (self->timer_id != -1 && self->timer_due <= due))
        return;
    if (self->timer_id != -1)
        zloop_timer_end(self->loop, self->timer_id);
    int64_t delay = due - zclock_mono();
    self->timer_id = zloop_timer(self->loop, delay > 0 ? (size_t) delay : 1, 1, on_deadline,
                                 self);
    self->timer_due = due;
}

/* --- Connections ------------------------------------------------------------------------ */

/* The connection that has waited longest for a request, or NULL. */
static corral_guarded_t *
longest_waiting(const corral_http_guard_t *self)
{
    corral_guarded_t *fresh = self->lists[LIST_FRESH].head;
    corral_guarded_t *kept = self->lists[LIST_KEPT].head;
    if (!fresh || !kept)
        return fresh ? fresh : kept;
    return fresh->since <= kept->since ? fresh : kept;
}

static void
warn_displaced(corral_http_guard_t *self, const char *what)
{
    self->displaced++;
    int64_t now = zclock_mono();
    if (self->warned_at && now - self->warned_at < WARN_EVERY_MS)
        return;
    self->warned_at = now;
    corral_log(CORRAL_LEVEL_WARN, LOGGER, "at the connection limit (%u): %s (%llu so far)",
               self->max_connections, what, (unsigned long long) self->displaced);
}

corral_guarded_t *
corral_http_guard_opened(corral_http_guard_t *self, struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    corral_guarded_t *guarded = calloc(1, sizeof *guarded);
    if (!guarded) {
        if (info)
            shutdown(info->connect_fd, SHUT_RDWR);
        return NULL;
    }
    guarded->fd = info ? info->connect_fd : -1;
    guarded->opened_at = zclock_mono();
    self->connections++;
    self->fresh++;
    if (self->connections > self->max_connections) {
        corral_guarded_t *oldest = longest_waiting(self);
        if (oldest) {
            warn_displaced(self, "closed the connection that waited longest for a request");
            close_guarded(self, oldest);
        }
        else {
            warn_displaced(self, "every connection is busy: closed a new one");
            shutdown(guarded->fd, SHUT_RDWR);
            self->wake(self->wake_arg);
            return guarded;     /* released when libmicrohttpd closes it */
        }
    }
    append(self, guarded, LIST_FRESH);
    return guarded;
}

uint64_t
corral_http_guard_request_started(corral_http_guard_t *self, corral_guarded_t *guarded)
{
    if (!guarded)
        return 0;
    unlink_guarded(self, guarded);
    if (guarded->requests == 0 && self->fresh > 0)
        self->fresh--;
    return ++guarded->requests;
}

int64_t
corral_http_guard_age_ms(const corral_guarded_t *guarded)
{
    return guarded ? zclock_mono() - guarded->opened_at : 0;
}

void
corral_http_guard_request_ended(corral_http_guard_t *self, corral_guarded_t *guarded)
{
    if (guarded)
        append(self, guarded, LIST_KEPT);
}

void
corral_http_guard_closed(corral_http_guard_t *self, corral_guarded_t **guarded_p)
{
    corral_guarded_t *guarded = *guarded_p;
    if (!guarded)
        return;
    unlink_guarded(self, guarded);
    if (self->connections > 0)
        self->connections--;
    if (guarded->requests == 0 && self->fresh > 0)
        self->fresh--;
    free(guarded);
    *guarded_p = NULL;
}
