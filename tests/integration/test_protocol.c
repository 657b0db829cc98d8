/* test_protocol.c: protocol versions (docs/worker-protocol.md, "Versions").
 * A worker that speaks another version than the coordinator gets a clear
 * error on both sides: the coordinator answers its Hello (once its secret
 * proved it is one of ours) with a ProtocolError and logs why; the
 * reference worker, given a Welcome of another version, says so and exits
 * 78. Real processes, real sockets: a real corral running a worker built
 * for another version (foreign_worker.c) for the first, a real
 * corral-worker against a coordinator played by this test for the
 * second. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <czmq.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "envelope.h"
#include "harness.h"

#define TIMEOUT_MS 15000
#define FOREIGN_VERSION (CORRAL_PROTOCOL_VERSION + 1)

/* Sends [empty][Envelope] with the protocol field as given (the library's
 * sender always stamps its own version). */
static void
send_with_version(zsock_t *socket, zframe_t *routing_id, corral_envelope_t *envelope,
                  uint32_t version)
{
    envelope->protocol = version;
    zframe_t *frame = zframe_new(NULL, corral__v1__envelope__get_packed_size(envelope));
    corral__v1__envelope__pack(envelope, zframe_data(frame));
    zmsg_t *message = zmsg_new();
    if (routing_id)
        zmsg_append(message, &(zframe_t *) { zframe_dup(routing_id) });
    zmsg_addmem(message, NULL, 0);
    zmsg_append(message, &frame);
    assert_int_equal(zmsg_send(&message, socket), 0);
}

/* [routing id when from a ROUTER][empty][Envelope] */
static corral_envelope_t *
receive_envelope(zsock_t *socket, zframe_t **routing_id)
{
    zmsg_t *message = zmsg_recv(socket);
    assert_non_null(message);
    if (routing_id)
        *routing_id = zmsg_pop(message);
    zframe_t *delimiter = zmsg_pop(message);
    assert_int_equal(zframe_size(delimiter), 0);
    zframe_t *body = zmsg_pop(message);
    corral_envelope_t *envelope = corral_envelope_decode(body);
    assert_non_null(envelope);
    zframe_destroy(&delimiter);
    zframe_destroy(&body);
    zmsg_destroy(&message);
    return envelope;
}

/* A worker of this instance (it holds its slot's secret) built for
 * another version: its Hello gets a ProtocolError, the coordinator names
 * it in the log, and its exit 78 stops the instance, never restarted. */
static void
test_coordinator_refuses_a_foreign_hello(void **state)
{
    instance_t *instance = instance_new();
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "server: { host: 127.0.0.1, port: 0 }\n"
             "path: { data: ./data }\n"
             "node:\n"
             "  workers: { count: 1, command: [%s/foreign-worker] }\n"
             "  shutdown_timeout: 10s\n"
             "logging: { root: { level: debug } }\n", CORRAL_BIN_DIR);
    instance_write_config(instance, yaml);
    instance_start(instance);
    char expected[256];
    snprintf(expected, sizeof expected, "foreign worker: ProtocolError in version %u: received "
             "%u, supported %u..%u: this worker speaks corral protocol version 2",
             CORRAL_PROTOCOL_VERSION, FOREIGN_VERSION, CORRAL_PROTOCOL_VERSION,
             CORRAL_PROTOCOL_VERSION);
    assert_true(instance_wait_output(instance, expected, TIMEOUT_MS));
    assert_true(instance_wait_output(instance, "worker-1 (pid", TIMEOUT_MS));
    assert_true(instance_wait_output(instance,
                                     "refused: this worker speaks corral protocol version 2, "
                                     "the coordinator speaks version 1", TIMEOUT_MS));
    assert_true(instance_wait_exit(instance, TIMEOUT_MS));
    assert_true(WIFEXITED(instance_exit_status(instance)));
    assert_int_equal(WEXITSTATUS(instance_exit_status(instance)), 78);
    instance_destroy(&instance);
}

/* --- The worker's side: this test plays the coordinator ------------------- */

static int
listen_on_loopback(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0,
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(fd, (struct sockaddr *) &address, sizeof address), 0);
    assert_int_equal(listen(fd, 16), 0);
    return fd;
}

/* corral-worker as corral starts it: fd 3, LISTEN_*, CORRAL_*; its stderr
 * into `err_fd`. */
static pid_t
spawn_worker(const char *desk_endpoint, int listen_fd, int err_fd)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(err_fd, 2);
        dup2(listen_fd, 3);
        char listen_pid[32], desk[512];
        snprintf(listen_pid, sizeof listen_pid, "LISTEN_PID=%d", (int) getpid());
        snprintf(desk, sizeof desk, "CORRAL_DESK=%s", desk_endpoint);
        char *envp[] = { "LISTEN_FDS=1", listen_pid, "CORRAL_WORKER_ID=1", desk, NULL };
        char *argv[] = { CORRAL_BIN_DIR "/corral-worker", "worker-1", NULL };
        execve(argv[0], argv, envp);
        _exit(127);
    }
    return pid;
}

static void
read_all(int fd, char *out, size_t size)
{
    size_t length = 0;
    ssize_t n;
    struct pollfd item = { fd, POLLIN, 0 };
    while (length < size - 1 && poll(&item, 1, TIMEOUT_MS) > 0
           && (n = read(fd, out + length, size - 1 - length)) > 0)
        length += (size_t) n;
    out[length] = '\0';
}

static void
test_worker_refuses_a_foreign_welcome(void **state)
{
    char dir[] = "/tmp/corral-protocol.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char endpoint[256];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/desk", dir);
    zsock_t *desk = zsock_new_router(endpoint);
    assert_non_null(desk);
    zsock_set_rcvtimeo(desk, TIMEOUT_MS);
    int listen_fd = listen_on_loopback();
    int err[2];
    assert_int_equal(pipe2(err, O_CLOEXEC), 0);
    pid_t worker = spawn_worker(endpoint, listen_fd, err[1]);
    close(err[1]);

    zframe_t *peer = NULL;
    corral_envelope_t *hello = receive_envelope(desk, &peer);
    assert_int_equal(hello->body_case, CORRAL__V1__ENVELOPE__BODY_HELLO);
    assert_int_equal(hello->protocol, CORRAL_PROTOCOL_VERSION);
    corral_envelope_free(&hello);
    Corral__V1__WorkerConfig config = CORRAL__V1__WORKER_CONFIG__INIT;
    config.worker_id = 1;
    config.worker_name = "worker-1";
    config.clustered = true;
    Corral__V1__Welcome welcome = CORRAL__V1__WELCOME__INIT;
    welcome.config = &config;
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_WELCOME;
    envelope.welcome = &welcome;
    send_with_version(desk, peer, &envelope, FOREIGN_VERSION);

    char output[4096];
    read_all(err[0], output, sizeof output);
    int status;
    assert_int_equal(waitpid(worker, &status, 0), worker);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 78);
    if (!strstr(output, "the coordinator speaks corral protocol version 2, this worker "
                        "speaks version 1"))
        fail_msg("unexpected output: %s", output);
    zframe_destroy(&peer);
    zsock_destroy(&desk);
    close(err[0]);
    close(listen_fd);
    zsys_dir_delete("%s", dir);
}

int
main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coordinator_refuses_a_foreign_hello),
        cmocka_unit_test(test_worker_refuses_a_foreign_welcome),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
