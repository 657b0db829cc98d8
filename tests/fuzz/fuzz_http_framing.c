/* fuzz_http_framing.c: libFuzzer target: the framing decisions that do
 * not need a connection (http_framing.c). The first byte picks one:
 *   even: the rest is a Content-Length value. Accepted (0) only if it is
 *         1 to 20 digits whose value is at most the body limit; 413 only
 *         for digits; 400 for anything else (a sign, a list, a blank, a
 *         NUL...).
 *   odd:  the rest is a request target, handed over as libmicrohttpd
 *         0.9.75 does (NUL-terminated where its last space was, then the
 *         version, the line end, the next line). A target is intact
 *         exactly when its path holds no "%00" and it holds no NUL, even
 *         one that imitates the version and line end after its NUL.
 * Seeds: corpus/fuzz_http_framing (+5, -1, "5, 5", a tab, 2^64+5, %00). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_framing.h"
#include "http_request.h"

static void
check_content_length(const char *value, size_t length)
{
    unsigned status = corral_http_framing_content_length(value, length,
                                                         CORRAL_MAX_BODY_BYTES);
    size_t digits = 0;
    while (digits < length && value[digits] >= '0' && value[digits] <= '9')
        digits++;
    bool plain = length > 0 && digits == length;
    if (!plain && status != 400)
        abort();
    if (plain && status == 400)
        abort();
    if (status == 0) {
        char copy[32];
        if (length >= sizeof copy)
            abort();
        memcpy(copy, value, length);
        copy[length] = '\0';
        if (strtoull(copy, NULL, 10) > CORRAL_MAX_BODY_BYTES)
            abort();
    }
}

static void
check_target(const char *target, size_t length)
{
    /* "<target>\0HTTP/1.1\0\0Host: x...": the request line as 0.9.75
     * leaves it in its buffer, the version just past the last space */
    static const char rest[] = "\0HTTP/1.1\0\0Host: x\r\n\r\n";
    char *line = malloc(length + sizeof rest);
    memcpy(line, target, length);
    memcpy(line + length, rest, sizeof rest);
    const char *version = line + length + 1;
    size_t path_end = 0;
    while (path_end < length && target[path_end] != '?' && target[path_end] != '#'
           && target[path_end] != '\0')
        path_end++;
    bool encoded_nul = false;
    for (size_t i = 0; i + 2 < path_end; i++)
        if (target[i] == '%' && target[i + 1] == '0' && target[i + 2] == '0')
            encoded_nul = true;
    bool raw_nul = memchr(target, '\0', length) != NULL;
    const char *end = corral_http_framing_target_end(line);
    bool intact = corral_http_framing_target_intact(end, version);
    if ((encoded_nul || raw_nul) == intact)
        abort();
    free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] % 2 == 0)
        check_content_length((const char *) data + 1, size - 1);
    else
        check_target((const char *) data + 1, size - 1);
    return 0;
}
