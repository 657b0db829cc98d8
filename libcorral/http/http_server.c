/* http_server.c: libmicrohttpd in external-epoll mode inside the worker's
 * zloop, exact-match routing, keep-alive limits, and the graceful drain.
 *
 * Connections come from the listening socket on fd 3, or, when the
 * coordinator balances them (balancing shared), from the worker's
 * connection channel (handoff.c) through MHD_add_connection().
 *
 * MHD's epoll fd is registered with zloop as a raw-fd poller: zloop polls
 * it, and MHD_run() does the epoll_wait. Never epoll_wait on that fd
 * ourselves: MHD's events are edge-triggered and consuming them would stall
 * connections. MHD_get_timeout() says when MHD must run again even if no fd
 * is readable; one zloop timer is kept at the earliest such deadline. */
#include "http_server.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handoff.h"
#include "http_framing.h"
#include "http_guard.h"
#include "http_request.h"
#include "log.h"
#include "loop_delay.h"

#define LOGGER "http.server"

typedef struct {
    char *method;
    char *path;
    corral_route_fn *fn;
    void *arg;
} route_t;

typedef struct {
    corral_http_observer_fn *fn;
    void *arg;
} observer_t;

struct corral_http_server {
    zloop_t *loop;
    int listen_fd;
    char *worker_name;
    struct MHD_Daemon *daemon;
    zmq_pollitem_t poll_item;
    int timer_id;                   /* -1 when no timer is armed */
    int64_t timer_due;              /* zclock_mono() ms */
    route_t *routes;
    size_t route_count;
    corral_request_t *requests;     /* in flight, most recent first */
    size_t in_flight;
    bool draining;
    bool drain_grace_over;
    int drain_grace_timer;          /* -1: none */
    int drain_check_timer;          /* -1: none */
    corral_drained_fn *on_drained;
    void *drained_arg;
    observer_t *observers;
    size_t observer_count;
    corral_http_limits_t limits;
    corral_http_guard_t *guard;     /* from the start */
    uint64_t accepted;              /* connections since start */
    uint64_t recycled;              /* closed by the keep-alive limits */
    corral_handoff_t *handoff;      /* NULL: we accept on listen_fd */
};

corral_http_server_t *
corral_http_server_new(zloop_t *loop, int listen_fd, const char *worker_name)
{
    corral_http_server_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->listen_fd = listen_fd;
    self->worker_name = strdup(worker_name);
    self->timer_id = -1;
    self->drain_grace_timer = -1;
    self->drain_check_timer = -1;
    return self;
}

void
corral_http_server_destroy(corral_http_server_t **self_p)
{
    corral_http_server_t *self = *self_p;
    if (!self)
        return;
    if (self->drain_grace_timer != -1)
        zloop_timer_end(self->loop, self->drain_grace_timer);
    if (self->drain_check_timer != -1)
        zloop_timer_end(self->loop, self->drain_check_timer);
    if (self->daemon) {
        zloop_poller_end(self->loop, &self->poll_item);
        if (self->timer_id != -1)
            zloop_timer_end(self->loop, self->timer_id);
        /* MHD aborts if it is stopped with a connection still suspended */
        for (corral_request_t *request = self->requests; request; request = request->next)
            corral_request_resume(request);
        MHD_stop_daemon(self->daemon);
    }
    corral_http_guard_destroy(&self->guard);
    corral_handoff_destroy(&self->handoff);    /* after the connections it counts */
    for (size_t i = 0; i < self->route_count; i++) {
        free(self->routes[i].method);
        free(self->routes[i].path);
    }
    free(self->routes);
    free(self->observers);
    free(self->worker_name);
    free(self);
    *self_p = NULL;
}

static const route_t *
find_route(const corral_http_server_t *self, const char *method, const char *path,
           bool *path_known)
{
    *path_known = false;
    if (strcmp(method, "HEAD") == 0)
        method = "GET";         /* MHD sends the headers only */
    for (size_t i = 0; i < self->route_count; i++) {
        if (strcmp(self->routes[i].path, path) != 0)
            continue;
        *path_known = true;
        if (strcmp(self->routes[i].method, method) == 0)
            return &self->routes[i];
    }
    return NULL;
}

int
corral_http_server_route(corral_http_server_t *self, const char *method,
                         const char *path, corral_route_fn *fn, void *arg)
{
    bool path_known;
    if (find_route(self, method, path, &path_known))
        return -1;
    route_t *grown = realloc(self->routes, (self->route_count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    self->routes = grown;
    self->routes[self->route_count++] = (route_t) {
        strdup(method), strdup(path), fn, arg
    };
    return 0;
}

static void wake_daemon(void *arg);

/* What the guard keeps for the request's connection. */
static corral_guarded_t *
guarded_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* --- Dispatching requests ------------------------------------------------ */

static void
dispatch(corral_http_server_t *self, corral_request_t *request)
{
    if (request->body_too_large) {
        corral_request_respond_error(request, MHD_HTTP_CONTENT_TOO_LARGE,
                                     "request body too large");
        return;
    }
    bool path_known;
    const route_t *route = find_route(self, request->method, request->path, &path_known);
    if (!route) {
        if (path_known)
            corral_request_respond_error(request, MHD_HTTP_METHOD_NOT_ALLOWED,
                                         "method not allowed");
        else
            corral_request_respond_error(request, MHD_HTTP_NOT_FOUND, "not found");
        return;
    }
    route->fn(request, route->arg);
    if (!request->responded && !request->suspended) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "%s %s: the handler did not respond",
                   request->method, request->path);
        corral_request_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                     "the handler did not respond");
    }
}

/* Counts the request on its connection; true when its response must close
 * the connection: the connection has been kept alive keepalive_requests
 * times already (100: the 101st request's response closes it), or it is
 * older than keepalive_time. The client reconnects, and the coordinator
 * gives the new connection to whichever worker has the fewest. */
static bool
past_keepalive_limits(corral_http_server_t *self, const corral_guarded_t *guarded,
                      uint64_t requests)
{
    if (!guarded)
        return false;
    const corral_http_limits_t *limits = &self->limits;
    bool past = (limits->keepalive_requests && requests > limits->keepalive_requests)
        || (limits->keepalive_time_ms
            && corral_http_guard_age_ms(guarded) >= (int64_t) limits->keepalive_time_ms);
    self->recycled += past;
    return past;
}

/* The request begins at its request line: made here, before
 * libmicrohttpd splits and decodes the target in place, so that the
 * target is kept as the client sent it (for the access log), and where
 * it ends is noted for the access handler, which refuses a target that
 * held a NUL.
 * Started by the first call of on_request. */
static void *
on_target(void *cls, const char *uri, struct MHD_Connection *connection)
{
    corral_http_server_t *self = cls;
    corral_request_t *request = corral_request_new(connection, self->worker_name);
    if (!request)
        return NULL;            /* on_request tries again */
    request->target_end = corral_http_framing_target_end(uri);
    request->target_seen = true;
    if (request->target_end)
        request->target = strdup(uri);          /* NULL if out of memory: logged as none */
    return request;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *connection, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **request_p)
{
    corral_http_server_t *self = cls;
    corral_request_t *request = *request_p;
    if (!request || !request->started) {
        if (!request)
            request = corral_request_new(connection, self->worker_name);
        if (!request)
            return MHD_NO;
        *request_p = request;
        request->started = true;
        request->wake_server = wake_daemon;
        request->server = self;
        request->next = self->requests;
        if (self->requests)
            self->requests->prev = request;
        self->requests = request;
        self->in_flight++;
        request->method = method;
        request->path = url;
        request->version = version;
        request->started_us = zclock_usecs();
        corral_guarded_t *guarded = guarded_of(connection);
        uint64_t requests = corral_http_guard_request_started(self->guard, guarded);
        const char *problem;
        unsigned status = corral_http_framing_check(connection, method, version, &problem);
        if (request->target_seen
            && !corral_http_framing_target_intact(request->target_end, version)) {
            status = 400;
            problem = "a NUL in the request target (raw, or %00 in the path)";
        }
        if (status) {
            /* answered now, so libmicrohttpd skips any body and closes */
            corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "%s %s: refused: %s", method, url, problem);
            request->close_connection = true;
            corral_request_respond_error(request, status, problem);
            return MHD_YES;
        }
        request->close_connection = past_keepalive_limits(self, guarded, requests);
        /* answer from the next call: a response queued in the first one
         * makes libmicrohttpd close the connection (no keep-alive) */
        return MHD_YES;
    }
    else if (*upload_data_size > 0) {
        corral_request_append_body(request, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (request->responded)
        return MHD_YES;
    request->close_connection = request->close_connection || self->draining;
    dispatch(self, request);
    return MHD_YES;
}

static void
tell_observers(corral_http_server_t *self, const corral_request_t *request,
               enum MHD_RequestTerminationCode reason)
{
    if (self->observer_count == 0)
        return;
    corral_http_exchange_t exchange = {
        .method = request->method,
        .path = request->path,
        .target = request->target,
        .version = request->version,
        .connection = request->connection,
        .status = request->responded ? request->status : 0,
        .response_bytes = request->response_bytes,
        .duration_us = zclock_usecs() - request->started_us,
        .completed = reason == MHD_REQUEST_TERMINATED_COMPLETED_OK,
    };
    for (size_t i = 0; i < self->observer_count; i++)
        self->observers[i].fn(&exchange, self->observers[i].arg);
}

static void
on_request_completed(void *cls, struct MHD_Connection *connection,
                     void **request_p, enum MHD_RequestTerminationCode reason)
{
    corral_http_server_t *self = cls;
    corral_request_t *request = *request_p;
    if (!request)
        return;
    if (!request->started) {    /* closed before its headers were whole */
        corral_request_destroy(&request);
        *request_p = NULL;
        return;
    }
    tell_observers(self, request, reason);
    corral_http_guard_request_ended(self->guard, guarded_of(connection));
    if (request->prev)
        request->prev->next = request->next;
    else
        self->requests = request->next;
    if (request->next)
        request->next->prev = request->prev;
    corral_request_destroy(&request);
    *request_p = NULL;
    self->in_flight--;
}

static void finish_drain_if_idle(corral_http_server_t *self);

static int
on_drain_check(zloop_t *loop, int timer_id, void *arg)
{
    corral_http_server_t *self = arg;
    self->drain_check_timer = -1;
    finish_drain_if_idle(self);
    return 0;
}

static void
on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
    corral_http_server_t *self = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        self->accepted++;
        *socket_context = corral_http_guard_opened(self->guard, connection);
    }
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        corral_http_guard_closed(self->guard, (corral_guarded_t **) socket_context);
        /* it may have been the last fresh one: checked from the loop, not
         * inside libmicrohttpd's call */
        if (self->draining && self->loop && self->drain_check_timer == -1)
            self->drain_check_timer = zloop_timer(self->loop, 1, 1, on_drain_check, self);
        if (self->handoff)
            corral_handoff_closed(self->handoff);
    }
}

int
corral_http_server_observe(corral_http_server_t *self, corral_http_observer_fn *fn,
                           void *arg)
{
    observer_t *grown = realloc(self->observers, (self->observer_count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    self->observers = grown;
    self->observers[self->observer_count++] = (observer_t) { fn, arg };
    return 0;
}

size_t
corral_http_server_connections(const corral_http_server_t *self)
{
    return self->guard ? corral_http_guard_connections(self->guard) : 0;
}

void
corral_http_server_connection_counts(const corral_http_server_t *self, uint64_t *accepted,
                                     uint64_t *recycled)
{
    *accepted = self->accepted;
    *recycled = self->recycled;
}

void
corral_http_server_alive(corral_http_server_t *self)
{
    corral_handoff_alive(self->handoff);
}

/* --- Running MHD from the loop ------------------------------------------- */

static void run_daemon(corral_http_server_t *self);

static int
on_daemon_timer(zloop_t *loop, int timer_id, void *arg)
{
    corral_http_server_t *self = arg;
    corral_loop_delay_turn();
    self->timer_id = -1;
    run_daemon(self);
    return 0;
}

/* Keeps one timer, at the earliest time MHD must run again. */
static void
schedule_run(corral_http_server_t *self, uint64_t delay_ms)
{
    int64_t due = zclock_mono() + (int64_t) delay_ms;
    if (self->timer_id != -1) {
        if (self->timer_due <= due)
            return;
        zloop_timer_end(self->loop, self->timer_id);
    }
    self->timer_id = zloop_timer(self->loop, (size_t) delay_ms, 1, on_daemon_timer, self);
    self->timer_due = due;
}

static void
arm_timer(corral_http_server_t *self)
{
    MHD_UNSIGNED_LONG_LONG timeout;
    if (MHD_get_timeout(self->daemon, &timeout) == MHD_YES)
        schedule_run(self, timeout);
    /* else nothing is due: a timer still armed fires harmlessly */
}

/* Runs MHD on the loop's next turn, not here: this may be called from
 * inside MHD's own callbacks. */
static void
wake_daemon(void *arg)
{
    schedule_run(arg, 0);
}

static void
finish_drain_if_idle(corral_http_server_t *self)
{
    if (!self->draining || self->in_flight > 0 || !self->on_drained || !self->drain_grace_over
        || (self->guard && corral_http_guard_fresh(self->guard) > 0))
        return;
    corral_drained_fn *drained = self->on_drained;
    self->on_drained = NULL;
    drained(self->drained_arg);
}

static void
run_daemon(corral_http_server_t *self)
{
    MHD_run(self->daemon);
    arm_timer(self);
    finish_drain_if_idle(self);
}

static int
on_daemon_readable(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    corral_loop_delay_turn();   /* the routes run in here */
    run_daemon(arg);
    return 0;
}

static void log_from_mhd(void *cls, const char *format, va_list args)
    __attribute__((format(printf, 2, 0)));     /* MHD's own formats */

static void
log_from_mhd(void *cls, const char *format, va_list args)
{
    char message[512];
    vsnprintf(message, sizeof message, format, args);
    size_t length = strlen(message);
    while (length > 0 && message[length - 1] == '\n')
        message[--length] = '\0';
    corral_log(CORRAL_LEVEL_DEBUG, LOGGER, "%s", message);
}

void
corral_http_server_set_limits(corral_http_server_t *self, const corral_http_limits_t *limits)
{
    self->limits = *limits;
}

/* Connections the coordinator handed to us: MHD takes them as if it had
 * accepted them, and runs at once (their requests are often there). */
static void
take_connections(const int *fds, int count, void *arg)
{
    corral_http_server_t *self = arg;
    for (int i = 0; i < count; i++) {
        struct sockaddr_storage peer;
        socklen_t length = sizeof peer;
        if (getpeername(fds[i], (struct sockaddr *) &peer, &length) != 0) {
            close(fds[i]);          /* the client is gone already */
            continue;
        }
        /* At the limit the guard shut a waiting connection down for the
         * last one taken; MHD releases it only when it runs, and refuses
         * new ones above its own limit meanwhile. A burst of idle sockets
         * would otherwise crowd out the client behind them. */
        if (corral_http_guard_connections(self->guard) >=
            corral_http_guard_max_connections(self->guard))
            run_daemon(self);
        /* on failure MHD closes the socket itself */
        MHD_add_connection(self->daemon, fds[i], (struct sockaddr *) &peer, length);
    }
    run_daemon(self);
}

/* From the connection channel when the coordinator balances (handoff.c);
 * else on the listening socket, made non-blocking for MHD. */
static int
choose_connection_source(corral_http_server_t *self)
{
    self->handoff = corral_handoff_from_env(self->loop, take_connections, self);
    if (self->handoff) {
        close(self->listen_fd);     /* the coordinator accepts */
        self->listen_fd = -1;
        return 0;
    }
    if (errno != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "connection channel: %s", strerror(errno));
        return -1;
    }
    int flags = fcntl(self->listen_fd, F_GETFL);
    if (flags < 0 || fcntl(self->listen_fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "listening socket (fd %d): %s",
                   self->listen_fd, strerror(errno));
        return -1;
    }
    return 0;
}

int
corral_http_server_start(corral_http_server_t *self)
{
    if (choose_connection_source(self) != 0)
        return -1;
    self->guard = corral_http_guard_new(self->loop, &self->limits, wake_daemon, self);
    if (!self->guard)
        return -1;
    struct MHD_OptionItem listen_options[] = {
        { self->handoff ? MHD_OPTION_END : MHD_OPTION_LISTEN_SOCKET, self->listen_fd, NULL },
        { MHD_OPTION_END, 0, NULL },
    };
    self->daemon = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG
            | (self->handoff ? MHD_USE_NO_LISTEN_SOCKET : 0),
        0, NULL, NULL, on_request, self,
        MHD_OPTION_EXTERNAL_LOGGER, log_from_mhd, NULL,     /* first, or MHD warns */
        MHD_OPTION_ARRAY, listen_options,
        MHD_OPTION_NOTIFY_COMPLETED, on_request_completed, self,
        MHD_OPTION_URI_LOG_CALLBACK, on_target, self,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, self,
        MHD_OPTION_CONNECTION_TIMEOUT, corral_http_guard_idle_seconds(self->guard),
        MHD_OPTION_CONNECTION_LIMIT, corral_http_guard_mhd_limit(self->guard),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, corral_http_guard_per_ip(self->guard),
        MHD_OPTION_END);
    if (!self->daemon) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "libmicrohttpd would not start on %s",
                   self->handoff ? "the connection channel" : "fd 3");
        return -1;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    self->poll_item = (zmq_pollitem_t) { NULL, info->epoll_fd, ZMQ_POLLIN, 0 };
    if (zloop_poller(self->loop, &self->poll_item, on_daemon_readable, self) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot poll libmicrohttpd's epoll fd");
        return -1;
    }
    arm_timer(self);
    if (self->handoff && corral_handoff_ready(self->handoff) != 0) {
        corral_log(CORRAL_LEVEL_FATAL, LOGGER, "cannot tell the coordinator we take connections");
        return -1;
    }
    return 0;
}

/* A connection accepted just before the drain began may not have sent its
 * request yet (a client writes right after connect): it gets this long
 * for it to arrive, rather than a close without an answer. */
#define DRAIN_GRACE_MS 100

static int
on_drain_grace(zloop_t *loop, int timer_id, void *arg)
{
    corral_http_server_t *self = arg;
    self->drain_grace_timer = -1;
    self->drain_grace_over = true;
    finish_drain_if_idle(self);
    return 0;
}

/* The connections already queued on the socket are served before it is
 * closed: with reuseport it may be this slot's own socket, and the last
 * close of a listening socket resets what is still queued on it. */
static void
take_queued(corral_http_server_t *self, int listener)
{
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    int fd;
    while ((fd = accept4(listener, (struct sockaddr *) &address, &length,
                         SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        /* MHD owns fd from here, and closes it itself if it cannot take it */
        MHD_add_connection(self->daemon, fd, (struct sockaddr *) &address, length);
        length = sizeof address;
    }
}

void
corral_http_server_drain(corral_http_server_t *self, corral_drained_fn *drained, void *arg)
{
    if (!self->draining && self->daemon && self->loop)
        self->drain_grace_timer = zloop_timer(self->loop, DRAIN_GRACE_MS, 1, on_drain_grace,
                                              self);
    if (self->drain_grace_timer == -1)
        self->drain_grace_over = true;
    self->on_drained = drained;
    self->drained_arg = arg;
    if (!self->draining && self->handoff)
        corral_handoff_draining(self->handoff);
    else if (!self->draining && self->daemon) {
        MHD_socket listener = MHD_quiesce_daemon(self->daemon);
        if (listener != MHD_INVALID_SOCKET) {
            take_queued(self, listener);
            close(listener);    /* this process's copy; other workers keep theirs */
        }
    }
    else if (!self->draining && self->listen_fd >= 0) {
        close(self->listen_fd);     /* never accepted on it: let it go all the same */
        self->listen_fd = -1;
    }
    self->draining = true;
    finish_drain_if_idle(self);
}

int
corral_http_server_fd(const corral_http_server_t *self)
{
    return self->daemon ? self->poll_item.fd : -1;
}

size_t
corral_http_server_in_flight(const corral_http_server_t *self)
{
    return self->in_flight;
}
