/* upgrade_exec.h: the binary upgrade's fork+exec (upgrade.h): what the
 * new coordinator inherits, set up between fork and exec: the listening
 * sockets at fd 3.. (LISTEN_FDS, LISTEN_PID as systemd sets them), then
 * the socketpair, the PID file's descriptor and a memfd holding the
 * persisted bus messages (a packed Snapshot), named in
 * CORRAL_UPGRADE=<channel>,<pidfile>,<store>,<kept>,<predecessor pid>
 * (kept: how many of the sockets are systemd's, never shut down; -1 for a
 * descriptor that is not passed). */
#ifndef CORRAL_UPGRADE_EXEC_H
#define CORRAL_UPGRADE_EXEC_H

#include <sys/types.h>

#include "bus.h"
#include "listener.h"

#define CORRAL_UPGRADE_ENV "CORRAL_UPGRADE"

/* Starts `program` with `argv` (this process's environment less its
 * LISTEN_* and CORRAL_UPGRADE, plus the above). `pidfile` may be -1.
 * Returns the child's PID, or -1 with errno set; a child whose exec
 * failed is reaped by SIGCHLD as any other. */
pid_t corral_upgrade_exec(const char *program, char *const *argv, corral_listener_t *listener,
                          int channel, int pidfile, corral_bus_t *bus);

#endif
