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

void
corral_log_losses_bank(corral_log_losses_t *self, const corral_log_router_t *router)
{
    if (!self || !router)
        return;
    size_t appenders = corral_log_router_appender_count(router);
    for (size_t i = 0; i < appenders; i++) {
        const corral_appender_t *appender = corral_log_router_appender(router, i);
        const char *name = corral_appender_name(appender);
        corral_appender_losses_t *entry = find(self->banked, self->banked_count, name);
        if (!entry) {
            corral_appender_losses_t *grown = realloc(self->banked, (self->banked_count + 1)
                                                                    * sizeof *grown);
            char *copy = strdup(name);
            if (!grown || !copy) {      /* out of memory: the counts go to the first entry */
                free(copy);
                if (grown)
                    self->banked = grown;
                entry = self->banked_count ? &self->banked[0] : NULL;
            }
            else {
                self->banked = grown;
                entry = &self->banked[self->banked_count++];
                *entry = (corral_appender_losses_t) { .name = copy };
            }
        }
        if (entry)
            add_appender(entry, appender);
    }
}

const corral_appender_losses_t *
corral_log_losses_now(corral_log_losses_t *self, const corral_log_router_t *live,
                      size_t *count)
{
    size_t appenders = live ? corral_log_router_appender_count(live) : 0;
    size_t most = self->banked_count + appenders;
    *count = 0;
    if (most > self->view_capacity) {
        corral_appender_losses_t *grown = realloc(self->view, most * sizeof *grown);
        if (!grown)
            return self->view;
        self->view = grown;
        self->view_capacity = most;
    }
    if (self->banked_count)
        memcpy(self->view, self->banked, self->banked_count * sizeof *self->view);
    size_t used = self->banked_count;
    for (size_t i = 0; i < appenders; i++) {
        const corral_appender_t *appender = corral_log_router_appender(live, i);
        corral_appender_losses_t *entry = find(self->view, used, corral_appender_name(appender));
        if (!entry) {
            entry = &self->view[used++];
            *entry = (corral_appender_losses_t) { .name = corral_appender_name(appender) };
        }
        add_appender(entry, appender);
    }
    *count = used;
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
