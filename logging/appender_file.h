/* appender_file.h: the `file` appender: appends to fileName, reopened by
 * name on SIGUSR1 (corral_appender_reopen). */
#ifndef CORRAL_APPENDER_FILE_H
#define CORRAL_APPENDER_FILE_H

#include "appender.h"

/* Takes the layout. NULL with *error set (free it) if the file cannot be
 * opened for appending. */
corral_appender_t *corral_appender_file_new(const char *name, corral_layout_t *layout,
                                            const char *file_name, char **error);

#endif
