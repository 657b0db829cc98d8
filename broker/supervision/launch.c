/* launch.c: fork+exec (or exec in place) of a program with a descriptor
 * map and a filtered environment (launch.h). The plan is built in the
 * parent; the child only places descriptors, sets limits and execs. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fsutil.h"
#include "launch_contract.h"

extern char **environ;

struct corral_launch {
    const char *program;
    char *const *argv;
    const char *directory;
    bool keep_notify_socket;
    bool die_with_parent;
    bool limits_memory;
    uint64_t memory_limit;
    char *const *configured;    /* "NAME=value", borrowed */
    char **set;                 /* "NAME=value", owned */
    size_t set_count;
    char *listen_pid;           /* "LISTEN_PID=" and room for the child's PID */
    int *sources, *targets, *high;
    size_t placed;
    char **envp;                /* built by prepare(): borrowed entries */
    int error;                  /* the first setter's failure */
    bool failed_in_directory;   /* the child could not change to `directory` */
    char *failed_on;            /* what corral_launch_failed_on() says */
};

/* The launch contract's variables: never passed on from this process's
 * environment, only set anew. */
static const char *const contract[] = {
    CORRAL_ENV_LISTEN_FDS, CORRAL_ENV_LISTEN_PID, CORRAL_ENV_LISTEN_FDNAMES,
    CORRAL_ENV_NOTIFY_SOCKET, CORRAL_ENV_WORKER_ID, CORRAL_ENV_DESK, CORRAL_ENV_CONFIG_FD,
    CORRAL_ENV_SECRET_FD, CORRAL_ENV_HANDOFF_FD, CORRAL_ENV_HANDOFF_COUNTERS_FD,
    CORRAL_ENV_UPGRADE, CORRAL_ENV_WATCHDOG_USEC, CORRAL_ENV_WATCHDOG_PID,
};

corral_launch_t *
corral_launch_new(const char *program, char *const *argv)
{
    corral_launch_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->program = program;
    self->argv = argv;
    return self;
}

void
corral_launch_destroy(corral_launch_t **self_p)
{
    corral_launch_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->set_count; i++)
        free(self->set[i]);
    free(self->set);
    free(self->listen_pid);
    free(self->sources);
    free(self->targets);
    free(self->high);
    free(self->envp);
    free(self->failed_on);
    free(self);
    *self_p = NULL;
}

static void
fail(corral_launch_t *self)
{
    if (!self->error)
        self->error = errno ? errno : ENOMEM;
}

void
corral_launch_keep_notify_socket(corral_launch_t *self)
{
    self->keep_notify_socket = true;
}

void
corral_launch_setenv(corral_launch_t *self, const char *name, const char *format, ...)
{
    char *value = NULL, *entry = NULL;
    va_list args;
    va_start(args, format);
    int length = vasprintf(&value, format, args);
    va_end(args);
    if (length < 0)
        value = NULL;
    char **grown = length >= 0 ? realloc(self->set, (self->set_count + 1) * sizeof *grown)
                               : NULL;
    if (grown)
        self->set = grown;
    if (!grown || asprintf(&entry, "%s=%s", name, value) < 0) {
        free(value);
        fail(self);
        return;
    }
    free(value);
    self->set[self->set_count++] = entry;
}

void
corral_launch_add_env(corral_launch_t *self, char *const *entries)
{
    self->configured = entries;
}

void
corral_launch_listen_fds(corral_launch_t *self, int count)
{
    corral_launch_setenv(self, CORRAL_ENV_LISTEN_FDS, "%d", count);
    free(self->listen_pid);
    self->listen_pid = calloc(1, sizeof CORRAL_ENV_LISTEN_PID "=" + 24);
    if (!self->listen_pid)
        fail(self);
}

void
corral_launch_place_fd(corral_launch_t *self, int source, int target)
{
    if (source < 0)
        return;
    size_t count = self->placed + 1;
    int *sources = realloc(self->sources, count * sizeof *sources);
    if (sources)
        self->sources = sources;
    int *targets = sources ? realloc(self->targets, count * sizeof *targets) : NULL;
    if (targets)
        self->targets = targets;
    int *high = targets ? realloc(self->high, count * sizeof *high) : NULL;
    if (!high) {
        fail(self);
        return;
    }
    self->high = high;
    self->sources[self->placed] = source;
    self->targets[self->placed] = target;
    self->placed = count;
}

void
corral_launch_limit_memory(corral_launch_t *self, uint64_t bytes)
{
    self->limits_memory = true;
    self->memory_limit = bytes;
}

void
corral_launch_die_with_parent(corral_launch_t *self)
{
    self->die_with_parent = true;
}

void
corral_launch_chdir(corral_launch_t *self, const char *directory)
{
    self->directory = directory;
}

/* `entry` ("NAME=value") names `name`. */
static bool
names(const char *entry, const char *name)
{
    size_t length = strlen(name);
    return strncmp(entry, name, length) == 0 && entry[length] == '=';
}

/* `entry`'s name is among `entries`' (a NULL-terminated list, or `count` of them). */
static bool
named_in(const char *entry, char *const *entries, size_t count)
{
    size_t length = strcspn(entry, "=");
    for (size_t i = 0; entries && (count ? i < count : entries[i] != NULL); i++)
        if (strncmp(entries[i], entry, length) == 0 && entries[i][length] == '=')
            return true;
    return false;
}

static bool
is_contract(const corral_launch_t *self, const char *entry)
{
    for (size_t i = 0; i < sizeof contract / sizeof contract[0]; i++)
        if (names(entry, contract[i]))
            return !(self->keep_notify_socket && (names(entry, CORRAL_ENV_NOTIFY_SOCKET)
                                                  || names(entry, CORRAL_ENV_WATCHDOG_USEC)
                                                  || names(entry, CORRAL_ENV_WATCHDOG_PID)));
    return false;
}

/* The child's environment: inherited, less the contract and what is set
 * anew; then the configured entries, then the launch's own. */
static int
prepare(corral_launch_t *self)
{
    if (self->error) {
        errno = self->error;
        return -1;
    }
    size_t inherited = 0, configured = 0;
    while (environ[inherited])
        inherited++;
    while (self->configured && self->configured[configured])
        configured++;
    self->envp = calloc(inherited + configured + self->set_count + 2, sizeof *self->envp);
    if (!self->envp)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < inherited; i++)
        if (!is_contract(self, environ[i]) && !named_in(environ[i], self->configured, 0)
            && !named_in(environ[i], self->set, self->set_count))
            self->envp[n++] = environ[i];
    for (size_t i = 0; i < configured; i++)
        if (!named_in(self->configured[i], self->set, self->set_count))
            self->envp[n++] = self->configured[i];
    for (size_t i = 0; i < self->set_count; i++)
        self->envp[n++] = self->set[i];
    if (self->listen_pid)
        self->envp[n++] = self->listen_pid;
    return 0;
}

/* Async-signal-safe: "LISTEN_PID=<pid>". */
static void
write_listen_pid(char *out, pid_t pid)
{
    char digits[24];
    int n = 0;
    do
        digits[n++] = (char) ('0' + pid % 10);
    while ((pid /= 10) > 0);
    memcpy(out, CORRAL_ENV_LISTEN_PID "=", sizeof CORRAL_ENV_LISTEN_PID);
    out += sizeof CORRAL_ENV_LISTEN_PID;
    while (n > 0)
        *out++ = digits[--n];
    *out = '\0';
}

/* Async-signal-safe: every source above every target first (one may sit
 * where another goes), then each at its place, open across exec. */
static int
place_fds(corral_launch_t *self)
{
    int above = 0;
    for (size_t i = 0; i < self->placed; i++)
        if (self->targets[i] >= above)
            above = self->targets[i] + 1;
    for (size_t i = 0; i < self->placed; i++)
        if ((self->high[i] = fcntl(self->sources[i], F_DUPFD_CLOEXEC, above)) < 0)
            return -1;
    for (size_t i = 0; i < self->placed; i++)
        if (dup2(self->high[i], self->targets[i]) != self->targets[i])
            return -1;
    return 0;
}

/* Async-signal-safe: what the child (or this process, for exec) does
 * between fork and exec. Returns only on failure, errno set. */
static void
become(corral_launch_t *self)
{
    if (self->listen_pid)
        write_listen_pid(self->listen_pid, getpid());
    if (self->limits_memory) {
        /* the soft limit only, within the hard one this process inherited */
        struct rlimit cap = { RLIM_INFINITY, RLIM_INFINITY };
        getrlimit(RLIMIT_AS, &cap);
        cap.rlim_cur = cap.rlim_max;
        if (self->memory_limit && (cap.rlim_max == RLIM_INFINITY
                                   || (rlim_t) self->memory_limit < cap.rlim_max))
            cap.rlim_cur = (rlim_t) self->memory_limit;
        if (setrlimit(RLIMIT_AS, &cap) != 0)
            return;
    }
    if (place_fds(self) != 0)
        return;
    if (self->directory && chdir(self->directory) != 0) {
        self->failed_in_directory = true;       /* this process's copy: reported below */
        return;
    }
    execve(self->program, self->argv, self->envp);
}

/* What the child writes on its report pipe when it cannot exec. */
typedef struct {
    int error;
    bool in_directory;
} child_failure_t;

/* In the parent: the child's failure written on `report`, or an error of
 * 0 once the pipe closed on a successful exec. */
static child_failure_t
exec_result(int report[2], pid_t pid)
{
    close(report[1]);
    child_failure_t failure = { 0 };
    if (pid > 0) {
        ssize_t n;
        do
            n = read(report[0], &failure, sizeof failure);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t) sizeof failure)
            failure = (child_failure_t) { 0 };
    }
    close(report[0]);
    return failure;
}

pid_t
corral_launch_start(corral_launch_t *self)
{
    int report[2];
    if (prepare(self) != 0 || pipe2(report, O_CLOEXEC) != 0)
        return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (self->die_with_parent
            && (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent))
            _exit(CORRAL_WORKER_EXIT_NOT_STARTED);     /* the parent is already gone */
        become(self);
        child_failure_t failure = { errno, self->failed_in_directory };
        ssize_t ignored = write(report[1], &failure, sizeof failure);
        (void) ignored;
        _exit(CORRAL_WORKER_EXIT_NOT_STARTED);
    }
    int saved = errno;
    child_failure_t failure = exec_result(report, pid);
    self->failed_in_directory = failure.in_directory;
    if (pid < 0 || failure.error) {
        errno = pid < 0 ? saved : failure.error;
        return -1;
    }
    return pid;
}

const char *
corral_launch_failed_on(corral_launch_t *self)
{
    if (!self->failed_in_directory)
        return self->program;
    free(self->failed_on);
    self->failed_on = corral_format("its directory %s", self->directory);
    return self->failed_on ? self->failed_on : self->directory;
}

int
corral_launch_exec(corral_launch_t *self)
{
    if (prepare(self) == 0)
        become(self);
    return -1;
}
