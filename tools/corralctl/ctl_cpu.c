/* ctl_cpu.c: CPU time from /proc/PID/stat (utime + stime, in clock
 * ticks) against the monotonic clock, remembered per PID. */
#include "ctl_cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    pid_t pid;
    unsigned long long ticks;
    double at_s;
} sample_t;

struct ctl_cpu {
    sample_t *samples;
    size_t count, capacity;
    double ticks_per_s;
};

ctl_cpu_t *
ctl_cpu_new(void)
{
    ctl_cpu_t *self = calloc(1, sizeof *self);
    if (self) {
        long hz = sysconf(_SC_CLK_TCK);
        self->ticks_per_s = hz > 0 ? (double) hz : 100.0;
    }
    return self;
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

/* utime + stime of `pid`, fields 14 and 15 of /proc/PID/stat (after the
 * name in parentheses, which may hold spaces). */
static int
cpu_ticks(pid_t pid, unsigned long long *ticks)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen(path, "r");
    if (!file)
        return -1;
    size_t length = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[length] = '\0';
    const char *rest = strrchr(text, ')');
    unsigned long long user, system;
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (!rest || sscanf(rest + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                        &user, &system) != 2)
        return -1;
    *ticks = user + system;
    return 0;
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
    unsigned long long ticks;
    sample_t *sample = pid > 0 ? sample_of(self, pid) : NULL;
    if (!sample || cpu_ticks(pid, &ticks) != 0)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double at_s = (double) now.tv_sec + (double) now.tv_nsec / 1e9;
    double percent = -1;
    if (sample->at_s >= 0 && at_s > sample->at_s && ticks >= sample->ticks)
        percent = 100.0 * ((double) (ticks - sample->ticks) / self->ticks_per_s)
                / (at_s - sample->at_s);
    sample->ticks = ticks;
    sample->at_s = at_s;
    return percent;
}
