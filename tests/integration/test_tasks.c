/* test_tasks.c: the public task manager and the workers' own data
 * directories, from a third party's worker program (task_worker.c): its
 * task runs on the main worker only, once per period for the instance;
 * each worker has <path.data>/workers/<name>/, made before it started.
 * With named worker types, the main role (and the tasks) goes to the
 * background type, and when its main worker is killed, to another worker
 * of that type: the task then runs on the new main only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define TIMEOUT_MS 15000

static void
test_third_party_task_runs_on_the_main_worker_only(void **state)
{
    instance_t *instance = instance_new();
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0, balancing: reuseport }\n"
             "path: { data: ./data }\n"
             "node:\n"
             "  workers: { count: 3, command: [%s/task-worker] }\n"
             "  shutdown_timeout: 10s\n"
             "logging: { root: { level: debug } }\n", CORRAL_BIN_DIR);
    instance_write_config(instance, yaml);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, TIMEOUT_MS));
    assert_true(instance_wait_output(instance, "task tick (plugin thirdparty): run 5 done",
                                     TIMEOUT_MS));

    /* every worker has its directory, there before its plugins' setup */
    for (int id = 1; id <= 3; id++) {
        char name[32], expected[512];
        snprintf(name, sizeof name, "worker-%d", id);
        snprintf(expected, sizeof expected, "%s/data/workers/%s/", instance_dir(instance), name);
        response_t response;
        assert_true(http_request_to(instance_port(instance), "GET", "/thirdparty/data-dir", name,
                                    &response));
        assert_int_equal(response.status, 200);
        assert_string_equal(json_string_value(json_object_get(response.json, "data_dir")),
                            expected);
        assert_true(json_is_true(json_object_get(response.json, "existed_at_setup")));
        response_clear(&response);
        struct stat st;
        assert_int_equal(stat(expected, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
    }
    /* the task ran on worker-1 (main) only, in one process */
    char path[512];
    snprintf(path, sizeof path, "%s/data/workers/worker-1/tick.runs", instance_dir(instance));
    char *lines = read_text_file(path);
    assert_non_null(lines);
    int count = 0, first_pid = 0;
    for (char *line = strtok(lines, "\n"); line; line = strtok(NULL, "\n"), count++) {
        int worker = 0, pid = 0;
        assert_int_equal(sscanf(line, "%d %d", &worker, &pid), 2);
        assert_int_equal(worker, 1);
        first_pid = first_pid ? first_pid : pid;
        assert_int_equal(pid, first_pid);
    }
    assert_true(count >= 5);
    free(lines);
    for (int id = 2; id <= 3; id++) {
        snprintf(path, sizeof path, "%s/data/workers/worker-%d/tick.runs",
                 instance_dir(instance), id);
        assert_int_equal(access(path, F_OK), -1);
    }
    char *output = instance_output_copy(instance);
    assert_null(strstr(output, "[worker-2][tasks] task tick (plugin thirdparty): run"));
    assert_null(strstr(output, "[worker-3][tasks] task tick (plugin thirdparty): run"));
    free(output);
    assert_true(instance_stop(&instance));
}

/* The pids that ran the task in <data>/workers/<name>/tick.runs, in
 * order of their first run; returns how many (0: no file). */
static int
runners(instance_t *instance, const char *name, int *pids, int max)
{
    char path[512];
    snprintf(path, sizeof path, "%s/data/workers/%s/tick.runs", instance_dir(instance), name);
    char *lines = read_text_file(path);
    int count = 0;
    for (char *line = lines ? strtok(lines, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        int worker = 0, pid = 0;
        assert_int_equal(sscanf(line, "%d %d", &worker, &pid), 2);
        bool known = false;
        for (int i = 0; i < count; i++)
            known |= pids[i] == pid;
        if (!known && count < max)
            pids[count++] = pid;
    }
    free(lines);
    return count;
}

static pid_t
pid_in_line(instance_t *instance, const char *prefix)
{
    char *output = instance_output_copy(instance);
    char *at = strstr(output, prefix);
    int pid = at ? atoi(at + strlen(prefix)) : 0;
    free(output);
    return (pid_t) pid;
}

static void
test_the_task_moves_with_the_main_role_within_the_background_type(void **state)
{
    instance_t *instance = instance_new();
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0 }\n"
             "path: { data: ./data }\n"
             "node:\n"
             "  workers:\n"
             "    http: { count: 2, command: [%s/task-worker] }\n"
             "    background: { count: 2, http: false, command: [%s/task-worker] }\n"
             "  restart: { backoff: { initial: 10ms } }\n"
             "  shutdown_timeout: 10s\n"
             "logging: { root: { level: debug } }\n", CORRAL_BIN_DIR, CORRAL_BIN_DIR);
    instance_write_config(instance, yaml);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, TIMEOUT_MS));
    assert_true(instance_wait_output(instance, "[background-1][tasks] task tick (plugin "
                                     "thirdparty): run 3 done", TIMEOUT_MS));
    pid_t old_main = pid_in_line(instance, "started background-1 (pid ");
    assert_true(old_main > 0);
    int pids[8];
    assert_int_equal(runners(instance, "background-1", pids, 8), 1);
    assert_int_equal(pids[0], old_main);

    /* killed: the other background worker is main, never an HTTP one */
    assert_int_equal(kill(old_main, SIGKILL), 0);
    pid_t heir = pid_in_line(instance, "started background-2 (pid ");
    char expected[128];
    snprintf(expected, sizeof expected, "background-2 (pid %d) is the main worker now",
             (int) heir);
    assert_true(instance_wait_output(instance, expected, TIMEOUT_MS));
    assert_true(instance_wait_output(instance, "[background-2][tasks] task tick (plugin "
                                     "thirdparty): run 3 done", TIMEOUT_MS));
    /* background-1's replacement started meanwhile; it does not run the task */
    snprintf(expected, sizeof expected, "started background-1 (pid ");
    assert_true(instance_wait_output(instance, "generation 2)", TIMEOUT_MS));
    assert_true(instance_wait_output(instance, "[background-2][tasks] task tick (plugin "
                                     "thirdparty): run 6 done", TIMEOUT_MS));
    assert_int_equal(runners(instance, "background-2", pids, 8), 1);
    assert_int_equal(pids[0], heir);
    assert_int_equal(runners(instance, "background-1", pids, 8), 1);   /* the old main only */
    assert_int_equal(pids[0], old_main);
    assert_int_equal(runners(instance, "http-1", pids, 8), 0);
    assert_int_equal(runners(instance, "http-2", pids, 8), 0);
    char *output = instance_output_copy(instance);
    assert_null(strstr(output, "[http-1][tasks] task tick (plugin thirdparty): run"));
    assert_null(strstr(output, "[http-2][tasks] task tick (plugin thirdparty): run"));
    free(output);
    assert_true(instance_stop(&instance));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_third_party_task_runs_on_the_main_worker_only),
        cmocka_unit_test(test_the_task_moves_with_the_main_role_within_the_background_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
