/* atomic_file.h: writing a file so that it is whole or absent,
 * never half-written, even if the process dies midway: a temporary file in
 * the same directory, fsync, rename over the target. */
#ifndef CORRAL_ATOMIC_FILE_H
#define CORRAL_ATOMIC_FILE_H

#include <stddef.h>

/* Returns 0, or -1 with errno set (the target is untouched). */
int corral_atomic_write(const char *path, const void *data, size_t length);

#endif
