/* spawn.h: starting workers. The child of fork touches no ZeroMQ or czmq
 * object and calls only async-signal-safe functions until it execs:
 * everything it needs (argv, envp) is built before the fork. */
#ifndef CORRAL_SPAWN_H
#define CORRAL_SPAWN_H

#include <sys/types.h>

/* What a worker process is given besides fd 3. */
typedef struct {
    const char *program;        /* path of the worker executable */
    const char *name;           /* "worker-2": argv[1], for ps */
    int worker_id;
    int listen_fd;              /* becomes fd 3 */
    const char *desk_endpoint;  /* clustered: CORRAL_DESK */
    int config_fd;              /* classic: CORRAL_CONFIG_FD, or -1 */
} corral_spawn_t;

/* The worker executable next to this program: <dir of /proc/self/exe>/corral-worker,
 * or $CORRAL_WORKER_PROGRAM. Free it. */
char *corral_spawn_default_program(void);

/* fork+exec a clustered worker that dies with its parent (PR_SET_PDEATHSIG).
 * Returns its PID, or -1 with *error (free it) set when it could not be
 * started, exec failures included. */
pid_t corral_spawn_worker(const corral_spawn_t *spawn, char **error);

/* The same for `count` workers at once: all are forked, then every exec
 * is awaited, so that they exec together (awaiting each exec in turn
 * costs two scheduling delays a worker: seconds for hundreds on a loaded
 * machine). pids[i] is each one's PID, 0 when it could not start. Returns
 * 0, or -1 with *error (the first failure; free it); the others run. */
int corral_spawn_workers(const corral_spawn_t *spawns, int count, pid_t *pids, char **error);

/* Classic mode: replaces this process with a standalone worker (same PID).
 * Returns only on failure, with *error set. */
void corral_spawn_exec_standalone(const corral_spawn_t *spawn, char **error);

#endif
