/* message_copy.h: a deep copy of any protobuf-c message, through the wire
 * format, so that a message received in a buffer that is about to be
 * freed (a decoded Envelope) can be kept. */
#ifndef CORRAL_MESSAGE_COPY_H
#define CORRAL_MESSAGE_COPY_H

#include <protobuf-c/protobuf-c.h>

/* A copy of `message` of the same type, or NULL when out of memory. Free
 * it with protobuf_c_message_free_unpacked(copy, NULL). */
void *corral_message_copy(const ProtobufCMessage *message);

#endif
