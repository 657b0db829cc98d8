/* test_hardening.c: what an outsider cannot do to an instance (issue 15):
 * change, stall or fill it through the demo routes (absent unless
 * server.test_routes), forge log lines with control characters, or share
 * a reuseport port with another listener. Real instances, real sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static long
status_of(instance_t *instance, const char *method, const char *path)
{
    response_t response;
    assert_true(http_request_to(instance_port(instance), method, path, NULL, &response));
    long status = response.status;
    response_clear(&response);
    return status;
}

static void
test_routes_that_change_the_instance_are_off_by_default(void **state)
{
    instance_t *instance = instance_new();
    instance_write_cluster_config(instance, 1, NULL);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, 15000));
    int port = instance_port(instance);
    assert_int_equal(status_of(instance, "POST", "/api/demo/status?level=critical"), 404);
    assert_int_equal(status_of(instance, "GET", "/api/block?ms=60000"), 404);
    assert_int_equal(status_of(instance, "GET", "/api/log?count=100000000"), 404);
    response_t response;
    assert_true(http_get(port, "/api/status", &response));
    assert_int_equal(response.status, 200);         /* nobody turned it red */
    response_clear(&response);
    assert_int_equal(status_of(instance, "GET", "/api/hello"), 200);
    assert_int_equal(status_of(instance, "GET", "/api/cpu?work=10"), 200);
    assert_int_equal(status_of(instance, "GET", "/api/wait?ms=1"), 200);
    assert_int_equal(status_of(instance, "GET", "/api/node"), 200);
    assert_true(instance_stop(&instance));
}

static void
test_routes_exist_with_the_switch(void **state)
{
    instance_t *instance = instance_new();
    instance_write_cluster_config_with(instance, 1, "test_routes: true", NULL);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, 15000));
    assert_true(instance_wait_output(instance, "test routes enabled", 5000));
    assert_int_equal(status_of(instance, "GET", "/api/block?ms=1"), 200);
    assert_int_equal(status_of(instance, "GET", "/api/log?count=1"), 202);
    assert_int_equal(status_of(instance, "POST", "/api/demo/status?level=available"), 200);
    assert_true(instance_stop(&instance));
}

/* A status summary with CR, LF and ESC gives one line, the characters
 * visibly escaped; a request path with them too, in the access line as
 * the client sent it (percent-encoded). */
static void
test_outside_text_cannot_forge_log_lines(void **state)
{
    instance_t *instance = instance_new();
    instance_write_cluster_config_with(instance, 1, "test_routes: true", NULL);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, 15000));
    assert_int_equal(status_of(instance, "POST", "/api/demo/status?level=degraded&summary="
                               "ok%0D%0A[2026-01-01T00:00:00.000Z][FATAL]%1B[31mforged"),
                     200);
    assert_true(instance_wait_output(instance, "plugin demo is degraded: ok\\r\\n"
                                     "[2026-01-01T00:00:00.000Z][FATAL]\\x1b[31mforged\n",
                                     10000));
    assert_int_equal(status_of(instance, "GET", "/api/x%0D%0Ay%1B%5D0%3Bt%07"), 404);
    /* the access line holds the target as sent, still encoded (as nginx's) */
    assert_true(instance_wait_output(instance, "\"GET /api/x%0D%0Ay%1B%5D0%3Bt%07 HTTP/1.1\" 404",
                                     10000));
    char *output = instance_output_copy(instance);
    assert_null(strstr(output, "\x1b"));
    assert_null(strstr(output, "\r"));
    free(output);
    assert_true(instance_stop(&instance));
}

/* Starts corral with balancing reuseport on `port`; true if it refused
 * to start, saying why. */
static bool
reuseport_start_is_refused(int port)
{
    instance_t *instance = instance_new();
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: %d, balancing: reuseport }\n"
             "path: { data: ./data }\n"
             "node: { workers: { count: 2, " TEST_WORKER " } }\n", port);
    instance_write_config(instance, yaml);
    instance_start(instance);
    bool refused = instance_wait_exit(instance, 15000)
        && WIFEXITED(instance_exit_status(instance))
        && WEXITSTATUS(instance_exit_status(instance)) != 0
        && instance_wait_output(instance, "the port is already in use", 5000);
    instance_destroy(&instance);
    return refused;
}

static void
test_reuseport_refuses_a_port_already_bound(void **state)
{
    /* a foreign SO_REUSEPORT listener */
    int foreign = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    struct sockaddr_in address = { .sin_family = AF_INET };
    socklen_t length = sizeof address;
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    assert_int_equal(setsockopt(foreign, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on), 0);
    assert_int_equal(bind(foreign, (struct sockaddr *) &address, sizeof address), 0);
    assert_int_equal(listen(foreign, 16), 0);
    assert_int_equal(getsockname(foreign, (struct sockaddr *) &address, &length), 0);
    assert_true(reuseport_start_is_refused(ntohs(address.sin_port)));
    close(foreign);

    /* another corral */
    instance_t *first = instance_new();
    instance_write_cluster_config_with(first, 2, "balancing: reuseport", NULL);
    instance_start(first);
    assert_true(instance_wait_ready(first, 15000));
    assert_true(reuseport_start_is_refused(instance_port(first)));
    assert_int_equal(status_of(first, "GET", "/api/hello"), 200);
    assert_true(instance_stop(&first));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_that_change_the_instance_are_off_by_default),
        cmocka_unit_test(test_routes_exist_with_the_switch),
        cmocka_unit_test(test_outside_text_cannot_forge_log_lines),
        cmocka_unit_test(test_reuseport_refuses_a_port_already_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
