/* data_watch.h: whether path.data can still be written. The coordinator
 * writes there at start and at a binary upgrade (endpoints.json, the
 * instance UUID) and the workers keep their data under it; a directory
 * that becomes read-only or full while the instance runs does not stop
 * it: it keeps serving, and the problem is reported (a log line when it
 * starts and when it ends, `data` degraded in /api/status, `data_dir` in
 * /api/stats). Checked once per status interval (statvfs and access). */
#ifndef CORRAL_DATA_WATCH_H
#define CORRAL_DATA_WATCH_H

#include <czmq.h>

#include "corral/v1/corral.pb-c.h"

typedef struct corral_data_watch corral_data_watch_t;

corral_data_watch_t *corral_data_watch_new(zloop_t *loop, const char *path,
                                           uint64_t interval_ms);
void corral_data_watch_destroy(corral_data_watch_t **self_p);

/* Its state as a service of the instance ("data": available, or degraded
 * with the reason), for the cluster view. */
const Corral__V1__ServiceStatus *corral_data_watch_status(const corral_data_watch_t *self);

#endif
