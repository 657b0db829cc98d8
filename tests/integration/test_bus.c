/* test_bus.c: the node service's broadcasts across real workers and a real
 * bus: exactly once and in order under load with late handlers and a late
 * client, persist, send_to_self, isolation between plugins, cancel, the
 * same API in classic mode, and bad input on bus-in. Workers are driven
 * through the debug route (node.debug_routes); the test's own client is
 * built on libcorral (corral/node_client.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bus_wire.h"
#include "corral/node_client.h"
#include "envelope.h"
#include "harness.h"
#include "node_harness.h"

#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 30000
#define WAIT_MS 60000
#define BURST 1250          /* per worker and per half: 4 x 2 x 1250 = 10,000 */

static instance_t *
start_instance(int workers, bool clustered)
{
    instance_t *instance = instance_new();
    instance_write_node_config(instance, clustered ? workers : 0, NULL);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_TIMEOUT_MS));
    return instance;
}

static void
stop_instance(instance_t **instance)
{
    assert_true(instance_stop_cleanly(instance, STOP_TIMEOUT_MS));
}

/* --- What a test client receives --------------------------------------------------- */

typedef struct {
    uint64_t *seqs;
    size_t count;
    size_t capacity;
    char last_payload[256];
} recording_t;

static void
record(const corral_message_t *message, void *arg)
{
    recording_t *recording = arg;
    if (recording->count == recording->capacity) {
        recording->capacity = recording->capacity ? recording->capacity * 2 : 1024;
        recording->seqs = realloc(recording->seqs, recording->capacity * sizeof (uint64_t));
    }
    recording->seqs[recording->count++] = message->seq;
    snprintf(recording->last_payload, sizeof recording->last_payload, "%.*s",
             (int) message->len, (const char *) message->payload);
}

/* Polls the client until `done` holds for the recording. */
static bool
poll_until(corral_node_client_t *client, recording_t *recording, size_t count)
{
    int64_t deadline = zclock_mono() + WAIT_MS;
    while (recording->count < count && zclock_mono() < deadline)
        corral_node_client_poll(client, 100);
    return recording->count >= count;
}

/* --- Exactly once, in order ----------------------------------------------------------- */

static size_t
index_of(json_t *seqs, json_int_t seq)
{
    for (size_t i = 0; i < json_array_size(seqs); i++)
        if (json_integer_value(json_array_get(seqs, i)) == seq)
            return i;
    return (size_t) -1;
}

/* `tail` is `full` from some element on, to its end. */
static void
assert_suffix(json_t *full, const uint64_t *tail, size_t tail_count)
{
    assert_true(tail_count > 0);
    size_t start = index_of(full, (json_int_t) tail[0]);
    assert_true(start != (size_t) -1);
    assert_int_equal(json_array_size(full) - start, tail_count);
    for (size_t i = 0; i < tail_count; i++)
        assert_int_equal(json_integer_value(json_array_get(full, start + i)), tail[i]);
}

static void
json_seqs(json_t *array, uint64_t **seqs, size_t *count)
{
    *count = json_array_size(array);
    *seqs = calloc(*count + 1, sizeof **seqs);
    for (size_t i = 0; i < *count; i++)
        (*seqs)[i] = (uint64_t) json_integer_value(json_array_get(array, i));
}

static void
test_ten_thousand_broadcasts_exactly_once_in_order(void **state)
{
    instance_t *instance = start_instance(4, true);
    json_decref(debug_node(instance, "action=on&plugin=probe-a&type=load"));
    json_decref(debug_node(instance, "action=broadcast&plugin=probe-a&type=load&count=%d&self=1"
                           "&payload=first", BURST));
    /* halfway: a late handler in worker 3, and a client that connects now */
    json_decref(debug_node(instance, "action=on&worker=3&plugin=probe-a&type=load"));
    corral_node_client_t *client = corral_node_client_new(instance_runtime_dir(instance), WAIT_MS);
    assert_non_null(client);
    recording_t late_client = { 0 };
    assert_non_null(corral_node_on(corral_node_client_plugin(client, "probe-a"), "load",
                                   record, &late_client));
    json_decref(debug_node(instance, "action=broadcast&plugin=probe-a&type=load&count=%d&self=1"
                           "&payload=second", BURST));

    json_t *replies = debug_node(instance, "action=received");
    assert_int_equal(json_array_size(replies), 4);
    json_t *reference = json_object_get(handler_of(reply_of(replies, 1), "probe-a", "load", 0),
                                        "seqs");
    assert_int_equal(json_array_size(reference), 4 * 2 * BURST);
    for (size_t i = 1; i < json_array_size(reference); i++)
        assert_true(json_integer_value(json_array_get(reference, i))
                    > json_integer_value(json_array_get(reference, i - 1)));
    for (int worker = 1; worker <= 4; worker++) {
        json_t *result = reply_of(replies, worker);
        assert_int_equal(json_integer_value(json_object_get(result, "gaps")), 0);
        json_t *seqs = json_object_get(handler_of(result, "probe-a", "load", 0), "seqs");
        assert_true(json_equal(seqs, reference));       /* every one, once, in order */
    }
    uint64_t *late;
    size_t late_count;
    json_seqs(json_object_get(handler_of(reply_of(replies, 3), "probe-a", "load", 1), "seqs"),
              &late, &late_count);
    assert_true(late_count >= (size_t) 4 * BURST);      /* at least the second half */
    assert_suffix(reference, late, late_count);

    /* the client: from its snapshot on, up to the last one */
    json_int_t last = json_integer_value(json_array_get(reference, json_array_size(reference) - 1));
    int64_t deadline = zclock_mono() + WAIT_MS;
    while ((late_client.count == 0 || late_client.seqs[late_client.count - 1] < (uint64_t) last)
           && zclock_mono() < deadline)
        corral_node_client_poll(client, 100);
    assert_true(late_client.count >= (size_t) 4 * BURST);
    assert_suffix(reference, late_client.seqs, late_client.count);
    corral_bus_stats_t stats;
    assert_int_equal(corral_node_client_stats(client, &stats, WAIT_MS), 0);
    assert_int_equal(stats.gaps, 0);
    assert_int_equal(stats.dropped, 0);

    free(late);
    free(late_client.seqs);
    json_decref(replies);
    corral_node_client_destroy(&client);
    stop_instance(&instance);
}

/* --- The API's semantics, clustered and classic --------------------------------------- */

/* Payloads a handler received, as one string "a,b,c" (static). */
static const char *
payloads_of(json_t *replies, int worker, const char *plugin, const char *type, int index)
{
    static char joined[4096];
    joined[0] = '\0';
    json_t *handler = handler_of(reply_of(replies, worker), plugin, type, index);
    assert_non_null(handler);
    size_t i;
    json_t *payload;
    json_array_foreach(json_object_get(handler, "payloads"), i, payload) {
        if (i > 0)
            strcat(joined, ",");
        strncat(joined, json_string_value(payload), sizeof joined - strlen(joined) - 2);
    }
    return joined;
}

static void
check_send_to_self(instance_t *instance, bool clustered)
{
    json_decref(debug_node(instance, "action=on&plugin=probe-a&type=self"));
    json_decref(debug_node(instance, "action=broadcast&worker=1&plugin=probe-a&type=self"
                           "&payload=not-to-self"));
    json_decref(debug_node(instance, "action=broadcast&worker=1&plugin=probe-a&type=self"
                           "&payload=to-self&self=1"));
    json_t *replies = debug_node(instance, "action=received&payloads=1");
    assert_string_equal(payloads_of(replies, 1, "probe-a", "self", 0), "to-self");
    if (clustered)
        assert_string_equal(payloads_of(replies, 2, "probe-a", "self", 0), "not-to-self,to-self");
    json_decref(replies);
}

static void
check_isolation(instance_t *instance, bool clustered)
{
    json_decref(debug_node(instance, "action=on&plugin=probe-b&type=same"));
    json_decref(debug_node(instance, "action=on&plugin=probe-a&type=same"));
    json_decref(debug_node(instance, "action=broadcast&worker=1&plugin=probe-a&type=same"
                           "&payload=for-a&self=1&persist=1"));
    json_decref(debug_node(instance, "action=on&plugin=probe-b&type=same"));   /* late */
    json_t *replies = debug_node(instance, "action=received&payloads=1");
    for (int worker = 1; worker <= (clustered ? 2 : 1); worker++) {
        assert_string_equal(payloads_of(replies, worker, "probe-a", "same", 0), "for-a");
        assert_string_equal(payloads_of(replies, worker, "probe-b", "same", 0), "");
        assert_string_equal(payloads_of(replies, worker, "probe-b", "same", 1), "");
    }
    json_decref(replies);
}

static void
check_cancel(instance_t *instance, bool clustered)
{
    json_decref(debug_node(instance, "action=on&plugin=probe-a&type=cancel"));
    json_decref(debug_node(instance, "action=broadcast&worker=1&plugin=probe-a&type=cancel"
                           "&payload=before&self=1"));
    json_t *cancelled = debug_node(instance, "action=cancel&plugin=probe-a&type=cancel");
    assert_int_equal(json_integer_value(json_object_get(reply_of(cancelled, 1), "cancelled")), 1);
    json_decref(cancelled);
    json_decref(debug_node(instance, "action=broadcast&worker=1&plugin=probe-a&type=cancel"
                           "&payload=after&self=1"));
    json_t *replies = debug_node(instance, "action=received&payloads=1");
    for (int worker = 1; worker <= (clustered ? 2 : 1); worker++)
        assert_string_equal(payloads_of(replies, worker, "probe-a", "cancel", 0), "before");
    json_decref(replies);
}

/* persist: a handler registered after the message still gets it (the last
 * one of its type), in the sender (send_to_self), in another worker, and
 * in a client that connects later; without persist it does not. */
static void
check_persist(instance_t *instance, bool clustered)
{
    const char *self = "&self=1";
    json_decref(debug_node(instance, "action=broadcast&worker=1&plugin=probe-a&type=kept"
                           "&payload=old&persist=1%s", self));
    json_decref(debug_node(instance, "action=broadcast&worker=1&plugin=probe-a&type=kept"
                           "&payload=last&persist=1%s", self));
    json_decref(debug_node(instance, "action=broadcast&worker=1&plugin=probe-a&type=gone"
                           "&payload=not-kept%s", self));
    json_decref(debug_node(instance, "action=on&plugin=probe-a&type=kept"));
    json_decref(debug_node(instance, "action=on&plugin=probe-a&type=gone"));
    json_t *replies = debug_node(instance, "action=received&payloads=1");
    for (int worker = 1; worker <= (clustered ? 2 : 1); worker++) {
        assert_string_equal(payloads_of(replies, worker, "probe-a", "kept", 0), "last");
        assert_string_equal(payloads_of(replies, worker, "probe-a", "gone", 0), "");
    }
    json_decref(replies);
    if (!clustered)
        return;
    corral_node_client_t *client = corral_node_client_new(instance_runtime_dir(instance), WAIT_MS);
    assert_non_null(client);
    corral_node_t *probe = corral_node_client_plugin(client, "probe-a");
    recording_t kept = { 0 }, gone = { 0 }, marker = { 0 };
    corral_node_on(probe, "kept", record, &kept);
    corral_node_on(probe, "gone", record, &gone);
    corral_node_on(probe, "marker", record, &marker);
    corral_broadcast_opts_t to_self = { .send_to_self = true };
    assert_int_equal(corral_node_broadcast(probe, "marker", "m", 1, &to_self), 0);
    assert_true(poll_until(client, &marker, 1));   /* everything before it was delivered */
    assert_int_equal(kept.count, 1);
    assert_string_equal(kept.last_payload, "last");
    assert_int_equal(gone.count, 0);
    free(kept.seqs);
    free(marker.seqs);
    corral_node_client_destroy(&client);
}

static void
check_identity(instance_t *instance, bool clustered)
{
    json_t *replies = debug_node(instance, "action=received");
    json_t *first = reply_of(replies, 1);
    assert_int_equal(json_is_true(json_object_get(first, "enabled")), clustered);
    assert_true(json_is_true(json_object_get(first, "main")));
    assert_int_equal(json_integer_value(json_object_get(first, "worker_id")), 1);
    const char *uuid = json_string_value(json_object_get(first, "instance_uuid"));
    assert_int_equal(strlen(uuid), 36);
    char path[512], expected[128];
    snprintf(path, sizeof path, "%s/data/uuid", instance_dir(instance));
    char *file = read_text_file(path);
    assert_non_null(file);
    assert_int_equal(strncmp(file, uuid, 36), 0);
    free(file);
    for (int worker = 1; worker <= (clustered ? 2 : 1); worker++) {
        snprintf(expected, sizeof expected, "%s-%d", uuid, worker);
        assert_string_equal(json_string_value(json_object_get(reply_of(replies, worker), "node_id")),
                            expected);
    }
    if (clustered)
        assert_false(json_is_true(json_object_get(reply_of(replies, 2), "main")));
    json_decref(replies);
}

static void
check_api(bool clustered)
{
    instance_t *instance = start_instance(2, clustered);
    check_identity(instance, clustered);
    check_send_to_self(instance, clustered);
    check_isolation(instance, clustered);
    check_cancel(instance, clustered);
    check_persist(instance, clustered);
    stop_instance(&instance);
}

static void
test_api_clustered(void **state)
{
    check_api(true);
}

static void
test_api_classic(void **state)
{
    check_api(false);
}

/* --- Bad input on bus-in -------------------------------------------------------------- */

static zframe_t *
packed(corral_envelope_t *envelope)
{
    envelope->protocol = CORRAL_PROTOCOL_VERSION;
    zframe_t *frame = zframe_new(NULL, corral__v1__envelope__get_packed_size(envelope));
    corral__v1__envelope__pack(envelope, zframe_data(frame));
    return frame;
}

static zframe_t *
broadcast_frame(const char *plugin, const char *type, const char *payload)
{
    Corral__V1__Broadcast broadcast = CORRAL__V1__BROADCAST__INIT;
    broadcast.plugin = (char *) plugin;
    broadcast.type = (char *) type;
    broadcast.payload.data = (uint8_t *) payload;
    broadcast.payload.len = strlen(payload);
    broadcast.sender = (char *) "S/tttttttttttttttt";
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_BROADCAST;
    envelope.broadcast = &broadcast;
    return packed(&envelope);
}

typedef struct {
    corral_node_client_t *client;
    zsock_t *push;
    recording_t after;
    corral_bus_stats_t stats;
} bad_input_t;

/* Sends `frame` (and `more` frames after it when not NULL), then a normal
 * broadcast on the same connection; awaits the latter at the client and
 * reads the counters. */
static void
send_bad(bad_input_t *bad, zframe_t *frame, zframe_t *more)
{
    assert_int_equal(zframe_send(&frame, bad->push, more ? ZFRAME_MORE : 0), 0);
    if (more)
        assert_int_equal(zframe_send(&more, bad->push, 0), 0);
    zframe_t *normal = broadcast_frame("probe-a", "after", "still-works");
    assert_int_equal(zframe_send(&normal, bad->push, 0), 0);
    size_t before = bad->after.count;
    assert_true(poll_until(bad->client, &bad->after, before + 1));
    assert_string_equal(bad->after.last_payload, "still-works");
    assert_int_equal(corral_node_client_stats(bad->client, &bad->stats, WAIT_MS), 0);
}

static void
test_bad_input_on_bus_in(void **state)
{
    instance_t *instance = start_instance(2, true);
    bad_input_t bad = { 0 };
    bad.client = corral_node_client_new(instance_runtime_dir(instance), WAIT_MS);
    assert_non_null(bad.client);
    corral_node_on(corral_node_client_plugin(bad.client, "probe-a"), "after", record, &bad.after);
    bad.push = zsock_new_push(NULL);
    zsock_set_sndhwm(bad.push, 0);
    assert_int_equal(zsock_connect(bad.push, "ipc://%s/bus-in", instance_runtime_dir(instance)), 0);

    send_bad(&bad, zframe_new("\xff\x01 random bytes \x00\x7f", 18), NULL);
    assert_int_equal(bad.stats.not_envelope, 1);
    assert_int_equal(bad.stats.dropped, 1);

    Corral__V1__Hello hello = CORRAL__V1__HELLO__INIT;
    hello.worker_id = 1;
    corral_envelope_t wrong = CORRAL__V1__ENVELOPE__INIT;
    wrong.body_case = CORRAL__V1__ENVELOPE__BODY_HELLO;
    wrong.hello = &hello;
    send_bad(&bad, packed(&wrong), NULL);
    assert_int_equal(bad.stats.wrong_body, 1);
    assert_int_equal(bad.stats.dropped, 2);

    size_t big = CORRAL_MAX_BROADCAST_BYTES + 1024;
    char *payload = malloc(big + 1);
    memset(payload, 'x', big);
    payload[big] = '\0';
    send_bad(&bad, broadcast_frame("probe-a", "big", payload), NULL);
    free(payload);
    assert_int_equal(bad.stats.oversized, 1);
    assert_int_equal(bad.stats.dropped, 3);

    send_bad(&bad, broadcast_frame("", "type", "{}"), NULL);
    assert_int_equal(bad.stats.invalid, 1);
    send_bad(&bad, broadcast_frame("probe-a", "", "{}"), NULL);
    assert_int_equal(bad.stats.invalid, 2);
    send_bad(&bad, broadcast_frame("probe-a", "x", "{}"), zframe_new("extra", 5));
    assert_int_equal(bad.stats.invalid, 3);
    assert_int_equal(bad.stats.dropped, 6);
    assert_true(instance_wait_output(instance, "bus-in: dropped", WAIT_MS));

    /* a frame over the frame limit (5 MiB): received, dropped, counted */
    zframe_t *frame = zframe_new(NULL, CORRAL_MAX_FRAME_BYTES + (1u << 20));
    memset(zframe_data(frame), 0, zframe_size(frame));
    send_bad(&bad, frame, NULL);
    assert_int_equal(bad.stats.oversized, 2);
    assert_int_equal(bad.stats.dropped, 7);

    /* a frame above ZMQ_MAXMSGSIZE (the transport's bound): ZeroMQ drops
     * that connection, the bus goes on (not counted: it never reaches the
     * coordinator) */
    zsock_t *huge = zsock_new_push(NULL);
    assert_int_equal(zsock_connect(huge, "ipc://%s/bus-in", instance_runtime_dir(instance)), 0);
    frame = zframe_new(NULL, CORRAL_MAX_TRANSPORT_BYTES + 1);
    memset(zframe_data(frame), 0, zframe_size(frame));
    zframe_send(&frame, huge, 0);

    /* and the workers still broadcast to each other */
    json_decref(debug_node(instance, "action=on&worker=2&plugin=probe-a&type=later"));
    json_decref(debug_node(instance, "action=broadcast&worker=1&plugin=probe-a&type=later"
                           "&payload=fine"));
    json_t *replies = debug_node(instance, "action=received&worker=2&payloads=1");
    assert_string_equal(payloads_of(replies, 2, "probe-a", "later", 0), "fine");
    json_decref(replies);
    send_bad(&bad, broadcast_frame("probe-a", "y", "{}"), zframe_new("extra", 5));
    assert_int_equal(bad.stats.dropped, 8);

    zsock_destroy(&huge);
    zsock_destroy(&bad.push);
    free(bad.after.seqs);
    corral_node_client_destroy(&bad.client);
    stop_instance(&instance);
}

/* A persisted store larger than a frame still reaches a late subscriber
 * (the snapshot comes in parts). */
static void
test_large_persisted_store(void **state)
{
    instance_t *instance = start_instance(2, true);
    corral_node_client_t *sender = corral_node_client_new(instance_runtime_dir(instance), WAIT_MS);
    assert_non_null(sender);
    size_t size = 900 * 1000;
    char *payload = malloc(size);
    memset(payload, 'p', size);
    corral_node_t *probe = corral_node_client_plugin(sender, "probe-b");
    corral_broadcast_opts_t to_self_persisted = { .send_to_self = true, .persist = true };
    recording_t echo = { 0 };
    corral_node_on(probe, "big5", record, &echo);
    char type[16];
    for (int i = 0; i < 6; i++) {
        snprintf(type, sizeof type, "big%d", i);
        assert_int_equal(corral_node_broadcast(probe, type, payload, size,
                                               &to_self_persisted), 0);
    }
    assert_true(poll_until(sender, &echo, 1));      /* the coordinator has them all */

    corral_node_client_t *late = corral_node_client_new(instance_runtime_dir(instance), WAIT_MS);
    assert_non_null(late);
    recording_t got[6] = { { 0 } };
    for (int i = 0; i < 6; i++) {
        snprintf(type, sizeof type, "big%d", i);
        corral_node_on(corral_node_client_plugin(late, "probe-b"), type, record, &got[i]);
    }
    corral_node_client_poll(late, 0);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(got[i].count, 1);
        free(got[i].seqs);
    }
    free(echo.seqs);
    free(payload);
    corral_node_client_destroy(&late);
    corral_node_client_destroy(&sender);
    stop_instance(&instance);
}

int
main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ten_thousand_broadcasts_exactly_once_in_order),
        cmocka_unit_test(test_api_clustered),
        cmocka_unit_test(test_api_classic),
        cmocka_unit_test(test_bad_input_on_bus_in),
        cmocka_unit_test(test_large_persisted_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
