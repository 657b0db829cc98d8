/* test_supervision.c: a crashed, hung or bloated worker is replaced, a
 * crash loop stops the instance, some exits are never retried, a restart
 * that hangs before it is ready is hung, recycling fails no request, and
 * the main role moves without overlap (docs/architecture.md section 8;
 * memory: test_memory.c). Real processes and signals; failures are made
 * through the fault routes of node.debug_routes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "load.h"
#include "supervision_harness.h"

/* --- Crashes ----------------------------------------------------------------------- */

static void
test_kill_9_under_load_is_replaced(void **state)
{
    instance_t *instance = start_with(2, "  restart: { backoff: { initial: 100ms } }\n");
    load_t *load = load_start(instance_port(instance), "/api/hello", 8);
    while (load_served_by(load, "worker-1") < 100 || load_served_by(load, "worker-2") < 100)
        pause_ms(20);
    pid_t victim = pid_of(instance, "worker-2");
    char expected[160];
    snprintf(expected, sizeof expected,
             "worker-2 (pid %d) was killed by signal 9 (SIGKILL): crashed; restarting in",
             (int) victim);
    assert_int_equal(kill(victim, SIGKILL), 0);
    await_output(instance, expected);
    uint64_t before = load_served_by(load, "worker-2");
    json_t *entry = await_worker_entry(instance, "worker-2", restarted_and_ready, (void *) 1);
    while (load_served_by(load, "worker-2") < before + 100)     /* the replacement serves */
        pause_ms(20);
    load_result_t result;
    load_stop(&load, &result);

    assert_true(result.ok > 400);
    /* only what was on worker-2: its connections, or one it had just
     * accepted and never answered (the others kept answering) */
    for (int i = 0; i < LOAD_CONNECTIONS_MAX; i++)
        for (uint64_t k = 0; k < result.connection_failed[i] && k < 8; k++)
            if (strcmp(result.failed_on[i][k], "worker-2") != 0
                && strcmp(result.failed_on[i][k], LOAD_NEW_CONNECTION) != 0)
                fail_msg("a request failed on %s", result.failed_on[i][k]);
    assert_true(result.failed <= 8);    /* at most one in flight per connection */
    assert_int_equal(json_integer_value(json_object_get(entry, "restarts")), 1);
    json_t *last = json_object_get(entry, "last_exit");
    assert_int_equal(json_integer_value(json_object_get(last, "signal")), 9);
    assert_int_equal(json_integer_value(json_object_get(last, "pid")), victim);
    assert_string_equal(json_string_value(json_object_get(last, "reason")), "crashed");
    assert_non_null(json_string_value(json_object_get(entry, "started_at")));
    json_decref(entry);
    kill(instance_pid(instance), SIGTERM);
    assert_true(instance_wait_exit(instance, WAIT_MS));
    await_output(instance, "stopped (restarts: 1 crashed, 0 hung, 0 memory, 0 recycled)");
    instance_destroy(&instance);
}

static bool
waiting(json_t *entry, const void *arg)
{
    const char *state = json_string_value(json_object_get(entry, "state"));
    return state && strcmp(state, "waiting") == 0;
}

static void
test_waiting_slot_degrades_status(void **state)
{
    instance_t *instance = start_with(2, "  restart: { backoff: { initial: 20s } }\n");
    kill(pid_of(instance, "worker-2"), SIGKILL);
    json_decref(await_worker_entry(instance, "worker-2", waiting, NULL));
    response_t response;
    assert_true(http_get(instance_port(instance), "/api/status", &response));
    assert_int_equal(response.status, 200);
    json_t *overall = json_object_get(json_object_get(response.json, "status"), "overall");
    assert_string_equal(json_string_value(json_object_get(overall, "level")), "degraded");
    const char *summary = json_string_value(json_object_get(overall, "summary"));
    assert_non_null(strstr(summary, "worker-2 (restarting in "));
    response_clear(&response);
    assert_true(instance_stop(&instance));
}

/* The "restarting in N ms" delays in the order they were logged. */
static int
logged_delays(instance_t *instance, long *delays, int max)
{
    char *output = instance_output_copy(instance);
    int count = 0;
    for (char *at = output; count < max && (at = strstr(at, "restarting in ")); at++)
        delays[count++] = atol(at + strlen("restarting in "));
    free(output);
    return count;
}

static void
test_crash_loop_backs_off_then_stops(void **state)
{
    instance_t *instance = start_with(1, "  restart: { max_restarts: 5, window: 60s, "
                                         "backoff: { initial: 50ms, max: 10s } }\n");
    for (int exit = 1; exit <= 6; exit++) {
        /* the listening socket queues this until the (new) worker serves */
        pid_t pid = pid_of(instance, "worker-1");
        assert_true(pid > 0);
        fault(instance, "worker-1", "/api/debug/crash?worker=1");
        assert_true(process_gone(pid, WAIT_MS));
    }
    assert_exits_nonzero(instance);
    await_output(instance, "worker-1 is crash-looping: 6 exits in 60s (max_restarts 5), exits ");
    long delays[8];
    assert_int_equal(logged_delays(instance, delays, 8), 5);
    for (int i = 1; i < 5; i++)
        if (delays[i] <= delays[i - 1])
            fail_msg("restart delay %d (%ld ms) is not above the one before (%ld ms)", i + 1,
                     delays[i], delays[i - 1]);
    instance_destroy(&instance);
}

/* --- Never restarted ------------------------------------------------------------------ */

static void
test_exit_78_is_not_restarted(void **state)
{
    instance_t *instance = start_with(2, NULL);
    fault(instance, "worker-2", "/api/debug/exit?worker=2&code=78");
    assert_exits_nonzero(instance);
    assert_int_equal(WEXITSTATUS(instance_exit_status(instance)), 78);
    await_output(instance, "exited with status 78: its configuration was refused; "
                           "not restarted, stopping the instance");
    assert_int_equal(count_output(instance, "restarting in"), 0);
    instance_destroy(&instance);
}

static void
test_boot_failure_is_not_restarted(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0 }\n"
        "path: { data: ./data }\n"
        "node: { workers: { count: 2, " TEST_WORKER " }, debug_routes: true,\n"
        "        shutdown_timeout: 10s,\n"
        "        migrations: { delay: 3s } }\n"
        "logging: { loggers: [ { name: coordinator, level: debug } ] }\n");
    instance_start(instance);
    /* worker-2 waits for migration-complete (not ready) while worker-1
     * migrates slowly; it fails meanwhile */
    await_output(instance, "started worker-2");
    char *output = instance_output_copy(instance);     /* the port, before READY */
    const char *url = strstr(output, "listening on http://127.0.0.1:");
    assert_non_null(url);
    int port = atoi(url + strlen("listening on http://127.0.0.1:"));
    free(output);
    response_t response;
    http_request_to(port, "POST", "/api/debug/exit?worker=2&code=1", "worker-2", &response);
    response_clear(&response);
    assert_exits_nonzero(instance);
    await_output(instance, "exited with status 1 before it was ready: a boot failure; "
                           "not restarted, stopping the instance");
    assert_int_equal(count_output(instance, "restarting in"), 0);
    instance_destroy(&instance);
}

/* --- Hung ------------------------------------------------------------------------------ */

static bool
hung_and_replaced(json_t *entry, const void *arg)
{
    json_t *last = json_object_get(entry, "last_exit");
    const char *reason = json_string_value(json_object_get(last, "reason"));
    return restarted_and_ready(entry, (void *) 1) && reason && strcmp(reason, "hung") == 0;
}

static void
test_hung_worker_gets_sigabrt_then_sigkill(void **state)
{
    instance_t *instance = start_with(0, "  restart: { backoff: { initial: 100ms } }\n"
                                         "  workers: { count: 2, " TEST_WORKER ",\n"
                                         "             heartbeat_timeout: 2s }\n");
    pid_t victim = pid_of(instance, "worker-2");
    /* SIGABRT blocked, so that only the SIGKILL after it ends the worker */
    fault(instance, "worker-2", "/api/debug/hang?worker=2&mask=1");
    char expected[160];
    snprintf(expected, sizeof expected, "worker-2 (pid %d) has not reported for", (int) victim);
    await_output(instance, expected);
    await_output(instance, "hung; sending SIGABRT, then SIGKILL after");
    snprintf(expected, sizeof expected, "worker-2 (pid %d) still running after SIGABRT; killing it",
             (int) victim);
    await_output(instance, expected);
    snprintf(expected, sizeof expected,
             "worker-2 (pid %d) was killed by signal 9 (SIGKILL): hung; restarting in",
             (int) victim);
    await_output(instance, expected);
    json_t *entry = await_worker_entry(instance, "worker-2", hung_and_replaced, NULL);
    json_decref(entry);
    assert_true(instance_stop(&instance));
}

/* A worker that hangs before it is ready after a crash restart (issue
 * 23): it never says Hello, so neither a Ready nor a report will come; the
 * ready timeout finds it hung, as during a reload. A wrapper runs the
 * reference worker, except once when a marker asks: then it hangs
 * silently. */
static void
test_hang_before_ready_after_a_crash_restart_is_hung(void **state)
{
    char dir[] = "/tmp/corral-hang.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char script[256], marker[256], node[1024];
    snprintf(script, sizeof script, "%s/hang-once.sh", dir);
    snprintf(marker, sizeof marker, "%s/hang-once-2", dir);
    FILE *file = fopen(script, "w");
    assert_non_null(file);
    fprintf(file, "#!/bin/sh\n"
                  "marker=%s/hang-once-$CORRAL_WORKER_ID\n"
                  "if [ -e \"$marker\" ]; then rm -f \"$marker\"; exec sleep 3600; fi\n"
                  "exec %s \"worker-$CORRAL_WORKER_ID\"\n", dir, TEST_WORKER_PROGRAM);
    fclose(file);
    assert_int_equal(chmod(script, 0755), 0);
    snprintf(node, sizeof node, "  restart: { backoff: { initial: 100ms } }\n"
                                "  reload: { ready_timeout: 2s }\n"
                                "  workers: { count: 2, command: [%s] }\n", script);
    instance_t *instance = start_with(0, node);
    file = fopen(marker, "w");
    assert_non_null(file);
    fclose(file);
    fault(instance, "worker-2", "/api/debug/crash?worker=2");
    await_output(instance, "worker-2 (pid");
    await_output(instance, "is not ready (node.reload.ready_timeout 2000 ms): hung; sending "
                           "SIGABRT, then SIGKILL after");
    await_output(instance, "was killed by signal 6 (SIGABRT)");
    await_output(instance, "hung; restarting in");
    json_t *entry = await_worker_entry(instance, "worker-2", hung_and_replaced, NULL);
    assert_true(json_integer_value(json_object_get(entry, "restarts")) >= 2);
    json_decref(entry);
    assert_true(instance_stop(&instance));
    unlink(script);
    rmdir(dir);
}

/* --- Recycling ---------------------------------------------------------------------------- */

static void
assert_no_failures(const load_result_t *result, instance_t *instance)
{
    if (result->failed)
        fail_msg("%llu of %llu requests failed:\n%s", (unsigned long long) result->failed,
                 (unsigned long long) (result->failed + result->ok), instance_output(instance));
}

static void
test_recycle_max_requests_under_load_fails_nothing(void **state)
{
    instance_t *instance = start_with(0, "  workers: { count: 2, " TEST_WORKER ",\n"
                                         "             recycle: { max_requests: 400, "
                                         "jitter: 10% } }\n");
    load_t *load = load_start(instance_port(instance), "/api/hello", 6);
    await_nth_output(instance, "recycle.max_requests is", 2);
    await_nth_output(instance, ": recycled", 2);        /* two old workers stopped */
    uint64_t after = load_ok(load);
    while (load_ok(load) < after + 200)
        pause_ms(20);
    load_result_t result;
    load_stop(&load, &result);
    assert_no_failures(&result, instance);
    assert_true(instance_stop(&instance));
}

static void
test_recycle_max_rss_under_load_fails_nothing(void **state)
{
    instance_t *instance = start_with(0, "  workers: { count: 2, " TEST_WORKER ",\n"
                                         "             recycle: { max_rss: 200mb } }\n");
    load_t *load = load_start(instance_port(instance), "/api/hello", 6);
    pid_t bloated = pid_of(instance, "worker-2");
    fault(instance, "worker-2", "/api/debug/allocate?worker=2&mb=256");
    await_output(instance, "is over recycle.max_rss");
    char expected[96];
    snprintf(expected, sizeof expected, "worker-2 (pid %d) exited with status 0: recycled",
             (int) bloated);
    await_output(instance, expected);
    uint64_t after = load_served_by(load, "worker-2");
    while (load_served_by(load, "worker-2") < after + 100)
        pause_ms(20);
    load_result_t result;
    load_stop(&load, &result);
    assert_no_failures(&result, instance);
    assert_true(instance_stop(&instance));
}

/* --- The main role --------------------------------------------------------------------------- */

static char *
read_data(instance_t *instance, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/data/%s", instance_dir(instance), name);
    return read_text_file(path);
}

static void
test_main_role_moves_without_overlap(void **state)
{
    instance_t *instance = start_with(3, "  restart: { backoff: { initial: 100ms } }\n");
    int complete_before = count_output(instance, "migration-complete: ");
    pid_t old_main = pid_of(instance, "worker-1");
    pid_t heir = pid_of(instance, "worker-2");
    int64_t deadline = harness_now_ms() + WAIT_MS;
    char *runs = NULL;
    do {        /* the old main ran it a few times */
        free(runs);
        pause_ms(50);
        runs = read_data(instance, "tasks/sample.runs");
    } while ((!runs || strlen(runs) < 30) && harness_now_ms() < deadline);
    assert_int_equal(kill(old_main, SIGKILL), 0);
    char expected[96];      /* the lowest-numbered ready worker */
    snprintf(expected, sizeof expected, "worker-2 (pid %d) is the main worker now", (int) heir);
    await_output(instance, expected);
    /* the replacement of worker-1 gets migration-complete from its snapshot */
    await_nth_output(instance, "migration-complete: ", complete_before + 1);
    json_decref(await_worker_entry(instance, "worker-1", restarted_and_ready, (void *) 1));
    char *runs_before = read_data(instance, "tasks/sample.runs");
    deadline = harness_now_ms() + WAIT_MS;
    do {        /* a few runs by the new main */
        free(runs);
        pause_ms(100);
        runs = read_data(instance, "tasks/sample.runs");
    } while (strlen(runs) < strlen(runs_before) + 100 && harness_now_ms() < deadline);
    free(runs_before);
    /* one process at a time: each pid's runs are one unbroken block */
    int pids[64], blocks = 0;
    for (char *line = strtok(runs, "\n"); line; line = strtok(NULL, "\n")) {
        int worker = 0, pid = 0;
        assert_int_equal(sscanf(line, "%d %d", &worker, &pid), 2);
        if (blocks > 0 && pids[blocks - 1] == pid)
            continue;
        for (int i = 0; i < blocks; i++)
            if (pids[i] == pid)
                fail_msg("pid %d ran the task again after another process did", pid);
        assert_true(blocks < 64);
        pids[blocks++] = pid;
    }
    free(runs);
    assert_int_equal(blocks, 2);
    assert_int_equal(pids[0], old_main);
    /* the store is current: the replacement did not migrate it again */
    char *store = read_data(instance, "store.json");
    json_t *parsed = json_loads(store, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(parsed, "runs")), 1);
    json_decref(parsed);
    free(store);
    assert_true(instance_stop(&instance));
}

int
main(void)
{
    struct rlimit no_cores = { 0, 0 };     /* SIGABRT would leave core files */
    setrlimit(RLIMIT_CORE, &no_cores);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_9_under_load_is_replaced),
        cmocka_unit_test(test_waiting_slot_degrades_status),
        cmocka_unit_test(test_crash_loop_backs_off_then_stops),
        cmocka_unit_test(test_exit_78_is_not_restarted),
        cmocka_unit_test(test_boot_failure_is_not_restarted),
        cmocka_unit_test(test_hung_worker_gets_sigabrt_then_sigkill),
        cmocka_unit_test(test_hang_before_ready_after_a_crash_restart_is_hung),
        cmocka_unit_test(test_recycle_max_requests_under_load_fails_nothing),
        cmocka_unit_test(test_recycle_max_rss_under_load_fails_nothing),
        cmocka_unit_test(test_main_role_moves_without_overlap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
