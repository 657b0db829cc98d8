/* fuzz_sockets.c: libFuzzer target: Envelope decoding and dispatch on
 * every broker socket, as the coordinator's readers do it: bus-in
 * (broadcasts, the persisted store), bus-out (subscriptions, snapshots),
 * logs (LogBatches: secrets, seq bounds, the appenders) and desk (Hello,
 * Ready, Report, Bye; in REQ and DEALER shapes). The first input byte
 * picks the socket; the rest is the frame. Workers 1 and 2 exist and run
 * with the secret FUZZ_SECRET (the seed corpus carries it), so the
 * accepted paths are reached too. */
#include <czmq.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "config.h"
#include "coordinator.h"
#include "listener.h"
#include "log.h"
#include "log_collector.h"
#include "router.h"

#define FUZZ_SECRET "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define WORKERS 2

static corral_bus_t *bus;
static corral_log_collector_t *logs;
static corral_coordinator_t *coordinator;

/* Everything the dispatch touches, built once: a loop, a runtime
 * directory, the bus, a log collector writing to /dev/null, and a
 * coordinator whose slots are empty (never run). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    zsys_handler_set(NULL);
    corral_log_init("coordinator", CORRAL_LEVEL_FATAL, 2);
    static char dir[] = "/tmp/corral-fuzz-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    zloop_t *loop = zloop_new();
    bus = corral_bus_new(loop, dir, 4 * 1024 * 1024);
    char *error = NULL;
    const char *yaml = "node: { workers: { count: 2 } }\n"
                       "logging:\n"
                       "  appenders: { null: { type: file, fileName: /dev/null } }\n"
                       "  root: { appenders: [null], level: all }\n";
    corral_config_t *config = corral_config_parse("/fuzz/corral.yml", yaml, strlen(yaml),
                                                  &error);
    corral_log_router_options_t options = { .with_appenders = true, .clustered = true };
    corral_log_router_t *router =
        config ? corral_log_router_new(config->logging.config, &options, &error) : NULL;
    logs = router ? corral_log_collector_new(loop, dir, WORKERS, router) : NULL;
    for (int id = 1; logs && id <= WORKERS; id++)
        corral_log_collector_set_secret(logs, id, FUZZ_SECRET);
    corral_log_set_sink(NULL, NULL);        /* the coordinator's own lines: stderr */
    corral_listener_t *listener =
        config ? corral_listener_new("127.0.0.1", 0, false, WORKERS, &error) : NULL;
    coordinator = listener ? corral_coordinator_new(config, listener, WORKERS, "/bin/false")
                           : NULL;
    if (!bus || !logs || !coordinator)
        abort();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *frame = data + 1;
    size_t length = size - 1;
    zmsg_t *message;
    switch (data[0] % 5) {
    case 0:
        corral_bus_take_frame(bus, frame, length);
        break;
    case 1:
        corral_bus_take_subscription(bus, frame, length);
        break;
    case 2:
        corral_log_collector_take_frame(logs, frame, length);
        break;
    case 3:     /* REQ shape: [routing id][empty][Envelope] */
    case 4:     /* DEALER shape: [routing id][Envelope] */
        message = zmsg_new();
        zmsg_addstr(message, "fuzz");
        if (data[0] % 5 == 3)
            zmsg_addmem(message, "", 0);
        zmsg_addmem(message, frame, length);
        corral_coordinator_take_desk_message(coordinator, &message);
        break;
    }
    return 0;
}
