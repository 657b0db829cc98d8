/* oom_kills.c: the cgroup's OOM kill counter, and the kernel's record
 * when there is none (see oom_kills.h). */
#include "oom_kills.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"

struct corral_oom_kills {
    char *counter;              /* memory.events or memory.oom_control; NULL: none */
    char *kernel_log;           /* /dev/kmsg */
    uint64_t seen;              /* kills counted at the last look */
};

/* The `oom_kill N` line of a cgroup's counter file; -1 if unreadable. */
static int64_t
read_counter(const char *path)
{
    FILE *file = path ? fopen(path, "re") : NULL;
    if (!file)
        return -1;
    char line[128];
    int64_t count = -1;
    unsigned long long value;
    while (fgets(line, sizeof line, file))
        if (sscanf(line, "oom_kill %llu", &value) == 1)
            count = (int64_t) value;
    fclose(file);
    return count;
}

/* `root`/`middle``path`/`file` if it holds an oom_kill count. */
static char *
try_counter(const char *root, const char *middle, const char *path, const char *file)
{
    char *candidate = corral_format("%s%s%s%s%s", root, middle, path,
                                    strcmp(path, "/") == 0 ? "" : "/", file);
    if (candidate && read_counter(candidate) >= 0)
        return candidate;
    free(candidate);
    return NULL;
}

/* From /proc/self/cgroup: "0::/path" (v2), "N:memory,...:/path" (v1). */
static char *
find_counter(const char *proc_cgroup, const char *root)
{
    FILE *file = fopen(proc_cgroup, "re");
    if (!file)
        return NULL;
    char line[4096], *found = NULL;
    while (!found && fgets(line, sizeof line, file)) {
        line[strcspn(line, "\n")] = '\0';
        char *controllers = strchr(line, ':');
        char *path = controllers ? strchr(controllers + 1, ':') : NULL;
        if (!path)
            continue;
        *path++ = '\0';
        controllers++;
        if (!*controllers) {
            found = try_counter(root, "", path, "memory.events");
            if (!found)
                found = try_counter(root, "/unified", path, "memory.events");
        }
        else
            for (char *name = strtok(controllers, ","); name && !found; name = strtok(NULL, ","))
                if (strcmp(name, "memory") == 0)
                    found = try_counter(root, "/memory", path, "memory.oom_control");
    }
    fclose(file);
    return found;
}

corral_oom_kills_t *
corral_oom_kills_new(const char *proc_cgroup, const char *cgroup_root, const char *kernel_log)
{
    corral_oom_kills_t *self = calloc(1, sizeof *self);
    if (!self || !(self->kernel_log = strdup(kernel_log ? kernel_log : "/dev/kmsg"))) {
        free(self);
        return NULL;
    }
    self->counter = find_counter(proc_cgroup ? proc_cgroup : "/proc/self/cgroup",
                                 cgroup_root ? cgroup_root : "/sys/fs/cgroup");
    int64_t count = read_counter(self->counter);
    self->seen = count > 0 ? (uint64_t) count : 0;
    return self;
}

void
corral_oom_kills_destroy(corral_oom_kills_t **self_p)
{
    corral_oom_kills_t *self = *self_p;
    if (!self)
        return;
    free(self->counter);
    free(self->kernel_log);
    free(self);
    *self_p = NULL;
}

const char *
corral_oom_kills_counter(const corral_oom_kills_t *self)
{
    return self->counter;
}

/* The kernel's record: "Killed process PID (name) ..." or "oom-kill:...,
 * pid=PID,..." among the messages still in its ring buffer. */
static bool
kernel_recorded(const char *kernel_log, pid_t pid)
{
    int fd = open(kernel_log, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    char killed[48], field[48];
    snprintf(killed, sizeof killed, "Killed process %d (", (int) pid);
    snprintf(field, sizeof field, ",pid=%d,", (int) pid);
    char record[8192];
    bool found = false;
    ssize_t n;
    while (!found && ((n = read(fd, record, sizeof record - 1)) > 0 || (n < 0 && errno == EPIPE))) {
        if (n <= 0)
            continue;       /* EPIPE: records were overwritten meanwhile; read on */
        record[n] = '\0';
        found = strstr(record, killed) || strstr(record, field);
    }
    close(fd);
    return found;
}

bool
corral_oom_kills_took(corral_oom_kills_t *self, pid_t pid, int status)
{
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        return false;       /* the OOM killer sends SIGKILL, nothing else */
    if (!self->counter)
        return kernel_recorded(self->kernel_log, pid);
    int64_t count = read_counter(self->counter);
    if (count < 0 || (uint64_t) count <= self->seen)
        return false;
    self->seen++;           /* one kill explained; another SIGKILL may take the next */
    return true;
}
