/* spawn.c: a worker's launch (launch.h): its descriptors, its
 * environment, its secret; fork+exec of clustered workers, and exec into a
 * standalone worker in classic mode. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "fsutil.h"
#include "launch.h"
#include "launch_contract.h"
#include "worker_secret.h"

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

/* The launch both kinds of worker share: fd 3, the configured command and
 * environment, its identity. */
static corral_launch_t *
worker_launch(const corral_spawn_t *spawn, char **default_argv)
{
    default_argv[0] = (char *) spawn->program;
    default_argv[1] = (char *) spawn->name;
    default_argv[2] = NULL;
    corral_launch_t *launch = corral_launch_new(spawn->program,
                                                spawn->argv ? spawn->argv : default_argv);
    if (!launch)
        return NULL;
    corral_launch_add_env(launch, spawn->env);
    corral_launch_chdir(launch, spawn->cwd);
    if (spawn->stdout_fd >= 0)
        corral_launch_place_fd(launch, spawn->stdout_fd, 1);
    if (spawn->stderr_fd >= 0)
        corral_launch_place_fd(launch, spawn->stderr_fd, 2);
    if (spawn->listen_fd >= 0) {        /* a worker without HTTP has no socket */
        corral_launch_listen_fds(launch, 1);
        corral_launch_place_fd(launch, spawn->listen_fd, CORRAL_LISTEN_FDS_START);
    }
    corral_launch_setenv(launch, CORRAL_ENV_WORKER_ID, "%d", spawn->worker_id);
    return launch;
}

/* A plain worker: its own notify socket and watchdog, as systemd gives a
 * Type=notify service; nothing of the protocol. */
static void
plain_launch(corral_launch_t *launch, const corral_spawn_t *spawn)
{
    corral_launch_setenv(launch, CORRAL_ENV_NOTIFY_SOCKET, "%s", spawn->notify_socket);
    if (spawn->watchdog_usec)
        corral_launch_setenv(launch, CORRAL_ENV_WATCHDOG_USEC, "%llu",
                             (unsigned long long) spawn->watchdog_usec);
}

pid_t
corral_spawn_worker(const corral_spawn_t *spawn, char **error)
{
    char *default_argv[3];
    corral_launch_t *launch = worker_launch(spawn, default_argv);
    bool plain = spawn->notify_socket != NULL;
    int secret = spawn->secret && !plain ? secret_pipe(spawn->secret) : -1;
    if (!launch || (spawn->secret && !plain && secret < 0)) {
        *error = corral_format("cannot prepare %s: %s", spawn->name, strerror(errno));
        corral_launch_destroy(&launch);
        return -1;
    }
    if (plain)
        plain_launch(launch, spawn);
    else
        corral_launch_setenv(launch, CORRAL_ENV_DESK, "%s", spawn->desk_endpoint);
    if (secret >= 0) {      /* the number only: the secret itself is on the pipe */
        corral_launch_place_fd(launch, secret, CORRAL_SECRET_FD);
        corral_launch_setenv(launch, CORRAL_ENV_SECRET_FD, "%d", CORRAL_SECRET_FD);
    }
    if (spawn->handoff_fd >= 0 && !plain) {
        corral_launch_place_fd(launch, spawn->handoff_fd, CORRAL_HANDOFF_FD);
        corral_launch_place_fd(launch, spawn->handoff_counters_fd, CORRAL_HANDOFF_COUNTERS_FD);
        corral_launch_setenv(launch, CORRAL_ENV_HANDOFF_FD, "%d", CORRAL_HANDOFF_FD);
        corral_launch_setenv(launch, CORRAL_ENV_HANDOFF_COUNTERS_FD, "%d",
                             CORRAL_HANDOFF_COUNTERS_FD);
    }
    /* without max_memory, the inherited hard limit, not the coordinator's
     * own node.coordinator.max_memory */
    corral_launch_limit_memory(launch, spawn->max_memory);
    corral_launch_die_with_parent(launch);
    pid_t pid = corral_launch_start(launch);
    int saved = errno;
    if (secret >= 0)
        close(secret);
    if (pid < 0)
        *error = corral_format("cannot start %s: %s: %s", spawn->name,
                               corral_launch_failed_on(launch), strerror(saved));
    corral_launch_destroy(&launch);
    return pid;
}

void
corral_spawn_exec_standalone(const corral_spawn_t *spawn, char **error)
{
    char *default_argv[3];
    corral_launch_t *launch = worker_launch(spawn, default_argv);
    if (launch) {
        corral_launch_keep_notify_socket(launch);   /* the worker is the main PID now */
        corral_launch_place_fd(launch, spawn->config_fd, spawn->config_fd);
        corral_launch_setenv(launch, CORRAL_ENV_CONFIG_FD, "%d", spawn->config_fd);
        corral_launch_exec(launch);
    }
    int saved = errno;
    *error = corral_format("cannot exec %s: %s", launch ? corral_launch_failed_on(launch)
                                                        : spawn->program, strerror(saved));
    corral_launch_destroy(&launch);
}
