/* test_logs.c: centralized logging with real processes: the coordinator
 * is the only writer, rolling files lose and duplicate nothing, a killed
 * worker's received records are written, SIGUSR1 reopens after a rename,
 * SIGHUP changes levels, levels filter in the worker, the access log, and
 * an unwritable log file is a configuration error. Workers log through
 * the log_records plugin (GET /api/log). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <zmq.h>

#include "harness.h"

#define START_MS 30000
#define STOP_MS 120000
#define MAX_WORKERS 8
#define ROLLED_MAX 100

/* --- Helpers ------------------------------------------------------------------- */

static char *
read_whole(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return NULL;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = malloc((size_t) size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t) size, file), (size_t) size);
    text[size] = '\0';
    fclose(file);
    return text;
}

static char *
path_in(const instance_t *instance, const char *name)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", instance_dir(instance), name) > 0);
    return path;
}

/* All of <dir>/NAME and its rolled files PREFIX<N>.log, oldest first. */
static char *
read_log_files(const instance_t *instance, const char *name, const char *rolled_prefix,
               off_t max_file_size)
{
    size_t total = 0;
    char *all = calloc(1, 1);
    for (int i = ROLLED_MAX; i >= 0; i--) {
        char file[64];
        if (i == 0)
            snprintf(file, sizeof file, "%s", name);
        else
            snprintf(file, sizeof file, "%s%d.log", rolled_prefix, i);
        char *path = path_in(instance, file);
        struct stat status;
        char *text = stat(path, &status) == 0 ? read_whole(path) : NULL;
        if (text && max_file_size)
            assert_true(status.st_size <= max_file_size);
        if (text) {
            size_t length = strlen(text);
            all = realloc(all, total + length + 1);
            memcpy(all + total, text, length + 1);
            total += length;
        }
        free(text);
        free(path);
    }
    return all;
}

/* GET /api/log?...&worker=W until worker W takes the job. */
static void
aim_log_job(const instance_t *instance, int worker, const char *query)
{
    if (!instance_aim_log_job(instance, worker, query))
        fail_msg("worker %d never took GET /api/log?%s", worker, query);
}

typedef struct {
    unsigned long long last[MAX_WORKERS + 1];   /* the last "record K" per worker */
    unsigned long long lines[MAX_WORKERS + 1];  /* every line from each worker */
    unsigned long long records;
    unsigned long long debug_lines;
} tally_t;

/* Checks that every line is whole and each worker's records count up
 * first, first + 1, ... in order (exactly once). */
static void
tally_lines(const char *text, unsigned long long first, tally_t *tally)
{
    memset(tally, 0, sizeof *tally);
    for (int worker = 0; worker <= MAX_WORKERS; worker++)
        tally->last[worker] = first - 1;
    const char *next = text;
    while (*next) {
        const char *end = strchr(next, '\n');
        if (!end)
            fail_msg("a line without its end: %.200s", next);
        char line[4096];
        size_t length = (size_t) (end - next);
        assert_true(length < sizeof line);
        memcpy(line, next, length);
        line[length] = '\0';
        next = end + 1;
        if (line[0] != '[')
            fail_msg("a line that does not start with a date: %.200s", line);
        const char *who = strstr(line, "][worker-");
        int worker = who ? atoi(who + 9) : 0;
        assert_true(worker >= 0 && worker <= MAX_WORKERS);
        if (worker)
            tally->lines[worker]++;
        if (strstr(line, "][DEBUG]"))
            tally->debug_lines++;
        const char *record = strstr(line, "[demo.records] record ");
        if (record) {
            unsigned long long k = strtoull(record + 22, NULL, 10);
            if (k != tally->last[worker] + 1)
                fail_msg("worker-%d: record %llu after record %llu", worker, k,
                         tally->last[worker]);
            tally->last[worker] = k;
            tally->records++;
        }
    }
}

/* The coordinator's counters, from the line it logs when it stops. */
static unsigned long long
received_from(const char *text, int worker)
{
    char key[64];
    snprintf(key, sizeof key, "worker-%d: ", worker);
    const char *counters = strstr(text, "logs: received ");
    assert_non_null(counters);
    const char *entry = strstr(counters, key);
    assert_non_null(entry);
    return strtoull(entry + strlen(key), NULL, 10);
}

static void
assert_nothing_dropped(const char *text)
{
    const char *counters = strstr(text, "logs: received ");
    assert_non_null(counters);
    assert_non_null(strstr(counters, ", dropped 0, write errors 0, lines lost 0"));
}

static void
start_ready(instance_t *instance)
{
    instance_start(instance);
    if (!instance_wait_ready(instance, START_MS))
        fail_msg("not ready:\n%s", instance_output(instance));
}

static void
stop_and_wait(instance_t *instance, int expected_status)
{
    kill(instance_pid(instance), SIGTERM);
    if (!instance_wait_exit(instance, STOP_MS))
        fail_msg("did not stop:\n%s", instance_output(instance));
    int status = instance_exit_status(instance);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), expected_status);
}

/* corral.yml: one clustered instance on an ephemeral port with `workers`
 * workers, then `logging`, the section's indented lines. */
static void
write_config(instance_t *instance, int workers, const char *logging)
{
    char *yaml = NULL;
    assert_true(asprintf(&yaml,
                         "server: { host: 127.0.0.1, port: 0, test_routes: true }\n"
                         "pid: { file: ./corral.pid }\n"
                         "node: { workers: { count: %d, " TEST_WORKER " } }\n"
                         "logging:\n%s", workers, logging) > 0);
    instance_write_config(instance, yaml);
    free(yaml);
}

/* --- Tests ------------------------------------------------------------------------ */

static void
test_four_workers_rolling_every_record_once(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0, balancing: reuseport, test_routes: true }\n"
        "pid: { file: ./corral.pid }\n"
        "node: { workers: { count: 4, " TEST_WORKER " }, shutdown_timeout: 100s }\n"
        "logging:\n"
        "  appenders:\n"
        "    file: { type: rolling-file, fileName: ./out.log,\n"
        "            policy: { type: size-limit, size: 1mb },\n"
        "            strategy: { type: numeric, pattern: '-%i', max: 100 } }\n"
        "    console: { type: console }\n"
        "  root: { appenders: [file], level: info }\n"
        "  loggers: [ { name: coordinator, appenders: [file, console] } ]\n");
    start_ready(instance);
    for (int worker = 1; worker <= 4; worker++)
        aim_log_job(instance, worker, "count=100000&chunk=500");
    /* a graceful stop while the workers log: their stop hooks log the rest */
    stop_and_wait(instance, 0);

    char *text = read_log_files(instance, "out.log", "out-", 1024 * 1024);
    tally_t tally;
    tally_lines(text, 1, &tally);
    for (int worker = 1; worker <= 4; worker++) {
        assert_int_equal(tally.last[worker], 100000);
        assert_int_equal(received_from(text, worker), tally.lines[worker]);
    }
    assert_int_equal(tally.records, 400000);
    assert_nothing_dropped(text);
    char *rolled = path_in(instance, "out-20.log");     /* 400k lines of ~70 bytes */
    assert_int_equal(access(rolled, F_OK), 0);
    free(rolled);
    free(text);
    instance_destroy(&instance);
}

static void
test_killed_worker_records_received_are_written(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0, balancing: reuseport, test_routes: true }\n"
        "pid: { file: ./corral.pid }\n"
        "node: { workers: { count: 2, " TEST_WORKER " }, shutdown_timeout: 30s,\n"
        "        restart: { policy: never } }\n"
        "logging:\n"
        "  appenders:\n"
        "    file: { type: file, fileName: ./out.log }\n"
        "    console: { type: console }\n"
        "  root: { appenders: [file], level: info }\n"
        "  loggers:\n"
        "    - { name: coordinator, level: debug, appenders: [file, console] }\n"
        "    - { name: demo.progress, appenders: [file, console] }\n");
    start_ready(instance);
    aim_log_job(instance, 2, "count=50000000&chunk=200");
    if (!instance_wait_output(instance, "worker-2 logged 100000 records", START_MS))
        fail_msg("no progress:\n%s", instance_output(instance));
    const char *started = strstr(instance_output(instance), "started worker-2 (pid ");
    assert_non_null(started);
    pid_t victim = (pid_t) atoi(started + 22);
    assert_true(victim > 0);
    kill(victim, SIGKILL);
    char *out_path = path_in(instance, "out.log");
    if (!instance_wait_exit(instance, STOP_MS))
        fail_msg("did not stop:\n%s", instance_output(instance));
    assert_true(WIFEXITED(instance_exit_status(instance)));
    assert_int_not_equal(WEXITSTATUS(instance_exit_status(instance)), 0);

    char *text = read_whole(out_path);
    tally_t tally;
    tally_lines(text, 1, &tally);
    assert_true(tally.last[2] >= 100000);
    /* every record the coordinator received from it is in the file */
    assert_int_equal(received_from(text, 2), tally.lines[2]);
    assert_non_null(strstr(text, "was killed by signal 9 (SIGKILL)"));
    free(text);
    free(out_path);
    instance_destroy(&instance);
}

static void
test_sigusr1_reopens_after_rename(void **state)
{
    instance_t *instance = instance_new();
    write_config(instance, 1,
        "  appenders:\n"
        "    file: { type: file, fileName: ./out.log }\n"
        "    console: { type: console }\n"
        "  root: { appenders: [file, console], level: info }\n");
    start_ready(instance);
    char *current = path_in(instance, "out.log");
    char *renamed = path_in(instance, "out.log.1");
    assert_int_equal(rename(current, renamed), 0);      /* as logrotate does */
    kill(instance_pid(instance), SIGUSR1);
    assert_true(instance_wait_output(instance, "SIGUSR1: log files reopened", START_MS));
    aim_log_job(instance, 1, "count=10");
    assert_true(instance_wait_output(instance, "record 10", START_MS));
    stop_and_wait(instance, 0);

    char *old_text = read_whole(renamed);
    char *new_text = read_whole(current);
    assert_non_null(old_text);
    assert_non_null(new_text);
    assert_non_null(strstr(old_text, "ready: 1 workers"));
    assert_null(strstr(old_text, "record 1"));
    assert_non_null(strstr(new_text, "SIGUSR1: log files reopened"));
    assert_non_null(strstr(new_text, "[worker-1][demo.records] record 10\n"));
    free(old_text);
    free(new_text);
    free(current);
    free(renamed);
    instance_destroy(&instance);
}

static void
test_levels_filter_in_the_worker(void **state)
{
    instance_t *instance = instance_new();
    write_config(instance, 1,
        "  appenders:\n"
        "    file: { type: file, fileName: ./out.log, layout: { type: pattern } }\n"
        "  root: { appenders: [file], level: info }\n"
        "  loggers: [ { name: demo.progress, level: warn } ]\n");
    start_ready(instance);
    aim_log_job(instance, 1, "count=100000&level=debug");
    aim_log_job(instance, 1, "count=5&level=info");   /* after the debug ones */
    stop_and_wait(instance, 0);

    char *path = path_in(instance, "out.log");
    char *text = read_whole(path);
    tally_t tally;
    tally_lines(text, 100001, &tally);
    /* records 1..100000 were debug: never sent; 100001..100005 were */
    assert_null(strstr(text, "record 100000\n"));
    assert_int_equal(tally.last[1], 100005);
    assert_int_equal(tally.debug_lines, 0);
    /* the coordinator received exactly the lines it wrote for worker-1 */
    assert_int_equal(received_from(text, 1), tally.lines[1]);
    assert_true(tally.lines[1] < 100);
    assert_null(strstr(text, "[demo.progress]"));   /* info, below its warn */
    free(text);
    free(path);
    instance_destroy(&instance);
}

static void
test_sighup_applies_new_levels(void **state)
{
    instance_t *instance = instance_new();
    write_config(instance, 2, "  root: { level: info }\n");
    start_ready(instance);
    instance_write_config(instance, "logging: { root: { level: nonsense } }\n");
    kill(instance_pid(instance), SIGHUP);
    assert_true(instance_wait_output(instance, "configuration error, nothing changed", START_MS));
    write_config(instance, 2,
        "  root: { level: info }\n"
        "  loggers: [ { name: demo.records, level: debug },\n"
        "             { name: http.server.response, level: debug } ]\n");
    kill(instance_pid(instance), SIGHUP);
    assert_true(instance_wait_output(instance, "reload: logging configuration applied", START_MS));
    /* the workers apply the levels when their desk message comes: retry
     * the job until a debug record shows, without sleeping */
    bool seen = false;
    for (int i = 0; i < 200 && !seen; i++) {
        aim_log_job(instance, 1 + i % 2, "count=1&level=debug");
        seen = instance_wait_output(instance, "[DEBUG][worker-", 100);
    }
    assert_true(seen);
    /* the access log: one line per request on http.server.response */
    response_t response;
    assert_true(http_get(instance_port(instance), "/api/hello", &response));
    response_clear(&response);
    assert_true(instance_wait_output(instance, "[http.server.response] 127.0.0.1 - - "
                                     "\"GET /api/hello HTTP/1.1\" 200 ", START_MS));
    stop_and_wait(instance, 0);
    instance_destroy(&instance);
}

static void
test_classic_mode_runs_its_own_appenders(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0, test_routes: true }\n"
        "pid: { file: ./corral.pid }\n"
        "node: { enabled: false, workers: { " TEST_WORKER " } }\n"
        "logging:\n"
        "  appenders:\n"
        "    json: { type: file, fileName: ./out.json, layout: { type: json } }\n"
        "    console: { type: console }\n"
        "  root: { appenders: [json, console], level: info }\n");
    start_ready(instance);
    aim_log_job(instance, 1, "count=3");
    assert_true(instance_wait_output(instance, "[demo.records] record 3", START_MS));
    /* the classic default pattern has no %worker */
    assert_null(strstr(instance_output(instance), "[worker-1]"));
    /* SIGUSR1 to the worker (corral exec'd into it): the file is reopened */
    char *path = path_in(instance, "out.json");
    char *renamed = path_in(instance, "out.json.1");
    assert_int_equal(rename(path, renamed), 0);
    kill(instance_pid(instance), SIGUSR1);
    assert_true(instance_wait_output(instance, "SIGUSR1: log files reopened", START_MS));
    aim_log_job(instance, 1, "count=1");        /* record 4, in the new file */
    assert_true(instance_wait_output(instance, "[demo.records] record 4", START_MS));
    stop_and_wait(instance, 0);
    char *old_text = read_whole(renamed);
    assert_non_null(strstr(old_text, "\"record 3\""));
    assert_null(strstr(old_text, "\"record 4\""));
    free(old_text);
    free(renamed);
    char *text = read_whole(path);
    assert_null(strstr(text, "\"record 3\""));
    const char *line = strstr(text, "\"record 4\"");
    assert_non_null(line);
    while (line > text && line[-1] != '\n')
        line--;
    json_error_t error;
    json_t *record = json_loadb(line, strcspn(line, "\n"), 0, &error);
    assert_non_null(record);
    assert_string_equal(json_string_value(json_object_get(record, "message")), "record 4");
    assert_string_equal(json_string_value(json_object_get(json_object_get(record, "log"),
                                                          "logger")), "demo.records");
    json_decref(record);
    free(text);
    free(path);
    instance_destroy(&instance);
}

static void
test_unwritable_log_file_is_a_config_error(void **state)
{
    instance_t *instance = instance_new();
    char *blocker = path_in(instance, "notadir");
    FILE *file = fopen(blocker, "w");
    assert_non_null(file);
    fclose(file);
    write_config(instance, 2,
        "  appenders:\n"
        "    main: { type: file, fileName: ./notadir/corral.log }\n"
        "  root: { appenders: [main] }\n");
    char *config = path_in(instance, "corral.yml");
    char *output = NULL;
    int status = run_corral(&output, "-c", config, NULL);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 78);
    /* the key's line and column, the appender and the key */
    assert_non_null(strstr(output, "corral.yml:6:35: logging.appenders.main.fileName: "
                                   "cannot open "));
    assert_non_null(strstr(output, "/notadir/corral.log: Not a directory"));
    assert_null(strstr(output, "starting"));
    free(output);
    free(config);
    free(blocker);
    instance_destroy(&instance);
}

/* /api/stats `logs` as any worker answers it, parsed with jansson. */
static void
stats_logs(const instance_t *instance, json_int_t *received, json_int_t *dropped)
{
    response_t response;
    assert_true(http_get(instance_port(instance), "/api/stats", &response));
    assert_int_equal(response.status, 200);
    json_t *logs = json_object_get(response.json, "logs");
    assert_true(json_is_integer(json_object_get(logs, "received")));
    assert_true(json_is_integer(json_object_get(logs, "dropped")));
    *received = json_integer_value(json_object_get(logs, "received"));
    *dropped = json_integer_value(json_object_get(logs, "dropped"));
    response_clear(&response);
}

static void
test_disk_full_is_counted_and_workers_keep_serving(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0, test_routes: true }\n"
        "pid: { file: ./corral.pid }\n"
        "node: { workers: { count: 2, " TEST_WORKER " }, status: { interval: 50ms } }\n"
        "logging:\n"
        "  appenders:\n"
        "    full: { type: file, fileName: /dev/full }\n"
        "    console: { type: console }\n"
        "  root: { appenders: [full], level: info }\n"
        "  loggers: [ { name: coordinator, appenders: [full, console] } ]\n");
    start_ready(instance);
    assert_true(instance_wait_output(instance, "appender full: cannot write to /dev/full: "
                                               "No space left on device", START_MS));
    aim_log_job(instance, 1, "count=1000");
    for (int i = 0; i < 20; i++) {
        response_t response;
        assert_true(http_get(instance_port(instance), "/api/hello", &response));
        assert_int_equal(response.status, 200);
        response_clear(&response);
    }
    /* reported in /api/stats: the 1000 records reached the coordinator,
     * and the lines they became were lost to the full disk (the figures
     * arrive with the next status reports: poll, bounded) */
    json_int_t received = 0, dropped = 0;
    for (int i = 0; i < 2000 && (received < 1000 || dropped < 1000); i++)
        stats_logs(instance, &received, &dropped);
    assert_true(received >= 1000);
    assert_true(dropped >= 1000);
    stop_and_wait(instance, 0);
    const char *output = instance_output(instance);
    /* warned once, counted every time */
    const char *warning = strstr(output, "appender full: cannot write");
    assert_null(strstr(warning + 1, "appender full: cannot write"));
    const char *counters = strstr(output, "logs: received ");
    assert_non_null(counters);
    const char *errors = strstr(counters, "write errors ");
    assert_non_null(errors);
    assert_true(strtoull(errors + 13, NULL, 10) > 0);
    instance_destroy(&instance);
}

/* Sends `length` bytes as one frame (more: a second part follows). */
static void
push_frame(void *socket, const void *bytes, size_t length, bool more)
{
    assert_int_equal(zmq_send(socket, bytes, length, more ? ZMQ_SNDMORE : 0), (int) length);
}

static void
test_malformed_frames_on_logs_are_counted(void **state)
{
    instance_t *instance = instance_new();
    write_config(instance, 1, "  root: { level: debug }\n");
    start_ready(instance);
    /* logs is beside desk in the runtime directory */
    char *desk = instance_desk_endpoint(instance);
    assert_non_null(desk);
    char endpoint[256];
    snprintf(endpoint, sizeof endpoint, "%.*s/logs", (int) (strlen(desk) - strlen("/desk")),
             desk);
    free(desk);

    void *context = zmq_ctx_new();
    void *push = zmq_socket(context, ZMQ_PUSH);
    assert_int_equal(zmq_connect(push, endpoint), 0);
    static const unsigned char garbage[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
    /* protocol 1, log_batch { worker_id 99 }: no such worker */
    static const unsigned char stranger[] = { 0x08, 0x01, 0xf2, 0x01, 0x02, 0x08, 0x63 };
    /* protocol 1, ready { worker_id 1 }: not for logs */
    static const unsigned char ready[] = { 0x08, 0x01, 0x62, 0x02, 0x08, 0x01 };
    push_frame(push, garbage, sizeof garbage, false);
    push_frame(push, stranger, sizeof stranger, false);
    push_frame(push, ready, sizeof ready, false);
    push_frame(push, ready, sizeof ready, true);                /* two parts */
    push_frame(push, garbage, sizeof garbage, false);
    int linger = 5000;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(push);
    zmq_ctx_term(context);      /* returns once the frames are sent */
    assert_true(instance_wait_output(instance, "logs: dropped a frame that is not an Envelope",
                                     START_MS));
    aim_log_job(instance, 1, "count=3");
    assert_true(instance_wait_output(instance, "[demo.records] record 3", START_MS));
    stop_and_wait(instance, 0);
    const char *counters = strstr(instance_output(instance), "logs: received ");
    assert_non_null(counters);
    assert_non_null(strstr(counters, "malformed 4, "));
    /* logged once, not once per frame */
    const char *first = strstr(instance_output(instance), "logs: dropped");
    assert_null(strstr(first + 1, "logs: dropped"));
    instance_destroy(&instance);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unwritable_log_file_is_a_config_error),
        cmocka_unit_test(test_disk_full_is_counted_and_workers_keep_serving),
        cmocka_unit_test(test_malformed_frames_on_logs_are_counted),
        cmocka_unit_test(test_levels_filter_in_the_worker),
        cmocka_unit_test(test_sigusr1_reopens_after_rename),
        cmocka_unit_test(test_sighup_applies_new_levels),
        cmocka_unit_test(test_classic_mode_runs_its_own_appenders),
        cmocka_unit_test(test_killed_worker_records_received_are_written),
        cmocka_unit_test(test_four_workers_rolling_every_record_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
