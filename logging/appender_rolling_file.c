/* appender_rolling_file.c: the rolling-file appender. */
#include "appender_rolling_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appender_private.h"

typedef struct {
    corral_policy_t *policy;
    corral_strategy_t *strategy;
} rolling_t;

static void
rolling_free(void *state)
{
    rolling_t *self = state;
    corral_policy_destroy(&self->policy);
    corral_strategy_destroy(&self->strategy);
    free(self);
}

int
corral_appender_rolling_file_roll(corral_appender_t *self)
{
    rolling_t *rolling = self->state;
    corral_appender_flush(self);
    char *error = NULL;
    if (corral_strategy_roll(rolling->strategy) != 0) {
        dprintf(2, "[corral][ERROR][logging] appender %s: cannot roll %s: %s\n",
                self->name, self->file_name, strerror(errno));
        corral_policy_opened(rolling->policy);  /* try again after another interval */
        return -1;
    }
    if (corral_appender_open_file(self, &error) != 0) {
        dprintf(2, "[corral][ERROR][logging] appender %s: %s\n", self->name, error);
        free(error);
        return -1;
    }
    corral_policy_opened(rolling->policy);
    return 0;
}

static int
before_line(corral_appender_t *self, size_t line_length)
{
    rolling_t *rolling = self->state;
    if (!corral_policy_must_roll(rolling->policy, self->size, line_length))
        return 0;
    return corral_appender_rolling_file_roll(self);
}

static void
opened(corral_appender_t *self)
{
    rolling_t *rolling = self->state;
    corral_policy_opened(rolling->policy);
}

corral_appender_t *
corral_appender_rolling_file_new(const char *name, corral_layout_t *layout,
                                 const char *file_name, corral_policy_t *policy,
                                 corral_strategy_t *strategy, char **error)
{
    rolling_t *rolling = calloc(1, sizeof *rolling);
    if (!rolling) {
        corral_layout_destroy(&layout);
        corral_policy_destroy(&policy);
        corral_strategy_destroy(&strategy);
        *error = strdup("out of memory");
        return NULL;
    }
    *rolling = (rolling_t) { policy, strategy };
    corral_appender_t *self = corral_appender_new(name, layout, file_name, error);
    if (!self) {
        rolling_free(rolling);
        return NULL;
    }
    self->state = rolling;
    self->free_state = rolling_free;
    self->before_line = before_line;
    self->opened = opened;
    corral_policy_opened(policy);
    return self;
}
