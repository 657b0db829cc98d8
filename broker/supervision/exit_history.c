/* exit_history.c: a worker slot's record of exits (exit_history.h). */
#include "exit_history.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "process_metrics.h"

#define JITTER_SHARE 0.2

void
corral_exit_history_record(corral_exit_history_t *self, pid_t pid, int status,
                           const char *reason)
{
    snprintf(self->last_reason, sizeof self->last_reason, "%s", reason);
    self->last = (Corral__V1__WorkerExit) CORRAL__V1__WORKER_EXIT__INIT;
    self->last.pid = (uint32_t) pid;
    self->last.signaled = WIFSIGNALED(status);
    self->last.code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    self->last.signal = WIFSIGNALED(status) ? (uint32_t) WTERMSIG(status) : 0;
    self->last.core_dumped = WIFSIGNALED(status) && WCOREDUMP(status);
    self->last.reason = self->last_reason;
    self->last.at_unix_ms = corral_unix_ms();
    self->has_last = true;
}

int
corral_exit_history_count(corral_exit_history_t *self, int64_t now_ms, uint64_t window_ms)
{
    self->exits_ms[self->next] = now_ms;
    self->next = (self->next + 1) % CORRAL_EXITS_KEPT;
    if (self->kept < CORRAL_EXITS_KEPT)
        self->kept++;
    int within = 0;
    for (int i = 0; i < self->kept; i++)
        within += now_ms - self->exits_ms[i] <= (int64_t) window_ms;
    return within;
}

void
corral_exit_history_recent(const corral_exit_history_t *self, int64_t now_ms,
                           uint64_t window_ms, char *out, size_t size)
{
    *out = '\0';
    for (int i = 0, k = self->next, shown = 0; i < self->kept; i++) {
        k = (k + CORRAL_EXITS_KEPT - 1) % CORRAL_EXITS_KEPT;     /* newest first */
        if (now_ms - self->exits_ms[k] > (int64_t) window_ms)
            continue;
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%.1fs ago", shown++ ? ", " : "exits ",
                 (double) (now_ms - self->exits_ms[k]) / 1000.0);
    }
}

uint64_t
corral_exit_history_backoff(const corral_exit_history_t *self, uint64_t initial_ms,
                            uint64_t max_ms)
{
    uint64_t delay = initial_ms;
    for (uint32_t i = 1; i < self->failures && delay < max_ms; i++)
        delay *= 2;
    if (delay > max_ms)
        delay = max_ms;
    return delay - (uint64_t) ((double) delay * JITTER_SHARE * ((double) random() / RAND_MAX));
}

void
corral_exit_describe(int status, char *out, size_t size)
{
    if (WIFEXITED(status))
        snprintf(out, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, size, "was killed by signal %d (SIG%s)%s", WTERMSIG(status),
                 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?",
                 WCOREDUMP(status) ? ", core dumped" : "");
    else
        snprintf(out, size, "changed state (%d)", status);
}

const char *
corral_duration_text(uint64_t ms, char *out, size_t size)
{
    if (ms >= 1000 && ms % 1000 == 0)
        snprintf(out, size, "%llus", (unsigned long long) (ms / 1000));
    else
        snprintf(out, size, "%llums", (unsigned long long) ms);
    return out;
}
