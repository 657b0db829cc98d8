/* supervision_harness.c: the instance and the waits of test_supervision
 * and test_memory (supervision_harness.h). */
#include "supervision_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

void
write_config(instance_t *instance, const char *node_lines)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0 }\n"
             "path: { data: ./data }\n"
             "pid: { file: ./corral.pid }\n"
             "node:\n"
             "  debug_routes: true\n"
             "  status: { interval: 100ms }\n"
             "  shutdown_timeout: 10s\n"
             "%s"
             "logging: { root: { level: info },\n"
             "           loggers: [ { name: coordinator, level: debug } ] }\n", node_lines);
    instance_write_config(instance, yaml);
}

void
await_ready(instance_t *instance)
{
    if (!instance_wait_ready(instance, START_MS))
        fail_msg("not ready:\n%s", instance_output(instance));
}

instance_t *
start_with(int workers, const char *node_extra)
{
    instance_t *instance = instance_new();
    char lines[1600];
    if (workers)
        snprintf(lines, sizeof lines, "  workers: { count: %d, " TEST_WORKER " }\n%s", workers,
                 node_extra ? node_extra : "");
    else
        snprintf(lines, sizeof lines, "%s", node_extra ? node_extra : "");
    write_config(instance, lines);
    instance_start(instance);
    await_ready(instance);
    return instance;
}

/* Between two looks at a condition that has no event of its own. */
void
pause_ms(long ms)
{
    struct timespec nap = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&nap, NULL);
}

void
await_output(instance_t *instance, const char *text)
{
    if (!instance_wait_output(instance, text, WAIT_MS))
        fail_msg("never saw \"%s\" in:\n%s", text, instance_output(instance));
}

/* Occurrences of `text` in the output so far. */
int
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
void
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

pid_t
pid_of(instance_t *instance, const char *worker)
{
    response_t response;
    assert_true(http_request_to(instance_port(instance), "GET", "/api/node", worker, &response));
    pid_t pid = (pid_t) json_integer_value(json_object_get(response.json, "pid"));
    response_clear(&response);
    return pid;
}

/* POSTs a fault route to `worker`; the connection may die with it. */
void
fault(instance_t *instance, const char *worker, const char *route)
{
    response_t response;
    http_request_to(instance_port(instance), "POST", route, worker, &response);
    response_clear(&response);
}


json_t *
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

bool
restarted_and_ready(json_t *entry, const void *restarts)
{
    const char *state = json_string_value(json_object_get(entry, "state"));
    return json_integer_value(json_object_get(entry, "restarts")) >= (json_int_t) (intptr_t) restarts
        && state && strcmp(state, "ready") == 0
        && json_is_true(json_object_get(entry, "reporting"));
}

void
assert_exits_nonzero(instance_t *instance)
{
    if (!instance_wait_exit(instance, WAIT_MS))
        fail_msg("did not stop:\n%s", instance_output(instance));
    int status = instance_exit_status(instance);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
}
