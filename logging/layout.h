/* layout.h: a layout turns a record into one line of text ending in '\n':
 * `pattern` (layout_pattern.h) or `json` (layout_json.h). */
#ifndef CORRAL_LAYOUT_H
#define CORRAL_LAYOUT_H

#include "line_buffer.h"
#include "record.h"

typedef struct corral_layout corral_layout_t;

/* Appends the record's line to `out`. Returns 0, or -1 when out of memory. */
int corral_layout_format(corral_layout_t *self, const corral_log_record_t *record,
                         corral_line_buffer_t *out);
void corral_layout_destroy(corral_layout_t **self_p);

/* For the layouts' implementations. */
typedef int (corral_layout_format_fn)(void *state, const corral_log_record_t *record,
                                      corral_line_buffer_t *out);
typedef void (corral_layout_free_fn)(void *state);
corral_layout_t *corral_layout_new(corral_layout_format_fn *format,
                                   corral_layout_free_fn *free_state, void *state);

#endif
