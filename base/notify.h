/* notify.h: the systemd readiness protocol (sd_notify), so that corral runs
 * as a Type=notify service and tests can await readiness instead of
 * polling. A no-op when NOTIFY_SOCKET is not set. */
#ifndef CORRAL_NOTIFY_H
#define CORRAL_NOTIFY_H

/* Sends `state` ("READY=1\nSTATUS=...") to $NOTIFY_SOCKET. Returns 0, or -1
 * when it could not be sent (nothing to do is 0). */
int corral_notify(const char *state);

#endif
