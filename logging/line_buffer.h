/* line_buffer.h: a growable byte buffer that layouts append to. */
#ifndef CORRAL_LINE_BUFFER_H
#define CORRAL_LINE_BUFFER_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
    char *data;
    size_t length;
    size_t capacity;
} corral_line_buffer_t;

/* Each returns 0, or -1 when out of memory (the buffer is unchanged). */
int corral_line_buffer_append(corral_line_buffer_t *self, const char *bytes, size_t length);
int corral_line_buffer_puts(corral_line_buffer_t *self, const char *text);
int corral_line_buffer_printf(corral_line_buffer_t *self, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
int corral_line_buffer_vprintf(corral_line_buffer_t *self, const char *format, va_list args)
    __attribute__((format(printf, 2, 0)));
void corral_line_buffer_clear(corral_line_buffer_t *self);
void corral_line_buffer_free(corral_line_buffer_t *self);

#endif
