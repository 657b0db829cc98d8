/* record.h: one log record, as layouts see it. Strings are borrowed from
 * whoever built the record (the caller of corral_log, or a decoded
 * LogBatch); they live as long as the call that receives the record. */
#ifndef CORRAL_RECORD_H
#define CORRAL_RECORD_H

#include <stdint.h>
#include <sys/types.h>

#include "level.h"

typedef struct {
    int64_t timestamp_ms;       /* Unix time in milliseconds */
    corral_level_t level;
    const char *logger;         /* "plugins.migrations" */
    const char *message;
    const char *meta;           /* a JSON object as text, or NULL */
    const char *error;          /* an error's description, or NULL */
    pid_t pid;
    int worker_id;              /* 0: the coordinator, or classic mode */
    const char *worker;         /* "worker-2", "coordinator", or NULL */
    uint64_t seq;               /* per worker; 0 when not sequenced */
} corral_log_record_t;

#endif
