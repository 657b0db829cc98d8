/* test_access_log.c: the access log (libcorral/http/access_log.c) on a
 * request with a query, a user agent (holding quotes) and a referrer:
 * the pattern layout's line in nginx's combined format (client address,
 * the request line with its query as sent, status, bytes, referrer, user
 * agent, duration), and the json layout's ECS fields for the same
 * request, both from one instance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define DEADLINE_MS 20000
#define REQUEST "GET /api/hello?name=a%20b&x=1 HTTP/1.1\r\n" \
                "Host: localhost\r\n" \
                "User-Agent: probe/1.0 \"quoted\"\r\n" \
                "Referer: http://example.test/from\r\n" \
                "Connection: close\r\n\r\n"

/* The json file's line for the request to /api/hello whose url.query
 * begins with `query`: parsed. */
static json_t *
json_record(const char *path, const char *query)
{
    json_t *found = NULL;
    for (int tries = 0; tries < 200 && !found; tries++) {
        char *text = read_text_file(path);
        for (char *line = text ? strtok(text, "\n") : NULL; line && !found;
             line = strtok(NULL, "\n"))
            if (strstr(line, "/api/hello")) {
                json_t *record = json_loads(line, 0, NULL);
                const char *its = json_string_value(json_object_get(json_object_get(record,
                                                                                   "url"), "query"));
                if (its && strncmp(its, query, strlen(query)) == 0)
                    found = record;
                else
                    json_decref(record);
            }
        free(text);
        if (!found)
            usleep(50 * 1000);      /* polling a file the coordinator writes */
    }
    return found;
}

static void
test_access_log_fields(void **state)
{
    instance_t *instance = instance_new();
    instance_write_config(instance,
        "server: { host: 127.0.0.1, port: 0 }\n"
        "pid: { file: ./corral.pid }\n"
        "node: { workers: { count: 1 }, shutdown_timeout: 10s }\n"
        "logging:\n"
        "  appenders:\n"
        "    console: { type: console }\n"
        "    json: { type: file, fileName: ./access.json, layout: { type: json } }\n"
        "  root: { appenders: [console], level: info }\n"
        "  loggers:\n"
        "    - { name: http.server.response, level: debug, appenders: [console, json] }\n");
    instance_start(instance);
    assert_true(instance_wait_ready(instance, DEADLINE_MS));
    char reply[4096];
    assert_true(raw_exchange(instance_port(instance), REQUEST, reply, sizeof reply) > 0);
    assert_non_null(strstr(reply, "200 OK"));
    const char *body = strstr(reply, "\r\n\r\n");
    assert_non_null(body);
    size_t bytes = strlen(body + 4);

    /* the pattern layout: nginx's combined line, the time in the layout */
    char expected[512];
    snprintf(expected, sizeof expected,
             "[http.server.response] 127.0.0.1 - - \"GET /api/hello?name=a%%20b&x=1 HTTP/1.1\" "
             "200 %zu \"http://example.test/from\" \"probe/1.0 \\x22quoted\\x22\" 0.", bytes);
    if (!instance_wait_output(instance, expected, DEADLINE_MS))
        fail_msg("no line with %s in:\n%s", expected, instance_output(instance));

    /* the json layout: the same request as ECS fields */
    char path[600];
    snprintf(path, sizeof path, "%s/access.json", instance_dir(instance));
    json_t *record = json_record(path, "name=a%20b");
    assert_non_null(record);
    json_t *http = json_object_get(record, "http");
    json_t *url = json_object_get(record, "url");
    assert_string_equal(json_string_value(json_object_get(json_object_get(record, "client"),
                                                          "ip")), "127.0.0.1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(http, "request"),
                                                          "method")), "GET");
    assert_string_equal(json_string_value(json_object_get(http, "version")), "1.1");
    assert_string_equal(json_string_value(json_object_get(url, "path")), "/api/hello");
    assert_string_equal(json_string_value(json_object_get(url, "query")), "name=a%20b&x=1");
    assert_string_equal(json_string_value(json_object_get(url, "original")),
                        "/api/hello?name=a%20b&x=1");
    json_t *response = json_object_get(http, "response");
    assert_int_equal(json_integer_value(json_object_get(response, "status_code")), 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(response, "body"),
                                                        "bytes")), bytes);
    assert_string_equal(json_string_value(json_object_get(json_object_get(record, "user_agent"),
                                                          "original")), "probe/1.0 \"quoted\"");
    assert_string_equal(json_string_value(json_object_get(json_object_get(http, "request"),
                                                          "referrer")),
                        "http://example.test/from");
    /* beside the record's own event.sequence */
    json_t *event = json_object_get(record, "event");
    assert_true(json_integer_value(json_object_get(event, "duration")) > 0);
    assert_true(json_integer_value(json_object_get(event, "sequence")) > 0);
    json_decref(record);

    /* a target longer than the line's buffer: the line grows, whole */
    char long_request[4096], query[3001];
    memset(query, 'q', 3000);
    query[0] = 'l';
    query[3000] = '\0';
    snprintf(long_request, sizeof long_request,
             "GET /api/hello?%s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", query);
    assert_true(raw_exchange(instance_port(instance), long_request, reply, sizeof reply) > 0);
    record = json_record(path, "lqq");
    assert_non_null(record);
    assert_string_equal(json_string_value(json_object_get(json_object_get(record, "url"),
                                                          "query")), query);
    json_decref(record);
    assert_true(instance_stop(&instance));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_access_log_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
