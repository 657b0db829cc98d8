/* test_balance.c: keep-alive connections spread evenly over the workers
 * in the default balancing mode, on the first try, every time; the
 * keep-alive limits close connections gracefully so that load spreads
 * again over time. Real instances, real sockets; which worker holds a
 * connection is the X-Corral-Worker of the responses on it.
 *
 *   test_balance spread WORKERS   2, 4, 16 and 64 connections opened at
 *                                 once, TRIALS fresh instances each
 *   test_balance spread WORKERS python SOURCE_DIR
 *                                 the same with Python workers on the corral
 *                                 package (examples/python-worker)
 *   test_balance                  the other cases */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define TRIALS 10
#define START_TIMEOUT_MS 20000
#define IO_TIMEOUT_S 20             /* a failure bound, not a wait */
#define CONNECTIONS_MAX 64

static int spread_workers;          /* from argv */
static char worker_command[1024];   /* from argv: `command` and `env` of the workers */

/* --- A keep-alive HTTP/1.1 client on a plain socket ---------------------------- */

typedef struct {
    int status;
    int worker;                     /* from X-Corral-Worker: worker-N */
    bool closes;                    /* Connection: close */
    char body[8192];
} reply_t;

static int
connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    struct timeval timeout = { .tv_sec = IO_TIMEOUT_S };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    assert_int_equal(connect(fd, (struct sockaddr *) &address, sizeof address), 0);
    return fd;
}

static const char *
header(const char *headers, const char *name)
{
    size_t length = strlen(name);
    for (const char *line = strstr(headers, "\r\n"); line; line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, name, length) == 0 && line[2 + length] == ':')
            return line + 3 + length + strspn(line + 3 + length, " ");
    return NULL;
}

/* GET `path` on the connection; false if the transport failed. */
static bool
get_on(int fd, const char *path, reply_t *reply)
{
    char request[256];
    int length = snprintf(request, sizeof request,
                          "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (write(fd, request, (size_t) length) != length)
        return false;
    char buffer[16384];
    size_t got = 0;
    char *end = NULL;
    while (!(end = memmem(buffer, got, "\r\n\r\n", 4))) {
        ssize_t n = read(fd, buffer + got, sizeof buffer - 1 - got);
        if (n <= 0)
            return false;
        got += (size_t) n;
    }
    *end = '\0';
    const char *value;
    memset(reply, 0, sizeof *reply);
    sscanf(buffer, "HTTP/1.1 %d", &reply->status);
    if ((value = header(buffer, "X-Corral-Worker")))
        sscanf(value, "worker-%d", &reply->worker);
    reply->closes = (value = header(buffer, "Connection")) && strncasecmp(value, "close", 5) == 0;
    size_t body_length = (value = header(buffer, "Content-Length")) ? strtoul(value, NULL, 10) : 0;
    size_t have = got - (size_t) (end + 4 - buffer);
    if (body_length >= sizeof reply->body || have > body_length)
        return false;
    memcpy(reply->body, end + 4, have);
    while (have < body_length) {
        ssize_t n = read(fd, reply->body + have, body_length - have);
        if (n <= 0)
            return false;
        have += (size_t) n;
    }
    return true;
}

/* True when the server has closed the connection (EOF within the bound). */
static bool
closed_by_server(int fd)
{
    char byte;
    return read(fd, &byte, 1) == 0;
}

/* --- Instances and spreads --------------------------------------------------------- */

static instance_t *
start(int workers, const char *limits)
{
    instance_t *instance = instance_new();
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0, limits: { %s } }\n"
             "path: { data: ./data }\n"
             "pid: { file: ./corral.pid }\n"
             "node: { workers: { count: %d %s }, status: { interval: 100ms },"
             " shutdown_timeout: 10s }\n"
             "logging: { root: { level: info } }\n", limits ? limits : "", workers,
             worker_command);
    instance_write_config(instance, yaml);
    instance_start(instance);
    assert_true(instance_wait_ready(instance, START_TIMEOUT_MS));
    return instance;
}

static void
stop(instance_t *instance)
{
    assert_true(instance_stop(&instance));
}

/* Asks on each connection which worker holds it; counts per worker (1-based). */
static void
count_holders(const int *fds, int count, int workers, int *held)
{
    memset(held, 0, (size_t) (workers + 1) * sizeof *held);
    for (int i = 0; i < count; i++) {
        reply_t reply;
        assert_true(get_on(fds[i], "/api/hello", &reply));
        assert_int_equal(reply.status, 200);
        assert_in_range(reply.worker, 1, workers);
        held[reply.worker]++;
    }
}

/* Every worker holds connections (when there are enough), and no two
 * differ by more than one. */
static void
assert_even(const int *held, int workers, int connections, const char *what)
{
    int least = held[1], most = held[1];
    for (int w = 1; w <= workers; w++) {
        least = held[w] < least ? held[w] : least;
        most = held[w] > most ? held[w] : most;
    }
    if (most - least > 1 || (connections >= workers && least == 0)) {
        fprintf(stderr, "%s: %d connections over %d workers:", what, connections, workers);
        for (int w = 1; w <= workers; w++)
            fprintf(stderr, " worker-%d %d", w, held[w]);
        fprintf(stderr, "\n");
        fail();
    }
}

/* Each of two workers holds a connection: its share, within the lag of
 * the close counts (a close is counted when the worker cleans the
 * connection up, a little after its client sees it). */
static void
assert_both_hold(const int *held, const char *what)
{
    if (held[1] < 1 || held[2] < 1) {
        fprintf(stderr, "%s: worker-1 %d, worker-2 %d\n", what, held[1], held[2]);
        fail();
    }
}

/* /api/stats, asked on a connection already counted, until each worker's
 * open connections there are `held` (the reports come every 100 ms). */
static void
assert_stats_show(int fd, const int *held, int workers)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        reply_t reply;
        assert_true(get_on(fd, "/api/stats", &reply));
        json_t *stats = json_loads(reply.body, 0, NULL);
        assert_non_null(stats);
        bool shown = true;
        for (int w = 1; w <= workers; w++) {
            char name[32];
            snprintf(name, sizeof name, "worker-%d", w);
            json_t *connections = json_object_get(json_object_get(json_object_get(stats,
                "workers"), name), "connections");
            shown = shown && json_integer_value(json_object_get(connections, "open")) == held[w]
                && json_integer_value(json_object_get(connections, "accepted")) >= held[w];
        }
        json_decref(stats);
        if (shown)
            return;
        struct timespec pause = { 0, 50 * 1000 * 1000 };   /* the next report */
        nanosleep(&pause, NULL);
    }
    fail_msg("/api/stats never showed each worker's open connections");
}

/* --- Opened at once ------------------------------------------------------------------ */

static void
spread_at_once(int workers, int connections, int trial)
{
    instance_t *instance = start(workers, NULL);
    int fds[CONNECTIONS_MAX] = { 0 }, held[WORKERS_MAX + 1];
    /* every connection is established before any request is sent */
    for (int i = 0; i < connections; i++)
        fds[i] = connect_to(instance_port(instance));
    count_holders(fds, connections, workers, held);
    char what[64];
    snprintf(what, sizeof what, "opened at once, trial %d", trial);
    assert_even(held, workers, connections, what);
    if (trial == 1)
        assert_stats_show(fds[0], held, workers);
    for (int i = 0; i < connections; i++)
        close(fds[i]);
    stop(instance);
}

static void
test_spread_at_once(void **state)
{
    static const int counts[] = { 2, 4, 16, 64 };
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        for (int trial = 1; trial <= TRIALS; trial++)
            spread_at_once(spread_workers, counts[c], trial);
}

/* --- Opened one by one over a second ----------------------------------------------- */

static void
test_spread_over_a_second(void **state)
{
    for (int workers = 2; workers <= 3; workers++) {
        for (int trial = 1; trial <= 3; trial++) {
            instance_t *instance = start(workers, NULL);
            enum { CONNECTIONS = 16 };
            int fds[CONNECTIONS], held[WORKERS_MAX + 1] = { 0 };
            for (int i = 0; i < CONNECTIONS; i++) {
                struct timespec pause = { 0, 1000 * 1000 * 1000 / CONNECTIONS };
                nanosleep(&pause, NULL);    /* the arrival pattern under test */
                fds[i] = connect_to(instance_port(instance));
                reply_t reply;
                assert_true(get_on(fds[i], "/api/hello", &reply));
                assert_in_range(reply.worker, 1, workers);
                held[reply.worker]++;
            }
            assert_even(held, workers, CONNECTIONS, "opened over a second");
            for (int i = 0; i < CONNECTIONS; i++)
                close(fds[i]);
            stop(instance);
        }
    }
}

/* --- Keep-alive limits -------------------------------------------------------------- */

/* Requests on one connection until the server closes it; returns how many. */
static int
requests_until_closed(int port, int bound)
{
    int fd = connect_to(port);
    for (int n = 1; n <= bound; n++) {
        reply_t reply;
        assert_true(get_on(fd, "/api/hello", &reply));
        assert_int_equal(reply.status, 200);
        if (reply.closes) {
            assert_true(closed_by_server(fd));
            close(fd);
            return n;
        }
    }
    close(fd);
    return -1;
}

static void
test_keepalive_requests_close_gracefully(void **state)
{
    instance_t *instance = start(2, "keepalive_requests: 100");
    int port = instance_port(instance);
    /* 100 responses keep the connection alive; the 101st says close */
    assert_int_equal(requests_until_closed(port, 200), 101);
    /* the client's next request, on a new connection, succeeds */
    assert_int_equal(requests_until_closed(port, 200), 101);
    response_t stats;
    assert_true(http_get(port, "/api/stats", &stats));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(stats.json,
        "requests"), "disconnects")), 0);
    response_clear(&stats);
    /* the coordinator counts what it accepted and handed over, once per
     * status interval: the 2 connections above, and the stats requests */
    bool counted = false;
    for (int i = 0; i < 2000 && !counted; i++) {
        assert_true(http_get(port, "/api/stats", &stats));
        json_t *balancer = json_object_get(stats.json, "balancer");
        counted = json_integer_value(json_object_get(balancer, "accepted")) >= 3
            && json_integer_value(json_object_get(balancer, "handed")) >= 3
            && json_integer_value(json_object_get(balancer, "dropped")) == 0
            && json_integer_value(json_object_get(balancer, "bad_messages")) == 0;
        response_clear(&stats);
    }
    assert_true(counted);
    stop(instance);
}

static void
test_keepalive_time_closes_gracefully(void **state)
{
    instance_t *instance = start(1, "keepalive_time: 300ms");
    int fd = connect_to(instance_port(instance));
    reply_t reply;
    assert_true(get_on(fd, "/api/hello", &reply));
    assert_false(reply.closes);
    struct timespec pause = { 0, 400 * 1000 * 1000 };  /* older than keepalive_time */
    nanosleep(&pause, NULL);
    assert_true(get_on(fd, "/api/hello", &reply));
    assert_int_equal(reply.status, 200);
    assert_true(reply.closes);
    assert_true(closed_by_server(fd));
    close(fd);
    stop(instance);
}

/* --- A replaced worker ---------------------------------------------------------------- */

/* The pid of the worker named `name` ("worker-2": its argv[1]). */
static pid_t
worker_pid(instance_t *instance, const char *name)
{
    pid_t workers[WORKERS_MAX];
    int count = instance_workers(instance, workers, WORKERS_MAX);
    for (int i = 0; i < count; i++) {
        char cmdline[256], path[64];
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int) workers[i]);
        FILE *file = fopen(path, "r");
        size_t n = file ? fread(cmdline, 1, sizeof cmdline - 1, file) : 0;
        if (file)
            fclose(file);
        cmdline[n] = '\0';
        size_t program = strlen(cmdline);
        if (program + 1 < n && strcmp(cmdline + program + 1, name) == 0)
            return workers[i];
    }
    fail_msg("no process is %s", name);
    return 0;
}

/* Sends requests on each connection until the server closes it
 * (keepalive_requests), then opens a new one in its place. */
/* The worker closed its side (end of file): by then it has counted the
 * connection closed, so the next choice sees its true load. */
static void
await_closed_by_server(int fd)
{
    struct pollfd item = { fd, POLLIN, 0 };
    char byte;
    while (poll(&item, 1, 10000) == 1) {
        ssize_t n = recv(fd, &byte, 1, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            return;
    }
    fail_msg("the worker did not close a connection it answered with Connection: close");
}

static void
recycle(int *fds, int count, int port, int bound)
{
    for (int i = 0; i < count; i++) {
        reply_t reply = { 0 };
        for (int n = 0; n < bound && !reply.closes; n++) {
            assert_true(get_on(fds[i], "/api/hello", &reply));
            assert_int_equal(reply.status, 200);
        }
        assert_true(reply.closes);
        await_closed_by_server(fds[i]);
        close(fds[i]);
        fds[i] = connect_to(port);
    }
}

/* A worker that was away (stopped: its queue is taken back after 1 s
 * and it gets nothing until its loop turns again) gets its share back
 * as keepalive_requests recycles the connections, without a failed
 * request: what a restarted worker sees once supervision exists. */
static void
test_recycled_connections_reach_a_worker_that_was_away(void **state)
{
    instance_t *instance = start(2, "keepalive_requests: 10");
    int port = instance_port(instance);
    pid_t away = worker_pid(instance, "worker-2");
    assert_int_equal(kill(away, SIGSTOP), 0);
    int fds[4], held[WORKERS_MAX + 1];
    for (int i = 0; i < 4; i++)
        fds[i] = connect_to(port);
    count_holders(fds, 4, 2, held);
    assert_int_equal(held[1], 4);
    assert_int_equal(kill(away, SIGCONT), 0);
    response_t who;     /* worker-2 takes connections again */
    assert_true(http_request_to(port, "GET", "/api/hello", "worker-2", &who));
    response_clear(&who);
    recycle(fds, 4, port, 11);
    count_holders(fds, 4, 2, held);
    /* each recycled connection goes to the worker with fewer open ones as
     * counted at that moment: the worker that was away has its share back */
    assert_both_hold(held, "after recycling");
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    stop(instance);
}

/* Needs supervision (a killed worker is restarted): until it exists, the
 * instance stops when a worker dies and this test is skipped. */
static void
test_replaced_worker_gets_new_and_recycled_connections(void **state)
{
    instance_t *instance = start(2, "keepalive_requests: 20");
    int port = instance_port(instance);
    response_t who;
    assert_true(http_request_to(port, "GET", "/api/hello", "worker-2", &who));
    response_clear(&who);
    /* four keep-alive clients, two on each worker; then worker-2 dies */
    int fds[4], held[WORKERS_MAX + 1];
    for (int i = 0; i < 4; i++)
        fds[i] = connect_to(port);
    count_holders(fds, 4, 2, held);
    assert_even(held, 2, 4, "before the kill");
    pid_t killed = worker_pid(instance, "worker-2");
    assert_true(killed > 0);
    kill(killed, SIGKILL);
    if (instance_wait_exit(instance, 5000)) {
        instance_destroy(&instance);
        for (int i = 0; i < 4; i++)
            close(fds[i]);
        skip();     /* no supervision yet: the instance stopped */
    }
    /* the replacement serves (a fresh connection reaches it) */
    assert_true(http_request_to(port, "GET", "/api/hello", "worker-2", &who));
    response_clear(&who);
    /* the clients whose connections died reconnect; every connection is
     * recycled by keepalive_requests: they end up spread over both */
    for (int i = 0; i < 4; i++) {
        reply_t reply;
        if (!get_on(fds[i], "/api/hello", &reply)) {
            close(fds[i]);
            fds[i] = connect_to(port);
        }
    }
    recycle(fds, 4, port, 21);
    count_holders(fds, 4, 2, held);
    /* the replacement has its share ("within one" is a race here: a
     * loaded run saw 1 and 3) */
    assert_both_hold(held, "after the replacement");
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    stop(instance);
}

int
main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if ((argc == 3 || (argc == 5 && strcmp(argv[3], "python") == 0))
        && strcmp(argv[1], "spread") == 0) {
        spread_workers = atoi(argv[2]);
        if (argc == 5)
            snprintf(worker_command, sizeof worker_command,
                     ", command: [/usr/bin/python3, %s/examples/python-worker/worker.py],"
                     " env: { PYTHONPATH: %s/clients/python }", argv[4], argv[4]);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_spread_at_once),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_over_a_second),
        cmocka_unit_test(test_keepalive_requests_close_gracefully),
        cmocka_unit_test(test_keepalive_time_closes_gracefully),
        cmocka_unit_test(test_recycled_connections_reach_a_worker_that_was_away),
        cmocka_unit_test(test_replaced_worker_gets_new_and_recycled_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
