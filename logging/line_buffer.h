/* line_buffer.h: a growable byte buffer that layouts append to. */
#ifndef CORRAL_LINE_BUFFER_H
#define CORRAL_LINE_BUFFER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;
    size_t length;
    size_t capacity;
    bool on_storage;        /* data is the caller's until the buffer grows */
} corral_line_buffer_t;

/* A buffer that starts in the caller's array (on the stack, say) and
 * moves to the heap only if it outgrows it; free it all the same. */
#define CORRAL_LINE_BUFFER_ON(storage) { (storage), 0, sizeof (storage), true }

/* Each returns 0, or -1 when out of memory (the buffer is unchanged). */
int corral_line_buffer_append(corral_line_buffer_t *self, const char *bytes, size_t length);
int corral_line_buffer_puts(corral_line_buffer_t *self, const char *text);
/* Decimal digits, without printf (hot paths: the access log). */
int corral_line_buffer_put_uint(corral_line_buffer_t *self, uint64_t value);
/* `text` with every control character (C0 and DEL) escaped as \n, \r, \t
 * or \xHH, so that what came from outside cannot end a line or drive a
 * terminal. */
int corral_line_buffer_put_escaped(corral_line_buffer_t *self, const char *text);
int corral_line_buffer_printf(corral_line_buffer_t *self, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
int corral_line_buffer_vprintf(corral_line_buffer_t *self, const char *format, va_list args)
    __attribute__((format(printf, 2, 0)));
void corral_line_buffer_clear(corral_line_buffer_t *self);
void corral_line_buffer_free(corral_line_buffer_t *self);

#endif
