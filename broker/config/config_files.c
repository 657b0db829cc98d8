/* config_files.c: what corral would create or open at its start (path.data,
 * the PID file, the log files), checked without creating anything, for
 * `corral --check`. The start itself still reports what fails when it
 * really creates them; this check is what a dry run can know. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* Why `dir` could not be made with its parents (as corral_make_dirs would),
 * or NULL if it exists or could be: every existing part is a directory, and
 * the deepest one that exists is writable when something is missing. */
static const char *
not_creatable(const char *dir, char **where)
{
    char *path = strdup(dir);
    if (!path)
        return "out of memory";
    struct stat st;
    const char *why = NULL;
    /* the deepest part that exists */
    while (stat(path, &st) != 0) {
        if (errno != ENOENT) {
            why = strerror(errno);
            break;
        }
        char *slash = strrchr(path, '/');
        if (!slash || slash == path) {
            strcpy(path, "/");
            continue;
        }
        *slash = '\0';
    }
    bool missing = strcmp(path, dir) != 0;
    if (!why && !S_ISDIR(st.st_mode))
        why = strerror(ENOTDIR);
    else if (!why && missing && access(path, W_OK | X_OK) != 0)
        why = strerror(errno);
    if (why)
        *where = path;
    else
        free(path);
    return why;
}

/* A file corral opens for writing, creating it if missing: it is a writable
 * file, or its directory exists and is writable, or its directory is
 * `made` (created before the file is opened). Why not, in open(2)'s words. */
static const char *
not_writable(const char *file, const char *made)
{
    struct stat st;
    if (stat(file, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return strerror(EISDIR);
        return access(file, W_OK) == 0 ? NULL : strerror(errno);
    }
    if (errno != ENOENT)
        return strerror(errno);
    const char *slash = strrchr(file, '/');
    char *dir = slash == file ? strdup("/") : strndup(file, (size_t) (slash - file));
    if (!dir)
        return "out of memory";
    const char *why = NULL;
    if (made && strcmp(dir, made) == 0)
        ;
    else if (stat(dir, &st) != 0)
        why = strerror(errno);
    else if (!S_ISDIR(st.st_mode))
        why = strerror(ENOTDIR);
    else if (access(dir, W_OK | X_OK) != 0)
        why = strerror(errno);
    free(dir);
    return why;
}

/* "KEY: cannot create|open TARGET: [WHERE: ]why". */
static int
fail(const corral_config_t *self, const char *key, const char *verb, const char *target,
     const char *where, const char *why, char **error)
{
    if (!where || strcmp(where, target) == 0)
        *error = corral_config_error(self, key, "cannot %s %s: %s", verb, target, why);
    else
        *error = corral_config_error(self, key, "cannot %s %s: %s: %s", verb, target, where, why);
    return -1;
}

int
corral_config_check_files(const corral_config_t *self, char **error)
{
    char *where = NULL;
    const char *why = not_creatable(self->path.data, &where);
    int rc = 0;
    if (why)
        rc = fail(self, "path.data", "create", self->path.data, where, why, error);
    if (rc == 0 && self->pid.file) {
        const char *slash = strrchr(self->pid.file, '/');
        char *dir = strndup(self->pid.file, slash > self->pid.file
                                             ? (size_t) (slash - self->pid.file) : 1);
        why = !dir ? "out of memory" : not_creatable(dir, &where);
        if (why)
            rc = fail(self, "pid.file", "create", self->pid.file, where, why, error);
        free(dir);
    }
    const Corral__V1__LogConfig *logging = self->logging.config;
    for (size_t i = 0; rc == 0 && logging && i < logging->n_appenders; i++) {
        const Corral__V1__LogAppender *appender = logging->appenders[i];
        if (!appender->file_name || !*appender->file_name)
            continue;
        why = not_writable(appender->file_name, self->path.data);
        if (why) {
            char key[256];
            snprintf(key, sizeof key, "logging.appenders.%s.fileName", appender->name);
            rc = fail(self, key, "open", appender->file_name, NULL, why, error);
        }
    }
    free(where);
    return rc;
}
