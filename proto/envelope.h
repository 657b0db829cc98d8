/* envelope.h: sending and receiving corral.v1.Envelope frames on ZeroMQ
 * sockets. Every data frame is one Envelope; peers that speak REQ put an
 * empty delimiter frame before it, ROUTER sockets an identity frame too. */
#ifndef CORRAL_ENVELOPE_H
#define CORRAL_ENVELOPE_H

#include <czmq.h>

#include "corral/v1/corral.pb-c.h"

#define CORRAL_PROTOCOL_VERSION 1
#define CORRAL_MAX_FRAME_BYTES (4 * 1024 * 1024)   /* ZMQ_MAXMSGSIZE */
/* ZMQ_MAXMSGSIZE of the coordinator's receiving sockets (desk, logs,
 * bus-in): a frame
 * over CORRAL_MAX_FRAME_BYTES and up to this is received only to be
 * counted (oversized) and dropped; past it ZeroMQ drops the connection. */
#define CORRAL_MAX_TRANSPORT_BYTES (4 * CORRAL_MAX_FRAME_BYTES)

typedef Corral__V1__Envelope corral_envelope_t;

/* Decodes a frame; NULL if it is not a valid Envelope. Free the result
 * with corral_envelope_free(). */
corral_envelope_t *corral_envelope_decode(zframe_t *frame);
void corral_envelope_free(corral_envelope_t **envelope_p);

/* `envelope` packed in a frame (its protocol field set), or NULL when out
 * of memory: for sockets that put their own frames around it (a topic). */
zframe_t *corral_envelope_pack(const corral_envelope_t *envelope);

/* Packs `envelope` (its protocol field is set here) and sends
 * [routing id][empty][envelope], or [empty][envelope] when routing_id is
 * NULL (the REQ-compatible shape that DEALER peers use too). flags: 0 or
 * ZFRAME_DONTWAIT. Returns 0, or -1 with nothing sent. */
int corral_envelope_send(zsock_t *socket, zframe_t *routing_id,
                         const corral_envelope_t *envelope, int flags);

/* The same in two steps, for one envelope sent to many: packs it once
 * (NULL when out of memory), then sends the frame as often as needed
 * (ZeroMQ shares its bytes); the frame stays the caller's. */
zframe_t *corral_envelope_pack(const corral_envelope_t *envelope);
int corral_envelope_send_packed(zsock_t *socket, zframe_t *routing_id, zframe_t *frame,
                                int flags);

#endif
