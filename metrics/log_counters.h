/* log_counters.h: this process's log counters for status reports and
 * /api/stats `logs`. What they count depends on the process, so the
 * process that owns the logging pipeline registers the source:
 * - the coordinator: records received from workers, and records lost
 *   after they left a worker (gaps in a worker's seq, lines a failed
 *   write lost);
 * - a clustered worker: nothing received, records it could not send;
 * - a classic worker: records its appenders took, lines a failed write
 *   lost.
 * Summed over the processes, nothing is counted twice. */
#ifndef CORRAL_LOG_COUNTERS_H
#define CORRAL_LOG_COUNTERS_H

#include "corral/v1/corral.pb-c.h"

typedef void (corral_log_counters_fn)(Corral__V1__LogCounters *counters, void *arg);

/* `fn` fills the counters from now on; NULL: zeros. */
void corral_log_counters_set_source(corral_log_counters_fn *fn, void *arg);

/* Fills `counters` (initialised by the caller). */
void corral_log_counters_sample(Corral__V1__LogCounters *counters);

#endif
