/* cluster_view.h: the coordinator's view of the instance for /api/status
 * and /api/stats: each worker's latest Report (its heartbeat), how long
 * ago it came, which workers fell silent past the heartbeat timeout, the
 * coordinator's own figures and the machine's. A worker gets it when it
 * asks (a ViewRequest), not with every Report: it grows with the worker
 * count. */
#ifndef CORRAL_CLUSTER_VIEW_H
#define CORRAL_CLUSTER_VIEW_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "envelope.h"

typedef struct corral_cluster_view corral_cluster_view_t;

/* Checks for silent workers every `interval_ms` on `loop` (and logs once
 * when one falls silent or reports again). */
corral_cluster_view_t *corral_cluster_view_new(zloop_t *loop, int worker_count,
                                               uint64_t interval_ms,
                                               uint64_t heartbeat_timeout_ms,
                                               double cpu_quota);
void corral_cluster_view_destroy(corral_cluster_view_t **self_p);

/* A reload changed the worker count (slots past it are dropped). */
int corral_cluster_view_resize(corral_cluster_view_t *self, int worker_count);
/* path.data's state (data_watch.h), shown in /api/status and /api/stats
 * (kept by the caller; NULL: none). */
void corral_cluster_view_set_data_dir(corral_cluster_view_t *self,
                                      const Corral__V1__ServiceStatus *status);
/* The last reload's outcome, shown in /api/status (kept by the caller). */
void corral_cluster_view_set_reload(corral_cluster_view_t *self,
                                    const Corral__V1__ReloadOutcome *outcome);

/* Slot `id` (1..worker_count) runs `pid` now; it has until the heartbeat
 * timeout to report. */
void corral_cluster_view_worker_started(corral_cluster_view_t *self, int id,
                                        const char *name, pid_t pid);
/* Slot `id` has no process any more. */
void corral_cluster_view_worker_gone(corral_cluster_view_t *self, int id);

/* `fn` adds what the supervisor knows of slot `id` to its view, each time
 * the view is built. */
typedef void (corral_view_filler_fn)(void *arg, int id, Corral__V1__WorkerView *view);
void corral_cluster_view_set_filler(corral_cluster_view_t *self, corral_view_filler_fn *fn,
                                    void *arg);
/* Slot `id`'s state ("starting", "ready") and main role, for tools. */
void corral_cluster_view_worker_state(corral_cluster_view_t *self, int id, const char *state,
                                      bool main);

/* Counters the view carries for tools and /api/metrics (bus-in's, the
 * tools'); they must outlive the view and are read at each envelope. */
void corral_cluster_view_add_counters(corral_cluster_view_t *self,
                                      const Corral__V1__BusStats *bus,
                                      const Corral__V1__ToolCounters *tools);

/* Where the view's events go (a worker falls silent, reports again, its
 * most severe service level changes); NULL: nowhere. */
struct corral_tap;
void corral_cluster_view_set_tap(corral_cluster_view_t *self, struct corral_tap *tap);

/* Keeps a copy of `report` as slot `id`'s latest. Returns 0, or -1 when
 * out of memory. */
int corral_cluster_view_accept(corral_cluster_view_t *self, int id,
                               const Corral__V1__Report *report);

/* The coordinator's counters of refused input, sent with every view from
 * now on (kept by the caller; NULL: none). */
void corral_cluster_view_set_input(corral_cluster_view_t *self,
                                   const Corral__V1__InputCounters *input);

/* balancing shared: the balancer's counters, the same way. */
void corral_cluster_view_set_balancer(corral_cluster_view_t *self,
                                      const Corral__V1__BalancerCounters *balancer);

/* The view now, as a ClusterView envelope to send; valid until the next
 * call. `desk_dropped` is the coordinator's count of bad input on desk. */
const corral_envelope_t *corral_cluster_view_envelope(corral_cluster_view_t *self,
                                                      uint64_t desk_dropped);

/* The same packed in a frame, to send with corral_envelope_send_packed;
 * the frame is the view's, and whoever asks within a tenth of the status
 * interval (100 ms at most) gets the same one. NULL when out of memory. */
zframe_t *corral_cluster_view_frame(corral_cluster_view_t *self, uint64_t desk_dropped);

#endif
