/* foreign_worker.c: a worker built for another protocol version (the
 * coordinator's + 1), for test_protocol: spawned by a real corral, it
 * proves who it is with its slot's secret (fd CORRAL_SECRET_FD), says
 * Hello in its own version, prints on stderr what came back, and exits
 * 78 as docs/worker-protocol.md ("Versions") asks of a worker that cannot
 * speak the coordinator's version. */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"

#define FOREIGN_VERSION (CORRAL_PROTOCOL_VERSION + 1)
#define WAIT_MS 10000

static size_t
read_secret(uint8_t *secret, size_t size)
{
    const char *fd_text = getenv("CORRAL_SECRET_FD");
    int fd = fd_text ? atoi(fd_text) : -1;
    size_t length = 0;
    ssize_t n;
    while (fd >= 0 && length < size && (n = read(fd, secret + length, size - length)) > 0)
        length += (size_t) n;
    if (fd >= 0)
        close(fd);
    return length;
}

int
main(void)
{
    zsys_handler_set(NULL);
    uint8_t secret[128];
    size_t secret_length = read_secret(secret, sizeof secret);
    const char *endpoint = getenv("CORRAL_DESK");
    zsock_t *desk = endpoint ? zsock_new_dealer(endpoint) : NULL;
    if (!desk) {
        fprintf(stderr, "foreign worker: no desk\n");
        return 1;
    }
    zsock_set_rcvtimeo(desk, WAIT_MS);
    Corral__V1__Hello hello = CORRAL__V1__HELLO__INIT;
    hello.worker_id = (uint32_t) atoi(getenv("CORRAL_WORKER_ID") ? getenv("CORRAL_WORKER_ID")
                                                                  : "0");
    hello.pid = (uint32_t) getpid();
    hello.secret = (ProtobufCBinaryData) { secret_length, secret };
    corral_envelope_t envelope = CORRAL__V1__ENVELOPE__INIT;
    envelope.body_case = CORRAL__V1__ENVELOPE__BODY_HELLO;
    envelope.hello = &hello;
    envelope.protocol = FOREIGN_VERSION;
    zframe_t *frame = zframe_new(NULL, corral__v1__envelope__get_packed_size(&envelope));
    corral__v1__envelope__pack(&envelope, zframe_data(frame));
    zmsg_t *message = zmsg_new();
    zmsg_addmem(message, NULL, 0);
    zmsg_append(message, &frame);
    zmsg_send(&message, desk);

    zmsg_t *reply = zmsg_recv(desk);
    zframe_t *body = reply ? zmsg_last(reply) : NULL;
    corral_envelope_t *answer = body ? corral_envelope_decode(body) : NULL;
    if (answer && answer->body_case == CORRAL__V1__ENVELOPE__BODY_PROTOCOL_ERROR)
        fprintf(stderr, "foreign worker: ProtocolError in version %u: received %u, "
                "supported %u..%u: %s\n", answer->protocol, answer->protocol_error->received,
                answer->protocol_error->min_supported, answer->protocol_error->max_supported,
                answer->protocol_error->message);
    else
        fprintf(stderr, "foreign worker: no ProtocolError came back (body %d)\n",
                answer ? (int) answer->body_case : -1);
    corral_envelope_free(&answer);
    zmsg_destroy(&reply);
    zsock_destroy(&desk);
    return 78;
}
