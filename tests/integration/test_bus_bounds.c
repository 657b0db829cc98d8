/* test_bus_bounds.c: the bus's bounds (issue 15): the persisted store
 * holds at most node.bus.max_persisted_bytes (a broadcast that would take
 * it past is refused, counted and logged once), and a client that asks
 * for 40 snapshots and never reads leaves the coordinator's memory
 * bounded: one snapshot outstanding per private topic, a cap on the bytes
 * queued. Raw ZeroMQ sockets play the client, as any process of the user
 * could. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <czmq.h>
#include <jansson.h>

#include "envelope.h"
#include "node_harness.h"

#define START_MS 30000
#define AWAIT_MS 20000
#define PAYLOAD_BYTES (1000 * 1000)     /* under the 1 MiB broadcast limit */

static json_int_t
await_stats(instance_t *instance, const char *dotted, json_int_t at_least)
{
    return await_stats_integer(instance, dotted, at_least, AWAIT_MS);
}

static instance_t *
start(const char *max_persisted)
{
    instance_t *instance = instance_new();
    char extra[256];
    snprintf(extra, sizeof extra,
             "  status: { interval: 100ms }\n"
             "  bus: { max_persisted_bytes: %s }\n", max_persisted);
    instance_write_node_config(instance, 1, extra);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_MS));
    return instance;
}

static zsock_t *
bus_socket(instance_t *instance, int type, const char *name)
{
    zsys_handler_set(NULL);
    zsock_t *socket = zsock_new(type);
    assert_non_null(socket);
    zsock_set_sndtimeo(socket, 5000);
    zsock_set_linger(socket, 5000);     /* what is queued goes before it closes */
    assert_int_equal(zsock_connect(socket, "ipc://%s/%s", instance_runtime_dir(instance), name),
                     0);
    return socket;
}

static void
broadcast(zsock_t *push, const char *type, size_t size, bool persist)
{
    uint8_t *payload = calloc(1, size);
    assert_non_null(payload);
    Corral__V1__Broadcast body = CORRAL__V1__BROADCAST__INIT;
    body.plugin = "bounds";
    body.type = (char *) type;
    body.payload = (ProtobufCBinaryData) { size, payload };
    body.persist = persist;
    body.sender = "S/0123456789abcdef";
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.protocol = CORRAL_PROTOCOL_VERSION;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_BROADCAST;
    envelope.broadcast = &body;
    size_t packed_size = corral__v1__envelope__get_packed_size(&envelope);
    uint8_t *packed = malloc(packed_size);
    corral__v1__envelope__pack(&envelope, packed);
    assert_int_equal(zmq_send(zsock_resolve(push), packed, packed_size, 0), (int) packed_size);
    free(packed);
    free(payload);
}

static void
test_persisted_store_has_a_byte_limit(void **state)
{
    instance_t *instance = start("2mb");
    zsock_t *push = bus_socket(instance, ZMQ_PUSH, "bus-in");
    broadcast(push, "one", PAYLOAD_BYTES, true);
    broadcast(push, "two", PAYLOAD_BYTES, true);
    broadcast(push, "three", PAYLOAD_BYTES, true);     /* past 2 MiB: refused */
    broadcast(push, "four", PAYLOAD_BYTES, true);      /* refused too, logged once */
    broadcast(push, "one", PAYLOAD_BYTES / 2, true);   /* replaces one: fits */
    broadcast(push, "live", PAYLOAD_BYTES, false);     /* not persisted: not limited */
    zsock_destroy(&push);
    assert_int_equal(await_stats(instance, "input.bus_in.over_store_limit", 2), 2);
    /* one and two, then one at half its size (and what the workers keep) */
    int64_t deadline = zclock_mono() + AWAIT_MS;
    json_int_t bytes;
    while ((bytes = stats_integer(instance, "input.bus_in.persisted_bytes"))
               > (json_int_t) (PAYLOAD_BYTES * 8 / 5) && zclock_mono() < deadline)
        zclock_sleep(20);
    assert_true(bytes > (json_int_t) (PAYLOAD_BYTES * 3 / 2)
                && bytes <= (json_int_t) (PAYLOAD_BYTES * 8 / 5));
    const char *line = "would take the store past node.bus.max_persisted_bytes";
    assert_true(instance_wait_output(instance, line, AWAIT_MS));
    char *output = instance_output_copy(instance);
    const char *first = strstr(output, line);
    assert_non_null(first);
    assert_null(strstr(first + 1, line));
    free(output);
    assert_true(instance_stop_cleanly(&instance, START_MS));
}

static long
rss_kb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, file))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(file);
    return kb;
}

static void
test_forty_snapshots_never_read_leave_memory_bounded(void **state)
{
    instance_t *instance = start("16mb");
    zsock_t *push = bus_socket(instance, ZMQ_PUSH, "bus-in");
    char type[32];
    for (int i = 0; i < 12; i++) {      /* a 12 MB store */
        snprintf(type, sizeof type, "t%d", i);
        broadcast(push, type, PAYLOAD_BYTES, true);
    }
    zsock_destroy(&push);
    assert_true(await_stats(instance, "input.bus_in.persisted_bytes", 12 * PAYLOAD_BYTES)
                >= 12 * PAYLOAD_BYTES);
    long before = rss_kb(instance_pid(instance));

    /* a client that subscribes 40 times and never reads */
    zsock_t *sub = zsock_new(ZMQ_SUB);
    zsock_set_rcvhwm(sub, 1);
    zsock_set_rcvbuf(sub, 4096);
    assert_int_equal(zsock_connect(sub, "ipc://%s/bus-out", instance_runtime_dir(instance)), 0);
    for (int i = 0; i < 40; i++) {
        char topic[32];
        snprintf(topic, sizeof topic, "S/%016x", 0xbad0000 + i);
        zsock_set_subscribe(sub, topic);
    }
    for (int i = 0; i < 40; i++)        /* and the same topic again and again */
        zsock_set_subscribe(sub, "S/00000000000bad00");
    /* every request beyond the cap (2 x 16 MB: two snapshots of 12 MB) is held */
    assert_true(await_stats(instance, "input.bus_in.snapshots_deferred", 38) >= 38);
    long after = rss_kb(instance_pid(instance));
    /* 40 snapshots of 12 MB would be 480 MB */
    printf("coordinator RSS %ld kB before, %ld kB after 80 snapshot requests never read\n",
           before, after);
    if (after - before > 64 * 1024)
        fail_msg("the coordinator grew by %ld kB (from %ld kB)", after - before, before);

    /* a client that reads still gets its snapshot once the other one goes */
    zsock_destroy(&sub);
    zsock_t *reader = zsock_new(ZMQ_SUB);
    zsock_set_rcvtimeo(reader, AWAIT_MS);
    assert_int_equal(zsock_connect(reader, "ipc://%s/bus-out", instance_runtime_dir(instance)),
                     0);
    zsock_set_subscribe(reader, "S/000000000000600d");
    int parts = 0;
    bool last = false;
    while (!last) {
        zmsg_t *message = zmsg_recv(reader);
        assert_non_null(message);
        zframe_t *topic = zmsg_pop(message);
        zframe_t *body = zmsg_pop(message);
        corral_envelope_t *envelope = corral_envelope_decode(body);
        assert_non_null(envelope);
        assert_int_equal(envelope->body_case, CORRAL__V1__ENVELOPE__BODY_SNAPSHOT);
        parts += (int) envelope->snapshot->n_messages;
        last = !envelope->snapshot->partial;
        corral_envelope_free(&envelope);
        zframe_destroy(&topic);
        zframe_destroy(&body);
        zmsg_destroy(&message);
    }
    assert_true(parts >= 12);      /* ours, and what the workers persisted */
    zsock_destroy(&reader);
    assert_true(instance_stop_cleanly(&instance, START_MS));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_persisted_store_has_a_byte_limit),
        cmocka_unit_test(test_forty_snapshots_never_read_leave_memory_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
