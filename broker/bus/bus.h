/* bus.h: the coordinator's broadcast bus (docs/architecture.md section 2.2): bus-in (PULL)
 * takes broadcasts, bus-out (XPUB) sends them sequenced (seq, epoch) to
 * every subscriber, keeps the last persisted message per (plugin, type),
 * and answers a subscription to a private topic with a Snapshot. */
#ifndef CORRAL_BUS_H
#define CORRAL_BUS_H

#include <czmq.h>
#include <stdbool.h>

#include "corral/v1/corral.pb-c.h"

typedef struct corral_bus corral_bus_t;

/* Binds ipc://<runtime_dir>/bus-in and /bus-out and reads them in `loop`.
 * The persisted store holds at most `max_persisted_bytes` (packed). NULL
 * (logged) on failure. */
corral_bus_t *corral_bus_new(zloop_t *loop, const char *runtime_dir,
                             uint64_t max_persisted_bytes);
void corral_bus_destroy(corral_bus_t **self_p);

const char *corral_bus_in_endpoint(const corral_bus_t *self);
const char *corral_bus_out_endpoint(const corral_bus_t *self);

/* What the sockets' readers do with one frame (bus-in) or one
 * subscription message (bus-out): the fuzz targets' way in. */
void corral_bus_take_frame(corral_bus_t *self, const void *data, size_t size);
void corral_bus_take_subscription(corral_bus_t *self, const void *data, size_t size);

/* A broadcast of `plugin` and `type` is in the persisted store. */
bool corral_bus_has_persisted(corral_bus_t *self, const char *plugin, const char *type);

/* bus-in's counters (what was sequenced and what was dropped, by reason). */
Corral__V1__BusStats *corral_bus_stats(corral_bus_t *self);

/* Binary upgrade (upgrade.h). The predecessor's side: the persisted
 * messages sequenced after `after_seq` (0: the whole store), packed as one
 * Snapshot (free it; NULL when out of memory); the last seq sequenced.
 * The successor's: keeps the messages of such a Snapshot, sequenced after
 * its own, before any subscriber; or, `late` (those the predecessor took
 * after that), sequences and sends each as a new broadcast unless this
 * bus's own traffic has replaced it since. Returns how many were taken,
 * or -1 if `data` is not a Snapshot. */
uint8_t *corral_bus_export(corral_bus_t *self, uint64_t after_seq, size_t *size);
uint64_t corral_bus_last_seq(const corral_bus_t *self);
/* Reads what bus-in holds now, outside the loop (a stop's end). */
void corral_bus_read_pending(corral_bus_t *self);
int corral_bus_import(corral_bus_t *self, const uint8_t *data, size_t size, bool late);

#endif
