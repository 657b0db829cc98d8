/* pidfile.c: acquiring, holding and removing the PID file.
 *
 * The lock belongs to the file's inode, so the file is rewritten in place,
 * never replaced by a rename; the new PID is written over the old one in
 * one pwrite(2) before the tail is cut, so that a reader never sees an
 * empty file, and a full disk cannot fail it (the block is already
 * there). */
#include "pidfile.h"

#include <errno.h>
#include <stdbool.h>
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
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
                  CORRAL_PIDFILE_MODE);
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
    fchmod(fd, CORRAL_PIDFILE_MODE);    /* whatever the umask */
    return fd;
}

/* Opens and locks the file that is at `path` now: a holder that removed it
 * between our open and our lock leaves us with a lock on a dead inode. */
static int
open_locked(const char *path, pid_t *running_pid, char **error)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        int fd = open_safely(path, error);
        if (fd < 0)
            return -1;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int saved = errno;
            pid_t holder = read_pid(fd);
            close(fd);
            if (saved == EWOULDBLOCK) {
                *running_pid = holder ? holder : -1;
                *error = corral_format("already running (pid %d): PID file %s is held",
                                       (int) holder, path);
            }
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

/* `pid`, in place of what the file holds (see the top). */
static int
write_pid(int fd, pid_t pid)
{
    char text[32];
    int length = snprintf(text, sizeof text, "%d\n", (int) pid);
    return pwrite(fd, text, (size_t) length, 0) == length && ftruncate(fd, length) == 0
        ? 0 : -1;
}

static int
write_own_pid(int fd)
{
    return write_pid(fd, getpid());
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
corral_pidfile_acquire(const char *path, pid_t *stale_pid, pid_t *running_pid, char **error)
{
    *stale_pid = 0;
    *running_pid = 0;
    if (corral_make_parent_dirs(path) != 0) {
        *error = corral_format("cannot create the directory of PID file %s: %s",
                               path, strerror(errno));
        return NULL;
    }
    int fd = open_locked(path, running_pid, error);
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

int
corral_pidfile_restore_pid(corral_pidfile_t *self, pid_t pid)
{
    return write_pid(self->fd, pid);
}

/* The file at our path is the one we hold, and names this process. */
static bool
still_ours(const corral_pidfile_t *self)
{
    struct stat opened, named;
    return fstat(self->fd, &opened) == 0 && lstat(self->path, &named) == 0
        && opened.st_ino == named.st_ino && opened.st_dev == named.st_dev
        && read_pid(self->fd) == getpid();
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
    if (*self_p && still_ours(*self_p))
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
