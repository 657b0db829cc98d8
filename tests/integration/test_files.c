/* test_files.c: the files corral creates (issue 15): the PID file is never
 * opened through a symbolic link or someone else's file, the instance UUID
 * and the migrated store are private (0600), log files 0640 or the
 * appender's `mode`, and path.data exists before an appender opens a file
 * under it (docs/architecture.md section 7's example, on a fresh directory). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define START_MS 30000

static char *
path_in(const instance_t *instance, const char *name)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", instance_dir(instance), name) > 0);
    return path;
}

static unsigned
mode_of(const char *path)
{
    struct stat status;
    if (lstat(path, &status) != 0)
        fail_msg("%s: %s", path, strerror(errno));
    return status.st_mode & 07777;
}

/* Awaits a file the instance writes on its own (bounded). */
static bool
await_file(const char *path, int timeout_ms)
{
    struct timespec nap = { 0, 10 * 1000 * 1000 };
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (access(path, F_OK) == 0)
            return true;
        nanosleep(&nap, NULL);
    }
    return access(path, F_OK) == 0;
}

/* A file of someone's planted as the PID file (a symbolic or a hard link
 * to it): corral refuses to start, with `message`, and the file is intact. */
static void
assert_planted_link_refused(int (*make_link)(const char *, const char *), const char *message)
{
    instance_t *instance = instance_new();
    char *victim = path_in(instance, "victim");
    FILE *file = fopen(victim, "w");
    assert_non_null(file);
    fputs("precious\n", file);
    fclose(file);
    assert_int_equal(make_link(victim, instance_pid_file(instance)), 0);
    instance_write_cluster_config(instance, 1, NULL);
    instance_start(instance);
    assert_true(instance_wait_exit(instance, START_MS));
    int status = instance_exit_status(instance);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    assert_true(instance_wait_output(instance, message, START_MS));
    file = fopen(victim, "r");
    char text[64] = "";
    assert_non_null(fgets(text, sizeof text, file));
    fclose(file);
    assert_string_equal(text, "precious\n");
    free(victim);
    instance_destroy(&instance);
}

static void
test_pid_file_symlink_is_refused(void **state)
{
    assert_planted_link_refused(symlink, "is a symbolic link: refusing to follow it");
}

static void
test_pid_file_hard_link_is_refused(void **state)
{
    assert_planted_link_refused(link, "refusing to use it");
}

/* docs/architecture.md section 7's shape: the log file under a path.data that does not
 * exist yet. */
static void
test_file_modes_and_a_fresh_data_directory(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0 }\n"
        "path: { data: ./fresh/data }\n"
        "pid: { file: ./corral.pid }\n"
        "node: { workers: { count: 1 }, shutdown_timeout: 10s }\n"
        "logging:\n"
        "  appenders:\n"
        "    file: { type: rolling-file, fileName: ./fresh/data/corral.log,\n"
        "            policy: { type: size-limit, size: 10mb }, layout: { type: json } }\n"
        "    shipped: { type: file, fileName: ./fresh/data/shipped.log, mode: 0644 }\n"
        "  root: { appenders: [file, shipped], level: info }\n");
    mode_t old = umask(022);        /* what a login shell has */
    instance_start(instance);
    umask(old);
    assert_true(instance_wait_ready(instance, START_MS));
    char *uuid = path_in(instance, "fresh/data/uuid");
    char *store = path_in(instance, "fresh/data/store.json");
    char *log = path_in(instance, "fresh/data/corral.log");
    char *shipped = path_in(instance, "fresh/data/shipped.log");
    assert_true(await_file(store, START_MS));
    assert_int_equal(mode_of(uuid), 0600);
    assert_int_equal(mode_of(store), 0600);
    assert_int_equal(mode_of(log), 0640);
    assert_int_equal(mode_of(shipped), 0644);
    free(uuid);
    free(store);
    free(log);
    free(shipped);
    assert_true(instance_stop(&instance));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pid_file_symlink_is_refused),
        cmocka_unit_test(test_pid_file_hard_link_is_refused),
        cmocka_unit_test(test_file_modes_and_a_fresh_data_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
