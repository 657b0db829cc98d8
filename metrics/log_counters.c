/* log_counters.c: see log_counters.h. */
#include "log_counters.h"

void
corral_log_counters_sample(Corral__V1__LogCounters *counters)
{
    /* TODO(merge with issue 4): the log collector's received and dropped
     * counts. */
    counters->received = 0;
    counters->dropped = 0;
}
