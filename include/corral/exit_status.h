/* corral/exit_status.h: what a worker's exit status tells the coordinator
 * (docs/supervision.md): whether to replace it, and why it ended.
 *   0   stopped on request (SIGTERM or SIGINT), or after its work was done
 *   1   failed: a crash in all but name; replaced under on-failure
 *   12  out of memory (an allocation failed under node.workers.max_memory);
 *       replaced, reason `memory`
 *   65  a migration failed (EX_DATAERR): never replaced, the instance stops
 *   78  its configuration was refused (EX_CONFIG): never replaced, the
 *       instance stops; corral and corralctl exit 78 on a bad configuration
 *   127 it could not be started at all (exec failed, or the coordinator
 *       was already gone)
 * A program in any language exits with these; no symbol is needed. */
#ifndef CORRAL_EXIT_STATUS_H
#define CORRAL_EXIT_STATUS_H

#define CORRAL_WORKER_EXIT_FAILED 1
#define CORRAL_WORKER_EXIT_MEMORY 12
#define CORRAL_WORKER_EXIT_MIGRATION 65
#define CORRAL_WORKER_EXIT_CONFIG 78
#define CORRAL_WORKER_EXIT_NOT_STARTED 127

#endif
