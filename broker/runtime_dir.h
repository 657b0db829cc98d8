/* runtime_dir.h: the coordinator's private runtime directory (mode 0700)
 * that holds its ipc:// endpoints, so that only the owning user can
 * connect. Under $XDG_RUNTIME_DIR, else $TMPDIR, else /tmp. */
#ifndef CORRAL_RUNTIME_DIR_H
#define CORRAL_RUNTIME_DIR_H

/* Creates a fresh directory; returns its path (free it) or NULL. */
char *corral_runtime_dir_create(void);

/* Removes the directory and whatever is left in it (not recursive: it
 * only ever holds socket files). */
void corral_runtime_dir_remove(const char *path);

#endif
