/* fuzz_date.c: libFuzzer target: the %date formatter (date_format.c):
 * every style, time zones by name, any timestamp. Input: a style byte, an
 * 8-byte timestamp, then a time zone name (empty: local time). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "date_format.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9)
        return 0;
    static const char *const styles[] = {
        "ISO8601", "ISO8601_TZ", "ABSOLUTE", "UNIX", "UNIX_MILLIS",
    };
    corral_date_style_t style;
    if (corral_date_style_parse(styles[data[0] % 5], &style) != 0)
        abort();
    int64_t timestamp;
    memcpy(&timestamp, data + 1, sizeof timestamp);
    char zone[64];
    size_t length = size - 9 < sizeof zone - 1 ? size - 9 : sizeof zone - 1;
    memcpy(zone, data + 9, length);
    zone[length] = '\0';
    if (length && (strchr(zone, '/') == zone || strstr(zone, "..")))
        return 0;           /* names under the zoneinfo directory only */
    if (length && !corral_date_zone_exists(zone))
        return 0;
    corral_date_format_t *format = corral_date_format_new(style, length ? zone : NULL);
    if (!format)
        return 0;
    char out[CORRAL_DATE_MAX];
    size_t written = corral_date_format(format, timestamp, out);
    if (written >= CORRAL_DATE_MAX || strlen(out) != written)
        abort();
    corral_date_format_destroy(&format);
    return 0;
}
