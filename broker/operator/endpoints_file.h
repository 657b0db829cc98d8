/* endpoints_file.h: <path.data>/endpoints.json, the file that tells a tool
 * in any language where a running instance is: its UUID, coordinator PID,
 * runtime directory, HTTP address and every ZeroMQ endpoint (docs/tools.md).
 * Written whole (a temporary file renamed into place) once every socket
 * is bound, removed at a clean exit by the coordinator it names, never by
 * another. A file left by a killed instance names a PID that is gone:
 * tools treat it as no instance, and the next start replaces it. */
#ifndef CORRAL_ENDPOINTS_FILE_H
#define CORRAL_ENDPOINTS_FILE_H

#include <sys/types.h>

#define CORRAL_ENDPOINTS_FILE "endpoints.json"     /* under path.data */
#define CORRAL_ENDPOINTS_MAX 8

typedef struct {
    const char *uuid;
    const char *config_file;        /* absolute */
    const char *runtime_dir;
    const char *http;               /* http://HOST:PORT */
    int count;
    const char *names[CORRAL_ENDPOINTS_MAX];      /* desk, bus-in, bus-out, logs, tap */
    const char *endpoints[CORRAL_ENDPOINTS_MAX];
    const char *remote_desk;        /* node.remote, or NULL */
    const char *remote_tap;
    const char *remote_bus_out;
    const char *remote_public_key;  /* Z85, the server's CURVE public key */
} corral_endpoints_t;

/* Writes <data_dir>/endpoints.json. Returns its path (free it), or NULL
 * with *error set (free it). */
char *corral_endpoints_file_write(const char *data_dir, const corral_endpoints_t *endpoints,
                                  char **error);

/* Removes the file if it still names this process. Returns 0, or -1 with
 * errno set (a read-only path.data). */
int corral_endpoints_file_remove(const char *path);

/* The PID of the live coordinator that <data_dir>/endpoints.json names
 * (its runtime directory is held), or 0: no file, or a killed
 * instance's. */
pid_t corral_endpoints_file_running(const char *data_dir);

#endif
