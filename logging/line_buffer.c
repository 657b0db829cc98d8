/* line_buffer.c: a growable byte buffer, always NUL-terminated. */
#include "line_buffer.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
reserve(corral_line_buffer_t *self, size_t extra)
{
    size_t needed = self->length + extra + 1;
    if (needed <= self->capacity)
        return 0;
    size_t capacity = self->capacity ? self->capacity : 256;
    while (capacity < needed)
        capacity *= 2;
    char *bigger = realloc(self->on_storage ? NULL : self->data, capacity);
    if (!bigger)
        return -1;
    if (self->on_storage && self->length > 0)
        memcpy(bigger, self->data, self->length);
    self->on_storage = false;
    self->data = bigger;
    self->capacity = capacity;
    return 0;
}

int
corral_line_buffer_append(corral_line_buffer_t *self, const char *bytes, size_t length)
{
    if (reserve(self, length) != 0)
        return -1;
    memcpy(self->data + self->length, bytes, length);
    self->length += length;
    self->data[self->length] = '\0';
    return 0;
}

int
corral_line_buffer_puts(corral_line_buffer_t *self, const char *text)
{
    return corral_line_buffer_append(self, text, strlen(text));
}

int
corral_line_buffer_put_uint(corral_line_buffer_t *self, uint64_t value)
{
    char digits[20];
    size_t n = sizeof digits;
    do
        digits[--n] = (char) ('0' + value % 10);
    while ((value /= 10) > 0);
    return corral_line_buffer_append(self, digits + n, sizeof digits - n);
}

static bool
is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

int
corral_line_buffer_put_escaped(corral_line_buffer_t *self, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    const char *plain = text;
    for (;;) {
        const char *c = plain;
        while (*c && !is_control((unsigned char) *c))
            c++;
        if (corral_line_buffer_append(self, plain, (size_t) (c - plain)) != 0)
            return -1;
        if (!*c)
            return 0;
        unsigned char byte = (unsigned char) *c;
        char escape[4] = { '\\', 'x', hex[byte >> 4], hex[byte & 0xf] };
        size_t length = 4;
        if (byte == '\n' || byte == '\r' || byte == '\t') {
            escape[1] = byte == '\n' ? 'n' : byte == '\r' ? 'r' : 't';
            length = 2;
        }
        if (corral_line_buffer_append(self, escape, length) != 0)
            return -1;
        plain = c + 1;
    }
}

int
corral_line_buffer_vprintf(corral_line_buffer_t *self, const char *format, va_list args)
{
    va_list copy;
    va_copy(copy, args);
    size_t room = self->capacity > self->length ? self->capacity - self->length : 0;
    int n = vsnprintf(room ? self->data + self->length : NULL, room, format, copy);
    va_end(copy);
    if (n < 0)
        return -1;
    if ((size_t) n >= room) {
        if (reserve(self, (size_t) n) != 0)
            return -1;
        vsnprintf(self->data + self->length, (size_t) n + 1, format, args);
    }
    self->length += (size_t) n;
    return 0;
}

int
corral_line_buffer_printf(corral_line_buffer_t *self, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int rc = corral_line_buffer_vprintf(self, format, args);
    va_end(args);
    return rc;
}

void
corral_line_buffer_clear(corral_line_buffer_t *self)
{
    self->length = 0;
    if (self->data)
        self->data[0] = '\0';
}

void
corral_line_buffer_free(corral_line_buffer_t *self)
{
    if (!self->on_storage)
        free(self->data);
    *self = (corral_line_buffer_t) { 0 };
}
