/* notify_socket.h: one plain worker process's end of systemd's notify
 * protocol (sd_notify(3)), owned by the coordinator. Each plain process
 * gets a datagram socket of its own in the instance's runtime directory,
 * named to it in NOTIFY_SOCKET, so that a message is known to come from
 * that worker; the sender's credentials (SO_PASSCRED) are checked too, and
 * a datagram from any other PID is refused and counted (systemd's
 * NotifyAccess=main). */
#ifndef CORRAL_NOTIFY_SOCKET_H
#define CORRAL_NOTIFY_SOCKET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct corral_notify_socket corral_notify_socket_t;

#define CORRAL_NOTIFY_STATUS_MAX 256    /* STATUS= text kept, bytes */

/* What one datagram said (a datagram holds several NAME=value lines). */
typedef struct {
    bool ready;                 /* READY=1 */
    bool watchdog;              /* WATCHDOG=1 */
    bool watchdog_trigger;      /* WATCHDOG=trigger: hung, as systemd takes it */
    bool stopping;              /* STOPPING=1 */
    bool reloading;             /* RELOADING=1 */
    bool has_status;            /* STATUS=... (status below) */
    char status[CORRAL_NOTIFY_STATUS_MAX];
} corral_notify_message_t;

/* Binds a new socket at `path` (an old file there is replaced), readable
 * by the coordinator only through the runtime directory's 0700. NULL with
 * errno set on failure. */
corral_notify_socket_t *corral_notify_socket_new(const char *path);
/* Closes it and removes its file. */
void corral_notify_socket_destroy(corral_notify_socket_t **self_p);

const char *corral_notify_socket_path(const corral_notify_socket_t *self);
/* Non-blocking, close-on-exec: poll it for input. */
int corral_notify_socket_fd(const corral_notify_socket_t *self);
/* Only datagrams from `pid` count (the process once forked). */
void corral_notify_socket_expect(corral_notify_socket_t *self, pid_t pid);

/* Reads one datagram into *out. Returns 1 when one from the expected
 * process was read, 0 when one was refused (another sender, no
 * credentials; counted), -1 when none is queued. */
int corral_notify_socket_read(corral_notify_socket_t *self, corral_notify_message_t *out);
/* Datagrams refused so far. */
uint64_t corral_notify_socket_refused(const corral_notify_socket_t *self);

/* Parses the lines of one datagram (for the fuzz target and tests). */
void corral_notify_parse(const char *text, size_t length, corral_notify_message_t *out);

#endif
