/* runtime_dir.c: creating, locking, cleaning and removing the runtime
 * directory. */
#include "runtime_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

#define IPC_PATH_MAX 100    /* sun_path is 108 bytes; leave room for "/desk" etc. */
#define LOCK_FILE "lock"

struct corral_runtime_dir {
    char *path;
    int lock_fd;
};

/* A directory of ours, mode 0700, not a symlink: created, or checked. */
static int
private_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (lstat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

/* <base>/corral for the first usable base. */
static char *
parent_dir(void)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    char *candidates[3] = {
        xdg && *xdg ? corral_format("%s/corral", xdg) : NULL,
        getuid() == 0 ? strdup("/run/corral") : NULL,
        corral_format("/tmp/corral-%u", (unsigned) getuid()),
    };
    char *found = NULL;
    for (size_t i = 0; i < 3; i++) {
        if (!found && candidates[i] && strlen(candidates[i]) + 38 < IPC_PATH_MAX
            && private_dir(candidates[i]) == 0)
            found = candidates[i];
        else
            free(candidates[i]);
    }
    return found;
}

/* Not recursive: the directory only ever holds socket files and the
 * lock; `keep` (may be NULL) stays. */
static void
remove_entries(const char *path, const char *keep)
{
    DIR *dir = opendir(path);
    if (!dir)
        return;
    struct dirent *entry;
    while ((entry = readdir(dir)))
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0
            && !(keep && strcmp(entry->d_name, keep) == 0))
            unlinkat(dirfd(dir), entry->d_name, 0);
    closedir(dir);
}

/* Takes the lock of directory `path`: its fd, or -1 (errno EWOULDBLOCK:
 * a live instance holds it). */
static int
take_lock(const char *path)
{
    char *file = corral_format("%s/" LOCK_FILE, path);
    int fd = file ? open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
    free(file);
    if (fd >= 0)
        fchmod(fd, 0600);       /* whatever the umask */
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Other instances' directories nobody holds: left by a killed instance. */
static void
clean_stale_siblings(const char *parent, const char *own_name)
{
    DIR *dir = opendir(parent);
    if (!dir)
        return;
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        if (entry->d_name[0] == '.' || strcmp(entry->d_name, own_name) == 0
            || entry->d_type != DT_DIR)
            continue;
        char *path = corral_format("%s/%s", parent, entry->d_name);
        int fd = path ? take_lock(path) : -1;
        if (fd >= 0) {
            remove_entries(path, NULL);
            rmdir(path);
            close(fd);
        }
        free(path);
    }
    closedir(dir);
}

/* Held while a directory is made and locked, and while stale ones are
 * cleaned: another instance starting beside us never sees our directory
 * before its lock is taken. Returns the fd (close it), or -1. */
static int
lock_parent(const char *parent)
{
    char *file = corral_format("%s/.lock", parent);
    int fd = file ? open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
    free(file);
    if (fd >= 0)
        fchmod(fd, 0600);
    if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* A live coordinator started by SIGUSR2 for the same instance holds
 * <uuid>.<pid> (upgrade.h): a fresh start beside it is refused as beside
 * <uuid>. */
static bool
held_by_successor(const char *parent, const char *uuid)
{
    DIR *dir = opendir(parent);
    if (!dir)
        return false;
    size_t length = strlen(uuid);
    bool held = false;
    struct dirent *entry;
    while (!held && (entry = readdir(dir))) {
        if (strncmp(entry->d_name, uuid, length) != 0 || entry->d_name[length] != '.')
            continue;
        char *path = corral_format("%s/%s", parent, entry->d_name);
        int fd = path ? take_lock(path) : -1;
        held = fd < 0 && errno == EWOULDBLOCK;
        if (fd >= 0)
            close(fd);
        free(path);
    }
    closedir(dir);
    return held;
}

static corral_runtime_dir_t *make_locked(const char *parent, const char *uuid, char **error);

corral_runtime_dir_t *
corral_runtime_dir_new(const char *uuid, char **error)
{
    char *parent = parent_dir();
    if (!parent) {
        *error = corral_format("cannot create a private runtime directory under "
                               "$XDG_RUNTIME_DIR, /run or /tmp: %s", strerror(errno));
        return NULL;
    }
    int parent_lock = lock_parent(parent);
    corral_runtime_dir_t *self = make_locked(parent, uuid, error);
    if (parent_lock >= 0)
        close(parent_lock);
    free(parent);
    return self;
}

static corral_runtime_dir_t *
make_locked(const char *parent, const char *uuid, char **error)
{
    corral_runtime_dir_t *self = calloc(1, sizeof *self);
    if (self) {
        self->lock_fd = -1;
        self->path = corral_format("%s/%s", parent, uuid);
    }
    if (!self || !self->path) {
        *error = strdup("out of memory");
        goto failed;
    }
    if (private_dir(self->path) != 0) {
        *error = corral_format("cannot create runtime directory %s: %s", self->path,
                               strerror(errno));
        free(self->path);
        self->path = NULL;      /* not ours to remove */
        goto failed;
    }
    self->lock_fd = take_lock(self->path);
    if (self->lock_fd < 0) {
        *error = errno == EWOULDBLOCK
            ? corral_format("runtime directory %s is held by a running instance with the "
                            "same instance UUID (the same path.data?)", self->path)
            : corral_format("cannot lock runtime directory %s: %s", self->path,
                            strerror(errno));
        free(self->path);
        self->path = NULL;      /* not ours to remove */
        goto failed;
    }
    if (!strchr(uuid, '.') && held_by_successor(parent, uuid)) {
        *error = corral_format("runtime directory %s.* is held by a running instance with the "
                               "same instance UUID (a coordinator started by SIGUSR2)",
                               self->path);
        goto failed;
    }
    remove_entries(self->path, LOCK_FILE);  /* a killed instance's sockets */
    clean_stale_siblings(parent, uuid);
    return self;
failed:
    corral_runtime_dir_destroy(&self);
    return NULL;
}

void
corral_runtime_dir_destroy(corral_runtime_dir_t **self_p)
{
    corral_runtime_dir_t *self = *self_p;
    if (!self)
        return;
    if (self->path) {
        remove_entries(self->path, NULL);
        rmdir(self->path);
    }
    if (self->lock_fd >= 0)
        close(self->lock_fd);
    free(self->path);
    free(self);
    *self_p = NULL;
}

const char *
corral_runtime_dir_path(const corral_runtime_dir_t *self)
{
    return self->path;
}
