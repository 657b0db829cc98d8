/* plain_worker.h: the coordinator's side of one plain worker process
 * (a type with `protocol: none`, docs/plain-workers.md): a program that
 * does not speak the worker protocol, supervised as systemd supervises a
 * Type=notify service. Its readiness is READY=1 on its own notify socket
 * (notify_socket.h), or `ready_after` of running; its liveness, with a
 * `watchdog`, is WATCHDOG=1 at least that often (a miss is `hung`); its
 * STATUS= text is its status. What a protocol worker reports, the
 * coordinator reads for it from /proc every status interval (its resident
 * set, its uptime): a report of its own that the cluster view, the
 * recycling by max_rss and the heartbeat check take as any other. */
#ifndef CORRAL_PLAIN_WORKER_H
#define CORRAL_PLAIN_WORKER_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "envelope.h"

typedef struct corral_plain_worker corral_plain_worker_t;

typedef struct {
    /* it is ready (READY=1, or ready_after elapsed) */
    void (*ready)(void *arg, corral_plain_worker_t *worker);
    /* it missed its watchdog (`why`), or asked to be taken as hung */
    void (*hung)(void *arg, corral_plain_worker_t *worker, const char *why);
    /* its report of this interval, built from /proc */
    void (*report)(void *arg, corral_plain_worker_t *worker, const Corral__V1__Report *report);
    /* it said something worth an event: "status" (STATUS=), "stopping"
     * (STOPPING=1), "reloading" (RELOADING=1), "reloaded" (READY=1 after
     * it), "ready", "refused" (a datagram from another process) */
    void (*event)(void *arg, corral_plain_worker_t *worker, const char *kind,
                  const char *detail);
} corral_plain_worker_ops_t;

typedef struct {
    int worker_id;
    const char *notify_path;        /* its socket, in the runtime directory */
    uint64_t ready_after_ms;        /* 0: on READY=1 */
    uint64_t watchdog_ms;           /* 0: none */
    uint64_t status_interval_ms;    /* how often /proc is read */
} corral_plain_worker_spec_t;

/* Binds its notify socket; nothing is watched before started(). NULL with
 * errno set. */
corral_plain_worker_t *corral_plain_worker_new(zloop_t *loop,
                                               const corral_plain_worker_spec_t *spec,
                                               const corral_plain_worker_ops_t *ops,
                                               void *arg);
void corral_plain_worker_destroy(corral_plain_worker_t **self_p);

const char *corral_plain_worker_notify_path(const corral_plain_worker_t *self);
/* The watchdog's period for WATCHDOG_USEC; 0: none. */
uint64_t corral_plain_worker_watchdog_usec(const corral_plain_worker_t *self);
/* The process is `pid` now: its datagrams count, its timers run. */
int corral_plain_worker_started(corral_plain_worker_t *self, pid_t pid);
/* The caller's own data (the supervisor's process). */
void *corral_plain_worker_link(const corral_plain_worker_t *self);
void corral_plain_worker_set_link(corral_plain_worker_t *self, void *link);
/* "reloading" (RELOADING=1 and no READY=1 since) or "stopping"
 * (STOPPING=1), as systemd shows them; NULL: neither. */
const char *corral_plain_worker_state(const corral_plain_worker_t *self);
/* Its last STATUS= text ("" before any). */
const char *corral_plain_worker_status(const corral_plain_worker_t *self);

#endif
