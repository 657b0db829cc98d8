/* fuzz_http_request.c: libFuzzer target: the request body as the HTTP
 * server hands it over, in chunks of any size (http_request.c): the
 * body stays NUL-terminated, never exceeds CORRAL_MAX_BODY_BYTES, and a
 * body past the limit is refused as a whole. Input: chunk sizes are the
 * first bytes (one each, x 4 KiB + 1), the body the rest, repeated to
 * reach the limit when the first byte is odd. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_request.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t sizes = data[0] % 8 + 1;
    if (size <= sizes)
        return 0;
    const char *body = (const char *) data + sizes;
    size_t length = size - sizes;
    int rounds = data[0] & 1 ? (int) (CORRAL_MAX_BODY_BYTES / length) + 2 : 1;
    corral_request_t *request = corral_request_new(NULL, "worker-1");
    size_t total = 0;
    for (int round = 0; round < rounds && request; round++)
        for (size_t at = 0, i = 0; at < length; i++) {
            size_t chunk = (size_t) data[1 + i % sizes] * 4096 + 1;
            if (chunk > length - at)
                chunk = length - at;
            corral_request_append_body(request, body + at, chunk);
            at += chunk;
            total += chunk;
        }
    size_t kept = 0;
    const char *got = corral_request_body(request, &kept);
    if (total > CORRAL_MAX_BODY_BYTES ? kept != 0
                                      : kept != total || got[kept] != '\0'
                                        || memcmp(got, body, kept < length ? kept : length) != 0)
        abort();
    corral_request_destroy(&request);
    return 0;
}
