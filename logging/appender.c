/* appender.c: buffering whole lines, writing them, counting write errors. */
#include "appender_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FLUSH_AT_BYTES (64 * 1024)

corral_appender_t *
corral_appender_new(const char *name, corral_layout_t *layout, const char *file_name,
                    char **error)
{
    *error = NULL;
    corral_appender_t *self = calloc(1, sizeof *self);
    if (!self || !(self->name = strdup(name))
        || (file_name && !(self->file_name = strdup(file_name)))) {
        if (self)
            self->layout = layout;
        else
            corral_layout_destroy(&layout);
        corral_appender_destroy(&self);
        *error = strdup("out of memory");
        return NULL;
    }
    self->layout = layout;
    self->fd = 1;
    if (file_name && corral_appender_open_file(self, error) != 0)
        corral_appender_destroy(&self);
    return self;
}

/* A file it creates gets its mode whatever the umask; one that exists
 * keeps its own. */
static int
open_for_append(const char *name, unsigned mode)
{
    int fd = open(name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0 && fchmod(fd, mode) != 0) {
        close(fd);
        return -1;
    }
    if (fd < 0 && errno == EEXIST)
        fd = open(name, O_WRONLY | O_APPEND | O_CLOEXEC);
    return fd;
}

int
corral_appender_open_file(corral_appender_t *self, char **error)
{
    int fd = open_for_append(self->file_name, self->mode ? self->mode : CORRAL_LOG_FILE_MODE);
    struct stat status;
    if (fd < 0 || fstat(fd, &status) != 0) {
        if (error && asprintf(error, "cannot open %s: %s", self->file_name, strerror(errno)) < 0)
            *error = NULL;
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (self->fd > 2)
        close(self->fd);
    self->fd = fd;
    self->size = (uint64_t) status.st_size + self->buffer.length;
    return 0;
}

int
corral_appender_set_mode(corral_appender_t *self, unsigned mode)
{
    self->mode = mode;
    return self->file_name && self->fd > 2 ? fchmod(self->fd, mode) : 0;
}

void
corral_appender_destroy(corral_appender_t **self_p)
{
    corral_appender_t *self = *self_p;
    if (!self)
        return;
    corral_appender_flush(self);
    if (self->file_name && self->fd > 2)
        close(self->fd);
    if (self->free_state)
        self->free_state(self->state);
    corral_layout_destroy(&self->layout);
    corral_line_buffer_free(&self->buffer);
    corral_line_buffer_free(&self->line);
    free(self->file_name);
    free(self->name);
    free(self);
    *self_p = NULL;
}

static void
warn_once(corral_appender_t *self, int error)
{
    if (self->warned)
        return;
    self->warned = true;
    /* straight to stderr: the appender that fails cannot carry its own warning */
    dprintf(2, "[corral][WARN ][logging] appender %s: cannot write to %s: %s; "
               "lines are lost (counted) until writes succeed again\n",
            self->name, self->file_name ? self->file_name : "standard output",
            strerror(error));
}

int
corral_appender_flush(corral_appender_t *self)
{
    size_t done = 0;
    int rc = 0;
    while (done < self->buffer.length) {
        ssize_t n = write(self->fd, self->buffer.data + done, self->buffer.length - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int error = n < 0 ? errno : ENOSPC;
            self->write_errors++;
            self->lines_lost += self->buffered_lines;
            self->size -= self->buffer.length - done;
            warn_once(self, error);
            rc = -1;
            break;
        }
        done += (size_t) n;
    }
    corral_line_buffer_clear(&self->buffer);
    self->buffered_lines = 0;
    return rc;
}

/* Without a policy to consult first, the line is formatted in place. */
static int
append_in_place(corral_appender_t *self, const corral_log_record_t *record)
{
    if (self->buffer.length >= FLUSH_AT_BYTES)
        corral_appender_flush(self);
    size_t start = self->buffer.length;
    if (corral_layout_format(self->layout, record, &self->buffer) != 0) {
        self->buffer.length = start;    /* no partial line */
        self->lines_lost++;
        self->lines_unformatted++;
        return -1;
    }
    self->buffered_lines++;
    self->size += self->buffer.length - start;
    return 0;
}

int
corral_appender_append(corral_appender_t *self, const corral_log_record_t *record)
{
    if (!self->before_line)
        return append_in_place(self, record);
    corral_line_buffer_clear(&self->line);
    if (corral_layout_format(self->layout, record, &self->line) != 0) {
        self->lines_lost++;
        self->lines_unformatted++;
        return -1;
    }
    if (self->before_line)
        self->before_line(self, self->line.length);  /* if it cannot roll, the file grows */
    if (self->buffer.length + self->line.length > FLUSH_AT_BYTES)
        corral_appender_flush(self);
    if (corral_line_buffer_append(&self->buffer, self->line.data, self->line.length) != 0) {
        self->lines_lost++;
        return -1;
    }
    self->buffered_lines++;
    self->size += self->line.length;
    return 0;
}

int
corral_appender_reopen(corral_appender_t *self)
{
    corral_appender_flush(self);
    if (!self->file_name)
        return 0;
    char *error = NULL;
    int rc = corral_appender_open_file(self, &error);
    if (rc == 0 && self->opened)
        self->opened(self);
    if (rc != 0) {
        dprintf(2, "[corral][ERROR][logging] appender %s: %s\n", self->name, error);
        free(error);
    }
    return rc;
}

const char *
corral_appender_name(const corral_appender_t *self)
{
    return self->name;
}

uint64_t
corral_appender_write_errors(const corral_appender_t *self)
{
    return self->write_errors;
}

uint64_t
corral_appender_lines_lost(const corral_appender_t *self)
{
    return self->lines_lost;
}

uint64_t
corral_appender_lines_unformatted(const corral_appender_t *self)
{
    return self->lines_unformatted;
}
