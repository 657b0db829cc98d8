/* appender_private.h: what the appender kinds share (not for users). */
#ifndef CORRAL_APPENDER_PRIVATE_H
#define CORRAL_APPENDER_PRIVATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "appender.h"
#include "line_buffer.h"

typedef struct corral_appender corral_appender_t;

/* Called before each line is buffered; rolling files roll here. */
typedef int (corral_appender_hook_fn)(corral_appender_t *self, size_t line_length);
typedef void (corral_appender_opened_fn)(corral_appender_t *self);
typedef void (corral_appender_free_fn)(void *state);

struct corral_appender {
    char *name;
    corral_layout_t *layout;        /* owned */
    int fd;
    char *file_name;                /* NULL: console (fd 1, not owned) */
    unsigned mode;                  /* of the files it creates; 0: CORRAL_LOG_FILE_MODE */
    uint64_t size;                  /* bytes in the file, buffered ones included */
    corral_line_buffer_t buffer;
    corral_line_buffer_t line;
    uint64_t write_errors;
    uint64_t lines_lost;            /* all lost lines, unformatted included */
    uint64_t lines_unformatted;
    size_t buffered_lines;
    bool warned;
    corral_appender_hook_fn *before_line;
    corral_appender_opened_fn *opened;     /* after a reopen */
    corral_appender_free_fn *free_state;
    void *state;
};

/* Takes the layout (destroyed on failure). file_name NULL: standard output.
 * Opens the file; NULL with *error set (free it) if it cannot. */
corral_appender_t *corral_appender_new(const char *name, corral_layout_t *layout,
                                       const char *file_name, char **error);
/* Opens self->file_name for appending, closing what was open. */
int corral_appender_open_file(corral_appender_t *self, char **error);

#endif
