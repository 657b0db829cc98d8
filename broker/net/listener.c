/* listener.c: binding the listening socket(s). */
#include "listener.h"

#include <errno.h>
#include <linux/filter.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include "fsutil.h"
#include "launch_contract.h"

#define BACKLOG 1024

struct corral_listener {
    int *fds;
    int count;
    int port;
    bool reuseport;
    char *host;
    int inherited;      /* fds[0..inherited-1] came from systemd: never shut down */
};

static int
bound_port(int fd)
{
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *) &address, &length) != 0)
        return -1;
    if (address.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *) &address)->sin6_port);
    return ntohs(((struct sockaddr_in *) &address)->sin_port);
}

/* One listening socket on the first address of `host` that binds; with
 * `probe`, a socket only bound, not listening. */
static int
bind_one(const char *host, int port, bool reuseport, bool probe, char **error)
{
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    };
    struct addrinfo *addresses;
    int rc = getaddrinfo(host, service, &hints, &addresses);
    if (rc != 0) {
        *error = corral_format("server.host %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    int saved = 0;
    for (struct addrinfo *a = addresses; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
            || bind(fd, a->ai_addr, a->ai_addrlen) != 0
            || (!probe && listen(fd, BACKLOG) != 0)) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(addresses);
    if (fd < 0) {
        *error = corral_format("cannot listen on %s:%d: %s", host, port, strerror(saved));
        errno = saved;
    }
    return fd;
}

/* With SO_REUSEPORT, a port another process of the same user listens on
 * binds without an error, and the kernel then splits the traffic between
 * the two. A plain bind first tells whether anyone holds the port. */
static int
refuse_taken_port(const char *host, int port, char **error)
{
    int fd = bind_one(host, port, false, true, error);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (errno == EADDRINUSE) {
        free(*error);
        *error = corral_format("cannot listen on %s:%d: the port is already in use (by "
                               "another corral or another SO_REUSEPORT listener); with "
                               "balancing reuseport corral would silently share its "
                               "connections, so it does not start", host, port);
    }
    return -1;
}

corral_listener_t *
corral_listener_new(const char *host, int port, bool reuseport, int count, char **error)
{
    if (reuseport && port != 0 && refuse_taken_port(host, port, error) != 0)
        return NULL;
    corral_listener_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->count = reuseport ? count : 1;
    self->reuseport = reuseport;
    self->host = strdup(host);
    self->fds = calloc((size_t) self->count, sizeof *self->fds);
    for (int i = 0; self->fds && i < self->count; i++) {
        /* every socket after the first joins the first one's port */
        self->fds[i] = bind_one(host, i == 0 ? port : self->port, reuseport, false, error);
        if (self->fds[i] < 0) {
            self->count = i;
            corral_listener_destroy(&self);
            return NULL;
        }
        if (i == 0)
            self->port = bound_port(self->fds[0]);
    }
    return self;
}

void
corral_listener_destroy(corral_listener_t **self_p)
{
    corral_listener_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; self->fds && i < self->count; i++)
        close(self->fds[i]);
    free(self->fds);
    free(self->host);
    free(self);
    *self_p = NULL;
}

int
corral_listener_fd(const corral_listener_t *self, int worker_id)
{
    return self->fds[(worker_id - 1) % self->count];
}

int
corral_listener_port(const corral_listener_t *self)
{
    return self->port;
}

int
corral_listener_resize(corral_listener_t *self, int count, char **error)
{
    if (!self->reuseport || count == self->count)
        return 0;
    if (count > self->count) {
        int *fds = realloc(self->fds, (size_t) count * sizeof *fds);
        if (!fds)
            return -1;
        self->fds = fds;
        for (; self->count < count; self->count++)
            if ((fds[self->count] = bind_one(self->host, self->port, true, false, error)) < 0)
                return -1;
        return 0;
    }
    /* the slot's worker holds its copy until it stops accepting; what is
     * queued on that socket then is reset by the kernel (docs/reload.md) */
    for (; self->count > count; self->count--)
        close(self->fds[self->count - 1]);
    return 0;
}

void
corral_listener_shut(corral_listener_t *self)
{
    /* shutdown acts on the socket, not on a descriptor: it stops listening
     * in every process that holds a copy, even a worker too hung to close
     * its own; the descriptors stay open (the balancer's thread polls one)
     * until destroy. A socket from systemd is left listening: systemd
     * keeps it for the next start. */
    for (int i = self->inherited; self->fds && i < self->count; i++)
        if (self->fds[i] >= 0)
            shutdown(self->fds[i], SHUT_RD);
}

int
corral_listener_steer(corral_listener_t *self, int active)
{
    if (!self->reuseport || active < 1 || self->count < 1 || self->fds[0] < 0)
        return 0;
    /* a random member among the first `active` (the kernel's group keeps
     * the order they joined in, and slots only come and go at the end) */
    struct sock_filter code[] = {
        { BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t) (SKF_AD_OFF + SKF_AD_RANDOM) },
        { BPF_ALU | BPF_MOD | BPF_K, 0, 0, (uint32_t) active },
        { BPF_RET | BPF_A, 0, 0, 0 },
    };
    struct sock_fprog program = { sizeof code / sizeof code[0], code };
    return setsockopt(self->fds[0], SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program,
                      sizeof program);
}


int
corral_listener_inherited(void)
{
    const char *pid = getenv(CORRAL_ENV_LISTEN_PID), *fds = getenv(CORRAL_ENV_LISTEN_FDS);
    int count = 0;
    if (pid && fds && strtol(pid, NULL, 10) == (long) getpid())
        count = (int) strtol(fds, NULL, 10);
    /* not for the workers, nor for a program the coordinator runs later */
    unsetenv(CORRAL_ENV_LISTEN_PID);
    unsetenv(CORRAL_ENV_LISTEN_FDS);
    unsetenv(CORRAL_ENV_LISTEN_FDNAMES);
    return count > 0 ? count : 0;
}

corral_listener_t *
corral_listener_adopt(int inherited, const char *host, bool reuseport, int count,
                      char **error)
{
    int listening = 0;
    socklen_t length = sizeof listening;
    int first = CORRAL_LISTEN_FDS_START;
    if (getsockopt(first, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0
        || !listening) {
        *error = corral_format("LISTEN_FDS: fd %d is not a listening socket", first);
        return NULL;
    }
    corral_listener_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->reuseport = reuseport;
    self->host = strdup(host);
    int total = reuseport && count > inherited ? count : inherited;
    self->fds = calloc((size_t) total, sizeof *self->fds);
    if (!self->fds || !self->host) {
        corral_listener_destroy(&self);
        return NULL;
    }
    for (; self->count < inherited; self->count++, self->inherited++) {
        self->fds[self->count] = first + self->count;
        fcntl(first + self->count, F_SETFD, FD_CLOEXEC);
    }
    self->port = bound_port(self->fds[0]);
    if (corral_listener_resize(self, total, error) != 0) {
        if (*error) {
            char *why = *error;
            *error = corral_format("%s (balancing reuseport with a socket from systemd: set "
                                   "ReusePort=yes in the .socket unit, or one socket per "
                                   "worker)", why);
            free(why);
        }
        corral_listener_destroy(&self);
        return NULL;
    }
    return self;
}

int
corral_listener_count(const corral_listener_t *self)
{
    return self->count;
}

int
corral_listener_kept(const corral_listener_t *self)
{
    return self->inherited;
}

void
corral_listener_keep(corral_listener_t *self, int count)
{
    self->inherited = count < self->count ? count : self->count;
}
