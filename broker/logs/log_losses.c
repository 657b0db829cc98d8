/* log_losses.c: banking a retiring router's appender counts, and adding
 * them to the live router's by appender name. */
#include "log_losses.h"

#include <stdlib.h>
#include <string.h>

struct corral_log_losses {
    corral_appender_losses_t *banked;   /* names owned */
    size_t banked_count;
    corral_appender_losses_t *view;     /* what corral_log_losses_now returned */
    size_t view_capacity;
};

corral_log_losses_t *
corral_log_losses_new(void)
{
    return calloc(1, sizeof(corral_log_losses_t));
}

void
corral_log_losses_destroy(corral_log_losses_t **self_p)
{
    corral_log_losses_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->banked_count; i++)
        free((char *) self->banked[i].name);
    free(self->banked);
    free(self->view);
    free(self);
    *self_p = NULL;
}

static uint64_t
saturating_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void
add_appender(corral_appender_losses_t *into, const corral_appender_t *appender)
{
    uint64_t lost = corral_appender_lines_lost(appender);
    uint64_t unformatted = corral_appender_lines_unformatted(appender);
    into->write_errors = saturating_add(into->write_errors,
                                        corral_appender_write_errors(appender));
    into->lost_writing = saturating_add(into->lost_writing,
                                        lost > unformatted ? lost - unformatted : 0);
    into->lost_formatting = saturating_add(into->lost_formatting, unformatted);
}

static corral_appender_losses_t *
find(corral_appender_losses_t *list, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

/* The banked entry for this appender name, made with zero counts if there
 * is none: every name the view hands out is one of these copies, so a
 * sample taken before a logging reload stays valid after it. */
static corral_appender_losses_t *
banked_entry(corral_log_losses_t *self, const char *name)
{
    corral_appender_losses_t *entry = find(self->banked, self->banked_count, name);
    if (entry)
        return entry;
    corral_appender_losses_t *grown = realloc(self->banked, (self->banked_count + 1)
                                                            * sizeof *grown);
    char *copy = strdup(name);
    if (!grown || !copy) {      /* out of memory: the counts go to the first entry */
        free(copy);
        if (grown)
            self->banked = grown;
        return self->banked_count ? &self->banked[0] : NULL;
    }
    self->banked = grown;
    entry = &self->banked[self->banked_count++];
    *entry = (corral_appender_losses_t) { .name = copy };
    return entry;
}

void
corral_log_losses_bank(corral_log_losses_t *self, const corral_log_router_t *router)
{
    if (!self || !router)
        return;
    size_t appenders = corral_log_router_appender_count(router);
    for (size_t i = 0; i < appenders; i++) {
        const corral_appender_t *appender = corral_log_router_appender(router, i);
        corral_appender_losses_t *entry = banked_entry(self, corral_appender_name(appender));
        if (entry)
            add_appender(entry, appender);
    }
}

const corral_appender_losses_t *
corral_log_losses_now(corral_log_losses_t *self, const corral_log_router_t *live,
                      size_t *count)
{
    size_t appenders = live ? corral_log_router_appender_count(live) : 0;
    *count = 0;
    for (size_t i = 0; i < appenders; i++)      /* names first: the view borrows them */
        banked_entry(self, corral_appender_name(corral_log_router_appender(live, i)));
    if (self->banked_count > self->view_capacity) {
        corral_appender_losses_t *grown = realloc(self->view,
                                                  self->banked_count * sizeof *grown);
        if (!grown)
            return self->view;
        self->view = grown;
        self->view_capacity = self->banked_count;
    }
    if (self->banked_count)
        memcpy(self->view, self->banked, self->banked_count * sizeof *self->view);
    for (size_t i = 0; i < appenders; i++) {
        const corral_appender_t *appender = corral_log_router_appender(live, i);
        corral_appender_losses_t *entry = find(self->view, self->banked_count,
                                               corral_appender_name(appender));
        if (entry)
            add_appender(entry, appender);
    }
    *count = self->banked_count;
    return self->view;
}

corral_appender_losses_t
corral_log_losses_sum(const corral_appender_losses_t *list, size_t count)
{
    corral_appender_losses_t sum = { 0 };
    for (size_t i = 0; i < count; i++) {
        sum.write_errors = saturating_add(sum.write_errors, list[i].write_errors);
        sum.lost_writing = saturating_add(sum.lost_writing, list[i].lost_writing);
        sum.lost_formatting = saturating_add(sum.lost_formatting, list[i].lost_formatting);
    }
    return sum;
}
