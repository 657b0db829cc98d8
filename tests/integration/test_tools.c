/* test_tools.c: the operator's surface (issue 12) through the real
 * corralctl binary against real instances: endpoints.json and the runtime
 * directory (clean exit, stale files), every command with --json parsed
 * by jansson and its exit status, logs -f --level warn, events -f seeing
 * a status change and a worker killed, garbage and a forged worker Hello
 * on desk. Followers run as processes writing to files; waits poll those
 * files or the HTTP API with bounded deadlines. (/api/metrics:
 * test_metrics.c; node.remote: test_remote.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <czmq.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "tools_harness.h"

/* --- Endpoints and commands --------------------------------------------------- */

static void
check_endpoints_file(instance_t *instance)
{
    json_error_t error;
    json_t *document = json_load_file(endpoints_path(instance), 0, &error);
    assert_non_null(document);
    assert_int_equal(json_integer_value(json_object_get(document, "pid")),
                     instance_pid(instance));
    const char *uuid = json_string_value(json_object_get(document, "instance"));
    assert_non_null(uuid);
    const char *runtime = json_string_value(json_object_get(document, "runtime_dir"));
    char expected[512];
    snprintf(expected, sizeof expected, "%s/corral/%s", instance_dir(instance), uuid);
    assert_string_equal(runtime, expected);
    struct stat st;
    assert_int_equal(stat(runtime, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    json_t *endpoints = json_object_get(document, "endpoints");
    const char *names[] = { "desk", "bus-in", "bus-out", "logs", "tap" };
    for (size_t i = 0; i < 5; i++) {
        const char *endpoint = json_string_value(json_object_get(endpoints, names[i]));
        assert_non_null(endpoint);
        assert_true(strncmp(endpoint, "ipc://", 6) == 0);
        assert_int_equal(stat(endpoint + 6, &st), 0);
    }
    json_decref(document);
}

static void
test_commands(void **state)
{
    instance_t *instance = start(2);
    check_endpoints_file(instance);

    json_t *status = ctl_json(instance, 0, "status");
    assert_string_equal(json_string_value(json_object_get(json_object_get(
        json_object_get(status, "status"), "overall"), "level")), "available");
    response_t http;
    assert_true(http_get(instance_port(instance), "/api/status", &http));
    const char *key;
    json_t *value;
    json_object_foreach(http.json, key, value)      /* the HTTP API's shape */
        assert_non_null(json_object_get(status, key));
    response_clear(&http);
    json_decref(status);

    json_t *stats = ctl_json(instance, 0, "stats");
    assert_int_equal(json_array_size(json_object_get(stats, "processes")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(stats, "process"),
                                                        "pid")), instance_pid(instance));
    json_decref(stats);

    json_t *workers = await_ready_workers(instance, 2);
    json_t *first = json_array_get(workers, 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "worker-1");
    assert_true(json_is_true(json_object_get(first, "main")));
    assert_int_equal(json_integer_value(json_object_get(first, "restarts")), 0);
    pid_t first_pid = (pid_t) json_integer_value(json_object_get(first, "pid"));
    json_decref(workers);

    char *output = NULL;
    assert_int_equal(ctl(instance, &output, "workers", NULL), 0);
    assert_non_null(strstr(output, "NAME"));
    assert_null(strstr(output, "\033["));          /* no colour, not a terminal */
    free(output);

    assert_int_equal(ctl(instance, &output, "top", "--count", "2", "--interval", "50", NULL), 0);
    char *second = strstr(output, "NAME");
    assert_non_null(second);
    assert_non_null(strstr(second + 4, "NAME"));    /* two refreshes */
    assert_non_null(strstr(output, "worker-2"));
    free(output);

    assert_int_equal(ctl(instance, NULL, "level", "plugins.demo", "warn", NULL), 0);
    json_t *config = ctl_json(instance, 0, "config");
    json_t *loggers = json_object_get(json_object_get(config, "logging"), "loggers");
    assert_int_equal(json_array_size(loggers), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(loggers, 0), "name")),
                        "plugins.demo");
    assert_string_equal(json_string_value(json_object_get(json_array_get(loggers, 0), "level")),
                        "warn");
    json_decref(config);
    assert_int_equal(ctl(instance, NULL, "level", "plugins.demo", "loud", NULL), 1);

    assert_int_equal(ctl(instance, NULL, "reopen-logs", NULL), 0);
    assert_int_equal(ctl(instance, NULL, "reload", NULL), 0);
    assert_int_equal(ctl(instance, &output, "restart", "worker-9", NULL), 1);
    assert_non_null(strstr(output, "no worker worker-9"));
    free(output);
    /* a graceful replacement: the slot's next generation serves */
    assert_int_equal(ctl(instance, &output, "restart", "worker-1", NULL), 0);
    assert_non_null(strstr(output, "restarting worker-1"));
    free(output);
    int64_t deadline = now_ms() + DEADLINE_MS;
    bool replaced = false;
    while (!replaced && now_ms() < deadline) {
        json_t *now = ctl_json(instance, 0, "workers");
        json_t *slot = json_array_get(now, 0);
        replaced = json_integer_value(json_object_get(slot, "generation")) == 2
                   && json_integer_value(json_object_get(slot, "pid")) != first_pid
                   && strcmp(json_string_value(json_object_get(slot, "state")), "ready") == 0;
        json_decref(now);
        if (!replaced)
            usleep(50 * 1000);      /* polling a tool's answer: no event to await here */
    }
    assert_true(replaced);
    assert_int_equal(ctl(instance, NULL, "frobnicate", NULL), 64);

    assert_int_equal(ctl(instance, NULL, "stop", NULL), 0);
    assert_true(instance_wait_exit(instance, DEADLINE_MS));
    assert_true(WIFEXITED(instance_exit_status(instance)));
    assert_int_equal(WEXITSTATUS(instance_exit_status(instance)), 0);
    assert_int_equal(access(endpoints_path(instance), F_OK), -1);   /* removed */
    assert_int_equal(ctl(instance, &output, "status", NULL), 69);
    free(output);
    instance_destroy(&instance);
}

/* A killed instance's endpoints.json and runtime directory: recognised
 * as stale, replaced at the next start. */
static void
test_stale_files(void **state)
{
    instance_t *instance = instance_new();
    instance_write_cluster_config(instance, 1, NULL);
    char path[600];
    snprintf(path, sizeof path, "%s/data", instance_dir(instance));
    mkdir(path, 0755);
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    FILE *file = fopen(endpoints_path(instance), "w");
    fprintf(file, "{\"pid\": %d, \"endpoints\": {\"desk\": \"ipc:///nonexistent/desk\"}}\n",
            (int) dead);
    fclose(file);
    char *output = NULL;
    assert_int_equal(ctl(instance, &output, "status", NULL), 69);
    assert_non_null(strstr(output, "stale"));
    free(output);
    /* another instance's runtime directory that nobody holds */
    snprintf(path, sizeof path, "%s/corral", instance_dir(instance));
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/corral/0badc0de-0000-4000-8000-000000000000",
             instance_dir(instance));
    mkdir(path, 0700);
    char lock[700];
    snprintf(lock, sizeof lock, "%s/lock", path);
    close(open(lock, O_CREAT | O_WRONLY, 0600));

    instance_start(instance);
    assert_true(instance_wait_ready(instance, DEADLINE_MS));
    check_endpoints_file(instance);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(ctl(instance, NULL, "status", NULL), 0);
    assert_true(instance_stop(&instance));
}

/* --- The tap ------------------------------------------------------------------- */

static void
test_logs_follow_level(void **state)
{
    instance_t *instance = start(2);
    follower_t follower;
    char *args[] = { "logs", "-f", "--level", "warn", NULL };
    follow(instance, &follower, "logs", args);
    assert_true(await_file(follower.path, "following the logs", DEADLINE_MS));
    /* until the subscription is live, records pass unseen: ask again */
    int64_t deadline = now_ms() + DEADLINE_MS;
    bool seen = false;
    while (!seen && now_ms() < deadline) {
        response_t response;
        assert_true(http_get(instance_port(instance), "/api/log?count=1&level=info",
                             &response));
        response_clear(&response);
        assert_true(http_get(instance_port(instance), "/api/log?count=1&level=warn",
                             &response));
        response_clear(&response);
        seen = await_file(follower.path, "[demo.records] record", 200);
    }
    assert_true(seen);
    stop_follower(&follower);
    char *lines = read_file(follower.path);
    assert_non_null(strstr(lines, "[WARN ][worker-"));
    assert_null(strstr(lines, "[INFO "));
    assert_null(strstr(lines, "[DEBUG"));
    free(lines);
    assert_true(instance_stop(&instance));
}

/* A reload's steps reach the tap: its start, each slot replaced, its end. */
static void
test_events_reload(void **state)
{
    instance_t *instance = start(2);
    follower_t follower;
    char *args[] = { "events", "-f", NULL };
    follow(instance, &follower, "events", args);
    await_events_follower(instance, &follower);
    /* what every worker is changes: each slot is replaced */
    instance_write_cluster_config_with(instance, 2,
                                       "test_routes: true, limits: { idle_timeout: 30s }", NULL);
    kill(instance_pid(instance), SIGHUP);
    assert_true(await_file(follower.path, "ok: applied", DEADLINE_MS));
    stop_follower(&follower);
    char *lines = read_file(follower.path);
    const char *started = strstr(lines, "started: 2 -> 2 workers, 2 to replace");
    assert_non_null(started);
    /* each event line begins with its time, ISO 8601 in UTC */
    const char *line = started;
    while (line > lines && line[-1] != '\n')
        line--;
    int year, month, day, hour, minute, second, ms;
    char zone;
    assert_int_equal(sscanf(line, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &year, &month, &day,
                            &hour, &minute, &second, &ms, &zone), 8);
    assert_true(year >= 2024 && month >= 1 && month <= 12 && zone == 'Z');
    const char *first = strstr(started, "worker-1");
    assert_non_null(first);
    assert_non_null(strstr(first, "replaced"));
    assert_non_null(strstr(started, "worker-2"));
    free(lines);
    assert_true(instance_stop(&instance));
}

static void
test_events_worker_killed(void **state)
{
    instance_t *instance = start(2);
    follower_t follower;
    char *args[] = { "events", "-f", NULL };
    follow(instance, &follower, "events", args);
    await_events_follower(instance, &follower);
    /* a worker's status level changes: an event when its report says so */
    response_t response;
    assert_true(http_request_to(instance_port(instance), "POST",
                                "/api/demo/status?level=degraded&summary=test&worker=1",
                                "worker-1", &response));
    response_clear(&response);
    assert_true(await_file(follower.path, "available -> degraded", DEADLINE_MS));
    pid_t workers[4];
    assert_int_equal(instance_workers(instance, workers, 4), 2);
    kill(workers[1], SIGKILL);
    assert_true(await_file(follower.path, "killed by signal 9", DEADLINE_MS));
    char *lines = read_file(follower.path);
    assert_non_null(strstr(lines, "exited"));
    free(lines);
    /* supervision (restart policy on-failure): the slot is started again and
     * its replacement is ready */
    char replacement[64];
    snprintf(replacement, sizeof replacement, "pid %-7u", (unsigned) workers[1]);
    int64_t deadline = now_ms() + DEADLINE_MS;
    bool restarted = false;
    while (!restarted && now_ms() < deadline) {
        restarted = await_file(follower.path, "ready     worker-2", 200);
        if (restarted) {
            lines = read_file(follower.path);
            const char *after = strstr(lines, "killed by signal 9");
            restarted = after && strstr(after, "ready     worker-2");
            free(lines);
        }
    }
    assert_true(restarted);
    lines = read_file(follower.path);
    assert_non_null(strstr(strstr(lines, "killed by signal 9"), "restarted worker-2"));
    free(lines);
    kill(instance_pid(instance), SIGTERM);
    assert_true(instance_wait_exit(instance, DEADLINE_MS));
    int status;     /* the follower notices and exits 69 */
    assert_int_equal(waitpid(follower.pid, &status, 0), follower.pid);
    assert_int_equal(WEXITSTATUS(status), 69);
    instance_destroy(&instance);
}

/* --- desk refuses what is not a tool's request ---------------------------------- */

static corral_envelope_t *
desk_exchange(zsock_t *desk, zframe_t *frame)
{
    zmsg_t *message = zmsg_new();
    zmsg_addmem(message, "", 0);
    zmsg_append(message, &frame);
    assert_int_equal(zmsg_send(&message, desk), 0);
    zsock_set_rcvtimeo(desk, DEADLINE_MS);
    zmsg_t *reply = zmsg_recv(desk);
    assert_non_null(reply);
    corral_envelope_t *envelope = corral_envelope_decode(zmsg_last(reply));
    zmsg_destroy(&reply);
    assert_non_null(envelope);
    assert_int_equal(envelope->body_case, CORRAL__V1__ENVELOPE__BODY_TOOL_REPLY);
    return envelope;
}

static void
expect_error(zsock_t *desk, zframe_t *frame, const char *why)
{
    corral_envelope_t *reply = desk_exchange(desk, frame);
    assert_false(reply->tool_reply->ok);
    if (!strstr(reply->tool_reply->error, why))
        fail_msg("expected \"%s\" in \"%s\"", why, reply->tool_reply->error);
    corral_envelope_free(&reply);
}

static void
test_desk_refuses(void **state)
{
    instance_t *instance = start(1);
    json_t *before = await_ready_workers(instance, 1);
    char *endpoint = instance_desk_endpoint(instance);
    zsock_t *desk = zsock_new_dealer(endpoint);
    assert_non_null(desk);

    expect_error(desk, zframe_new("garbage!", 8), "not an Envelope");

    Corral__V1__Hello hello = CORRAL__V1__HELLO__INIT;
    hello.worker_id = 1;
    hello.pid = (uint32_t) getpid();
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_HELLO;
    envelope.hello = &hello;
    expect_error(desk, corral_envelope_pack(&envelope), "not a worker");

    Corral__V1__ToolRequest request = CORRAL__V1__TOOL_REQUEST__INIT;
    request.command = "status";
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TOOL_REQUEST;
    envelope.tool_request = &request;
    expect_error(desk, corral_envelope_pack(&envelope), "ToolHello first");

    Corral__V1__ToolHello tool = CORRAL__V1__TOOL_HELLO__INIT;
    tool.name = "test";
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TOOL_HELLO;
    envelope.tool_hello = &tool;
    corral_envelope_t *welcome = desk_exchange(desk, corral_envelope_pack(&envelope));
    assert_true(welcome->tool_reply->ok);
    corral_envelope_free(&welcome);
    request.command = "frobnicate";
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TOOL_REQUEST;
    envelope.tool_request = &request;
    expect_error(desk, corral_envelope_pack(&envelope), "unknown request");
    request.command = "level";
    expect_error(desk, corral_envelope_pack(&envelope), "usage: level LOGGER LEVEL");

    /* worker-1 kept its slot: same pid, still reporting */
    json_t *after = await_ready_workers(instance, 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(after, 0), "pid")),
                     json_integer_value(json_object_get(json_array_get(before, 0), "pid")));
    json_decref(before);
    json_decref(after);
    json_t *stats = ctl_json(instance, 0, "stats");
    assert_true(json_integer_value(json_object_get(json_object_get(stats, "desk"), "dropped"))
                >= 2);
    json_decref(stats);
    zsock_destroy(&desk);
    free(endpoint);
    assert_true(instance_stop(&instance));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_stale_files),
        cmocka_unit_test(test_logs_follow_level),
        cmocka_unit_test(test_events_worker_killed),
        cmocka_unit_test(test_events_reload),
        cmocka_unit_test(test_desk_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
