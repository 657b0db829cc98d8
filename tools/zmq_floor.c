/* zmq_floor.c: the latency floor of the bus's topology on this machine,
 * without corral: three processes, a sender PUSHes 100-byte messages
 * stamped with CLOCK_MONOTONIC at a fixed rate to a relay (PULL, then
 * XPUB, like the coordinator), and a SUB process records the delay. What
 * corral's bus adds is the difference between tools/bench-bus.sh's
 * latency and this.
 * Usage: zmq_floor RUNTIME_DIR [messages (5000)] [rate/s (1000)] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define PAYLOAD_BYTES 100

static int64_t
now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

static int
by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

static void
relay(const char *in_endpoint, const char *out_endpoint)
{
    void *context = zmq_ctx_new();
    void *in = zmq_socket(context, ZMQ_PULL);
    void *out = zmq_socket(context, ZMQ_XPUB);
    if (zmq_bind(in, in_endpoint) != 0 || zmq_bind(out, out_endpoint) != 0)
        _exit(1);
    zmq_pollitem_t items[] = { { in, 0, ZMQ_POLLIN, 0 }, { out, 0, ZMQ_POLLIN, 0 } };
    for (;;) {
        if (zmq_poll(items, 2, -1) < 0)
            _exit(1);
        zmq_msg_t message;
        zmq_msg_init(&message);
        if (items[1].revents & ZMQ_POLLIN) {        /* a subscription */
            zmq_msg_recv(&message, out, 0);
            zmq_msg_close(&message);
            zmq_msg_init(&message);
        }
        if ((items[0].revents & ZMQ_POLLIN) && zmq_msg_recv(&message, in, 0) >= 0)
            zmq_msg_send(&message, out, 0);
        zmq_msg_close(&message);
    }
}

static void
receive(const char *endpoint, int count, int ready_fd)
{
    void *context = zmq_ctx_new();
    void *socket = zmq_socket(context, ZMQ_SUB);
    zmq_setsockopt(socket, ZMQ_SUBSCRIBE, "", 0);
    if (zmq_connect(socket, endpoint) != 0)
        _exit(1);
    int64_t *delays = malloc((size_t) count * sizeof *delays);
    char buffer[PAYLOAD_BYTES];
    if (!delays || write(ready_fd, "r", 1) != 1)
        _exit(1);
    for (int received = 0; received < count;) {
        int64_t sent;
        if (zmq_recv(socket, buffer, sizeof buffer, 0) < (int) sizeof sent)
            continue;
        memcpy(&sent, buffer, sizeof sent);
        if (sent != 0)                      /* 0: the sender's probes */
            delays[received++] = now_ns() - sent;
    }
    qsort(delays, (size_t) count, sizeof *delays, by_value);
    printf("  libzmq floor: p50 %.1f us, p99 %.1f us, max %.0f us (%d messages)\n",
           delays[count / 2] / 1e3, delays[count * 99 / 100] / 1e3, delays[count - 1] / 1e3,
           count);
    fflush(stdout);
    _exit(0);
}

int
main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s RUNTIME_DIR [messages] [rate]\n", argv[0]);
        return 2;
    }
    int count = argc > 2 ? atoi(argv[2]) : 5000;
    int rate = argc > 3 ? atoi(argv[3]) : 1000;
    if (count < 1 || rate < 1)
        return 2;
    char in_endpoint[512], out_endpoint[512];
    snprintf(in_endpoint, sizeof in_endpoint, "ipc://%s/floor-in", argv[1]);
    snprintf(out_endpoint, sizeof out_endpoint, "ipc://%s/floor-out", argv[1]);
    pid_t relay_pid = fork();
    if (relay_pid == 0)
        relay(in_endpoint, out_endpoint);
    int ready[2];
    if (relay_pid < 0 || pipe(ready) != 0)
        return 1;
    pid_t receiver_pid = fork();
    if (receiver_pid == 0)
        receive(out_endpoint, count, ready[1]);
    char byte;
    if (receiver_pid < 0 || read(ready[0], &byte, 1) != 1)
        return 1;
    void *context = zmq_ctx_new();
    void *socket = zmq_socket(context, ZMQ_PUSH);
    zmq_connect(socket, in_endpoint);
    char payload[PAYLOAD_BYTES] = { 0 };
    /* zero-stamped probes until the subscription is live end to end */
    for (int i = 0; i < 200; i++) {
        zmq_send(socket, payload, sizeof payload, 0);
        usleep(1000);
    }
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long period_ns = 1000000000L / rate;
    for (int i = 0; i < count; i++) {
        next.tv_nsec += period_ns;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        int64_t sent = now_ns();
        memcpy(payload, &sent, sizeof sent);
        zmq_send(socket, payload, sizeof payload, 0);
    }
    int status = 1;
    waitpid(receiver_pid, &status, 0);
    kill(relay_pid, SIGKILL);
    waitpid(relay_pid, NULL, 0);
    zmq_close(socket);
    zmq_ctx_term(context);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
