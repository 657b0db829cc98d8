/* test_memory.c: memory limits hold and a worker that runs out of memory
 * reads `memory`: max_memory (RLIMIT_AS) fails an allocation and the
 * worker is replaced; a `ulimit -v` without max_memory gives classic mode;
 * the coordinator's own limit is its own; a worker the kernel's OOM
 * killer takes (a real memory cgroup, where the machine lets the test
 * make one) reads `memory`, another kill -9 `crashed` (docs/supervision.md,
 * "Memory"). Real processes; failures through node.debug_routes. */
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
#include <unistd.h>

#include "supervision_harness.h"

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
    instance_t *instance = start_with(0, "  workers: { count: 2, " TEST_WORKER ",\n"
                                         "             max_memory: 512mb }\n");
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

/* --- The kernel's OOM killer: a memory cgroup of the test's own --------------------- */

/* This process's memory cgroup: "v1" or "v2" in *version, its path under
 * /sys/fs/cgroup[/memory] in `path`; false if it has none. */
static bool
own_memory_cgroup(char *path, size_t size, int *version)
{
    FILE *file = fopen("/proc/self/cgroup", "r");
    if (!file)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, file)) {
        line[strcspn(line, "\n")] = '\0';
        char *controllers = strchr(line, ':'), *where = controllers ? strchr(controllers + 1, ':')
                                                                  : NULL;
        if (!where)
            continue;
        *where++ = '\0';
        if (strstr(controllers + 1, "memory")) {
            snprintf(path, size, "/sys/fs/cgroup/memory%s", where);
            *version = 1;
            found = true;
        }
        else if (!controllers[1]) {
            snprintf(path, size, "/sys/fs/cgroup%s", where);
            *version = 2;
            char controllers_file[1200], text[512] = "";
            snprintf(controllers_file, sizeof controllers_file, "%s/cgroup.controllers", path);
            FILE *list = fopen(controllers_file, "r");
            found = list && fgets(text, sizeof text, list) && strstr(text, "memory");
            if (list)
                fclose(list);
        }
    }
    fclose(file);
    return found;
}

static bool
write_file(const char *dir, const char *name, const char *text)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "w");
    if (!file)
        return false;
    bool ok = fputs(text, file) >= 0;
    return fclose(file) == 0 && ok;
}

/* Starts corral inside a new memory cgroup limited to `limit_mb` (the test
 * joins it for the fork, then goes back); NULL when this machine lets us
 * make none (not root, no memory controller), *cgroup set otherwise. */
static instance_t *
start_in_memory_cgroup(const char *node_extra, long limit_mb, char *cgroup, size_t size)
{
    char own[1024], pid[32], limit[32];
    int version;
    if (geteuid() != 0 || !own_memory_cgroup(own, sizeof own, &version))
        return NULL;
    snprintf(cgroup, size, "%s/corral-oom-%d", own, (int) getpid());
    snprintf(pid, sizeof pid, "%d", (int) getpid());
    snprintf(limit, sizeof limit, "%ld", limit_mb << 20);
    if (mkdir(cgroup, 0755) != 0) {
        cgroup[0] = '\0';
        return NULL;
    }
    bool limited = version == 1 ? write_file(cgroup, "memory.limit_in_bytes", limit)
                                : write_file(cgroup, "memory.max", limit)
                                  && (write_file(cgroup, "memory.swap.max", "0") || true);
    if (!limited || !write_file(cgroup, "cgroup.procs", pid)) {
        rmdir(cgroup);
        cgroup[0] = '\0';
        return NULL;
    }
    instance_t *instance = instance_new();
    write_config(instance, node_extra);
    instance_start(instance);
    assert_true(write_file(own, "cgroup.procs", pid));      /* the test leaves it */
    await_ready(instance);
    return instance;
}

static bool
replaced_for_an_oom_kill(json_t *entry, const void *arg)
{
    json_t *last = json_object_get(entry, "last_exit");
    const char *reason = json_string_value(json_object_get(last, "reason"));
    return restarted_and_ready(entry, (void *) 1) && reason && strcmp(reason, "memory") == 0
        && json_integer_value(json_object_get(last, "signal")) == SIGKILL;
}

static char oom_cgroup[1200];

/* The cgroup goes even when the test failed (it is empty once corral is). */
static int
remove_oom_cgroup(void **state)
{
    if (oom_cgroup[0])
        rmdir(oom_cgroup);
    oom_cgroup[0] = '\0';
    return 0;
}

/* A worker the kernel's OOM killer takes (its cgroup's memory limit,
 * not an allocation that fails) reads `memory`, not `crashed`; a kill -9
 * from anyone else still reads `crashed`. */
static void
test_an_oom_kill_reads_memory(void **state)
{
    instance_t *instance = start_in_memory_cgroup(
        "  restart: { backoff: { initial: 100ms } }\n  workers: { count: 2, " TEST_WORKER " }\n", 512, oom_cgroup,
        sizeof oom_cgroup);
    if (!instance)
        skip();     /* no memory cgroup of our own here: the unit of oom_kills.c still runs */
    pid_t victim = pid_of(instance, "worker-2");
    fault(instance, "worker-2", "/api/debug/allocate?worker=2&mb=2048");
    char expected[160];
    snprintf(expected, sizeof expected,
             "worker-2 (pid %d) was killed by signal 9 (SIGKILL): memory; restarting in",
             (int) victim);
    await_output(instance, expected);
    json_decref(await_worker_entry(instance, "worker-2", replaced_for_an_oom_kill, NULL));

    pid_t other = pid_of(instance, "worker-1");
    assert_int_equal(kill(other, SIGKILL), 0);
    snprintf(expected, sizeof expected,
             "worker-1 (pid %d) was killed by signal 9 (SIGKILL): crashed; restarting in",
             (int) other);
    await_output(instance, expected);
    assert_true(instance_stop(&instance));
    assert_int_equal(rmdir(oom_cgroup), 0);
    oom_cgroup[0] = '\0';
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
    instance_t *instance = start_under_ulimit("{ count: 2, " TEST_WORKER " }", 4096);
    await_output(instance, "clustering is disabled (classic mode)");
    assert_false(clustered(instance));
    assert_true(instance_stop(&instance));

    instance = start_under_ulimit("{ count: 2, " TEST_WORKER ", max_memory: 1gb }", 4096);
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
                                         "  workers: { count: 2, " TEST_WORKER ",\n"
                                         "             max_memory: 768mb }\n");
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

int
main(void)
{
    struct rlimit no_cores = { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_cores);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_memory_fails_the_allocation_and_replaces),
        cmocka_unit_test_teardown(test_an_oom_kill_reads_memory, remove_oom_cgroup),
        cmocka_unit_test(test_ulimit_v_without_max_memory_gives_classic_mode),
        cmocka_unit_test(test_coordinator_max_memory_is_its_own),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
