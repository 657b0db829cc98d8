/* pidfile.h: the coordinator's PID file. It is held with an exclusive
 * flock(2) for the life of the instance, so "is it running?" has an exact
 * answer: a live holder refuses a second start; a file nobody holds is
 * stale and taken over. */
#ifndef CORRAL_PIDFILE_H
#define CORRAL_PIDFILE_H

#include <sys/types.h>

typedef struct corral_pidfile corral_pidfile_t;

#define CORRAL_PIDFILE_MODE 0644    /* whatever the umask */

/* Creates or takes over `path` (and its directory) for this process and
 * writes our PID in it. Returns NULL and sets *error (free it) when a live
 * process holds it (then *running_pid is its PID, -1 if the file names
 * none: "already running") or it cannot be written. *stale_pid is the
 * PID a stale file named (0 if none). */
corral_pidfile_t *corral_pidfile_acquire(const char *path, pid_t *stale_pid, pid_t *running_pid,
                                         char **error);

/* Removes the file, if it is still the one held and names this process
 * (never a file another coordinator wrote), and drops the lock. */
void corral_pidfile_release(corral_pidfile_t **self_p);

/* Keeps the lock across exec (classic mode: the worker becomes the holder,
 * removes the file at exit) and forgets the file here. */
void corral_pidfile_hand_over(corral_pidfile_t **self_p);

/* Binary upgrade (upgrade.h). The predecessor passes its locked
 * descriptor on (the lock belongs to the open file, so both hold it);
 * the successor adopts it (NULL and *error if `fd` is not the file at
 * `path`), writes its PID once it is ready, and the predecessor forgets
 * the file without removing it. */
corral_pidfile_t *corral_pidfile_adopt(const char *path, int fd, char **error);
int corral_pidfile_fd(const corral_pidfile_t *self);
int corral_pidfile_write_pid(corral_pidfile_t *self);
/* Writes `pid` back (a successor that could not take over). */
int corral_pidfile_restore_pid(corral_pidfile_t *self, pid_t pid);
void corral_pidfile_forget(corral_pidfile_t **self_p);

#endif
