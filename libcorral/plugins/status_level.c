/* status_level.c: status level names (corral/status.h). */
#include "corral/status.h"

#include <string.h>

static const char *const names[] = { "available", "degraded", "unavailable", "critical" };

const char *
corral_status_level_name(int level)
{
    return level >= 0 && level <= CORRAL_STATUS_CRITICAL ? names[level] : "unknown";
}

int
corral_status_level_parse(const char *name, corral_status_level_t *level)
{
    for (int i = 0; name && i <= CORRAL_STATUS_CRITICAL; i++)
        if (strcmp(name, names[i]) == 0) {
            *level = (corral_status_level_t) i;
            return 0;
        }
    return -1;
}
