/* ctl_log_file.c: which file the instance logs to (from the `config`
 * answer's logging.appenders and logging.root.appenders) and its last
 * lines, read backwards from the end in blocks. */
#include "ctl_log_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 65536

static bool
is_file_appender(json_t *appender)
{
    const char *type = json_string_value(json_object_get(appender, "type"));
    return type && (strcmp(type, "file") == 0 || strcmp(type, "rolling-file") == 0)
           && json_string_value(json_object_get(appender, "fileName"));
}

/* The root logger's first file appender, else any file appender. */
static char *
log_file_of(json_t *config)
{
    json_t *logging = json_object_get(config, "logging");
    json_t *appenders = json_object_get(logging, "appenders");
    json_t *root = json_object_get(json_object_get(logging, "root"), "appenders");
    size_t i;
    json_t *name;
    json_array_foreach(root, i, name) {
        json_t *appender = json_object_get(appenders, json_string_value(name));
        if (json_string_value(name) && is_file_appender(appender))
            return strdup(json_string_value(json_object_get(appender, "fileName")));
    }
    const char *key;
    json_t *appender;
    json_object_foreach(appenders, key, appender)
        if (is_file_appender(appender))
            return strdup(json_string_value(json_object_get(appender, "fileName")));
    return NULL;
}

/* The offset where the last `lines` lines of `fd` begin. */
static off_t
start_of_last_lines(int fd, off_t size, long lines)
{
    char block[BLOCK];
    off_t end = size;
    long newlines = 0;
    /* a last line without its newline counts as a line too */
    char last;
    if (size > 0 && pread(fd, &last, 1, size - 1) == 1 && last == '\n')
        end = size - 1;
    while (end > 0) {
        off_t begin = end > BLOCK ? end - BLOCK : 0;
        ssize_t got = pread(fd, block, (size_t) (end - begin), begin);
        if (got <= 0)
            return 0;
        for (ssize_t i = got - 1; i >= 0; i--)
            if (block[i] == '\n' && ++newlines == lines)
                return begin + i + 1;
        end = begin;
    }
    return 0;
}

static int
print_tail(const char *path, long lines, FILE *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "corralctl: logs: cannot read %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return CTL_EXIT_UNHEALTHY;
    }
    off_t offset = lines > 0 ? start_of_last_lines(fd, st.st_size, lines) : st.st_size;
    char block[BLOCK];
    ssize_t got;
    while (offset < st.st_size
           && (got = pread(fd, block, sizeof block, offset)) > 0) {
        size_t wanted = (size_t) (st.st_size - offset) < (size_t) got
                      ? (size_t) (st.st_size - offset) : (size_t) got;
        fwrite(block, 1, wanted, out);
        offset += (off_t) wanted;
    }
    fflush(out);
    close(fd);
    return 0;
}

int
ctl_log_file_tail(ctl_instance_t *instance, long lines, FILE *out)
{
    corral_envelope_t *reply = ctl_instance_ask(instance, "config", NULL, 0);
    if (!reply)
        return CTL_EXIT_NO_INSTANCE;
    json_t *config = reply->tool_reply->ok && reply->tool_reply->json
                   ? json_loads(reply->tool_reply->json, 0, NULL) : NULL;
    corral_envelope_free(&reply);
    char *path = log_file_of(config);
    json_decref(config);
    if (!path) {
        fprintf(stderr, "corralctl: logs: the instance writes no log file (its appenders are "
                        "console ones: see its standard output, or follow with -f)\n");
        return CTL_EXIT_UNHEALTHY;
    }
    int exit_code = print_tail(path, lines, out);
    free(path);
    return exit_code;
}
