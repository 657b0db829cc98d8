/* test_bus_store.c: the persisted store across a binary upgrade
 * (upgrade.h): what one bus exports another imports, in seq order,
 * sequenced anew in its own epoch after what it holds, within its byte
 * limit; the last message of a (plugin, type) wins; what the old bus
 * took afterwards follows unless the new one's own traffic replaced it.
 * Two real buses on
 * real ipc endpoints in temporary runtime directories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus.h"
#include "envelope.h"

typedef struct {
    char dir[64];
    zloop_t *loop;
    corral_bus_t *bus;
} side_t;

static void
side_new(side_t *side, uint64_t max_bytes)
{
    strcpy(side->dir, "/tmp/corral-bus-store-XXXXXX");
    assert_non_null(mkdtemp(side->dir));
    side->loop = zloop_new();
    side->bus = corral_bus_new(side->loop, side->dir, max_bytes);
    assert_non_null(side->bus);
}

static void
side_destroy(side_t *side)
{
    corral_bus_destroy(&side->bus);
    zloop_destroy(&side->loop);
    char path[128];
    snprintf(path, sizeof path, "%s/bus-in", side->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/bus-out", side->dir);
    unlink(path);
    rmdir(side->dir);
}

static void
broadcast(side_t *side, const char *type, const char *payload, bool persist)
{
    Corral__V1__Broadcast body = CORRAL__V1__BROADCAST__INIT;
    body.plugin = "p";
    body.type = (char *) type;
    body.payload = (ProtobufCBinaryData) { strlen(payload), (uint8_t *) payload };
    body.persist = persist;
    body.sender = "S/0123456789abcdef";
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_BROADCAST;
    envelope.broadcast = &body;
    zframe_t *frame = corral_envelope_pack(&envelope);     /* it sets the protocol */
    assert_non_null(frame);
    corral_bus_take_frame(side->bus, zframe_data(frame), zframe_size(frame));
    zframe_destroy(&frame);
}

static Corral__V1__Snapshot *
store_of(side_t *side)
{
    size_t size = 0;
    uint8_t *packed = corral_bus_export(side->bus, 0, &size);
    assert_non_null(packed);
    Corral__V1__Snapshot *snapshot = corral__v1__snapshot__unpack(NULL, size, packed);
    free(packed);
    assert_non_null(snapshot);
    return snapshot;
}

static int
import(side_t *to, side_t *from)
{
    size_t size = 0;
    uint8_t *packed = corral_bus_export(from->bus, 0, &size);
    int kept = corral_bus_import(to->bus, packed, size, false);
    free(packed);
    return kept;
}

static void
test_the_store_moves_in_order(void **state)
{
    side_t old, new;
    side_new(&old, 1 << 20);
    side_new(&new, 1 << 20);
    broadcast(&old, "a", "a1", true);
    broadcast(&old, "live", "x", false);
    broadcast(&old, "b", "b1", true);
    broadcast(&old, "a", "a2", true);        /* replaces a1, after b */
    broadcast(&new, "own", "o", true);
    assert_int_equal(import(&new, &old), 2);
    Corral__V1__Snapshot *store = store_of(&new);
    assert_int_equal(store->n_messages, 3);
    const char *expected[] = { "o", "b1", "a2" };
    for (size_t i = 0; i < 3; i++) {
        Corral__V1__Broadcast *message = store->messages[i];
        assert_int_equal(message->seq, i + 1);          /* this bus's numbers */
        assert_int_equal(message->epoch, store->epoch);
        assert_memory_equal(message->payload.data, expected[i], strlen(expected[i]));
    }
    assert_int_equal(store->upto_seq, 3);
    corral__v1__snapshot__free_unpacked(store, NULL);
    /* the next broadcast follows them */
    broadcast(&new, "c", "c1", true);
    store = store_of(&new);
    assert_int_equal(store->messages[3]->seq, 4);
    corral__v1__snapshot__free_unpacked(store, NULL);
    side_destroy(&old);
    side_destroy(&new);
}

static void
test_the_limit_holds_and_garbage_is_refused(void **state)
{
    side_t old, new;
    side_new(&old, 1 << 20);
    side_new(&new, 200);
    char payload[120];
    memset(payload, 'x', sizeof payload - 1);
    payload[sizeof payload - 1] = '\0';
    broadcast(&old, "a", payload, true);
    broadcast(&old, "b", payload, true);
    assert_int_equal(import(&new, &old), 1);    /* the second would pass 200 bytes */
    assert_true(corral_bus_stats(new.bus)->persisted_bytes <= 200);
    static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0x01 };
    assert_int_equal(corral_bus_import(new.bus, garbage, sizeof garbage, false), -1);
    side_destroy(&old);
    side_destroy(&new);
}

/* What the old bus took after the store was passed on: broadcast in the
 * new one, unless the new one's own traffic replaced that (plugin, type). */
static void
test_late_messages_unless_replaced(void **state)
{
    side_t old, new;
    side_new(&old, 1 << 20);
    side_new(&new, 1 << 20);
    broadcast(&old, "a", "a1", true);
    broadcast(&old, "c", "c1", true);
    uint64_t upto = corral_bus_last_seq(old.bus);
    assert_int_equal(import(&new, &old), 2);
    broadcast(&old, "b", "b1", true);           /* late, a new key */
    broadcast(&old, "a", "a2", true);           /* late, but replaced below */
    broadcast(&old, "c", "c2", true);           /* late, over the imported c1 */
    broadcast(&new, "a", "a-new", true);
    size_t size = 0;
    uint8_t *late = corral_bus_export(old.bus, upto, &size);
    assert_int_equal(corral_bus_import(new.bus, late, size, true), 2);
    free(late);
    Corral__V1__Snapshot *store = store_of(&new);
    assert_int_equal(store->n_messages, 3);
    const char *expected[] = { "a-new", "b1", "c2" };   /* in seq order */
    for (size_t i = 0; i < 3; i++)
        assert_memory_equal(store->messages[i]->payload.data, expected[i],
                            strlen(expected[i]));
    corral__v1__snapshot__free_unpacked(store, NULL);
    side_destroy(&old);
    side_destroy(&new);
}

int
main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_store_moves_in_order),
        cmocka_unit_test(test_the_limit_holds_and_garbage_is_refused),
        cmocka_unit_test(test_late_messages_unless_replaced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
