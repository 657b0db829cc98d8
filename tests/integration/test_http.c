/* test_http.c: the worker's HTTP server as a client sees it: the demo
 * routes, a suspended request that does not block the loop, and bad
 * requests answered with 4xx. One real clustered instance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static instance_t *instance;

static int
start_instance(void **state)
{
    instance = instance_new();
    instance_write_cluster_config(instance, 1, NULL);
    instance_start(instance);
    return instance_wait_ready(instance, 15000) ? 0 : -1;
}

static int
stop_instance(void **state)
{
    return instance_stop(&instance) ? 0 : -1;
}

static response_t
get(const char *path)
{
    response_t response;
    assert_true(http_get(instance_port(instance), path, &response));
    assert_string_equal(response.worker, "worker-1");
    return response;
}

static void
test_hello_is_tiny_json(void **state)
{
    response_t response = get("/api/hello");
    assert_int_equal(response.status, 200);
    assert_non_null(response.json);
    assert_string_equal(json_string_value(json_object_get(response.json, "message")), "hello");
    response_clear(&response);
}

static void
test_connections_are_kept_alive(void **state)
{
    assert_int_equal(http_second_get_connects(instance_port(instance), "/api/hello"), 0);
    assert_int_equal(http_second_get_connects(instance_port(instance), "/api/wait?ms=1"), 0);
}

static void
test_cpu_route_does_fixed_work(void **state)
{
    response_t first = get("/api/cpu?work=1000");
    response_t second = get("/api/cpu?work=1000");
    assert_int_equal(first.status, 200);
    assert_int_equal(json_integer_value(json_object_get(first.json, "work")), 1000);
    assert_string_equal(json_string_value(json_object_get(first.json, "result")),
                        json_string_value(json_object_get(second.json, "result")));
    response_clear(&first);
    response_clear(&second);
    response_t bad = get("/api/cpu?work=lots");
    assert_int_equal(bad.status, 400);
    assert_int_equal(json_integer_value(json_object_get(bad.json, "statusCode")), 400);
    response_clear(&bad);
}

typedef struct {
    int port;
    atomic_bool done;
    response_t response;
} slow_t;

static void *
send_slow(void *arg)
{
    slow_t *slow = arg;
    http_get(slow->port, "/api/wait?ms=3000", &slow->response);
    atomic_store(&slow->done, true);
    return NULL;
}

static void
test_wait_does_not_block_the_loop(void **state)
{
    slow_t slow = { .port = instance_port(instance) };
    pthread_t thread;
    pthread_create(&thread, NULL, send_slow, &slow);
    assert_true(instance_wait_output(instance, "waiting 3000 ms", 10000));
    /* the only worker answers others while that request waits */
    response_t response = get("/api/hello");
    assert_int_equal(response.status, 200);
    assert_false(atomic_load(&slow.done));
    response_clear(&response);
    pthread_join(thread, NULL);
    assert_int_equal(slow.response.status, 200);
    assert_int_equal(json_integer_value(json_object_get(slow.response.json, "waited_ms")), 3000);
    response_clear(&slow.response);
}

static double
monotonic_s(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

/* Two 1 s datastore waits (the route's longest) at once on the only worker
 * take one waiting time, not two: a loop that blocked would take 2 s or
 * more. Both connections are open before the clock starts and both
 * requests are written back to back, so a slow client cannot stretch the
 * time; the 0.9 s margin absorbs a loaded machine's scheduling. */
static void
test_realistic_waits_without_blocking(void **state)
{
    static const char request[] = "GET /api/realistic?wait_ms=1000&jitter_ms=0&cpu_us=100 "
                                  "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int fds[2];
    for (int i = 0; i < 2; i++)
        assert_true((fds[i] = raw_connect(instance_port(instance))) >= 0);
    double start = monotonic_s();
    for (int i = 0; i < 2; i++)
        assert_int_equal(write(fds[i], request, sizeof request - 1), sizeof request - 1);
    for (int i = 0; i < 2; i++) {
        char reply[8192];
        assert_true(raw_read_all(fds[i], reply, sizeof reply) > 0);
        assert_memory_equal(reply, "HTTP/1.1 200", 12);
        assert_non_null(strstr(reply, "\"took\":1000"));
        assert_non_null(strstr(reply, "\"rounds\":"));
    }
    double elapsed = monotonic_s() - start;
    if (elapsed < 0.95)             /* zloop's clock counts whole milliseconds */
        fail_msg("two 1 s waits took only %.3f s", elapsed);
    if (elapsed >= 1.9)
        fail_msg("two concurrent 1 s waits took %.2f s: the loop was blocked", elapsed);
}

static void
test_realistic_rejects_bad_parameters(void **state)
{
    static const char *const bad[] = {
        "/api/realistic?wait_ms=soon", "/api/realistic?wait_ms=-1",
        "/api/realistic?wait_ms=1001", "/api/realistic?wait_ms=10&jitter_ms=11",
        "/api/realistic?jitter_ms=x", "/api/realistic?cpu_us=5001",
        "/api/realistic?cpu_us=1e3",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        response_t response = get(bad[i]);
        if (response.status != 400)
            fail_msg("%s: status %ld, expected 400", bad[i], response.status);
        assert_int_equal(json_integer_value(json_object_get(response.json, "statusCode")), 400);
        response_clear(&response);
    }
    response_t fine = get("/api/realistic?wait_ms=0&cpu_us=0");
    assert_int_equal(fine.status, 200);
    assert_int_equal(json_integer_value(json_object_get(fine.json, "took")), 0);
    response_clear(&fine);
}

static void
test_unknown_route_and_method(void **state)
{
    response_t missing = get("/api/nope");
    assert_int_equal(missing.status, 404);
    assert_string_equal(json_string_value(json_object_get(missing.json, "error")), "Not Found");
    response_clear(&missing);
    char reply[4096];
    assert_true(raw_exchange(instance_port(instance),
                             "DELETE /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                             reply, sizeof reply) > 0);
    assert_non_null(strstr(reply, "HTTP/1.1 405"));
    assert_true(raw_exchange(instance_port(instance),
                             "HEAD /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                             reply, sizeof reply) > 0);
    assert_memory_equal(reply, "HTTP/1.1 200", 12);
    assert_null(strstr(reply, "hello\"}"));     /* headers only */
}

static void
test_malformed_requests_get_4xx(void **state)
{
    static char big_header[80 * 1024];
    int n = snprintf(big_header, sizeof big_header, "GET /api/hello HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(big_header + n, 'a', sizeof big_header - (size_t) n - 5);
    memcpy(big_header + sizeof big_header - 5, "\r\n\r\n", 5);
    static const struct { const char *request, *status_line; } cases[] = {
        { "GET /api/hello HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n", "HTTP/1.1 400" },
        { "POST /api/hello HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", "HTTP/1.1 400" },
        { "\x01\x02\x03 junk\r\n\r\n", "HTTP/1.1 400" },
        { big_header, "HTTP/1.1 431" },
        /* not malformed, but a version we do not speak: 505 as RFC 9110 says */
        { "GET /api/hello HTTP/9.9\r\nHost: x\r\n\r\n", "HTTP/1.1 505" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char reply[4096];
        assert_true(raw_exchange(instance_port(instance), cases[i].request, reply, sizeof reply) > 0);
        assert_memory_equal(reply, cases[i].status_line, strlen(cases[i].status_line));
    }
    response_t response = get("/api/hello");     /* and it keeps serving */
    assert_int_equal(response.status, 200);
    response_clear(&response);
}

/* Requests whose end a proxy in front and this server could see in
 * different places (RFC 9112 sections 6.1 and 6.3): each is answered 4xx
 * (or 501) and the connection closed, and the request smuggled behind it
 * is never served. */
static void
test_ambiguous_framing_is_refused_and_closed(void **state)
{
#define SMUGGLED "GET /api/node HTTP/1.1\r\nHost: x\r\n\r\n"
    static const struct { const char *name, *request; size_t length; const char *status; } cases[] = {
#define CASE(name, text, status) { name, text, sizeof text - 1, status }
        CASE("Content-Length and Transfer-Encoding",
             "POST /api/hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLED, "HTTP/1.1 400"),
        CASE("two different Content-Lengths",
             "POST /api/hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
             "Content-Length: 41\r\n\r\n" SMUGGLED, "HTTP/1.1 400"),
        CASE("an unknown Transfer-Encoding",
             "POST /api/hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
             SMUGGLED, "HTTP/1.1 400"),
        CASE("an unknown coding before chunked",
             "POST /api/hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
             "\r\n0\r\n\r\n" SMUGGLED, "HTTP/1.1 501"),
        CASE("HTTP/1.1 without Host", "GET /api/hello HTTP/1.1\r\n\r\n" SMUGGLED,
             "HTTP/1.1 400"),
        CASE("a NUL in a header", "GET /api/hello HTTP/1.1\r\nHost: x\r\n"
             "Content-Length: 0\0 41\r\n\r\n" SMUGGLED, "HTTP/1.1 400"),
        CASE("a bare CR in a header", "GET /api/hello HTTP/1.1\r\nHost: x\r\n"
             "X-A: a\rContent-Length: 41\r\n\r\n" SMUGGLED, "HTTP/1.1 400"),
        CASE("a bare CR ending a header", "GET /api/hello HTTP/1.1\r\nHost: x\r"
             "Content-Length: 41\r\n\r\n" SMUGGLED, "HTTP/1.1 400"),
        CASE("a space before the colon", "GET /api/hello HTTP/1.1\r\nHost: x\r\n"
             "Content-Length : 41\r\n\r\n" SMUGGLED, "HTTP/1.1 400"),
        CASE("two Hosts", "GET /api/hello HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"
             SMUGGLED, "HTTP/1.1 400"),
        CASE("a NUL in the request target", "GET /api/hello\0/../node HTTP/1.1\r\nHost: x\r\n"
             "\r\n" SMUGGLED, "HTTP/1.1 400"),
        CASE("a NUL in the query", "GET /api/hello?a\0b HTTP/1.1\r\nHost: x\r\n\r\n"
             SMUGGLED, "HTTP/1.1 400"),
        CASE("a NUL in the target, then an imitated version",
             "GET /api/hello\0HTTP/1.1 HTTP/1.1\r\nHost: x\r\n\r\n" SMUGGLED, "HTTP/1.1 400"),
        CASE("a NUL in the target, then an imitated version and line end",
             "GET /api/hello\0HTTP/1.1\0\0\0x HTTP/1.1\r\nHost: x\r\n\r\n" SMUGGLED,
             "HTTP/1.1 400"),
        CASE("a percent-encoded NUL in the path", "GET /api/hello%00x HTTP/1.1\r\nHost: x\r\n"
             "\r\n" SMUGGLED, "HTTP/1.1 400"),
        CASE("Expect: 100-continue over the body limit", "POST /api/hello HTTP/1.1\r\n"
             "Host: x\r\nContent-Length: 10485760\r\nExpect: 100-continue\r\n\r\n",
             "HTTP/1.1 413"),
#undef CASE
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char reply[8192];
        bool closed = false;
        print_message("%s\n", cases[i].name);
        assert_true(raw_exchange_bytes(instance_port(instance), cases[i].request,
                                       cases[i].length, reply, sizeof reply, &closed) > 0);
        assert_memory_equal(reply, cases[i].status, strlen(cases[i].status));
        assert_true(closed);
        assert_null(strstr(reply + 1, "HTTP/1.1 "));   /* one answer only */
        assert_null(strstr(reply, "worker_id"));
    }
    /* what is sound still passes: chunked alone, and bare LF line ends */
    char reply[8192];
    static const char chunked[] = "POST /api/hello HTTP/1.1\r\nHost: x\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    assert_true(raw_exchange(instance_port(instance), chunked, reply, sizeof reply) > 0);
    assert_memory_equal(reply, "HTTP/1.1 405", 12);
    assert_true(raw_exchange(instance_port(instance), "GET /api/hello HTTP/1.1\nHost: x\n"
                             "Cookie: a=b; c=d\nConnection: close\n\n", reply, sizeof reply) > 0);
    assert_memory_equal(reply, "HTTP/1.1 200", 12);
#undef SMUGGLED
}

static void
test_oversized_body_is_413(void **state)
{
    size_t size = 2 * 1024 * 1024;
    char *request = malloc(size + 256);
    int header = snprintf(request, 256,
                          "POST /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                          "Content-Length: %zu\r\n\r\n", size);
    memset(request + header, 'x', size);
    request[header + (int) size] = '\0';
    char reply[4096];
    assert_true(raw_exchange(instance_port(instance), request, reply, sizeof reply) > 0);
    free(request);
    assert_non_null(strstr(reply, "HTTP/1.1 413"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_is_tiny_json),
        cmocka_unit_test(test_connections_are_kept_alive),
        cmocka_unit_test(test_cpu_route_does_fixed_work),
        cmocka_unit_test(test_wait_does_not_block_the_loop),
        cmocka_unit_test(test_realistic_waits_without_blocking),
        cmocka_unit_test(test_realistic_rejects_bad_parameters),
        cmocka_unit_test(test_unknown_route_and_method),
        cmocka_unit_test(test_malformed_requests_get_4xx),
        cmocka_unit_test(test_ambiguous_framing_is_refused_and_closed),
        cmocka_unit_test(test_oversized_body_is_413),
    };
    return cmocka_run_group_tests(tests, start_instance, stop_instance);
}
