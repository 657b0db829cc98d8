/* pidfile.c: acquiring, holding and removing the PID file. */
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

struct corral_pidfile {
    char *path;
    int fd;
};

static pid_t
read_pid(int fd)
{
    char text[32] = "";
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    char *end;
    long pid = strtol(text, &end, 10);
    return pid > 0 && (*end == '\n' || *end == '\0') ? (pid_t) pid : 0;
}

/* The PID file may sit in a directory another user can write (a shared
 * data directory, /tmp): what is at `path` must be our own regular file
 * with no other name, never a symbolic link (O_NOFOLLOW), a hard link to
 * someone else's file or a FIFO (O_NONBLOCK, then the checks). */
static int
open_safely(const char *path, char **error)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (fd < 0 && errno == ELOOP) {
        *error = corral_format("PID file %s is a symbolic link: refusing to follow it", path);
        return -1;
    }
    if (fd < 0) {
        *error = corral_format("cannot open PID file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat status;
    if (fstat(fd, &status) != 0 || !S_ISREG(status.st_mode) || status.st_nlink != 1
        || status.st_uid != geteuid()) {
        *error = corral_format("PID file %s is not a regular file of this user with one "
                               "name: refusing to use it", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* Opens and locks the file that is at `path` now: a holder that removed it
 * between our open and our lock leaves us with a lock on a dead inode. */
static int
open_locked(const char *path, char **error)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        int fd = open_safely(path, error);
        if (fd < 0)
            return -1;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int saved = errno;
            pid_t holder = read_pid(fd);
            close(fd);
            if (saved == EWOULDBLOCK)
                *error = corral_format("PID file %s is held by running process %d: "
                                       "is corral already running?", path, (int) holder);
            else
                *error = corral_format("cannot lock PID file %s: %s", path, strerror(saved));
            return -1;
        }
        struct stat opened, named;
        if (fstat(fd, &opened) == 0 && lstat(path, &named) == 0
            && opened.st_ino == named.st_ino && opened.st_dev == named.st_dev)
            return fd;
        close(fd);
    }
    *error = corral_format("PID file %s keeps changing under us", path);
    return -1;
}

/* Our PID, in place of what the file holds. */
static int
write_own_pid(int fd)
{
    char text[32];
    int length = snprintf(text, sizeof text, "%d\n", (int) getpid());
    return ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t) length, 0) == length ? 0 : -1;
}

static corral_pidfile_t *
holding(const char *path, int fd)
{
    corral_pidfile_t *self = calloc(1, sizeof *self);
    if (self) {
        self->path = strdup(path);
        self->fd = fd;
    }
    return self;
}

corral_pidfile_t *
corral_pidfile_acquire(const char *path, pid_t *stale_pid, char **error)
{
    *stale_pid = 0;
    if (corral_make_parent_dirs(path) != 0) {
        *error = corral_format("cannot create the directory of PID file %s: %s",
                               path, strerror(errno));
        return NULL;
    }
    int fd = open_locked(path, error);
    if (fd < 0)
        return NULL;
    *stale_pid = read_pid(fd);
    if (write_own_pid(fd) != 0) {
        *error = corral_format("cannot write PID file %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    return holding(path, fd);
}

corral_pidfile_t *
corral_pidfile_adopt(const char *path, int fd, char **error)
{
    struct stat opened, named;
    if (fstat(fd, &opened) != 0 || lstat(path, &named) != 0 || opened.st_ino != named.st_ino
        || opened.st_dev != named.st_dev) {
        *error = corral_format("PID file %s is not the one the previous coordinator holds "
                               "(pid.file changed?)", path);
        return NULL;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return holding(path, fd);
}

int
corral_pidfile_fd(const corral_pidfile_t *self)
{
    return self->fd;
}

int
corral_pidfile_write_pid(corral_pidfile_t *self)
{
    return write_own_pid(self->fd);
}

void
corral_pidfile_forget(corral_pidfile_t **self_p)
{
    corral_pidfile_t *self = *self_p;
    if (!self)
        return;
    close(self->fd);
    free(self->path);
    free(self);
    *self_p = NULL;
}

void
corral_pidfile_release(corral_pidfile_t **self_p)
{
    if (*self_p)
        unlink((*self_p)->path);
    corral_pidfile_forget(self_p);
}

void
corral_pidfile_hand_over(corral_pidfile_t **self_p)
{
    corral_pidfile_t *self = *self_p;
    if (!self)
        return;
    int flags = fcntl(self->fd, F_GETFD);
    fcntl(self->fd, F_SETFD, flags & ~FD_CLOEXEC);
    free(self->path);
    free(self);
    *self_p = NULL;
}
