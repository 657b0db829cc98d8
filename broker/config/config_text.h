/* config_text.h: reading a configuration file, and its limits
 * (CORRAL_CONFIG_MAX_BYTES, _DEPTH, _ENTRIES, _ALIASES in config.h). */
#ifndef CORRAL_CONFIG_TEXT_H
#define CORRAL_CONFIG_TEXT_H

#include <stddef.h>

/* The whole file, NUL-terminated (a file past CORRAL_CONFIG_MAX_BYTES is
 * read just far enough to be refused by its size); NULL with *error set
 * ("FILE: cannot read: why", freed by the caller). */
char *corral_config_read_file(const char *file, size_t *length, char **error);

/* 0, or -1 with *error ("FILE:LINE:COLUMN: what", freed by the caller)
 * when the text passes a limit. Syntax errors are left to the parse. */
int corral_config_check_limits(const char *file, const char *text, size_t length,
                               char **error);

#endif
