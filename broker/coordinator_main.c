/* coordinator_main.c: the instance waiting on its main worker
 * (docs/worker-protocol.md, section 5a). Workers built on libcorral hold
 * themselves back (503, not ready) until the main worker broadcasts
 * migration-complete; a main worker of another language that does not
 * leaves them starting forever. So once a second, while that broadcast is
 * not in the bus's persisted store and some worker speaking the protocol
 * (not the main one) is still starting: after MAIN_WAIT_WARN_MS it says at
 * warn who is waited on, for what and since when (again every 10 s); past
 * node.reload.ready_timeout before the instance was ever ready, the main
 * worker is taken as failing to become ready and the instance stops, as a
 * worker that cannot start stops it. (Later, a reload's own ready_timeout
 * rolls back a generation that never becomes ready.) */
#include "coordinator_private.h"

#include <stdio.h>
#include <time.h>

#include "log.h"

#define LOGGER "coordinator"
#define MAIN_WAIT_CHECK_MS 1000
#define MAIN_WAIT_WARN_MS 5000
#define MAIN_WAIT_LOG_INTERVAL_MS 10000

/* Workers that speak the protocol, are not main and are still starting:
 * how many, and the first one's name. */
static int
held_back(corral_coordinator_t *self, const char **first)
{
    int count = 0;
    for (int id = 1; id <= self->slot_count; id++) {
        corral_process_t *process = corral_supervisor_current(self->supervisor, id);
        slot_t *slot = corral_coordinator_slot(self, (uint32_t) id);
        if (!process || !slot || slot->spec.type->plain || corral_process_main(process)
            || !corral_process_starting(process))
            continue;
        if (count++ == 0)
            *first = corral_process_name(process);
    }
    return count;
}

static void
say_since(int64_t since_unix_ms, char *out, size_t size)
{
    time_t seconds = (time_t) (since_unix_ms / 1000);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    strftime(out, size, "%H:%M:%S UTC", &tm);
}

static int
check_main(zloop_t *loop, int timer_id, void *arg)
{
    corral_coordinator_t *self = arg;
    const char *first = NULL;
    corral_process_t *main = corral_supervisor_main(self->supervisor);
    int held = self->stopping || !self->bus
        || corral_bus_has_persisted(self->bus, "migrations", "migration-complete")
        ? 0 : held_back(self, &first);
    if (held == 0 || !main) {
        self->main_wait_since = 0;
        return 0;
    }
    int64_t now = zclock_mono();
    if (!self->main_wait_since) {
        self->main_wait_since = now;
        self->main_wait_since_unix = zclock_time();
        self->main_wait_logged = 0;
        return 0;
    }
    int64_t waited = now - self->main_wait_since;
    uint64_t bound = self->config->node.reload.ready_timeout_ms;
    char since[32];
    say_since(self->main_wait_since_unix, since, sizeof since);
    if (!corral_supervisor_booted(self->supervisor) && waited >= (int64_t) bound) {
        char why[256];
        snprintf(why, sizeof why, "the main worker %s (pid %d) did not broadcast "
                 "migration-complete within %llu ms (node.reload.ready_timeout): it failed to "
                 "become ready", corral_process_name(main), (int) corral_process_pid(main),
                 (unsigned long long) bound);
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "%s; %d worker%s waited for it since %s",
                   why, held, held == 1 ? "" : "s", since);
        corral_coordinator_begin_stop(self, 1, why);
        return 0;
    }
    if (waited >= MAIN_WAIT_WARN_MS
        && (!self->main_wait_logged || now - self->main_wait_logged >= MAIN_WAIT_LOG_INTERVAL_MS)) {
        self->main_wait_logged = now;
        corral_log(CORRAL_LEVEL_WARN, LOGGER, "waiting for the main worker %s (pid %d) to "
                   "broadcast migration-complete (docs/worker-protocol.md, section 5a) since "
                   "%s (%lld s): %s%s %s held back until it does", corral_process_name(main),
                   (int) corral_process_pid(main), since, (long long) (waited / 1000), first,
                   held > 1 ? " and others" : "", held > 1 ? "are" : "is");
    }
    return 0;
}

int
corral_coordinator_watch_main(corral_coordinator_t *self)
{
    return zloop_timer(self->loop, MAIN_WAIT_CHECK_MS, 0, check_main, self) < 0 ? -1 : 0;
}
