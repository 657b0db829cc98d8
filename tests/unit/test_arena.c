/* test_arena.c: the bump allocator every hot-path Envelope is unpacked
 * into (proto/arena.h): what it unpacks reads back whole, however large;
 * an envelope stays valid while another one is unpacked beside it; the
 * arena grows to hold next time what spilled this time, and frees what
 * spilled. (Leaks would show under the sanitizers.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "corral/v1/corral.pb-c.h"

/* A packed Broadcast whose payload is `size` bytes of `fill`. */
static uint8_t *
pack_broadcast(size_t size, char fill, size_t *length)
{
    uint8_t *payload = malloc(size);
    memset(payload, fill, size);
    Corral__V1__Broadcast broadcast = CORRAL__V1__BROADCAST__INIT;
    broadcast.plugin = "test";
    broadcast.type = "fill";
    broadcast.payload = (ProtobufCBinaryData) { size, payload };
    Corral__V1__Envelope envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_BROADCAST;
    envelope.broadcast = &broadcast;
    *length = corral__v1__envelope__get_packed_size(&envelope);
    uint8_t *bytes = malloc(*length);
    corral__v1__envelope__pack(&envelope, bytes);
    free(payload);
    return bytes;
}

static void
assert_filled(const Corral__V1__Envelope *envelope, size_t size, char fill)
{
    assert_non_null(envelope);
    assert_int_equal(envelope->body_case, CORRAL__V1__ENVELOPE__BODY_BROADCAST);
    assert_string_equal(envelope->broadcast->type, "fill");
    assert_int_equal(envelope->broadcast->payload.len, size);
    for (size_t i = 0; i < size; i++)
        if (envelope->broadcast->payload.data[i] != (uint8_t) fill)
            fail_msg("byte %zu of %zu is not '%c'", i, size, fill);
}

static void
test_small_and_large_envelopes_read_back_whole(void **state)
{
    corral_arena_t *arena = corral_arena_new();
    assert_non_null(arena);
    size_t sizes[] = { 10, 1000, 3 * CORRAL_ARENA_INITIAL_BYTES, 10 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t length;
        uint8_t *bytes = pack_broadcast(sizes[i], (char) ('a' + i), &length);
        Corral__V1__Envelope *envelope = corral_arena_unpack(arena, length, bytes);
        assert_filled(envelope, sizes[i], (char) ('a' + i));
        corral_arena_free_envelope(arena, &envelope);
        assert_null(envelope);
        free(bytes);
    }
    /* the large one spilled once; the buffer grew to hold it next time */
    assert_true(corral_arena_size(arena) >= 3 * CORRAL_ARENA_INITIAL_BYTES);
    corral_arena_destroy(&arena);
    assert_null(arena);
}

static void
test_an_envelope_survives_another_unpacked_beside_it(void **state)
{
    corral_arena_t *arena = corral_arena_new();
    size_t first_length, second_length;
    uint8_t *first_bytes = pack_broadcast(5000, 'x', &first_length);
    uint8_t *second_bytes = pack_broadcast(2 * CORRAL_ARENA_INITIAL_BYTES, 'y', &second_length);
    Corral__V1__Envelope *first = corral_arena_unpack(arena, first_length, first_bytes);
    Corral__V1__Envelope *second = corral_arena_unpack(arena, second_length, second_bytes);
    /* not an Envelope: refused, and the two alive are untouched */
    uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_null(corral_arena_unpack(arena, sizeof garbage, garbage));
    corral_arena_free_envelope(arena, &second);
    assert_filled(first, 5000, 'x');
    Corral__V1__Envelope *third = corral_arena_unpack(arena, second_length, second_bytes);
    assert_filled(third, 2 * CORRAL_ARENA_INITIAL_BYTES, 'y');
    assert_filled(first, 5000, 'x');
    corral_arena_free_envelope(arena, &third);
    corral_arena_free_envelope(arena, &first);
    free(first_bytes);
    free(second_bytes);
    corral_arena_destroy(&arena);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_and_large_envelopes_read_back_whole),
        cmocka_unit_test(test_an_envelope_survives_another_unpacked_beside_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
