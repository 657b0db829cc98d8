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
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fsutil.h"
#include "worker_secret.h"
#include "handoff_wire.h"

#define LISTEN_FD 3
#define CORRAL_STRINGIFY_(x) #x
#define CORRAL_STRINGIFY(x) CORRAL_STRINGIFY_(x)

extern char **environ;

/* Variables the coordinator sets for a worker and never passes on from its
 * own environment. NOTIFY_SOCKET belongs to the instance's main PID. */
static bool
is_ours(const char *entry)
{
    static const char *const names[] = {
        "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", "NOTIFY_SOCKET=",
        "CORRAL_WORKER_ID=", "CORRAL_DESK=", "CORRAL_CONFIG_FD=", "CORRAL_SECRET_FD=",
        CORRAL_HANDOFF_FD_ENV "=", CORRAL_HANDOFF_COUNTERS_FD_ENV "=",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncmp(entry, names[i], strlen(names[i])) == 0)
            return true;
    return false;
}

/* An entry that `env` (the configured variables) sets anew. */
static bool
is_overridden(const char *entry, char *const *env)
{
    size_t length = strcspn(entry, "=");
    for (; env && *env; env++)
        if (strncmp(*env, entry, length) == 0 && (*env)[length] == '=')
            return true;
    return false;
}

typedef struct {
    char *default_argv[3];
    char *const *argv;
    char **envp;
    char *listen_pid;           /* "LISTEN_PID=" plus room for the child's PID */
    char *owned[2];             /* CORRAL_WORKER_ID=, CORRAL_DESK= or CORRAL_CONFIG_FD= */
    char *handoff[2];           /* CORRAL_HANDOFF_FD=, CORRAL_HANDOFF_COUNTERS_FD= */
} exec_plan_t;

static void
plan_destroy(exec_plan_t *plan)
{
    for (size_t i = 0; i < sizeof plan->owned / sizeof plan->owned[0]; i++)
        free(plan->owned[i]);
    for (size_t i = 0; i < sizeof plan->handoff / sizeof plan->handoff[0]; i++)
        free(plan->handoff[i]);
    free(plan->listen_pid);
    free(plan->envp);
}

static int
plan_build(exec_plan_t *plan, const corral_spawn_t *spawn, bool keep_notify_socket)
{
    memset(plan, 0, sizeof *plan);
    plan->default_argv[0] = (char *) spawn->program;
    plan->default_argv[1] = (char *) spawn->name;
    plan->argv = spawn->argv ? spawn->argv : plan->default_argv;
    size_t count = 0, added = 0;
    while (environ[count])
        count++;
    while (spawn->env && spawn->env[added])
        added++;
    plan->envp = calloc(count + added + 10, sizeof *plan->envp);
    plan->listen_pid = calloc(1, sizeof "LISTEN_PID=" + 24);
    plan->owned[0] = corral_format("CORRAL_WORKER_ID=%d", spawn->worker_id);
    plan->owned[1] = spawn->desk_endpoint
        ? corral_format("CORRAL_DESK=%s", spawn->desk_endpoint)
        : corral_format("CORRAL_CONFIG_FD=%d", spawn->config_fd);
    if (!plan->envp || !plan->listen_pid || !plan->owned[0] || !plan->owned[1])
        return -1;
    if (spawn->handoff_fd > 0) {
        plan->handoff[0] = corral_format(CORRAL_HANDOFF_FD_ENV "=%d", spawn->handoff_fd);
        plan->handoff[1] = corral_format(CORRAL_HANDOFF_COUNTERS_FD_ENV "=%d",
                                         spawn->handoff_counters_fd);
        if (!plan->handoff[0] || !plan->handoff[1])
            return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if ((!is_ours(environ[i])
             || (keep_notify_socket && strncmp(environ[i], "NOTIFY_SOCKET=", 14) == 0))
            && !is_overridden(environ[i], spawn->env))
            plan->envp[n++] = environ[i];
    for (size_t i = 0; i < added; i++)
        plan->envp[n++] = spawn->env[i];
    if (spawn->listen_fd >= 0) {        /* a worker without HTTP has no socket */
        plan->envp[n++] = (char *) "LISTEN_FDS=1";
        plan->envp[n++] = plan->listen_pid;
    }
    plan->envp[n++] = plan->owned[0];
    plan->envp[n++] = plan->owned[1];
    if (spawn->secret)      /* the number only: the secret itself is on the pipe */
        plan->envp[n++] = (char *) "CORRAL_SECRET_FD=" CORRAL_STRINGIFY(CORRAL_SECRET_FD);
    for (size_t i = 0; i < sizeof plan->handoff / sizeof plan->handoff[0]; i++)
        if (plan->handoff[i])
            plan->envp[n++] = plan->handoff[i];
    return 0;
}

void
corral_spawn_write_listen_pid(char *out, pid_t pid)
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

/* Async-signal-safe: the connection channel, open across exec (the
 * balancer keeps its descriptors above fd 3). */
static int
keep_handoff_fds(const corral_spawn_t *spawn)
{
    if (spawn->handoff_fd <= 0)
        return 0;
    return fcntl(spawn->handoff_fd, F_SETFD, 0) == 0
        && fcntl(spawn->handoff_counters_fd, F_SETFD, 0) == 0 ? 0 : -1;
}

/* Async-signal-safe: puts the listening socket at fd 3, open across exec. */
static int
place_listen_fd(int fd)
{
    if (fd < 0)
        return 0;
    if (fd == LISTEN_FD)
        return fcntl(fd, F_SETFD, 0);
    return dup2(fd, LISTEN_FD) == LISTEN_FD ? 0 : -1;
}

/* Async-signal-safe: the listening socket at fd 3 and the read end of the
 * secret's pipe at CORRAL_SECRET_FD, both open across exec, whatever
 * numbers they had (each is first moved above both targets). */
static int
place_fds(int listen_fd, int secret_fd)
{
    if (secret_fd < 0)
        return place_listen_fd(listen_fd);
    int secret = fcntl(secret_fd, F_DUPFD_CLOEXEC, CORRAL_SECRET_FD + 1);
    /* -1: a worker without HTTP, nothing to place */
    int listen = listen_fd < 0 || listen_fd == LISTEN_FD
        ? listen_fd : fcntl(listen_fd, F_DUPFD_CLOEXEC, CORRAL_SECRET_FD + 1);
    if (secret < 0 || (listen_fd >= 0 && listen < 0) || place_listen_fd(listen) != 0)
        return -1;
    return dup2(secret, CORRAL_SECRET_FD) == CORRAL_SECRET_FD ? 0 : -1;
}

int
corral_spawn_make_secret(char *secret)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[CORRAL_SECRET_LENGTH / 2];
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t) sizeof bytes)
        return -1;
    for (size_t i = 0; i < sizeof bytes; i++) {
        secret[2 * i] = hex[bytes[i] >> 4];
        secret[2 * i + 1] = hex[bytes[i] & 15];
    }
    secret[CORRAL_SECRET_LENGTH] = '\0';
    return 0;
}

/* A pipe holding `secret` and closed for writing: the child inherits the
 * read end, reads the secret and EOF. Returns the read end, or -1. */
static int
secret_pipe(const char *secret)
{
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0)
        return -1;
    size_t length = strlen(secret);     /* far below PIPE_BUF: one write */
    ssize_t written = write(ends[1], secret, length);
    int saved = errno;
    close(ends[1]);
    if (written != (ssize_t) length) {
        close(ends[0]);
        errno = written < 0 ? saved : EIO;
        return -1;
    }
    return ends[0];
}

char *
corral_spawn_default_program(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return strdup("corral-worker");
    self[n] = '\0';
    return corral_format("%s/corral-worker", dirname(self));
}

pid_t
corral_spawn_worker(const corral_spawn_t *spawn, char **error)
{
    exec_plan_t plan;
    int report[2] = { -1, -1 };     /* the child writes errno here if exec fails */
    int secret = -1;
    if (plan_build(&plan, spawn, false) != 0 || pipe2(report, O_CLOEXEC) != 0
        || (spawn->secret && (secret = secret_pipe(spawn->secret)) < 0)) {
        *error = corral_format("cannot prepare %s: %s", spawn->name, strerror(errno));
        if (report[0] >= 0) {
            close(report[0]);
            close(report[1]);
        }
        plan_destroy(&plan);
        return -1;
    }
    /* the soft limit only, within the hard one this process inherited;
     * without max_memory, not the coordinator's own (coordinator.max_memory) */
    struct rlimit cap = { RLIM_INFINITY, RLIM_INFINITY };
    getrlimit(RLIMIT_AS, &cap);
    cap.rlim_cur = cap.rlim_max;
    if (spawn->max_memory && (cap.rlim_max == RLIM_INFINITY
                              || (rlim_t) spawn->max_memory < cap.rlim_max))
        cap.rlim_cur = (rlim_t) spawn->max_memory;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
            _exit(127);             /* the coordinator is already gone */
        corral_spawn_write_listen_pid(plan.listen_pid, getpid());
        if (setrlimit(RLIMIT_AS, &cap) == 0
            && place_fds(spawn->listen_fd, secret) == 0
            && keep_handoff_fds(spawn) == 0)
            execve(spawn->program, plan.argv, plan.envp);
        corral_spawn_exec_failed(report[1]);
    }
    int saved = errno;
    if (secret >= 0)
        close(secret);
    int failure = corral_spawn_exec_result(report, pid);
    plan_destroy(&plan);
    if (pid < 0)
        *error = corral_format("cannot fork %s: %s", spawn->name, strerror(saved));
    else if (failure)
        *error = corral_format("cannot start %s: %s: %s", spawn->name, spawn->program,
                               strerror(failure));
    /* a child whose exec failed is reaped through SIGCHLD like any other */
    return failure || pid < 0 ? -1 : pid;
}

void
corral_spawn_exec_standalone(const corral_spawn_t *spawn, char **error)
{
    exec_plan_t plan;
    if (plan_build(&plan, spawn, true) == 0) {
        corral_spawn_write_listen_pid(plan.listen_pid, getpid());
        if (place_listen_fd(spawn->listen_fd) == 0)
            execve(spawn->program, plan.argv, plan.envp);
    }
    *error = corral_format("cannot exec %s: %s", spawn->program, strerror(errno));
    plan_destroy(&plan);
}

void
corral_spawn_exec_failed(int report_fd)
{
    int failure = errno;
    ssize_t ignored = write(report_fd, &failure, sizeof failure);
    (void) ignored;
    _exit(127);
}

int
corral_spawn_exec_result(int report[2], pid_t pid)
{
    close(report[1]);
    int failure = 0;
    if (pid > 0) {
        ssize_t n;
        do
            n = read(report[0], &failure, sizeof failure);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t) sizeof failure)
            failure = 0;            /* closed by a successful exec */
    }
    close(report[0]);
    return failure;
}
