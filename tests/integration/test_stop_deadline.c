/* test_stop_deadline.c: node.shutdown_timeout bounds the whole stop, the
 * log drain included (issue 15): with a backlog of millions of records
 * the coordinator exits within the timeout (plus a margin for a loaded
 * machine), and its stop line counts what was not written by then. The
 * workers log through the log_records plugin (GET /api/log). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

#define START_MS 30000
#define TIMEOUT_MS 2000
#define MARGIN_MS 4000          /* reaping, the final lines, a loaded machine (before: 5 s a worker more) */
#define WORKERS 2

static void
test_shutdown_timeout_holds_with_a_large_log_backlog(void **state)
{
    instance_t *instance = instance_new();
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0, test_routes: true }\n"
             "path: { data: ./data }\n"
             "pid: { file: ./corral.pid }\n"
             "node: { workers: { count: %d, " TEST_WORKER " }, shutdown_timeout: %dms }\n"
             "logging:\n"
             "  appenders:\n"
             "    out: { type: file, fileName: ./out.log, layout: { type: json } }\n"
             "    console: { type: console, layout: { type: pattern } }\n"
             "  root: { appenders: [out], level: info }\n"
             "  loggers: [ { name: coordinator, appenders: [console] } ]\n",
             WORKERS, TIMEOUT_MS);
    instance_write_config(instance, yaml);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_MS));
    for (int worker = 1; worker <= WORKERS; worker++)
        assert_true(instance_aim_log_job(instance, worker, "count=5000000&chunk=100000"));
    int64_t stopped_at = harness_now_ms();
    kill(instance_pid(instance), SIGTERM);
    bool exited = instance_wait_exit(instance, TIMEOUT_MS + MARGIN_MS);
    int64_t took = harness_now_ms() - stopped_at;
    if (!exited)
        fail_msg("still running %d ms after SIGTERM (shutdown_timeout %d ms)",
                 TIMEOUT_MS + MARGIN_MS, TIMEOUT_MS);
    /* the stop line says what could not be written in time */
    assert_true(instance_wait_output(instance, "not written by the stop deadline ", START_MS));
    const char *line = strstr(instance_output(instance), "logs: received ");
    assert_non_null(line);
    assert_non_null(strstr(line, "not written by the stop deadline "));
    printf("stopped in %lld ms: %.*s\n", (long long) took, (int) strcspn(line, "\n"), line);
    instance_destroy(&instance);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shutdown_timeout_holds_with_a_large_log_backlog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
