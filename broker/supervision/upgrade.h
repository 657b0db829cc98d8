/* upgrade.h: SIGUSR2, the binary upgrade (docs/upgrade.md). The running
 * coordinator (the predecessor) execs the corral binary now on disk, with
 * its own arguments, as a new coordinator (the successor) that inherits
 * the listening sockets (LISTEN_FDS), the PID file (its locked
 * descriptor) and the persisted bus messages (a memfd), and shares the
 * instance UUID (path.data). The two talk over a socketpair: the successor
 * says "ready" once all its workers are; the predecessor then stops its
 * own gracefully and exits, and its exit (the end of the socketpair, after
 * its log files are closed) tells the successor that it may write the log
 * files: until then the successor holds its records in memory, so that
 * the files have one writer at every moment.
 *
 * One object per coordinator process plays either side: the predecessor's
 * (corral_upgrade_begin on SIGUSR2) or, in a process started that way, the
 * successor's (corral_upgrade_is_successor). */
#ifndef CORRAL_UPGRADE_H
#define CORRAL_UPGRADE_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bus.h"
#include "listener.h"
#include "pidfile.h"

typedef struct corral_upgrade corral_upgrade_t;

typedef struct {
    /* Predecessor: the successor `pid` is ready; this coordinator now
     * stops its workers gracefully and exits. */
    void (*successor_ready)(void *arg, pid_t pid);
    /* Successor: the predecessor has exited (its log files are closed). */
    void (*predecessor_gone)(void *arg);
} corral_upgrade_ops_t;

/* At start, from main's arguments: remembers the command line (argv[0]
 * made absolute now: the binary on disk at the upgrade is exec'ed, not the
 * inode this process runs) and, in a successor, takes what the
 * predecessor passed (CORRAL_UPGRADE; removed from the environment). NULL
 * when out of memory. */
corral_upgrade_t *corral_upgrade_new(int argc, char *const *argv);
/* Closes the socketpair: in a predecessor, after its log files are
 * closed, this is what lets the successor write them. */
void corral_upgrade_destroy(corral_upgrade_t **self_p);

/* Successor: this process was started by SIGUSR2. */
bool corral_upgrade_is_successor(const corral_upgrade_t *self);
/* Successor: the predecessor's locked PID file descriptor, or -1. */
int corral_upgrade_pidfile_fd(const corral_upgrade_t *self);
/* Successor: the listener on the inherited sockets (listener.h's
 * corral_listener_adopt), if they are of the balancing mode configured
 * now (SO_REUSEPORT or not), `count` of them with reuseport; else NULL
 * and *error (free it): a shared socket would leave the others' queues
 * unaccepted, and reuseport cannot join a socket without it. None of the
 * inherited sockets is shut down while the predecessor serves on them;
 * once it has exited, all but systemd's are ours to shut. */
corral_listener_t *corral_upgrade_adopt_listener(corral_upgrade_t *self, int inherited,
                                                 const char *host, bool reuseport, int count,
                                                 char **error);
/* The PID file (not owned; NULL: none): the predecessor passes its
 * descriptor on; the successor writes its PID in it once it is ready. */
void corral_upgrade_set_pidfile(corral_upgrade_t *self, corral_pidfile_t *pidfile);

/* Watches the socketpair in `loop`, calling `ops` on `arg`. */
int corral_upgrade_attach(corral_upgrade_t *self, zloop_t *loop,
                          const corral_upgrade_ops_t *ops, void *arg);
void corral_upgrade_detach(corral_upgrade_t *self);

/* --- The predecessor ------------------------------------------------------------ */

/* SIGUSR2: starts the successor with `listener`'s sockets and `bus`'s
 * persisted messages; one at a time, never while `stopping`. A successor
 * not ready within `ready_timeout_ms` is stopped. Logs what it does. */
void corral_upgrade_begin(corral_upgrade_t *self, corral_listener_t *listener,
                          corral_bus_t *bus, bool stopping, uint64_t ready_timeout_ms);
/* Once this instance's workers are all gone after the hand-over: the
 * persisted messages its bus took since the successor started, passed on
 * to it (they would be lost otherwise). */
void corral_upgrade_send_late_store(corral_upgrade_t *self, corral_bus_t *bus);
/* SIGCHLD: true if `pid` was the successor (then its exit is logged, and
 * another SIGUSR2 may try again if it was not ready). */
bool corral_upgrade_reaped(corral_upgrade_t *self, pid_t pid, int status);
/* The instance stops for another reason: a successor not ready yet is
 * stopped (SIGTERM); it would otherwise outlive this one half-started. */
void corral_upgrade_cancel(corral_upgrade_t *self);
/* A successor is starting, or took over, or this coordinator is one whose
 * predecessor has not exited yet: no reload meanwhile. */
bool corral_upgrade_in_progress(const corral_upgrade_t *self);
/* The successor said ready: the listening sockets, the PID file and the
 * endpoints are its now (do not shut, remove or unlink them). */
bool corral_upgrade_handed_over(const corral_upgrade_t *self);
/* At exit: whether the PID file is this process's to remove (not once
 * handed over, nor by a successor that never got ready: the predecessor
 * still holds it). */
bool corral_upgrade_owns_pidfile(const corral_upgrade_t *self);

/* --- The successor -------------------------------------------------------------- */

/* The runtime directory's name under <base>/corral: the instance UUID,
 * or "<uuid>.<pid>" for a successor (the predecessor holds <uuid>). */
char *corral_upgrade_runtime_name(const corral_upgrade_t *self, const char *uuid);
/* Stores the predecessor's persisted messages in `bus`, before any worker
 * subscribes. Logs how many. */
void corral_upgrade_seed_bus(corral_upgrade_t *self, corral_bus_t *bus);
/* Writes this coordinator's address (endpoints.json): NULL, or the error
 * (free it). */
typedef char *(corral_upgrade_publish_fn)(void *arg);
/* All workers are ready: writes our PID in the PID file, then `publish`es
 * our address, then tells the predecessor, which stops. A coordinator
 * that cannot do both does not take over: the PID file names the
 * predecessor again, it is logged, and -1 says to stop this one (the
 * predecessor, seeing it exit before it was ready, keeps serving). 0
 * otherwise, and in a coordinator that is no successor. */
int corral_upgrade_take_over(corral_upgrade_t *self, corral_upgrade_publish_fn *publish,
                             void *arg);
/* True until the predecessor has exited: log records are held meanwhile. */
bool corral_upgrade_predecessor_alive(const corral_upgrade_t *self);

#endif
