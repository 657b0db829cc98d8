/* atomic_file.c: write to <path>.tmp.<pid>, fsync, rename. The file is
 * private (0600, whatever the umask): it holds an instance's identity or its data. The
 * temporary name is predictable, so it is created afresh (O_EXCL) and
 * never through a symbolic link another user planted. */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int
corral_atomic_write(const char *path, const void *data, size_t length)
{
    char *temporary = NULL;
    if (asprintf(&temporary, "%s.tmp.%d", path, (int) getpid()) < 0)
        return -1;
    unlink(temporary);      /* a leftover of a process that had our pid */
    int fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = -1;
    if (fd >= 0) {
        rc = fchmod(fd, 0600) == 0 && write(fd, data, length) == (ssize_t) length && fsync(fd) == 0 ? 0 : -1;
        if (close(fd) != 0)
            rc = -1;
        if (rc == 0)
            rc = rename(temporary, path);
        int saved = errno;
        if (rc != 0)
            unlink(temporary);
        errno = saved;
    }
    free(temporary);
    return rc;
}
