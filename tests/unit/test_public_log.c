/* test_public_log.c: corral/log.h, a plugin's way into the process's
 * logger: its lines reach the same sink as corral's own, with their level,
 * logger and message; the logger's configured level filters them before
 * formatting; a NULL or empty logger is `plugins`; levels out of range are
 * clamped; and corral/version.h's run-time half agrees with the headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "corral/log.h"
#include "corral/version.h"
#include "log.h"

typedef struct {
    int count;
    corral_level_t level;
    char logger[64];
    char message[128];
} seen_t;

static void
remember(const corral_log_record_t *record, void *arg)
{
    seen_t *seen = arg;
    seen->count++;
    seen->level = record->level;
    snprintf(seen->logger, sizeof seen->logger, "%s", record->logger);
    snprintf(seen->message, sizeof seen->message, "%s", record->message);
}

static int
with_sink(void **state)
{
    static seen_t seen;
    memset(&seen, 0, sizeof seen);
    corral_log_set_level(CORRAL_LEVEL_INFO);
    corral_log_set_sink(remember, &seen);
    *state = &seen;
    return 0;
}

static int
without_sink(void **state)
{
    corral_log_set_sink(NULL, NULL);
    return 0;
}

static void
test_a_line_reaches_the_sink(void **state)
{
    seen_t *seen = *state;
    corral_log_write(CORRAL_LOG_WARN, "plugins.hello", "heard \"%s\" from worker %d", "hi", 2);
    assert_int_equal(seen->count, 1);
    assert_int_equal(seen->level, CORRAL_LEVEL_WARN);
    assert_string_equal(seen->logger, "plugins.hello");
    assert_string_equal(seen->message, "heard \"hi\" from worker 2");
}

static void
test_the_loggers_level_filters(void **state)
{
    seen_t *seen = *state;
    assert_false(corral_log_is_enabled(CORRAL_LOG_DEBUG, "plugins.hello"));
    assert_true(corral_log_is_enabled(CORRAL_LOG_INFO, "plugins.hello"));
    corral_log_write(CORRAL_LOG_DEBUG, "plugins.hello", "dropped");
    assert_int_equal(seen->count, 0);
    corral_log_set_level(CORRAL_LEVEL_TRACE);
    assert_true(corral_log_is_enabled(CORRAL_LOG_TRACE, "plugins.hello"));
    corral_log_write(CORRAL_LOG_TRACE, "plugins.hello", "kept");
    assert_int_equal(seen->count, 1);
    assert_int_equal(seen->level, CORRAL_LEVEL_TRACE);
}

static void
logv(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    corral_log_vwrite(CORRAL_LOG_ERROR, "", format, args);
    va_end(args);
}

static void
test_no_logger_is_plugins_and_levels_are_clamped(void **state)
{
    seen_t *seen = *state;
    corral_log_write(CORRAL_LOG_INFO, NULL, "no logger");
    assert_string_equal(seen->logger, "plugins");
    logv("%d%%", 50);
    assert_string_equal(seen->logger, "plugins");
    assert_string_equal(seen->message, "50%");
    assert_int_equal(seen->level, CORRAL_LEVEL_ERROR);
    corral_log_write((corral_log_level_t) 99, "plugins.x", "above");
    assert_int_equal(seen->level, CORRAL_LEVEL_FATAL);
    corral_log_set_level(CORRAL_LEVEL_ALL);
    corral_log_write((corral_log_level_t) -3, "plugins.x", "below");
    assert_int_equal(seen->level, CORRAL_LEVEL_TRACE);
    assert_int_equal(seen->count, 4);
}

static void
test_the_library_version_is_the_headers(void **state)
{
    assert_int_equal(corral_version(), CORRAL_VERSION_HEX);
    assert_string_equal(corral_version_string(), CORRAL_VERSION_STRING);
    char text[32];
    snprintf(text, sizeof text, "%d.%d.%d", CORRAL_VERSION_MAJOR, CORRAL_VERSION_MINOR,
             CORRAL_VERSION_PATCH);
    assert_string_equal(text, CORRAL_VERSION_STRING);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_line_reaches_the_sink, with_sink, without_sink),
        cmocka_unit_test_setup_teardown(test_the_loggers_level_filters, with_sink,
                                        without_sink),
        cmocka_unit_test_setup_teardown(test_no_logger_is_plugins_and_levels_are_clamped,
                                        with_sink, without_sink),
        cmocka_unit_test(test_the_library_version_is_the_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
