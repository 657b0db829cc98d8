/* worker_output.h: one worker process's stdout and stderr in the central
 * log: its output capture (output_capture.h) read from the coordinator's
 * loop, each line written through the log collector with the worker's
 * name as %worker, logger `stdout` or `stderr`. */
#ifndef CORRAL_WORKER_OUTPUT_H
#define CORRAL_WORKER_OUTPUT_H

#include <czmq.h>
#include <sys/types.h>

#include "log_collector.h"

typedef struct corral_worker_output corral_worker_output_t;

/* NULL with errno set. */
corral_worker_output_t *corral_worker_output_new(zloop_t *loop, corral_log_collector_t *logs,
                                                 int worker_id);
void corral_worker_output_destroy(corral_worker_output_t **self_p);

/* The write end for the child's fd 1 (stream 1) or 2 (stream 2). */
int corral_worker_output_child_fd(const corral_worker_output_t *self, int stream);
/* The child is `pid`: the write ends are closed here, the read ends polled. */
int corral_worker_output_started(corral_worker_output_t *self, pid_t pid);
/* It was reaped: everything it wrote is read and written now. */
void corral_worker_output_finish(corral_worker_output_t *self);

#endif
