/* node_client.c: the node service for tools (corral/node_client.h): a node
 * service without a loop, on a private topic of 16 random hex digits. */
#include "corral/node_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "bus_wire.h"
#include "log.h"
#include "node_service.h"

#define LOGGER "node.client"

struct corral_node_client {
    corral_node_service_t *service;
};

static int
random_id(char *id, size_t size)
{
    uint64_t value;
    if (getrandom(&value, sizeof value, 0) != (ssize_t) sizeof value)
        return -1;
    snprintf(id, size, "%016llx", (unsigned long long) value);
    return 0;
}

/* Delivers what arrives until the bus client has its snapshot. */
static int
await_snapshot(corral_node_client_t *self, int timeout_ms)
{
    corral_bus_client_t *bus = corral_node_service_bus(self->service);
    int64_t deadline = zclock_mono() + timeout_ms;
    while (!corral_bus_client_synced(bus)) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0)
            return -1;
        corral_node_service_poll(self->service, (int) left);
    }
    return 0;
}

corral_node_client_t *
corral_node_client_new(const char *runtime_dir, int timeout_ms)
{
    corral_node_client_t *self = calloc(1, sizeof *self);
    char id[17];
    char *bus_in = NULL, *bus_out = NULL;
    if (!self || random_id(id, sizeof id) != 0
        || asprintf(&bus_in, "ipc://%s/%s", runtime_dir, CORRAL_BUS_IN_NAME) < 0
        || asprintf(&bus_out, "ipc://%s/%s", runtime_dir, CORRAL_BUS_OUT_NAME) < 0) {
        free(self);
        return NULL;
    }
    corral_node_params_t params = {
        .clustered = true, .bus_in = bus_in, .bus_out = bus_out, .private_id = id,
    };
    self->service = corral_node_service_new(NULL, &params);
    free(bus_in);
    free(bus_out);
    if (!self->service || await_snapshot(self, timeout_ms) != 0) {
        corral_log(CORRAL_LEVEL_ERROR, LOGGER, "no snapshot from the bus in %s within %d ms",
                   runtime_dir, timeout_ms);
        corral_node_client_destroy(&self);
    }
    return self;
}

void
corral_node_client_destroy(corral_node_client_t **self_p)
{
    corral_node_client_t *self = *self_p;
    if (!self)
        return;
    corral_node_service_destroy(&self->service);
    free(self);
    *self_p = NULL;
}

corral_node_t *
corral_node_client_plugin(corral_node_client_t *self, const char *plugin)
{
    return corral_node_service_plugin(self->service, plugin);
}

int
corral_node_client_poll(corral_node_client_t *self, int timeout_ms)
{
    return corral_node_service_poll(self->service, timeout_ms);
}

uint64_t
corral_node_client_last_seq(const corral_node_client_t *self)
{
    return corral_bus_client_last_seq(corral_node_service_bus(self->service));
}

int
corral_node_client_stats(corral_node_client_t *self, corral_bus_stats_t *stats, int timeout_ms)
{
    corral_bus_client_t *bus = corral_node_service_bus(self->service);
    corral_bus_client_resync(bus);
    if (await_snapshot(self, timeout_ms) != 0)
        return -1;
    const Corral__V1__BusStats *counters = corral_bus_client_stats(bus);
    *stats = (corral_bus_stats_t) {
        .received = counters->received, .dropped = counters->dropped,
        .not_envelope = counters->not_envelope, .wrong_body = counters->wrong_body,
        .oversized = counters->oversized, .invalid = counters->invalid,
        .gaps = corral_bus_client_gaps(bus),
    };
    return 0;
}
