/* upgrade_exec.c: the new coordinator's launch (upgrade_exec.h, through
 * the one launcher, launch.h), and the memfd that carries the persisted bus
 * messages to it. */
#include "upgrade_exec.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "launch.h"
#include "launch_contract.h"

int
corral_upgrade_store_memfd(corral_bus_t *bus, uint64_t after_seq)
{
    size_t size = 0;
    uint8_t *packed = corral_bus_export(bus, after_seq, &size);
    int fd = packed ? memfd_create("corral-bus-store", MFD_CLOEXEC) : -1;
    size_t written = 0;
    while (fd >= 0 && written < size) {
        ssize_t n = write(fd, packed + written, size - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            fd = -1;
        }
        else
            written += (size_t) n;
    }
    free(packed);
    return fd;
}

pid_t
corral_upgrade_exec(const char *program, char *const *argv, corral_listener_t *listener,
                    int channel, int pidfile, int store)
{
    corral_launch_t *launch = corral_launch_new(program, argv);
    if (!launch)
        return -1;
    /* fds: the listening sockets from fd 3 on, then channel, PID file, store */
    int sockets = corral_listener_count(listener);
    int fd = CORRAL_LISTEN_FDS_START;
    for (int i = 1; i <= sockets; i++)
        corral_launch_place_fd(launch, corral_listener_fd(listener, i), fd++);
    int base = fd;
    corral_launch_place_fd(launch, channel, base);
    corral_launch_place_fd(launch, pidfile, base + 1);
    corral_launch_place_fd(launch, store, base + 2);
    corral_launch_listen_fds(launch, sockets);
    corral_launch_setenv(launch, CORRAL_ENV_UPGRADE, "%d,%d,%d,%d,%d", base,
                         pidfile < 0 ? -1 : base + 1, base + 2,
                         corral_listener_kept(listener), (int) getpid());
    corral_launch_keep_notify_socket(launch);   /* it becomes the main PID */
    pid_t pid = corral_launch_start(launch);
    int saved = errno;
    corral_launch_destroy(&launch);
    errno = saved;
    return pid;
}
