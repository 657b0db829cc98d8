/* cpu_quota.c: how many CPUs this process may really use, for
 * `node.workers.count: auto`. It owns reading the affinity mask and the
 * cgroup CPU quota: /proc/self/cgroup names this process's cgroup,
 * /proc/self/mountinfo says where that hierarchy is mounted, and cpu.max
 * (v2) or cpu.cfs_quota_us / cpu.cfs_period_us (v1) in the cgroup and each
 * of its ancestors give the quota; the smallest one wins. Every path is
 * read under a `root` prefix so that tests can fake the whole tree. */
#include "cpu_quota.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where one cgroup hierarchy holds this process. */
typedef struct {
    char *cgroup_path;      /* from /proc/self/cgroup, e.g. "/docker/abc" */
    char *mount_point;      /* from mountinfo, e.g. "/sys/fs/cgroup/cpu" */
    char *mount_root;       /* the mounted subtree, e.g. "/" or "/docker/abc" */
} hierarchy_t;

typedef enum { CGROUP_V1, CGROUP_V2 } cgroup_version_t;

static bool find_cgroup_path(const char *root, cgroup_version_t version,
                             char **path);
static bool find_mount(const char *root, cgroup_version_t version,
                       char **mount_point, char **mount_root);
static double hierarchy_quota(const char *root, cgroup_version_t version,
                              const hierarchy_t *hierarchy);
static double cgroup_dir_quota(const char *dir, cgroup_version_t version);
static bool read_line(const char *file, char *buffer, size_t size);
static bool parse_long(const char *text, long long *value);
static bool list_contains(const char *list, const char *item);
static void unescape_octal(char *text);
static char *join(const char *first, const char *second);
static void hierarchy_clear(hierarchy_t *hierarchy);


int
corral_cpu_affinity_count(void)
{
    for (int cpus = CPU_SETSIZE; cpus <= 1 << 20; cpus *= 2) {
        cpu_set_t *set = CPU_ALLOC(cpus);
        if (!set)
            break;
        size_t size = CPU_ALLOC_SIZE(cpus);
        CPU_ZERO_S(size, set);
        int rc = sched_getaffinity(0, size, set);
        int error = errno;
        int count = rc == 0 ? CPU_COUNT_S(size, set) : 0;
        CPU_FREE(set);
        if (rc == 0)
            return count > 0 ? count : 1;
        if (error != EINVAL)    /* EINVAL: the kernel's mask is bigger */
            break;
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 && online < INT_MAX ? (int) online : 1;
}

/* The cpu controller lives in exactly one hierarchy: v1 if a v1 hierarchy
 * has it (legacy and hybrid systems), else the unified v2 one. */
double
corral_cpu_quota(const char *root)
{
    static const cgroup_version_t versions[] = { CGROUP_V1, CGROUP_V2 };
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        hierarchy_t hierarchy = { 0 };
        if (find_cgroup_path(root, versions[i], &hierarchy.cgroup_path)
            && find_mount(root, versions[i], &hierarchy.mount_point,
                          &hierarchy.mount_root)) {
            double quota = hierarchy_quota(root, versions[i], &hierarchy);
            hierarchy_clear(&hierarchy);
            return quota;
        }
        hierarchy_clear(&hierarchy);
    }
    return 0;
}

int
corral_cpu_auto_count(int affinity, double quota)
{
    if (affinity < 1)
        affinity = 1;
    if (quota > 0 && quota < affinity) {
        int whole = (int) quota;    /* floor, as quota is positive */
        return whole > 1 ? whole : 1;
    }
    return affinity;
}


static FILE *
open_under(const char *root, const char *path)
{
    char *file = join(root, path);
    FILE *stream = file ? fopen(file, "r") : NULL;
    free(file);
    return stream;
}

/* The cgroup path from ROOT/proc/self/cgroup: the "0::/path" line for v2,
 * the "N:...cpu...:/path" line for v1. */
static bool
find_cgroup_path(const char *root, cgroup_version_t version, char **path)
{
    FILE *stream = open_under(root, "/proc/self/cgroup");
    if (!stream)
        return false;

    char *line = NULL;
    size_t size = 0;
    while (!*path && getline(&line, &size, stream) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *controllers = strchr(line, ':');
        char *cgroup = controllers ? strchr(controllers + 1, ':') : NULL;
        if (!cgroup)
            continue;
        *controllers++ = '\0';
        *cgroup++ = '\0';
        bool wanted = version == CGROUP_V2
                    ? strcmp(line, "0") == 0 && *controllers == '\0'
                    : list_contains(controllers, "cpu");
        if (wanted)
            *path = strdup(cgroup);
    }
    free(line);
    fclose(stream);
    return *path != NULL;
}

/* The mount of that hierarchy from ROOT/proc/self/mountinfo:
 * "ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - TYPE SOURCE
 * SUPER-OPTIONS"; fstype cgroup2, or cgroup with "cpu" in its options. */
static bool
find_mount(const char *root, cgroup_version_t version, char **mount_point,
           char **mount_root)
{
    FILE *stream = open_under(root, "/proc/self/mountinfo");
    if (!stream)
        return false;

    char *line = NULL;
    size_t size = 0;
    while (!*mount_point && getline(&line, &size, stream) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *fields[6], *save = NULL, *token = strtok_r(line, " ", &save);
        int count = 0;
        for (; token && count < 6; token = strtok_r(NULL, " ", &save))
            fields[count++] = token;
        while (token && strcmp(token, "-") != 0)    /* optional fields */
            token = strtok_r(NULL, " ", &save);
        char *type = token ? strtok_r(NULL, " ", &save) : NULL;
        char *source = type ? strtok_r(NULL, " ", &save) : NULL;
        char *options = source ? strtok_r(NULL, " ", &save) : NULL;
        if (count < 6 || !options)
            continue;
        bool wanted = version == CGROUP_V2
                    ? strcmp(type, "cgroup2") == 0
                    : strcmp(type, "cgroup") == 0 && list_contains(options, "cpu");
        if (wanted) {
            unescape_octal(fields[3]);
            unescape_octal(fields[4]);
            *mount_root = strdup(fields[3]);
            *mount_point = strdup(fields[4]);
        }
    }
    free(line);
    fclose(stream);
    return *mount_point && *mount_root;
}

/* The smallest quota of the cgroup and its ancestors up to the mount. A
 * mount of a subtree (root "/docker/abc") holds the cgroup at the path
 * minus that prefix. */
static double
hierarchy_quota(const char *root, cgroup_version_t version,
                const hierarchy_t *hierarchy)
{
    const char *relative = hierarchy->cgroup_path;
    size_t prefix = strlen(hierarchy->mount_root);
    if (strcmp(hierarchy->mount_root, "/") != 0
        && strncmp(relative, hierarchy->mount_root, prefix) == 0
        && (relative[prefix] == '/' || relative[prefix] == '\0'))
        relative += prefix;

    char *mount = join(root, hierarchy->mount_point);
    char *dir = mount ? join(mount, relative) : NULL;
    double smallest = 0;
    for (size_t mount_length = mount ? strlen(mount) : 0; dir;) {
        double quota = cgroup_dir_quota(dir, version);
        if (quota > 0 && (smallest == 0 || quota < smallest))
            smallest = quota;
        if (strlen(dir) <= mount_length)
            break;
        char *slash = strrchr(dir, '/');    /* up to the parent */
        slash[slash == dir ? 1 : 0] = '\0';
    }
    free(dir);
    free(mount);
    return smallest;
}

/* One cgroup's own quota in CPUs, or 0: none, or its files are missing. */
static double
cgroup_dir_quota(const char *dir, cgroup_version_t version)
{
    char line[128];
    long long quota, period;
    char *file;

    if (version == CGROUP_V2) {
        /* cpu.max: "max 100000" or "150000 100000". */
        file = join(dir, "/cpu.max");
        bool read = file && read_line(file, line, sizeof line);
        free(file);
        char *space = read ? strchr(line, ' ') : NULL;
        if (!space)
            return 0;
        *space = '\0';
        if (!parse_long(line, &quota) || !parse_long(space + 1, &period))
            return 0;
    }
    else {
        file = join(dir, "/cpu.cfs_quota_us");
        bool read = file && read_line(file, line, sizeof line)
                  && parse_long(line, &quota);
        free(file);
        if (!read)
            return 0;
        file = join(dir, "/cpu.cfs_period_us");
        read = file && read_line(file, line, sizeof line)
             && parse_long(line, &period);
        free(file);
        if (!read)
            return 0;
    }
    return quota > 0 && period > 0 ? (double) quota / (double) period : 0;
}

/* The first line of a small file, without its newline. */
static bool
read_line(const char *file, char *buffer, size_t size)
{
    FILE *stream = fopen(file, "r");
    if (!stream)
        return false;
    bool read = fgets(buffer, (int) size, stream) != NULL;
    fclose(stream);
    if (read)
        buffer[strcspn(buffer, "\n")] = '\0';
    return read;
}

/* A decimal integer, optionally negative, and nothing else. */
static bool
parse_long(const char *text, long long *value)
{
    char *end;
    if (!*text || (*text != '-' && (*text < '0' || *text > '9')))
        return false;
    errno = 0;
    *value = strtoll(text, &end, 10);
    return errno == 0 && *end == '\0';
}

/* Whether a comma-separated list holds `item`: "cpu,cpuacct" has "cpu". */
static bool
list_contains(const char *list, const char *item)
{
    size_t length = strlen(item);
    for (const char *at = list; *at;) {
        size_t size = strcspn(at, ",");
        if (size == length && strncmp(at, item, length) == 0)
            return true;
        at += size;
        if (*at == ',')
            at++;
    }
    return false;
}

/* mountinfo writes space, tab, newline and backslash as \040 and such. */
static void
unescape_octal(char *text)
{
    char *out = text;
    for (const char *in = text; *in; out++) {
        if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3'
            && in[2] >= '0' && in[2] <= '7' && in[3] >= '0' && in[3] <= '7') {
            *out = (char) ((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
            in += 4;
        }
        else
            *out = *in++;
    }
    *out = '\0';
}

/* first + "/" + second, with exactly one slash between them: join("/",
 * "/proc/self/cgroup") is "/proc/self/cgroup"; join("/a", "/") is "/a". */
static char *
join(const char *first, const char *second)
{
    size_t length = strlen(first);
    while (length > 0 && first[length - 1] == '/')
        length--;
    while (*second == '/')
        second++;
    char *path = NULL;
    if (!*second)
        path = length ? strndup(first, length) : strdup("/");
    else if (asprintf(&path, "%.*s/%s", (int) length, first, second) < 0)
        path = NULL;
    return path;
}

static void
hierarchy_clear(hierarchy_t *hierarchy)
{
    free(hierarchy->cgroup_path);
    free(hierarchy->mount_point);
    free(hierarchy->mount_root);
    *hierarchy = (hierarchy_t) { 0 };
}
