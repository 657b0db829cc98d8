/* fuzz_bus_client.c: libFuzzer target: a worker's side of bus-out
 * (bus_client.c): Snapshots on its private topic and sequenced
 * Broadcasts on "B", in any order, epoch and seq: the exactly-once
 * stream, gaps and resubscription. Input: a topic byte (even: "B", odd:
 * the private topic), then the Envelope; an input may hold several
 * messages separated by "\xff\xfe\xfd". */
#include <czmq.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus_client.h"
#include "bus_wire.h"
#include "log.h"

#define ID "00000000000f0220"
#define SEPARATOR "\xff\xfe\xfd"

static uint64_t delivered;

static void
deliver(const Corral__V1__Broadcast *broadcast, void *arg)
{
    delivered += broadcast->payload.len + 1;    /* touch what is delivered */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool initialised;
    if (!initialised) {
        zsys_handler_set(NULL);
        corral_log_init("worker-1", CORRAL_LEVEL_FATAL, 2);
        initialised = true;
    }
    /* a fresh client per input: ZeroMQ connects lazily, nothing listens */
    corral_bus_client_t *client = corral_bus_client_new("ipc:///nonexistent/bus-in",
                                                        "ipc:///nonexistent/bus-out", ID, 1,
                                                        deliver, NULL);
    if (!client)
        abort();
    const char *private = CORRAL_BUS_PRIVATE_PREFIX ID;
    const uint8_t *at = data, *end = data + size;
    while (at < end) {
        const uint8_t *next = memmem(at, (size_t) (end - at), SEPARATOR, 3);
        const uint8_t *stop = next ? next : end;
        if (stop > at) {
            const char *topic = *at & 1 ? private : CORRAL_BUS_TOPIC_BROADCAST;
            corral_bus_client_take(client, topic, strlen(topic), at + 1,
                                   (size_t) (stop - at - 1));
        }
        at = next ? next + 3 : end;
    }
    corral_bus_client_destroy(&client);
    return 0;
}
