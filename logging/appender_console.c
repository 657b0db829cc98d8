/* appender_console.c: the console appender (standard output). */
#include "appender_console.h"

#include <stdlib.h>

#include "appender_private.h"

corral_appender_t *
corral_appender_console_new(const char *name, corral_layout_t *layout)
{
    char *error = NULL;
    corral_appender_t *self = corral_appender_new(name, layout, NULL, &error);
    free(error);
    return self;
}
