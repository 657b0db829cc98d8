/* balancer.h: the `shared` balancing mode. The coordinator accepts on
 * the listening socket, in a thread of its own, and hands each connection
 * (SCM_RIGHTS) to the worker process with the fewest open connections,
 * the way Node's cluster hands them round-robin but by load: a burst of
 * keep-alive connections spreads evenly at once, every time. The
 * coordinator never reads a byte of HTTP. The channel to each worker
 * process is in proto/handoff_wire.h.
 *
 * Each worker process gets a channel of its own: a replacement for a
 * slot starts from a fresh one (no counts carried over), and connections
 * still queued to a process that exited are handed to the others. */
#ifndef CORRAL_BALANCER_H
#define CORRAL_BALANCER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct corral_balancer corral_balancer_t;

/* Starts the accepting thread on `listen_fd` (not owned). It accepts only
 * while some worker takes connections. NULL (errno set) on failure. */
corral_balancer_t *corral_balancer_new(int listen_fd);
/* Stops the thread; connections not yet handed over are closed. */
void corral_balancer_destroy(corral_balancer_t **self_p);

/* The descriptors of a new channel for one worker process about to be
 * spawned. They are close-on-exec (the child clears that on these two)
 * and stay the balancer's: never close them. */
typedef struct {
    int channel;        /* for corral_balancer_close() */
    int worker_fd;      /* CORRAL_HANDOFF_FD */
    int counters_fd;    /* CORRAL_HANDOFF_COUNTERS_FD */
} corral_handoff_fds_t;

/* Returns 0, or -1 (errno set). */
int corral_balancer_open(corral_balancer_t *self, corral_handoff_fds_t *fds);

/* Takes in what the channel's worker has said so far. A worker says READY
 * on its channel before it says Ready on desk: after this call for a
 * worker found Ready, connections go to it (no race with the thread). */
void corral_balancer_sync(corral_balancer_t *self, int channel);

/* The process of `channel` has exited, or was never started: what is
 * still queued to it goes to the other workers, and the channel is gone.
 * Whoever reaps workers calls this for every exit. */
void corral_balancer_close(corral_balancer_t *self, int channel);

typedef struct {
    uint64_t accepted;      /* connections accepted */
    uint64_t handed;        /* handed to a worker (taken back ones again) */
    uint64_t taken_back;    /* queued to a worker that exited */
    uint64_t dropped;       /* closed: no worker could take them */
    uint64_t accept_errors; /* accept() failed for want of descriptors or memory */
    uint64_t bad_messages;  /* from workers, not in the protocol */
} corral_balancer_stats_t;

void corral_balancer_stats(corral_balancer_t *self, corral_balancer_stats_t *stats);

/* Binary upgrade (upgrade.h): a successor accepts on the same socket from
 * now on; this balancer accepts no more. Settled: every connection it
 * accepted was taken by a worker (none queued or held), so the workers
 * may stop: none is left to be taken back with nobody to take it. */
void corral_balancer_hand_over(corral_balancer_t *self);
bool corral_balancer_settled(corral_balancer_t *self);

#endif
