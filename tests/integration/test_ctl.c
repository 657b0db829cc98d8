/* test_ctl.c: corralctl for day one (issue 22), through the real binary
 * against real instances: --version and help with each command's exit
 * statuses; stop waiting for the exit (and saying when it did not come);
 * reload naming the keys it kept until a restart; logs --lines from the
 * log file, without following; top quitting on q; restart all, one
 * worker at a time; and
 * finding an instance through a configuration file that does not load,
 * or with --data alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools_harness.h"

/* The harness's cluster configuration with `port`, `shutdown` and a
 * logging section of our own. */
static void
write_config(instance_t *instance, int workers, int port, const char *shutdown,
             const char *logging)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: %d, test_routes: true }\n"
             "path: { data: ./data }\n"
             "pid: { file: ./corral.pid }\n"
             "node:\n"
             "  workers: { count: %d, " TEST_WORKER " }\n"
             "  shutdown_timeout: %s\n"
             "%s\n", port, workers, shutdown,
             logging ? logging : "logging: { root: { level: debug } }");
    instance_write_config(instance, yaml);
}

static instance_t *
start_with(int workers, const char *shutdown, const char *logging)
{
    instance_t *instance = instance_new();
    write_config(instance, workers, 0, shutdown, logging);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, DEADLINE_MS));
    return instance;
}

static int
count_lines(const char *text)
{
    int lines = 0;
    for (; *text; text++)
        lines += *text == '\n';
    return lines;
}

static void
test_version_and_help(void **state)
{
    char *output = NULL;
    assert_int_equal(ctl_bare(&output, "--version", NULL), 0);
    assert_non_null(strstr(output, "corralctl 0."));
    free(output);
    assert_int_equal(ctl_bare(&output, "help", NULL), 0);
    assert_non_null(strstr(output, "usage: corralctl"));
    assert_non_null(strstr(output, "restart WORKER|all"));
    free(output);
    /* help CMD and CMD --help: the same text, with that command's exit statuses */
    char *help_stop = NULL;
    assert_int_equal(ctl_bare(&help_stop, "help", "stop", NULL), 0);
    assert_non_null(strstr(help_stop, "usage: corralctl [OPTIONS] stop"));
    assert_non_null(strstr(help_stop, "75  still running"));
    assert_int_equal(ctl_bare(&output, "stop", "--help", NULL), 0);
    assert_string_equal(output, help_stop);
    free(output);
    free(help_stop);
    assert_int_equal(ctl_bare(&output, "status", "--help", NULL), 0);
    assert_non_null(strstr(output, "usage: corralctl [OPTIONS] status"));
    assert_non_null(strstr(output, "1   unavailable or critical"));
    assert_null(strstr(output, "keygen"));          /* not the general help */
    free(output);
    assert_int_equal(ctl_bare(&output, "help", "frobnicate", NULL), 64);
    assert_non_null(strstr(output, "no command frobnicate"));
    free(output);
}

/* stop returns once the coordinator has exited: here it is a zombie of
 * this test until reaped, which counts as exited. */
static void
test_stop_waits(void **state)
{
    instance_t *instance = start_with(2, "10s", NULL);
    char *output = NULL;
    assert_int_equal(ctl(instance, &output, "stop", NULL), 0);
    assert_non_null(strstr(output, "stopped (pid"));
    free(output);
    assert_true(instance_wait_exit(instance, 0));   /* already over */
    assert_int_equal(WEXITSTATUS(instance_exit_status(instance)), 0);
    instance_destroy(&instance);

    /* a worker that cannot stop (SIGSTOP) holds the stop until the
     * shutdown timeout: past --timeout, stop says so and exits 75 */
    instance = start_with(1, "3s", NULL);
    pid_t worker;
    assert_int_equal(instance_workers(instance, &worker, 1), 1);
    kill(worker, SIGSTOP);
    assert_int_equal(ctl(instance, &output, "stop", "--timeout", "300", NULL), 75);
    assert_non_null(strstr(output, "still running after 300 ms"));
    free(output);
    kill(worker, SIGCONT);
    assert_true(instance_wait_exit(instance, DEADLINE_MS));
    instance_destroy(&instance);
}

/* A port change cannot be applied by a reload: the reply says it was kept. */
static void
test_reload_names_kept_keys(void **state)
{
    instance_t *instance = start_with(1, "10s", NULL);
    write_config(instance, 1, 1, "10s", NULL);
    char *output = NULL;
    assert_int_equal(ctl(instance, &output, "reload", NULL), 0);
    if (!strstr(output, "applied: the workers are unchanged\n")
        || !strstr(output, "kept until a restart (set once at start): server.port 0 "
                           "(1 in the file)"))
        fail_msg("reload said: %s", output);
    free(output);
    /* a reload with nothing to keep says nothing of it */
    write_config(instance, 1, 0, "10s", NULL);
    assert_int_equal(ctl(instance, &output, "reload", NULL), 0);
    assert_null(strstr(output, "kept"));
    free(output);
    assert_true(instance_stop(&instance));
}

static void
test_logs_lines(void **state)
{
    instance_t *instance = start_with(1, "10s",
        "logging:\n"
        "  appenders: { file: { type: file, fileName: ./data/corral.log } }\n"
        "  root: { appenders: [default, file], level: info }");
    char path[600];
    snprintf(path, sizeof path, "%s/data/corral.log", instance_dir(instance));
    response_t response;        /* "record 1" .. "record 30", then nothing at info */
    assert_true(http_get(instance_port(instance), "/api/log?count=30&level=info", &response));
    response_clear(&response);
    assert_true(await_file(path, "record 30\n", DEADLINE_MS));
    char *output = NULL;
    /* the history only: it returns without -f */
    assert_int_equal(ctl(instance, &output, "logs", "--lines", "3", NULL), 0);
    assert_int_equal(count_lines(output), 3);
    char *file = read_file(path);
    const char *tail = file + strlen(file);
    for (int newlines = 0; tail > file && newlines <= 3; tail--)
        newlines += tail[-1] == '\n';
    assert_string_equal(output, tail + 1);          /* the file's last three lines */
    assert_non_null(strstr(output, "record 28\n"));
    free(file);
    free(output);
    assert_int_equal(ctl(instance, &output, "logs", NULL), 0);
    assert_int_equal(count_lines(output), 10);                  /* the default */
    assert_non_null(strstr(output, "record 21\n"));
    assert_null(strstr(output, "record 20\n"));
    free(output);
    assert_true(instance_stop(&instance));

    /* console only: no history to show, and it says where to look */
    instance = start_with(1, "10s", NULL);
    assert_int_equal(ctl(instance, &output, "logs", "--lines", "5", NULL), 1);
    assert_non_null(strstr(output, "writes no log file"));
    free(output);
    assert_true(instance_stop(&instance));
}

/* top on a terminal (script(1) gives it one): a q quits at once, though
 * the next refresh is a minute away; the table has a CPU% column. */
static void
test_top_quits_on_q(void **state)
{
    instance_t *instance = start_with(2, "10s", NULL);
    char command[1024];
    snprintf(command, sizeof command,
             "printf q | timeout 20 script -qfec '%s -c %s top --interval 60000' /dev/null",
             CORRALCTL, config_path(instance));
    char *argv[] = { "/bin/sh", "-c", command, NULL };
    char *output = NULL;
    int status = run_program(&output, argv);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)       /* 124: q did not quit it */
        fail_msg("top exited %d: %s", WEXITSTATUS(status), output);
    assert_non_null(strstr(output, "q to quit"));
    assert_non_null(strstr(output, "CPU%"));
    assert_non_null(strstr(output, "worker-2"));
    free(output);
    assert_true(instance_stop(&instance));
}

static void
test_restart_all(void **state)
{
    instance_t *instance = start_with(2, "10s", NULL);
    json_t *before = await_ready_workers(instance, 2);
    char *output = NULL;
    assert_int_equal(ctl(instance, &output, "restart", "all", NULL), 0);
    const char *first = strstr(output, "worker-1 replaced and ready");
    assert_non_null(first);
    assert_non_null(strstr(first, "worker-2 replaced and ready"));   /* in turn */
    free(output);
    json_t *after = await_ready_workers(instance, 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *was = json_array_get(before, i), *now = json_array_get(after, i);
        assert_int_not_equal(json_integer_value(json_object_get(was, "pid")),
                             json_integer_value(json_object_get(now, "pid")));
        assert_int_equal(json_integer_value(json_object_get(now, "generation")),
                         json_integer_value(json_object_get(was, "generation")) + 1);
    }
    json_decref(before);
    json_decref(after);
    assert_true(instance_stop(&instance));
}

/* A typo in the file while the instance runs: corralctl still finds it
 * (path.data read leniently), and --data needs no file at all. */
static void
test_status_with_typo_and_data(void **state)
{
    instance_t *instance = start_with(1, "10s", NULL);
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0 }\n"
        "path: { data: ./data }\n"
        "node:\n"
        "  shutdown_timout: 10s\n");
    char *output = NULL;
    assert_int_equal(ctl(instance, &output, "status", NULL), 0);
    assert_non_null(strstr(output, "does not load"));
    assert_non_null(strstr(output, "shutdown_timout"));
    assert_non_null(strstr(output, "overall: available"));
    free(output);
    /* not even YAML past path.data (a tab): what precedes the error counts */
    instance_write_config(instance, "path:\n  data: ./data\nnode:\n\tworkers: 2\n");
    assert_int_equal(ctl(instance, &output, "status", NULL), 0);
    free(output);
    char data[600];
    snprintf(data, sizeof data, "%s/data", instance_dir(instance));
    assert_int_equal(ctl_bare(&output, "--data", data, "status", NULL), 0);
    assert_non_null(strstr(output, "overall: available"));
    free(output);
    /* and it can be stopped through the broken file */
    assert_int_equal(ctl(instance, NULL, "stop", NULL), 0);
    assert_true(instance_wait_exit(instance, 0));
    instance_destroy(&instance);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_help),
        cmocka_unit_test(test_stop_waits),
        cmocka_unit_test(test_reload_names_kept_keys),
        cmocka_unit_test(test_logs_lines),
        cmocka_unit_test(test_top_quits_on_q),
        cmocka_unit_test(test_restart_all),
        cmocka_unit_test(test_status_with_typo_and_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
