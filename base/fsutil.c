/* fsutil.c: mkdir -p and a malloc'd printf, shared by the coordinator and libcorral. */
#include "fsutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
corral_make_dirs(const char *dir)
{
    char *path = strdup(dir);
    if (!path)
        return -1;
    int rc = 0;
    for (char *slash = path + 1; rc == 0; slash++) {
        bool last = *slash == '\0';
        if (*slash != '/' && !last)
            continue;
        *slash = '\0';
        if (mkdir(path, CORRAL_DIR_MODE) == 0)
            rc = chmod(path, CORRAL_DIR_MODE);      /* whatever the umask */
        else if (errno != EEXIST)
            rc = -1;
        if (last)
            break;
        *slash = '/';
    }
    free(path);
    return rc;
}

int
corral_make_parent_dirs(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    char *dir = strndup(path, (size_t) (slash - path));
    int rc = dir ? corral_make_dirs(dir) : -1;
    free(dir);
    return rc;
}

char *
corral_format(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *text = NULL;
    if (vasprintf(&text, format, args) < 0)
        text = NULL;
    va_end(args);
    return text;
}
