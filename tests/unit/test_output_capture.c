/* test_output_capture.c: a worker's stdout and stderr as records: every
 * line once, in order, at info (stdout) or error (stderr); a JSON object
 * with level and message (or pino's msg and numeric level) takes them,
 * its other fields as meta; an over-long line split, each part but the
 * last marked; the last unterminated line delivered at the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "output_capture.h"

typedef struct {
    int count;
    int stream[64];
    corral_level_t level[64];
    char *message[64];
    char *meta[64];
} seen_t;

static void
on_line(void *arg, int stream, corral_level_t level, const char *message, const char *meta)
{
    seen_t *seen = arg;
    assert_true(seen->count < 64);
    seen->stream[seen->count] = stream;
    seen->level[seen->count] = level;
    seen->message[seen->count] = strdup(message);
    seen->meta[seen->count] = meta ? strdup(meta) : NULL;
    seen->count++;
}

static void
seen_free(seen_t *seen)
{
    for (int i = 0; i < seen->count; i++) {
        free(seen->message[i]);
        free(seen->meta[i]);
    }
}

static void
write_all(int fd, const char *text, size_t length)
{
    while (length > 0) {
        ssize_t n = write(fd, text, length);
        assert_true(n > 0);
        text += n;
        length -= (size_t) n;
    }
}

static void
test_lines_from_a_child(void **state)
{
    seen_t seen = { 0 };
    corral_output_capture_t *capture = corral_output_capture_new(on_line, &seen);
    assert_non_null(capture);
    pid_t child = fork();
    if (child == 0) {
        dup2(corral_output_capture_child_fd(capture, 1), 1);
        dup2(corral_output_capture_child_fd(capture, 2), 2);
        const char out[] = "one\r\n{\"level\":\"warning\",\"message\":\"careful\",\"n\":1}\n"
                           "{\"level\":50,\"msg\":\"pino says\"}\n{\"level\":\"info\"}\nlast";
        write_all(1, out, sizeof out - 1);
        write_all(2, "oops\n", 5);
        _exit(0);
    }
    corral_output_capture_forked(capture);
    int status;
    waitpid(child, &status, 0);
    corral_output_capture_finish(capture);
    assert_int_equal(seen.count, 6);
    assert_int_equal(seen.stream[0], 1);
    assert_int_equal(seen.level[0], CORRAL_LEVEL_INFO);
    assert_string_equal(seen.message[0], "one");
    assert_int_equal(seen.level[1], CORRAL_LEVEL_WARN);
    assert_string_equal(seen.message[1], "careful");
    assert_string_equal(seen.meta[1], "{\"n\":1}");
    assert_int_equal(seen.level[2], CORRAL_LEVEL_ERROR);
    assert_string_equal(seen.message[2], "pino says");
    assert_null(seen.meta[2]);
    /* no message: not a structured line, kept as written */
    assert_int_equal(seen.level[3], CORRAL_LEVEL_INFO);
    assert_string_equal(seen.message[3], "{\"level\":\"info\"}");
    assert_string_equal(seen.message[4], "last");
    assert_int_equal(seen.stream[5], 2);
    assert_int_equal(seen.level[5], CORRAL_LEVEL_ERROR);
    assert_string_equal(seen.message[5], "oops");
    assert_int_equal(corral_output_capture_fd(capture, 1), -1);     /* end of file seen */
    corral_output_capture_destroy(&capture);
    seen_free(&seen);
}

static void
test_a_long_line_is_split_and_marked(void **state)
{
    seen_t seen = { 0 };
    corral_output_capture_t *capture = corral_output_capture_new(on_line, &seen);
    size_t length = CORRAL_OUTPUT_LINE_MAX * 2 + 10;
    char *line = malloc(length + 1);
    memset(line, 'x', length);
    line[length] = '\n';
    pid_t child = fork();
    if (child == 0) {
        dup2(corral_output_capture_child_fd(capture, 1), 1);
        write_all(1, line, length + 1);
        const char after[] = "{\"level\":\"error\",\"message\":\"after\"}\n";
        write_all(1, after, sizeof after - 1);
        _exit(0);
    }
    corral_output_capture_forked(capture);
    /* read while the child writes: the pipe holds less than the line */
    while (corral_output_capture_read(capture, 1, 4096) != -1)
        ;
    int status;
    waitpid(child, &status, 0);
    corral_output_capture_finish(capture);
    assert_int_equal(seen.count, 4);
    size_t mark = strlen(CORRAL_OUTPUT_SPLIT_MARK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(strlen(seen.message[i]), CORRAL_OUTPUT_LINE_MAX + mark);
        assert_string_equal(seen.message[i] + CORRAL_OUTPUT_LINE_MAX, CORRAL_OUTPUT_SPLIT_MARK);
    }
    assert_int_equal(strlen(seen.message[2]), 10);
    assert_int_equal(seen.level[3], CORRAL_LEVEL_ERROR);
    assert_string_equal(seen.message[3], "after");
    free(line);
    corral_output_capture_destroy(&capture);
    seen_free(&seen);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_from_a_child),
        cmocka_unit_test(test_a_long_line_is_split_and_marked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
