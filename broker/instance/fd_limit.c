/* fd_limit.c: RLIMIT_NOFILE against the worker count. */
#include "fd_limit.h"

#include <sys/resource.h>

#include "fsutil.h"

#define FDS_PER_WORKER 7        /* desk, bus-in, bus-out, logs; its channel (balancing
                                 * shared: our end, its end, the counters) */
#define FDS_OWN 64              /* bound sockets, ZeroMQ's own, signalfd, log files, ... */

int
corral_fd_limit_raise(int workers, bool reuseport, char **error)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 0;               /* nothing known, nothing to judge */
    rlim_t needed = (rlim_t) workers * (FDS_PER_WORKER + (reuseport ? 1 : 0)) + FDS_OWN;
    /* an unlimited hard limit is capped by fs.nr_open: then what is needed */
    rlim_t targets[] = { limit.rlim_max, needed };
    for (int i = 0; i < 2 && limit.rlim_cur < needed; i++) {
        struct rlimit raised = { targets[i], limit.rlim_max };
        if (targets[i] > limit.rlim_cur && targets[i] <= limit.rlim_max
            && setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit = raised;
    }
    if (limit.rlim_cur >= needed)
        return 0;
    *error = corral_format("%d workers need about %llu file descriptors in the coordinator; "
                           "its limit is %llu (ulimit -n; raise the hard limit, e.g. "
                           "LimitNOFILE= in a systemd unit)", workers,
                           (unsigned long long) needed, (unsigned long long) limit.rlim_cur);
    return -1;
}
