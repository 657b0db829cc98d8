/* arena.h: the bump allocator behind every Envelope unpacked on a hot
 * path (the bus in the coordinator and in each worker, the log collector):
 * unpacking allocates every string of every field; here that is one
 * pointer bump each and one reset per message, nothing freed one by one.
 *
 * A block that does not fit is malloc'd and freed at the next reset,
 * which grows the buffer to hold as much next time. The arena resets
 * itself once no envelope unpacked from it is alive, so that an envelope
 * handled while another one is (a handler that unpacks) stays valid. */
#ifndef CORRAL_ARENA_H
#define CORRAL_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define CORRAL_ARENA_INITIAL_BYTES (64 * 1024)

typedef struct corral_arena corral_arena_t;

/* NULL when out of memory. */
corral_arena_t *corral_arena_new(void);
void corral_arena_destroy(corral_arena_t **self_p);

/* Unpacks an Envelope into the arena; NULL if it is not one. Release it
 * with corral_arena_free_envelope (nothing to walk: its memory goes back
 * whole at the reset). */
struct Corral__V1__Envelope *corral_arena_unpack(corral_arena_t *self, size_t size,
                                                 const uint8_t *data);
void corral_arena_free_envelope(corral_arena_t *self, struct Corral__V1__Envelope **envelope_p);

/* Bytes the arena holds now (its buffer and what spilled past it). */
size_t corral_arena_size(const corral_arena_t *self);

#endif
