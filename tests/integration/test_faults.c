/* test_faults.c: an instance keeps serving through the faults of its
 * surroundings (issue 23): a reader of its standard output that goes away
 * (`corral | head -n 1`), a full disk under an upgrade, a second start of
 * the same instance; and it leaves no file behind when it stops. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define START_MS 30000
#define EXIT_ALREADY_RUNNING 75     /* docs/supervision.md */

static char *
path_in(const instance_t *instance, const char *name)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", instance_dir(instance), name) > 0);
    return path;
}

static bool
exists(const char *path)
{
    struct stat status;
    return lstat(path, &status) == 0;
}

/* The PID endpoints.json names, or 0. */
static long
endpoints_pid(const instance_t *instance)
{
    char *path = path_in(instance, "data/endpoints.json");
    json_t *document = json_load_file(path, 0, NULL);
    long pid = (long) json_integer_value(json_object_get(document, "pid"));
    json_decref(document);
    free(path);
    return pid;
}

static long
pid_file_pid(const instance_t *instance)
{
    char *text = read_text_file(instance_pid_file(instance));
    long pid = text ? strtol(text, NULL, 10) : 0;
    free(text);
    return pid;
}

/* The runtime directories left under <dir>/corral (the harness's
 * XDG_RUNTIME_DIR). */
static size_t
runtime_dirs_left(const instance_t *instance)
{
    char pattern[512];
    snprintf(pattern, sizeof pattern, "%s/corral/*", instance_dir(instance));
    glob_t found;
    size_t count = glob(pattern, 0, NULL, &found) == 0 ? found.gl_pathc : 0;
    globfree(&found);
    return count;
}

static void
assert_serves(const instance_t *instance, int requests)
{
    for (int i = 0; i < requests; i++) {
        response_t response = { 0 };
        assert_true(http_get(instance_port(instance), "/api/hello", &response));
        assert_int_equal(response.status, 200);
        response_clear(&response);
    }
}

/* SIGTERM; the exit status 0, and nothing left: the PID file,
 * endpoints.json, the runtime directory. */
static void
assert_stops_cleanly(instance_t **instance_p)
{
    instance_t *instance = *instance_p;
    char *endpoints = path_in(instance, "data/endpoints.json");
    kill(instance_pid(instance), SIGTERM);
    assert_true(instance_wait_exit(instance, START_MS));
    int status = instance_exit_status(instance);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_false(exists(instance_pid_file(instance)));
    assert_false(exists(endpoints));
    assert_int_equal(runtime_dirs_left(instance), 0);
    free(endpoints);
    instance_destroy(instance_p);
}

/* `corral -c x.yml | head -n 1`: the reader of its standard output reads
 * one line and goes away. The next log line meets a closed pipe (EPIPE,
 * counted), and the instance keeps serving under load, and stops
 * cleanly. */
static void
test_closed_stdout_keeps_serving(void **state)
{
    instance_t *instance = instance_new();
    instance_write_cluster_config(instance, 2, NULL);     /* level debug: many lines */
    int pipe_fds[2];
    assert_int_equal(pipe2(pipe_fds, O_CLOEXEC), 0);
    instance_start_with_stdout(instance, pipe_fds[1]);
    close(pipe_fds[1]);
    char c = 0;
    while (c != '\n')               /* head -n 1 */
        assert_int_equal(read(pipe_fds[0], &c, 1), 1);
    close(pipe_fds[0]);
    assert_true(instance_wait_ready(instance, START_MS));
    assert_serves(instance, 300);
    assert_true(instance_wait_output(instance, "cannot write to standard output: Broken pipe",
                                     START_MS));
    assert_int_equal(kill(instance_pid(instance), 0), 0);
    /* the console appender's losses are counted like any appender's */
    assert_true(await_stats_integer(instance, "logs.coordinator.appenders.default.lost_writing",
                                    1, START_MS) >= 1);
    assert_true(stats_integer(instance, "logs.coordinator.appenders.default.write_errors") >= 1);
    assert_stops_cleanly(&instance);
}

/* A second start of a running instance says so, with the PID, and exits
 * 75; with a PID file, and without one (from endpoints.json). */
static void
assert_second_start_refused(const char *extra_yaml, bool with_pid_file)
{
    instance_t *instance = instance_new();
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0 }\n"
             "path: { data: ./data }\n"
             "%s"
             "node: { workers: { count: 1 }, shutdown_timeout: 10s }\n"
             "%s", with_pid_file ? "pid: { file: ./corral.pid }\n" : "", extra_yaml);
    instance_write_config(instance, yaml);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_MS));
    char *config = path_in(instance, "corral.yml");
    char *output = NULL;
    int status = run_corral(&output, "-c", config, NULL);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), EXIT_ALREADY_RUNNING);
    char expected[64];
    snprintf(expected, sizeof expected, "already running (pid %d)", (int) instance_pid(instance));
    if (!strstr(output, expected))
        fail_msg("expected '%s' in: %s", expected, output);
    free(output);
    free(config);
    assert_serves(instance, 3);
    assert_true(instance_stop(&instance));
}

static void
test_second_start_says_already_running(void **state)
{
    assert_second_start_refused("", true);
    assert_second_start_refused("", false);
}

/* A healthy start logs nothing above info. */
static void
test_healthy_start_logs_at_info(void **state)
{
    instance_t *instance = instance_new();
    instance_write_cluster_config(instance, 1, NULL);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_MS));
    assert_true(instance_wait_output(instance, "endpoints in", START_MS));
    char *output = instance_output_copy(instance);
    if (strstr(output, "[WARN ]") || strstr(output, "[ERROR]") || strstr(output, "[FATAL]"))
        fail_msg("a healthy start logged above info:\n%s", output);
    free(output);
    assert_true(instance_stop(&instance));
}

/* SIGUSR2 with path.data on a full filesystem: the new coordinator cannot
 * write endpoints.json, so it does not take over; the old one keeps
 * serving, with its endpoints.json and its PID file. Needs root (mount). */
static void
test_upgrade_on_a_full_disk_keeps_the_old_coordinator(void **state)
{
    instance_t *instance = instance_new();
    char *data = path_in(instance, "data");
    assert_int_equal(mkdir(data, 0700), 0);
    if (mount("tmpfs", data, "tmpfs", 0, "size=1m") != 0) {
        fprintf(stderr, "SKIPPED: mounting a tmpfs needs root (%s)\n", strerror(errno));
        free(data);
        instance_destroy(&instance);
        skip();
    }
    instance_write_cluster_config(instance, 1, NULL);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_MS));
    long old_pid = instance_pid(instance);
    assert_int_equal(endpoints_pid(instance), old_pid);
    char *fill = path_in(instance, "data/fill");
    int fd = open(fill, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    static const char block[4096];
    while (write(fd, block, sizeof block) > 0)
        ;
    assert_int_equal(errno, ENOSPC);
    close(fd);

    kill(instance_pid(instance), SIGUSR2);
    assert_true(instance_wait_output(instance, "upgrade failed: cannot write", START_MS));
    assert_true(instance_wait_output(instance, "before it was ready; this coordinator keeps "
                                     "serving", START_MS));
    assert_int_equal(kill(old_pid, 0), 0);
    assert_int_equal(endpoints_pid(instance), old_pid);
    assert_int_equal(pid_file_pid(instance), old_pid);
    assert_serves(instance, 20);

    unlink(fill);
    kill(instance_pid(instance), SIGTERM);
    assert_true(instance_wait_exit(instance, START_MS));
    assert_false(exists(instance_pid_file(instance)));
    assert_int_equal(endpoints_pid(instance), 0);
    assert_int_equal(umount(data), 0);
    free(fill);
    free(data);
    instance_destroy(&instance);
}

/* Awaits /api/status's `dotted` being `expected`. */
static bool
await_status(const instance_t *instance, const char *dotted, const char *expected)
{
    int64_t deadline = harness_now_ms() + START_MS;
    for (;;) {
        char *value = api_string(instance, "/api/status", dotted);
        bool same = strcmp(value, expected) == 0;
        free(value);
        if (same)
            return true;
        if (harness_now_ms() > deadline)
            return false;
        struct timespec nap = { 0, 20 * 1000 * 1000 };
        nanosleep(&nap, NULL);      /* the view refreshes every status interval */
    }
}

/* path.data made read-only while the instance runs (a remount): it is
 * reported (the log, /api/status degraded, /api/stats) and the instance
 * keeps serving; writable again, it is reported too; the stop is clean
 * once it is. Needs root (mount). */
static void
test_read_only_data_directory_is_reported(void **state)
{
    instance_t *instance = instance_new();
    char *data = path_in(instance, "data");
    assert_int_equal(mkdir(data, 0700), 0);
    if (mount("tmpfs", data, "tmpfs", 0, "size=4m") != 0) {
        fprintf(stderr, "SKIPPED: mounting a tmpfs needs root (%s)\n", strerror(errno));
        free(data);
        instance_destroy(&instance);
        skip();
    }
    instance_write_quick_config(instance, NULL);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_MS));
    assert_true(await_status(instance, "status.core.data.level", "available"));

    assert_int_equal(mount(NULL, data, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);
    assert_true(instance_wait_output(instance, "is on a read-only file system", START_MS));
    assert_true(await_status(instance, "status.core.data.level", "degraded"));
    assert_true(await_status(instance, "status.overall.level", "degraded"));
    response_t stats = { 0 };
    assert_true(http_get(instance_port(instance), "/api/stats", &stats));
    assert_true(json_is_false(json_object_get(json_object_get(stats.json, "data_dir"),
                                              "writable")));
    response_clear(&stats);
    assert_serves(instance, 20);
    assert_int_equal(kill(instance_pid(instance), 0), 0);

    assert_int_equal(mount(NULL, data, NULL, MS_REMOUNT, NULL), 0);
    assert_true(instance_wait_output(instance, "can be written again", START_MS));
    assert_true(await_status(instance, "status.core.data.level", "available"));
    kill(instance_pid(instance), SIGTERM);
    assert_true(instance_wait_exit(instance, START_MS));
    assert_true(WIFEXITED(instance_exit_status(instance)));
    assert_int_equal(WEXITSTATUS(instance_exit_status(instance)), 0);
    assert_false(exists(instance_pid_file(instance)));
    assert_int_equal(endpoints_pid(instance), 0);
    assert_int_equal(runtime_dirs_left(instance), 0);
    assert_int_equal(umount(data), 0);
    free(data);
    instance_destroy(&instance);
}

static unsigned
mode_of(const instance_t *instance, const char *name)
{
    char *path = path_in(instance, name);
    struct stat status;
    if (lstat(path, &status) != 0)
        fail_msg("%s: %s", path, strerror(errno));
    free(path);
    return status.st_mode & 07777;
}

/* Every directory and file corral creates has its own mode, whatever the
 * umask it was started with. */
static void
assert_modes_under_umask(mode_t mask)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
                          "server: { host: 127.0.0.1, port: 0 }\n"
                          "path: { data: ./data/instance }\n"
                          "pid: { file: ./corral.pid }\n"
                          "node: { workers: { count: 1 }, shutdown_timeout: 10s }\n"
                          "logging:\n"
                          "  appenders: { file: { type: file, fileName: ./data/corral.log } }\n"
                          "  root: { appenders: [file] }\n");
    mode_t old = umask(mask);
    instance_start(instance);
    umask(old);
    assert_true(instance_wait_ready(instance, START_MS));
    assert_int_equal(mode_of(instance, "data"), 0755);
    assert_int_equal(mode_of(instance, "data/instance"), 0755);
    assert_int_equal(mode_of(instance, "data/corral.log"), 0640);
    assert_int_equal(mode_of(instance, "data/instance/uuid"), 0600);
    assert_int_equal(mode_of(instance, "data/instance/endpoints.json"), 0600);
    assert_int_equal(mode_of(instance, "data/instance/workers"), 0755);
    assert_int_equal(mode_of(instance, "data/instance/workers/worker-1"), 0700);
    assert_int_equal(mode_of(instance, "corral.pid"), 0644);
    assert_true(instance_stop(&instance));
}

static void
test_modes_whatever_the_umask(void **state)
{
    assert_modes_under_umask(0);
    assert_modes_under_umask(077);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_stdout_keeps_serving),
        cmocka_unit_test(test_second_start_says_already_running),
        cmocka_unit_test(test_healthy_start_logs_at_info),
        cmocka_unit_test(test_upgrade_on_a_full_disk_keeps_the_old_coordinator),
        cmocka_unit_test(test_modes_whatever_the_umask),
        cmocka_unit_test(test_read_only_data_directory_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
