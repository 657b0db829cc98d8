/* strategy.c: the numeric rolling strategy. */
#include "strategy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct corral_strategy {
    char *file_name;
    char *prefix;       /* "/dir/corral" */
    char *extension;    /* ".log", or "" */
    char *before;       /* the pattern before %i: "-" */
    char *after;        /* after it */
    unsigned max;
};

void
corral_strategy_destroy(corral_strategy_t **self_p)
{
    corral_strategy_t *self = *self_p;
    if (!self)
        return;
    free(self->file_name);
    free(self->prefix);
    free(self->extension);
    free(self->before);
    free(self->after);
    free(self);
    *self_p = NULL;
}

corral_strategy_t *
corral_strategy_numeric_new(const char *file_name, const char *pattern, unsigned max,
                            char **error)
{
    *error = NULL;
    if (!pattern || !*pattern)
        pattern = CORRAL_STRATEGY_DEFAULT_PATTERN;
    const char *index = strstr(pattern, "%i");
    if (!index || strstr(index + 2, "%i") || strchr(pattern, '/')) {
        *error = strdup("pattern must contain %i once and no '/'");
        return NULL;
    }
    if (max < 1 || max > CORRAL_STRATEGY_MAX_FILES) {
        *error = strdup("max must be from 1 to 100");
        return NULL;
    }
    corral_strategy_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->max = max;
    const char *base = strrchr(file_name, '/');
    base = base ? base + 1 : file_name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        dot = base + strlen(base);
    self->file_name = strdup(file_name);
    self->prefix = strndup(file_name, (size_t) (dot - file_name));
    self->extension = strdup(dot);
    self->before = strndup(pattern, (size_t) (index - pattern));
    self->after = strdup(index + 2);
    if (!self->file_name || !self->prefix || !self->extension || !self->before || !self->after)
        corral_strategy_destroy(&self);
    if (!self)
        *error = strdup("out of memory");
    return self;
}

void
corral_strategy_rolled_name(const corral_strategy_t *self, unsigned index, char *out,
                            size_t size)
{
    snprintf(out, size, "%s%s%u%s%s", self->prefix, self->before, index, self->after,
             self->extension);
}

int
corral_strategy_roll(corral_strategy_t *self)
{
    char from[PATH_MAX], to[PATH_MAX];
    corral_strategy_rolled_name(self, self->max, to, sizeof to);
    if (unlink(to) != 0 && errno != ENOENT)
        return -1;
    for (unsigned i = self->max - 1; i >= 1; i--) {
        corral_strategy_rolled_name(self, i, from, sizeof from);
        corral_strategy_rolled_name(self, i + 1, to, sizeof to);
        if (rename(from, to) != 0 && errno != ENOENT)
            return -1;
    }
    corral_strategy_rolled_name(self, 1, to, sizeof to);
    return rename(self->file_name, to);
}
