/* ctl_instance.h: corralctl's connection to an instance: finding it
 * (endpoints.json under path.data, from -c FILE, read leniently when it
 * has an error, --data DIR or the default configuration; or node.remote
 * over CURVE), saying ToolHello on
 * desk, asking, and subscribing to tap. */
#ifndef CORRALCTL_INSTANCE_H
#define CORRALCTL_INSTANCE_H

#include <czmq.h>
#include <stdbool.h>

#include "ctl_help.h"
#include "envelope.h"

typedef struct {
    const char *config_file;    /* -c */
    const char *data_dir;       /* --data */
    const char *remote;         /* --remote tcp://HOST:PORT */
    const char *key_file;       /* --key: our certificate (zcert, FILE_secret) */
    const char *server_key;     /* --server-key: the server's public certificate */
    int timeout_ms;
} ctl_target_t;

typedef struct ctl_instance ctl_instance_t;

/* Finds the instance and says hello. NULL with a message on stderr and
 * *exit_code set (69: no instance answers; 78: bad configuration). */
ctl_instance_t *ctl_instance_connect(const ctl_target_t *target, int *exit_code);
void ctl_instance_destroy(ctl_instance_t **self_p);

const char *ctl_instance_uuid(const ctl_instance_t *self);

/* Sends a ToolRequest, awaits the ToolReply. NULL (message on stderr) if
 * none came in time. Free with corral_envelope_free. */
corral_envelope_t *ctl_instance_ask(ctl_instance_t *self, const char *command,
                                    char **args, size_t argc);

/* A SUB socket on the instance's tap (or bus-out: name "bus-out"),
 * with CURVE when remote, subscribed to nothing yet. */
zsock_t *ctl_instance_subscribe(ctl_instance_t *self, const char *name);

/* False once a local instance's coordinator is gone, or is a zombie that
 * its parent has not reaped yet (remote: always true; a silent remote
 * instance shows as no answer). */
bool ctl_instance_alive(const ctl_instance_t *self);
/* The coordinator's PID; 0 when remote. */
pid_t ctl_instance_pid(const ctl_instance_t *self);

#endif
