/* config_reload.h: what a reload may change. Keys that need a restart
 * (the listening address, the balancing mode, path.data, the PID file,
 * node.enabled) are named in the log and kept as they run; and whether
 * what a worker is (its WorkerConfig apart from logging, its program and
 * environment, its limits, the program's binary on disk) changed. */
#ifndef CORRAL_CONFIG_RELOAD_H
#define CORRAL_CONFIG_RELOAD_H

#include <stdbool.h>
#include <sys/stat.h>

#include "config.h"
#include "supervisor.h"

/* Logs each key of `next` that needs a restart and differs from
 * `running`, and puts the running value back in `next`. Returns how many;
 * `kept` (`size` bytes, may be 0) says which, for the reload's reply:
 * "server.port 8080 (9090 in the file), pid.file ...". */
int corral_config_pin_restart_keys(const corral_config_t *running, corral_config_t *next,
                                   char *kept, size_t size);

/* What every worker of `a` and `b` is told differs (their WorkerConfig
 * apart from logging and their type): every slot is replaced. */
bool corral_config_workers_differ(const corral_config_t *a, const corral_config_t *b);
/* A slot running `a` must be replaced to run `b`: its name, socket,
 * limits, or its type's program, environment or startup differ. */
bool corral_slot_specs_differ(const corral_slot_spec_t *a, const corral_slot_spec_t *b);

/* The identity of a program's binary on disk (inode, size, mtime), so
 * that a new binary under the same path makes a reload replace the
 * workers. Returns false if it cannot be read. */
typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} corral_binary_id_t;
bool corral_binary_id(const char *path, corral_binary_id_t *id);
bool corral_binary_id_equal(const corral_binary_id_t *a, const corral_binary_id_t *b);

#endif
