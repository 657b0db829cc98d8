/* arena.c: one bump buffer, the blocks that spilled past it, and the
 * count of envelopes alive (see arena.h). */
#include "arena.h"

#include <stdlib.h>

#include "corral/v1/corral.pb-c.h"

struct corral_arena {
    ProtobufCAllocator allocator;   /* what protobuf-c allocates through */
    uint8_t *base;                  /* 16-byte aligned (malloc) */
    size_t used;
    size_t size;
    void **spilled;                 /* blocks that did not fit, freed at the reset */
    size_t spilled_count;
    size_t spilled_capacity;
    size_t spilled_bytes;
    int in_use;                     /* envelopes unpacked and not released */
};

static void *
arena_alloc(void *data, size_t size)
{
    corral_arena_t *self = data;
    size_t rounded = (size + 15) & ~(size_t) 15;
    if (rounded < size)
        return NULL;
    if (rounded <= self->size - self->used) {
        void *block = self->base + self->used;
        self->used += rounded;
        return block;
    }
    if (self->spilled_count == self->spilled_capacity) {
        size_t capacity = self->spilled_capacity ? self->spilled_capacity * 2 : 64;
        void **bigger = realloc(self->spilled, capacity * sizeof *bigger);
        if (!bigger)
            return NULL;
        self->spilled = bigger;
        self->spilled_capacity = capacity;
    }
    void *block = malloc(rounded);
    if (block) {
        self->spilled[self->spilled_count++] = block;
        self->spilled_bytes += rounded;
    }
    return block;
}

static void
arena_free(void *data, void *pointer)
{
    /* everything goes back at the reset */
}

/* Nothing unpacked from the arena is alive: its space is free again, and
 * what spilled this time fits in the buffer next time. */
static void
reset(corral_arena_t *self)
{
    for (size_t i = 0; i < self->spilled_count; i++)
        free(self->spilled[i]);
    self->spilled_count = 0;
    size_t wanted = self->used + self->spilled_bytes;
    self->spilled_bytes = 0;
    self->used = 0;
    if (wanted > self->size) {
        uint8_t *bigger = malloc(wanted * 2);
        if (bigger) {           /* else the old buffer serves, and blocks spill again */
            free(self->base);
            self->base = bigger;
            self->size = wanted * 2;
        }
    }
}

corral_arena_t *
corral_arena_new(void)
{
    corral_arena_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->allocator = (ProtobufCAllocator) { arena_alloc, arena_free, self };
    self->base = malloc(CORRAL_ARENA_INITIAL_BYTES);
    self->size = self->base ? CORRAL_ARENA_INITIAL_BYTES : 0;
    return self;
}

void
corral_arena_destroy(corral_arena_t **self_p)
{
    corral_arena_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->spilled_count; i++)
        free(self->spilled[i]);
    free(self->spilled);
    free(self->base);
    free(self);
    *self_p = NULL;
}

Corral__V1__Envelope *
corral_arena_unpack(corral_arena_t *self, size_t size, const uint8_t *data)
{
    Corral__V1__Envelope *envelope =
        corral__v1__envelope__unpack(&self->allocator, size, data);
    if (envelope)
        self->in_use++;
    else if (self->in_use == 0)
        reset(self);
    return envelope;
}

void
corral_arena_free_envelope(corral_arena_t *self, Corral__V1__Envelope **envelope_p)
{
    if (!*envelope_p)
        return;
    *envelope_p = NULL;
    if (--self->in_use == 0)
        reset(self);
}

size_t
corral_arena_size(const corral_arena_t *self)
{
    return self->size + self->spilled_bytes;
}
