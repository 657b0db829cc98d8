/* test_command.c: node.workers.command and node.workers.env: the workers
 * run the configured argv with the added variables; a command that does
 * not exist or is not executable stops corral at start with a clear
 * message and exit 78, before any worker, instead of a crash loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define TIMEOUT_MS 15000

static void
write_file(const instance_t *instance, const char *name, const char *text, mode_t mode)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", instance_dir(instance), name);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fputs(text, out);
    fclose(out);
    chmod(path, mode);
}

static void
write_config(instance_t *instance, int workers, const char *command, const char *env)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0 }\n"
             "pid: { file: ./corral.pid }\n"
             "node:\n"
             "  workers:\n"
             "    count: %d\n"
             "    command: %s\n"
             "%s%s%s"
             "  shutdown_timeout: 10s\n", workers, command,
             env ? "    env: " : "", env ? env : "", env ? "\n" : "");
    instance_write_config(instance, yaml);
}

/* A wrapper that shows what it was given, then becomes the reference
 * worker (exec: same PID, as the Hello must say). */
static void
test_command_with_arguments_and_env(void **state)
{
    instance_t *instance = instance_new();
    write_file(instance, "wrapper.sh",
               "#!/bin/sh\n"
               "args=$(printf '%s|' \"$@\")\n"      /* one write: workers share stderr */
               "printf 'wrapper: %s GREETING=%s id=%s\\n' \"$args\" \"$GREETING\" "
               "\"$CORRAL_WORKER_ID\" >&2\n"
               "exec " CORRAL_BIN_DIR "/corral-worker\n", 0755);
    write_config(instance, 2, "[./wrapper.sh, --queue, \"two words\"]",
                 "{ GREETING: \"hello there\" }");
    instance_start(instance);
    assert_true(instance_wait_ready(instance, TIMEOUT_MS));
    assert_true(instance_wait_output(instance,
                                     "wrapper: --queue|two words| GREETING=hello there id=1",
                                     TIMEOUT_MS));
    assert_true(instance_wait_output(instance,
                                     "wrapper: --queue|two words| GREETING=hello there id=2",
                                     TIMEOUT_MS));
    response_t response;
    assert_true(http_get(instance_port(instance), "/api/status", &response));
    assert_int_equal(response.status, 200);
    response_clear(&response);
    assert_true(instance_stop(&instance));
}

static void
assert_refused(instance_t *instance, const char *expected)
{
    char config[512];
    snprintf(config, sizeof config, "%s/corral.yml", instance_dir(instance));
    char *output = NULL;
    int status = run_corral(&output, "-c", config, NULL);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 78);
    if (!strstr(output, expected))
        fail_msg("expected \"%s\" in:\n%s", expected, output);
    assert_null(strstr(output, "started worker"));
    free(output);
    assert_int_equal(access(instance_pid_file(instance), F_OK), -1);
}

static void
test_missing_or_not_executable_command_stops_at_start(void **state)
{
    instance_t *instance = instance_new();
    char expected[512];
    write_config(instance, 2, "[./bin/nothing-here, --flag]", NULL);
    snprintf(expected, sizeof expected,
             "corral.yml:6:15: node.workers.command[0]: %s/bin/nothing-here: "
             "No such file or directory", instance_dir(instance));
    assert_refused(instance, expected);

    write_file(instance, "not-executable.sh", "#!/bin/sh\nexit 0\n", 0644);
    write_config(instance, 2, "[./not-executable.sh]", NULL);
    snprintf(expected, sizeof expected,
             "corral.yml:6:15: node.workers.command[0]: %s/not-executable.sh: not executable",
             instance_dir(instance));
    assert_refused(instance, expected);

    write_config(instance, 1, "[no-such-worker-program]", NULL);
    assert_refused(instance, "corral.yml:6:15: node.workers.command[0]: "
                             "no-such-worker-program: not found in PATH");
    instance_destroy(&instance);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_with_arguments_and_env),
        cmocka_unit_test(test_missing_or_not_executable_command_stops_at_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
