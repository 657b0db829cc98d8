/* external_loop.h: the worker's zloop driven by another program's event
 * loop (corral_worker_start, corral_worker_fd, corral_worker_process in
 * corral/worker.h), the way libcurl's multi interface and libmicrohttpd's
 * external mode are driven.
 *
 * One epoll descriptor stands for everything the session waits on: the
 * ZeroMQ sockets and descriptors it watches, a timer for the loop's
 * timers, and a flag raised when work is left over. When it is readable
 * (or at the latest after the timer's period), process() runs the loop's
 * turns until nothing watched is ready any more. */
#ifndef CORRAL_EXTERNAL_LOOP_H
#define CORRAL_EXTERNAL_LOOP_H

#include <czmq.h>

typedef struct corral_external_loop corral_external_loop_t;

corral_external_loop_t *corral_external_loop_new(zloop_t *loop);
void corral_external_loop_destroy(corral_external_loop_t **self_p);

/* Watches a socket (a zsock_t or a libzmq handle) or a descriptor the loop
 * has a reader or poller for. Returns 0 or -1. */
int corral_external_loop_watch_socket(corral_external_loop_t *self, void *socket);
int corral_external_loop_watch_fd(corral_external_loop_t *self, int fd);

/* The descriptor to poll for reading (level-triggered). */
int corral_external_loop_fd(const corral_external_loop_t *self);

/* The longest the caller may wait before calling process() although the
 * descriptor did not become readable, in milliseconds: the timer's
 * period (the loop's timers fire at most this late). */
int corral_external_loop_timeout_ms(const corral_external_loop_t *self);

/* Runs what is ready without blocking. Returns 0 while the loop runs, 1
 * once one of its handlers ended it (the worker stopped). */
int corral_external_loop_process(corral_external_loop_t *self);

#endif
