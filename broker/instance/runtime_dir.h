/* runtime_dir.h: the coordinator's runtime directory (mode 0700) that
 * holds its ipc:// endpoints, so that only the owning user can connect.
 * Stable per instance: <base>/corral/<instance uuid>, where base is
 * $XDG_RUNTIME_DIR, else /run (root), else /tmp/corral-<uid>. A `lock`
 * file in it is flock'ed for the life of the instance, so a directory left
 * by a killed instance is told from a live one: stale ones (ours and any
 * other under <base>/corral) are cleaned up at start. */
#ifndef CORRAL_RUNTIME_DIR_H
#define CORRAL_RUNTIME_DIR_H

typedef struct corral_runtime_dir corral_runtime_dir_t;

/* Creates (or takes over a stale) directory for `uuid` (or, for a
 * coordinator started by SIGUSR2, "<uuid>.<pid>": upgrade.h). NULL with *error
 * set (free it) when it cannot, or when a live instance holds it. */
corral_runtime_dir_t *corral_runtime_dir_new(const char *uuid, char **error);
/* Removes the directory and what is in it, drops the lock. */
void corral_runtime_dir_destroy(corral_runtime_dir_t **self_p);

const char *corral_runtime_dir_path(const corral_runtime_dir_t *self);

#endif
