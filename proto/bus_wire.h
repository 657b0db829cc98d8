/* bus_wire.h: the shape of the broadcast bus on the wire (docs/architecture.md section 2.2),
 * shared by the coordinator and libcorral.
 *
 * bus-in (PULL): one-frame messages [Envelope{broadcast}].
 * bus-out (XPUB): [topic][Envelope]. Topic "B" carries every sequenced
 * broadcast (every subscriber takes them all, so that a gap in the global
 * seq is visible); a subscriber's private topic, "S/" and 16 characters,
 * carries the Snapshot that answers its subscription to that topic. */
#ifndef CORRAL_BUS_WIRE_H
#define CORRAL_BUS_WIRE_H

#define CORRAL_BUS_TOPIC_BROADCAST "B"
#define CORRAL_BUS_PRIVATE_PREFIX "S/"
#define CORRAL_BUS_PRIVATE_TOPIC_LENGTH 18      /* "S/" + 16 */
#define CORRAL_BUS_IN_NAME "bus-in"             /* ipc://<runtime dir>/bus-in */
#define CORRAL_BUS_OUT_NAME "bus-out"

/* A larger Envelope on bus-in is dropped and counted as oversized (up to
 * CORRAL_MAX_TRANSPORT_BYTES; a larger frame never gets past ZeroMQ: it
 * drops the connection). */
#define CORRAL_MAX_BROADCAST_BYTES (1024 * 1024)

/* Queues on both ends hold this many messages before ZeroMQ drops (XPUB)
 * or refuses (PUSH) more: a burst of broadcasts must not open a gap. */
#define CORRAL_BUS_HWM 1000000

/* What every bus socket sets, on both ends. */
#define CORRAL_BUS_SOCKET_OPTIONS(socket, linger_ms)            \
    do {                                                        \
        zsock_set_maxmsgsize((socket), CORRAL_MAX_FRAME_BYTES); \
        zsock_set_sndhwm((socket), CORRAL_BUS_HWM);             \
        zsock_set_rcvhwm((socket), CORRAL_BUS_HWM);             \
        zsock_set_linger((socket), (linger_ms));                \
    } while (0)

#endif
