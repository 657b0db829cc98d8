/* handoff_wire.h: the connection channel between the coordinator's
 * balancer (broker/net/balancer.c) and one worker process, in the `shared`
 * balancing mode (docs/architecture.md section 10.1): the coordinator accepts on the
 * listening socket and hands each connection to the worker with the
 * fewest open connections.
 *
 * Each worker process gets its own channel, two inherited descriptors
 * (at fds 5 and 6, base/launch_contract.h) named in its environment:
 * - CORRAL_HANDOFF_FD: one end of a SOCK_SEQPACKET socketpair. The
 *   coordinator sends messages of one byte, CORRAL_HANDOFF_CONNECTIONS,
 *   carrying 1..CORRAL_HANDOFF_MAX_FDS accepted connections (SCM_RIGHTS).
 *   The worker sends one-byte messages: CORRAL_HANDOFF_READY when it takes
 *   connections (nothing is handed to it before), CORRAL_HANDOFF_DRAINING
 *   when it stops taking them (graceful stop). Connections still queued to
 *   a worker that exits are taken back and handed to the others.
 * - CORRAL_HANDOFF_COUNTERS_FD: a memfd of one corral_handoff_counters_t,
 *   shared (MAP_SHARED): the worker counts there the handed connections
 *   it has taken and closed, and its loop's heartbeat, so the coordinator
 *   knows each worker's open and queued connections at once, without a
 *   message per connection.
 * A worker that knows nothing of this accepts on fd 3 as before; the
 * coordinator hands connections only to workers that said READY. */
#ifndef CORRAL_HANDOFF_WIRE_H
#define CORRAL_HANDOFF_WIRE_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define CORRAL_HANDOFF_MAX_FDS 64       /* connections in one message */

enum {
    CORRAL_HANDOFF_CONNECTIONS = 'C',   /* coordinator -> worker, with descriptors */
    CORRAL_HANDOFF_READY = 'R',         /* worker -> coordinator */
    CORRAL_HANDOFF_DRAINING = 'D',      /* worker -> coordinator */
};

/* A worker whose queue has not moved for this long is stalled (its loop
 * is blocked, or it is stopped): what is queued to it is taken back and
 * handed to the others, and it gets nothing until its heartbeat moves. */
#define CORRAL_HANDOFF_STALL_MS 1000
#define CORRAL_HANDOFF_HEARTBEAT_MS 50

typedef struct {                /* each written by the worker only */
    _Atomic uint64_t closed;    /* handed connections it has closed */
    _Atomic uint64_t received;  /* handed connections it has taken */
    _Atomic uint64_t heartbeat; /* + 1 every CORRAL_HANDOFF_HEARTBEAT_MS of its loop */
} corral_handoff_counters_t;

/* Receives one message from a channel end without waiting: its
 * descriptors (made close-on-exec) into fds[CORRAL_HANDOFF_MAX_FDS].
 * Returns how many, or -1 when none is queued. Both ends use it: the
 * worker to take its connections, the coordinator to take back those
 * still queued to a worker that exited or stalled. */
static inline int
corral_handoff_receive(int fd, int *fds)
{
    char tag;
    struct iovec iov = { &tag, 1 };
    union {
        char buffer[CMSG_SPACE(CORRAL_HANDOFF_MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control.buffer,
                              .msg_controllen = sizeof control.buffer };
    if (recvmsg(fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
        return -1;
    int count = 0;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header;
         header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
            continue;
        int n = (int) ((header->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        if (n > CORRAL_HANDOFF_MAX_FDS - count)
            n = CORRAL_HANDOFF_MAX_FDS - count;    /* never: one header per message */
        memcpy(fds + count, CMSG_DATA(header), (size_t) n * sizeof(int));
        count += n;
    }
    return count;
}

#endif
