/* worker_config.h: the WorkerConfig a worker is handed, built from the
 * validated configuration (workers never parse YAML). */
#ifndef CORRAL_WORKER_CONFIG_H
#define CORRAL_WORKER_CONFIG_H

#include <stdbool.h>

#include "config.h"
#include "envelope.h"

typedef struct {
    Corral__V1__WorkerConfig message;   /* strings point into config and name */
    char name[32];
    char data_dir[4096];                /* worker_data_dir */
} corral_worker_config_t;

void corral_worker_config_init(corral_worker_config_t *self, const corral_config_t *config,
                               int worker_id, int worker_count, int bound_port,
                               bool clustered);

/* Its name ("http-2") and whether it serves HTTP (the slot's type). */
void corral_worker_config_set_type(corral_worker_config_t *self, const char *name,
                                   const corral_worker_group_t *type);

/* <path.data>/workers/<name>/: sets worker_data_dir and creates the
 * directory (mode 0700) if it does not exist yet. Returns 0, or -1 with
 * *error set (free it). */
int corral_worker_config_make_data_dir(corral_worker_config_t *self, char **error);

/* The node service's part: the instance UUID and the bus endpoints (NULL
 * in classic mode). The strings must outlive the message. */
void corral_worker_config_set_node(corral_worker_config_t *self, const char *uuid,
                                   const char *bus_in_endpoint,
                                   const char *bus_out_endpoint);

#endif
