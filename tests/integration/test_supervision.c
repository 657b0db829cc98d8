/* test_supervision.c: a crashed, hung or bloated worker is replaced, a
 * crash loop stops the instance, some exits are never retried, memory
 * limits hold, and the main role moves without overlap (docs/architecture.md section
 * 8). Real processes and signals; failures are made through the fault
 * routes of node.debug_routes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "load.h"

#define START_MS 20000
#define WAIT_MS 30000

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1        /* ASan cannot start under an RLIMIT_AS */
#else
#define UNDER_ASAN 0
#endif

/* A clustered config: `workers` workers (0: `node_extra` says) with the
 * debug routes, fast status reports, and `node_extra` lines inside `node:`. */
static instance_t *
start_with(int workers, const char *node_extra)
{
    instance_t *instance = instance_new();
    char yaml[2048], count[64] = "";
    if (workers)
        snprintf(count, sizeof count, "  workers: { count: %d }\n", workers);
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0 }\n"
             "path: { data: ./data }\n"
             "pid: { file: ./corral.pid }\n"
             "node:\n"
             "  debug_routes: true\n"
             "  status: { interval: 100ms }\n"
             "  shutdown_timeout: 10s\n"
             "%s%s"
             "logging: { root: { level: info }, loggers: [ { name: coordinator, level: debug } ] }\n",
             count, node_extra ? node_extra : "");
    instance_write_config(instance, yaml);
    instance_start(instance);
    if (!instance_wait_ready(instance, START_MS))
        fail_msg("not ready:\n%s", instance_output(instance));
    return instance;
}

/* Between two looks at a condition that has no event of its own. */
static void
pause_ms(long ms)
{
    struct timespec nap = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&nap, NULL);
}

static void
await_output(instance_t *instance, const char *text)
{
    if (!instance_wait_output(instance, text, WAIT_MS))
        fail_msg("never saw \"%s\" in:\n%s", text, instance_output(instance));
}

/* Occurrences of `text` in the output so far. */
static int
count_output(instance_t *instance, const char *text)
{
    char *output = instance_output_copy(instance);
    int count = 0;
    for (char *at = output; (at = strstr(at, text)); at++)
        count++;
    free(output);
    return count;
}

/* Awaits the nth occurrence of `text` (the output only grows). */
static void
await_nth_output(instance_t *instance, const char *text, int n)
{
    int64_t deadline = harness_now_ms() + WAIT_MS;
    while (count_output(instance, text) < n) {
        if (harness_now_ms() > deadline)
            fail_msg("saw \"%s\" fewer than %d times in:\n%s", text, n,
                     instance_output(instance));
        pause_ms(50);   /* until the output grows, at most 50 ms */
    }
}

static pid_t
pid_of(instance_t *instance, const char *worker)
{
    response_t response;
    assert_true(http_request_to(instance_port(instance), "GET", "/api/node", worker, &response));
    pid_t pid = (pid_t) json_integer_value(json_object_get(response.json, "pid"));
    response_clear(&response);
    return pid;
}

/* POSTs a fault route to `worker`; the connection may die with it. */
static void
fault(instance_t *instance, const char *worker, const char *route)
{
    response_t response;
    http_request_to(instance_port(instance), "POST", route, worker, &response);
    response_clear(&response);
}

/* /api/stats's entry for `worker` in `workers`, once `ready` holds for it:
 * a new reference (decref it). */
typedef bool (entry_check_fn)(json_t *entry, const void *arg);

static json_t *
await_worker_entry(instance_t *instance, const char *worker, entry_check_fn *check,
                   const void *arg)
{
    int64_t deadline = harness_now_ms() + WAIT_MS;
    while (harness_now_ms() < deadline) {
        response_t response;
        if (http_get(instance_port(instance), "/api/stats", &response) && response.json) {
            json_t *entry = json_object_get(json_object_get(response.json, "workers"), worker);
            if (entry && check(entry, arg)) {
                json_incref(entry);
                response_clear(&response);
                return entry;
            }
        }
        response_clear(&response);
        pause_ms(50);
    }
    fail_msg("/api/stats never showed what was awaited for %s:\n%s", worker,
             instance_output(instance));
    return NULL;
}

static bool
restarted_and_ready(json_t *entry, const void *restarts)
{
    const char *state = json_string_value(json_object_get(entry, "state"));
    return json_integer_value(json_object_get(entry, "restarts")) >= (json_int_t) (intptr_t) restarts
        && state && strcmp(state, "ready") == 0
        && json_is_true(json_object_get(entry, "reporting"));
}

static void
assert_exits_nonzero(instance_t *instance)
{
    if (!instance_wait_exit(instance, WAIT_MS))
        fail_msg("did not stop:\n%s", instance_output(instance));
    int status = instance_exit_status(instance);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
}

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
        "node: { workers: { count: 2 }, debug_routes: true, shutdown_timeout: 10s,\n"
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
                                         "  workers: { count: 2, heartbeat_timeout: 2s }\n");
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

/* --- Memory ------------------------------------------------------------------------------ */

static bool
replaced_for_memory(json_t *entry, const void *arg)
{
    json_t *last = json_object_get(entry, "last_exit");
    const char *reason = json_string_value(json_object_get(last, "reason"));
    return restarted_and_ready(entry, (void *) 1) && reason && strcmp(reason, "memory") == 0
        && json_integer_value(json_object_get(last, "code")) == 12;
}

static void
test_max_memory_fails_the_allocation_and_replaces(void **state)
{
    if (UNDER_ASAN)
        skip();
    instance_t *instance = start_with(0, "  workers: { count: 2, max_memory: 512mb }\n");
    fault(instance, "worker-2", "/api/debug/allocate?worker=2&mb=1024");
    await_output(instance, "cannot allocate 1024 MB: out of memory");
    await_output(instance, "exited with status 12: memory; restarting in");
    json_decref(await_worker_entry(instance, "worker-2", replaced_for_memory, NULL));
    response_t response;        /* within the limit, an allocation works */
    assert_true(http_request_to(instance_port(instance), "POST",
                                "/api/debug/allocate?worker=1&mb=64", "worker-1", &response));
    assert_int_equal(response.status, 200);
    response_clear(&response);
    assert_true(instance_stop(&instance));
}

/* Runs corral with RLIMIT_AS at `limit_mb` (as `ulimit -v` would). */
static instance_t *
start_under_ulimit(const char *workers_yaml, long limit_mb)
{
    instance_t *instance = instance_new();
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0 }\n"
             "pid: { file: ./corral.pid }\n"
             "node: { workers: %s }\n", workers_yaml);
    instance_write_config(instance, yaml);
    struct rlimit saved, limited;
    getrlimit(RLIMIT_AS, &saved);
    limited = saved;
    limited.rlim_cur = (rlim_t) limit_mb << 20;
    assert_int_equal(setrlimit(RLIMIT_AS, &limited), 0);
    instance_start(instance);
    setrlimit(RLIMIT_AS, &saved);
    if (!instance_wait_ready(instance, START_MS))
        fail_msg("not ready:\n%s", instance_output(instance));
    return instance;
}

static bool
clustered(instance_t *instance)
{
    response_t response;
    assert_true(http_get(instance_port(instance), "/api/node", &response));
    bool clustered = json_is_true(json_object_get(response.json, "clustered"));
    response_clear(&response);
    return clustered;
}

static void
test_ulimit_v_without_max_memory_gives_classic_mode(void **state)
{
    if (UNDER_ASAN)
        skip();
    instance_t *instance = start_under_ulimit("{ count: 2 }", 4096);
    await_output(instance, "clustering is disabled (classic mode)");
    assert_false(clustered(instance));
    assert_true(instance_stop(&instance));

    instance = start_under_ulimit("{ count: 2, max_memory: 1gb }", 4096);
    assert_true(clustered(instance));
    assert_int_equal(count_output(instance, "clustering is disabled"), 0);
    assert_true(instance_stop(&instance));
}

/* "Max address space" soft limit of `pid` in bytes, or -1 when unlimited. */
static long long
address_space_limit(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/limits", (int) pid);
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    long long limit = -2;
    while (fgets(line, sizeof line, file))
        if (strncmp(line, "Max address space", 17) == 0)
            limit = strncmp(line + 26, "unlimited", 9) == 0 ? -1 : atoll(line + 26);
    fclose(file);
    return limit;
}

static void
test_coordinator_max_memory_is_its_own(void **state)
{
    if (UNDER_ASAN)
        skip();
    instance_t *instance = start_with(0, "  coordinator: { max_memory: 1gb }\n"
                                         "  workers: { count: 2, max_memory: 768mb }\n");
    assert_int_equal(address_space_limit(instance_pid(instance)), 1LL << 30);
    pid_t workers[WORKERS_MAX];
    assert_int_equal(instance_workers(instance, workers, WORKERS_MAX), 2);
    for (int i = 0; i < 2; i++)
        assert_int_equal(address_space_limit(workers[i]), 768LL << 20);
    assert_true(instance_stop(&instance));

    instance = start_with(1, "  coordinator: { max_memory: 1gb }\n");
    assert_int_equal(instance_workers(instance, workers, WORKERS_MAX), 1);
    assert_int_equal(address_space_limit(workers[0]), -1);     /* not the coordinator's */
    assert_true(instance_stop(&instance));
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
    instance_t *instance = start_with(0, "  workers: { count: 2, recycle: { max_requests: 400, "
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
    instance_t *instance = start_with(0, "  workers: { count: 2, recycle: { max_rss: 200mb } }\n");
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
        cmocka_unit_test(test_max_memory_fails_the_allocation_and_replaces),
        cmocka_unit_test(test_ulimit_v_without_max_memory_gives_classic_mode),
        cmocka_unit_test(test_coordinator_max_memory_is_its_own),
        cmocka_unit_test(test_recycle_max_requests_under_load_fails_nothing),
        cmocka_unit_test(test_recycle_max_rss_under_load_fails_nothing),
        cmocka_unit_test(test_main_role_moves_without_overlap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
