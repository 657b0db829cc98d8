/* fd_limit.h: enough file descriptors for the coordinator's worker count.
 * Each worker holds four connections open in the coordinator (desk,
 * bus-in, bus-out, logs), five with `balancing: reuseport` (its listening
 * socket); the default soft limit (1024) runs out at about 250 workers. */
#ifndef CORRAL_FD_LIMIT_H
#define CORRAL_FD_LIMIT_H

#include <stdbool.h>

/* Raises the soft RLIMIT_NOFILE to the hard one (workers inherit it).
 * Returns 0, or -1 with `error` set (free it) when even the hard limit is
 * short of what `workers` workers need. */
int corral_fd_limit_raise(int workers, bool reuseport, char **error);

#endif
