/* test_status.c: /api/status and /api/stats for the whole instance, from
 * every worker; status reports as heartbeats (a stopped worker becomes
 * unavailable and recovers); the aggregation of process figures; the
 * event-loop delay of a blocked loop; bad input on desk; classic mode.
 * Real instances; every response parsed with jansson; waits are polls of
 * the HTTP API with bounded deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <czmq.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "envelope.h"
#include "harness.h"

#define WORKERS 3
#define HEARTBEAT_TIMEOUT_MS 2000
#define DEADLINE_MS 30000

static instance_t *instance;

static int64_t
now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int
port(void)
{
    return instance_port(instance);
}

/* --- JSON shape checks ---------------------------------------------------------- */

static json_t *
member(json_t *object, const char *key)
{
    json_t *value = json_object_get(object, key);
    if (!value)
        fail_msg("missing \"%s\" in %s", key, json_dumps(object, JSON_COMPACT));
    return value;
}

static json_t *
object_at(json_t *object, const char *key)
{
    json_t *value = member(object, key);
    assert_true(json_is_object(value));
    return value;
}

static json_int_t
integer_at(json_t *object, const char *key)
{
    json_t *value = member(object, key);
    assert_true(json_is_integer(value));
    return json_integer_value(value);
}

static double
number_at(json_t *object, const char *key)
{
    json_t *value = member(object, key);
    assert_true(json_is_number(value));
    return json_number_value(value);
}

static const char *
string_at(json_t *object, const char *key)
{
    json_t *value = member(object, key);
    assert_true(json_is_string(value));
    return json_string_value(value);
}

static const char *
level_at(json_t *object, const char *key)
{
    json_t *status = object_at(object, key);
    string_at(status, "summary");
    const char *level = string_at(status, "level");
    assert_true(strcmp(level, "available") == 0 || strcmp(level, "degraded") == 0
                || strcmp(level, "unavailable") == 0 || strcmp(level, "critical") == 0);
    return level;
}

static void
check_services(json_t *services)
{
    const char *name;
    json_t *status;
    json_object_foreach(services, name, status)
        level_at(services, name);
}

/* Kibana's shape plus the workers extension. */
static void
check_status_shape(json_t *document, int workers, bool clustered)
{
    assert_string_equal(string_at(document, "name"), "corral");
    string_at(object_at(document, "version"), "number");
    json_t *status = object_at(document, "status");
    level_at(status, "overall");
    json_t *core = object_at(status, "core");
    check_services(core);
    level_at(core, "http");
    assert_int_equal(json_object_get(core, "coordinator") != NULL, clustered);
    json_t *plugins = object_at(status, "plugins");
    check_services(plugins);
    level_at(plugins, "status");
    level_at(plugins, "stats");
    level_at(plugins, "demo");
    json_t *extension = object_at(document, "workers");
    assert_int_equal(json_object_size(extension), workers);
    for (int id = 1; id <= workers; id++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%d", id);
        json_t *worker = object_at(extension, name);
        assert_int_equal(integer_at(worker, "worker_id"), id);
        assert_true(integer_at(worker, "pid") > 0);
        assert_true(json_is_boolean(member(worker, "reporting")));
        assert_true(integer_at(worker, "last_report_ms_ago") >= 0);
        level_at(worker, "overall");
        check_services(object_at(worker, "core"));
        check_services(object_at(worker, "plugins"));
    }
    string_at(document, "last_updated");
    assert_true(integer_at(document, "collection_interval_ms") > 0);
}

static void
check_process_shape(json_t *process)
{
    json_t *memory = object_at(process, "memory");
    json_t *heap = object_at(memory, "heap");
    assert_true(integer_at(heap, "total_bytes") >= 0);
    assert_true(integer_at(heap, "used_bytes") >= 0);
    assert_true(integer_at(heap, "size_limit") >= 0);
    assert_true(integer_at(memory, "resident_set_size_bytes") > 0);
    assert_true(integer_at(process, "pid") > 0);
    assert_true(number_at(process, "event_loop_delay") >= 0);
    assert_true(integer_at(process, "uptime_ms") >= 0);
}

static void
check_stats_shape(json_t *document, int processes, bool clustered)
{
    assert_string_equal(string_at(document, "name"), "corral");
    string_at(document, "last_updated");
    assert_true(integer_at(document, "collection_interval_ms") > 0);
    check_process_shape(object_at(document, "process"));
    json_t *list = member(document, "processes");
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), processes);
    size_t index;
    json_t *entry;
    json_array_foreach(list, index, entry) {
        check_process_shape(entry);
        string_at(entry, "name");
        member(entry, "worker_id");
    }
    json_t *os = object_at(document, "os");
    assert_string_equal(string_at(os, "platform"), "linux");
    string_at(os, "platform_release");
    json_t *load = object_at(os, "load");
    number_at(load, "1m");
    number_at(load, "5m");
    number_at(load, "15m");
    json_t *os_memory = object_at(os, "memory");
    assert_true(integer_at(os_memory, "total_bytes") > 0);
    assert_true(integer_at(os_memory, "free_bytes") >= 0);
    assert_true(integer_at(os_memory, "used_bytes") >= 0);
    integer_at(os, "uptime_ms");
    json_t *cpu = object_at(os, "cpu");
    assert_true(number_at(cpu, "quota") >= 0);
    assert_true(integer_at(cpu, "count") >= 1);
    json_t *requests = object_at(document, "requests");
    assert_true(integer_at(requests, "total") >= 0);
    assert_true(integer_at(requests, "disconnects") >= 0);
    object_at(requests, "status_codes");
    json_t *times = object_at(document, "response_times");
    assert_true(number_at(times, "avg_ms") >= 0);
    assert_true(number_at(times, "max_ms") >= number_at(times, "avg_ms"));
    assert_true(integer_at(document, "concurrent_connections") >= 0);
    json_t *logs = object_at(document, "logs");
    assert_true(integer_at(logs, "received") >= 0);
    assert_true(integer_at(logs, "dropped") >= 0);
    object_at(document, "workers");
    if (clustered)
        assert_true(integer_at(object_at(document, "desk"), "dropped") >= 0);
    else
        assert_null(json_object_get(document, "desk"));
}

/* --- Polling the API -------------------------------------------------------------- */

typedef bool (predicate_fn)(const response_t *response, const void *arg);

/* Asks `worker` (NULL: any) for `path` until `predicate` holds; fails the
 * test at the deadline. The caller clears the response. */
static response_t
await_response(const char *path, const char *worker, predicate_fn *predicate, const void *arg)
{
    int64_t deadline = now_ms() + DEADLINE_MS;
    response_t response;
    for (;;) {
        assert_true(http_request_to(port(), "GET", path, worker, &response));
        if (response.json && predicate(&response, arg))
            return response;
        if (now_ms() > deadline)
            fail_msg("%s from %s never satisfied the test: %s", path, worker ? worker : "any",
                     response.body ? response.body : "(no body)");
        response_clear(&response);
    }
}

static const char *
overall_level(const response_t *response)
{
    json_t *overall = json_object_get(json_object_get(response->json, "status"), "overall");
    return json_string_value(json_object_get(overall, "level"));
}

static json_t *
worker_entry(const response_t *response, const char *name)
{
    return json_object_get(json_object_get(response->json, "workers"), name);
}

/* Every worker reporting, every service available. */
static bool
all_available(const response_t *response, const void *arg)
{
    if (response->status != 200 || !overall_level(response)
        || strcmp(overall_level(response), "available") != 0)
        return false;
    json_t *workers = json_object_get(response->json, "workers");
    const char *name;
    json_t *worker;
    json_object_foreach(workers, name, worker)
        if (!json_is_true(json_object_get(worker, "reporting")))
            return false;
    return json_object_size(workers) == (size_t) (intptr_t) arg;
}

static bool
demo_level_is(const response_t *response, const void *level)
{
    json_t *plugins = json_object_get(json_object_get(response->json, "status"), "plugins");
    json_t *demo = json_object_get(plugins, "demo");
    return demo && strcmp(json_string_value(json_object_get(demo, "level")), level) == 0;
}

static void
set_demo_status(const char *worker, const char *level)
{
    char path[128];
    snprintf(path, sizeof path, "/api/demo/status?level=%s&summary=set-by-test&worker=%s",
             level, worker + strlen("worker-"));
    response_t response;
    assert_true(http_request_to(port(), "POST", path, worker, &response));
    assert_int_equal(response.status, 200);
    response_clear(&response);
}

static void
await_all_available(void)
{
    response_t response = await_response("/api/status", NULL, all_available,
                                         (void *) (intptr_t) WORKERS);
    response_clear(&response);
}

/* --- Fixture: one clustered instance ---------------------------------------------- */

static int
start_instance(void **state)
{
    instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0, test_routes: true }\n"
        "path: { data: ./data }\n"
        "pid: { file: ./corral.pid }\n"
        "node:\n"
        "  workers: { count: 3, " TEST_WORKER ", heartbeat_timeout: 2s }\n"
        "  restart: { policy: never }      # a stopped worker stays, unavailable\n"
        "  status: { interval: 100ms }\n"
        "  shutdown_timeout: 10s\n"
        "logging: { root: { level: info } }\n");
    instance_start(instance);
    return instance_wait_ready(instance, 15000) ? 0 : -1;
}

static int
stop_instance(void **state)
{
    return instance_stop(&instance) ? 0 : -1;
}

/* --- /api/status ------------------------------------------------------------------ */

static void
test_degraded_plugin_is_seen_by_every_worker(void **state)
{
    await_all_available();
    set_demo_status("worker-2", "degraded");
    for (int id = 1; id <= WORKERS; id++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%d", id);
        response_t response = await_response("/api/status", name, demo_level_is, "degraded");
        assert_int_equal(response.status, 200);
        check_status_shape(response.json, WORKERS, true);
        assert_string_equal(overall_level(&response), "degraded");
        json_t *status = json_object_get(response.json, "status");
        json_t *demo = json_object_get(json_object_get(status, "plugins"), "demo");
        assert_non_null(strstr(json_string_value(json_object_get(demo, "summary")), "worker-2"));
        assert_string_equal(level_at(json_object_get(status, "core"), "http"), "available");
        json_t *degraded = worker_entry(&response, "worker-2");
        assert_string_equal(level_at(object_at(degraded, "plugins"), "demo"), "degraded");
        assert_string_equal(level_at(degraded, "overall"), "degraded");
        json_t *fine = worker_entry(&response, "worker-1");
        assert_string_equal(level_at(object_at(fine, "plugins"), "demo"), "available");
        assert_string_equal(level_at(fine, "overall"), "available");
        response_clear(&response);
    }
    set_demo_status("worker-2", "available");
    await_all_available();
}

static bool
answered_503_unavailable(const response_t *response, const void *arg)
{
    return response->status == 503 && strcmp(overall_level(response), "unavailable") == 0;
}

static void
test_unavailable_plugin_makes_every_worker_answer_503(void **state)
{
    await_all_available();
    set_demo_status("worker-3", "unavailable");
    for (int id = 1; id <= WORKERS; id++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%d", id);
        response_t response = await_response("/api/status", name, answered_503_unavailable, NULL);
        check_status_shape(response.json, WORKERS, true);
        response_clear(&response);
    }
    set_demo_status("worker-3", "available");
    await_all_available();
}

static bool
worker_silent(const response_t *response, const void *name)
{
    json_t *worker = worker_entry(response, name);
    return worker && json_is_false(json_object_get(worker, "reporting"));
}

static bool
worker_reporting(const response_t *response, const void *name)
{
    json_t *worker = worker_entry(response, name);
    return worker && json_is_true(json_object_get(worker, "reporting"))
        && strcmp(overall_level(response), "available") == 0;
}

static void
test_stopped_worker_becomes_unavailable_and_recovers(void **state)
{
    await_all_available();
    response_t before;
    assert_true(http_request_to(port(), "GET", "/api/status", "worker-1", &before));
    pid_t pid = (pid_t) integer_at(worker_entry(&before, "worker-2"), "pid");
    response_clear(&before);

    assert_int_equal(kill(pid, SIGSTOP), 0);
    for (int id = 1; id <= WORKERS; id += 2) {      /* worker-1 and worker-3 */
        char name[32];
        snprintf(name, sizeof name, "worker-%d", id);
        response_t response = await_response("/api/status", name, worker_silent, "worker-2");
        assert_int_equal(response.status, 200);      /* degraded, not unavailable */
        check_status_shape(response.json, WORKERS, true);
        assert_string_equal(overall_level(&response), "degraded");
        json_t *silent = worker_entry(&response, "worker-2");
        assert_string_equal(level_at(silent, "overall"), "unavailable");
        assert_true(integer_at(silent, "last_report_ms_ago") > HEARTBEAT_TIMEOUT_MS);
        json_t *status = json_object_get(response.json, "status");
        const char *summary = json_string_value(
            json_object_get(json_object_get(status, "overall"), "summary"));
        assert_non_null(strstr(summary, "worker-2"));
        response_clear(&response);
    }
    assert_int_equal(kill(pid, SIGCONT), 0);
    response_t response = await_response("/api/status", "worker-1", worker_reporting, "worker-2");
    response_clear(&response);
    await_all_available();
}

/* --- /api/stats ------------------------------------------------------------------- */

static bool
every_process_reported(const response_t *response, const void *count)
{
    json_t *processes = json_object_get(response->json, "processes");
    if (json_array_size(processes) != (size_t) (intptr_t) count)
        return false;
    size_t index;
    json_t *entry;
    json_array_foreach(processes, index, entry)
        if (json_integer_value(json_object_get(json_object_get(entry, "memory"),
                                               "resident_set_size_bytes")) <= 0)
            return false;
    return true;
}

/* process = sums over processes[], pid and uptime of the first, delay max. */
static void
check_aggregation(json_t *document)
{
    json_t *process = json_object_get(document, "process");
    json_t *processes = json_object_get(document, "processes");
    json_int_t total = 0, used = 0, limit = 0, rss = 0;
    double max_delay = 0;
    size_t index;
    json_t *entry;
    json_array_foreach(processes, index, entry) {
        json_t *memory = json_object_get(entry, "memory");
        json_t *heap = json_object_get(memory, "heap");
        total += integer_at(heap, "total_bytes");
        used += integer_at(heap, "used_bytes");
        limit += integer_at(heap, "size_limit");
        rss += integer_at(memory, "resident_set_size_bytes");
        max_delay = fmax(max_delay, number_at(entry, "event_loop_delay"));
    }
    json_t *memory = json_object_get(process, "memory");
    json_t *heap = json_object_get(memory, "heap");
    assert_int_equal(integer_at(heap, "total_bytes"), total);
    assert_int_equal(integer_at(heap, "used_bytes"), used);
    assert_int_equal(integer_at(heap, "size_limit"), limit);
    assert_int_equal(integer_at(memory, "resident_set_size_bytes"), rss);
    assert_true(number_at(process, "event_loop_delay") == max_delay);
    json_t *first = json_array_get(processes, 0);
    assert_int_equal(integer_at(process, "pid"), integer_at(first, "pid"));
    assert_int_equal(integer_at(process, "uptime_ms"), integer_at(first, "uptime_ms"));
}

static bool
counted_hellos(const response_t *response, const void *count)
{
    json_t *codes = json_object_get(json_object_get(response->json, "requests"), "status_codes");
    return json_integer_value(json_object_get(codes, "200")) >= (json_int_t) (intptr_t) count;
}

static void
test_stats_aggregate_every_process(void **state)
{
    for (int i = 0; i < 10; i++) {
        response_t hello;
        assert_true(http_get(port(), "/api/hello", &hello));
        response_clear(&hello);
    }
    response_t response = await_response("/api/stats", NULL, every_process_reported,
                                         (void *) (intptr_t) (WORKERS + 1));
    response_clear(&response);
    response = await_response("/api/stats", NULL, counted_hellos, (void *) (intptr_t) 10);
    check_stats_shape(response.json, WORKERS + 1, true);
    check_aggregation(response.json);
    json_t *processes = json_object_get(response.json, "processes");
    json_t *coordinator = json_array_get(processes, 0);
    assert_string_equal(string_at(coordinator, "name"), "coordinator");
    assert_true(json_is_null(member(coordinator, "worker_id")));
    assert_int_equal(integer_at(coordinator, "pid"), instance_pid(instance));
    assert_int_equal(integer_at(json_object_get(response.json, "process"), "pid"),
                     instance_pid(instance));
    for (int id = 1; id <= WORKERS; id++) {
        json_t *entry = json_array_get(processes, (size_t) id);
        char name[32];
        snprintf(name, sizeof name, "worker-%d", id);
        assert_string_equal(string_at(entry, "name"), name);
        assert_int_equal(integer_at(entry, "worker_id"), id);
        json_t *worker = object_at(object_at(response.json, "workers"), name);
        assert_int_equal(integer_at(worker, "pid"), integer_at(entry, "pid"));
        assert_true(integer_at(object_at(worker, "desk_round_trip_ms"), "samples") > 0);
    }
    response_clear(&response);
}

static double
process_delay(const response_t *response, const char *name)
{
    size_t index;
    json_t *entry;
    json_array_foreach(json_object_get(response->json, "processes"), index, entry)
        if (strcmp(json_string_value(json_object_get(entry, "name")), name) == 0)
            return json_number_value(json_object_get(entry, "event_loop_delay"));
    return -1;
}

/* Polls /api/stats for up to `ms` until `worker` shows a delay >= 300 ms. */
static bool
await_delay(const char *worker, int ms, response_t *response)
{
    int64_t deadline = now_ms() + ms;
    while (now_ms() < deadline) {
        assert_true(http_get(port(), "/api/stats", response));
        if (response->json && process_delay(response, worker) >= 300.0)
            return true;
        response_clear(response);
    }
    return false;
}

static void
test_blocked_loop_shows_as_event_loop_delay(void **state)
{
    /* the delay is the longest loop turn of the last interval (100 ms
     * here), so it shows for about one interval: poll for it, and block
     * again if a loaded machine made the poll miss it */
    response_t response;
    bool seen = false;
    char worker[64] = "";
    for (int attempt = 0; attempt < 5 && !seen; attempt++) {
        response_t blocked;
        assert_true(http_get(port(), "/api/block?ms=300", &blocked));
        assert_int_equal(blocked.status, 200);
        snprintf(worker, sizeof worker, "%s", blocked.worker);
        response_clear(&blocked);
        seen = await_delay(worker, 5000, &response);
    }
    assert_true(seen);
    check_aggregation(response.json);
    assert_true(number_at(object_at(response.json, "process"), "event_loop_delay") >= 300.0);
    response_clear(&response);
}

/* --- Bad input on desk -------------------------------------------------------------- */

static json_int_t
desk_dropped(void)
{
    response_t response;
    assert_true(http_get(port(), "/api/stats", &response));
    json_int_t dropped = integer_at(object_at(response.json, "desk"), "dropped");
    response_clear(&response);
    return dropped;
}

static bool
dropped_at_least(const response_t *response, const void *count)
{
    json_t *desk = json_object_get(response->json, "desk");
    return json_integer_value(json_object_get(desk, "dropped")) >= *(const json_int_t *) count;
}

static void
await_dropped(json_int_t count)
{
    response_t response = await_response("/api/stats", NULL, dropped_at_least, &count);
    response_clear(&response);
}

static void
send_frames(zsock_t *desk, const void *body, size_t size)
{
    zmsg_t *message = zmsg_new();
    zmsg_addmem(message, "", 0);
    zmsg_addmem(message, body, size);
    assert_int_equal(zmsg_send(&message, desk), 0);
}

static void
send_report(zsock_t *desk, uint32_t worker_id)
{
    Corral__V1__ServiceStatus demo = CORRAL__V1__SERVICE_STATUS__INIT;
    demo.name = "demo";
    demo.level = CORRAL__V1__STATUS_LEVEL__STATUS_LEVEL_CRITICAL;
    demo.summary = "spoofed";
    Corral__V1__ServiceStatus *plugins[] = { &demo };
    Corral__V1__Report report = CORRAL__V1__REPORT__INIT;
    report.worker_id = worker_id;
    report.n_plugins = 1;
    report.plugins = plugins;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_REPORT;
    envelope.report = &report;
    assert_int_equal(corral_envelope_send(desk, NULL, &envelope, 0), 0);
}

static bool
never_critical(const response_t *response, const void *arg)
{
    return response->status == 200;
}

static void
test_bad_input_on_desk_is_dropped_and_counted(void **state)
{
    await_all_available();
    char *endpoint = instance_desk_endpoint(instance);
    assert_non_null(endpoint);
    zsys_handler_set(NULL);
    zsock_t *desk = zsock_new_dealer(endpoint);
    assert_non_null(desk);
    zsock_set_sndtimeo(desk, 5000);
    json_int_t dropped = desk_dropped();

    send_frames(desk, "not a protobuf \xff\xff\xff", 18);   /* garbage */
    await_dropped(++dropped);
    zmsg_t *shape = zmsg_new();                             /* too many frames */
    zmsg_addstr(shape, "");
    zmsg_addstr(shape, "one");
    zmsg_addstr(shape, "two");
    assert_int_equal(zmsg_send(&shape, desk), 0);
    await_dropped(++dropped);
    send_report(desk, 7);                                   /* unknown worker id */
    await_dropped(++dropped);
    send_report(desk, 2);                                   /* claims worker-2 */
    await_dropped(++dropped);

    /* oversized: libzmq closes the connection (ZMQ_MAXMSGSIZE) before the
     * coordinator sees it; the instance must not notice */
    size_t size = 5 * 1024 * 1024;
    char *big = calloc(1, size);
    send_frames(desk, big, size);
    free(big);
    zsock_destroy(&desk);
    free(endpoint);

    /* the spoofed critical never reached the view; the cluster still works */
    for (int id = 1; id <= WORKERS; id++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%d", id);
        response_t response = await_response("/api/status", name, never_critical, NULL);
        assert_string_equal(level_at(json_object_get(
            json_object_get(response.json, "status"), "plugins"), "demo"), "available");
        response_clear(&response);
    }
    await_all_available();
    assert_true(instance_wait_output(instance, "desk: dropped", 1000));
}

/* --- Classic mode --------------------------------------------------------------------- */

static bool
any(const response_t *response, const void *arg)
{
    return true;
}

static int
start_classic_instance(void **state)
{
    instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0 }\n"
        "pid: { file: ./corral.pid }\n"
        "node: { enabled: false, workers: { " TEST_WORKER " }, status: { interval: 100ms } }\n");
    instance_start(instance);
    return instance_wait_ready(instance, 15000) ? 0 : -1;
}

static void
test_classic_mode_answers_the_same_shapes(void **state)
{

    response_t status = await_response("/api/status", "worker-1", any, NULL);
    assert_int_equal(status.status, 200);
    check_status_shape(status.json, 1, false);
    assert_string_equal(overall_level(&status), "available");
    assert_int_equal(integer_at(worker_entry(&status, "worker-1"), "pid"), instance_pid(instance));
    response_clear(&status);

    response_t stats = await_response("/api/stats", "worker-1", every_process_reported,
                                      (void *) (intptr_t) 1);
    check_stats_shape(stats.json, 1, false);
    check_aggregation(stats.json);
    json_t *only = json_array_get(json_object_get(stats.json, "processes"), 0);
    assert_string_equal(string_at(only, "name"), "worker-1");
    assert_int_equal(integer_at(only, "worker_id"), 1);
    assert_int_equal(integer_at(only, "pid"), instance_pid(instance));
    response_clear(&stats);
}

/* --- The reference worker: what a plain instance serves ------------------------ */

static int
start_reference_instance(void **state)
{
    /* no node.workers.command: corral-worker, with every test switch on */
    instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0, test_routes: true }\n"
        "path: { data: ./data }\n"
        "pid: { file: ./corral.pid }\n"
        "node: { workers: { count: 2 }, debug_routes: true, status: { interval: 100ms } }\n");
    instance_start(instance);
    return instance_wait_ready(instance, 15000) ? 0 : -1;
}

/* /api/status lists the built-in plugins and the reference worker's own
 * (migrations, hello), no test plugin, and none of the routes that burn
 * CPU, wait, block, log in bulk, crash or drive the node service at a
 * client's request is there, even with server.test_routes and
 * node.debug_routes on: they live in the test worker (tests/plugins/). */
static void
test_reference_worker_serves_no_test_plugin(void **state)
{
    response_t status = await_response("/api/status", NULL, all_available,
                                       (void *) (intptr_t) 2);
    json_t *plugins = object_at(object_at(status.json, "status"), "plugins");
    static const char *const expected[] = { "status", "stats", "metrics", "migrations",
                                            "hello" };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_string_equal(level_at(plugins, expected[i]), "available");
    if (json_object_size(plugins) != sizeof expected / sizeof expected[0])
        fail_msg("plugins other than the reference worker's: %s",
                 json_dumps(plugins, JSON_COMPACT));
    response_clear(&status);

    response_t response;
    assert_true(http_get(port(), "/api/hello", &response));
    assert_int_equal(response.status, 200);
    response_clear(&response);
    static const char *const test_routes[][2] = {
        { "GET", "/api/cpu?work=1000" }, { "GET", "/api/wait?ms=1" },
        { "GET", "/api/realistic" }, { "GET", "/api/node" }, { "GET", "/api/block?ms=1" },
        { "POST", "/api/demo/status?level=critical" }, { "GET", "/api/log?count=1" },
        { "GET", "/api/debug/node?action=received" }, { "POST", "/api/debug/crash" },
        { "POST", "/api/debug/hang" }, { "POST", "/api/debug/allocate" },
        { "POST", "/api/debug/exit" },
    };
    for (size_t i = 0; i < sizeof test_routes / sizeof test_routes[0]; i++) {
        assert_true(http_request_to(port(), test_routes[i][0], test_routes[i][1], NULL,
                                    &response));
        if (response.status != 404)
            fail_msg("%s %s: %ld, expected 404", test_routes[i][0], test_routes[i][1],
                     response.status);
        response_clear(&response);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_degraded_plugin_is_seen_by_every_worker),
        cmocka_unit_test(test_unavailable_plugin_makes_every_worker_answer_503),
        cmocka_unit_test(test_stopped_worker_becomes_unavailable_and_recovers),
        cmocka_unit_test(test_stats_aggregate_every_process),
        cmocka_unit_test(test_blocked_loop_shows_as_event_loop_delay),
        cmocka_unit_test(test_bad_input_on_desk_is_dropped_and_counted),
    };
    const struct CMUnitTest classic[] = {
        cmocka_unit_test(test_classic_mode_answers_the_same_shapes),
    };
    const struct CMUnitTest reference[] = {
        cmocka_unit_test(test_reference_worker_serves_no_test_plugin),
    };
    int failed = cmocka_run_group_tests_name("clustered", tests, start_instance, stop_instance);
    failed += cmocka_run_group_tests_name("classic", classic, start_classic_instance,
                                          stop_instance);
    return failed + cmocka_run_group_tests_name("reference", reference,
                                                start_reference_instance, stop_instance);
}
