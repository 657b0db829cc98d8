/* config_values.c: the configuration's values that are not YAML's own:
 * paths resolved against the configuration file's directory, sizes and
 * durations with their units. */
#include "config_values.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fsutil.h"

static void normalize_path(char *path);

/* ---- Paths ---------------------------------------------------------- */

/* The absolute directory of `file`: canonical if it exists (realpath),
 * else resolved lexically against the working directory. */
char *
corral_config_directory(const char *file)
{
    const char *slash = strrchr(file, '/');
    char *dir = slash == file ? strdup("/")
              : slash ? strndup(file, (size_t) (slash - file))
                      : strdup(".");
    if (!dir)
        return NULL;
    char *canonical = realpath(dir, NULL);
    if (canonical) {
        free(dir);
        return canonical;
    }
    if (dir[0] == '/')
        return dir;
    char *cwd = getcwd(NULL, 0);
    char *absolute = cwd ? corral_config_resolve_path(cwd, dir) : NULL;
    free(cwd);
    free(dir);
    return absolute;
}

/* `path` made absolute against `dir` and normalized lexically. */
char *
corral_config_resolve_path(const char *dir, const char *path)
{
    char *absolute = path[0] == '/' ? strdup(path)
                                    : corral_format("%s/%s", dir, path);
    if (absolute)
        normalize_path(absolute);
    return absolute;
}

/* Removes empty and "." segments and folds ".." in an absolute path, in
 * place: "/etc/corral/../x/./y/" becomes "/etc/x/y". */
static void
normalize_path(char *path)
{
    size_t length = 0;      /* of the output, which never overtakes input */
    const char *in = path;
    while (*in) {
        while (*in == '/')
            in++;
        const char *segment = in;
        while (*in && *in != '/')
            in++;
        size_t size = (size_t) (in - segment);
        if (size == 0 || (size == 1 && segment[0] == '.'))
            continue;
        if (size == 2 && segment[0] == '.' && segment[1] == '.') {
            while (length > 0 && path[length - 1] != '/')
                length--;
            if (length > 0)
                length--;
            continue;
        }
        path[length++] = '/';
        memmove(path + length, segment, size);
        length += size;
    }
    if (length == 0)
        path[length++] = '/';
    path[length] = '\0';
}

/* ---- Sizes and durations -------------------------------------------- */

typedef struct {
    const char *suffix;
    uint64_t scale;
} unit_t;

static const unit_t size_units[] = {
    { "", 1 }, { "b", 1 }, { "kb", 1ULL << 10 }, { "mb", 1ULL << 20 },
    { "gb", 1ULL << 30 }, { NULL, 0 }
};
static const unit_t duration_units[] = {
    { "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 },
    { "h", 60 * 60 * 1000 }, { NULL, 0 }
};

/* Digits, then one of `units`' suffixes, and nothing else. */
static int
parse_scaled(const char *text, const unit_t *units, uint64_t *result)
{
    if (!text || *text < '0' || *text > '9')
        return -1;
    uint64_t value = 0;
    const char *c = text;
    for (; *c >= '0' && *c <= '9'; c++) {
        unsigned digit = (unsigned) (*c - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    for (const unit_t *unit = units; unit->suffix; unit++)
        if (strcmp(c, unit->suffix) == 0) {
            if (value > UINT64_MAX / unit->scale)
                return -1;
            *result = value * unit->scale;
            return 0;
        }
    return -1;
}

int
corral_parse_size(const char *text, uint64_t *bytes)
{
    return parse_scaled(text, size_units, bytes);
}

int
corral_parse_duration(const char *text, uint64_t *ms)
{
    return parse_scaled(text, duration_units, ms);
}
