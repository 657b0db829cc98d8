/* test_http_limits.c: server.limits as a client sees them: a client that
 * trickles its headers is closed at the header deadline, a kept-alive
 * connection at the idle deadline, 2,000 idle and slowloris sockets
 * against a worker with 1,024 descriptors do not lock a new client out (at
 * max_connections the connection that waited longest makes room),
 * and one address cannot hold more than max_connections_per_ip. Real
 * instances, real sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define SOCKETS 2000

static int64_t
now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static instance_t *
start(const char *server, long fd_limit)
{
    instance_t *instance = instance_new();
    instance_write_cluster_config_with(instance, 1, server, NULL);
    instance_set_fd_limit(instance, fd_limit);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, 15000));
    return instance;
}

/* A socket from `source` (127.0.0.x) to the instance, connected or in
 * progress (non-blocking). */
static int
connect_from(const char *source, int port, bool blocking)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK), 0);
    assert_true(fd >= 0);
    struct sockaddr_in from = { .sin_family = AF_INET };
    inet_pton(AF_INET, source, &from.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *) &from, sizeof from), 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    int rc = connect(fd, (struct sockaddr *) &to, sizeof to);
    assert_true(rc == 0 || errno == EINPROGRESS);
    return fd;
}

/* True once the server ends the connection (EOF or reset) within
 * timeout_ms. */
static bool
closed_by_server(int fd, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int left = (int) (deadline - now_ms());
        struct pollfd event = { fd, POLLIN, 0 };
        if (left <= 0 || poll(&event, 1, left) <= 0)
            return false;
        char byte[256];
        ssize_t n = recv(fd, byte, sizeof byte, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
    }
}

static void
test_trickling_headers_are_closed_at_the_deadline(void **state)
{
    instance_t *instance = start("limits: { header_timeout: 1s, idle_timeout: 30s }", 0);
    int fd = connect_from("127.0.0.1", instance_port(instance), true);
    static const char request[] = "GET /api/hello HTTP/1.1\r\nHost: x\r\nX-Slow: "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int64_t started = now_ms();
    bool closed = false;
    /* a byte every 100 ms: never idle long enough for an inactivity timeout */
    for (size_t i = 0; i < sizeof request - 1 && !closed; i++) {
        if (send(fd, request + i, 1, MSG_NOSIGNAL) != 1)
            break;
        closed = closed_by_server(fd, 100);
    }
    int64_t elapsed = now_ms() - started;
    assert_true(closed || closed_by_server(fd, 10000));
    assert_true(elapsed >= 900);
    assert_true(instance_wait_output(instance, "closing a connection: no request headers "
                                     "within 1000 ms", 5000));
    close(fd);

    response_t response;                    /* and the worker serves on */
    assert_true(http_get(instance_port(instance), "/api/hello", &response));
    assert_int_equal(response.status, 200);
    response_clear(&response);
    assert_true(instance_stop(&instance));
}

static void
test_kept_alive_connection_is_closed_when_idle(void **state)
{
    instance_t *instance = start("limits: { idle_timeout: 1s }", 0);
    int fd = connect_from("127.0.0.1", instance_port(instance), true);
    static const char request[] = "GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(fd, request, sizeof request - 1, MSG_NOSIGNAL), sizeof request - 1);
    char reply[1024];
    struct pollfd event = { fd, POLLIN, 0 };
    assert_int_equal(poll(&event, 1, 10000), 1);
    assert_true(recv(fd, reply, sizeof reply, 0) > 12);
    assert_memory_equal(reply, "HTTP/1.1 200", 12);
    int64_t answered = now_ms();
    assert_true(closed_by_server(fd, 10000));
    assert_true(now_ms() - answered >= 900);
    close(fd);
    assert_true(instance_stop(&instance));
}

/* Raises this process's descriptor limit to hold the sockets; false if
 * the hard limit does not allow it. */
static bool
allow_sockets(rlim_t count)
{
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_max < count)
        return false;
    if (files.rlim_cur < count) {
        files.rlim_cur = count;
        return setrlimit(RLIMIT_NOFILE, &files) == 0;
    }
    return true;
}

static void
test_new_client_is_served_past_idle_and_slowloris_sockets(void **state)
{
    if (!allow_sockets(SOCKETS + 256))
        skip();
    /* deadlines far away: only the limit can make room */
    instance_t *instance = start("limits: { header_timeout: 1h, idle_timeout: 1h }", 1024);
    int port = instance_port(instance);
    static int fds[SOCKETS];
    for (int i = 0; i < SOCKETS; i++)
        fds[i] = connect_from("127.0.0.1", port, false);
    static const char partial[] = "GET /api/hello HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < SOCKETS; i += 2) {    /* every other one: slowloris */
        struct pollfd event = { fds[i], POLLOUT, 0 };
        if (poll(&event, 1, 5000) == 1)
            send(fds[i], partial, sizeof partial - 1, MSG_NOSIGNAL);
    }
    assert_true(instance_wait_output(instance, "at the connection limit", 30000));
    response_t response;
    assert_true(http_get(port, "/api/hello", &response));
    assert_int_equal(response.status, 200);
    response_clear(&response);
    for (int i = 0; i < SOCKETS; i++)
        close(fds[i]);
    assert_true(instance_stop(&instance));
}

static void
test_at_the_limit_the_longest_waiting_connection_makes_room(void **state)
{
    instance_t *instance = start("limits: { max_connections: 4 }", 0);
    int port = instance_port(instance);
    int fds[4];
    for (int i = 0; i < 4; i++)
        fds[i] = connect_from("127.0.0.1", port, true);
    response_t response;
    assert_true(http_get(port, "/api/hello", &response));
    assert_int_equal(response.status, 200);
    response_clear(&response);
    assert_true(closed_by_server(fds[0], 10000));       /* the first one waited longest */
    assert_true(instance_wait_output(instance, "at the connection limit (4)", 5000));
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    assert_true(instance_stop(&instance));
}

static void
test_one_address_holds_at_most_its_share(void **state)
{
    instance_t *instance = start("limits: { max_connections_per_ip: 8 }", 0);
    int port = instance_port(instance);
    int fds[8];
    for (int i = 0; i < 8; i++)
        fds[i] = connect_from("127.0.0.2", port, true);
    /* the ninth from the same address is accepted and closed at once */
    int ninth = connect_from("127.0.0.2", port, true);
    assert_true(closed_by_server(ninth, 10000));
    close(ninth);
    for (int i = 0; i < 8; i++)
        assert_false(closed_by_server(fds[i], 0));
    /* another address is served */
    response_t response;
    assert_true(http_get(port, "/api/hello", &response));
    assert_int_equal(response.status, 200);
    response_clear(&response);
    for (int i = 0; i < 8; i++)
        close(fds[i]);
    assert_true(instance_stop(&instance));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trickling_headers_are_closed_at_the_deadline),
        cmocka_unit_test(test_kept_alive_connection_is_closed_when_idle),
        cmocka_unit_test(test_new_client_is_served_past_idle_and_slowloris_sockets),
        cmocka_unit_test(test_at_the_limit_the_longest_waiting_connection_makes_room),
        cmocka_unit_test(test_one_address_holds_at_most_its_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
