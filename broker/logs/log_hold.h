/* log_hold.h: log records held in memory while another process writes the
 * log files (a successor during a binary upgrade, upgrade.h): copies, in
 * arrival order, bounded in bytes; what does not fit is counted, never
 * written out of order. */
#ifndef CORRAL_LOG_HOLD_H
#define CORRAL_LOG_HOLD_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "router.h"

typedef struct corral_log_hold corral_log_hold_t;

/* Holds at most `max_bytes` of records. NULL when out of memory. */
corral_log_hold_t *corral_log_hold_new(size_t max_bytes);
/* Frees what is still held (replay it first). */
void corral_log_hold_destroy(corral_log_hold_t **self_p);

/* Keeps a copy of `record`; past the bound, counts it as dropped. */
void corral_log_hold_push(corral_log_hold_t *self, const corral_log_record_t *record);
/* Writes what is held to `router`, oldest first, and forgets it. */
void corral_log_hold_replay(corral_log_hold_t *self, corral_log_router_t *router);
/* Writes what is held as lines on file descriptor `fd` (the process's
 * stderr: the log files are not this process's to write), and forgets it. */
void corral_log_hold_spill(corral_log_hold_t *self, int fd);

uint64_t corral_log_hold_count(const corral_log_hold_t *self);
uint64_t corral_log_hold_dropped(const corral_log_hold_t *self);

#endif
