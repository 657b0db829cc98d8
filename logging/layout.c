/* layout.c: the layout interface's dispatch. */
#include "layout.h"

#include <stdlib.h>

struct corral_layout {
    corral_layout_format_fn *format;
    corral_layout_free_fn *free_state;
    void *state;
};

corral_layout_t *
corral_layout_new(corral_layout_format_fn *format, corral_layout_free_fn *free_state,
                  void *state)
{
    corral_layout_t *self = calloc(1, sizeof *self);
    if (!self) {
        free_state(state);
        return NULL;
    }
    *self = (corral_layout_t) { format, free_state, state };
    return self;
}

int
corral_layout_format(corral_layout_t *self, const corral_log_record_t *record,
                     corral_line_buffer_t *out)
{
    return self->format(self->state, record, out);
}

void
corral_layout_destroy(corral_layout_t **self_p)
{
    if (!*self_p)
        return;
    (*self_p)->free_state((*self_p)->state);
    free(*self_p);
    *self_p = NULL;
}
