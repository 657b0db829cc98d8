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

int
corral_process_metrics_of(pid_t pid, uint64_t *rss_bytes, double *cpu_seconds)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen(path, "re");
    if (!file)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[n] = '\0';
    /* after the command's closing parenthesis: state is field 3; utime 14,
     * stime 15, rss 24 (pages) */
    const char *rest = strrchr(text, ')');
    unsigned long long utime = 0, stime = 0;
    long long rss_pages = 0;
    if (!rest || sscanf(rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
                        "%*d %*d %*d %*d %*d %*d %*u %*u %lld", &utime, &stime,
                        &rss_pages) != 3)
        return -1;
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    *rss_bytes = rss_pages > 0 ? (uint64_t) rss_pages * (uint64_t) page : 0;
    *cpu_seconds = ticks > 0 ? (double) (utime + stime) / (double) ticks : 0;
    return 0;
}
