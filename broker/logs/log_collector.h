/* log_collector.h: the coordinator's end of `logs`: a PULL socket that
 * takes every worker's LogBatch envelopes and writes their records to the
 * appenders, which only this process writes to (no interleaved lines, no
 * race when files roll). The coordinator's own records go to the same
 * appenders, as `coordinator`. It counts what it received, what workers
 * reported dropped (and any gap in a worker's seq), and write errors. */
#ifndef CORRAL_LOG_COLLECTOR_H
#define CORRAL_LOG_COLLECTOR_H

#include <czmq.h>
#include <stdint.h>
#include <sys/types.h>

#include "corral/v1/corral.pb-c.h"
#include "router.h"

typedef struct corral_log_collector corral_log_collector_t;

typedef struct {
    uint64_t received;          /* records from workers */
    uint64_t dropped;           /* records workers could not send, and gaps */
    uint64_t gaps;              /* of those, records missing between seqs */
    uint64_t write_errors;      /* failed writes to appenders, since the start */
    uint64_t lines_lost;        /* lines the appenders lost (writes, formatting), since the
                                 * start: a logging reload keeps the counts (log_losses.h) */
    uint64_t malformed;         /* frames that were not a LogBatch envelope */
    uint64_t oversized;         /* frames over CORRAL_MAX_FRAME_BYTES */
    uint64_t forged;            /* LogBatches without their worker's secret */
    uint64_t invalid;           /* a seq jump past the bound, too many records */
    uint64_t unwritten;         /* sent before a Bye, not written by the stop deadline */
} corral_log_counters_t;

/* Takes the router (its appenders); binds ipc://<runtime_dir>/logs and
 * becomes the process's log sink. NULL (logged) on failure. */
corral_log_collector_t *corral_log_collector_new(zloop_t *loop, const char *runtime_dir,
                                                 int worker_count,
                                                 corral_log_router_t *router);
/* Reads what is left, logs the counters, flushes, stops being the sink. */
void corral_log_collector_destroy(corral_log_collector_t **self_p);

/* A reload added slots up to `worker_count`. */
int corral_log_collector_grow(corral_log_collector_t *self, int worker_count);
const char *corral_log_collector_endpoint(const corral_log_collector_t *self);

/* Worker `worker_id` runs with `secret` from now on (its LogBatches must
 * carry it; anything else on logs is refused and counted as forged). */
void corral_log_collector_set_secret(corral_log_collector_t *self, int worker_id,
                                     const char *secret);

/* Reads `logs` until worker `worker_id`'s record `last_seq` was written
 * (its Bye said so), for at most timeout_ms; last_seq 0: reads only what
 * is there now. */
void corral_log_collector_drain_worker(corral_log_collector_t *self, int worker_id,
                                       uint64_t last_seq, int timeout_ms);

/* The instance stops: no drain reads past `deadline` (zclock_mono ms), so
 * node.shutdown_timeout bounds the whole stop; what a worker's Bye
 * announced and was not written by then is counted as unwritten. */
void corral_log_collector_set_deadline(corral_log_collector_t *self, int64_t deadline);

/* Worker `worker_id` said Bye after its record `last_seq`. */
void corral_log_collector_expect(corral_log_collector_t *self, int worker_id,
                                 uint64_t last_seq);

/* What the reader does with one frame from `logs`: the fuzz target's way in. */
void corral_log_collector_take_frame(corral_log_collector_t *self, const void *data,
                                     size_t size);
/* `fn` sees every record written (the workers' and the coordinator's own)
 * after the appenders (the tap); NULL: none. */
typedef void (corral_log_observer_fn)(const corral_log_record_t *record, void *arg);
void corral_log_collector_observe(corral_log_collector_t *self, corral_log_observer_fn *fn,
                                  void *arg);

/* A line worker `worker_id` (process `pid`) wrote on its stdout or stderr
 * (worker_output.h), as a record of `logger` "stdout" or "stderr". */
void corral_log_collector_write_output(corral_log_collector_t *self, int worker_id, pid_t pid,
                                       const char *logger, corral_level_t level,
                                       const char *message, const char *meta);

/* Worker `worker_id`'s records show `name` as %worker (default "worker-N"). */
void corral_log_collector_name_worker(corral_log_collector_t *self, int worker_id,
                                      const char *name);

/* SIGUSR1: reopens the files. */
void corral_log_collector_reopen(corral_log_collector_t *self);
/* Binary upgrade (upgrade.h): while another process writes the files,
 * records are held in memory (at most max_bytes; more are counted as
 * dropped); release reopens the files and writes what was held first. A
 * collector destroyed still holding writes what it held on stderr. */
void corral_log_collector_hold(corral_log_collector_t *self, size_t max_bytes);
void corral_log_collector_release(corral_log_collector_t *self);
/* SIGHUP: writes with `router` from now on (taken); the old one is
 * flushed and closed. */
void corral_log_collector_replace_router(corral_log_collector_t *self,
                                         corral_log_router_t *router);

/* For the cluster view: received, dropped (gaps and the appenders' lost
 * lines), gaps, and each appender's losses (pointing into this collector,
 * valid until the next call). */
void corral_log_collector_sample(corral_log_collector_t *self, Corral__V1__LogCounters *out);

/* Totals, and one worker's (1..worker_count) received and dropped. */
void corral_log_collector_counters(const corral_log_collector_t *self,
                                   corral_log_counters_t *out);
void corral_log_collector_worker_counters(const corral_log_collector_t *self, int worker_id,
                                          corral_log_counters_t *out);

#endif
