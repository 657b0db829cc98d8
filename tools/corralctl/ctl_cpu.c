/* ctl_cpu.c: CPU time from /proc/PID/stat (corral_process_metrics_of)
 * against the monotonic clock, remembered per PID. */
#include "ctl_cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "process_metrics.h"

typedef struct {
    pid_t pid;
    double cpu_s;
    double at_s;
} sample_t;

struct ctl_cpu {
    sample_t *samples;
    size_t count, capacity;
};

ctl_cpu_t *
ctl_cpu_new(void)
{
    return calloc(1, sizeof(ctl_cpu_t));
}

void
ctl_cpu_destroy(ctl_cpu_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->samples);
    free(*self_p);
    *self_p = NULL;
}

static sample_t *
sample_of(ctl_cpu_t *self, pid_t pid)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->samples[i].pid == pid)
            return &self->samples[i];
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 16;
        sample_t *grown = realloc(self->samples, capacity * sizeof *grown);
        if (!grown)
            return NULL;
        self->samples = grown;
        self->capacity = capacity;
    }
    sample_t *sample = &self->samples[self->count++];
    *sample = (sample_t) { .pid = pid, .at_s = -1 };
    return sample;
}

double
ctl_cpu_percent(ctl_cpu_t *self, pid_t pid)
{
    uint64_t rss;
    double cpu_s;
    sample_t *sample = pid > 0 ? sample_of(self, pid) : NULL;
    if (!sample || corral_process_metrics_of(pid, &rss, &cpu_s) != 0)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double at_s = (double) now.tv_sec + (double) now.tv_nsec / 1e9;
    double percent = -1;
    if (sample->at_s >= 0 && at_s > sample->at_s && cpu_s >= sample->cpu_s)
        percent = 100.0 * (cpu_s - sample->cpu_s) / (at_s - sample->at_s);
    sample->cpu_s = cpu_s;
    sample->at_s = at_s;
    return percent;
}
