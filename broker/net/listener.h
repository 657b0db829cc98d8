/* listener.h: the instance's listening socket(s), bound once by the
 * coordinator and inherited by the workers as fd 3. `shared` balancing is
 * one socket for every worker; `reuseport` one SO_REUSEPORT socket per
 * worker slot, all on the same port, so the kernel spreads connections. */
#ifndef CORRAL_LISTENER_H
#define CORRAL_LISTENER_H

#include <stdbool.h>

typedef struct corral_listener corral_listener_t;

/* Binds `count` sockets (1 unless reuseport) on host:port; port 0 picks a
 * free port. With reuseport, a port that anyone already holds is refused
 * (the kernel would split the connections with them). NULL and *error
 * (free it) on failure. */
corral_listener_t *corral_listener_new(const char *host, int port, bool reuseport,
                                       int count, char **error);
void corral_listener_destroy(corral_listener_t **self_p);

/* Systemd socket activation: how many sockets LISTEN_FDS/LISTEN_PID hand
 * this process (0: none); the variables are removed either way. */
int corral_listener_inherited(void);
/* A listener on the `inherited` sockets from fd 3 on (host names it in
 * messages); with reuseport and fewer than `count`, more are bound on
 * their port. They are closed at a stop, never shut down: systemd keeps
 * them, and connections wait for the next start instead of being refused. */
corral_listener_t *corral_listener_adopt(int inherited, const char *host, bool reuseport,
                                         int count, char **error);

/* The socket for worker slot `worker_id` (1-based). */
int corral_listener_fd(const corral_listener_t *self, int worker_id);
/* reuseport: a socket per slot up to `count` (a reload changed the worker
 * count); the ones past it are closed. Shared: nothing to do. */
int corral_listener_resize(corral_listener_t *self, int count, char **error);
/* reuseport: new connections go to the first `active` sockets only
 * (a BPF program on the group), so that a slot being added gets none
 * before its worker is ready and one being removed none while it drains.
 * Returns 0, or -1 (errno) if the kernel refused. */
int corral_listener_steer(corral_listener_t *self, int active);
/* At a graceful stop, once no worker will accept again: the sockets stop
 * listening (shutdown) in every process, so that a new connection is
 * refused rather than queued; inherited ones (systemd) are left as they
 * are. The descriptors are closed by destroy. */
void corral_listener_shut(corral_listener_t *self);
/* Binary upgrade (upgrade.h): how many sockets there are (fds 1..count
 * by slot), and how many of the first are never shut down (systemd's,
 * or, once handed to a successor, all). */
int corral_listener_count(const corral_listener_t *self);
int corral_listener_kept(const corral_listener_t *self);
void corral_listener_keep(corral_listener_t *self, int count);
/* The bound port. */
int corral_listener_port(const corral_listener_t *self);

#endif
