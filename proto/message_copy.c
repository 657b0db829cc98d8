/* message_copy.c: pack, then unpack into memory of our own. */
#include "message_copy.h"

#include <stdlib.h>

void *
corral_message_copy(const ProtobufCMessage *message)
{
    size_t size = protobuf_c_message_get_packed_size(message);
    uint8_t *packed = malloc(size ? size : 1);
    if (!packed)
        return NULL;
    protobuf_c_message_pack(message, packed);
    ProtobufCMessage *copy = protobuf_c_message_unpack(message->descriptor, NULL, size, packed);
    free(packed);
    return copy;
}
