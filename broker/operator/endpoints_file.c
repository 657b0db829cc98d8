/* endpoints_file.c: writing, removing and reading endpoints.json.
 *
 * Two coordinators of one instance live at once during a binary upgrade,
 * and both touch this file: the successor replaces it, the predecessor
 * removes it at exit if it still names itself. Reading the PID and
 * unlinking are two steps, so both sides take an exclusive flock(2) on
 * the data directory itself around their step: a predecessor never
 * removes a file the successor renamed into place between its read and
 * its unlink. (A lock on the directory creates no file.) */
#include "endpoints_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "fsutil.h"

#define FORMAT_VERSION 1

/* The exclusive lock on `data_dir`, or -1 (then the step runs unlocked:
 * a directory that cannot be opened cannot be written either). */
static int
lock_directory(const char *data_dir)
{
    int fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void
unlock_directory(int fd)
{
    if (fd >= 0)
        close(fd);      /* the lock goes with it */
}

static json_t *
remote_json(const corral_endpoints_t *endpoints)
{
    if (!endpoints->remote_desk)
        return json_null();
    return json_pack("{s:s, s:s, s:s, s:s}", "desk", endpoints->remote_desk,
                     "tap", endpoints->remote_tap, "bus-out", endpoints->remote_bus_out,
                     "server_public_key", endpoints->remote_public_key);
}

char *
corral_endpoints_file_write(const char *data_dir, const corral_endpoints_t *endpoints,
                            char **error)
{
    json_t *named = json_object();
    for (int i = 0; i < endpoints->count; i++)
        json_object_set_new(named, endpoints->names[i], json_string(endpoints->endpoints[i]));
    struct timeval now;
    gettimeofday(&now, NULL);
    json_t *document = json_pack(
        "{s:i, s:s, s:i, s:I, s:s, s:s, s:s, s:o, s:o}",
        "version", FORMAT_VERSION,
        "instance", endpoints->uuid,
        "pid", (int) getpid(),
        "started_unix_ms", (json_int_t) now.tv_sec * 1000 + now.tv_usec / 1000,
        "config", endpoints->config_file,
        "runtime_dir", endpoints->runtime_dir,
        "http", endpoints->http,
        "endpoints", named,
        "remote", remote_json(endpoints));
    char *text = document ? json_dumps(document, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(document);
    char *path = corral_format("%s/" CORRAL_ENDPOINTS_FILE, data_dir);
    if (!text || !path) {
        *error = strdup("out of memory");
        free(text);
        free(path);
        return NULL;
    }
    size_t length = strlen(text);
    text[length++] = '\n';      /* json_dumps leaves room: its NUL */
    int lock = lock_directory(data_dir);
    if (corral_atomic_write(path, text, length) != 0) {
        *error = corral_format("cannot write %s: %s", path, strerror(errno));
        free(path);
        path = NULL;
    }
    unlock_directory(lock);
    free(text);
    return path;
}

/* The PID the file at `path` names, or 0. */
static pid_t
named_pid(const char *path)
{
    json_t *document = json_load_file(path, 0, NULL);
    json_int_t pid = json_integer_value(json_object_get(document, "pid"));
    json_decref(document);
    return pid > 0 && pid <= INT32_MAX ? (pid_t) pid : 0;
}

int
corral_endpoints_file_remove(const char *path)
{
    char *data_dir = strdup(path);
    char *slash = data_dir ? strrchr(data_dir, '/') : NULL;
    if (slash)
        *slash = '\0';
    int lock = slash ? lock_directory(*data_dir ? data_dir : "/") : -1;
    int rc = named_pid(path) == getpid() ? unlink(path) : 0;
    int saved = errno;
    unlock_directory(lock);
    free(data_dir);
    errno = saved;
    return rc;
}

/* Whether the runtime directory's lock file is held (runtime_dir.c holds
 * it for the life of the instance). Opened read-only: nothing created. */
static bool
runtime_dir_held(const char *runtime_dir)
{
    char *lock_file = corral_format("%s/lock", runtime_dir);
    int fd = lock_file ? open(lock_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    free(lock_file);
    if (fd < 0)
        return false;
    bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return held;
}

pid_t
corral_endpoints_file_running(const char *data_dir)
{
    char *path = corral_format("%s/" CORRAL_ENDPOINTS_FILE, data_dir);
    json_t *document = path ? json_load_file(path, 0, NULL) : NULL;
    free(path);
    json_int_t pid = json_integer_value(json_object_get(document, "pid"));
    const char *runtime_dir = json_string_value(json_object_get(document, "runtime_dir"));
    bool running = pid > 0 && pid <= INT32_MAX && runtime_dir && runtime_dir_held(runtime_dir);
    json_decref(document);
    return running ? (pid_t) pid : 0;
}
