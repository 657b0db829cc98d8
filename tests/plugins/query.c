/* query.c: query parameters as the test plugins read them. */
#include "test_plugins.h"

#include <stdlib.h>

long
corral_query_number(corral_request_t *request, const char *key, long fallback, long max)
{
    const char *text = corral_request_query(request, key);
    if (!text)
        return fallback;
    char *end;
    long value = strtol(text, &end, 10);
    if (!*text || *end || value < 0 || value > max)
        return -1;
    return value;
}
