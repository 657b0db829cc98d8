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

#include <stdint.h>
#include <sys/types.h>

#include "bus.h"
#include "listener.h"

/* Starts `program` with `argv` (this process's environment less its
 * launch contract's variables but NOTIFY_SOCKET, plus the above). `pidfile` may be -1;
 * `store` is a memfd from corral_upgrade_store_memfd. Returns the child's
 * PID, or -1 with errno set; a child whose exec failed is reaped by
 * SIGCHLD as any other. */
pid_t corral_upgrade_exec(const char *program, char *const *argv, corral_listener_t *listener,
                          int channel, int pidfile, int store);
/* `bus`'s persisted messages sequenced after `after_seq` (0: all) in a
 * memfd (close it), read from the start; -1 on failure. */
int corral_upgrade_store_memfd(corral_bus_t *bus, uint64_t after_seq);

#endif
