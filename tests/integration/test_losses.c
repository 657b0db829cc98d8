/* test_losses.c: every log line lost is counted once, in one place that
 * reloads do not reset (issue 23): an appender on a full disk across a
 * logging reload, a tap subscriber that never reads, a frame too large
 * for `logs`. The counts are read where an operator reads them:
 * /api/stats, /api/metrics and the stop line. */
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include <cmocka.h>

#include "harness.h"

#define START_MS 30000
#define WAIT_MS 60000

#define FULL_APPENDER "logs.coordinator.appenders.full."

/* An instance of one worker whose log lines go to /dev/full (every write
 * fails with ENOSPC); the coordinator's also go to its standard output,
 * for the test to follow. `root_level` is what a reload changes. */
static void
write_disk_full_config(instance_t *instance, const char *root_level)
{
    char logging[512];
    snprintf(logging, sizeof logging,
             "  appenders:\n"
             "    full: { type: file, fileName: /dev/full }\n"
             "    out: { type: console }\n"
             "  root: { appenders: [full], level: %s }\n"
             "  loggers: [ { name: coordinator, appenders: [full, out], level: info } ]\n",
             root_level);
    instance_write_quick_config(instance, logging);
}

typedef struct {
    long long dropped, write_errors, lost_writing;
} losses_t;

static losses_t
read_losses(const instance_t *instance)
{
    return (losses_t) {
        .dropped = stats_integer(instance, "logs.coordinator.dropped"),
        .write_errors = stats_integer(instance, FULL_APPENDER "write_errors"),
        .lost_writing = stats_integer(instance, FULL_APPENDER "lost_writing"),
    };
}

static void
assert_not_below(const losses_t *now, const losses_t *before, const char *when)
{
    if (now->dropped < before->dropped || now->write_errors < before->write_errors
        || now->lost_writing < before->lost_writing)
        fail_msg("%s: a loss counter went down: dropped %lld -> %lld, write errors %lld -> "
                 "%lld, lost writing %lld -> %lld", when, before->dropped, now->dropped,
                 before->write_errors, now->write_errors, before->lost_writing,
                 now->lost_writing);
}

/* A logging reload (SIGHUP with a changed `logging`) while every write
 * fails: no loss counter goes down, in /api/stats or in the stop line. */
static void
test_a_logging_reload_keeps_the_loss_counts(void **state)
{
    instance_t *instance = instance_new();
    write_disk_full_config(instance, "info");
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_MS));
    assert_true(instance_aim_log_job(instance, 1, "count=3000&chunk=1000"));
    assert_true(await_stats_integer(instance, FULL_APPENDER "lost_writing", 3000, WAIT_MS)
                >= 3000);
    losses_t before = read_losses(instance);
    assert_true(before.write_errors >= 1);
    assert_true(before.dropped >= before.lost_writing);

    write_disk_full_config(instance, "debug");
    kill(instance_pid(instance), SIGHUP);
    assert_true(instance_wait_output(instance, "reload: logging configuration applied",
                                     WAIT_MS));
    losses_t after = read_losses(instance);
    assert_not_below(&after, &before, "right after the reload");

    assert_true(instance_aim_log_job(instance, 1, "count=2000&chunk=1000"));
    assert_true(await_stats_integer(instance, FULL_APPENDER "lost_writing",
                                    before.lost_writing + 2000, WAIT_MS)
                >= before.lost_writing + 2000);
    losses_t later = read_losses(instance);
    assert_not_below(&later, &after, "after more lines");

    /* /api/metrics says the same */
    response_t metrics;
    assert_true(http_get(instance_port(instance), "/api/metrics", &metrics));
    assert_non_null(strstr(metrics.body, "corral_log_appender_lines_lost_total{appender=\"full\","
                                         "reason=\"writing\"}"));
    response_clear(&metrics);

    kill(instance_pid(instance), SIGTERM);
    assert_true(instance_wait_exit(instance, WAIT_MS));
    char *output = instance_output_copy(instance);
    const char *stop_line = strstr(output, "lines lost ");
    assert_non_null(stop_line);
    long long lost = strtoll(stop_line + strlen("lines lost "), NULL, 10);
    if (lost < later.lost_writing)
        fail_msg("the stop line says %lld lines lost, /api/stats said %lld", lost,
                 later.lost_writing);
    assert_non_null(strstr(output, "(appenders: full: "));
    free(output);
    instance_destroy(&instance);
}

/* ipc://<dir>/corral/<uuid>/NAME */
static char *
coordinator_endpoint(const instance_t *instance, const char *name)
{
    char *desk = instance_desk_endpoint(instance);
    assert_non_null(desk);
    char *slash = strrchr(desk, '/');
    char *endpoint = NULL;
    assert_true(asprintf(&endpoint, "%.*s/%s", (int) (slash - desk), desk, name) > 0);
    free(desk);
    return endpoint;
}

/* Reads what the subscriber has now, until it stays quiet for quiet_ms. */
static long long
drain(void *subscriber, int quiet_ms)
{
    long long messages = 0;
    zmq_pollitem_t item = { subscriber, 0, ZMQ_POLLIN, 0 };
    while (zmq_poll(&item, 1, quiet_ms) > 0) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        while (zmq_msg_recv(&part, subscriber, ZMQ_DONTWAIT) >= 0)
            if (!zmq_msg_more(&part))
                messages++;
        zmq_msg_close(&part);
    }
    return messages;
}

/* A tap subscriber that does not read while 200,000 lines are published:
 * its queue fills, and every line it does not get is counted
 * (tap.lines_dropped): what it finally reads and what was counted
 * dropped add up to what was published. */
static void
test_a_tap_subscriber_that_never_reads_is_counted(void **state)
{
    instance_t *instance = instance_new();
    instance_write_quick_config(instance,
                          "  appenders: { null: { type: file, fileName: /dev/null },\n"
                          "               out: { type: console } }\n"
                          "  root: { appenders: [null], level: info }\n"
                          "  loggers: [ { name: coordinator, appenders: [out] } ]\n");
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_MS));
    void *context = zmq_ctx_new();
    void *subscriber = zmq_socket(context, ZMQ_SUB);
    int hwm = 1000;
    zmq_setsockopt(subscriber, ZMQ_RCVHWM, &hwm, sizeof hwm);
    char *tap = coordinator_endpoint(instance, "tap");
    assert_int_equal(zmq_connect(subscriber, tap), 0);
    assert_int_equal(zmq_setsockopt(subscriber, ZMQ_SUBSCRIBE, "log/", 4), 0);
    assert_true(await_stats_integer(instance, "tap.subscriptions", 1, WAIT_MS) >= 1);

    assert_true(instance_aim_log_job(instance, 1, "count=200000&chunk=20000"));
    /* every record reached the coordinator, or was counted dropped by
     * the worker */
    long long lines = await_stats_integer(instance, "logs.received", 200000, WAIT_MS);
    long long dropped = stats_integer(instance, "tap.lines_dropped");
    if (lines < 200000 || dropped <= 0)
        fail_msg("logs.received %lld, logs.dropped %lld, tap.lines %lld, tap.lines_dropped "
                 "%lld", lines, stats_integer(instance, "logs.dropped"),
                 stats_integer(instance, "tap.lines"), dropped);

    /* now it reads: what it gets plus what was counted is what was sent */
    long long received = 0;
    int64_t deadline = harness_now_ms() + WAIT_MS;
    do {
        received += drain(subscriber, 300);
        lines = stats_integer(instance, "tap.lines");
        dropped = stats_integer(instance, "tap.lines_dropped");
    } while (received + dropped != lines && harness_now_ms() < deadline);
    if (received + dropped != lines)
        fail_msg("published %lld lines; the subscriber got %lld, %lld counted dropped",
                 lines, received, dropped);
    print_message("tap: %lld lines published, %lld read, %lld counted as dropped\n", lines,
                  received, dropped);

    response_t metrics;
    assert_true(http_get(instance_port(instance), "/api/metrics", &metrics));
    assert_non_null(strstr(metrics.body, "corral_tap_lines_dropped_total{"));
    response_clear(&metrics);
    zmq_close(subscriber);
    zmq_ctx_term(context);
    free(tap);
    /* and the stop line says the same */
    char expected[128];
    snprintf(expected, sizeof expected, "lines published, %lld not sent", dropped);
    kill(instance_pid(instance), SIGTERM);
    assert_true(instance_wait_exit(instance, WAIT_MS));
    assert_true(instance_wait_output(instance, expected, WAIT_MS));
    instance_destroy(&instance);
}

/* A 5 MiB frame on `logs` and on `desk` (over the 4 MiB limit) is dropped
 * and counted, and the instance keeps serving. */
static void
test_an_oversized_frame_is_counted(void **state)
{
    instance_t *instance = instance_new();
    instance_write_quick_config(instance, NULL);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_MS));
    void *context = zmq_ctx_new();
    void *pusher = zmq_socket(context, ZMQ_PUSH);
    char *logs = coordinator_endpoint(instance, "logs");
    assert_int_equal(zmq_connect(pusher, logs), 0);
    size_t size = 5u << 20;
    char *frame = calloc(1, size);
    assert_int_equal(zmq_send(pusher, frame, size, 0), (int) size);
    assert_true(await_stats_integer(instance, "input.logs.oversized", 1, WAIT_MS) == 1);
    /* and on desk, from a DEALER as a tool connects */
    void *dealer = zmq_socket(context, ZMQ_DEALER);
    char *desk = coordinator_endpoint(instance, "desk");
    assert_int_equal(zmq_connect(dealer, desk), 0);
    long long desk_dropped = stats_integer(instance, "input.desk.dropped");
    assert_int_equal(zmq_send(dealer, frame, size, 0), (int) size);
    assert_true(await_stats_integer(instance, "input.desk.dropped", desk_dropped + 1, WAIT_MS)
                == desk_dropped + 1);
    assert_true(instance_wait_output(instance, "desk: dropped a frame larger than the limit",
                                     WAIT_MS));
    int no_linger = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &no_linger, sizeof no_linger);
    zmq_close(dealer);
    free(desk);
    response_t response;
    assert_true(http_get(instance_port(instance), "/api/hello", &response));
    assert_int_equal(response.status, 200);
    response_clear(&response);
    int linger = 0;
    zmq_setsockopt(pusher, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(pusher);
    zmq_ctx_term(context);
    free(frame);
    free(logs);
    assert_true(instance_stop(&instance));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_logging_reload_keeps_the_loss_counts),
        cmocka_unit_test(test_a_tap_subscriber_that_never_reads_is_counted),
        cmocka_unit_test(test_an_oversized_frame_is_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
