/* arena.c: the bump allocator behind ProtobufCAllocator. */
#include "arena.h"

#include <stdlib.h>

#include "corral/v1/corral.pb-c.h"

static void *
arena_alloc(void *data, size_t size)
{
    corral_arena_t *self = data;
    size_t rounded = (size + 15) & ~(size_t) 15;
    if (rounded < size || rounded > CORRAL_ARENA_BYTES - self->used)
        return malloc(size);
    void *pointer = self->buffer + self->used;
    self->used += rounded;
    return pointer;
}

static void
arena_free(void *data, void *pointer)
{
    corral_arena_t *self = data;
    uint8_t *p = pointer;
    if (p < self->buffer || p >= self->buffer + CORRAL_ARENA_BYTES)
        free(pointer);
}

void
corral_arena_init(corral_arena_t *self)
{
    self->allocator = (ProtobufCAllocator) { arena_alloc, arena_free, self };
    self->used = 0;
    self->in_use = 0;
}

Corral__V1__Envelope *
corral_arena_unpack(corral_arena_t *self, size_t size, const uint8_t *data)
{
    Corral__V1__Envelope *envelope =
        corral__v1__envelope__unpack(&self->allocator, size, data);
    if (envelope)
        self->in_use++;
    else if (self->in_use == 0)
        self->used = 0;
    return envelope;
}

void
corral_arena_free_envelope(corral_arena_t *self, Corral__V1__Envelope **envelope_p)
{
    if (!*envelope_p)
        return;
    corral__v1__envelope__free_unpacked(*envelope_p, &self->allocator);
    *envelope_p = NULL;
    if (--self->in_use == 0)
        self->used = 0;
}
