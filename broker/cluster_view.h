/* cluster_view.h: the coordinator's view of the instance for /api/status
 * and /api/stats: each worker's latest Report (its heartbeat), how long
 * ago it came, which workers fell silent past the heartbeat timeout, the
 * coordinator's own figures and the machine's. A worker gets it when it
 * asks (a ViewRequest), not with every Report: it grows with the worker
 * count. */
#ifndef CORRAL_CLUSTER_VIEW_H
#define CORRAL_CLUSTER_VIEW_H

#include <czmq.h>
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

/* Slot `id` (1..worker_count) runs `pid` now; it has until the heartbeat
 * timeout to report. */
void corral_cluster_view_worker_started(corral_cluster_view_t *self, int id,
                                        const char *name, pid_t pid);
/* Slot `id` has no process any more. */
void corral_cluster_view_worker_gone(corral_cluster_view_t *self, int id);

/* Keeps a copy of `report` as slot `id`'s latest. Returns 0, or -1 when
 * out of memory. */
int corral_cluster_view_accept(corral_cluster_view_t *self, int id,
                               const Corral__V1__Report *report);

/* The view now, as a ClusterView envelope to send; valid until the next
 * call. `desk_dropped` is the coordinator's count of bad input on desk. */
const corral_envelope_t *corral_cluster_view_envelope(corral_cluster_view_t *self,
                                                      uint64_t desk_dropped);

/* The same packed in a frame, to send with corral_envelope_send_packed;
 * the frame is the view's, and whoever asks within a tenth of the status
 * interval (100 ms at most) gets the same one. NULL when out of memory. */
zframe_t *corral_cluster_view_frame(corral_cluster_view_t *self, uint64_t desk_dropped);

#endif
