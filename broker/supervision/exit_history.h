/* exit_history.h: what a worker slot remembers of its processes' exits:
 * the last one (for /api/stats), the recent unasked ones (the crash-loop
 * window), the failures in a row (the backoff), and how an exit reads in
 * a log line. The supervisor decides what to do with them. */
#ifndef CORRAL_EXIT_HISTORY_H
#define CORRAL_EXIT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "envelope.h"

#define CORRAL_EXITS_KEPT 16

typedef struct {
    int64_t exits_ms[CORRAL_EXITS_KEPT];    /* recent unasked exits, a ring */
    int kept, next;
    uint32_t failures;                      /* in a row, for the backoff */
    bool has_last;
    Corral__V1__WorkerExit last;
    char last_reason[16];
} corral_exit_history_t;

/* Keeps the exit of `pid` (wait status `status`) as the last one. */
void corral_exit_history_record(corral_exit_history_t *self, pid_t pid, int status,
                                const char *reason);
/* Adds an unasked exit at `now_ms`; returns how many fell within `window_ms`. */
int corral_exit_history_count(corral_exit_history_t *self, int64_t now_ms, uint64_t window_ms);
/* "exits 0.0s ago, 0.4s ago, ...": the unasked exits within the window. */
void corral_exit_history_recent(const corral_exit_history_t *self, int64_t now_ms,
                                uint64_t window_ms, char *out, size_t size);
/* The delay before the next restart after `failures` exits in a row:
 * initial, doubled per further failure up to max, less up to 20% at
 * random so that slots that failed together do not restart together. */
uint64_t corral_exit_history_backoff(const corral_exit_history_t *self, uint64_t initial_ms,
                                     uint64_t max_ms);

/* "exited with status 1", "was killed by signal 9 (SIGKILL)". */
void corral_exit_describe(int status, char *out, size_t size);
/* "60s" or "250ms". Returns out. */
const char *corral_duration_text(uint64_t ms, char *out, size_t size);

#endif
