/* corral/worker.h: the worker runtime, for programs that link libcorral to
 * serve their own plugins (corral-worker is one).
 *
 * The runtime takes its identity and configuration from what the
 * coordinator hands it: the listening socket as fd 3 (LISTEN_FDS=1,
 * LISTEN_PID), CORRAL_WORKER_ID and either CORRAL_DESK (clustered: the
 * configuration arrives in the Welcome that answers Hello) or
 * CORRAL_CONFIG_FD (classic: a packed WorkerConfig on that fd). */
#ifndef CORRAL_WORKER_H
#define CORRAL_WORKER_H

#include "corral/exit_status.h"
#include "corral/plugin.h"

typedef struct corral_worker corral_worker_t;

corral_worker_t *corral_worker_new(void);
void corral_worker_destroy(corral_worker_t **self_p);

/* Plugins are set up and started in the order they are added, stopped in
 * reverse. Add them before corral_worker_run(). */
int corral_worker_add_plugin(corral_worker_t *self, const corral_plugin_t *plugin);

/* Joins the instance, serves until told to stop (SIGTERM, SIGINT), stops
 * gracefully. Returns the process exit status: 0 after a graceful stop. */
int corral_worker_run(corral_worker_t *self);

/* --- A program with an event loop of its own --------------------------------
 *
 * Instead of corral_worker_run(), a program whose loop is libuv, libevent
 * or its own epoll drives the worker, as it would drive libcurl's multi
 * interface or libmicrohttpd's external mode:
 *
 *   if ((status = corral_worker_start(worker)) != 0) exit(status);
 *   watch corral_worker_fd(worker) for reading (level-triggered), and
 *   whenever it is readable, or corral_worker_timeout_ms() passed without:
 *       if (corral_worker_process(worker) == 1) {   // stopped
 *           status = corral_worker_finish(worker); stop watching; exit(status);
 *       }
 *
 * The session (the HTTP server on fd 3, the node service, logs, status
 * reports, SIGTERM and SIGINT for a graceful stop) lives behind that one
 * descriptor. Everything runs on the thread that calls process(), inside
 * that call. The worker's timers fire at most timeout_ms late. A plugin
 * that adds readers of its own to corral_plugin_loop() must have them
 * watched through corral_worker_watch_fd(). */

/* Joins the instance and starts serving. Returns 0, or the exit status to
 * exit with (non-zero: the reason is logged). */
int corral_worker_start(corral_worker_t *self);
/* The descriptor to watch (an epoll descriptor); -1 before start. */
int corral_worker_fd(const corral_worker_t *self);
/* The longest to wait before calling process() anyway, in milliseconds. */
int corral_worker_timeout_ms(const corral_worker_t *self);
/* Runs what is ready, without blocking. Returns 0 while serving, 1 once
 * the worker has stopped (then call corral_worker_finish). */
int corral_worker_process(corral_worker_t *self);
/* Begins a graceful stop, as SIGTERM does: keep calling process() until it
 * returns 1. */
void corral_worker_stop(corral_worker_t *self);
/* Flushes the logs and says Bye (stopping at once if process() did not
 * return 1 yet). Returns the exit status. */
int corral_worker_finish(corral_worker_t *self);
/* Watches one more descriptor, or ZeroMQ socket (zsock_t or libzmq
 * handle), that a plugin polls on corral_plugin_loop(). Returns 0 or -1. */
int corral_worker_watch_fd(corral_worker_t *self, int fd);
int corral_worker_watch_socket(corral_worker_t *self, void *socket);

#endif
