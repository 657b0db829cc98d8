/* test_trust.c: the broker trusts only its own workers (issue 15). A
 * process of the same user that knows a worker's id and pid (both public
 * in /api/stats) cannot take the worker's slot with a Hello, cannot write
 * records on `logs` in its name, and cannot move the log counters; what
 * it sent is counted in /api/stats and logged once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <czmq.h>
#include <jansson.h>

#include "envelope.h"
#include "harness.h"

#define START_MS 30000
#define AWAIT_MS 20000

static instance_t *instance;

static int
start_instance(void **state)
{
    instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0 }\n"
        "path: { data: ./data }\n"
        "pid: { file: ./corral.pid }\n"
        "node:\n"
        "  workers: { count: 2 }\n"
        "  status: { interval: 100ms }\n"
        "  shutdown_timeout: 10s\n"
        "logging: { root: { level: debug } }\n");
    instance_start(instance);
    return instance_wait_ready(instance, START_MS) ? 0 : -1;
}

static int
stop_instance(void **state)
{
    return instance_stop(&instance) ? 0 : -1;
}

static json_int_t
await_stats(const char *dotted, json_int_t at_least)
{
    return await_stats_integer(instance, dotted, at_least, AWAIT_MS);
}

static int
count_lines_with(const char *text)
{
    char *output = instance_output_copy(instance);
    int count = 0;
    for (const char *at = output; (at = strstr(at, text)); at += strlen(text))
        count++;
    free(output);
    return count;
}

static zsock_t *
connect_desk(void)
{
    char *endpoint = instance_desk_endpoint(instance);
    assert_non_null(endpoint);
    zsys_handler_set(NULL);
    zsock_t *desk = zsock_new_dealer(endpoint);
    assert_non_null(desk);
    zsock_set_sndtimeo(desk, 5000);
    free(endpoint);
    return desk;
}

static void
send_hello(zsock_t *desk, uint32_t worker_id, pid_t pid, const char *secret)
{
    Corral__V1__Hello hello = CORRAL__V1__HELLO__INIT;
    hello.worker_id = worker_id;
    hello.pid = (uint32_t) pid;
    if (secret)
        hello.secret = (ProtobufCBinaryData) { strlen(secret), (uint8_t *) secret };
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_HELLO;
    envelope.hello = &hello;
    assert_int_equal(corral_envelope_send(desk, NULL, &envelope, 0), 0);
}

/* The pid /api/status shows for worker-ID (what anyone can read). */
static pid_t
public_pid(int id)
{
    char name[32];
    snprintf(name, sizeof name, "workers.worker-%d.pid", id);
    return (pid_t) stats_integer(instance, name);
}

/* worker-1 kept its slot (the same pid) and serves. */
static void
assert_worker_1_serves(pid_t pid)
{
    assert_int_equal(public_pid(1), pid);
    response_t response;
    assert_true(http_request_to(instance_port(instance), "GET", "/api/stats", "worker-1",
                                &response));
    assert_int_equal(response.status, 200);
    response_clear(&response);
}

static void
test_hello_without_the_secret_is_refused(void **state)
{
    pid_t pid = public_pid(1);
    assert_true(pid > 0);
    zsock_t *desk = connect_desk();
    send_hello(desk, 1, pid, NULL);
    send_hello(desk, 1, pid, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    send_hello(desk, 1, pid, "short");
    assert_int_equal(await_stats("input.desk.hello_refused", 3), 3);
    /* no Welcome (the worker's whole configuration) came back, only
     * refusals (a tool learns why); a Welcome is sent within milliseconds
     * when a Hello is taken */
    zpoller_t *poller = zpoller_new(desk, NULL);
    while (zpoller_wait(poller, 500)) {
        zmsg_t *reply = zmsg_recv(desk);
        zframe_t *body = zmsg_last(reply);
        corral_envelope_t *envelope = body ? corral_envelope_decode(body) : NULL;
        assert_non_null(envelope);
        assert_int_not_equal(envelope->body_case, CORRAL__V1__ENVELOPE__BODY_WELCOME);
        corral_envelope_free(&envelope);
        zmsg_destroy(&reply);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&desk);
    assert_true(instance_wait_output(instance, "without the worker's secret (refused)", AWAIT_MS));
    assert_int_equal(count_lines_with("without the worker's secret (refused)"), 1);

    /* the real worker kept its slot: its reports are still taken (a slot
     * handed to the forger would drop them and the worker would fall
     * silent) and it still serves */
    zclock_sleep(1000);     /* ten status intervals: time for silence to show */
    int64_t deadline = zclock_mono() + AWAIT_MS;
    json_int_t age;
    while (((age = stats_integer(instance, "workers.worker-1.last_report_ms_ago")) < 0
            || age > 300) && zclock_mono() < deadline)
        zclock_sleep(20);
    assert_true(age >= 0 && age <= 300);
    assert_worker_1_serves(pid);
}

/* A Hello of another protocol version without the secret, in the real
 * worker-1's name, from any process of the same user (issue 20): refused
 * as any forged Hello is, before its version is looked at: no
 * ProtocolError (which only a worker that proved itself gets), counted,
 * logged at most once in 10 s, and the real worker is never named as its
 * sender. */
static void
test_foreign_hello_without_the_secret_is_a_forged_hello(void **state)
{
    enum { HELLOS = 21 };
    pid_t pid = public_pid(1);
    assert_true(pid > 0);
    json_int_t refused = await_stats("input.desk.hello_refused", 0);
    int lines = count_lines_with("Hellos refused so far");
    zsock_t *desk = connect_desk();
    int64_t began = zclock_mono();
    for (int i = 0; i < HELLOS; i++) {
        Corral__V1__Hello hello = CORRAL__V1__HELLO__INIT;
        hello.worker_id = 1;
        hello.pid = (uint32_t) pid;
        corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
        envelope.body_case = CORRAL__V1__ENVELOPE__BODY_HELLO;
        envelope.hello = &hello;
        envelope.protocol = CORRAL_PROTOCOL_VERSION + 1;
        zframe_t *frame = zframe_new(NULL, corral__v1__envelope__get_packed_size(&envelope));
        corral__v1__envelope__pack(&envelope, zframe_data(frame));
        zmsg_t *message = zmsg_new();
        zmsg_addmem(message, NULL, 0);
        zmsg_append(message, &frame);
        assert_int_equal(zmsg_send(&message, desk), 0);
    }
    assert_int_equal(await_stats("input.desk.hello_refused", refused + HELLOS), refused + HELLOS);
    int64_t took = zclock_mono() - began;
    /* each got the refusal any stranger gets, never a ProtocolError */
    zpoller_t *poller = zpoller_new(desk, NULL);
    int replies = 0;
    while (replies < HELLOS && zpoller_wait(poller, 2000)) {
        zmsg_t *reply = zmsg_recv(desk);
        zframe_t *body = zmsg_last(reply);
        corral_envelope_t *envelope = body ? corral_envelope_decode(body) : NULL;
        assert_non_null(envelope);
        assert_int_equal(envelope->body_case, CORRAL__V1__ENVELOPE__BODY_TOOL_REPLY);
        assert_false(envelope->tool_reply->ok);
        corral_envelope_free(&envelope);
        zmsg_destroy(&reply);
        replies++;
    }
    assert_int_equal(replies, HELLOS);
    zpoller_destroy(&poller);
    zsock_destroy(&desk);
    /* at most one line for the whole burst (it took far less than 10 s) */
    assert_true(took < 10000);
    assert_true(count_lines_with("Hellos refused so far") - lines <= 1);
    /* and nothing blames the real worker */
    char blamed[64];
    snprintf(blamed, sizeof blamed, "worker-1 (pid %d) refused", (int) pid);
    assert_int_equal(count_lines_with(blamed), 0);
    assert_int_equal(count_lines_with("this worker speaks corral protocol version"), 0);
    /* the real worker kept its slot and serves */
    assert_worker_1_serves(pid);
}

/* ipc://<runtime dir>/logs, beside desk. */
static char *
logs_endpoint(void)
{
    char *desk = instance_desk_endpoint(instance);
    assert_non_null(desk);
    char *slash = strrchr(desk, '/');
    char *endpoint = NULL;
    assert_true(asprintf(&endpoint, "%.*s/logs", (int) (slash - desk), desk) > 0);
    free(desk);
    return endpoint;
}

static void
push_log_batch(zsock_t *push, uint32_t worker_id, uint64_t seq, uint64_t dropped,
               const char *secret)
{
    Corral__V1__LogRecord record = CORRAL__V1__LOG_RECORD__INIT;
    record.level = 4;
    record.logger = "forger";
    record.message = "forged record";
    record.seq = seq;
    Corral__V1__LogRecord *records[] = { &record };
    Corral__V1__LogBatch batch = CORRAL__V1__LOG_BATCH__INIT;
    batch.worker_id = worker_id;
    batch.n_records = 1;
    batch.records = records;
    batch.dropped = dropped;
    if (secret)
        batch.secret = (ProtobufCBinaryData) { strlen(secret), (uint8_t *) secret };
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_LOG_BATCH;
    envelope.log_batch = &batch;
    envelope.protocol = CORRAL_PROTOCOL_VERSION;
    size_t size = corral__v1__envelope__get_packed_size(&envelope);
    uint8_t *bytes = malloc(size);
    corral__v1__envelope__pack(&envelope, bytes);
    assert_int_equal(zmq_send(zsock_resolve(push), bytes, size, 0), (int) size);
    free(bytes);
}

static void
test_forged_log_records_are_refused_and_counted(void **state)
{
    json_int_t dropped = await_stats("logs.dropped", 0);
    assert_true(dropped >= 0);
    char *endpoint = logs_endpoint();
    zsock_t *push = zsock_new_push(endpoint);
    assert_non_null(push);
    zsock_set_sndtimeo(push, 5000);
    push_log_batch(push, 1, 1000000, 0, NULL);                  /* a jump of a million */
    push_log_batch(push, 2, UINT64_MAX - 2, UINT64_MAX - 2, "x");   /* would wrap */
    push_log_batch(push, 1, 5, 0,
                   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    assert_int_equal(await_stats("input.logs.forged", 3), 3);
    zsock_destroy(&push);
    free(endpoint);
    /* nothing of it was written, and no loss was counted */
    assert_int_equal(count_lines_with("forged record"), 0);
    assert_int_equal(stats_integer(instance, "logs.dropped"), dropped);
    assert_true(instance_wait_output(instance,
                                     "logs: dropped a LogBatch without its worker's secret",
                                     AWAIT_MS));
    assert_int_equal(count_lines_with("logs: dropped a LogBatch without its worker's secret"), 1);
    /* the workers' own records still arrive */
    assert_true(stats_integer(instance, "logs.received") >= 0);
}

static void
test_the_secret_is_not_in_argv_or_the_environment(void **state)
{
    pid_t pids[WORKERS_MAX];
    int count = instance_workers(instance, pids, WORKERS_MAX);
    assert_true(count >= 1);
    for (int i = 0; i < count; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/environ", (int) pids[i]);
        FILE *file = fopen(path, "r");
        assert_non_null(file);
        char text[65536];
        size_t length = fread(text, 1, sizeof text - 1, file);
        fclose(file);
        bool names_fd = false;
        for (size_t at = 0; at < length; at += strlen(text + at) + 1) {
            text[length] = '\0';
            assert_null(strstr(text + at, "SECRET="));
            names_fd |= strcmp(text + at, "CORRAL_SECRET_FD=4") == 0;
        }
        assert_true(names_fd);
        /* the worker read the pipe and closed it */
        snprintf(path, sizeof path, "/proc/%d/fd/4", (int) pids[i]);
        char target[256] = "";
        ssize_t n = readlink(path, target, sizeof target - 1);
        assert_true(n < 0 || strncmp(target, "pipe:", 5) != 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_secret_is_not_in_argv_or_the_environment),
        cmocka_unit_test(test_hello_without_the_secret_is_refused),
        cmocka_unit_test(test_foreign_hello_without_the_secret_is_a_forged_hello),
        cmocka_unit_test(test_forged_log_records_are_refused_and_counted),
    };
    return cmocka_run_group_tests(tests, start_instance, stop_instance);
}
