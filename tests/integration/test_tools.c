/* test_tools.c: the operator's surface (issue 12) through the real
 * corralctl binary against real instances: endpoints.json and the runtime
 * directory (clean exit, stale files), every command with --json parsed
 * by jansson and its exit status, logs -f --level warn, events -f seeing
 * a worker killed, garbage and a forged worker Hello on desk, and
 * /api/metrics checked by promtool and against /api/stats. Followers run
 * as processes writing to files; waits poll those files or the HTTP API
 * with bounded deadlines. */
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
#include "harness.h"

#define DEADLINE_MS 20000
#define CORRALCTL CORRAL_BIN_DIR "/corralctl"

static int64_t
now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static char *
config_path(instance_t *instance)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/corral.yml", instance_dir(instance));
    return path;
}

/* corralctl -c <config> ARGS...: its exit status; *output (may be NULL)
 * gets stdout and stderr (free it). */
static int
ctl(instance_t *instance, char **output, ...)
{
    char *argv[20] = { CORRALCTL, "-c", config_path(instance) };
    int argc = 3;
    va_list args;
    va_start(args, output);
    for (const char *a = va_arg(args, const char *); a && argc < 19;
         a = va_arg(args, const char *))
        argv[argc++] = (char *) a;
    va_end(args);
    int status = run_program(output, argv);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* corralctl ... --json: the document (decref it); asserts it parses. */
static json_t *
ctl_json(instance_t *instance, int expected_exit, const char *command)
{
    char *output = NULL;
    assert_int_equal(ctl(instance, &output, command, "--json", NULL), expected_exit);
    json_error_t error;
    json_t *document = json_loads(output, 0, &error);
    if (!document)
        fail_msg("corralctl %s --json: %s in %s", command, error.text, output);
    free(output);
    return document;
}

static instance_t *
start(int workers)
{
    instance_t *instance = instance_new();
    instance_write_cluster_config(instance, workers, NULL);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, DEADLINE_MS));
    return instance;
}

static char *
endpoints_path(instance_t *instance)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/data/endpoints.json", instance_dir(instance));
    return path;
}

/* --- A follower: corralctl writing to a file --------------------------------- */

typedef struct {
    pid_t pid;
    char path[512];
} follower_t;

static void
follow(instance_t *instance, follower_t *follower, const char *name, char *const extra[])
{
    snprintf(follower->path, sizeof follower->path, "%s/%s.txt", instance_dir(instance), name);
    char *argv[20] = { CORRALCTL, "-c", config_path(instance) };
    int argc = 3;
    for (int i = 0; extra[i]; i++)
        argv[argc++] = extra[i];
    follower->pid = fork();
    assert_true(follower->pid >= 0);
    if (follower->pid == 0) {
        int fd = open(follower->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
}

static char *
read_file(const char *path)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return strdup("");
    char *text = calloc(1, 1 << 20);
    size_t n = fread(text, 1, (1 << 20) - 1, file);
    text[n] = '\0';
    fclose(file);
    return text;
}

static bool
file_contains(const char *path, const char *text)
{
    char *content = read_file(path);
    bool found = strstr(content, text) != NULL;
    free(content);
    return found;
}

static bool
await_file(const char *path, const char *text, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        if (file_contains(path, text))
            return true;
        usleep(20 * 1000);      /* polling a file another process writes */
    }
    return false;
}

static void
stop_follower(follower_t *follower)
{
    kill(follower->pid, SIGTERM);
    int status;
    waitpid(follower->pid, &status, 0);
}

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

/* Polls `workers --json` until every worker is ready. */
static json_t *
await_ready_workers(instance_t *instance, size_t count)
{
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (now_ms() < deadline) {
        json_t *workers = ctl_json(instance, 0, "workers");
        assert_true(json_is_array(workers));
        assert_int_equal(json_array_size(workers), count);
        size_t ready = 0, index;
        json_t *worker;
        json_array_foreach(workers, index, worker)
            ready += strcmp(json_string_value(json_object_get(worker, "state")), "ready") == 0
                  && json_is_true(json_object_get(worker, "reporting"))
                  && json_integer_value(json_object_get(worker, "rss_bytes")) > 0;
        if (ready == count)
            return workers;
        json_decref(workers);
        usleep(100 * 1000);
    }
    fail_msg("workers never all ready");
    return NULL;
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
    assert_true(json_is_null(json_object_get(first, "restarts")));
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
    assert_int_equal(ctl(instance, &output, "restart", "worker-1", NULL), 1);
    assert_non_null(strstr(output, "not supported yet"));
    free(output);
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

static void
test_events_worker_killed(void **state)
{
    instance_t *instance = start(2);
    follower_t follower;
    char *args[] = { "events", "-f", NULL };
    follow(instance, &follower, "events", args);
    assert_true(await_file(follower.path, "following the events", DEADLINE_MS));
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (!file_contains(follower.path, "reopen-logs") && now_ms() < deadline)
        assert_int_equal(ctl(instance, NULL, "reopen-logs", NULL), 0);
    assert_true(file_contains(follower.path, "reopen-logs"));
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
    assert_true(instance_wait_exit(instance, DEADLINE_MS));    /* restart policy never */
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

static zframe_t *
pack(corral_envelope_t *envelope)
{
    return corral_envelope_pack(envelope);
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
    expect_error(desk, pack(&envelope), "not a worker");

    Corral__V1__ToolRequest request = CORRAL__V1__TOOL_REQUEST__INIT;
    request.command = "status";
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TOOL_REQUEST;
    envelope.tool_request = &request;
    expect_error(desk, pack(&envelope), "ToolHello first");

    Corral__V1__ToolHello tool = CORRAL__V1__TOOL_HELLO__INIT;
    tool.name = "test";
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TOOL_HELLO;
    envelope.tool_hello = &tool;
    corral_envelope_t *welcome = desk_exchange(desk, pack(&envelope));
    assert_true(welcome->tool_reply->ok);
    corral_envelope_free(&welcome);
    request.command = "frobnicate";
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TOOL_REQUEST;
    envelope.tool_request = &request;
    expect_error(desk, pack(&envelope), "unknown request");
    request.command = "level";
    expect_error(desk, pack(&envelope), "usage: level LOGGER LEVEL");

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

/* --- /api/metrics ---------------------------------------------------------------- */

/* The value of the sample `name{labels}` in `text`; NAN if absent. */
static double
metric(const char *text, const char *name, const char *labels)
{
    char key[256];
    snprintf(key, sizeof key, "\n%s{%s} ", name, labels);
    const char *at = strstr(text, key);
    return at ? strtod(at + strlen(key), NULL) : NAN;
}

static int64_t
iso_ms(const char *text)
{
    struct tm tm = { 0 };
    int ms = 0;
    sscanf(text, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
           &tm.tm_min, &tm.tm_sec, &ms);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t) timegm(&tm) * 1000 + ms;
}

static void
check_against_stats(const char *text, json_t *stats)
{
    size_t index;
    json_t *process;
    json_array_foreach(json_object_get(stats, "processes"), index, process) {
        char labels[128];
        const char *name = json_string_value(json_object_get(process, "name"));
        snprintf(labels, sizeof labels, "worker=\"%s\",type=\"%s\"", name,
                 strcmp(name, "coordinator") == 0 ? "coordinator" : "worker");
        json_t *memory = json_object_get(process, "memory");
        assert_true(metric(text, "corral_process_resident_memory_bytes", labels)
                    == (double) json_integer_value(json_object_get(memory,
                                                       "resident_set_size_bytes")));
        json_t *heap = json_object_get(memory, "heap");
        assert_true(metric(text, "corral_process_heap_used_bytes", labels)
                    == (double) json_integer_value(json_object_get(heap, "used_bytes")));
        assert_true(fabs(metric(text, "corral_event_loop_delay_seconds", labels) * 1000
                         - json_number_value(json_object_get(process, "event_loop_delay")))
                    < 1e-6);
    }
    json_t *requests = json_object_get(stats, "requests");
    const char *code;
    json_t *count;
    json_object_foreach(json_object_get(requests, "status_codes"), code, count) {
        double sum = 0;
        for (int id = 1; id <= 2; id++) {
            char labels[128];
            snprintf(labels, sizeof labels, "worker=\"worker-%d\",type=\"worker\",code=\"%s\"",
                     id, code);
            double value = metric(text, "corral_http_requests_total", labels);
            sum += isnan(value) ? 0 : value;
        }
        assert_true(sum == (double) json_integer_value(count));
    }
    double responses = 0;
    for (int id = 1; id <= 2; id++) {
        char labels[128];
        snprintf(labels, sizeof labels, "worker=\"worker-%d\",type=\"worker\"", id);
        double samples = metric(text, "corral_http_response_seconds_count", labels);
        responses += isnan(samples) ? 0 : samples;     /* no report yet: none */
    }
    if (responses != (double) json_integer_value(json_object_get(requests, "total")))
        fail_msg("%g responses in /api/metrics, %lld in /api/stats:\n%s\n%s", responses,
                 (long long) json_integer_value(json_object_get(requests, "total")), text,
                 json_dumps(stats, JSON_INDENT(1)));
    assert_true(metric(text, "corral_desk_dropped_total",
                       "worker=\"coordinator\",type=\"coordinator\"")
                == (double) json_integer_value(json_object_get(json_object_get(stats, "desk"),
                                                               "dropped")));
}

static void
test_metrics(void **state)
{
    instance_t *instance = start(2);
    json_decref(await_ready_workers(instance, 2));
    for (int i = 0; i < 20; i++) {
        response_t response;
        assert_true(http_get(instance_port(instance), i % 4 ? "/api/hello" : "/missing",
                             &response));
        response_clear(&response);
    }
    /* both documents from one view of the coordinator */
    int64_t deadline = now_ms() + DEADLINE_MS;
    bool compared = false;
    while (!compared && now_ms() < deadline) {
        response_t stats, metrics;
        assert_true(http_request_to(instance_port(instance), "GET", "/api/stats", "worker-1",
                                    &stats));
        assert_true(http_request_to(instance_port(instance), "GET", "/api/metrics",
                                    "worker-1", &metrics));
        assert_int_equal(metrics.status, 200);
        double generated = metric(metrics.body, "corral_view_generated_timestamp_seconds",
                                  "worker=\"coordinator\",type=\"coordinator\"");
        int64_t stats_ms = iso_ms(json_string_value(json_object_get(stats.json,
                                                                    "last_updated")));
        json_int_t total = json_integer_value(json_object_get(json_object_get(stats.json,
                                                                          "requests"), "total"));
        /* one view, and one that has the requests above */
        if (llround(generated * 1000) == stats_ms && total >= 20) {
            char path[600];
            snprintf(path, sizeof path, "%s/metrics.txt", instance_dir(instance));
            FILE *file = fopen(path, "w");
            fputs(metrics.body, file);
            fclose(file);
            char command[700];
            snprintf(command, sizeof command, "promtool check metrics < %s", path);
            char *argv[] = { "/bin/sh", "-c", command, NULL };
            char *output = NULL;
            int status = run_program(&output, argv);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("promtool check metrics: %s", output);
            free(output);
            check_against_stats(metrics.body, stats.json);
            compared = true;
        }
        response_clear(&stats);
        response_clear(&metrics);
    }
    assert_true(compared);
    assert_true(instance_stop(&instance));
}

/* --- node.remote over CURVE --------------------------------------------------- */

static void
keygen(instance_t *instance, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/keys/%s", instance_dir(instance), name);
    char *argv[] = { CORRALCTL, "keygen", path, NULL };
    int status = run_program(NULL, argv);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* corralctl --remote DESK --key keys/KEY --server-key keys/server ARGS... */
static void
remote_args(instance_t *instance, char **argv, const char *desk, const char *key)
{
    static char key_path[600], server_path[600];
    snprintf(key_path, sizeof key_path, "%s/keys/%s", instance_dir(instance), key);
    snprintf(server_path, sizeof server_path, "%s/keys/server", instance_dir(instance));
    argv[0] = "--remote";
    argv[1] = (char *) desk;
    argv[2] = "--key";
    argv[3] = key_path;
    argv[4] = "--server-key";
    argv[5] = server_path;
}

static void
test_remote_curve(void **state)
{
    instance_t *instance = instance_new();
    char path[600];
    snprintf(path, sizeof path, "%s/keys", instance_dir(instance));
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/keys/clients", instance_dir(instance));
    mkdir(path, 0700);
    keygen(instance, "server");
    keygen(instance, "clients/operator");
    keygen(instance, "stranger");
    /* the operator's secret stays beside its public key: zauth reads only
     * the public certificates of the directory */
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0 }\n"
             "path: { data: ./data }\n"
             "pid: { file: ./corral.pid }\n"
             "node:\n"
             "  workers: { count: 1 }\n"
             "  shutdown_timeout: 10s\n"
             "  remote: { endpoint: \"tcp://127.0.0.1:0\",\n"
             "            curve: { secret_key: ./keys/server_secret,"
             " authorized_keys: ./keys/clients } }\n"
             "logging: { root: { level: debug } }\n");
    instance_write_config(instance, yaml);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, DEADLINE_MS));
    json_t *document = json_load_file(endpoints_path(instance), 0, NULL);
    json_t *remote = json_object_get(document, "remote");
    char desk[128], tap[128];
    snprintf(desk, sizeof desk, "%s", json_string_value(json_object_get(remote, "desk")));
    snprintf(tap, sizeof tap, "%s", json_string_value(json_object_get(remote, "tap")));
    assert_true(strncmp(desk, "tcp://127.0.0.1:", 16) == 0);
    json_decref(document);

    /* an authorised key: desk answers, tap delivers */
    char *argv[20] = { CORRALCTL };
    remote_args(instance, argv + 1, desk, "clients/operator_secret");
    argv[7] = "status";
    argv[8] = NULL;
    int status = run_program(NULL, argv);
    assert_int_equal(WEXITSTATUS(status), 0);
    follower_t follower;
    char *follow_args[12];
    remote_args(instance, follow_args, desk, "clients/operator_secret");
    follow_args[6] = "events";
    follow_args[7] = "-f";
    follow_args[8] = NULL;
    follow(instance, &follower, "remote-events", follow_args);
    assert_true(await_file(follower.path, "following the events", DEADLINE_MS));
    int64_t deadline = now_ms() + DEADLINE_MS;
    while (!file_contains(follower.path, "reopen-logs") && now_ms() < deadline)
        assert_int_equal(ctl(instance, NULL, "reopen-logs", NULL), 0);
    assert_true(file_contains(follower.path, "reopen-logs"));
    stop_follower(&follower);

    /* an unknown key: nothing answers */
    remote_args(instance, argv + 1, desk, "stranger_secret");
    argv[7] = "--timeout";
    argv[8] = "1000";
    argv[9] = "status";
    argv[10] = NULL;
    status = run_program(NULL, argv);
    assert_int_equal(WEXITSTATUS(status), 69);

    /* a plain client: no answer on desk, nothing on tap */
    zsock_t *plain_desk = zsock_new_dealer(desk);
    zsock_t *plain_tap = zsock_new_sub(tap, "");
    Corral__V1__ToolHello hello = CORRAL__V1__TOOL_HELLO__INIT;
    hello.name = "plain";
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_TOOL_HELLO;
    envelope.tool_hello = &hello;
    zmsg_t *message = zmsg_new();
    zmsg_addmem(message, "", 0);
    zframe_t *frame = pack(&envelope);
    zmsg_append(message, &frame);
    zmsg_send(&message, plain_desk);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ctl(instance, NULL, "reopen-logs", NULL), 0);
    zpoller_t *poller = zpoller_new(plain_desk, plain_tap, NULL);
    assert_null(zpoller_wait(poller, 1000));
    zpoller_destroy(&poller);
    zsock_destroy(&plain_desk);
    zsock_destroy(&plain_tap);
    assert_true(instance_stop(&instance));
}

static void
test_remote_needs_keys(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0 }\n"
        "node:\n"
        "  remote: { endpoint: \"tcp://127.0.0.1:0\" }\n");
    char *output = NULL;
    int status = run_corral(&output, "-c", config_path(instance), NULL);
    assert_int_equal(WEXITSTATUS(status), 78);
    assert_non_null(strstr(output, "corral.yml:3:"));
    assert_non_null(strstr(output, "nothing is exposed without CURVE keys"));
    free(output);
    instance_destroy(&instance);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_stale_files),
        cmocka_unit_test(test_logs_follow_level),
        cmocka_unit_test(test_events_worker_killed),
        cmocka_unit_test(test_desk_refuses),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_remote_curve),
        cmocka_unit_test(test_remote_needs_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
