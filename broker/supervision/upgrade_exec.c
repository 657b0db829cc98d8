/* upgrade_exec.c: starting the new coordinator (upgrade_exec.h). The
 * child of fork touches no ZeroMQ or czmq object and calls only
 * async-signal-safe functions until it execs, as spawn.c's. */
#include "upgrade_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fsutil.h"
#include "spawn.h"

#define LISTEN_FDS_START 3

extern char **environ;

/* What the child needs, built before the fork (it then calls only
 * async-signal-safe functions). */
typedef struct {
    char **envp;
    char *listen_fds;
    char *listen_pid;       /* "LISTEN_PID=" and room for the child's PID */
    char *upgrade;
    int sources[LISTEN_FDS_START + 64];
    int targets[LISTEN_FDS_START + 64];
    int count;
} plan_t;

static bool
passed_on(const char *entry)
{
    static const char *const names[] = {
        "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", CORRAL_UPGRADE_ENV "=",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncmp(entry, names[i], strlen(names[i])) == 0)
            return false;
    return true;
}

static void
plan_clear(plan_t *plan)
{
    free(plan->envp);
    free(plan->listen_fds);
    free(plan->listen_pid);
    free(plan->upgrade);
}

/* fds: the listening sockets, then channel, PID file (or -1), store. */
static int
plan_build(plan_t *plan, corral_listener_t *listener, int channel, int pidfile, int store)
{
    memset(plan, 0, sizeof *plan);
    int sockets = corral_listener_count(listener);
    if (sockets > 64) {
        errno = EMFILE;
        return -1;
    }
    for (int i = 0; i < sockets; i++)
        plan->sources[plan->count++] = corral_listener_fd(listener, i + 1);
    int base = LISTEN_FDS_START + sockets;
    plan->sources[plan->count++] = channel;
    plan->sources[plan->count++] = pidfile;
    plan->sources[plan->count++] = store;
    for (int i = 0; i < plan->count; i++)
        plan->targets[i] = plan->sources[i] < 0 ? -1 : LISTEN_FDS_START + i;
    size_t count = 0;
    while (environ[count])
        count++;
    plan->envp = calloc(count + 4, sizeof *plan->envp);
    plan->listen_fds = corral_format("LISTEN_FDS=%d", sockets);
    plan->listen_pid = calloc(1, sizeof "LISTEN_PID=" + 24);
    plan->upgrade = corral_format(CORRAL_UPGRADE_ENV "=%d,%d,%d,%d,%d", base, pidfile < 0 ? -1 : base + 1,
                                  base + 2, corral_listener_kept(listener), (int) getpid());
    if (!plan->envp || !plan->listen_fds || !plan->listen_pid || !plan->upgrade)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (passed_on(environ[i]))
            plan->envp[n++] = environ[i];
    plan->envp[n++] = plan->listen_fds;
    plan->envp[n++] = plan->listen_pid;
    plan->envp[n++] = plan->upgrade;
    return 0;
}

/* Async-signal-safe: every source above the targets first (one may sit
 * where another goes), then each at its place, open across exec. */
static int
place_fds(const plan_t *plan)
{
    int high[LISTEN_FDS_START + 64];
    int above = LISTEN_FDS_START + plan->count;
    for (int i = 0; i < plan->count; i++)
        if (plan->sources[i] >= 0 && (high[i] = fcntl(plan->sources[i], F_DUPFD_CLOEXEC,
                                                      above)) < 0)
            return -1;
    for (int i = 0; i < plan->count; i++)
        if (plan->sources[i] >= 0 && dup2(high[i], plan->targets[i]) != plan->targets[i])
            return -1;
    return 0;
}

/* fork+exec of the binary now at `program`. Returns the child's PID, or
 * -1 with errno set (exec failures included). */
static pid_t
fork_exec(const char *program, char *const *argv, const plan_t *plan)
{
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        corral_spawn_write_listen_pid(plan->listen_pid, getpid());
        if (place_fds(plan) == 0)
            execve(program, argv, plan->envp);
        corral_spawn_exec_failed(report[1]);
    }
    int saved = errno;
    int failure = corral_spawn_exec_result(report, pid);
    if (pid < 0 || failure) {
        errno = pid < 0 ? saved : failure;
        return -1;          /* a child whose exec failed is reaped as any other */
    }
    return pid;
}

int
corral_upgrade_store_memfd(corral_bus_t *bus, uint64_t after_seq)
{
    size_t size = 0;
    uint8_t *packed = corral_bus_export(bus, after_seq, &size);
    int fd = packed ? memfd_create("corral-bus-store", MFD_CLOEXEC) : -1;
    size_t written = 0;
    while (fd >= 0 && written < size) {
        ssize_t n = write(fd, packed + written, size - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            fd = -1;
        }
        else
            written += (size_t) n;
    }
    free(packed);
    return fd;
}

pid_t
corral_upgrade_exec(const char *program, char *const *argv, corral_listener_t *listener,
                    int channel, int pidfile, int store)
{
    plan_t plan = { 0 };
    pid_t pid = -1;
    if (plan_build(&plan, listener, channel, pidfile, store) == 0)
        pid = fork_exec(program, argv, &plan);
    int saved = errno;
    plan_clear(&plan);
    errno = saved;
    return pid;
}
