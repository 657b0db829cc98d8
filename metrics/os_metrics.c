/* os_metrics.c: uname, getloadavg, /proc/meminfo, sysinfo. */
#include "os_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

static struct utsname names;

/* MemTotal and MemAvailable in bytes; 0 if unreadable. */
static void
read_meminfo(uint64_t *total, uint64_t *available)
{
    *total = *available = 0;
    FILE *meminfo = fopen("/proc/meminfo", "r");
    if (!meminfo)
        return;
    char line[128];
    unsigned long long kb;
    while (fgets(line, sizeof line, meminfo)) {
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            *total = (uint64_t) kb * 1024;
        else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            *available = (uint64_t) kb * 1024;
    }
    fclose(meminfo);
}

void
corral_os_metrics_sample(Corral__V1__OsMetrics *os, double cpu_quota)
{
    if (!*names.sysname)
        uname(&names);
    os->platform = strcmp(names.sysname, "Linux") == 0 ? "linux" : names.sysname;
    os->platform_release = names.release;
    double load[3] = { 0, 0, 0 };
    if (getloadavg(load, 3) == 3) {
        os->load_1m = load[0];
        os->load_5m = load[1];
        os->load_15m = load[2];
    }
    read_meminfo(&os->memory_total_bytes, &os->memory_free_bytes);
    os->memory_used_bytes = os->memory_total_bytes - os->memory_free_bytes;
    struct sysinfo info;
    if (sysinfo(&info) == 0)
        os->uptime_ms = (uint64_t) info.uptime * 1000;
    os->cpu_quota = cpu_quota;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    os->cpus = cpus > 0 ? (uint32_t) cpus : 1;
}
