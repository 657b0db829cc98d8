/* output_capture.h: what one worker process writes on its stdout and
 * stderr, captured by the coordinator: a pipe per stream, put on the
 * child's fd 1 and 2, read from the coordinator's loop. Each line becomes
 * one log record (logger `stdout` or `stderr`, level info or error); a
 * line that is a JSON object with a `level` and a `message` (or pino's
 * `msg`) takes its level and message from it, its other fields becoming
 * the record's meta. A line longer than CORRAL_OUTPUT_LINE_MAX is split,
 * every part but the last saying that it continues. What the process
 * wrote before it exited is all read, its last unterminated line too. */
#ifndef CORRAL_OUTPUT_CAPTURE_H
#define CORRAL_OUTPUT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "level.h"

typedef struct corral_output_capture corral_output_capture_t;

#define CORRAL_OUTPUT_LINE_MAX 16384    /* bytes of a line in one record */
#define CORRAL_OUTPUT_SPLIT_MARK " [line continues in the next record]"

/* One line: `stream` 1 (stdout) or 2 (stderr), its level, message and
 * meta (a JSON object as text, or NULL), valid during the call. */
typedef void (corral_output_line_fn)(void *arg, int stream, corral_level_t level,
                                     const char *message, const char *meta);

/* Two pipes, close-on-exec; the read ends non-blocking. NULL with errno. */
corral_output_capture_t *corral_output_capture_new(corral_output_line_fn *fn, void *arg);
void corral_output_capture_destroy(corral_output_capture_t **self_p);

/* The write end of `stream` (1 or 2), for the child's fd 1 or 2. */
int corral_output_capture_child_fd(const corral_output_capture_t *self, int stream);
/* After fork, in the coordinator: closes the write ends (end of file then
 * comes when the child and whatever it started have closed theirs). */
void corral_output_capture_forked(corral_output_capture_t *self);
/* The read end of `stream`, to poll; -1 once it reached end of file. */
int corral_output_capture_fd(const corral_output_capture_t *self, int stream);

/* Reads what `stream` holds now, line by line, for at most `budget`
 * bytes (a chatty process does not hold up the loop). Returns 1 if more
 * may be there, 0 when it is drained for now, -1 at end of file (the
 * stream's last partial line delivered; the read end closed). */
int corral_output_capture_read(corral_output_capture_t *self, int stream, size_t budget);
/* The process was reaped: reads both streams to their end or to what is
 * there now (a descendant may keep them open), and delivers the partial
 * last lines. */
void corral_output_capture_finish(corral_output_capture_t *self);

/* Lines delivered so far, and those split. */
uint64_t corral_output_capture_lines(const corral_output_capture_t *self);

/* Parses a JSON line's level and message (exposed for the tests). */
bool corral_output_parse_json(const char *line, corral_level_t *level, char **message,
                              char **meta);

#endif
