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

/* Packs `envelope` (its protocol field is set here) and sends
 * [routing id][empty][envelope], or [empty][envelope] when routing_id is
 * NULL (the REQ-compatible shape that DEALER peers use too). flags: 0 or
 * ZFRAME_DONTWAIT. Returns 0, or -1 with nothing sent. */
int corral_envelope_send(zsock_t *socket, zframe_t *routing_id,
                         const corral_envelope_t *envelope, int flags);

/* The same in two steps, for one envelope sent to many: packs it once
 * (its protocol field set; NULL when out of memory; also for sockets that
 * put their own frames around it, a topic), then sends the frame as often
 * as needed (ZeroMQ shares its bytes); the frame stays the caller's. */
zframe_t *corral_envelope_pack(const corral_envelope_t *envelope);
int corral_envelope_send_packed(zsock_t *socket, zframe_t *routing_id, zframe_t *frame,
                                int flags);

/* --- A ROUTER's side: one message peeled ----------------------------------- */

/* What a ROUTER socket received: [routing id][empty][Envelope] (REQ, or a
 * DEALER speaking like REQ) or [routing id][Envelope] (a bare DEALER).
 * Every desk, local or remote, peels its messages here, so that each
 * checks the same shape and the same protocol version. */
typedef enum {
    CORRAL_PEEL_OK,             /* an Envelope of CORRAL_PROTOCOL_VERSION */
    CORRAL_PEEL_WRONG_SHAPE,    /* not the frames above */
    CORRAL_PEEL_OVERSIZED,      /* a body over CORRAL_MAX_FRAME_BYTES (a socket
                                 * that takes up to CORRAL_MAX_TRANSPORT_BYTES) */
    CORRAL_PEEL_NOT_ENVELOPE,   /* the body frame is not an Envelope */
    CORRAL_PEEL_OTHER_VERSION,  /* an Envelope of another protocol version */
} corral_peel_status_t;

typedef struct {
    corral_peel_status_t status;
    zframe_t *routing_id;           /* NULL only when the message had no frame */
    corral_envelope_t *envelope;    /* set for OK and OTHER_VERSION */
} corral_peeled_t;

/* Peels `message` (left empty) into *out; returns out->status. Release
 * what it holds with corral_peeled_release. */
corral_peel_status_t corral_envelope_peel(zmsg_t *message, corral_peeled_t *out);
void corral_peeled_release(corral_peeled_t *peeled);
/* Why a peeled message is refused, for the log and the sender: NULL for
 * CORRAL_PEEL_OK. */
const char *corral_peel_refusal(corral_peel_status_t status);

#endif
