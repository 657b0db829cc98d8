/* arena.h: a bump allocator for unpacking one Envelope at a time on the
 * bus's hot path: no malloc per field, one reset per message. What does
 * not fit falls back to malloc (and is freed normally). */
#ifndef CORRAL_ARENA_H
#define CORRAL_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define CORRAL_ARENA_BYTES (64 * 1024)

typedef struct {
    ProtobufCAllocator allocator;   /* pass &arena->allocator to unpack and free */
    size_t used;
    int in_use;                     /* unpacked messages not freed yet */
    _Alignas(16) uint8_t buffer[CORRAL_ARENA_BYTES];
} corral_arena_t;

void corral_arena_init(corral_arena_t *self);

/* Unpacks an Envelope into the arena; NULL if it is not one. Free it with
 * corral_arena_free_envelope, which reuses the space once nothing
 * unpacked from the arena is alive. */
struct Corral__V1__Envelope *corral_arena_unpack(corral_arena_t *self, size_t size,
                                                 const uint8_t *data);
void corral_arena_free_envelope(corral_arena_t *self, struct Corral__V1__Envelope **envelope_p);

#endif
