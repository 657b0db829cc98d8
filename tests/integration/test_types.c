/* test_types.c: named worker types in a real instance. Workers are named
 * by their type (http-1, http-2, background-1) in the logs, /api/status
 * and /api/stats; a type with `http: false` holds no listening socket
 * (its fds and environment are read from /proc) and serves no HTTP, yet
 * reports and logs, and gets no connection from the coordinator's
 * balancer either; with reuseport only HTTP workers have a socket; the
 * main role goes to the background type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define TIMEOUT_MS 15000

/* Asks for `path` until `good` holds, to a deadline (each try is a real
 * request; the view changes with the workers' reports). */
static bool
await_json(instance_t *instance, const char *path, bool (*good)(json_t *json),
           response_t *response)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    time_t deadline = now.tv_sec + TIMEOUT_MS / 1000;
    do {
        if (http_get(instance_port(instance), path, response) && response->json
            && good(response->json))
            return true;
        response_clear(response);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec < deadline);
    return false;
}

static bool
three_reporting(json_t *json)
{
    json_t *workers = json_object_get(json, "workers");
    const char *names[] = { "http-1", "http-2", "background-1" };
    for (size_t i = 0; i < 3; i++)
        if (!json_is_true(json_object_get(json_object_get(workers, names[i]), "reporting")))
            return false;
    return json_object_size(workers) == 3;
}

static bool
four_reporting(json_t *json)
{
    json_t *workers = json_object_get(json, "workers");
    const char *name;
    json_t *worker;
    json_object_foreach(workers, name, worker)
        if (!json_is_true(json_object_get(worker, "reporting")))
            return false;
    return json_object_size(workers) == 4;
}

/* Reporting, and background-1's services are in the view. */
static bool
three_reporting_with_services(json_t *json)
{
    json_t *background = json_object_get(json_object_get(json, "workers"), "background-1");
    return three_reporting(json)
        && json_object_get(json_object_get(background, "core"), "http") != NULL;
}

/* The inodes of the sockets listening on `port` (IPv4). */
static int
listening_inodes(int port, unsigned long *inodes, int max)
{
    FILE *in = fopen("/proc/net/tcp", "r");
    assert_non_null(in);
    char line[512];
    int count = 0;
    while (fgets(line, sizeof line, in) && count < max) {
        unsigned local_port, state;
        unsigned long inode;
        if (sscanf(line, " %*d: %*x:%x %*x:%*x %x %*s %*s %*s %*d %*d %lu", &local_port, &state,
                   &inode) == 3 && (int) local_port == port && state == 0x0A)
            inodes[count++] = inode;
    }
    fclose(in);
    return count;
}

/* Whether process `pid` holds one of `inodes` among its fds. */
static bool
holds_socket(pid_t pid, const unsigned long *inodes, int count)
{
    char dir_path[64];
    snprintf(dir_path, sizeof dir_path, "/proc/%d/fd", (int) pid);
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    bool found = false;
    for (struct dirent *entry; !found && (entry = readdir(dir));) {
        char path[320], target[128];
        snprintf(path, sizeof path, "%s/%s", dir_path, entry->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        for (int i = 0; i < count; i++) {
            char expected[64];
            snprintf(expected, sizeof expected, "socket:[%lu]", inodes[i]);
            found |= strcmp(target, expected) == 0;
        }
    }
    closedir(dir);
    return found;
}

static bool
environment_has(pid_t pid, const char *prefix)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", (int) pid);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    for (size_t at = 0; at < n; at += strlen(text + at) + 1)
        if (strncmp(text + at, prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

/* Requests are answered, all by workers whose name starts with `prefix`. */
static void
assert_only_served_by(instance_t *instance, const char *prefix)
{
    for (int i = 0; i < 40; i++) {
        response_t hello;
        assert_true(http_get(instance_port(instance), "/api/hello", &hello));
        assert_int_equal(hello.status, 200);
        if (strncmp(hello.worker, prefix, strlen(prefix)) != 0)
            fail_msg("answered by %s", hello.worker);
        response_clear(&hello);
    }
}

static pid_t
pid_of(json_t *status, const char *name)
{
    json_t *worker = json_object_get(json_object_get(status, "workers"), name);
    return (pid_t) json_integer_value(json_object_get(worker, "pid"));
}

static void
test_named_types_in_logs_status_stats_and_sockets(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0 }\n"
        "path: { data: ./data }\n"
        "pid: { file: ./corral.pid }\n"
        "node:\n"
        "  workers:\n"
        "    http: { count: 2 }\n"
        "    background: { count: 1, http: false }\n"
        "  status: { interval: 200ms }\n"
        "  shutdown_timeout: 10s\n"
        "logging: { root: { level: debug } }\n");
    instance_start(instance);
    assert_true(instance_wait_ready(instance, TIMEOUT_MS));
    /* the main role went to the background type at once */
    assert_true(instance_wait_output(instance, "started background-1 (pid", TIMEOUT_MS));
    char *output = instance_output_copy(instance);
    assert_non_null(strstr(output, "started http-1 (pid"));
    assert_non_null(strstr(output, "started http-2 (pid"));
    assert_non_null(strstr(strstr(output, "started background-1 (pid"), "generation 1), main"));
    assert_null(strstr(output, "worker-1"));
    free(output);
    /* each logs under its name (%worker), the background worker too */
    assert_true(instance_wait_output(instance, "[background-1]", TIMEOUT_MS));
    assert_true(instance_wait_output(instance, "[http-2]", TIMEOUT_MS));

    response_t status;
    assert_true(await_json(instance, "/api/status", three_reporting_with_services, &status));
    json_t *background = json_object_get(json_object_get(status.json, "workers"),
                                         "background-1");
    json_t *http = json_object_get(json_object_get(background, "core"), "http");
    const char *summary = json_string_value(json_object_get(http, "summary"));
    if (!summary || !strstr(summary, "http: false"))
        fail_msg("background-1: %s", json_dumps(background, 0));
    pid_t background_pid = pid_of(status.json, "background-1");
    pid_t http_pid = pid_of(status.json, "http-1");
    assert_true(background_pid > 0 && http_pid > 0);
    response_clear(&status);

    response_t stats;
    assert_true(await_json(instance, "/api/stats", three_reporting, &stats));
    json_t *entry = json_object_get(json_object_get(stats.json, "workers"), "background-1");
    assert_int_equal(json_integer_value(json_object_get(entry, "pid")), background_pid);
    response_clear(&stats);
    /* /api/metrics labels each worker with its type */
    response_t metrics;
    assert_true(http_get(instance_port(instance), "/api/metrics", &metrics));
    assert_int_equal(metrics.status, 200);
    assert_non_null(strstr(metrics.body, "worker=\"background-1\",type=\"background\""));
    assert_non_null(strstr(metrics.body, "worker=\"http-1\",type=\"http\""));
    response_clear(&metrics);

    assert_only_served_by(instance, "http-");

    /* the background worker holds no listening socket and no connection
     * channel from the coordinator's balancer (shared balancing); an HTTP
     * worker has its channel */
    unsigned long inodes[8];
    int count = listening_inodes(instance_port(instance), inodes, 8);
    assert_true(count >= 1);
    assert_false(holds_socket(background_pid, inodes, count));
    assert_false(environment_has(background_pid, "LISTEN_FDS="));
    assert_false(environment_has(background_pid, "CORRAL_HANDOFF_FD="));
    assert_true(environment_has(http_pid, "LISTEN_FDS=1"));
    assert_true(environment_has(http_pid, "CORRAL_HANDOFF_FD="));
    char fd3[64], target[64];
    snprintf(fd3, sizeof fd3, "/proc/%d/fd/3", (int) background_pid);
    ssize_t n = readlink(fd3, target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        assert_null(strstr(target, "socket:"));     /* fd 3, if open, is something else */
    }
    /* it has a data directory of its own name */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/data/workers/background-1", instance_dir(instance));
    assert_int_equal(access(dir, F_OK), 0);
    assert_true(instance_stop(&instance));
}

static void
test_reuseport_sockets_only_for_http_workers(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0, balancing: reuseport }\n"
        "path: { data: ./data }\n"
        "node:\n"
        "  workers:\n"
        "    jobs: { count: 2, http: false }\n"
        "    web: { count: 2 }\n"
        "  status: { interval: 200ms }\n"
        "  shutdown_timeout: 10s\n");
    instance_start(instance);
    assert_true(instance_wait_ready(instance, TIMEOUT_MS));
    /* one SO_REUSEPORT socket per HTTP worker, none for the others:
     * a socket nobody accepts on would take its share of connections */
    unsigned long inodes[8];
    assert_int_equal(listening_inodes(instance_port(instance), inodes, 8), 2);
    assert_only_served_by(instance, "web-");
    response_t status;
    assert_true(await_json(instance, "/api/status", four_reporting, &status));
    /* each web worker holds its own socket, the jobs workers none */
    for (int i = 0; i < 4; i++) {
        static const char *const names[] = { "jobs-1", "jobs-2", "web-1", "web-2" };
        pid_t pid = pid_of(status.json, names[i]);
        assert_true(pid > 0);
        assert_int_equal(holds_socket(pid, inodes, 2), i >= 2);
    }
    response_clear(&status);
    assert_true(instance_stop(&instance));
}

static void
test_a_type_error_stops_with_78(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { port: 0 }\n"
        "node:\n"
        "  workers:\n"
        "    web: { count: 1 }\n"
        "    bad-name: { count: 1 }\n");
    instance_start(instance);
    assert_true(instance_wait_exit(instance, TIMEOUT_MS));
    int status = instance_exit_status(instance);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 78);
    /* awaited: corral's output is read in a thread of the harness */
    assert_true(instance_wait_output(instance, "corral.yml:5:5: node.workers.bad-name: "
                                     "not a worker type name", TIMEOUT_MS));
    instance_destroy(&instance);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_types_in_logs_status_stats_and_sockets),
        cmocka_unit_test(test_reuseport_sockets_only_for_http_workers),
        cmocka_unit_test(test_a_type_error_stops_with_78),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
