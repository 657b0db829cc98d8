/* spawn.h: starting workers, clustered or classic, through the one
 * launcher (launch.h): what a worker is given is described here, how a
 * program is started there. */
#ifndef CORRAL_SPAWN_H
#define CORRAL_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

/* What a worker process is given besides fd 3. */
typedef struct {
    const char *program;        /* path of the worker executable */
    const char *name;           /* "worker-2": argv[1], for ps */
    char *const *argv;          /* a configured command (argv[0] is program), or
                                 * NULL: { program, name } */
    char *const *env;           /* "NAME=value" added, overriding inherited ones; or NULL */
    int worker_id;
    int listen_fd;              /* becomes fd 3; -1: none (a type without HTTP) */
    const char *desk_endpoint;  /* clustered: CORRAL_DESK */
    int config_fd;              /* classic: CORRAL_CONFIG_FD, or -1 */
    uint64_t max_memory;        /* RLIMIT_AS set between fork and exec; 0: inherited */
    const char *secret;         /* clustered: on a pipe at CORRAL_SECRET_FD, or NULL */
    int handoff_fd;             /* balancing shared: CORRAL_HANDOFF_FD; -1: none */
    int handoff_counters_fd;    /* and CORRAL_HANDOFF_COUNTERS_FD (handoff_wire.h) */
    const char *cwd;            /* its working directory; NULL: the coordinator's */
    int stdout_fd, stderr_fd;   /* become fd 1 and 2 (output capture); -1: inherited */
    /* a plain worker (protocol: none): neither desk nor secret nor channel,
     * but NOTIFY_SOCKET (its own) and WATCHDOG_USEC */
    const char *notify_socket;  /* NULL: not a plain worker */
    uint64_t watchdog_usec;     /* 0: none */
} corral_spawn_t;

/* Fills `secret` (CORRAL_SECRET_LENGTH + 1 bytes) with a new random secret
 * for one worker. Returns 0, or -1 with errno set. */
int corral_spawn_make_secret(char *secret);

/* The reference worker, next to this program: <dir of /proc/self/exe>/corral-worker.
 * Free it. */
char *corral_spawn_default_program(void);

/* fork+exec a clustered worker that dies with its parent (PR_SET_PDEATHSIG).
 * Returns its PID, or -1 with *error (free it) set when it could not be
 * started, exec failures included. */
pid_t corral_spawn_worker(const corral_spawn_t *spawn, char **error);

/* Classic mode: replaces this process with a standalone worker (same PID).
 * Returns only on failure, with *error set. */
void corral_spawn_exec_standalone(const corral_spawn_t *spawn, char **error);

#endif
