/* launch.h: the one way the coordinator starts a program, as nginx's
 * ngx_execute starts both its workers and its new binary: a worker
 * (spawn.c), the standalone worker that replaces corral in classic mode,
 * and the new coordinator of a SIGUSR2 upgrade (upgrade_exec.c).
 *
 * A launch is a program, its argv, a descriptor map (each source placed at
 * its target, open across exec, whatever numbers they had) and an
 * environment: this process's own, less every variable of the launch
 * contract (base/launch_contract.h) and every variable set anew, plus
 * those set anew. Everything the child needs is built before the fork: the
 * child of fork touches no ZeroMQ or czmq object and calls only
 * async-signal-safe functions until it execs.
 *
 * A setter that cannot allocate marks the launch failed; start() and
 * exec() then fail with that errno, so callers check once. */
#ifndef CORRAL_LAUNCH_H
#define CORRAL_LAUNCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct corral_launch corral_launch_t;

/* `argv` (argv[0] included) is borrowed until start() or exec(). */
corral_launch_t *corral_launch_new(const char *program, char *const *argv);
void corral_launch_destroy(corral_launch_t **self_p);

/* NOTIFY_SOCKET is the instance's main PID's (systemd): kept only for a
 * process that becomes that PID (classic mode, an upgrade's coordinator). */
void corral_launch_keep_notify_socket(corral_launch_t *self);
/* NAME=value, replacing any inherited NAME. */
void corral_launch_setenv(corral_launch_t *self, const char *name, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* "NAME=value" entries (a type's configured env), replacing inherited ones;
 * borrowed until start() or exec(). */
void corral_launch_add_env(corral_launch_t *self, char *const *entries);
/* LISTEN_FDS=count and LISTEN_PID=<the child's PID>, as systemd sets them;
 * the sockets themselves are placed with place_fd from fd 3 on. */
void corral_launch_listen_fds(corral_launch_t *self, int count);

/* `source` becomes `target` in the child, open across exec. A source of -1
 * places nothing. */
void corral_launch_place_fd(corral_launch_t *self, int source, int target);

/* RLIMIT_AS's soft limit in the child, within the inherited hard one; 0:
 * the hard limit (never the coordinator's own node.coordinator.max_memory). */
void corral_launch_limit_memory(corral_launch_t *self, uint64_t bytes);
/* The child gets SIGTERM when this process dies (PR_SET_PDEATHSIG), and
 * never starts if it already has. */
void corral_launch_die_with_parent(corral_launch_t *self);
/* The child's working directory; NULL: this process's. */
void corral_launch_chdir(corral_launch_t *self, const char *directory);

/* fork+exec. Returns the child's PID, or -1 with errno set: the launch
 * could not be prepared, fork failed, or the child could not exec (its
 * errno; a child whose exec failed is reaped through SIGCHLD as any other). */
pid_t corral_launch_start(corral_launch_t *self);
/* After start() or exec() failed: what the errno is about, for a message
 * ("cannot start NAME: <this>: <strerror>"): the program, or "its
 * directory DIR" when the child could not change to chdir()'s directory. */
const char *corral_launch_failed_on(corral_launch_t *self);
/* Replaces this process (same PID). Returns only on failure, errno set. */
int corral_launch_exec(corral_launch_t *self);

#endif
