/* spawn.c: fork+exec of workers, and exec into a standalone worker. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "fsutil.h"

#define LISTEN_FD 3

extern char **environ;

/* Variables the coordinator sets for a worker and never passes on from its
 * own environment. NOTIFY_SOCKET belongs to the instance's main PID. */
static bool
is_ours(const char *entry)
{
    static const char *const names[] = {
        "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", "NOTIFY_SOCKET=",
        "CORRAL_WORKER_ID=", "CORRAL_DESK=", "CORRAL_CONFIG_FD=",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncmp(entry, names[i], strlen(names[i])) == 0)
            return true;
    return false;
}

typedef struct {
    char *argv[3];
    char **envp;
    char *listen_pid;           /* "LISTEN_PID=" plus room for the child's PID */
    char *owned[2];             /* CORRAL_WORKER_ID=, CORRAL_DESK= or CORRAL_CONFIG_FD= */
} exec_plan_t;

static void
plan_destroy(exec_plan_t *plan)
{
    for (size_t i = 0; i < sizeof plan->owned / sizeof plan->owned[0]; i++)
        free(plan->owned[i]);
    free(plan->listen_pid);
    free(plan->envp);
}

static int
plan_build(exec_plan_t *plan, const corral_spawn_t *spawn, bool keep_notify_socket)
{
    memset(plan, 0, sizeof *plan);
    plan->argv[0] = (char *) spawn->program;
    plan->argv[1] = (char *) spawn->name;
    size_t count = 0;
    while (environ[count])
        count++;
    plan->envp = calloc(count + 8, sizeof *plan->envp);
    plan->listen_pid = calloc(1, sizeof "LISTEN_PID=" + 24);
    plan->owned[0] = corral_format("CORRAL_WORKER_ID=%d", spawn->worker_id);
    plan->owned[1] = spawn->desk_endpoint
        ? corral_format("CORRAL_DESK=%s", spawn->desk_endpoint)
        : corral_format("CORRAL_CONFIG_FD=%d", spawn->config_fd);
    if (!plan->envp || !plan->listen_pid || !plan->owned[0] || !plan->owned[1])
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (!is_ours(environ[i])
            || (keep_notify_socket && strncmp(environ[i], "NOTIFY_SOCKET=", 14) == 0))
            plan->envp[n++] = environ[i];
    plan->envp[n++] = (char *) "LISTEN_FDS=1";
    plan->envp[n++] = plan->listen_pid;
    plan->envp[n++] = plan->owned[0];
    plan->envp[n++] = plan->owned[1];
    return 0;
}

/* Async-signal-safe: writes "LISTEN_PID=<pid>" into the planned buffer. */
static void
write_listen_pid(char *out, pid_t pid)
{
    char digits[24];
    int n = 0;
    do
        digits[n++] = (char) ('0' + pid % 10);
    while ((pid /= 10) > 0);
    memcpy(out, "LISTEN_PID=", 11);
    out += 11;
    while (n > 0)
        *out++ = digits[--n];
    *out = '\0';
}

/* Async-signal-safe: puts the listening socket at fd 3, open across exec. */
static int
place_listen_fd(int fd)
{
    if (fd == LISTEN_FD)
        return fcntl(fd, F_SETFD, 0);
    return dup2(fd, LISTEN_FD) == LISTEN_FD ? 0 : -1;
}

char *
corral_spawn_default_program(void)
{
    const char *configured = getenv("CORRAL_WORKER_PROGRAM");
    if (configured && *configured)
        return strdup(configured);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return strdup("corral-worker");
    self[n] = '\0';
    return corral_format("%s/corral-worker", dirname(self));
}

/* fork, and the exec in the child; _end learns how the exec went. */
static pid_t
spawn_begin(const corral_spawn_t *spawn, int *report_fd, char **error)
{
    exec_plan_t plan;
    int report[2] = { -1, -1 };     /* the child writes errno here if exec fails */
    if (plan_build(&plan, spawn, false) != 0 || pipe2(report, O_CLOEXEC) != 0) {
        *error = corral_format("cannot prepare %s: %s", spawn->name, strerror(errno));
        plan_destroy(&plan);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
            _exit(127);             /* the coordinator is already gone */
        write_listen_pid(plan.listen_pid, getpid());
        if (place_listen_fd(spawn->listen_fd) == 0)
            execve(spawn->program, plan.argv, plan.envp);
        int failure = errno;
        ssize_t ignored = write(report[1], &failure, sizeof failure);
        (void) ignored;
        _exit(127);
    }
    int saved = errno;
    close(report[1]);
    plan_destroy(&plan);            /* the child has its own copy */
    if (pid < 0) {
        close(report[0]);
        *error = corral_format("cannot fork %s: %s", spawn->name, strerror(saved));
        return -1;
    }
    *report_fd = report[0];
    return pid;
}

static int
spawn_end(const corral_spawn_t *spawn, int report_fd, char **error)
{
    int failure = 0;
    ssize_t n;
    do
        n = read(report_fd, &failure, sizeof failure);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t) sizeof failure)
        failure = 0;                /* closed by a successful exec */
    close(report_fd);
    if (failure)
        *error = corral_format("cannot start %s: %s: %s", spawn->name, spawn->program,
                               strerror(failure));
    /* a child whose exec failed is reaped through SIGCHLD like any other */
    return failure ? -1 : 0;
}

int
corral_spawn_workers(const corral_spawn_t *spawns, int count, pid_t *pids, char **error)
{
    int report_fds[count > 0 ? count : 1];
    *error = NULL;
    int forked = 0;
    for (; forked < count; forked++) {
        pids[forked] = spawn_begin(&spawns[forked], &report_fds[forked], error);
        if (pids[forked] < 0)
            break;
    }
    for (int i = forked; i < count; i++)
        pids[i] = 0;
    for (int i = 0; i < forked; i++) {
        char *failure = NULL;
        if (spawn_end(&spawns[i], report_fds[i], &failure) == 0)
            continue;
        pids[i] = 0;
        if (*error)
            free(failure);
        else
            *error = failure;
    }
    return *error ? -1 : 0;
}

pid_t
corral_spawn_worker(const corral_spawn_t *spawn, char **error)
{
    pid_t pid;
    return corral_spawn_workers(spawn, 1, &pid, error) == 0 ? pid : -1;
}

void
corral_spawn_exec_standalone(const corral_spawn_t *spawn, char **error)
{
    exec_plan_t plan;
    if (plan_build(&plan, spawn, true) == 0) {
        write_listen_pid(plan.listen_pid, getpid());
        if (place_listen_fd(spawn->listen_fd) == 0)
            execve(spawn->program, plan.argv, plan.envp);
    }
    *error = corral_format("cannot exec %s: %s", spawn->program, strerror(errno));
    plan_destroy(&plan);
}
