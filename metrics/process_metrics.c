/* process_metrics.c: heap from mallinfo2(), RSS from /proc/self/statm,
 * the size limit from RLIMIT_AS (the C analogue of Node's heap limit). */
#include "process_metrics.h"

#include <czmq.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int64_t started_ms = -1;

uint64_t
corral_unix_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t) now.tv_sec * 1000 + (uint64_t) now.tv_nsec / 1000000;
}

void
corral_process_metrics_start(void)
{
    if (started_ms < 0)
        started_ms = zclock_mono();
}

static uint64_t
resident_set_size(void)
{
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (statm) {
        if (fscanf(statm, "%llu %llu", &size, &resident) != 2)
            resident = 0;
        fclose(statm);
    }
    return (uint64_t) resident * (uint64_t) sysconf(_SC_PAGESIZE);
}

static uint64_t
address_space_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
        return 0;
    return (uint64_t) limit.rlim_cur;
}

void
corral_process_metrics_sample(Corral__V1__ProcessMetrics *metrics)
{
    corral_process_metrics_start();
    struct mallinfo2 heap = mallinfo2();
    metrics->pid = (uint32_t) getpid();
    metrics->heap_total_bytes = heap.arena + heap.hblkhd;
    metrics->heap_used_bytes = heap.uordblks + heap.hblkhd;
    metrics->heap_size_limit = address_space_limit();
    metrics->resident_set_size_bytes = resident_set_size();
    metrics->uptime_ms = (uint64_t) (zclock_mono() - started_ms);
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) == 0)
        metrics->cpu_seconds = (double) usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
                             + (double) usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}
