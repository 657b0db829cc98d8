/* envelope.c: Envelope frames on ZeroMQ sockets. */
#include "envelope.h"

zframe_t *
corral_envelope_pack(const corral_envelope_t *envelope)
{
    corral_envelope_t stamped = *envelope;     /* shallow: the body is shared */
    stamped.protocol = CORRAL_PROTOCOL_VERSION;
    size_t size = corral__v1__envelope__get_packed_size(&stamped);
    zframe_t *frame = zframe_new(NULL, size);
    if (frame)
        corral__v1__envelope__pack(&stamped, zframe_data(frame));
    return frame;
}

corral_envelope_t *
corral_envelope_decode(zframe_t *frame)
{
    if (!frame || zframe_size(frame) > CORRAL_MAX_FRAME_BYTES)
        return NULL;
    return corral__v1__envelope__unpack(NULL, zframe_size(frame), zframe_data(frame));
}

void
corral_envelope_free(corral_envelope_t **envelope_p)
{
    if (*envelope_p) {
        corral__v1__envelope__free_unpacked(*envelope_p, NULL);
        *envelope_p = NULL;
    }
}

static int
send_part(zframe_t **frame_p, zsock_t *socket, int flags)
{
    if (zframe_send(frame_p, socket, flags) == 0)
        return 0;
    zframe_destroy(frame_p);
    return -1;
}

/* [routing id][empty], the parts before the envelope. */
static int
send_head(zsock_t *socket, zframe_t *routing_id, int flags)
{
    if (routing_id) {
        zframe_t *copy = zframe_dup(routing_id);
        if (send_part(&copy, socket, flags | ZFRAME_MORE) != 0)
            return -1;
    }
    zframe_t *delimiter = zframe_new_empty();
    return send_part(&delimiter, socket, flags | ZFRAME_MORE);
}

int
corral_envelope_send(zsock_t *socket, zframe_t *routing_id,
                     const corral_envelope_t *envelope, int flags)
{
    if (!socket)
        return -1;      /* not bound (a coordinator driven without its loop: fuzz_sockets) */
    zframe_t *frame = corral_envelope_pack(envelope);
    if (!frame)
        return -1;
    if (send_head(socket, routing_id, flags) != 0) {
        zframe_destroy(&frame);
        return -1;
    }
    return send_part(&frame, socket, flags);
}

int
corral_envelope_send_packed(zsock_t *socket, zframe_t *routing_id, zframe_t *frame, int flags)
{
    if (send_head(socket, routing_id, flags) != 0)
        return -1;
    return zframe_send(&frame, socket, flags | ZFRAME_REUSE);
}

corral_peel_status_t
corral_envelope_peel(zmsg_t *message, corral_peeled_t *out)
{
    *out = (corral_peeled_t) { CORRAL_PEEL_WRONG_SHAPE, NULL, NULL };
    out->routing_id = message ? zmsg_pop(message) : NULL;
    zframe_t *body = message ? zmsg_pop(message) : NULL;
    if (body && zframe_size(body) == 0) {
        zframe_destroy(&body);
        body = zmsg_pop(message);
    }
    if (!out->routing_id || !body || zmsg_size(message) != 0)
        out->status = CORRAL_PEEL_WRONG_SHAPE;
    else if (zframe_size(body) > CORRAL_MAX_FRAME_BYTES)
        out->status = CORRAL_PEEL_OVERSIZED;
    else if (!(out->envelope = corral_envelope_decode(body)))
        out->status = CORRAL_PEEL_NOT_ENVELOPE;
    else if (out->envelope->protocol != CORRAL_PROTOCOL_VERSION)
        out->status = CORRAL_PEEL_OTHER_VERSION;
    else
        out->status = CORRAL_PEEL_OK;
    zframe_destroy(&body);
    return out->status;
}

void
corral_peeled_release(corral_peeled_t *peeled)
{
    corral_envelope_free(&peeled->envelope);
    zframe_destroy(&peeled->routing_id);
}

const char *
corral_peel_refusal(corral_peel_status_t status)
{
    switch (status) {
    case CORRAL_PEEL_OK:
        return NULL;
    case CORRAL_PEEL_WRONG_SHAPE:
        return "a message of the wrong shape";
    case CORRAL_PEEL_OVERSIZED:
        return "a frame larger than the limit (4 MiB)";
    case CORRAL_PEEL_NOT_ENVELOPE:
        return "a frame that is not an Envelope";
    case CORRAL_PEEL_OTHER_VERSION:
        break;
    }
    return "an envelope of a protocol version this coordinator does not speak";
}
