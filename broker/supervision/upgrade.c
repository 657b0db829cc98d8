/* upgrade.c: the binary upgrade, both sides of it (upgrade.h). What the
 * successor inherits is set up by upgrade_exec.c. On the socketpair
 * (SOCK_SEQPACKET) the successor sends one message, "R" (ready); the
 * predecessor one, "S" with a memfd (the persisted messages its bus took
 * since), once its workers are gone; then its exit closes its end. */
#include "upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "notify.h"
#include "exit_history.h"
#include "fsutil.h"
#include "launch_contract.h"
#include "log.h"
#include "upgrade_exec.h"

#define LOGGER "coordinator.upgrade"
#define READY_MESSAGE 'R'
#define LATE_STORE_MESSAGE 'S'     /* with a memfd: persisted messages taken after the start */

struct corral_upgrade {
    char *program;              /* argv[0] made absolute at start */
    char **argv;                /* ours, argv[0] as given (for ps) */
    corral_pidfile_t *pidfile;  /* not owned */
    zloop_t *loop;
    const corral_upgrade_ops_t *ops;
    void *arg;
    int channel;                /* our end of the socketpair, or -1 */
    bool polling;               /* the channel is in the loop */
    /* the predecessor's side */
    pid_t successor;            /* 0: none */
    uint64_t exported_upto;     /* the bus's last seq when the store was passed on */
    bool handed_over;
    bool cancelled;
    int timer;                  /* the ready timeout, or -1 */
    uint64_t ready_timeout_ms;  /* a successor not ready by then is stopped */
    /* the successor's side */
    bool is_successor;
    bool predecessor_alive;
    bool announced;
    pid_t predecessor;
    int pidfile_fd;
    int store_fd;
    int kept;                   /* the first `kept` sockets are systemd's */
    corral_listener_t *listener;    /* not owned: ours, whose predecessor's sockets are
                                     * never shut while it serves on them */
    corral_bus_t *bus;          /* not owned: the late store goes there */
};

/* --- Start ----------------------------------------------------------------------- */

/* argv[0] as an absolute path, now: a relative one against the working
 * directory, a bare name along PATH. */
static char *
absolute_program(const char *name)
{
    if (name[0] == '/')
        return strdup(name);
    char cwd[PATH_MAX];
    if (strchr(name, '/'))
        return getcwd(cwd, sizeof cwd) ? corral_format("%s/%s", cwd, name) : NULL;
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin");
    char *found = NULL, *saved = NULL;
    for (char *dir = copy ? strtok_r(copy, ":", &saved) : NULL; dir && !found;
         dir = strtok_r(NULL, ":", &saved)) {
        char *candidate = corral_format("%s/%s", *dir ? dir : ".", name);
        if (candidate && access(candidate, X_OK) == 0 && candidate[0] == '/')
            found = candidate;
        else
            free(candidate);
    }
    free(copy);
    return found;
}

/* CORRAL_UPGRADE, in a process a predecessor started. */
static void
take_environment(corral_upgrade_t *self)
{
    const char *value = getenv(CORRAL_ENV_UPGRADE);
    int channel, pidfile, store, kept, predecessor;
    if (value && sscanf(value, "%d,%d,%d,%d,%d", &channel, &pidfile, &store, &kept,
                        &predecessor) == 5 && channel >= 0) {
        self->is_successor = true;
        self->predecessor_alive = true;
        self->channel = channel;
        self->pidfile_fd = pidfile;
        self->store_fd = store;
        self->predecessor = (pid_t) predecessor;
        /* not for our workers, nor a successor of ours */
        fcntl(channel, F_SETFD, FD_CLOEXEC);
        if (pidfile >= 0)
            fcntl(pidfile, F_SETFD, FD_CLOEXEC);
        if (store >= 0)
            fcntl(store, F_SETFD, FD_CLOEXEC);
        self->kept = kept;
    }
    unsetenv(CORRAL_ENV_UPGRADE);
}

corral_upgrade_t *
corral_upgrade_new(int argc, char *const *argv)
{
    corral_upgrade_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->channel = self->pidfile_fd = self->store_fd = self->timer = -1;
    self->argv = calloc((size_t) argc + 1, sizeof *self->argv);
    for (int i = 0; self->argv && i < argc; i++)
        self->argv[i] = argv[i];        /* main's, alive as long as we are */
    self->program = argc > 0 ? absolute_program(argv[0]) : NULL;
    if (!self->argv) {
        corral_upgrade_destroy(&self);
        return NULL;
    }
    take_environment(self);
    return self;
}

void
corral_upgrade_destroy(corral_upgrade_t **self_p)
{
    corral_upgrade_t *self = *self_p;
    if (!self)
        return;
    corral_upgrade_detach(self);
    if (self->channel >= 0)
        close(self->channel);
    if (self->store_fd >= 0)
        close(self->store_fd);
    free(self->program);
    free(self->argv);
    free(self);
    *self_p = NULL;
}

bool
corral_upgrade_is_successor(const corral_upgrade_t *self)
{
    return self && self->is_successor;
}

int
corral_upgrade_pidfile_fd(const corral_upgrade_t *self)
{
    return self && self->is_successor ? self->pidfile_fd : -1;
}

void
corral_upgrade_set_pidfile(corral_upgrade_t *self, corral_pidfile_t *pidfile)
{
    if (self)
        self->pidfile = pidfile;
}

corral_listener_t *
corral_upgrade_adopt_listener(corral_upgrade_t *self, int inherited, const char *host,
                              bool reuseport, int count, char **error)
{
    int on = 0;
    socklen_t length = sizeof on;
    if (getsockopt(CORRAL_LISTEN_FDS_START, SOL_SOCKET, SO_REUSEPORT, &on, &length) != 0
        || (on != 0) != reuseport) {
        *error = corral_format("server.balancing is %s now, the previous coordinator's sockets "
                               "are not: a change of balancing needs a restart",
                               reuseport ? "reuseport" : "shared");
        return NULL;
    }
    corral_listener_t *listener = corral_listener_adopt(inherited, host, reuseport, count, error);
    if (!listener)
        return NULL;
    /* adopted sockets are never shut down (as systemd's): the predecessor
     * serves on them until it exits, and a stop of ours (we failed before
     * we were ready) must not shut them under it; once it has exited
     * (on_channel), only systemd's are kept */
    self->listener = listener;
    /* fewer HTTP slots than before: new connections go to theirs only, the
     * sockets past them close once the old workers have let go of them */
    if (reuseport && corral_listener_count(listener) > count
        && (corral_listener_steer(listener, count) != 0
            || corral_listener_resize(listener, count, error) != 0)) {
        if (!*error)
            *error = corral_format("cannot use fewer sockets than the previous coordinator: "
                                   "%s", strerror(errno));
        corral_listener_destroy(&listener);
        self->listener = NULL;
    }
    return listener;
}

/* --- The channel --------------------------------------------------------------------- */

static void
stop_polling(corral_upgrade_t *self)
{
    if (self->polling) {
        zmq_pollitem_t item = { NULL, self->channel, ZMQ_POLLIN, 0 };
        zloop_poller_end(self->loop, &item);
        self->polling = false;
    }
}

static void
close_channel(corral_upgrade_t *self)
{
    stop_polling(self);
    if (self->channel >= 0)
        close(self->channel);
    self->channel = -1;
}

static void successor_said(corral_upgrade_t *self, const char *message, ssize_t size);

static void take_late_store(corral_upgrade_t *self, int fd);

/* One message and the descriptor it carries (*fd -1: none). */
static ssize_t
receive(int channel, char *message, size_t size, int *fd)
{
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec io = { message, size };
    struct msghdr header = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control };
    *fd = -1;
    ssize_t n = recvmsg(channel, &header, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    struct cmsghdr *cmsg = n >= 0 ? CMSG_FIRSTHDR(&header) : NULL;
    if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
        memcpy(fd, CMSG_DATA(cmsg), sizeof *fd);
    return n;
}

/* As a predecessor, "ready" or the end; as a successor, the late store,
 * then the end. */
static int
on_channel(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    corral_upgrade_t *self = arg;
    char message[16];
    int fd;
    ssize_t size = receive(self->channel, message, sizeof message, &fd);
    if (size < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (size > 0 && message[0] == LATE_STORE_MESSAGE && fd >= 0 && self->successor <= 0) {
        take_late_store(self, fd);
        return 0;
    }
    if (fd >= 0)
        close(fd);
    if (self->successor > 0) {
        successor_said(self, message, size);
        return 0;
    }
    if (size > 0)
        return 0;           /* nothing else is said this way */
    close_channel(self);
    self->predecessor_alive = false;
    if (self->listener)
        corral_listener_keep(self->listener, self->kept);   /* ours alone now */
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "the previous coordinator (pid %d) has exited",
               (int) self->predecessor);
    self->ops->predecessor_gone(self->arg);
    return 0;
}

static int
poll_channel(corral_upgrade_t *self)
{
    if (!self->loop || self->channel < 0 || self->polling)
        return 0;
    zmq_pollitem_t item = { NULL, self->channel, ZMQ_POLLIN, 0 };
    if (zloop_poller(self->loop, &item, on_channel, self) != 0)
        return -1;
    self->polling = true;
    return 0;
}

int
corral_upgrade_attach(corral_upgrade_t *self, zloop_t *loop, const corral_upgrade_ops_t *ops,
                      void *arg)
{
    self->loop = loop;
    self->ops = ops;
    self->arg = arg;
    return poll_channel(self);
}

void
corral_upgrade_detach(corral_upgrade_t *self)
{
    stop_polling(self);
    if (self->timer >= 0)
        zloop_timer_end(self->loop, self->timer);
    self->timer = -1;
    self->loop = NULL;
}

/* --- The predecessor ----------------------------------------------------------------- */

static int
ready_timeout(zloop_t *loop, int timer_id, void *arg)
{
    corral_upgrade_t *self = arg;
    self->timer = -1;
    if (self->successor > 0 && !self->handed_over) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "upgrade failed: the new coordinator (pid %d) "
                   "was not ready within %llu ms (node.reload.ready_timeout); stopping it; "
                   "this coordinator keeps serving", (int) self->successor,
                   (unsigned long long) self->ready_timeout_ms);
        kill(self->successor, SIGTERM);
    }
    return 0;
}

void
corral_upgrade_begin(corral_upgrade_t *self, corral_listener_t *listener, corral_bus_t *bus,
                     bool stopping, uint64_t ready_timeout_ms)
{
    self->ready_timeout_ms = ready_timeout_ms ? ready_timeout_ms : 1;
    if (stopping || self->handed_over) {
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "SIGUSR2 ignored: the instance is stopping");
        return;
    }
    if (self->successor > 0 || self->predecessor_alive) {
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "SIGUSR2 ignored: an upgrade is in progress "
                   "(the %s coordinator is pid %d)", self->successor > 0 ? "new" : "previous",
                   (int) (self->successor > 0 ? self->successor : self->predecessor));
        return;
    }
    if (!self->program) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "SIGUSR2: the path of the corral binary could "
                   "not be resolved at start; no upgrade");
        return;
    }
    int pair[2] = { -1, -1 };
    pid_t pid = -1;
    int store = corral_upgrade_store_memfd(bus, 0);
    self->exported_upto = corral_bus_last_seq(bus);
    if (store >= 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0)
        pid = corral_upgrade_exec(self->program, self->argv, listener, pair[1],
                                  self->pidfile ? corral_pidfile_fd(self->pidfile) : -1, store);
    int saved = errno;
    if (store >= 0)
        close(store);
    if (pair[1] >= 0)
        close(pair[1]);
    if (pid <= 0) {
        if (pair[0] >= 0)
            close(pair[0]);
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "upgrade failed: cannot start %s: %s; this "
                   "coordinator keeps serving", self->program, strerror(saved));
        return;             /* an exec failure's child is reaped as a stranger */
    }
    self->successor = pid;
    self->cancelled = false;
    self->channel = pair[0];
    poll_channel(self);
    self->timer = zloop_timer(self->loop, (size_t) self->ready_timeout_ms, 1, ready_timeout,
                              self);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "SIGUSR2: started the new coordinator %s (pid %d) "
               "on %d listening sockets; this one serves until it is ready", self->program,
               (int) pid, corral_listener_count(listener));
}

static void
forget_successor(corral_upgrade_t *self)
{
    close_channel(self);
    if (self->timer >= 0)
        zloop_timer_end(self->loop, self->timer);
    self->timer = -1;
    self->successor = 0;
}

static void
successor_said(corral_upgrade_t *self, const char *message, ssize_t size)
{
    if (size <= 0) {        /* it closed its end: its exit is reaped */
        stop_polling(self);
        return;
    }
    if (message[0] != READY_MESSAGE || self->handed_over || self->cancelled)
        return;
    self->handed_over = true;
    stop_polling(self);
    if (self->timer >= 0)
        zloop_timer_end(self->loop, self->timer);
    self->timer = -1;
    char state[32];
    snprintf(state, sizeof state, "MAINPID=%d", (int) self->successor);
    corral_notify(state);
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "the new coordinator (pid %d) is ready: it serves "
               "from now on; this one stops its workers gracefully and exits",
               (int) self->successor);
    self->ops->successor_ready(self->arg, self->successor);
}

bool
corral_upgrade_reaped(corral_upgrade_t *self, pid_t pid, int status)
{
    if (!self || pid != self->successor || pid <= 0)
        return false;
    char how[96];
    corral_exit_describe(status, how, sizeof how);
    if (self->handed_over)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "the new coordinator (pid %d) %s while this "
                   "one stops", (int) pid, how);
    else
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "upgrade failed: the new coordinator (pid %d) "
                   "%s before it was ready; this coordinator keeps serving (SIGUSR2 tries "
                   "again)", (int) pid, how);
    bool handed_over = self->handed_over;
    forget_successor(self);
    self->handed_over = handed_over;
    return true;
}

void
corral_upgrade_send_late_store(corral_upgrade_t *self, corral_bus_t *bus)
{
    if (!self || !self->handed_over || self->channel < 0 || !bus)
        return;
    corral_bus_read_pending(bus);       /* what the last workers sent before exiting */
    int fd = corral_upgrade_store_memfd(bus, self->exported_upto);
    char message = LATE_STORE_MESSAGE;
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec io = { &message, 1 };
    struct msghdr header = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&header);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
    if (fd < 0 || sendmsg(self->channel, &header, MSG_NOSIGNAL) != 1)
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "cannot pass the persisted bus messages taken "
                   "since the new coordinator started on to it: %s", strerror(errno));
    if (fd >= 0)
        close(fd);
}

void
corral_upgrade_cancel(corral_upgrade_t *self)
{
    if (!self || self->successor <= 0 || self->handed_over || self->cancelled)
        return;
    self->cancelled = true;
    corral_log(CORRAL_LEVEL_WARN, LOGGER, "stopping: the new coordinator (pid %d) is not ready "
               "yet; it is stopped too", (int) self->successor);
    kill(self->successor, SIGTERM);
}

bool
corral_upgrade_in_progress(const corral_upgrade_t *self)
{
    return self && (self->successor > 0 || self->handed_over || self->predecessor_alive);
}

bool
corral_upgrade_handed_over(const corral_upgrade_t *self)
{
    return self && self->handed_over;
}

bool
corral_upgrade_owns_pidfile(const corral_upgrade_t *self)
{
    return !self || (!self->handed_over && (!self->is_successor || self->announced));
}

/* --- The successor --------------------------------------------------------------------- */

char *
corral_upgrade_runtime_name(const corral_upgrade_t *self, const char *uuid)
{
    return self && self->is_successor ? corral_format("%s.%d", uuid, (int) getpid())
                                      : strdup(uuid);
}

/* The Snapshot in memfd `fd` (closed) into `bus`: how many messages were
 * taken, or -1. */
static int
import_memfd(corral_bus_t *bus, int fd, bool late)
{
    struct stat status;
    void *data = MAP_FAILED;
    if (fstat(fd, &status) == 0 && status.st_size > 0)
        data = mmap(NULL, (size_t) status.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int kept = data != MAP_FAILED ? corral_bus_import(bus, data, (size_t) status.st_size, late)
                                  : 0;
    if (data != MAP_FAILED)
        munmap(data, (size_t) status.st_size);
    close(fd);
    return kept;
}

/* What the predecessor's bus took after it started us: ours now, unless
 * our own workers have broadcast the same (plugin, type) since. */
static void
take_late_store(corral_upgrade_t *self, int fd)
{
    if (!self->bus) {
        close(fd);
        return;
    }
    int kept = import_memfd(self->bus, fd, true);
    corral_log(kept < 0 ? CORRAL_LEVEL_ERROR : CORRAL_LEVEL_INFO, LOGGER, "%d persisted bus "
               "messages the previous coordinator took after this one started are broadcast "
               "here (-1: unreadable)", kept);
}

void
corral_upgrade_seed_bus(corral_upgrade_t *self, corral_bus_t *bus)
{
    if (!self || !self->is_successor || self->store_fd < 0)
        return;
    self->bus = bus;
    int kept = import_memfd(bus, self->store_fd, false);
    self->store_fd = -1;
    if (kept < 0)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "the persisted bus messages of the previous "
                   "coordinator (pid %d) are unreadable: none taken over",
                   (int) self->predecessor);
    else
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "took over %d persisted bus messages from the "
                   "previous coordinator (pid %d)", kept, (int) self->predecessor);
}

/* The PID file names us, then endpoints.json; either failing, nothing of
 * the predecessor's is left changed. */
static char *
claim_files(corral_upgrade_t *self, corral_upgrade_publish_fn *publish, void *arg)
{
    if (self->pidfile && corral_pidfile_write_pid(self->pidfile) != 0)
        return corral_format("cannot write the PID file: %s", strerror(errno));
    char *error = publish(arg);
    if (error && self->pidfile && corral_pidfile_restore_pid(self->pidfile,
                                                             self->predecessor) != 0)
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "cannot write the previous coordinator's PID "
                   "(%d) back into the PID file: %s", (int) self->predecessor,
                   strerror(errno));
    return error;
}

int
corral_upgrade_take_over(corral_upgrade_t *self, corral_upgrade_publish_fn *publish, void *arg)
{
    if (!self || !self->is_successor || self->announced)
        return 0;
    char *error = claim_files(self, publish, arg);
    if (error) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "upgrade failed: %s; this coordinator (pid %d) "
                   "stops without taking over, the previous one (pid %d) keeps serving and "
                   "keeps its files", error, (int) getpid(), (int) self->predecessor);
        free(error);
        return -1;
    }
    self->announced = true;
    char ready = READY_MESSAGE;
    if (self->channel >= 0 && send(self->channel, &ready, 1, MSG_NOSIGNAL) != 1)
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "cannot tell the previous coordinator (pid %d) "
                   "that this one is ready: %s", (int) self->predecessor, strerror(errno));
    corral_log(CORRAL_LEVEL_INFO, LOGGER, "upgrade: this coordinator (pid %d) serves from now "
               "on; the previous one (pid %d) stops its workers and exits", (int) getpid(),
               (int) self->predecessor);
    return 0;
}

bool
corral_upgrade_predecessor_alive(const corral_upgrade_t *self)
{
    return self && self->predecessor_alive;
}
