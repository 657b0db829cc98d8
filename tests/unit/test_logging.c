/* test_logging.c: the logging library: every pattern conversion and date
 * format in named time zones, the json layout read back with jansson,
 * rolling by size and by (injected) time, the numeric strategy, levels by
 * hierarchical logger name, and write errors on a full device. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "date_format.h"
#include <jansson.h>

#include "appender_file.h"
#include "appender_rolling_file.h"
#include "layout_json.h"
#include "layout_pattern.h"
#include "router.h"

#define FEB_1_2012 1328106622011LL      /* 2012-02-01T14:30:22.011Z */

static corral_log_record_t
sample_record(void)
{
    return (corral_log_record_t) {
        .timestamp_ms = FEB_1_2012, .level = CORRAL_LEVEL_WARN,
        .logger = "plugins.migrations", .message = "migrated 3 indices",
        .meta = "{\"indices\":3}", .pid = 4242, .worker_id = 2, .worker = "worker-2",
        .seq = 17,
    };
}

/* The line `pattern` makes of the sample record, without its '\n'. */
static char *
format_pattern(const char *pattern)
{
    char *error = NULL;
    corral_layout_t *layout = corral_layout_pattern_new(pattern, &error);
    if (!layout)
        fail_msg("pattern %s: %s", pattern, error);
    corral_line_buffer_t out = { 0 };
    corral_log_record_t record = sample_record();
    assert_int_equal(corral_layout_format(layout, &record, &out), 0);
    assert_true(out.length > 0 && out.data[out.length - 1] == '\n');
    out.data[out.length - 1] = '\0';
    corral_layout_destroy(&layout);
    return out.data;
}

static void
assert_pattern(const char *pattern, const char *expected)
{
    char *line = format_pattern(pattern);
    assert_string_equal(line, expected);
    free(line);
}

static void
test_pattern_conversions(void **state)
{
    assert_pattern("%level|%logger|%message|%meta|%pid|%worker",
                   "WARN |plugins.migrations|migrated 3 indices|{\"indices\":3}|4242|worker-2");
    assert_pattern(CORRAL_PATTERN_CLUSTERED,
                   "[2012-02-01T14:30:22.011Z][WARN ][worker-2][plugins.migrations] "
                   "migrated 3 indices");
    assert_pattern(CORRAL_PATTERN_CLASSIC,
                   "[2012-02-01T14:30:22.011Z][WARN ][plugins.migrations] migrated 3 indices");
    assert_pattern("plain text, 100% literal", "plain text, 100% literal");
    assert_pattern("%unknown %levelx", "%unknown WARN x");
}

/* What came from outside cannot forge a line or send a terminal escape. */
static void
test_pattern_escapes_control_characters(void **state)
{
    char *error = NULL;
    corral_layout_t *layout = corral_layout_pattern_new("%worker|%logger|%message|%meta",
                                                        &error);
    assert_non_null(layout);
    corral_log_record_t record = sample_record();
    record.worker = "w\x1b]0;x\x07";
    record.logger = "a\nb";
    record.message = "GET /x\r\n[2012-02-01T14:30:22.011Z][FATAL] forged\x1b[31m\t\x7f\\n";
    record.error = "e\n";
    record.meta = "{\"k\":\"\x01\"}";
    corral_line_buffer_t out = { 0 };
    assert_int_equal(corral_layout_format(layout, &record, &out), 0);
    assert_string_equal(out.data, "w\\x1b]0;x\\x07|a\\nb|GET /x\\r\\n[2012-02-01T14:30:22.011Z]"
                        "[FATAL] forged\\x1b[31m\\t\\x7f\\n (e\\n)|{\"k\":\"\\x01\"}\n");
    corral_line_buffer_free(&out);
    corral_layout_destroy(&layout);
}

static void
test_date_formats_and_time_zones(void **state)
{
    assert_pattern("%date", "2012-02-01T14:30:22.011Z");
    assert_pattern("%date{ISO8601}", "2012-02-01T14:30:22.011Z");
    /* ISO8601 is UTC whatever the zone, as in Kibana */
    assert_pattern("%date{ISO8601}{America/Los_Angeles}", "2012-02-01T14:30:22.011Z");
    assert_pattern("%date{ISO8601_TZ}{America/Los_Angeles}", "2012-02-01T06:30:22.011-08:00");
    assert_pattern("%date{ISO8601_TZ}{Asia/Kolkata}", "2012-02-01T20:00:22.011+05:30");
    assert_pattern("%date{ISO8601_TZ}{UTC}", "2012-02-01T14:30:22.011+00:00");
    assert_pattern("%date{ABSOLUTE}{Asia/Kolkata}", "20:00:22.011");
    assert_pattern("%date{ABSOLUTE}{Europe/Paris}", "15:30:22.011");
    assert_pattern("%date{UNIX}", "1328106622");
    assert_pattern("%date{UNIX_MILLIS}", "1328106622011");
    /* no zone: local time, here set through TZ */
    setenv("TZ", "America/New_York", 1);
    tzset();
    assert_pattern("%date{ISO8601_TZ}", "2012-02-01T09:30:22.011-05:00");
    assert_pattern("[%date{ABSOLUTE}]", "[09:30:22.011]");
    unsetenv("TZ");
    tzset();
}

static void
test_pattern_errors(void **state)
{
    static const char *const bad[] = {
        "%date{RFC2822}", "%date{ISO8601}{Mars/Olympus_Mons}", "%date{ISO8601", "%date{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *error = NULL;
        corral_layout_t *layout = corral_layout_pattern_new(bad[i], &error);
        assert_null(layout);
        assert_non_null(error);
        assert_non_null(strstr(error, "%date"));
        free(error);
    }
}

static void
test_json_layout_parses_back(void **state)
{
    corral_layout_t *layout = corral_layout_json_new();
    corral_line_buffer_t out = { 0 };
    corral_log_record_t record = sample_record();
    record.error = "disk \"full\"";
    record.meta = "{\"indices\":3,\"message\":\"not this one\"}";
    assert_int_equal(corral_layout_format(layout, &record, &out), 0);
    assert_int_equal(strchr(out.data, '\n') - out.data, (long) out.length - 1);
    json_error_t error;
    json_t *json = json_loads(out.data, 0, &error);
    if (!json)
        fail_msg("not JSON: %s: %s", error.text, out.data);
    const char *timestamp;
    const char *level, *logger, *message, *worker, *error_message;
    json_int_t pid, worker_id, sequence, indices;
    assert_int_equal(json_unpack(json, "{s:s, s:s, s:{s:s, s:s}, s:{s:I}, s:{s:I, s:s},"
                                       " s:{s:I}, s:{s:s}, s:I}",
                                 "@timestamp", &timestamp, "message", &message,
                                 "log", "level", &level, "logger", &logger,
                                 "process", "pid", &pid,
                                 "worker", "id", &worker_id, "name", &worker,
                                 "event", "sequence", &sequence,
                                 "error", "message", &error_message,
                                 "indices", &indices), 0);
    assert_string_equal(message, "migrated 3 indices");   /* meta never overrides */
    assert_string_equal(level, "WARN");
    assert_string_equal(logger, "plugins.migrations");
    assert_int_equal(pid, 4242);
    assert_int_equal(worker_id, 2);
    assert_string_equal(worker, "worker-2");
    assert_int_equal(sequence, 17);
    assert_string_equal(error_message, "disk \"full\"");
    assert_int_equal(indices, 3);
    assert_int_equal(strlen(timestamp), strlen("2012-02-01T14:30:22.011+00:00"));
    json_decref(json);
    corral_line_buffer_free(&out);
    corral_layout_destroy(&layout);
}

/* --- Files -------------------------------------------------------------------- */

static char directory[64];

static int
make_directory(void **state)
{
    strcpy(directory, "/tmp/corral-logging.XXXXXX");
    assert_non_null(mkdtemp(directory));
    return 0;
}

static int
remove_directory(void **state)
{
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", directory);
    return system(command) == 0 ? 0 : -1;
}

static char *
in_directory(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", directory, name);
    return path;
}

static char *
contents(const char *name)
{
    FILE *file = fopen(in_directory(name), "r");
    if (!file)
        return NULL;
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, file);
    text[n] = '\0';
    fclose(file);
    return text;
}

static void
append_message(corral_appender_t *appender, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void
append_message(corral_appender_t *appender, const char *format, ...)
{
    char message[128];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    corral_log_record_t record = sample_record();
    record.message = message;
    assert_int_equal(corral_appender_append(appender, &record), 0);
}

static corral_appender_t *
rolling(const char *name, corral_policy_t *policy, const char *pattern, unsigned max)
{
    char *error = NULL;
    corral_layout_t *layout = corral_layout_pattern_new("%message", &error);
    corral_strategy_t *strategy = corral_strategy_numeric_new(in_directory(name), pattern, max,
                                                             &error);
    assert_non_null(strategy);
    corral_appender_t *appender = corral_appender_rolling_file_new(
        "rolling", layout, in_directory(name), policy, strategy, &error);
    assert_non_null(appender);
    return appender;
}

static void
test_rolling_by_size_numeric_max(void **state)
{
    /* lines "line N\n" are 7 bytes: 3 fit in 21 bytes, the 4th rolls */
    corral_appender_t *appender = rolling("size.log", corral_policy_size_limit_new(21), NULL, 2);
    for (int i = 1; i <= 12; i++)
        append_message(appender, "line %d", i % 10);
    corral_appender_flush(appender);
    assert_string_equal(contents("size.log"), "line 0\nline 1\nline 2\n");
    assert_string_equal(contents("size-1.log"), "line 7\nline 8\nline 9\n");
    assert_string_equal(contents("size-2.log"), "line 4\nline 5\nline 6\n");
    assert_null(contents("size-3.log"));       /* max 2: the oldest was deleted */
    corral_appender_destroy(&appender);
}

static void
test_strategy_pattern_is_honoured(void **state)
{
    corral_appender_t *appender = rolling("app.log", corral_policy_size_limit_new(8), ".%i-old",
                                          3);
    append_message(appender, "first");
    append_message(appender, "second");
    corral_appender_destroy(&appender);
    assert_string_equal(contents("app.1-old.log"), "first\n");
    assert_string_equal(contents("app.log"), "second\n");

    char *error = NULL;
    assert_null(corral_strategy_numeric_new("x.log", "-%d", 3, &error));
    free(error);
    assert_null(corral_strategy_numeric_new("x.log", "-%i", 101, &error));
    free(error);
    corral_strategy_t *no_extension = corral_strategy_numeric_new("/var/log/corral", NULL, 7,
                                                                  &error);
    char name[64];
    corral_strategy_rolled_name(no_extension, 3, name, sizeof name);
    assert_string_equal(name, "/var/log/corral-3");
    corral_strategy_destroy(&no_extension);
}

static int64_t fake_now_ms;

static int64_t
fake_clock(void)
{
    return fake_now_ms;
}

static void
test_rolling_by_time_with_an_injected_clock(void **state)
{
    setenv("TZ", "UTC", 1);
    tzset();
    /* modulate: a 1h interval started at 10:20 rolls at 11:00, then 12:00 */
    fake_now_ms = (int64_t) 1700000000 / 3600 * 3600 * 1000 + 20 * 60 * 1000;
    corral_appender_t *appender = rolling(
        "time.log", corral_policy_time_interval_new(3600 * 1000, true, fake_clock), NULL, 5);
    append_message(appender, "10:20");
    fake_now_ms += 39 * 60 * 1000;
    append_message(appender, "10:59");
    fake_now_ms += 60 * 1000;
    append_message(appender, "11:00");
    fake_now_ms += 59 * 60 * 1000;
    append_message(appender, "11:59");
    fake_now_ms += 61 * 60 * 1000;
    append_message(appender, "13:00");
    corral_appender_destroy(&appender);
    assert_string_equal(contents("time-2.log"), "10:20\n10:59\n");
    assert_string_equal(contents("time-1.log"), "11:00\n11:59\n");
    assert_string_equal(contents("time.log"), "13:00\n");

    /* without modulate: every interval from the opening */
    fake_now_ms = 1000000;
    appender = rolling("plain.log", corral_policy_time_interval_new(1000, false, fake_clock),
                       NULL, 5);
    append_message(appender, "a");
    fake_now_ms += 999;
    append_message(appender, "b");
    fake_now_ms += 1;
    append_message(appender, "c");
    corral_appender_destroy(&appender);
    assert_string_equal(contents("plain-1.log"), "a\nb\n");
    assert_string_equal(contents("plain.log"), "c\n");
    unsetenv("TZ");
    tzset();
}

static void
test_write_errors_are_counted(void **state)
{
    char *error = NULL;
    corral_layout_t *layout = corral_layout_pattern_new("%message", &error);
    corral_appender_t *appender = corral_appender_file_new("full", layout, "/dev/full", &error);
    assert_non_null(appender);
    append_message(appender, "one");
    append_message(appender, "two");
    assert_int_equal(corral_appender_flush(appender), -1);
    append_message(appender, "three");
    assert_int_equal(corral_appender_flush(appender), -1);
    assert_int_equal(corral_appender_write_errors(appender), 2);
    assert_int_equal(corral_appender_lines_lost(appender), 3);
    corral_appender_destroy(&appender);
}

/* --- Line buffers ------------------------------------------------------------- */

static void
test_line_buffer_outgrows_its_storage(void **state)
{
    char storage[8];
    corral_line_buffer_t line = CORRAL_LINE_BUFFER_ON(storage);
    assert_int_equal(corral_line_buffer_puts(&line, "GET "), 0);
    assert_ptr_equal(line.data, storage);
    char path[300];
    memset(path, 'p', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    assert_int_equal(corral_line_buffer_puts(&line, path), 0);
    assert_ptr_not_equal(line.data, storage);       /* moved to the heap, copied */
    assert_int_equal(corral_line_buffer_put_uint(&line, 0), 0);
    assert_int_equal(corral_line_buffer_put_uint(&line, UINT64_MAX), 0);
    assert_int_equal(line.length, 4 + 299 + 1 + 20);
    assert_memory_equal(line.data, "GET pp", 6);
    assert_string_equal(line.data + 4 + 299, "018446744073709551615");
    corral_line_buffer_free(&line);
}

/* --- Levels ------------------------------------------------------------------- */

static void
test_levels_by_hierarchical_name(void **state)
{
    Corral__V1__LogLogger root = CORRAL__V1__LOG_LOGGER__INIT;
    root.level = CORRAL_LEVEL_WARN;
    root.has_level = true;
    Corral__V1__LogLogger plugins = CORRAL__V1__LOG_LOGGER__INIT;
    plugins.name = "plugins";
    plugins.level = CORRAL_LEVEL_INFO;
    plugins.has_level = true;
    Corral__V1__LogLogger migrations = CORRAL__V1__LOG_LOGGER__INIT;
    migrations.name = "plugins.migrations";
    migrations.level = CORRAL_LEVEL_TRACE;
    migrations.has_level = true;
    Corral__V1__LogLogger *loggers[] = { &plugins, &migrations };
    Corral__V1__LogConfig config = CORRAL__V1__LOG_CONFIG__INIT;
    config.root = &root;
    config.loggers = loggers;
    config.n_loggers = 2;
    corral_log_router_options_t options = { .with_appenders = false };
    char *error = NULL;
    corral_log_router_t *router = corral_log_router_new(&config, &options, &error);
    assert_non_null(router);
    assert_int_equal(corral_log_router_level(router, "http.server"), CORRAL_LEVEL_WARN);
    assert_int_equal(corral_log_router_level(router, "plugins"), CORRAL_LEVEL_INFO);
    assert_int_equal(corral_log_router_level(router, "plugins.tasks"), CORRAL_LEVEL_INFO);
    assert_int_equal(corral_log_router_level(router, "plugins.migrations"), CORRAL_LEVEL_TRACE);
    assert_int_equal(corral_log_router_level(router, "plugins.migrations.v2"),
                     CORRAL_LEVEL_TRACE);
    assert_int_equal(corral_log_router_level(router, "pluginsX"), CORRAL_LEVEL_WARN);
    assert_int_equal(corral_log_router_min_level(router), CORRAL_LEVEL_TRACE);
    corral_log_router_destroy(&router);
}

/* Timestamps come from workers' records: any int64 (issue 15; found by
 * fuzz_date: INT64_MIN was undefined behaviour). */
static void
test_dates_outside_years_0_to_9999_are_clamped(void **state)
{
    static const struct {
        const char *style;
        int64_t timestamp;
        const char *expected;
    } cases[] = {
        { "ISO8601", INT64_MIN, "0000-01-01T00:00:00.000Z" },
        { "ISO8601", INT64_MAX, "9999-12-31T23:59:59.999Z" },
        { "ISO8601", -1, "1969-12-31T23:59:59.999Z" },
        { "UNIX", INT64_MIN, "-62167219200" },
        { "UNIX", INT64_MAX, "253402300799" },
        { "UNIX_MILLIS", INT64_MIN, "-9223372036854775808" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        corral_date_style_t style;
        assert_int_equal(corral_date_style_parse(cases[i].style, &style), 0);
        corral_date_format_t *format = corral_date_format_new(style, NULL);
        char out[CORRAL_DATE_MAX];
        size_t length = corral_date_format(format, cases[i].timestamp, out);
        assert_string_equal(out, cases[i].expected);
        assert_int_equal(length, strlen(cases[i].expected));
        corral_date_format_destroy(&format);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_conversions),
        cmocka_unit_test(test_pattern_escapes_control_characters),
        cmocka_unit_test(test_date_formats_and_time_zones),
        cmocka_unit_test(test_pattern_errors),
        cmocka_unit_test(test_json_layout_parses_back),
        cmocka_unit_test(test_rolling_by_size_numeric_max),
        cmocka_unit_test(test_strategy_pattern_is_honoured),
        cmocka_unit_test(test_rolling_by_time_with_an_injected_clock),
        cmocka_unit_test(test_write_errors_are_counted),
        cmocka_unit_test(test_line_buffer_outgrows_its_storage),
        cmocka_unit_test(test_levels_by_hierarchical_name),
        cmocka_unit_test(test_dates_outside_years_0_to_9999_are_clamped),
    };
    return cmocka_run_group_tests(tests, make_directory, remove_directory);
}
