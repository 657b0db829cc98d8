/* log_counters.c: the registered source of this process's log counters. */
#include "log_counters.h"

#include <stddef.h>

static corral_log_counters_fn *source;
static void *source_arg;

void
corral_log_counters_set_source(corral_log_counters_fn *fn, void *arg)
{
    source = fn;
    source_arg = arg;
}

void
corral_log_counters_sample(Corral__V1__LogCounters *counters)
{
    counters->received = 0;
    counters->dropped = 0;
    if (source)
        source(counters, source_arg);
}
