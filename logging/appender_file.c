/* appender_file.c: the file appender. */
#include "appender_file.h"

#include "appender_private.h"

corral_appender_t *
corral_appender_file_new(const char *name, corral_layout_t *layout, const char *file_name,
                         char **error)
{
    return corral_appender_new(name, layout, file_name, error);
}
