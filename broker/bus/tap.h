/* tap.h: the coordinator's `tap` (docs/architecture.md sections 2, 5): an XPUB socket that
 * publishes every log record (from the workers and the coordinator) as a
 * formatted line, and lifecycle events, each as [topic][Envelope]:
 *   log/<level>/<worker>/<logger>   TapLine
 *   event/<kind>/<worker>           TapEvent
 * so a subscriber filters at the source by kind, level and worker. XPUB
 * tells the tap what is subscribed; a record or an event that no
 * subscription matches is not formatted at all, so with no subscriber
 * the cost is one comparison. */
#ifndef CORRAL_TAP_H
#define CORRAL_TAP_H

#include <czmq.h>
#include <stdbool.h>
#include <sys/types.h>

#include "corral/v1/corral.pb-c.h"
#include "record.h"

typedef struct corral_tap corral_tap_t;

/* Binds ipc://<runtime_dir>/tap and reads subscriptions in `loop`. NULL
 * (logged) on failure. */
corral_tap_t *corral_tap_new(zloop_t *loop, const char *runtime_dir);
void corral_tap_destroy(corral_tap_t **self_p);

const char *corral_tap_endpoint(const corral_tap_t *self);

/* A log record (a log collector observer: corral_log_observer_fn). */
void corral_tap_record(const corral_log_record_t *record, void *self);

/* An event of `kind` about worker `worker_id` (0: none; `worker` names it,
 * may be NULL) with a printf-formatted detail. */
void corral_tap_event(corral_tap_t *self, const char *kind, int worker_id, const char *worker,
                      pid_t pid, const char *format, ...)
    __attribute__((format(printf, 6, 7)));

/* Subscriptions now, lines and events published. */
void corral_tap_counters(const corral_tap_t *self, Corral__V1__ToolCounters *counters);

#endif
