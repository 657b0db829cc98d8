/* log_hold.c: a FIFO of copied log records, bounded in bytes. */
#include "log_hold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct held held_t;
struct held {
    held_t *next;
    size_t bytes;
    corral_log_record_t record;     /* its strings follow the struct */
};

struct corral_log_hold {
    held_t *head;
    held_t *tail;
    size_t bytes;
    size_t max_bytes;
    uint64_t count;
    uint64_t dropped;
};

corral_log_hold_t *
corral_log_hold_new(size_t max_bytes)
{
    corral_log_hold_t *self = calloc(1, sizeof *self);
    if (self)
        self->max_bytes = max_bytes;
    return self;
}

static void
forget_all(corral_log_hold_t *self)
{
    while (self->head) {
        held_t *next = self->head->next;
        free(self->head);
        self->head = next;
    }
    self->tail = NULL;
    self->bytes = 0;
    self->count = 0;
}

void
corral_log_hold_destroy(corral_log_hold_t **self_p)
{
    corral_log_hold_t *self = *self_p;
    if (!self)
        return;
    forget_all(self);
    free(self);
    *self_p = NULL;
}

static size_t
length_of(const char *text)
{
    return text ? strlen(text) + 1 : 0;
}

/* Copies `text` to *cursor (advanced); NULL stays NULL. */
static const char *
copy_text(char **cursor, const char *text)
{
    if (!text)
        return NULL;
    size_t length = strlen(text) + 1;
    char *copy = memcpy(*cursor, text, length);
    *cursor += length;
    return copy;
}

void
corral_log_hold_push(corral_log_hold_t *self, const corral_log_record_t *record)
{
    size_t strings = length_of(record->logger) + length_of(record->message)
                   + length_of(record->meta) + length_of(record->error)
                   + length_of(record->worker);
    size_t bytes = sizeof(held_t) + strings;
    held_t *held = self->bytes + bytes <= self->max_bytes ? malloc(bytes) : NULL;
    if (!held) {
        self->dropped++;
        return;
    }
    held->next = NULL;
    held->bytes = bytes;
    held->record = *record;
    char *cursor = (char *) (held + 1);
    held->record.logger = copy_text(&cursor, record->logger);
    held->record.message = copy_text(&cursor, record->message);
    held->record.meta = copy_text(&cursor, record->meta);
    held->record.error = copy_text(&cursor, record->error);
    held->record.worker = copy_text(&cursor, record->worker);
    if (self->tail)
        self->tail->next = held;
    else
        self->head = held;
    self->tail = held;
    self->bytes += bytes;
    self->count++;
}

void
corral_log_hold_replay(corral_log_hold_t *self, corral_log_router_t *router)
{
    for (held_t *held = self->head; held; held = held->next)
        corral_log_router_write(router, &held->record);
    corral_log_router_flush(router);
    forget_all(self);
}

void
corral_log_hold_spill(corral_log_hold_t *self, int fd)
{
    for (held_t *held = self->head; held; held = held->next) {
        const corral_log_record_t *record = &held->record;
        dprintf(fd, "[%lld][%s][%s][%s] %s%s%s\n", (long long) record->timestamp_ms,
                corral_level_name(record->level), record->worker ? record->worker : "",
                record->logger ? record->logger : "", record->message ? record->message : "",
                record->error ? " " : "", record->error ? record->error : "");
    }
    forget_all(self);
}

uint64_t
corral_log_hold_count(const corral_log_hold_t *self)
{
    return self->count;
}

uint64_t
corral_log_hold_dropped(const corral_log_hold_t *self)
{
    return self->dropped;
}
