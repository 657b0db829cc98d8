/* test_bus_client.c: the worker's side of the bus against a real XPUB and
 * PULL standing in for the coordinator: nothing before the snapshot, the
 * snapshot's persisted messages, duplicates dropped, a gap counted and
 * answered with a resubscription, the fresh snapshot resuming the stream
 * without a duplicate; and what a broadcast looks like on bus-in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_client.h"
#include "bus_wire.h"

#define EPOCH 42
#define ID "tttttttttttttttt"
#define TOPIC "S/" ID

typedef struct {
    char dir[64];
    char in[128];
    char out[128];
    zsock_t *pull;
    zsock_t *xpub;
    corral_bus_client_t *client;
    uint64_t delivered[64];
    size_t count;
} fixture_t;

static void
deliver(const Corral__V1__Broadcast *broadcast, void *arg)
{
    fixture_t *fixture = arg;
    if (fixture->count < 64)
        fixture->delivered[fixture->count++] = broadcast->seq;
}

/* The next subscription message the "coordinator" sees: "+topic" or "-topic". */
static char *
next_subscription(fixture_t *fixture)
{
    zsock_set_rcvtimeo(fixture->xpub, 10000);
    zframe_t *frame = zframe_recv(fixture->xpub);
    assert_non_null(frame);
    char *text = calloc(1, zframe_size(frame) + 1);
    text[0] = zframe_data(frame)[0] == 1 ? '+' : '-';
    memcpy(text + 1, zframe_data(frame) + 1, zframe_size(frame) - 1);
    zframe_destroy(&frame);
    return text;
}

static void
expect_subscription(fixture_t *fixture, const char *expected)
{
    char *text = next_subscription(fixture);
    assert_string_equal(text, expected);
    free(text);
}

static int
setup(void **state)
{
    zsys_handler_set(NULL);
    fixture_t *fixture = calloc(1, sizeof *fixture);
    strcpy(fixture->dir, "/tmp/corral-bus-test.XXXXXX");
    assert_non_null(mkdtemp(fixture->dir));
    snprintf(fixture->in, sizeof fixture->in, "ipc://%s/bus-in", fixture->dir);
    snprintf(fixture->out, sizeof fixture->out, "ipc://%s/bus-out", fixture->dir);
    fixture->pull = zsock_new_pull(fixture->in);
    fixture->xpub = zsock_new_xpub(fixture->out);
    assert_non_null(fixture->pull);
    assert_non_null(fixture->xpub);
    zsock_set_xpub_verbose(fixture->xpub, 1);
    fixture->client = corral_bus_client_new(fixture->in, fixture->out, ID, 3, deliver, fixture);
    assert_non_null(fixture->client);
    expect_subscription(fixture, "+B");         /* in this order */
    expect_subscription(fixture, "+" TOPIC);
    *state = fixture;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *fixture = *state;
    corral_bus_client_destroy(&fixture->client);
    zsock_destroy(&fixture->pull);
    zsock_destroy(&fixture->xpub);
    char path[160];
    snprintf(path, sizeof path, "%s/bus-in", fixture->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/bus-out", fixture->dir);
    unlink(path);
    rmdir(fixture->dir);
    free(fixture);
    return 0;
}

static void
publish(fixture_t *fixture, const char *topic, corral_envelope_t *envelope)
{
    envelope->protocol = CORRAL_PROTOCOL_VERSION;
    zframe_t *body = zframe_new(NULL, corral__v1__envelope__get_packed_size(envelope));
    corral__v1__envelope__pack(envelope, zframe_data(body));
    zstr_sendm(fixture->xpub, topic);
    zframe_send(&body, fixture->xpub, 0);
}

static void
publish_broadcast(fixture_t *fixture, uint64_t seq)
{
    Corral__V1__Broadcast broadcast = CORRAL__V1__BROADCAST__INIT;
    broadcast.plugin = (char *) "p";
    broadcast.type = (char *) "t";
    broadcast.seq = seq;
    broadcast.epoch = EPOCH;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_BROADCAST;
    envelope.broadcast = &broadcast;
    publish(fixture, "B", &envelope);
}

static void
publish_snapshot(fixture_t *fixture, uint64_t upto, uint64_t persisted_seq)
{
    Corral__V1__Broadcast persisted = CORRAL__V1__BROADCAST__INIT;
    persisted.plugin = (char *) "p";
    persisted.type = (char *) "kept";
    persisted.persist = true;
    persisted.seq = persisted_seq;
    persisted.epoch = EPOCH;
    Corral__V1__Broadcast *messages[] = { &persisted };
    Corral__V1__Snapshot snapshot = CORRAL__V1__SNAPSHOT__INIT;
    snapshot.upto_seq = upto;
    snapshot.epoch = EPOCH;
    snapshot.n_messages = 1;
    snapshot.messages = messages;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_SNAPSHOT;
    envelope.snapshot = &snapshot;
    publish(fixture, TOPIC, &envelope);
}

/* Reads until `count` deliveries in all (the last message published is
 * always one that is delivered, so this never waits on a dropped one). */
static void
read_until(fixture_t *fixture, size_t count)
{
    zmq_pollitem_t item = { zsock_resolve(corral_bus_client_socket(fixture->client)), 0,
                            ZMQ_POLLIN, 0 };
    int64_t deadline = zclock_mono() + 10000;
    while (fixture->count < count && zclock_mono() < deadline)
        if (zmq_poll(&item, 1, 100) > 0)
            corral_bus_client_read(fixture->client);
    assert_int_equal(fixture->count, count);
}

static void
test_exactly_once_in_order_across_a_gap(void **state)
{
    fixture_t *fixture = *state;
    publish_broadcast(fixture, 4);              /* before our snapshot: dropped */
    publish_snapshot(fixture, 5, 3);            /* persisted seq 3, stream resumes after 5 */
    publish_broadcast(fixture, 5);              /* already covered by the snapshot */
    publish_broadcast(fixture, 6);
    publish_broadcast(fixture, 7);
    publish_broadcast(fixture, 7);              /* duplicate */
    read_until(fixture, 3);
    assert_true(corral_bus_client_synced(fixture->client));
    uint64_t first[] = { 3, 6, 7 };
    assert_memory_equal(fixture->delivered, first, sizeof first);

    publish_broadcast(fixture, 9);              /* 8 went missing */
    zmq_pollitem_t item = { zsock_resolve(corral_bus_client_socket(fixture->client)), 0,
                            ZMQ_POLLIN, 0 };
    while (corral_bus_client_gaps(fixture->client) == 0 && zmq_poll(&item, 1, 10000) > 0)
        corral_bus_client_read(fixture->client);
    assert_int_equal(corral_bus_client_gaps(fixture->client), 1);
    assert_false(corral_bus_client_synced(fixture->client));
    expect_subscription(fixture, "-" TOPIC);    /* it asks for a fresh snapshot */
    expect_subscription(fixture, "+" TOPIC);
    publish_broadcast(fixture, 10);             /* still waiting: dropped */
    publish_snapshot(fixture, 10, 8);
    publish_broadcast(fixture, 10);             /* covered */
    publish_broadcast(fixture, 11);
    read_until(fixture, 5);
    uint64_t all[] = { 3, 6, 7, 8, 11 };
    assert_memory_equal(fixture->delivered, all, sizeof all);
    assert_int_equal(corral_bus_client_last_seq(fixture->client), 11);
}

/* A snapshot that never comes (a full queue dropped it) is asked for again. */
static void
test_a_lost_snapshot_is_asked_for_again(void **state)
{
    fixture_t *fixture = *state;
    assert_false(corral_bus_client_synced(fixture->client));
    zsock_set_rcvtimeo(fixture->xpub, 100);
    zframe_t *frame = NULL;
    int64_t deadline = zclock_mono() + 10 * CORRAL_BUS_SNAPSHOT_RETRY_MS;
    while (!frame && zclock_mono() < deadline) {
        corral_bus_client_tick(fixture->client);
        frame = zframe_recv(fixture->xpub);
    }
    assert_non_null(frame);
    assert_int_equal(zframe_data(frame)[0], 0);     /* unsubscribe, then subscribe */
    zframe_destroy(&frame);
    expect_subscription(fixture, "+" TOPIC);
    publish_snapshot(fixture, 1, 1);
    read_until(fixture, 1);
    assert_true(corral_bus_client_synced(fixture->client));
}

static void
test_a_broadcast_on_bus_in(void **state)
{
    fixture_t *fixture = *state;
    Corral__V1__Broadcast broadcast = CORRAL__V1__BROADCAST__INIT;
    broadcast.plugin = (char *) "migrations";
    broadcast.type = (char *) "migration-complete";
    broadcast.persist = true;
    assert_int_equal(corral_bus_client_send(fixture->client, &broadcast), 0);
    zsock_set_rcvtimeo(fixture->pull, 10000);
    zmsg_t *message = zmsg_recv(fixture->pull);
    assert_non_null(message);
    assert_int_equal(zmsg_size(message), 1);    /* one frame: the Envelope */
    zframe_t *frame = zmsg_first(message);
    corral_envelope_t *envelope = corral_envelope_decode(frame);
    assert_non_null(envelope);
    assert_int_equal(envelope->body_case, CORRAL__V1__ENVELOPE__BODY_BROADCAST);
    assert_string_equal(envelope->broadcast->plugin, "migrations");
    assert_string_equal(envelope->broadcast->sender, TOPIC);
    assert_int_equal(envelope->broadcast->sender_worker_id, 3);
    assert_true(envelope->broadcast->persist);
    corral_envelope_free(&envelope);
    zmsg_destroy(&message);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exactly_once_in_order_across_a_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_lost_snapshot_is_asked_for_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_broadcast_on_bus_in, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
