/* log_counters.h: this process's log counters for status reports and
 * /api/stats `logs`: records received (the coordinator's collector, or a
 * classic worker's appenders) and records dropped (could not be sent or
 * written). The logging service (issue 4) owns the real counts; until it
 * is merged this reports zeros. THE ONE PLACE TO WIRE THEM. */
#ifndef CORRAL_LOG_COUNTERS_H
#define CORRAL_LOG_COUNTERS_H

#include "corral/v1/corral.pb-c.h"

/* Fills `counters` (initialised by the caller). */
void corral_log_counters_sample(Corral__V1__LogCounters *counters);

#endif
