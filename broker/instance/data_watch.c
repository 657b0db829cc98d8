/* data_watch.c: checking path.data on a timer, logging the changes. */
#include "data_watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "log.h"

#define LOGGER "coordinator"

struct corral_data_watch {
    zloop_t *loop;
    char *path;
    int timer;
    Corral__V1__ServiceStatus status;
    char summary[256];
};

/* Why `path` cannot be written now, into `why`; false if it can. */
static bool
unwritable(const char *path, char *why, size_t size)
{
    struct statvfs fs;
    if (statvfs(path, &fs) != 0)
        snprintf(why, size, "%s: %s", path, strerror(errno));
    else if (fs.f_flag & ST_RDONLY)
        snprintf(why, size, "%s is on a read-only file system", path);
    else if (access(path, W_OK) != 0)
        snprintf(why, size, "%s is not writable: %s", path, strerror(errno));
    else if (fs.f_bavail == 0 || (fs.f_files && fs.f_favail == 0))
        snprintf(why, size, "%s is on a full file system", path);
    else
        return false;
    return true;
}

static void
check(corral_data_watch_t *self)
{
    char why[sizeof self->summary];
    bool problem = unwritable(self->path, why, sizeof why);
    bool had = self->status.level != CORRAL__V1__STATUS_LEVEL__STATUS_LEVEL_AVAILABLE;
    if (problem && (!had || strcmp(why, self->summary) != 0))
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "path.data: %s; the instance keeps serving, "
                   "but what it writes there (endpoints.json at an upgrade, the workers' "
                   "data) fails until it can be written again", why);
    else if (!problem && had)
        corral_log(CORRAL_LEVEL_INFO, LOGGER, "path.data: %s can be written again", self->path);
    if (problem) {
        self->status.level = CORRAL__V1__STATUS_LEVEL__STATUS_LEVEL_DEGRADED;
        snprintf(self->summary, sizeof self->summary, "%s", why);
    }
    else {
        self->status.level = CORRAL__V1__STATUS_LEVEL__STATUS_LEVEL_AVAILABLE;
        snprintf(self->summary, sizeof self->summary, "writable");
    }
}

static int
on_timer(zloop_t *loop, int timer_id, void *arg)
{
    check(arg);
    return 0;
}

corral_data_watch_t *
corral_data_watch_new(zloop_t *loop, const char *path, uint64_t interval_ms)
{
    corral_data_watch_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->path = strdup(path);
    self->status = (Corral__V1__ServiceStatus) CORRAL__V1__SERVICE_STATUS__INIT;
    self->status.name = "data";
    self->status.summary = self->summary;
    self->status.level = CORRAL__V1__STATUS_LEVEL__STATUS_LEVEL_AVAILABLE;
    snprintf(self->summary, sizeof self->summary, "writable");
    self->timer = self->path ? zloop_timer(loop, interval_ms ? interval_ms : 1000, 0, on_timer,
                                           self) : -1;
    if (self->timer < 0) {
        corral_data_watch_destroy(&self);
        return NULL;
    }
    check(self);
    return self;
}

void
corral_data_watch_destroy(corral_data_watch_t **self_p)
{
    corral_data_watch_t *self = *self_p;
    if (!self)
        return;
    if (self->timer >= 0)
        zloop_timer_end(self->loop, self->timer);
    free(self->path);
    free(self);
    *self_p = NULL;
}

const Corral__V1__ServiceStatus *
corral_data_watch_status(const corral_data_watch_t *self)
{
    return &self->status;
}
