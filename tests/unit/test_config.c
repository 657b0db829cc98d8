/* test_config.c: the YAML configuration: defaults, every key, relative
 * paths, each class of error with its file, line, column and key, the size
 * and duration parsers, and every example that ships: config/corral.yml,
 * the fixtures and each ```yaml block of docs/configuration.md (so the docs
 * cannot show an example that does not parse; show bad input as ```text).
 * Files are found under $CORRAL_SOURCE_DIR, set by tests/unit/CMakeLists. */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

#define FAKE_FILE "/nonexistent-corral/conf/corral.yml"
#define FAKE_DIR  "/nonexistent-corral/conf"

static corral_config_t *
parse(const char *file, const char *text, char **error)
{
    return corral_config_parse(file, text, strlen(text), error);
}

/* Parses text that must be valid. */
static corral_config_t *
parse_ok(const char *text)
{
    char *error = NULL;
    corral_config_t *config = parse(FAKE_FILE, text, &error);
    if (!config)
        fail_msg("unexpected error: %s\n--- in:\n%s", error, text);
    assert_null(error);
    return config;
}

static const char *
source_dir(void)
{
    const char *dir = getenv("CORRAL_SOURCE_DIR");
    if (!dir)
        fail_msg("CORRAL_SOURCE_DIR is not set (run the test through ctest)");
    return dir;
}

static char *
source_path(const char *relative)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", source_dir(), relative) > 0);
    return path;
}

/* ---- Defaults and every key ----------------------------------------- */

static void
assert_defaults(const corral_config_t *config)
{
    assert_string_equal(config->file, FAKE_FILE);
    assert_string_equal(config->server.host, "127.0.0.1");
    assert_int_equal(config->server.port, 8080);
    assert_int_equal(config->server.balancing, CORRAL_BALANCING_SHARED);
    assert_false(config->server.test_routes);
    assert_int_equal(config->server.limits.max_connections, 4096);
    assert_int_equal(config->server.limits.max_connections_per_ip, 0);
    assert_int_equal(config->server.limits.header_timeout_ms, 20000);
    assert_int_equal(config->server.limits.idle_timeout_ms, 60000);
    assert_string_equal(config->path.data, FAKE_DIR "/data");
    assert_null(config->pid.file);
    assert_true(config->node.enabled);
    assert_true(config->node.workers.count_auto);
    assert_int_equal(config->node.workers.count, 0);
    assert_int_equal(config->node.shutdown_timeout_ms, 30000);
    assert_int_equal(config->logging.root_level, CORRAL_LEVEL_INFO);
}

static void
test_empty_documents_mean_defaults(void **state)
{
    static const char *const texts[] = {
        "", "\n", "# only a comment\n", "---\n", "~\n", "null\n",
        "server:\n", "server: {}\nnode:\n  workers:\nlogging: { root: }\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        corral_config_t *config = parse_ok(texts[i]);
        assert_defaults(config);
        corral_config_destroy(&config);
        assert_null(config);
    }
}

static void
test_every_key(void **state)
{
    corral_config_t *config = parse_ok(
        "server: { host: 0.0.0.0, port: 0, balancing: reuseport, test_routes: true,\n"
        "          limits: { max_connections: 100, max_connections_per_ip: 7,\n"
        "                    header_timeout: 5s, idle_timeout: 1m } }\n"
        "path: { data: /srv/corral }\n"
        "pid: { file: run/corral.pid }\n"
        "node:\n"
        "  enabled: false\n"
        "  workers: { count: 1024 }\n"
        "  shutdown_timeout: 250ms\n"
        "logging: { root: { level: WARN } }\n");
    assert_string_equal(config->server.host, "0.0.0.0");
    assert_int_equal(config->server.port, 0);
    assert_int_equal(config->server.balancing, CORRAL_BALANCING_REUSEPORT);
    assert_true(config->server.test_routes);
    assert_int_equal(config->server.limits.max_connections, 100);
    assert_int_equal(config->server.limits.max_connections_per_ip, 7);
    assert_int_equal(config->server.limits.header_timeout_ms, 5000);
    assert_int_equal(config->server.limits.idle_timeout_ms, 60000);
    assert_string_equal(config->path.data, "/srv/corral");
    assert_string_equal(config->pid.file, FAKE_DIR "/run/corral.pid");
    assert_false(config->node.enabled);
    assert_false(config->node.workers.count_auto);
    assert_int_equal(config->node.workers.count, 1024);
    assert_int_equal(config->node.shutdown_timeout_ms, 250);
    assert_int_equal(config->logging.root_level, CORRAL_LEVEL_WARN);
    corral_config_destroy(&config);
}

static void
test_accepted_spellings(void **state)
{
    corral_config_t *config = parse_ok(
        "server: { port: 65535, balancing: \"shared\", host: '::1' }\n"
        "node: { enabled: True, workers: { count: \"auto\" },"
        " shutdown_timeout: 60000 }\n");
    assert_int_equal(config->server.port, 65535);
    assert_string_equal(config->server.host, "::1");
    assert_true(config->node.enabled);
    assert_true(config->node.workers.count_auto);
    assert_int_equal(config->node.shutdown_timeout_ms, 60000);
    corral_config_destroy(&config);

    config = parse_ok("node: { enabled: FALSE, shutdown_timeout: \"1h\" }\n");
    assert_false(config->node.enabled);
    assert_int_equal(config->node.shutdown_timeout_ms, 3600000);
    corral_config_destroy(&config);

    /* Aliases are resolved by libyaml. */
    config = parse_ok("node: { workers: { count: &n 2 } }\n"
                      "server: { port: 8081 }\n");
    assert_int_equal(config->node.workers.count, 2);
    corral_config_destroy(&config);
}

/* ---- Paths ---------------------------------------------------------- */

static void
test_relative_paths_follow_the_config_file(void **state)
{
    corral_config_t *config = parse_ok(
        "path: { data: ../var//data/ }\n"
        "pid: { file: ./run/../corral.pid }\n");
    assert_string_equal(config->path.data, "/nonexistent-corral/var/data");
    assert_string_equal(config->pid.file, FAKE_DIR "/corral.pid");
    corral_config_destroy(&config);

    config = parse_ok("path: { data: /srv//x/./y/.. }\n");
    assert_string_equal(config->path.data, "/srv/x");
    corral_config_destroy(&config);

    char *error = NULL;
    config = parse("/corral.yml", "path: { data: ../../d }\n", &error);
    assert_non_null(config);
    assert_string_equal(config->path.data, "/d");
    corral_config_destroy(&config);
}

static void
test_relative_config_file_resolves_against_cwd(void **state)
{
    char saved[PATH_MAX], made[] = "/tmp/corral-config-XXXXXX";
    assert_non_null(getcwd(saved, sizeof saved));
    assert_non_null(mkdtemp(made));
    assert_int_equal(chdir(made), 0);
    assert_int_equal(mkdir("conf", 0755), 0);
    char *real = realpath(made, NULL);
    assert_non_null(real);
    char expected[PATH_MAX];
    char *error = NULL;

    corral_config_t *config = parse("conf/t.yml", "path: { data: d }\n", &error);
    assert_non_null(config);
    assert_string_equal(config->file, "conf/t.yml");
    snprintf(expected, sizeof expected, "%s/conf/d", real);
    assert_string_equal(config->path.data, expected);
    corral_config_destroy(&config);

    config = parse("t.yml", "", &error);            /* no directory part */
    assert_non_null(config);
    snprintf(expected, sizeof expected, "%s/data", real);
    assert_string_equal(config->path.data, expected);
    corral_config_destroy(&config);

    config = parse("./missing/../conf/t.yml", "", &error);
    assert_non_null(config);
    snprintf(expected, sizeof expected, "%s/conf/data", real);
    assert_string_equal(config->path.data, expected);
    corral_config_destroy(&config);

    config = parse("nosuch/t.yml", "", &error);     /* lexical fallback */
    assert_non_null(config);
    snprintf(expected, sizeof expected, "%s/nosuch/data", real);
    assert_string_equal(config->path.data, expected);
    corral_config_destroy(&config);

    assert_int_equal(chdir(saved), 0);
    char conf[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/conf", made);
    assert_int_equal(rmdir(conf), 0);
    assert_int_equal(rmdir(made), 0);
    free(real);
}

/* ---- Errors --------------------------------------------------------- */

typedef struct {
    const char *text;
    const char *expected;   /* the whole message, after "t.yml:" */
} bad_case_t;

static void
assert_errors(const bad_case_t *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        char *error = NULL;
        corral_config_t *config = parse("t.yml", cases[i].text, &error);
        char expected[512];
        snprintf(expected, sizeof expected, "t.yml:%s", cases[i].expected);
        if (config || !error || strcmp(error, expected) != 0)
            fail_msg("case %zu:\n%s\n--- expected: %s\n--- got:      %s", i,
                     cases[i].text, expected, error ? error : "(no error)");
        free(error);
    }
}

#define ASSERT_ERRORS(cases) assert_errors(cases, sizeof cases / sizeof cases[0])

static void
test_unknown_keys(void **state)
{
    static const bad_case_t cases[] = {
        { "servr:\n  port: 1\n", "1:1: servr: unknown key (did you mean server?)" },
        { "server:\n  hots: x\n", "2:3: server.hots: unknown key (did you mean host?)" },
        { "node:\n  workers:\n    cnt: 2\n", "3:5: node.workers.cnt: unknown key (did you mean count?)" },
        { "node:\n  reload: { paralel: 1 }\n",
          "2:13: node.reload.paralel: unknown key (did you mean parallel?)" },
        { "node:\n  restart: { policy: sometimes }\n",
          "2:22: node.restart.policy: expected never, on-failure or always, got \"sometimes\"" },
        { "node:\n  workers: { recycle: { jitter: 150% } }\n",
          "2:33: node.workers.recycle.jitter: expected a percentage 0%..100%, got \"150%\"" },
        { "node:\n  workers: { max_memory: 1tb }\n",
          "2:26: node.workers.max_memory: expected a size such as 512kb, 64mb or 1gb, got \"1tb\"" },
        { "logging: { root: { level: info, additivity: true } }\n",
          "1:33: logging.root.additivity: unknown key" },
        { "server: { Port: 80 }\n", "1:11: server.Port: unknown key (did you mean port?)" },
    };
    ASSERT_ERRORS(cases);
}

static void
test_wrong_types(void **state)
{
    static const bad_case_t cases[] = {
        { "server:\n  port: \"8080\"\n",
          "2:9: server.port: expected a port number 0..65535, got the string \"8080\"" },
        { "server:\n  port: '8080'\n",
          "2:9: server.port: expected a port number 0..65535, got the string \"8080\"" },
        { "server:\n  port: { a: 1 }\n",
          "2:9: server.port: expected a port number 0..65535, got a mapping" },
        { "server:\n  port:\n    - 1\n",
          "3:5: server.port: expected a port number 0..65535, got a sequence" },
        { "server: { port: }\n",
          "1:17: server.port: expected a port number 0..65535, got nothing" },
        { "server: 8080\n", "1:9: server: expected a mapping, got \"8080\"" },
        { "server: [a, b]\n", "1:9: server: expected a mapping, got a sequence" },
        { "- a\n- b\n", "1:1: expected a mapping, got a sequence" },
        { "hello\n", "1:1: expected a mapping, got \"hello\"" },
        { "server: { host: { a: b } }\n",
          "1:17: server.host: expected a non-empty string, got a mapping" },
        { "server: { host: \"\" }\n",
          "1:17: server.host: expected a non-empty string, got the string \"\"" },
        { "pid:\n  file:\n",
          "2:8: pid.file: expected a non-empty string, got nothing" },
        { "path: { data: [a] }\n",
          "1:15: path.data: expected a non-empty string, got a sequence" },
        { "node: { enabled: yes }\n",
          "1:18: node.enabled: expected true or false, got \"yes\"" },
        { "node: { enabled: \"true\" }\n",
          "1:18: node.enabled: expected true or false, got the string \"true\"" },
        { "node: { enabled: 1 }\n",
          "1:18: node.enabled: expected true or false, got \"1\"" },
        { "? [a, b]\n: 1\n", "1:3: expected a key name, got a sequence" },
        { "server: { ? { a: 1 } : 2 }\n",
          "1:13: server: expected a key name, got a mapping" },
    };
    ASSERT_ERRORS(cases);
}

static void
test_out_of_range_values(void **state)
{
    static const bad_case_t cases[] = {
        { "server: { port: -1 }\n",
          "1:17: server.port: expected a port number 0..65535, got \"-1\"" },
        { "server: { port: 65536 }\n",
          "1:17: server.port: expected a port number 0..65535, got \"65536\"" },
        { "server: { port: 99999999999999999999999 }\n",
          "1:17: server.port: expected a port number 0..65535, "
          "got \"99999999999999999999999\"" },
        { "server: { port: 80.0 }\n",
          "1:17: server.port: expected a port number 0..65535, got \"80.0\"" },
        { "server: { port: 0x50 }\n",
          "1:17: server.port: expected a port number 0..65535, got \"0x50\"" },
        { "server: { port: +80 }\n",
          "1:17: server.port: expected a port number 0..65535, got \"+80\"" },
        { "server: { balancing: round-robin }\n",
          "1:22: server.balancing: expected shared or reuseport, got \"round-robin\"" },
        { "server: { balancing: SHARED }\n",
          "1:22: server.balancing: expected shared or reuseport, got \"SHARED\"" },
        { "node:\n  workers:\n    count: 0\n",
          "3:12: node.workers.count: expected a positive integer or \"auto\", got \"0\"" },
        { "node:\n  workers:\n    count: lots\n",
          "3:12: node.workers.count: expected a positive integer or \"auto\", got \"lots\"" },
        { "node:\n  workers:\n    count: -2\n",
          "3:12: node.workers.count: expected a positive integer or \"auto\", got \"-2\"" },
        { "node:\n  workers:\n    count: \"4\"\n",
          "3:12: node.workers.count: expected a positive integer or \"auto\", "
          "got the string \"4\"" },
        { "node:\n  workers:\n    count: 1025\n",
          "3:12: node.workers.count: at most 1024 workers, got 1025" },
        { "logging:\n  root:\n    level: verbose\n",
          "3:12: logging.root.level: expected one of all, trace, debug, info, "
          "warn, error, fatal, off, got \"verbose\"" },
        { "logging:\n  root:\n    level: [info]\n",
          "3:12: logging.root.level: expected one of all, trace, debug, info, "
          "warn, error, fatal, off, got a sequence" },
        { "node: { shutdown_timeout: 30 s }\n",
          "1:27: node.shutdown_timeout: expected a duration such as 250ms, 30s, "
          "5m or 1h, got \"30 s\"" },
        { "node: { shutdown_timeout: -1s }\n",
          "1:27: node.shutdown_timeout: expected a duration such as 250ms, 30s, "
          "5m or 1h, got \"-1s\"" },
        { "node: { shutdown_timeout: 1.5s }\n",
          "1:27: node.shutdown_timeout: expected a duration such as 250ms, 30s, "
          "5m or 1h, got \"1.5s\"" },
        { "node: { shutdown_timeout: 30sec }\n",
          "1:27: node.shutdown_timeout: expected a duration such as 250ms, 30s, "
          "5m or 1h, got \"30sec\"" },
        { "server: { limits: { max_connections: 0 } }\n",
          "1:38: server.limits.max_connections: expected an integer from 1 to 1048576, "
          "got \"0\"" },
        { "server: { limits: { max_connections: 1048577 } }\n",
          "1:38: server.limits.max_connections: expected an integer from 1 to 1048576, "
          "got \"1048577\"" },
        { "server: { limits: { max_connections_per_ip: -1 } }\n",
          "1:45: server.limits.max_connections_per_ip: expected an integer from 0 to "
          "1048576, got \"-1\"" },
        { "server: { limits: { header_timeout: 999ms } }\n",
          "1:37: server.limits.header_timeout: expected a duration from 1s to 1h, "
          "got \"999ms\"" },
        { "server: { limits: { idle_timeout: 61m } }\n",
          "1:35: server.limits.idle_timeout: expected a duration from 1s to 1h, "
          "got \"61m\"" },
        { "server: { test_routes: yes }\n",
          "1:24: server.test_routes: expected true or false, got \"yes\"" },
        { "node: { shutdown_timeout: 99999999999999999999ms }\n",
          "1:27: node.shutdown_timeout: expected a duration such as 250ms, 30s, "
          "5m or 1h, got \"99999999999999999999ms\"" },
    };
    ASSERT_ERRORS(cases);
}

/* server.limits.keepalive_*: nginx's defaults, 0 for no limit, strict values. */
static void
test_keepalive_limits(void **state)
{
    corral_config_t *config = parse_ok("");
    assert_int_equal(config->server.limits.keepalive_requests, 1000);
    assert_int_equal(config->server.limits.keepalive_time_ms, 3600000);
    corral_config_destroy(&config);
    config = parse_ok("server: { limits: { keepalive_requests: 100, keepalive_time: 5m } }\n");
    assert_int_equal(config->server.limits.keepalive_requests, 100);
    assert_int_equal(config->server.limits.keepalive_time_ms, 300000);
    corral_config_destroy(&config);
    config = parse_ok("server: { limits: { keepalive_requests: 0, keepalive_time: 0 } }\n");
    assert_int_equal(config->server.limits.keepalive_requests, 0);
    assert_int_equal(config->server.limits.keepalive_time_ms, 0);
    corral_config_destroy(&config);
    static const bad_case_t cases[] = {
        { "server: { limits: { keepalive_requests: -1 } }\n",
          "1:41: server.limits.keepalive_requests: expected a non-negative integer, got \"-1\"" },
        { "server: { limits: { keepalive_requests: \"100\" } }\n",
          "1:41: server.limits.keepalive_requests: expected a non-negative integer, "
          "got the string \"100\"" },
        { "server: { limits: { keepalive_time: forever } }\n",
          "1:37: server.limits.keepalive_time: expected a duration such as 250ms, 30s, "
          "5m or 1h, got \"forever\"" },
        { "server: { limits: { keepalive: 1 } }\n",
          "1:21: server.limits.keepalive: unknown key" },
    };
    ASSERT_ERRORS(cases);
}

static void
test_the_design_example_message(void **state)
{
    char *error = NULL;
    corral_config_t *config = parse("conf.yml",
                                    "node:\n"
                                    "  enabled: true\n"
                                    "  workers:\n"
                                    "    count: abc\n", &error);
    assert_null(config);
    assert_string_equal(error, "conf.yml:4:12: node.workers.count: expected a "
                               "positive integer or \"auto\", got \"abc\"");
    free(error);
}

static void
test_long_and_odd_values_are_shown_safely(void **state)
{
    char text[512], long_value[300];
    memset(long_value, 'x', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    snprintf(text, sizeof text, "server: { port: %s }\n", long_value);
    char *error = NULL;
    assert_null(parse("t.yml", text, &error));
    assert_non_null(strstr(error, "got \"xxxxxxxx"));
    assert_non_null(strstr(error, "...\""));
    assert_true(strlen(error) < 200);
    free(error);

    assert_null(parse("t.yml", "server: { port: \"a\\nb\" }\n", &error));
    assert_string_equal(error, "t.yml:1:17: server.port: expected a port number "
                               "0..65535, got the string \"a?b\"");
    free(error);
}

static void
test_duplicate_keys(void **state)
{
    static const bad_case_t cases[] = {
        { "server: {}\nserver: {}\n", "2:1: server: duplicate key" },
        { "server:\n  port: 1\n  port: 2\n", "3:3: server.port: duplicate key" },
        { "node: { workers: { count: 1, count: 2 } }\n",
          "1:30: node.workers.count: duplicate key" },
    };
    ASSERT_ERRORS(cases);
}

static void
test_yaml_syntax_errors(void **state)
{
    static const bad_case_t cases[] = {
        { "server:\n  port: 1\n   host: x\n",
          "3:8: invalid YAML: mapping values are not allowed in this context" },
        { "server: [1, 2\n",
          "2:1: invalid YAML: did not find expected ',' or ']' "
          "(while parsing a flow sequence)" },
        { "server: { host: \"abc }\n",
          "2:1: invalid YAML: found unexpected end of stream "
          "(while scanning a quoted scalar)" },
        /* libyaml says "found character that cannot start any token" */
        { "server:\n\tport: 1\n",
          "2:1: tabs are not allowed in YAML: indent with spaces" },
        { "server:\n  port: 1\n  host:\t\tx\n\t\n",
          "4:1: tabs are not allowed in YAML: indent with spaces" },
        { "server: *nowhere\n", "1:9: invalid YAML: found undefined alias" },
        { "server: {}\n---\nnode: {}\n",
          "3:1: only one YAML document is allowed" },
        { "server:\n  host: \xff\n", "2:9: invalid YAML: invalid leading UTF-8 octet" },
    };
    ASSERT_ERRORS(cases);
}

/* ---- Files ---------------------------------------------------------- */

static void
test_missing_file_is_named(void **state)
{
    char *error = NULL;
    assert_null(corral_config_load("/nonexistent-corral/corral.yml", &error));
    assert_string_equal(error, "/nonexistent-corral/corral.yml: cannot read: "
                               "No such file or directory");
    free(error);

    assert_null(corral_config_load("/", &error));
    assert_string_equal(error, "/: cannot read: Is a directory");
    free(error);
}

static void
test_fixtures(void **state)
{
    char *file = source_path("tests/fixtures/config/full.yml");
    char *error = NULL;
    corral_config_t *config = corral_config_load(file, &error);
    assert_non_null(config);
    assert_string_equal(config->file, file);
    assert_string_equal(config->server.host, "0.0.0.0");
    assert_int_equal(config->server.port, 9090);
    assert_int_equal(config->server.balancing, CORRAL_BALANCING_REUSEPORT);
    assert_non_null(strstr(config->path.data, "/tests/fixtures/config/state"));
    assert_true(config->path.data[0] == '/');
    assert_string_equal(config->pid.file, "/run/corral/corral.pid");
    assert_false(config->node.enabled);
    assert_int_equal(config->node.workers.count, 3);
    assert_int_equal(config->node.shutdown_timeout_ms, 120000);
    assert_int_equal(config->logging.root_level, CORRAL_LEVEL_DEBUG);
    corral_config_destroy(&config);
    free(file);

    file = source_path("tests/fixtures/config/empty.yml");
    config = corral_config_load(file, &error);
    assert_non_null(config);
    assert_true(config->node.workers.count_auto);
    corral_config_destroy(&config);
    free(file);

    static const struct { const char *name, *message; } bad[] = {
        { "bad-port.yml", ":4:9: server.port: expected a port number 0..65535, "
                          "got the string \"8080\"" },
        { "syntax-error.yml", ":4:5: invalid YAML: did not find expected ',' "
                              "or ']' (while parsing a flow sequence)" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *relative = NULL, *expected = NULL;
        assert_true(asprintf(&relative, "tests/fixtures/config/%s", bad[i].name) > 0);
        file = source_path(relative);
        assert_true(asprintf(&expected, "%s%s", file, bad[i].message) > 0);
        assert_null(corral_config_load(file, &error));
        assert_string_equal(error, expected);
        free(error);
        free(expected);
        free(file);
        free(relative);
    }
}

static void
test_shipped_config(void **state)
{
    char *file = source_path("config/corral.yml");
    char *error = NULL;
    corral_config_t *config = corral_config_load(file, &error);
    if (!config)
        fail_msg("config/corral.yml: %s", error);
    assert_string_equal(config->server.host, "127.0.0.1");
    assert_int_equal(config->server.port, 8080);
    assert_int_equal(config->server.balancing, CORRAL_BALANCING_SHARED);
    assert_false(config->server.test_routes);      /* no route changes the instance */
    char *data = realpath(source_dir(), NULL);
    assert_non_null(data);
    char expected[PATH_MAX];
    snprintf(expected, sizeof expected, "%s/.corral/data", data);
    assert_string_equal(config->path.data, expected);
    snprintf(expected, sizeof expected, "%s/.corral/data/corral.pid", data);
    assert_string_equal(config->pid.file, expected);
    assert_true(config->node.enabled);
    assert_true(config->node.workers.count_auto);
    assert_int_equal(config->node.shutdown_timeout_ms, 30000);
    assert_int_equal(config->logging.root_level, CORRAL_LEVEL_INFO);
    corral_config_destroy(&config);
    free(data);
    free(file);
}

/* Every ```yaml block of docs/configuration.md parses. */
static void
test_docs_examples(void **state)
{
    char *file = source_path("docs/configuration.md");
    FILE *stream = fopen(file, "r");
    if (!stream)
        fail_msg("cannot open %s", file);
    char *line = NULL, *block = NULL;
    size_t size = 0, block_length = 0;
    int blocks = 0, block_line = 0, line_number = 0;
    bool inside = false;
    while (getline(&line, &size, stream) > 0) {
        line_number++;
        if (!inside && strcmp(line, "```yaml\n") == 0) {
            inside = true;
            block_length = 0;
            block_line = line_number + 1;
            continue;
        }
        if (inside && strncmp(line, "```", 3) == 0) {
            inside = false;
            char *error = NULL;
            corral_config_t *config = corral_config_parse(
                "/etc/corral/corral.yml", block ? block : "", block_length, &error);
            if (!config)
                fail_msg("%s: the block at line %d does not parse: %s", file,
                         block_line, error);
            corral_config_destroy(&config);
            blocks++;
            continue;
        }
        if (inside) {
            size_t length = strlen(line);
            block = realloc(block, block_length + length + 1);
            assert_non_null(block);
            memcpy(block + block_length, line, length + 1);
            block_length += length;
        }
    }
    assert_false(inside);
    assert_true(blocks >= 5);   /* the extraction found the examples */
    free(block);
    free(line);
    fclose(stream);
    free(file);
}

/* Every key of the schema (corral_config_keys) has a row in the table of
 * docs/configuration.md, and every row names a key that exists. */
typedef struct {
    char *keys[256];
    bool section[256];
    size_t count;
} key_list_t;

static void
add_key(const char *key, bool section, void *arg)
{
    key_list_t *list = arg;
    assert_true(list->count < 256);
    list->section[list->count] = section;
    list->keys[list->count++] = strdup(key);
}

static bool
listed(const key_list_t *list, const char *key)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->keys[i], key) == 0)
            return true;
    return false;
}

static void
test_docs_name_every_key(void **state)
{
    key_list_t schema = { .count = 0 }, documented = { .count = 0 };
    corral_config_keys(add_key, &schema);
    assert_true(schema.count > 60);
    char *file = source_path("docs/configuration.md");
    FILE *stream = fopen(file, "r");
    if (!stream)
        fail_msg("cannot open %s", file);
    char *line = NULL;
    size_t size = 0;
    while (getline(&line, &size, stream) > 0) {
        if (strncmp(line, "| `", 3) != 0)
            continue;
        char *end = strchr(line + 3, '`');
        assert_non_null(end);
        *end = '\0';
        add_key(line + 3, false, &documented);
    }
    int wrong = 0;
    for (size_t i = 0; i < documented.count; i++)
        if (!listed(&schema, documented.keys[i]))
            wrong++, print_message("docs/configuration.md documents `%s`, which is not a key\n",
                                   documented.keys[i]);
    for (size_t i = 0; i < schema.count; i++)
        if (!schema.section[i] && !listed(&documented, schema.keys[i]))
            wrong++, print_message("`%s` is a key, but docs/configuration.md's table has no "
                                   "row for it\n", schema.keys[i]);
    assert_int_equal(wrong, 0);
    for (size_t i = 0; i < schema.count; i++)
        free(schema.keys[i]);
    for (size_t i = 0; i < documented.count; i++)
        free(documented.keys[i]);
    free(line);
    fclose(stream);
    free(file);
}

/* ---- Null ------------------------------------------------------------ */

/* `key: VALUE` nested as YAML blocks ("node.reload.parallel" is three
 * levels), with a second worker type beside node.workers.<type>. */
static char *
nested(const char *key, const char *value)
{
    char *text = calloc(1, 1024), *at = text;
    assert_non_null(text);
    int depth = 0;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", key);
    for (char *part = strtok(copy, "."); part; part = strtok(NULL, ".")) {
        bool last = !strchr(key + (part - copy), '.');
        const char *name = strcmp(part, "<type>") == 0 ? "jobs" : part;
        at += sprintf(at, "%*s%s:%s%s\n", depth * 2, "", name, last && *value ? " " : "",
                      last ? value : "");
        if (strcmp(part, "<type>") == 0)
            at += sprintf(at, "%*sweb: { count: 1 }\n", depth * 2, "");
        depth++;
    }
    return text;
}

/* The outcome of a parse, without the position (an empty value has none
 * of its own): "ok", or the message after "LINE:COLUMN: ". */
static char *
outcome(const char *text)
{
    char *error = NULL;
    corral_config_t *config = corral_config_parse(FAKE_FILE, text, strlen(text), &error);
    if (config) {
        corral_config_destroy(&config);
        return strdup("ok");
    }
    const char *message = error + strlen(FAKE_FILE) + 1;
    message = strchr(strchr(message, ':') + 1, ':') + 2;
    char *copy = strdup(message);
    free(error);
    return copy;
}

static void
check_null_spellings(const char *key, bool section, void *arg)
{
    static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
    if (strstr(key, "NAME") || strstr(key, "[]"))
        return;         /* under a user's name or in a list: below */
    char *text = nested(key, nulls[0]);
    char *first = outcome(text);
    free(text);
    for (size_t i = 1; i < sizeof nulls / sizeof nulls[0]; i++) {
        text = nested(key, nulls[i]);
        char *other = outcome(text);
        if (strcmp(first, other) != 0)
            fail_msg("%s: \"%s\" gives %s but an empty value gives %s", key, nulls[i], other,
                     first);
        free(other);
        free(text);
    }
    /* a section or a list with no value keeps its defaults */
    if ((section && strncmp(key, "node.remote.", 12) != 0)
        || !strcmp(key, "node.workers.command") || !strcmp(key, "node.workers.env")
        || !strcmp(key, "node.workers.<type>")) {
        if (strcmp(first, "ok") != 0)
            fail_msg("%s with no value: %s", key, first);
        text = nested(key, "NULL");
        corral_config_t *config = parse_ok(text);
        if (strcmp(key, "node.workers.<type>") != 0)
            assert_defaults(config);
        assert_int_equal(config->server.limits.keepalive_requests, 1000);
        assert_null(config->node.workers.program.command);
        assert_null(config->node.workers.program.env);
        assert_null(config->node.remote.endpoint);
        assert_int_equal(config->logging.config->n_appenders, 0);
        assert_int_equal(config->logging.config->n_loggers, 0);
        corral_config_destroy(&config);
        free(text);
    }
    free(first);
}

/* NULL, Null, null, ~ and an empty value mean the same for every key of
 * every section: the defaults for a section or a list, and the same error
 * for a value that must be given. */
static void
test_null_means_the_same_everywhere(void **state)
{
    corral_config_keys(check_null_spellings, NULL);
    /* the keys under a user's name and in lists */
    static const struct { const char *before, *after; } texts[] = {
        { "logging:\n  appenders:\n    f: { type: file, fileName: x.log, layout: ", " }\n" },
        { "logging:\n  appenders:\n    f: ", "\n" },
        { "logging:\n  root: { appenders: ", " }\n" },
        { "logging:\n  loggers: [ { name: a, appenders: ", " } ]\n" },
        { "logging:\n  loggers: ", "\n" },
        { "logging:\n  appenders: ", "\n  root: { level: debug }\n" },
    };
    static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char *first = NULL;
        for (size_t j = 0; j < sizeof nulls / sizeof nulls[0]; j++) {
            char text[256];
            snprintf(text, sizeof text, "%s%s%s", texts[i].before, nulls[j], texts[i].after);
            char *other = outcome(text);
            if (!first)
                first = other;
            else if (strcmp(first, other) != 0)
                fail_msg("%s: %s, but with nothing: %s", text, other, first);
            if (other != first)
                free(other);
        }
        free(first);
    }
    /* what the issue saw: accepted in one section, refused in another */
    corral_config_t *config = parse_ok("server: NULL\nlogging: { appenders: NULL }\n");
    assert_defaults(config);
    corral_config_destroy(&config);
    config = parse_ok("logging: { appenders: null, root: { appenders: NULL } }\n");
    corral_config_destroy(&config);
    /* a quoted "null" is a string, not null */
    char *error = NULL;
    assert_null(parse("t.yml", "server: \"null\"\n", &error));
    assert_string_equal(error, "t.yml:1:9: server: expected a mapping, got the string \"null\"");
    free(error);
}

/* ---- path.data for tools, read leniently ------------------------------- */

static char *
data_dir_of(const char *text, char **error)
{
    char dir[] = "/tmp/corral-data-dir-XXXXXX", file[64];
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/corral.yml", dir);
    FILE *out = fopen(file, "w");
    assert_non_null(out);
    fputs(text, out);
    fclose(out);
    char *data = corral_config_read_data_dir(file, error);
    char *relative = data && strncmp(data, dir, strlen(dir)) == 0
        ? strdup(data + strlen(dir)) : data ? strdup(data) : NULL;
    free(data);
    if (*error) {     /* the message without the temporary directory */
        char *message = strdup(*error + strlen(dir) + 1);
        free(*error);
        *error = message;
    }
    unlink(file);
    rmdir(dir);
    return relative;
}

static void
test_data_dir_is_read_leniently(void **state)
{
    char *error = NULL;
    char *data = data_dir_of("node:\n  shutdown_timout: 1s\npath: { data: ./state }\n", &error);
    assert_null(error);
    assert_string_equal(data, "/state");
    free(data);
    data = data_dir_of("server: { port: lots }\n", &error);
    assert_string_equal(data, "/data");
    free(data);
    data = data_dir_of("path: { data: /srv/corral/ }\n", &error);
    assert_string_equal(data, "/srv/corral");
    free(data);
    assert_null(data_dir_of("path:\n  data: [a]\n", &error));
    assert_string_equal(error, "corral.yml:2:9: path.data: expected a non-empty string, "
                               "got a sequence");
    free(error);
    assert_null(data_dir_of("path: { data: x\n", &error));
    assert_non_null(strstr(error, "invalid YAML"));
    free(error);
}

/* ---- Sizes and durations -------------------------------------------- */

typedef struct {
    const char *text;
    int rc;
    uint64_t value;
} scaled_case_t;

static void
test_parse_size(void **state)
{
    static const scaled_case_t cases[] = {
        { "0", 0, 0 },
        { "512", 0, 512 },
        { "512b", 0, 512 },
        { "64kb", 0, 64 * 1024 },
        { "512mb", 0, 512ULL << 20 },
        { "1gb", 0, 1ULL << 30 },
        { "007kb", 0, 7 * 1024 },
        { "18446744073709551615", 0, UINT64_MAX },
        { "18446744073709551615b", 0, UINT64_MAX },
        { "17179869183gb", 0, 17179869183ULL << 30 },
        { "17179869184gb", -1, 0 },              /* 2^64: overflow */
        { "18446744073709551616", -1, 0 },
        { "99999999999999999999999kb", -1, 0 },
        { "", -1, 0 },
        { "kb", -1, 0 },
        { "-1", -1, 0 },
        { "-1kb", -1, 0 },
        { "+1", -1, 0 },
        { " 1", -1, 0 },
        { "1 ", -1, 0 },
        { "1 kb", -1, 0 },
        { "1KB", -1, 0 },
        { "1Mb", -1, 0 },
        { "1k", -1, 0 },
        { "1tb", -1, 0 },
        { "1.5mb", -1, 0 },
        { "0x10", -1, 0 },
        { "1kbb", -1, 0 },
        { "1mbkb", -1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t value = 12345;
        int rc = corral_parse_size(cases[i].text, &value);
        if (rc != cases[i].rc)
            fail_msg("size \"%s\": rc %d, expected %d", cases[i].text, rc,
                     cases[i].rc);
        assert_int_equal(value, rc == 0 ? cases[i].value : 12345);
    }
    uint64_t value;
    assert_int_equal(corral_parse_size(NULL, &value), -1);
}

static void
test_parse_duration(void **state)
{
    static const scaled_case_t cases[] = {
        { "0", 0, 0 },
        { "250", 0, 250 },
        { "250ms", 0, 250 },
        { "1s", 0, 1000 },
        { "30s", 0, 30000 },
        { "5m", 0, 300000 },
        { "1h", 0, 3600000 },
        { "0s", 0, 0 },
        { "18446744073709551615", 0, UINT64_MAX },
        { "18446744073709551615ms", 0, UINT64_MAX },
        { "18446744073709551s", 0, 18446744073709551000ULL },
        { "18446744073709552s", -1, 0 },         /* overflow */
        { "5124095576030h", 0, 5124095576030ULL * 3600000 },
        { "5124095576031h", -1, 0 },
        { "307445734561825m", 0, 307445734561825ULL * 60000 },
        { "307445734561826m", -1, 0 },
        { "18446744073709551616", -1, 0 },
        { "", -1, 0 },
        { "s", -1, 0 },
        { "ms", -1, 0 },
        { "-1", -1, 0 },
        { "-1s", -1, 0 },
        { "+1s", -1, 0 },
        { "1.5s", -1, 0 },
        { "1 s", -1, 0 },
        { " 1s", -1, 0 },
        { "1s ", -1, 0 },
        { "1S", -1, 0 },
        { "1MS", -1, 0 },
        { "1d", -1, 0 },
        { "1us", -1, 0 },
        { "1sec", -1, 0 },
        { "1mss", -1, 0 },
        { "1h30m", -1, 0 },
        { "1e3", -1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t value = 12345;
        int rc = corral_parse_duration(cases[i].text, &value);
        if (rc != cases[i].rc)
            fail_msg("duration \"%s\": rc %d, expected %d", cases[i].text, rc,
                     cases[i].rc);
        assert_int_equal(value, rc == 0 ? cases[i].value : 12345);
    }
    uint64_t value;
    assert_int_equal(corral_parse_duration(NULL, &value), -1);
}

/* ---- The logging section (issue 4) -------------------------------- */

static void
test_logging_section_errors(void **state)
{
    static const bad_case_t cases[] = {
        { "logging:\n  appenders:\n    f: { type: syslog }\n",
          "3:16: logging.appenders.f.type: expected console, file or rolling-file, "
          "got \"syslog\"" },
        { "logging:\n  appenders:\n    f: { type: file }\n",
          "3:8: logging.appenders.f.fileName: required for a file appender" },
        { "logging:\n  appenders:\n    c: { type: console, fileName: x.log }\n",
          "3:35: logging.appenders.c.fileName: not a key of a console appender" },
        { "logging:\n  appenders:\n"
          "    f: { type: file, fileName: x, policy: { type: size-limit } }\n",
          "3:43: logging.appenders.f.policy: only for a rolling-file appender" },
        { "logging:\n  appenders:\n    r: { type: rolling-file, fileName: x,\n"
          "         policy: { type: size-limit, size: 10 parsecs } }\n",
          "4:44: logging.appenders.r.policy.size: expected a size such as 512kb or 10mb" },
        { "logging:\n  appenders:\n    r: { type: rolling-file, fileName: x,\n"
          "         strategy: { type: numeric, max: 101 } }\n",
          "4:42: logging.appenders.r.strategy.max: expected an integer from 1 to 100" },
        { "logging:\n  appenders:\n    r: { type: rolling-file, fileName: x,\n"
          "         strategy: { pattern: '-%n' } }\n",
          "4:31: logging.appenders.r.strategy.pattern: pattern must contain %i once and no '/'" },
        { "logging:\n  appenders:\n    c: { type: console, layout: { pattern: '%date{RFC}' } }\n",
          "3:44: logging.appenders.c.layout.pattern: %date: unknown format \"RFC\" (ISO8601, "
          "ISO8601_TZ, ABSOLUTE, UNIX, UNIX_MILLIS)" },
        { "logging:\n  root: { appenders: [nowhere] }\n",
          "2:23: logging.root.appenders: no appender named \"nowhere\"" },
        { "logging:\n  loggers: [ { level: debug } ]\n",
          "2:14: logging.loggers[0].name: required" },
        { "logging:\n  loggers: [ { name: a, level: loud } ]\n",
          "2:32: logging.loggers[0].level: expected one of all, trace, debug, info, warn, "
          "error, fatal, off, got \"loud\"" },
    };
    ASSERT_ERRORS(cases);
}

static void
test_logging_section_values(void **state)
{
    char *error = NULL;
    corral_config_t *config = parse("/etc/corral/t.yml",
        "logging:\n"
        "  appenders:\n"
        "    file: { type: rolling-file, fileName: logs/corral.log,\n"
        "            policy: { type: time-interval, interval: 1h, modulate: false },\n"
        "            strategy: { max: 3 }, layout: { type: json } }\n"
        "  root: { appenders: [file, default], level: warn }\n"
        "  loggers: [ { name: plugins.migrations, level: debug } ]\n", &error);
    if (!config)
        fail_msg("%s", error);
    const Corral__V1__LogConfig *logging = config->logging.config;
    assert_int_equal(config->logging.root_level, CORRAL_LEVEL_WARN);
    assert_int_equal(logging->n_appenders, 1);
    const Corral__V1__LogAppender *file = logging->appenders[0];
    assert_string_equal(file->name, "file");
    assert_string_equal(file->file_name, "/etc/corral/logs/corral.log");
    assert_string_equal(file->policy->type, "time-interval");
    assert_int_equal(file->policy->interval_ms, 3600000);
    assert_false(file->policy->modulate);
    assert_int_equal(file->strategy->max, 3);
    assert_string_equal(file->strategy->pattern, "-%i");
    assert_string_equal(file->layout->type, "json");
    assert_int_equal(logging->root->n_appenders, 2);
    assert_int_equal(logging->n_loggers, 1);
    assert_string_equal(logging->loggers[0]->name, "plugins.migrations");
    assert_int_equal(logging->loggers[0]->level, CORRAL_LEVEL_DEBUG);
    corral_config_destroy(&config);
}

/* ---- Upper bounds and input limits (issue 15) ------------------------ */

static void
test_sizes_and_durations_have_upper_bounds(void **state)
{
    static const bad_case_t cases[] = {
        /* 2^63 ms: accepted before, and rolled the file on every write */
        { "logging:\n  appenders:\n    r: { type: rolling-file, fileName: x,\n"
          "         policy: { type: time-interval, interval: 9223372036854775808 } }\n",
          "4:51: logging.appenders.r.policy.interval: at most a year (8760h), "
          "got 9223372036854775808" },
        { "logging:\n  appenders:\n    r: { type: rolling-file, fileName: x,\n"
          "         policy: { type: time-interval, interval: 8761h } }\n",
          "4:51: logging.appenders.r.policy.interval: at most a year (8760h), got 8761h" },
        { "logging:\n  appenders:\n    r: { type: rolling-file, fileName: x,\n"
          "         policy: { type: size-limit, size: 1025gb } }\n",
          "4:44: logging.appenders.r.policy.size: at most 1024gb, got 1025gb" },
        { "node: { shutdown_timeout: 9223372036854775808 }\n",
          "1:27: node.shutdown_timeout: expected a duration from 0 to 31536000000ms, "
          "got 9223372036854775808" },
        { "node: { status: { interval: 8761h } }\n",
          "1:29: node.status.interval: expected a duration from 0 to 31536000000ms, got 8761h" },
        { "node: { workers: { heartbeat_timeout: 100000000000 } }\n",
          "1:39: node.workers.heartbeat_timeout: expected a duration from 0 to "
          "31536000000ms, got 100000000000" },
        { "node: { bus: { max_persisted_bytes: 2gb } }\n",
          "1:37: node.bus.max_persisted_bytes: expected a size from 1048576 to 1073741824 "
          "bytes, got 2gb" },
        { "node: { bus: { max_persisted_bytes: 1kb } }\n",
          "1:37: node.bus.max_persisted_bytes: expected a size from 1048576 to 1073741824 "
          "bytes, got 1kb" },
        { "node: { bus: { max_persisted_bytes: lots } }\n",
          "1:37: node.bus.max_persisted_bytes: expected a size such as 512kb, 64mb or 1gb, "
          "got \"lots\"" },
        { "logging:\n  appenders:\n    f: { type: file, fileName: x, mode: 0755 }\n",
          "3:41: logging.appenders.f.mode: expected permission bits in octal such as 0640 "
          "or 0644 (owner rw, no x), got \"0755\"" },
        { "logging:\n  appenders:\n    f: { type: file, fileName: x, mode: 0040 }\n",
          "3:41: logging.appenders.f.mode: expected permission bits in octal such as 0640 "
          "or 0644 (owner rw, no x), got \"0040\"" },
        { "logging:\n  appenders:\n    c: { type: console, mode: 0640 }\n",
          "3:31: logging.appenders.c.mode: not a key of a console appender" },
    };
    ASSERT_ERRORS(cases);
    corral_config_t *config = parse_ok("node: { bus: { max_persisted_bytes: 1gb },\n"
                                       "        shutdown_timeout: 8760h }\n");
    assert_int_equal(config->node.bus.max_persisted_bytes, 1ULL << 30);
    assert_int_equal(config->node.shutdown_timeout_ms, 8760ULL * 3600 * 1000);
    corral_config_destroy(&config);
    config = parse_ok("logging:\n  appenders:\n    f: { type: file, fileName: x, mode: 0644 }\n");
    assert_int_equal(config->logging.config->appenders[0]->mode, 0644);
    corral_config_destroy(&config);
    config = parse_ok("");
    assert_int_equal(config->node.bus.max_persisted_bytes, 64ULL << 20);
    corral_config_destroy(&config);
}

/* Text of `count` copies of `piece` between `head` and `tail`. */
static char *
repeated(const char *head, const char *piece, size_t count, const char *tail)
{
    size_t size = strlen(head) + strlen(piece) * count + strlen(tail) + 1;
    char *text = malloc(size);
    assert_non_null(text);
    char *at = stpcpy(text, head);
    for (size_t i = 0; i < count; i++)
        at = stpcpy(at, piece);
    strcpy(at, tail);
    return text;
}

static double
seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

/* Refused, with `expected` in the message; quickly (the failure bound is
 * generous: before the limits, these took 20 s). */
static void
assert_refused(const char *text, size_t length, const char *expected)
{
    char *error = NULL;
    double start = seconds_now();
    corral_config_t *config = corral_config_parse("t.yml", text, length, &error);
    double took = seconds_now() - start;
    assert_null(config);
    assert_non_null(error);
    if (!strstr(error, expected))
        fail_msg("expected \"%s\" in: %s", expected, error);
    assert_true(took < 2.0);
    free(error);
}

static void
test_config_size_and_depth_are_limited(void **state)
{
    char *deep = repeated("", "[", 100000, "");         /* 100,000 levels of nesting */
    assert_refused(deep, strlen(deep), "1:33: nested deeper than 32 levels: refused");
    free(deep);
    char *nested = repeated("a: ", "{a: ", 40, "");
    assert_refused(nested, strlen(nested), "nested deeper than 32 levels: refused");
    free(nested);

    /* 100,000 appenders: past the size limit, and past the entries limit
     * when written tightly */
    char *many = repeated("logging:\n  appenders:\n", "    a: { type: console }\n", 100000, "");
    assert_refused(many, strlen(many), "t.yml: larger than 1048576 bytes: refused");
    free(many);
    char *tight = malloc(1024 * 1024);
    char *at = stpcpy(tight, "logging: { appenders: {");
    for (int i = 0; i < 20000; i++)
        at += sprintf(at, "a%d: {type: console},", i);
    strcpy(at, "} }\n");
    assert_refused(tight, strlen(tight), "more than 1024 entries in one mapping: refused");
    free(tight);
    char *list = repeated("logging: { loggers: [", "{name: a},", 2000, "] }\n");
    assert_refused(list, strlen(list), "more than 1024 entries in one list: refused");
    free(list);
    char *aliases = repeated("x: &x 1\ny: [", "*x, ", 100, "]\n");
    assert_refused(aliases, strlen(aliases), "more than 64 aliases (*name): refused");
    free(aliases);

    /* a file larger than the limit is not read whole */
    char path[] = "/tmp/corral-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char block[65536];
    memset(block, '#', sizeof block);
    for (int i = 0; i < 32; i++)
        assert_int_equal(write(fd, block, sizeof block), (ssize_t) sizeof block);
    close(fd);
    char *error = NULL;
    assert_null(corral_config_load(path, &error));
    assert_non_null(strstr(error, "larger than 1048576 bytes: refused"));
    free(error);
    unlink(path);

    /* what is within the limits still parses */
    char *fine = repeated("logging:\n  appenders:\n", "", 0,
                          "    a: { type: console }\n  root: { appenders: [a] }\n");
    corral_config_t *config = parse_ok(fine);
    corral_config_destroy(&config);
    free(fine);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_documents_mean_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_accepted_spellings),
        cmocka_unit_test(test_relative_paths_follow_the_config_file),
        cmocka_unit_test(test_relative_config_file_resolves_against_cwd),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_out_of_range_values),
        cmocka_unit_test(test_keepalive_limits),
        cmocka_unit_test(test_the_design_example_message),
        cmocka_unit_test(test_long_and_odd_values_are_shown_safely),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_yaml_syntax_errors),
        cmocka_unit_test(test_missing_file_is_named),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_shipped_config),
        cmocka_unit_test(test_docs_examples),
        cmocka_unit_test(test_docs_name_every_key),
        cmocka_unit_test(test_null_means_the_same_everywhere),
        cmocka_unit_test(test_data_dir_is_read_leniently),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_logging_section_errors),
        cmocka_unit_test(test_logging_section_values),
        cmocka_unit_test(test_sizes_and_durations_have_upper_bounds),
        cmocka_unit_test(test_config_size_and_depth_are_limited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
