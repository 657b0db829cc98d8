/* test_lifecycle.c: the instance's life as an operator sees it: workers
 * share the port, graceful stop finishes requests in flight, a crashed
 * worker or coordinator takes the instance down, the PID file, classic
 * mode, and configuration errors. Real processes, real sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define START_TIMEOUT_MS 15000
#define STOP_TIMEOUT_MS 15000

static instance_t *
start_cluster(int workers, const char *extra)
{
    instance_t *instance = instance_new();
    instance_write_cluster_config(instance, workers, extra);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_TIMEOUT_MS));
    return instance;
}

static void
assert_exits_with(instance_t *instance, int expected_status)
{
    assert_true(instance_wait_exit(instance, STOP_TIMEOUT_MS));
    int status = instance_exit_status(instance);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), expected_status);
}

static void
assert_workers_gone(const pid_t *workers, int count, int within_ms)
{
    for (int i = 0; i < count; i++)
        assert_true(process_gone(workers[i], within_ms));
}

static void
stop_gracefully(instance_t *instance)
{
    kill(instance_pid(instance), SIGTERM);
    assert_exits_with(instance, 0);
}

static bool
path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Runtime directories: corral/<uuid> under `base`. */
static int
count_runtime_dirs(const char *base)
{
    char parent[400];
    snprintf(parent, sizeof parent, "%s/corral", base);
    DIR *dir = opendir(parent);
    assert_non_null(dir);
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)))
        count += entry->d_type == DT_DIR && entry->d_name[0] != '.';
    closedir(dir);
    return count;
}

/* GETs /api/node on fresh connections until `workers` distinct workers
 * answered (at most `attempts` requests); returns how many did. Checks
 * every answer on the way. */
static int
collect_workers(instance_t *instance, int workers, int attempts, int *main_count)
{
    bool seen[WORKERS_MAX + 1] = { false };
    int distinct = 0;
    *main_count = 0;
    for (int i = 0; i < attempts && distinct < workers; i++) {
        response_t response;
        assert_true(http_get(instance_port(instance), "/api/node", &response));
        assert_int_equal(response.status, 200);
        assert_non_null(response.json);
        int id = (int) json_integer_value(json_object_get(response.json, "worker_id"));
        const char *name = json_string_value(json_object_get(response.json, "worker_name"));
        assert_in_range(id, 1, workers);
        assert_non_null(name);
        assert_string_equal(name, response.worker);    /* the header names the server */
        assert_true(json_is_true(json_object_get(response.json, "clustered")));
        if (!seen[id]) {
            seen[id] = true;
            distinct++;
            *main_count += json_is_true(json_object_get(response.json, "main"));
        }
        response_clear(&response);
    }
    return distinct;
}

static void
test_two_workers_serve_one_port(void **state)
{
    instance_t *instance = start_cluster(2, NULL);
    int main_count;
    assert_int_equal(collect_workers(instance, 2, 500, &main_count), 2);
    assert_int_equal(main_count, 1);
    stop_gracefully(instance);
    instance_destroy(&instance);
}

static void
test_reuseport_balancing_serves_from_both(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0, balancing: reuseport }\n"
        "pid: { file: ./corral.pid }\n"
        "node: { workers: { count: 2, " TEST_WORKER " } }\n");
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_TIMEOUT_MS));
    int main_count;
    assert_int_equal(collect_workers(instance, 2, 500, &main_count), 2);
    assert_int_equal(main_count, 1);
    stop_gracefully(instance);
    instance_destroy(&instance);
}

typedef struct {
    int port;
    response_t response;
    bool transported;
} slow_request_t;

static void *
send_slow_request(void *arg)
{
    slow_request_t *request = arg;
    request->transported = http_get(request->port, "/api/wait?ms=1500", &request->response);
    return NULL;
}

static void
test_sigterm_finishes_request_in_flight(void **state)
{
    instance_t *instance = start_cluster(2, NULL);
    pid_t workers[WORKERS_MAX];
    int count = instance_workers(instance, workers, WORKERS_MAX);
    assert_int_equal(count, 2);
    assert_int_equal(count_runtime_dirs(instance_dir(instance)), 1);

    slow_request_t request = { .port = instance_port(instance) };
    pthread_t thread;
    pthread_create(&thread, NULL, send_slow_request, &request);
    assert_true(instance_wait_output(instance, "waiting 1500 ms", 10000));
    kill(instance_pid(instance), SIGTERM);
    pthread_join(thread, NULL);

    assert_true(request.transported);
    assert_int_equal(request.response.status, 200);
    assert_int_equal(json_integer_value(json_object_get(request.response.json, "waited_ms")), 1500);
    response_clear(&request.response);

    assert_exits_with(instance, 0);
    assert_false(path_exists(instance_pid_file(instance)));
    assert_workers_gone(workers, count, 0);
    /* the runtime directory was made under XDG_RUNTIME_DIR = the test dir */
    assert_int_equal(count_runtime_dirs(instance_dir(instance)), 0);
    instance_destroy(&instance);
}

static instance_t *
start_with_shutdown_timeout(int workers, const char *timeout)
{
    instance_t *instance = instance_new();
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0 }\n"
             "pid: { file: ./corral.pid }\n"
             "node: { workers: { count: %d, " TEST_WORKER " }, shutdown_timeout: %s }\n"
             "logging: { root: { level: debug } }\n", workers, timeout);
    instance_write_config(instance, yaml);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_TIMEOUT_MS));
    return instance;
}

static void *
send_endless_request(void *arg)
{
    slow_request_t *request = arg;
    request->transported = http_get(request->port, "/api/wait?ms=600000", &request->response);
    return NULL;
}

static void
test_shutdown_timeout_bounds_a_request(void **state)
{
    instance_t *instance = start_with_shutdown_timeout(1, "1s");
    slow_request_t request = { .port = instance_port(instance) };
    pthread_t thread;
    pthread_create(&thread, NULL, send_endless_request, &request);
    assert_true(instance_wait_output(instance, "waiting 600000 ms", 10000));
    stop_gracefully(instance);
    assert_true(instance_wait_output(instance, "still in flight at the shutdown timeout", 0));
    pthread_join(thread, NULL);
    assert_true(!request.transported || request.response.status != 200);
    response_clear(&request.response);
    instance_destroy(&instance);
}

static void
test_stragglers_are_killed_at_the_shutdown_timeout(void **state)
{
    instance_t *instance = start_with_shutdown_timeout(2, "1s");
    pid_t workers[WORKERS_MAX];
    int count = instance_workers(instance, workers, WORKERS_MAX);
    assert_int_equal(count, 2);
    kill(workers[0], SIGSTOP);      /* it cannot stop by itself */
    stop_gracefully(instance);
    char expected[96];
    snprintf(expected, sizeof expected, "(pid %d) still running after the shutdown timeout",
             (int) workers[0]);
    assert_true(instance_wait_output(instance, expected, STOP_TIMEOUT_MS));
    assert_workers_gone(workers, count, 0);
    instance_destroy(&instance);
}

static void
test_killed_worker_stops_the_instance(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0 }\n"
        "pid: { file: ./corral.pid }\n"
        "node: { workers: { count: 2, " TEST_WORKER " }, restart: { policy: never } }\n");
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_TIMEOUT_MS));
    pid_t workers[WORKERS_MAX];
    int count = instance_workers(instance, workers, WORKERS_MAX);
    response_t response;
    assert_true(http_get(instance_port(instance), "/api/node", &response));
    pid_t victim = (pid_t) json_integer_value(json_object_get(response.json, "pid"));
    char expected[128];
    snprintf(expected, sizeof expected, "%s (pid %d) was killed by signal 9 (SIGKILL)",
             json_string_value(json_object_get(response.json, "worker_name")), (int) victim);
    response_clear(&response);

    kill(victim, SIGKILL);
    assert_true(instance_wait_exit(instance, STOP_TIMEOUT_MS));
    int status = instance_exit_status(instance);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
    assert_true(instance_wait_output(instance, expected, STOP_TIMEOUT_MS));
    assert_workers_gone(workers, count, 0);
    instance_destroy(&instance);
}

static void
test_killed_coordinator_takes_workers_down(void **state)
{
    instance_t *instance = start_cluster(2, NULL);
    pid_t workers[WORKERS_MAX];
    int count = instance_workers(instance, workers, WORKERS_MAX);
    assert_int_equal(count, 2);
    kill(instance_pid(instance), SIGKILL);
    assert_true(instance_wait_exit(instance, STOP_TIMEOUT_MS));
    assert_workers_gone(workers, count, 5000);   /* a failure bound on a loaded machine; about 1 s */
    instance_destroy(&instance);
}

static void
test_second_instance_refuses_live_pid_file(void **state)
{
    instance_t *instance = start_cluster(1, NULL);
    char config[512], *output = NULL;
    snprintf(config, sizeof config, "%s/corral.yml", instance_dir(instance));
    int status = run_corral(&output, "-c", config, NULL);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 75);      /* already running (docs/supervision.md) */
    char expected[64];
    snprintf(expected, sizeof expected, "already running (pid %d)", (int) instance_pid(instance));
    assert_non_null(strstr(output, expected));
    free(output);

    response_t response;        /* the first instance is untouched */
    assert_true(http_get(instance_port(instance), "/api/hello", &response));
    assert_int_equal(response.status, 200);
    response_clear(&response);
    assert_true(path_exists(instance_pid_file(instance)));
    stop_gracefully(instance);
    instance_destroy(&instance);
}

static void
test_stale_pid_file_is_taken_over(void **state)
{
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    instance_t *instance = instance_new();
    FILE *file = fopen(instance_pid_file(instance), "w");
    fprintf(file, "%d\n", (int) gone);
    fclose(file);
    instance_write_cluster_config(instance, 1, NULL);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_TIMEOUT_MS));
    char expected[64];
    snprintf(expected, sizeof expected, "(process %d is gone)", (int) gone);
    assert_true(instance_wait_output(instance, expected, STOP_TIMEOUT_MS));
    file = fopen(instance_pid_file(instance), "r");
    int pid = 0;
    assert_int_equal(fscanf(file, "%d", &pid), 1);
    fclose(file);
    assert_int_equal(pid, instance_pid(instance));
    stop_gracefully(instance);
    instance_destroy(&instance);
}

static void
test_classic_mode_serves_standalone(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0 }\n"
        "pid: { file: ./corral.pid }\n"
        "node: { enabled: false, workers: { count: 4, " TEST_WORKER " } }\n");
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_TIMEOUT_MS));
    response_t response;
    assert_true(http_get(instance_port(instance), "/api/node", &response));
    assert_int_equal(response.status, 200);
    assert_int_equal(json_integer_value(json_object_get(response.json, "worker_id")), 1);
    assert_true(json_is_true(json_object_get(response.json, "main")));
    assert_true(json_is_false(json_object_get(response.json, "clustered")));
    /* no coordinator: corral became the worker, same PID */
    assert_int_equal(json_integer_value(json_object_get(response.json, "pid")),
                     instance_pid(instance));
    response_clear(&response);
    assert_int_equal(instance_workers(instance, NULL, 0), 0);
    assert_true(path_exists(instance_pid_file(instance)));
    stop_gracefully(instance);
    assert_false(path_exists(instance_pid_file(instance)));
    instance_destroy(&instance);
}

static void
test_bad_config_exits_78_and_starts_nothing(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 70000 }\n"
        "pid: { file: ./corral.pid }\n");
    char config[512], data[512], *output = NULL;
    snprintf(config, sizeof config, "%s/corral.yml", instance_dir(instance));
    snprintf(data, sizeof data, "%s/data", instance_dir(instance));
    int status = run_corral(&output, "-c", config, NULL);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 78);
    assert_non_null(strstr(output, "corral.yml:1:"));
    assert_non_null(strstr(output, "server.port"));
    free(output);
    assert_false(path_exists(instance_pid_file(instance)));
    assert_false(path_exists(data));

    status = run_corral(&output, "-c", "/nonexistent/corral.yml", NULL);
    assert_int_equal(WEXITSTATUS(status), 78);
    assert_non_null(strstr(output, "/nonexistent/corral.yml"));
    free(output);

    instance_write_config(instance, "node: { workers: { count: 2, " TEST_WORKER " } }\n");
    status = run_corral(&output, "--check", "-c", config, NULL);
    assert_int_equal(WEXITSTATUS(status), 0);
    free(output);
    instance_destroy(&instance);
}

/* Entries in `dir` other than corral.yml. */
static int
entries_besides_config(const char *dir)
{
    DIR *stream = opendir(dir);
    assert_non_null(stream);
    int count = 0;
    for (struct dirent *entry; (entry = readdir(stream)); )
        count += strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..")
                 && strcmp(entry->d_name, "corral.yml");
    closedir(stream);
    return count;
}

/* `corral --check` validates what it would create (path.data, the PID
 * file, the log files) and creates none of it; any problem with them is a
 * configuration error (78) that names the key's line, at a real start too. */
static void
test_check_creates_nothing(void **state)
{
    instance_t *instance = instance_new();
    const char *dir = instance_dir(instance);
    char config[512], *output = NULL;
    snprintf(config, sizeof config, "%s/corral.yml", dir);
    instance_write_config(instance,
        "path: { data: ./state/data }\n"
        "pid: { file: ./run/corral.pid }\n"
        "logging:\n"
        "  appenders:\n"
        "    f: { type: file, fileName: ./state/data/corral.log }\n"
        "  root: { appenders: [f] }\n");
    int status = run_corral(&output, "--check", "-c", config, NULL);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("corral --check: %s", output);
    free(output);
    assert_int_equal(entries_besides_config(dir), 0);

    /* a log file in a directory that does not exist, with its line */
    instance_write_config(instance,
        "logging:\n"
        "  appenders:\n"
        "    f: { type: file, fileName: ./missing/corral.log }\n"
        "  root: { appenders: [f] }\n");
    status = run_corral(&output, "--check", "-c", config, NULL);
    assert_int_equal(WEXITSTATUS(status), 78);
    if (!strstr(output, "corral.yml:3:32: logging.appenders.f.fileName: cannot open "))
        fail_msg("unexpected: %s", output);
    assert_non_null(strstr(output, "/missing/corral.log: No such file or directory"));
    free(output);
    assert_int_equal(entries_besides_config(dir), 0);

    /* path.data that cannot be made: 78, checked or started (was 1) */
    instance_write_config(instance, "path:\n  data: /dev/null/data\n");
    status = run_corral(&output, "--check", "-c", config, NULL);
    assert_int_equal(WEXITSTATUS(status), 78);
    assert_non_null(strstr(output, "corral.yml:2:9: path.data: cannot create /dev/null/data"));
    free(output);
    status = run_corral(&output, "-c", config, NULL);
    assert_int_equal(WEXITSTATUS(status), 78);
    assert_non_null(strstr(output, "corral.yml:2:9: path.data: cannot create /dev/null/data"));
    free(output);
    assert_int_equal(entries_besides_config(dir), 0);
    instance_destroy(&instance);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_workers_serve_one_port),
        cmocka_unit_test(test_reuseport_balancing_serves_from_both),
        cmocka_unit_test(test_sigterm_finishes_request_in_flight),
        cmocka_unit_test(test_shutdown_timeout_bounds_a_request),
        cmocka_unit_test(test_stragglers_are_killed_at_the_shutdown_timeout),
        cmocka_unit_test(test_killed_worker_stops_the_instance),
        cmocka_unit_test(test_killed_coordinator_takes_workers_down),
        cmocka_unit_test(test_second_instance_refuses_live_pid_file),
        cmocka_unit_test(test_stale_pid_file_is_taken_over),
        cmocka_unit_test(test_classic_mode_serves_standalone),
        cmocka_unit_test(test_bad_config_exits_78_and_starts_nothing),
        cmocka_unit_test(test_check_creates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
