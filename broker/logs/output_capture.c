/* output_capture.c: a worker process's stdout and stderr as log records
 * (output_capture.h). */
#include "output_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct {
    int read_fd;                /* -1 at end of file */
    int write_fd;               /* -1 once forked */
    char line[CORRAL_OUTPUT_LINE_MAX + 1];
    size_t used;
    bool continued;             /* the line in `line` is the rest of a split one */
} stream_t;

struct corral_output_capture {
    stream_t streams[2];        /* stdout, stderr */
    corral_output_line_fn *fn;
    void *arg;
    uint64_t lines;
};

corral_output_capture_t *
corral_output_capture_new(corral_output_line_fn *fn, void *arg)
{
    corral_output_capture_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->fn = fn;
    self->arg = arg;
    for (int i = 0; i < 2; i++)
        self->streams[i].read_fd = self->streams[i].write_fd = -1;
    for (int i = 0; i < 2; i++) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) {
            int saved = errno;
            corral_output_capture_destroy(&self);
            errno = saved;
            return NULL;
        }
        fcntl(fds[0], F_SETFL, O_NONBLOCK);
        self->streams[i].read_fd = fds[0];
        self->streams[i].write_fd = fds[1];
    }
    return self;
}

void
corral_output_capture_destroy(corral_output_capture_t **self_p)
{
    corral_output_capture_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < 2; i++) {
        if (self->streams[i].read_fd >= 0)
            close(self->streams[i].read_fd);
        if (self->streams[i].write_fd >= 0)
            close(self->streams[i].write_fd);
    }
    free(self);
    *self_p = NULL;
}

int
corral_output_capture_child_fd(const corral_output_capture_t *self, int stream)
{
    return self->streams[stream == 2].write_fd;
}

void
corral_output_capture_forked(corral_output_capture_t *self)
{
    for (int i = 0; i < 2; i++)
        if (self->streams[i].write_fd >= 0) {
            close(self->streams[i].write_fd);
            self->streams[i].write_fd = -1;
        }
}

int
corral_output_capture_fd(const corral_output_capture_t *self, int stream)
{
    return self->streams[stream == 2].read_fd;
}

uint64_t
corral_output_capture_lines(const corral_output_capture_t *self)
{
    return self->lines;
}

/* --- Lines as records ------------------------------------------------------------ */

/* pino's numbers (10 trace .. 60 fatal), or a name (warning and critical
 * as Python writes them). */
static bool
json_level(json_t *value, corral_level_t *level)
{
    if (json_is_integer(value)) {
        json_int_t number = json_integer_value(value);
        if (number < 10 || number > 60)
            return false;
        *level = (corral_level_t) (CORRAL_LEVEL_TRACE + (number - 10) / 10);
        return true;
    }
    const char *name = json_string_value(value);
    if (!name)
        return false;
    if (strcasecmp(name, "warning") == 0)
        name = "warn";
    else if (strcasecmp(name, "critical") == 0)
        name = "fatal";
    char lower[16];
    size_t i = 0;
    for (; name[i] && i < sizeof lower - 1; i++)
        lower[i] = (char) (name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    lower[i] = '\0';
    return corral_level_parse(lower, level) == 0 && *level != CORRAL_LEVEL_ALL
        && *level != CORRAL_LEVEL_OFF;
}

bool
corral_output_parse_json(const char *line, corral_level_t *level, char **message, char **meta)
{
    *message = *meta = NULL;
    if (line[0] != '{')
        return false;
    json_t *object = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    json_t *text = object ? json_object_get(object, "message") : NULL;
    const char *key = "message";
    if (!json_is_string(text)) {
        text = object ? json_object_get(object, "msg") : NULL;
        key = "msg";
    }
    corral_level_t parsed;
    if (!json_is_object(object) || !json_is_string(text)
        || !json_level(json_object_get(object, "level"), &parsed)) {
        json_decref(object);
        return false;
    }
    *message = strdup(json_string_value(text));
    json_object_del(object, key);
    json_object_del(object, "level");
    if (json_object_size(object) > 0)
        *meta = json_dumps(object, JSON_COMPACT);
    json_decref(object);
    if (!*message) {
        free(*meta);
        *meta = NULL;
        return false;
    }
    *level = parsed;
    return true;
}

static void
deliver(corral_output_capture_t *self, int index, bool split)
{
    stream_t *stream = &self->streams[index];
    corral_level_t level = index == 0 ? CORRAL_LEVEL_INFO : CORRAL_LEVEL_ERROR;
    for (char *zero = memchr(stream->line, '\0', stream->used); zero;
         zero = memchr(zero, '\0', stream->used - (size_t) (zero - stream->line)))
        *zero = ' ';            /* a NUL would end the message early */
    stream->line[stream->used] = '\0';
    if (stream->used > 0 && stream->line[stream->used - 1] == '\r')
        stream->line[stream->used - 1] = '\0';
    char *message = NULL, *meta = NULL;
    if (!split && !stream->continued
        && corral_output_parse_json(stream->line, &level, &message, &meta))
        self->fn(self->arg, index + 1, level, message, meta);
    else if (split) {
        char marked[CORRAL_OUTPUT_LINE_MAX + sizeof CORRAL_OUTPUT_SPLIT_MARK];
        memcpy(marked, stream->line, stream->used);
        memcpy(marked + stream->used, CORRAL_OUTPUT_SPLIT_MARK, sizeof CORRAL_OUTPUT_SPLIT_MARK);
        self->fn(self->arg, index + 1, level, marked, NULL);
    }
    else
        self->fn(self->arg, index + 1, level, stream->line, NULL);
    free(message);
    free(meta);
    self->lines++;
    stream->continued = split;
    stream->used = 0;
}

/* Takes `data` into the stream's line, delivering every complete one. */
static void
take(corral_output_capture_t *self, int index, const char *data, size_t length)
{
    stream_t *stream = &self->streams[index];
    while (length > 0) {
        const char *newline = memchr(data, '\n', length);
        size_t part = newline ? (size_t) (newline - data) : length;
        size_t room = CORRAL_OUTPUT_LINE_MAX - stream->used;
        if (part > room) {          /* longer than a record: split */
            memcpy(stream->line + stream->used, data, room);
            stream->used += room;
            data += room;
            length -= room;
            deliver(self, index, true);
            continue;
        }
        memcpy(stream->line + stream->used, data, part);
        stream->used += part;
        if (!newline)
            return;
        deliver(self, index, false);
        data += part + 1;
        length -= part + 1;
    }
}

static void
close_stream(corral_output_capture_t *self, int index)
{
    stream_t *stream = &self->streams[index];
    if (stream->used > 0 || stream->continued)
        deliver(self, index, false);
    close(stream->read_fd);
    stream->read_fd = -1;
}

int
corral_output_capture_read(corral_output_capture_t *self, int stream, size_t budget)
{
    int index = stream == 2;
    if (self->streams[index].read_fd < 0)
        return -1;
    char buffer[65536];
    size_t taken = 0;
    while (taken < budget) {
        ssize_t n = read(self->streams[index].read_fd, buffer, sizeof buffer);
        if (n > 0) {
            take(self, index, buffer, (size_t) n);
            taken += (size_t) n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        close_stream(self, index);     /* end of file, or an error: nothing more comes */
        return -1;
    }
    return 1;
}

void
corral_output_capture_finish(corral_output_capture_t *self)
{
    for (int stream = 1; stream <= 2; stream++) {
        int index = stream == 2;
        while (corral_output_capture_read(self, stream, SIZE_MAX) == 1)
            ;
        if (self->streams[index].read_fd >= 0 && self->streams[index].used > 0)
            deliver(self, index, false);    /* a descendant holds it open: what is there */
    }
}
