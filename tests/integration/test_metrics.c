/* test_metrics.c: GET /api/metrics on a real instance: it passes
 * `promtool check metrics` (Debian's prometheus package) and every value
 * agrees with /api/stats read from the same cluster view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <czmq.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "tools_harness.h"

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
        if (strcmp(name, "coordinator") != 0) {     /* supervision: the same record */
            json_t *restarts = json_object_get(process, "restarts");
            assert_true(json_is_integer(restarts));
            assert_true(metric(text, "corral_worker_restarts_total", labels)
                        == (double) json_integer_value(restarts));
            assert_true(metric(text, "corral_worker_generation", labels)
                        == (double) json_integer_value(json_object_get(process, "generation")));
        }
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
