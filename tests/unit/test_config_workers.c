/* test_config_workers.c: what a worker group runs: node.workers.command
 * (an argv list, the program resolved and checked executable) and
 * node.workers.env (added variables), and each error with its file, line,
 * column and key, those of named worker types (test_worker_types.c) too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

/* A directory holding the configuration, an executable and a plain file. */
static char dir[] = "/tmp/corral-config-workers.XXXXXX";
static char file[64];

static int
make_files(void **state)
{
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/corral.yml", dir);
    char path[128];
    snprintf(path, sizeof path, "%s/run.sh", dir);
    FILE *out = fopen(path, "w");
    fputs("#!/bin/sh\nexit 0\n", out);
    fclose(out);
    chmod(path, 0755);
    snprintf(path, sizeof path, "%s/plain.txt", dir);
    out = fopen(path, "w");
    fclose(out);
    chmod(path, 0644);
    return 0;
}

static int
remove_files(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/run.sh", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/plain.txt", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}

static corral_config_t *
parse(const char *text, char **error)
{
    return corral_config_parse(file, text, strlen(text), error);
}

static void
test_command_and_env(void **state)
{
    char *error = NULL;
    corral_config_t *config = parse(
        "node:\n"
        "  workers:\n"
        "    count: 2\n"
        "    command: [./run.sh, --queue, \"two words\", 3]\n"
        "    env: { GREETING: hello, PORT_OFFSET: 10, EMPTY: \"\" }\n", &error);
    if (!config)
        fail_msg("%s", error);
    char **argv = config->node.workers.program.command;
    char expected[128];
    snprintf(expected, sizeof expected, "%s/run.sh", dir);
    assert_string_equal(argv[0], expected);     /* against the config's directory */
    assert_string_equal(argv[1], "--queue");
    assert_string_equal(argv[2], "two words");
    assert_string_equal(argv[3], "3");
    assert_null(argv[4]);
    char **env = config->node.workers.program.env;
    assert_string_equal(env[0], "GREETING=hello");
    assert_string_equal(env[1], "PORT_OFFSET=10");
    assert_string_equal(env[2], "EMPTY=");
    assert_null(env[3]);
    corral_config_destroy(&config);

    /* a program without a slash comes from PATH; no command: the reference */
    config = parse("node: { workers: { command: [sh, -c, 'exit 0'] } }\n", &error);
    assert_non_null(config);
    assert_non_null(strstr(config->node.workers.program.command[0], "/sh"));
    assert_int_equal(config->node.workers.program.command[0][0], '/');
    corral_config_destroy(&config);
    config = parse("node: { workers: { count: 1 } }\n", &error);
    assert_null(config->node.workers.program.command);
    assert_null(config->node.workers.program.env);
    corral_config_destroy(&config);
}

typedef struct {
    const char *text;
    const char *expected;       /* after "<file>:"; @ is the directory */
} bad_case_t;

static void
test_errors_name_line_column_and_key(void **state)
{
    static const bad_case_t cases[] = {
        { "node:\n  workers:\n    command: ./run.sh\n",
          "3:14: node.workers.command: expected a non-empty list: [program, arguments...]" },
        { "node:\n  workers:\n    command: []\n",
          "3:14: node.workers.command: expected a non-empty list: [program, arguments...]" },
        { "node:\n  workers:\n    command: [./run.sh, { a: 1 }]\n",
          "3:25: node.workers.command[1]: expected a non-empty string" },
        { "node:\n  workers:\n    command: [\"\"]\n",
          "3:15: node.workers.command[0]: expected a non-empty string" },
        { "node:\n  workers:\n    command: [./missing, x]\n",
          "3:15: node.workers.command[0]: @/missing: No such file or directory" },
        { "node:\n  workers:\n    command: [./plain.txt]\n",
          "3:15: node.workers.command[0]: @/plain.txt: not executable" },
        { "node:\n  workers:\n    command: [./]\n",
          "3:15: node.workers.command[0]: @: not a regular file" },
        { "node:\n  workers:\n    command: [no-such-program-anywhere]\n",
          "3:15: node.workers.command[0]: no-such-program-anywhere: not found in PATH" },
        { "node:\n  workers:\n    env: [A=1]\n",
          "3:10: node.workers.env: expected a mapping of variable names to values" },
        { "node:\n  workers:\n    env: { 1A: x }\n",
          "3:12: node.workers.env.1A: not a variable name (letters, digits and _)" },
        { "node:\n  workers:\n    env: { A-B: x }\n",
          "3:12: node.workers.env.A-B: not a variable name (letters, digits and _)" },
        { "node:\n  workers:\n    env: { CORRAL_WORKER_ID: 3 }\n",
          "3:12: node.workers.env.CORRAL_WORKER_ID: set by corral itself (LISTEN_*, CORRAL_*, "
          "NOTIFY_SOCKET)" },
        { "node:\n  workers:\n    env: { LISTEN_FDS: 2 }\n",
          "3:12: node.workers.env.LISTEN_FDS: set by corral itself (LISTEN_*, CORRAL_*, "
          "NOTIFY_SOCKET)" },
        { "node:\n  workers:\n    env: { A: 1, A: 2 }\n",
          "3:18: node.workers.env.A: duplicate key" },
        { "node:\n  workers:\n    env: { A: [1, 2] }\n",
          "3:15: node.workers.env.A: expected a value (a string or a number)" },
        /* named worker types */
        { "node:\n  workers:\n    2http: { count: 1 }\n",
          "3:5: node.workers.2http: not a worker type name (a letter or _, then letters, "
          "digits and _; at most 23 characters)" },
        { "node:\n  workers:\n    web-api: { count: 1 }\n",
          "3:5: node.workers.web-api: not a worker type name (a letter or _, then letters, "
          "digits and _; at most 23 characters)" },
        { "node:\n  workers:\n    a_name_that_is_far_too_long: {}\n",
          "3:5: node.workers.a_name_that_is_far_too_long: not a worker type name (a letter or "
          "_, then letters, digits and _; at most 23 characters)" },
        { "node:\n  workers:\n    http: { count: 1 }\n    jobs: 3\n",
          "4:11: node.workers.jobs: expected a mapping of the type's keys, got \"3\"" },
        { "node:\n  workers:\n    http: { count: 1 }\n    count: 3\n",
          "4:5: node.workers.count: a key of one group of workers beside named worker types: "
          "set it in each type" },
        { "node:\n  workers:\n    http: { cuont: 1 }\n",
          "3:13: node.workers.http.cuont: unknown key (did you mean count?)" },
        { "node:\n  workers:\n    http: { count: 0 }\n",
          "3:20: node.workers.http.count: expected a positive integer or \"auto\", got \"0\"" },
        { "node:\n  workers:\n    http: { http: maybe }\n",
          "3:19: node.workers.http.http: expected true or false, got \"maybe\"" },
        { "node:\n  workers:\n    http: { main: 1 }\n",
          "3:19: node.workers.http.main: expected true or false, got \"1\"" },
        { "node:\n  workers:\n    http: { max_memory: lots }\n",
          "3:25: node.workers.http.max_memory: expected a size such as 512kb, 64mb or 1gb, "
          "got \"lots\"" },
        { "node:\n  workers:\n    http: { command: [] }\n",
          "3:22: node.workers.http.command: expected a non-empty list: [program, arguments...]" },
        { "node:\n  workers:\n    http: { env: { LISTEN_FDS: 1 } }\n",
          "3:20: node.workers.http.env.LISTEN_FDS: set by corral itself (LISTEN_*, CORRAL_*, "
          "NOTIFY_SOCKET)" },
        { "node:\n  workers:\n    http: { heartbeat_timeout: 5s }\n",
          "3:13: node.workers.http: heartbeat_timeout is set once for every type: "
          "node.workers.heartbeat_timeout" },
        { "node:\n  workers:\n    http: {}\n    http: {}\n",
          "4:5: node.workers.http: duplicate key" },
        { "node:\n  workers:\n    jobs: { http: false }\n    more: { http: false }\n",
          "3:5: node.workers: no worker serves HTTP (every type has http: false), "
          "but the instance listens on server.port" },
        { "node:\n  workers:\n    http: false\n",
          "3:5: node.workers: no worker serves HTTP (every group has http: false), "
          "but the instance listens on server.port" },
        { "node:\n  workers:\n    web: { main: false }\n    jobs: { http: false, main: false }\n",
          "3:5: node.workers: no worker may hold the main role (every type has main: false)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *error = NULL;
        corral_config_t *config = parse(cases[i].text, &error);
        char expected[600];
        const char *at = strchr(cases[i].expected, '@');
        if (at)
            snprintf(expected, sizeof expected, "%s:%.*s%s%s", file,
                     (int) (at - cases[i].expected), cases[i].expected, dir, at + 1);
        else
            snprintf(expected, sizeof expected, "%s:%s", file, cases[i].expected);
        if (config || !error || strcmp(error, expected) != 0)
            fail_msg("case %zu:\n%s\n--- expected: %s\n--- got:      %s", i, cases[i].text,
                     expected, error ? error : "(no error)");
        free(error);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_and_env),
        cmocka_unit_test(test_errors_name_line_column_and_key),
    };
    return cmocka_run_group_tests(tests, make_files, remove_files);
}
